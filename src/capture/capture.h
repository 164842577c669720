/*
 * The capture framework: the eBPF sources that turn kernel activity into
 * struct event records, and the loop that reads their ring buffers.
 *
 * A source (struct capture_source) is one eBPF object (src/bpf/X.bpf.c,
 * skeleton build/X.skel.h) plus its user half: the loader
 * (src/capture/X_source.c: what is particular to its skeleton, described
 * to the loader every source shares, loader.c, by a struct capture_loader;
 * attaching its programs) and the decoder of its records (X_decode.c,
 * interface capture/decode.h).  The kernel half includes bpf/capture.bpf.h,
 * which gives it a ring buffer map `events`, per-CPU loss counters
 * `lost_events` (indexed by event id) and the `monitor_tgid` / `wakeup_bytes`
 * read-only variables; it sends records with capture_submit().
 *
 * The user half implements the hooks below.  Every source is listed in the
 * table `capture_sources[]` in capture.c: adding a source is one line there
 * plus its `extern` below.
 *
 * Life cycle, driven by the monitor (src/service/monitor.c):
 *   capture_open()           nothing loaded yet
 *   capture_set_events()     load the sources that produce a wanted event id
 *                            (first time), attach the programs of wanted ids,
 *                            detach the others; called again on reload
 *   capture_poll()           read records; each goes to its source's
 *                            decode(), which fills events and calls
 *                            env->emit() for each
 *   capture_lost()           loss totals per event id
 *   capture_stop()           at exit: detach every program, then
 *   capture_drain()          until 0: what was captured is written out
 *   capture_close()          unload everything
 *
 * Across a restart (capture_pin(), docs/restart.md): every source's maps and
 * links are pinned under DIR/SOURCE in bpffs, so that the kernel side keeps
 * recording while no daemon runs (a crash, an upgrade).  The next daemon's
 * load adopts them: its object shares the old maps (the same build) or
 * drains the old ring (another build), and once its own programs are
 * attached, one store to the source's control map hands the recording over
 * and the old links are detached: nothing is lost nor doubled.  A clean stop
 * removes the pins; capture_keep() before capture_close() leaves them.
 *
 * Decoders run on the monitor's thread, one record at a time, in ring
 * order; they may keep state between records (the process cache does).
 * Across rings, the process source's records come first: before any other
 * source's record is decoded, every process record already in its ring is,
 * so the exec of a process is in the process cache when the decoder of its
 * later events looks its pid up (capture.c says why that holds).
 */
#ifndef SYSMON_CAPTURE_H
#define SYSMON_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/capture_common.h"
#include "config/config.h"
#include "enrich/hash_cache.h"
#include "enrich/process_cache.h"
#include "schema/event.h"
#include "util/strbuf.h"

/* Event ids as bits of a mask (every id a source produces is below 32). */
#define CAPTURE_EVENT_BIT(id) (UINT32_C(1) << (id))

/* What the sources share with the monitor.  The monitor owns it and may
 * change `config` between two capture_poll() calls (reload). */
struct capture_env {
	const struct sysmon_config *config;  /* hash algorithms, DnsLookup, ... */
	/* Enrichment state shared by every source (one thread uses them):
	 * the process source keeps `processes` up to date (exec, exit) and every
	 * source looks up the Image, ProcessGuid and User of a pid in it. */
	struct process_cache *processes;
	struct hash_cache *hashes;
	uint32_t monitor_tgid;       /* never report this process */
	unsigned ring_buffer_pages;  /* per source; 0 = CAPTURE_DEFAULT_RING_PAGES */
	/* Hand one decoded, enriched event to the pipeline (rules, log, sinks).
	 * EV belongs to the caller and may be reused once emit returns. */
	void (*emit)(struct capture_env *env, struct event *ev);
	void *owner;                 /* the monitor, for emit */
};

/* What loading a source hands back (capture_load_source()). */
struct capture_loaded {
	void *state;                 /* the source's own (its skeleton, buffers) */
	int ringbuf_fd;              /* its `events` map */
	int lost_fd;                 /* its `lost_events` map */
};

struct capture_loader;

