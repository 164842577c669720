/*
 * The process cache: what the enrichment stage knows about every process
 * image, keyed by pid (the thread-group id).  It supplies ProcessGuid, Image,
 * CommandLine, CurrentDirectory and User for events that carry only a pid,
 * and the Parent* fields of ProcessCreate, also for parents started before
 * the monitor (seeded from /proc at start-up, or read from /proc on first
 * use), where REF leaves them "-" (compatibility spec 3.6.13 and the
 * project decisions).
 *
 * Exited processes stay for a grace period (PROCESS_CACHE_GRACE_NS of event
 * time, at most PROCESS_CACHE_MAX_EXITED entries) so that late events can
 * still be attributed; eviction is amortised inside exec/exit calls.  Every
 * call is O(1) amortised; memory is bounded by the live processes plus the
 * grace list.  One cache is used by one thread at a time.
 *
 * Values read from /proc: Image = readlink /proc/PID/exe, kept as the kernel
 * prints it (" (deleted)" suffix included, as REF shows it: it marks a
 * replaced binary or a memfd image).  CommandLine = /proc/PID/cmdline with
 * trailing NULs dropped and inner NULs turned into single spaces (spec
 * 3.6.9), at most PROCESS_CMDLINE_MAX bytes.  Kernel threads have no
 * executable and no argv: Image and CommandLine are "-" (REF reads them from
 * /proc as empty, which it writes as "-"); `comm` keeps their name.  A user
 * process whose exe link cannot be read (a zombie) gets the basename of its
 * argv[0], else "<unknown process>" (spec 3.6.8).
 */
#ifndef SYSMON_PROCESS_CACHE_H
#define SYSMON_PROCESS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enrich/guid.h"

#define PROCESS_CMDLINE_MAX (16 * 1024)
#define PROCESS_CACHE_GRACE_NS (30LL * 1000000000LL)
#define PROCESS_CACHE_MAX_EXITED 8192

struct process_info {
	uint32_t pid;           /* thread-group id */
	uint32_t ppid;
	uint32_t uid;           /* real uid */
	uint64_t start_boot_ns; /* CLOCK_BOOTTIME ns of the exec (see guid.h) */
	char guid[GUID_TEXT_SIZE];
	char *image;            /* never NULL */
	char *command_line;     /* never NULL */
	char *cwd;              /* never NULL; "-" if unknown */
	char comm[16];          /* kernel task name; "" when it came from an exec record */
	bool kernel_thread;
	bool from_proc;         /* read from /proc (seed or lazy lookup), not from an exec record */
	bool exited;
	int64_t exit_wall_ns;   /* valid when exited */
};

struct process_cache;

struct process_cache_stats {
	size_t live;            /* entries of running processes */
	size_t exited;          /* entries kept for the grace period */
	uint64_t proc_reads;    /* processes read from /proc (seed + lazy) */
	uint64_t evicted;       /* exited entries dropped after the grace period */
	uint64_t swept;         /* stale entries dropped whose exit was never reported */
};

struct process_cache *process_cache_new(void);
void process_cache_free(struct process_cache *cache);

/* Change the grace period (ns of event time) and the number of exited
 * entries kept; the defaults are the PROCESS_CACHE_* values above. */
void process_cache_set_limits(struct process_cache *cache, int64_t grace_ns, size_t max_exited);

/* Read every process in /proc.  Returns the number of processes added, or
 * -1 with errno set if /proc cannot be listed. */
int process_cache_seed(struct process_cache *cache);

/* A process image was created (ProcessCreate): PID now runs IMAGE.  Replaces
 * PID's entry (a new image is a new GUID).  NULL strings are stored as "-";
 * COMMAND_LINE longer than PROCESS_CMDLINE_MAX is cut.  START_BOOT_NS is the
 * CLOCK_BOOTTIME ns of the exec. */
const struct process_info *process_cache_exec(struct process_cache *cache, uint32_t pid,
					      uint32_t ppid, uint32_t uid, uint64_t start_boot_ns,
					      const char *image, const char *command_line,
					      const char *cwd);

/* PID's entry, read from /proc if it is not cached (a thread id resolves
 * to its thread group's entry); NULL if the process is gone and unknown. */
const struct process_info *process_cache_lookup(struct process_cache *cache, uint32_t pid);

/* PID exited at EXIT_WALL_NS (ns since the epoch).  Unknown pids are
 * ignored. */
void process_cache_exit(struct process_cache *cache, uint32_t pid, int64_t exit_wall_ns);

void process_cache_get_stats(const struct process_cache *cache, struct process_cache_stats *stats);

/*
 * Returned pointers stay valid until the next process_cache_exec or
 * process_cache_exit call (the entry of the pid given to process_cache_exit
 * survives that call), or a lookup of the same pid.  A lookup of another
 * pid or a seed does not move or free them, so for a ProcessCreate call
 * process_cache_exec for the child, then look up its parent, and hold both.
 */

#endif
