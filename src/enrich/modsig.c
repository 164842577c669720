/*
 * Kernel module signature parser (interface and meaning: modsig.h).  The
 * trailer layout is the kernel's struct module_signature
 * (include/linux/module_signature.h); the signature is read with
 * libcrypto's CMS parser, which also reads the older PKCS#7 form.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lzma.h>
#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "enrich/modsig.h"

#define MAGIC_LEN (sizeof(MODSIG_MAGIC) - 1)
#define TRAILER_LEN 12            /* struct module_signature */
#define PKEY_ID_PKCS7 2
/* Signatures are a few KiB; anything far larger is not one. */
#define SIGNATURE_MAX (1u << 20)
/* Modules are at most a few MiB; a larger decompressed file is not one. */
#define XZ_MODULE_MAX (64u << 20)

const char *modsig_status_text(enum modsig_status status)
{
	switch (status) {
	case MODSIG_VALID:
		return "Valid";
	case MODSIG_INVALID:
		return "Invalid";
	default:
		return "Unsigned";
	}
}

/* NAME's common name into OUT; false if it has none. */
static bool common_name(const X509_NAME *name, char *out, size_t size)
{
	int index = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	if (index < 0)
		return false;
	const ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
	unsigned char *utf8 = NULL;
	int len = data ? ASN1_STRING_to_UTF8(&utf8, data) : -1;
	if (len < 0)
		return false;
	snprintf(out, size, "%.*s", len, (const char *)utf8);
	OPENSSL_free(utf8);
	return true;
}

/* Who signed: see modsig.h. */
static void describe_signer(CMS_ContentInfo *cms, CMS_SignerInfo *signer, char *out, size_t size)
{
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	bool found = false;

	for (int i = 0; certs && i < sk_X509_num(certs) && !found; i++) {
		X509 *cert = sk_X509_value(certs, i);

		if (CMS_SignerInfo_cert_cmp(signer, cert) == 0)
			found = common_name(X509_get_subject_name(cert), out, size);
	}
	sk_X509_pop_free(certs, X509_free);
	if (found)
		return;

	ASN1_OCTET_STRING *key_id = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *serial = NULL;
	out[0] = '\0';
	if (CMS_SignerInfo_get0_signer_id(signer, &key_id, &issuer, &serial) != 1)
		return;
	if (issuer && !common_name(issuer, out, size))
		X509_NAME_oneline(issuer, out, (int)size);
	if (!issuer && key_id) {
		const unsigned char *bytes = ASN1_STRING_get0_data(key_id);
		int len = ASN1_STRING_length(key_id);
		size_t used = 0;

		for (int i = 0; i < len && used + 3 <= size; i++)
			used += (size_t)snprintf(out + used, size - used, "%02x", bytes[i]);
	}
}

/* The DER signature of LEN bytes. */
static void parse_signature(const uint8_t *sig, size_t len, struct modsig_info *out)
{
	const unsigned char *p = sig;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);

	out->status = MODSIG_INVALID;
	if (!cms)
		return;
	STACK_OF(CMS_SignerInfo) *signers = NULL;
	if (p == sig + len && OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed)
		signers = CMS_get0_SignerInfos(cms);
	if (signers && sk_CMS_SignerInfo_num(signers) > 0) {
		describe_signer(cms, sk_CMS_SignerInfo_value(signers, 0), out->signer, sizeof(out->signer));
		out->status = MODSIG_VALID;
	}
	CMS_ContentInfo_free(cms);
}

/*
 * Check the TAIL (the file's last MAGIC_LEN + TRAILER_LEN bytes) of a file
 * of FILE_LEN bytes.  Returns the signature's length, 0 if the file is not
 * signed, or -1 (OUT->status set to MODSIG_INVALID) if the trailer is bad.
 */
static long check_trailer(const uint8_t *tail, size_t file_len, struct modsig_info *out)
{
	memset(out, 0, sizeof(*out));
	out->status = MODSIG_UNSIGNED;
	out->module_len = file_len;
	if (file_len < MAGIC_LEN + TRAILER_LEN ||
	    memcmp(tail + TRAILER_LEN, MODSIG_MAGIC, MAGIC_LEN) != 0) {
		if (file_len >= MAGIC_LEN &&
		    memcmp(tail + (file_len < MAGIC_LEN + TRAILER_LEN ? 0 : TRAILER_LEN), MODSIG_MAGIC,
			   MAGIC_LEN) == 0)
			out->status = MODSIG_INVALID;   /* a magic without room for a trailer */
		return 0;
	}
	/* algo, hash, id_type, signer_len, key_id_len, pad[3], __be32 sig_len */
	uint32_t sig_len = (uint32_t)tail[8] << 24 | (uint32_t)tail[9] << 16 |
			   (uint32_t)tail[10] << 8 | tail[11];
	size_t room = file_len - MAGIC_LEN - TRAILER_LEN;
	if (tail[2] != PKEY_ID_PKCS7 || sig_len == 0 || sig_len > room || sig_len > SIGNATURE_MAX) {
		out->status = MODSIG_INVALID;
		return -1;
	}
	out->module_len = room - sig_len;
	return (long)sig_len;
}

