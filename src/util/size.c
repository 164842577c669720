/*
 * Sizes in bytes as users write them (see size.h).
 */
#include "util/size.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int size_parse(const char *text, uint64_t *bytes)
{
	char *end;
	uint64_t unit = 1;

	if (!isdigit((unsigned char)*text))
		return -1;
	errno = 0;
	unsigned long long number = strtoull(text, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		switch (tolower((unsigned char)*end)) {
		case 'k': unit = 1ull << 10; break;
		case 'm': unit = 1ull << 20; break;
		case 'g': unit = 1ull << 30; break;
		default: return -1;
		}
		end++;
		if (tolower((unsigned char)*end) == 'i')
			end++;
		if (tolower((unsigned char)*end) == 'b')
			end++;
		if (*end)
			return -1;
	}
	if (number > UINT64_MAX / unit)
		return -1;
	*bytes = number * unit;
	return 0;
}
