/*
 * Clocks in nanoseconds, the unit every interval, deadline and timestamp
 * of this code base is kept in.
 */
#ifndef SYSMON_CLOCK_H
#define SYSMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK (CLOCK_REALTIME, CLOCK_BOOTTIME, ...) in nanoseconds. */
int64_t clock_ns(clockid_t clock);
/* CLOCK_MONOTONIC in nanoseconds: for intervals and deadlines. */
int64_t monotonic_ns(void);

#endif
