/*
 * Kernel module signatures, for DriverLoad's Signed, Signature and
 * SignatureStatus fields.
 *
 * A signed module (.ko) is the ELF object followed by a PKCS#7/CMS
 * SignedData in DER (detached: it signs the bytes before it), a 12-byte
 * struct module_signature trailer (id_type 2 = PKCS#7, big-endian sig_len)
 * and the magic "~Module signature appended~\n" — what the kernel's
 * scripts/sign-file writes and module_sig_check() reads.
 *
 * The signature is parsed with libcrypto, not verified against the kernel's
 * keyring (user space cannot read it); the kernel itself refuses or taints
 * a module whose signature does not verify.  Results:
 *   MODSIG_UNSIGNED  no magic at the end                   "Unsigned"
 *   MODSIG_VALID     a well-formed SignedData with a signer "Valid"
 *   MODSIG_INVALID   a magic, but a bad trailer or DER      "Invalid"
 * Signer: the signer certificate's subject CN when the signature carries
 * the certificate; sign-file leaves certificates out, so otherwise the
 * CN of the issuer named in the signer's issuer-and-serial (for the
 * self-signed keys modules are signed with, the key's own name), or the
 * key identifier in hex when that is all there is.
 */
#ifndef SYSMON_MODSIG_H
#define SYSMON_MODSIG_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

#define MODSIG_MAGIC "~Module signature appended~\n"
#define MODSIG_SIGNER_MAX 256

enum modsig_status {
	MODSIG_UNSIGNED = 0,
	MODSIG_VALID = 1,
	MODSIG_INVALID = 2,
};

struct modsig_info {
	enum modsig_status status;
	char signer[MODSIG_SIGNER_MAX];  /* "" unless MODSIG_VALID */
	size_t module_len;               /* bytes of the module before the signature */
};

/* Examine the LEN bytes of a module file held in DATA. */
void modsig_parse_buffer(const uint8_t *data, size_t len, struct modsig_info *out);

/* The same for the file at PATH.  Returns 0, or -1 with the reason in ERR
 * when it cannot be read. */
int modsig_parse_file(const char *path, struct modsig_info *out, struct strbuf *err);

/* The same for the xz-compressed module at PATH (.ko.xz, as Debian ships
 * them since 6.x: signed, then compressed). */
int modsig_parse_xz_file(const char *path, struct modsig_info *out, struct strbuf *err);

/* "Unsigned", "Valid" or "Invalid". */
const char *modsig_status_text(enum modsig_status status);

#endif
