/*
 * Kernel half of the capture framework, included by every src/bpf/X.bpf.c
 * after vmlinux.h and <bpf/bpf_helpers.h>.  Each source object gets from it:
 *  - `events`: its ring buffer (size set by the loader before load),
 *  - `lost_events`: per-CPU loss counters indexed by Sysmon event id,
 *  - `monitor_tgid`: the monitor's own process, whose activity is never
 *    reported (set in .rodata by the loader),
 *  - capture_submit(): copy a record into the ring buffer without ever
 *    blocking; a full buffer counts a loss for that event id.
 * Wake-ups are batched: user space polls every few tens of milliseconds
 * anyway, so a record only wakes it when the buffer is filling up.  That
 * keeps the cost per event at one copy instead of one copy plus a wake-up.
 */
#ifndef SYSMON_BPF_CAPTURE_BPF_H
#define SYSMON_BPF_CAPTURE_BPF_H

#include "bpf/capture_common.h"

const volatile __u32 monitor_tgid = 0;
/* Force a wake-up once this much data waits (set by the loader: a quarter
 * of the ring). */
const volatile __u64 wakeup_bytes = 1;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CAPTURE_DEFAULT_RING_PAGES * 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CAPTURE_EVENT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} lost_events SEC(".maps");

static __always_inline int capture_is_monitor(__u32 tgid)
{
	return monitor_tgid != 0 && tgid == monitor_tgid;
}

static __always_inline void capture_count_lost(__u32 event_id)
{
	__u64 *count = bpf_map_lookup_elem(&lost_events, &event_id);

	if (count)
		*count += 1;
}

/* Copy SIZE bytes of DATA (a record of event EVENT_ID) into the ring. */
static __always_inline void capture_submit(void *data, __u64 size, __u32 event_id)
{
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size >= wakeup_bytes
			      ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_output(&events, data, size, flags) != 0)
		capture_count_lost(event_id);
}

#endif
