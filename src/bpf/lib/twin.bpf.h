/*
 * Twin programs, for every src/bpf/X.bpf.c whose hooks fire often enough
 * to be hit while a run is preempted (included after vmlinux.h and
 * <bpf/bpf_helpers.h>).
 *
 * The kernel runs a program at most once per CPU at a time: a run that
 * finds it already running there is skipped and only counted (the
 * program's recursion_misses, which the monitor reports as a LostEvents
 * Error event).  That happens when a softirq interrupts a task's run of
 * the same program, and, where the kernel preempts eBPF programs (7.x's
 * lazy preemption), for every run on that CPU while a task preempted
 * inside the program waits to run again: 6 processes creating files on 2
 * CPUs under 7.x lost 226 of 3600 FileCreate events so.  So such a hook
 * has two programs, NAME and NAME_twin, doing the same work: while one is
 * held, the other runs.  The monitor counts only runs both skipped
 * (capture_take_skipped).  The twins of programs that run only in task
 * context are loaded only where the kernel preempts programs
 * (twin_programs below); TCP's, which run in softirqs too, always.
 *
 * Both run for every event, so the event must be reported once:
 *  - where the work ends by taking an entry from a map (a connect's, a
 *    pending unlink's), whoever removes it reports;
 *  - where a report is already once per interval (UDP flows), nothing more;
 *  - else twin_claim(WHAT, ID, TWIN): a run that finds the other twin's
 *    claim of the event stands down and removes it; else it reports and
 *    leaves its own.  A claim left because the other twin was skipped
 *    stays until the key comes again (the LRU takes it otherwise): then
 *    its owner reports again as it should, while the other twin, finding
 *    it, stands down, which loses the event only if the owner is skipped
 *    this time.  Each such loss pairs a skip of each twin, so the smaller
 *    of their skip counts still bounds the events lost, whichever order
 *    the kernel runs the two in (fexit trampolines run the last attached
 *    first, tracepoints the first).
 * A program that fills a per-CPU scratch record has its own slot there,
 * its twin another: programs preempted on one CPU interleave.
 */
#ifndef SYSMON_BPF_LIB_TWIN_BPF_H
#define SYSMON_BPF_LIB_TWIN_BPF_H

struct twin_claim_key {
	__u64 what;             /* the kind of event, and a thread or object */
	__u64 id;               /* which event of it */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct twin_claim_key);
	__type(value, __u32);               /* the twin that claimed */
} twin_claims SEC(".maps");

/* Set by the loader when it loads the twins claims are for, which it does
 * only where the kernel preempts programs (capture_kernel_preempts_programs:
 * in task context nothing else nests); else a program reports alone. */
const volatile bool twin_programs = false;

/* Is this run, of twin TWIN (0 or 1), to report the event (WHAT, ID)? */
static __always_inline bool twin_claim(__u64 what, __u64 id, __u32 twin)
{
	struct twin_claim_key key = { .what = what, .id = id };
	__u32 *owner;

	if (!twin_programs)
		return true;
	owner = bpf_map_lookup_elem(&twin_claims, &key);

	if (owner && *owner != twin) {
		bpf_map_delete_elem(&twin_claims, &key);
		return false;
	}
	bpf_map_update_elem(&twin_claims, &key, &twin, BPF_ANY);
	return true;
}

/* Two programs on hook SEC, NAME and NAME_twin (BPF_PROG's ARGS), each
 * returning CALL, an expression of the arguments and of `twin` (0 or 1). */
#define TWIN_PROGRAMS(sec, name, call, args...)                                \
	SEC(sec)                                                                \
	int BPF_PROG(name, args)                                                \
	{                                                                       \
		const __u32 twin = 0;                                           \
		(void)twin;                                                     \
		return call;                                                    \
	}                                                                       \
	SEC(sec)                                                                \
	int BPF_PROG(name##_twin, args)                                         \
	{                                                                       \
		const __u32 twin = 1;                                           \
		(void)twin;                                                     \
		return call;                                                    \
	}

#endif
