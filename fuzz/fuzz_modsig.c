/*
 * libFuzzer target for the kernel module signature parser behind
 * DriverLoad (src/enrich/modsig.c): any bytes as a module file go to
 * modsig_parse_buffer(), which must never crash, hang or leak, and must
 * give a status with a signer only when Valid.  Seed corpus:
 * fuzz/corpus/fuzz_modsig/ (a signed module-like file, signed as the
 * kernel's sign-file does, and an unsigned one).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/modsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modsig_info info;
	uint8_t *copy = malloc(size ? size : 1);

	memcpy(copy, data, size);
	modsig_parse_buffer(copy, size, &info);
	if (info.status != MODSIG_VALID && info.signer[0])
		abort();
	if (info.module_len > size || memchr(info.signer, '\0', sizeof(info.signer)) == NULL)
		abort();
	free(copy);
	return 0;
}
