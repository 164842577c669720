/*
 * Kernel half of the capture framework, included by every src/bpf/X.bpf.c
 * after vmlinux.h and <bpf/bpf_helpers.h>.  Each source object gets from it:
 *  - `events`: its ring buffer (size set by the loader before load),
 *  - `lost_events`: per-CPU loss counters indexed by Sysmon event id,
 *  - `monitor_tgid`: the process that loaded it (set in .rodata by the
 *    loader); it records only while `capture_control` names it active, and
 *    never reports the activity of the running monitor that map names,
 *  - capture_submit(): copy a record into the ring buffer without ever
 *    blocking; a full buffer counts a loss for that event id.
 *  - kernel_typed() / KERNEL_READ(): read kernel objects reached through
 *    plain addresses, by bpf_rdonly_cast where the kernel has it (6.2+),
 *    else by bpf_probe_read_kernel (the loader sets
 *    `kernel_has_rdonly_cast` after looking for the kfunc).
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

/* bpf_rdonly_cast (kernel 6.2+) turns a kernel address into a read-only
 * typed pointer: loads through it are plain loads guarded by the exception
 * table, much cheaper than a bpf_probe_read_kernel call per field.  Weak:
 * an older kernel lacks it; the loader then leaves kernel_has_rdonly_cast
 * false, the verifier drops the calls as dead code, and the reads go
 * through bpf_probe_read_kernel (BPF_CORE_READ). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
const volatile bool kernel_has_rdonly_cast = false;

/* P, an address of a kernel object of type TYPE, made readable by
 * KERNEL_READ. */
#define kernel_typed(p, type) \
	((type *)(kernel_has_rdonly_cast ? bpf_rdonly_cast((p), bpf_core_type_id_kernel(type)) : (void *)(p)))
/* FIELD (a member, or a path of embedded members) of the kernel object at
 * P: P is a typed pointer (a tp_btf argument, or kernel_typed()'s) where
 * the kernel has bpf_rdonly_cast, a plain address read with
 * bpf_probe_read_kernel otherwise.  Only one of the two loads is verified:
 * the flag is a constant of the loaded program. */
#define KERNEL_READ(p, field) (kernel_has_rdonly_cast ? (p)->field : BPF_CORE_READ((p), field))

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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sysmon_control);
} capture_control SEC(".maps");

/* Is this object the one recording (capture_common.h: a daemon restart)? */
static __always_inline int capture_is_active(void)
{
	__u32 key = 0;
	struct sysmon_control *control = bpf_map_lookup_elem(&capture_control, &key);

	return control && control->active_tgid == monitor_tgid;
}

/* Is TGID to be left unreported: the running monitor, or any process while
 * this object is not the one recording? */
static __always_inline int capture_is_monitor(__u32 tgid)
{
	__u32 key = 0;
	struct sysmon_control *control = bpf_map_lookup_elem(&capture_control, &key);

	return !control || control->active_tgid != monitor_tgid ||
	       (control->monitor_tgid != 0 && tgid == control->monitor_tgid);
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
	if (!capture_is_active())
		return;
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size >= wakeup_bytes
			      ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_output(&events, data, size, flags) != 0)
		capture_count_lost(event_id);
}

#endif
