/*
 * Dropping capabilities with the system calls themselves (interface:
 * privdrop.h): capset(2) for the effective, permitted and inheritable sets,
 * prctl(2) for the bounding and ambient sets.  No libcap: three calls do
 * not need a library.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "service/privdrop.h"

/* Older headers may not name the capabilities of 5.8 and later. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define BIT(cap) (1ULL << (cap))

/* The highest capability number the running kernel knows. */
static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

uint64_t privdrop_monitor_keeps(void)
{
	uint64_t keep =
		/* a reload loads and attaches the programs of newly wanted
		 * event types: CAP_BPF and CAP_PERFMON (5.8 and later),
		 * CAP_SYS_ADMIN (before 5.8, and for the BPF iterators and
		 * the program types that still ask for it) */
		BIT(CAP_BPF) | BIT(CAP_PERFMON) | BIT(CAP_SYS_ADMIN) |
		/* the first program loaded at a reload raises RLIMIT_MEMLOCK
		 * on kernels before 5.11 (libbpf does) */
		BIT(CAP_SYS_RESOURCE) |
		/* enrichment: /proc/PID/exe and cwd of other users' processes
		 * (ptrace access), and reading every executable to hash it */
		BIT(CAP_SYS_PTRACE) | BIT(CAP_DAC_READ_SEARCH);
	int last = last_cap();

	return last >= 63 ? keep : keep & ((BIT(last) << 1) - 1);
}

uint64_t privdrop_spawn_keeps(void)
{
	/* the forwarders' process, started (again) later, becomes its
	 * unprivileged user (output/forward_proc.h) */
	return BIT(CAP_SETUID) | BIT(CAP_SETGID);
}

int privdrop_reduce(uint64_t keep, uint64_t dormant, struct strbuf *err)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	int last = last_cap();

	/* keep only what we have: a container may have withheld some */
	if (syscall(SYS_capget, &header, data) != 0) {
		strbuf_printf(err, "capget: %s", strerror(errno));
		return -1;
	}
	uint64_t have = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	keep &= have;
	dormant &= have & ~keep;

	/* the bounding set first: dropping from it needs CAP_SETPCAP */
	for (int cap = 0; cap <= last; cap++) {
		if ((keep | dormant) & BIT(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
			strbuf_printf(err, "dropping capability %d from the bounding set: %s", cap,
				      strerror(errno));
			return -1;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
		strbuf_printf(err, "clearing the ambient capabilities: %s", strerror(errno));
		return -1;
	}
	memset(data, 0, sizeof(data));
	data[0].effective = (uint32_t)keep;
	data[1].effective = (uint32_t)(keep >> 32);
	data[0].permitted = (uint32_t)(keep | dormant);
	data[1].permitted = (uint32_t)((keep | dormant) >> 32);
	/* glibc has no wrapper; capset applies to the calling thread only, and
	 * the monitor is single-threaded when it drops */
	if (syscall(SYS_capset, &header, data) != 0) {
		strbuf_printf(err, "capset: %s", strerror(errno));
		return -1;
	}
	return 0;
}