struct capture_source {
	const char *name;            /* "process", "network": for messages */
	uint32_t event_mask;         /* CAPTURE_EVENT_BIT() of the ids it produces */
	/* How to load its eBPF object (attaching nothing) and unload it:
	 * capture_load_source() below. */
	const struct capture_loader *loader;
	/* Attach the programs needed for the ids in MASK (a subset of
	 * event_mask), detach the others.  Returns 0 or -1 with ERR. */
	int (*set_events)(void *state, uint32_t mask, struct strbuf *err);
	/* One record of SIZE bytes from the ring buffer: decode it, enrich it
	 * and call env->emit() for every resulting event.  A malformed record
	 * is skipped (return -1); it must never crash. */
	int (*decode)(void *state, struct capture_env *env, const void *data, size_t size);
	/* Optional (NULL if unused): called at every capture_poll() while the
	 * source has attached programs, for work due by time rather than by a
	 * record (the DNS source ends queries whose answer never came).  It may
	 * call env->emit(); it must be cheap when nothing is due. */
	void (*tick)(void *state, struct capture_env *env);
	/* Optional: append to OUT how event ID is captured now (its programs
	 * attached: "tp_btf inet_sock_set_state, tp sys_exit_accept ..."),
	 * and what this kernel's lack makes it miss ("no X on this kernel:
	 * Y not seen").  Shown after "active". */
	void (*describe)(void *state, unsigned id, struct strbuf *out);
};

/* The sources, defined in their X_source.c files. */
extern const struct capture_source process_source;
extern const struct capture_source network_source;
extern const struct capture_source procaccess_source;
extern const struct capture_source dns_source;
extern const struct capture_source imageload_source;
extern const struct capture_source driver_source;
extern const struct capture_source file_source;

/* The loader every source shares (loader.c). */

/* The parts of a source's skeleton that every kernel half has
 * (bpf/capture.bpf.h). */
struct bpf_object_skeleton;
struct bpf_map;
struct capture_object {
	struct bpf_object_skeleton *skeleton;
	struct bpf_map *events;
	struct bpf_map *lost_events;
	__u32 *monitor_tgid;
	__u64 *wakeup_bytes;
	bool *kernel_has_rdonly_cast;
};
/* Those of SKEL, an opened skeleton (struct X_bpf *). */
#define CAPTURE_OBJECT(skel) ((struct capture_object){                            \
	.skeleton = (skel)->skeleton, .events = (skel)->maps.events,               \
	.lost_events = (skel)->maps.lost_events,                                   \
	.monitor_tgid = &(skel)->rodata->monitor_tgid,                             \
	.wakeup_bytes = &(skel)->rodata->wakeup_bytes,                             \
	.kernel_has_rdonly_cast = &(skel)->rodata->kernel_has_rdonly_cast })

/* What is particular to loading one source: its state (allocated zeroed
 * by the loader, handed to every hook and to the source's others), its
 * decoder, its skeleton and the kernel-dependent choice of its programs. */
struct btf;
struct capture_loader {
	const char *what;            /* "image-load": "opening the image-load eBPF object failed" */
	unsigned max_ring_pages;     /* its ring's pages at most (0: as env says) */
	size_t state_size;
	/* Set STATE up: its decoder (false with the reason in ERR), ENV kept
	 * if it needs it (ENV outlives the source), and its skeleton opened
	 * (X_bpf__open()) with OBJ set to its parts (CAPTURE_OBJECT()): false
	 * with ERR empty and errno. */
	bool (*open)(void *state, const struct capture_env *env, struct capture_object *obj,
		     struct strbuf *err);
	/* Optional, before the load: choose the programs to load
	 * (bpf_program__set_autoload) and set the rodata that depend on the
	 * kernel, whose BTF is BTF (NULL: not readable).  Returns 0, or -1 with
	 * ERR (the event types are unavailable for that reason). */
	int (*prepare)(void *state, const struct btf *btf, struct strbuf *err);
	/* Optional: after a failed prepare or load, destroy the skeleton and
	 * open it again into OBJ, to be prepared (choosing otherwise) and
	 * loaded once more: true; false to give up. */
	bool (*retry)(void *state, struct capture_object *obj);
	/* Detach every link, destroy the skeleton and the decoder (either may
	 * be missing) and free STATE. */
	void (*unload)(void *state);
};