void modsig_parse_buffer(const uint8_t *data, size_t len, struct modsig_info *out)
{
	uint8_t tail[MAGIC_LEN + TRAILER_LEN] = { 0 };

	if (!data)
		len = 0;
	if (len >= sizeof(tail))
		memcpy(tail, data + len - sizeof(tail), sizeof(tail));
	else if (len >= MAGIC_LEN)
		memcpy(tail, data + len - MAGIC_LEN, MAGIC_LEN);
	long sig_len = check_trailer(tail, len, out);
	if (sig_len > 0)
		parse_signature(data + out->module_len, (size_t)sig_len, out);
}

static int read_at(int fd, void *buf, size_t len, off_t offset)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, offset + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int modsig_parse_file(const char *path, struct modsig_info *out, struct strbuf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (fd < 0) {
		strbuf_printf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		strbuf_printf(err, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	size_t file_len = (size_t)st.st_size;
	uint8_t tail[MAGIC_LEN + TRAILER_LEN] = { 0 };
	size_t tail_len = file_len >= sizeof(tail) ? sizeof(tail) : file_len >= MAGIC_LEN ? MAGIC_LEN : 0;
	if (tail_len && read_at(fd, tail, tail_len, (off_t)(file_len - tail_len)) != 0) {
		strbuf_printf(err, "%s: reading failed: %s", path, strerror(errno ? errno : EIO));
		close(fd);
		return -1;
	}
	long sig_len = check_trailer(tail, file_len, out);
	if (sig_len > 0) {
		uint8_t *sig = xmalloc((size_t)sig_len);

		if (read_at(fd, sig, (size_t)sig_len, (off_t)out->module_len) != 0) {
			strbuf_printf(err, "%s: reading the signature failed: %s", path,
				      strerror(errno ? errno : EIO));
			free(sig);
			close(fd);
			return -1;
		}
		parse_signature(sig, (size_t)sig_len, out);
		free(sig);
	}
	close(fd);
	return 0;
}

int modsig_parse_xz_file(const char *path, struct modsig_info *out, struct strbuf *err)
{
	FILE *f = fopen(path, "rbe");
	lzma_stream xz = LZMA_STREAM_INIT;
	uint8_t in[65536];
	size_t cap = 1u << 20;
	uint8_t *data = xmalloc(cap);
	lzma_ret rc;
	int result = -1;

	memset(out, 0, sizeof(*out));
	if (!f) {
		strbuf_printf(err, "%s: %s", path, strerror(errno));
		free(data);
		return -1;
	}
	if (lzma_stream_decoder(&xz, UINT64_MAX, 0) != LZMA_OK) {
		strbuf_printf(err, "%s: the xz decoder failed to start", path);
		goto done;
	}
	xz.next_out = data;
	xz.avail_out = cap;
	do {
		if (xz.avail_in == 0 && !feof(f)) {
			xz.next_in = in;
			xz.avail_in = fread(in, 1, sizeof(in), f);
			if (ferror(f)) {
				strbuf_printf(err, "%s: reading failed: %s", path, strerror(errno ? errno : EIO));
				goto done;
			}
		}
		if (xz.avail_out == 0) {
			if (cap >= XZ_MODULE_MAX) {
				strbuf_printf(err, "%s: larger than %u MiB decompressed", path, XZ_MODULE_MAX >> 20);
				goto done;
			}
			data = xrealloc(data, cap * 2);
			xz.next_out = data + cap;
			xz.avail_out = cap;
			cap *= 2;
		}
		rc = lzma_code(&xz, feof(f) ? LZMA_FINISH : LZMA_RUN);
	} while (rc == LZMA_OK);
	if (rc != LZMA_STREAM_END) {
		strbuf_printf(err, "%s: not a valid xz file (liblzma error %d)", path, (int)rc);
		goto done;
	}
	modsig_parse_buffer(data, (size_t)xz.total_out, out);
	result = 0;
done:
	lzma_end(&xz);
	fclose(f);
	free(data);
	return result;
}
