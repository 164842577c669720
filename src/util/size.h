/*
 * Sizes in bytes as users write them, one syntax for every place that
 * takes one (`sysmon log set /ms:`, outputs.conf): a number, optionally
 * followed by k, m or g (powers of 1024, any case), itself optionally
 * followed by i and/or b: 100000000, 64k, 64M, 64MiB, 1GB.
 */
#ifndef SYSMON_SIZE_H
#define SYSMON_SIZE_H

#include <stdint.h>

/* Parse TEXT into *BYTES; -1 when it is not a size (no leading digit, an
 * unknown suffix, or more than UINT64_MAX bytes). */
int size_parse(const char *text, uint64_t *bytes);

#endif
