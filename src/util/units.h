/*
 * Sizes and durations as users write them, one syntax for every place that
 * takes one (`sysmon log set /ms:`, outputs.conf).
 */
#ifndef SYSMON_UNITS_H
#define SYSMON_UNITS_H

#include <stdint.h>

/* A size in bytes: a number, optionally followed by k, m or g (powers of
 * 1024, any case), itself optionally followed by i and/or b: 100000000,
 * 64k, 64M, 64MiB, 1GB.  -1 when TEXT is not one (no leading digit, an
 * unknown suffix, more than UINT64_MAX bytes). */
int size_parse(const char *text, uint64_t *bytes);

/* A duration into milliseconds: a number followed by ms, s, m or h, or
 * none (seconds): 250ms, 2s, 1m, 1h.  -1 when TEXT is not one (or more than
 * UINT_MAX ms). */
int duration_parse_ms(const char *text, unsigned *ms);

#endif
