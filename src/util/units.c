/*
 * Sizes and durations as users write them (see units.h).
 */
#include "util/units.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The leading decimal number of TEXT; *END is what follows it. */
static int parse_number(const char *text, unsigned long long *number, char **end)
{
	if (!isdigit((unsigned char)*text))
		return -1;
	errno = 0;
	*number = strtoull(text, end, 10);
	return errno ? -1 : 0;
}

int size_parse(const char *text, uint64_t *bytes)
{
	unsigned long long number;
	char *end;
	uint64_t unit = 1;

	if (parse_number(text, &number, &end) < 0)
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

int duration_parse_ms(const char *text, unsigned *ms)
{
	unsigned long long number;
	char *end;
	uint64_t unit;

	if (parse_number(text, &number, &end) < 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		unit = 1000;
	else if (strcmp(end, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		unit = 3600 * 1000;
	else
		return -1;
	if (number > UINT_MAX / unit)
		return -1;
	*ms = (unsigned)(number * unit);
	return 0;
}
