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

/* The one entry (struct sysmon_control) of a source's `capture_control` map, written by user space
 * only (capture.c).  Pinned with the rest of a source's state, it is shared
 * by every generation of that source's eBPF object across daemon restarts:
 * programs whose loader is not `active_tgid` record nothing, so a handover
 * from one daemon to the next is one store here, and `monitor_tgid` is the
 * running daemon, whose own activity no generation reports.  `lost_reported`
 * is, per event id, the part of `lost_events` a daemon has reported, so that
 * the next one reports only the rest. */
struct sysmon_control {
	__u32 active_tgid;
	__u32 monitor_tgid;
	__u64 lost_reported[CAPTURE_EVENT_SLOTS];
};

#endif
