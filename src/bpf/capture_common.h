/*
 * Constants that the kernel half (src/bpf/X.bpf.c, through capture.bpf.h)
 * and the user half (src/capture/) of every capture source agree on.  Plain
 * macros only: this file is included both under vmlinux.h and under libc.
 */
#ifndef SYSMON_BPF_CAPTURE_COMMON_H
#define SYSMON_BPF_CAPTURE_COMMON_H

/* Slots of each source's `lost_events` per-CPU array: indexed by Sysmon
 * event id (every id a source produces is below 32). */
#define CAPTURE_EVENT_SLOTS 32

/* Default size of each source's ring buffer, in pages (power of two). */
#define CAPTURE_DEFAULT_RING_PAGES 2048

#endif
