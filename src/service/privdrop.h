/*
 * Privileges of the monitor after start-up.  The monitor needs root's full
 * set only to load and attach the eBPF programs and to read the running
 * processes once; after that it keeps the few capabilities that a live
 * reload and the enrichment of events still use (docs/service.md), and
 * dormant the two that start the forwarders' process (docs/privsep.md), and
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

/* The capabilities the monitor holds permitted but not effective: those
 * that a process it forks later needs to become the forwarders'
 * unprivileged user (it raises them in the forked copy only, and loses
 * them with root's uid). */
uint64_t privdrop_spawn_keeps(void);

/* Reduce the calling thread (and the threads it starts later) to the
 * capabilities in KEEP (effective) and DORMANT (permitted only) that it
 * has: effective = KEEP, permitted = KEEP + DORMANT, nothing inheritable
 * or ambient, the bounding set the permitted one.  0, or -1 with ERR. */
int privdrop_reduce(uint64_t keep, uint64_t dormant, struct strbuf *err);

#endif