/* Load the source LOADER describes: its state and decoder, its skeleton
 * opened, `monitor_tgid`, `wakeup_bytes` and `kernel_has_rdonly_cast` set
 * and `events` sized (ENV's ring_buffer_pages), prepare(), then the load,
 * adopting the state a previous daemon pinned (capture_pin()).  Returns 0
 * with OUT filled, or -1 with ERR (shown to the user as why the event
 * types are unavailable). */
int capture_load_source(const struct capture_loader *loader, const struct capture_env *env,
			struct capture_loaded *out, struct strbuf *err);

/* For capture_load_source(), in place of X_bpf__load(skel): load the
 * skeleton S, adopting the state a previous daemon pinned (capture_pin()).
 * Returns 0 or a negative errno. */
int capture_load(struct bpf_object_skeleton *s);

/* Helpers the loaders share (the decoders' are in capture/decode.h). */

/* Attach PROG unless *LINK is already set.  Returns 0, or -1 with ERR
 * "attaching to the WHAT tracepoint failed: why". */
struct bpf_program;
struct bpf_link;
struct bpf_object;
int capture_attach(struct bpf_program *prog, struct bpf_link **link, const char *what,
		   struct strbuf *err);

/* Attach each of the COUNT PROGRAMS into LINKS (a NULL program, or one not
 * loaded, is skipped; an attached link kept): all of them, or, when one
 * fails, none (every link destroyed) and -1 with errno. */
int capture_attach_each(struct bpf_program *const programs[], struct bpf_link *links[], size_t count);
/* Destroy the COUNT LINKS, setting them NULL. */
void capture_detach_each(struct bpf_link *links[], size_t count);
/* PROG's twin in OBJ: the program named PROG's name plus "_twin", a second
 * program on the same hook doing the same (src/bpf/lib/twin.bpf.h), or
 * NULL. */
struct bpf_program *capture_twin_of(struct bpf_object *obj, const struct bpf_program *prog);
/* PROGRAMS[COUNT .. 2 * COUNT): the twins of PROGRAMS[0 .. COUNT), in order. */
void capture_twins_of(struct bpf_object *obj, struct bpf_program *programs[], size_t count);

/* Is tracefs (where libbpf finds the syscall tracepoints) there?  Mounts it
 * at its usual place if not, as systemd does at boot. */
bool capture_tracefs_available(void);

/* Does this kernel have bpf_task_pt_regs (5.15), through which the
 * programs on one syscall's exit tracepoint (SYSCALL_EXIT_PROGRAM in
 * bpf/lib/syscalls.bpf.h) read its arguments?  Without it a source loads
 * none of them, and its tp_btf/sys_exit program, handed the registers,
 * watches every syscall exit instead. */
bool capture_kernel_has_task_pt_regs(void);

/* Does this kernel have bpf_loop (5.17)?  Without it a source loads the
 * bounded-loop twins of its programs that walk paths or lists (a program
 * must not even name a bpf_loop callback there). */
bool capture_kernel_has_loop(void);
/* Can a task be preempted inside an eBPF program here (the preemption model
 * full, lazy or RT: debugfs's sched/preempt, preempt= on the command line,
 * uname, the kernel's config; unknown counts as yes)?  Only then are the
 * twins of the programs that run in task context alone loaded
 * (src/bpf/lib/twin.bpf.h). */
bool capture_kernel_preempts_programs(void);
/* Its verdict from what it read: MODE, debugfs's sched/preempt ("none
 * voluntary (full) lazy", or ""); CMDLINE, /proc/cmdline; VERSION, uname's
 * version ("#1 SMP PREEMPT_DYNAMIC ..."); CONFIG, what /boot/config-* says
 * of the default model (1 preempts, 0 not, -1 unread). */
bool capture_preemption_verdict(const char *mode, const char *cmdline, const char *version, int config);

/* Does this kernel load and attach fexit programs (BPF trampolines)?  Tried
 * once, with an empty program on FUNCTION (a kernel function in BTF that
 * the caller means to use), and remembered.  Without it libbpf's failing
 * load of a whole object would be the probe, and would print its errors. */
struct btf;
bool capture_kernel_has_fexit(const struct btf *btf, const char *function);

