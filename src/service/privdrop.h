/*
 * Privileges of the monitor after start-up.  The monitor needs root's full
 * set only to load and attach the eBPF programs and to read the running
 * processes once; after that it keeps the few capabilities that a live
 * reload and the enrichment of events still use (docs/service.md) and
 * drops every other one, from its effective, permitted, inheritable and
 * bounding sets, so that a fault in a decoder or an output parser cannot
 * load a kernel module, write any file on the machine or open raw sockets.
 */
#ifndef SYSMON_PRIVDROP_H
#define SYSMON_PRIVDROP_H

#include <stdint.h>

#include "util/strbuf.h"

/* The capabilities the monitor keeps, as a CapEff bit mask (bit N is
 * capability N); those the running kernel does not know are left out. */
uint64_t privdrop_monitor_keeps(void);

/* Reduce the calling thread (and the threads it starts later) to the
 * capabilities in KEEP that it has:
 * effective = permitted = KEEP, nothing inheritable or ambient, the
 * bounding set KEEP.  0, or -1 with ERR. */
int privdrop_reduce(uint64_t keep, struct strbuf *err);

#endif