/* Is the first argument of kernel function FUNCTION, in the kernel whose
 * BTF is BTF, a pointer to a struct that the BTF defines?  A tracing
 * program may read it only then: some of 5.10's syscall functions
 * (__x64_sys_process_vm_readv, __ia32_sys_utimes_time32, ...) have a
 * struct pt_regs that their BTF only declares. */
struct btf;
bool capture_btf_first_arg_is_struct(const struct btf *btf, const char *function);

/* Does the kernel whose BTF is BTF (NULL: unknown, false) have the
 * tracepoint NAME (its type btf_trace_NAME)? */
struct btf;
bool capture_btf_has_tracepoint(const struct btf *btf, const char *name);

/* For describe(): if LINK (of PROG) is attached, append PROG's hook to
 * OUT, comma-separated: "tp_btf sched_process_exec", "tp sys_exit_mmap". */
void capture_describe_link(struct strbuf *out, const struct bpf_link *link, const struct bpf_program *prog);

/* Does the kernel whose BTF is BTF have the kfunc NAME? */
bool capture_btf_has_kfunc(const struct btf *btf, const char *name);

/* How many arguments the tracepoint NAME takes in the kernel whose BTF is
 * BTF (-1: no such tracepoint): tells its prototype's versions apart. */
int capture_btf_tracepoint_args(const struct btf *btf, const char *name);

struct capture;

struct capture *capture_open(struct capture_env *env);
void capture_close(struct capture *cap);

/* Pin every source's state under DIR (a bpffs directory, mounted at
 * /sys/fs/bpf when it is not) and adopt what a previous daemon pinned there;
 * call before the first capture_set_events().  Returns 0, or -1 with ERR. */
int capture_pin(struct capture *cap, const char *dir, struct strbuf *err);
/* Stopping for a restart: capture_close() leaves the pins (and with them the
 * attached programs and the records in the rings) to the next daemon;
 * capture_stop() is not to be called. */
void capture_keep(struct capture *cap);
/* What the handover at start could not pass on: records of a previous
 * daemon's different eBPF object, counted rather than decoded (their layout
 * may differ).  Returns their number since the last call. */
uint64_t capture_take_dropped(struct capture *cap);
/* Runs of the sources' eBPF programs that the kernel skipped since the last
 * call because the same program was already running on that CPU (its
 * recursion_misses: an interrupt's event inside a task's run, or a task
 * preempted inside its run): each may have been an event (a program with
 * a twin, only where both were skipped).  The sources and
 * programs concerned are appended to PROGRAMS ("network (tcp_connect_done)"). */
uint64_t capture_take_skipped(struct capture *cap, struct strbuf *programs);
/* Remove every pin under DIR, detaching the programs no daemon holds
 * (`sysmon -u` after a crash).  Returns 0, or -1 with ERR. */
int capture_unpin_all(const char *dir, struct strbuf *err);

/* Make exactly the ids in WANTED captured (ids no source produces are
 * ignored).  Since every event's Image and ProcessGuid come from the process
 * cache, the process source stays attached while any source is active.
 * Writes to REPORT one line per id of WANTED: "EventName (N): active
 * (mechanism)" or
 * "EventName (N): unavailable: why".  Returns the number of ids that could
 * not be activated (0 = all fine). */
int capture_set_events(struct capture *cap, uint32_t wanted, struct strbuf *report);

/* Wait up to TIMEOUT_MS for records, then decode what is waiting, at most
 * a bounded batch (the next call continues at once, without waiting).
 * Returns the number of records read, or -1 on an error (errno set; EINTR
 * when a signal arrived, which is not an error for the caller). */
int capture_poll(struct capture *cap, int timeout_ms);
/* Stopping: detach every program, so that the rings only hold what was
 * already captured; then call capture_drain() until it returns 0. */
void capture_stop(struct capture *cap);
/* Decode a batch of what is waiting without sleeping; returns the number of
 * records read (0 when the rings are empty) or -1. */
int capture_drain(struct capture *cap);

/* Events lost because a ring buffer was full, since capture_open(), per
 * event id. */
void capture_lost(struct capture *cap, uint64_t lost[CAPTURE_EVENT_SLOTS]);

#endif
