/*
 * The capture framework (interface and life cycle: capture.h): the table of
 * sources, loading them on first need, attaching and detaching their
 * programs as the config changes, the reading of the sources' rings, and
 * the per-event-id loss totals.
 *
 * Rings are read in two libbpf ring_buffer objects: one for the process
 * source, one for every other source.  Each source has its own ring, so
 * nothing orders a process's exec record against, say, its connect record:
 * read in the wrong order, the connect's decoder would miss the pid in the
 * process cache and read /proc (a GUID from /proc's start time, not the
 * exec's).  The kernel commits an exec record before the process can make
 * its next system call, so reading the process ring before each other
 * record makes every exec that precedes that record known to the cache.
 * When the process ring is empty that costs two loads of its positions
 * (libbpf's consume makes no system call).  The other way round, an exec
 * made after the record (its process exec'ing again a moment later) is read
 * before it too, as it already was whenever both fell in one read pass: the
 * record then names the new image.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "capture/capture.h"

/* Every source of this build.  Adding a source is one line here. */
static const struct capture_source *const capture_sources[] = {
	&process_source,
	&network_source,
	&procaccess_source,
	&dns_source,
	&imageload_source,
	&driver_source,
	&file_source,
};

#define SOURCE_COUNT (sizeof(capture_sources) / sizeof(capture_sources[0]))

struct capture_slot {
	const struct capture_source *source;
	struct capture *owner;
	bool loaded;
	char *load_error;           /* why it could not be loaded; kept, not retried */
	struct capture_loaded handle;
	uint32_t attached;          /* ids whose programs are attached */
	char *attach_error;         /* why the last set_events failed, NULL if it did not */
};

/* Records decoded per libbpf read before control returns to the caller. */
#define POLL_BUDGET 1024
#define BUDGET_SPENT (-ECANCELED)

struct capture {
	struct capture_env *env;
	struct ring_buffer *process_ring;  /* the process source's ring */
	struct ring_buffer *other_rings;   /* every other loaded source's ring */
	int budget;                 /* records left in this read */
	bool catching_up;           /* reading the process ring ahead of another record */
	bool backlog;               /* the last read stopped on its budget */
	struct capture_slot slots[SOURCE_COUNT];
	int ncpus;
	uint64_t *percpu;           /* scratch for reading per-CPU counters */
};

void capture_loaded_set(struct capture_loaded *out, void *state, const struct bpf_map *events,
			const struct bpf_map *lost_events)
{
	out->state = state;
	out->ringbuf_fd = bpf_map__fd(events);
	out->lost_fd = bpf_map__fd(lost_events);
}

int capture_attach(struct bpf_program *prog, struct bpf_link **link, const char *what,
		   struct strbuf *err)
{
	if (*link)
		return 0;
	*link = bpf_program__attach(prog);
	if (!*link) {
		int e = errno;
		strbuf_printf(err, "attaching to the %s tracepoint failed: %s", what, strerror(e));
		return -1;
	}
	return 0;
}

#define TRACEFS_DIR "/sys/kernel/tracing"

bool capture_tracefs_available(void)
{
	if (access(TRACEFS_DIR "/events", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return true;
	return mount("tracefs", TRACEFS_DIR, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0 &&
	       access(TRACEFS_DIR "/events", F_OK) == 0;
}

bool capture_kernel_has_fexit(const struct btf *btf, const char *function)
{
	static int known = -1;
	const struct bpf_insn empty[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	if (known >= 0)
		return known;
	int id = btf ? btf__find_by_name_kind(btf, function, BTF_KIND_FUNC) : -1;
	if (id <= 0)
		return false;   /* not known: another function may be there */
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FEXIT,
		    .attach_btf_id = (__u32)id);
	int prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "sysmon_probe", "GPL", empty, 2, &opts);
	int link = prog >= 0 ? bpf_link_create(prog, 0, BPF_TRACE_FEXIT, NULL) : -1;
	known = link >= 0;
	if (link >= 0)
		close(link);
	if (prog >= 0)
		close(prog);
	return known;
}

bool capture_btf_has_tracepoint(const struct btf *btf, const char *name)
{
	char type_name[128];

	snprintf(type_name, sizeof(type_name), "btf_trace_%s", name);
	return btf && btf__find_by_name_kind(btf, type_name, BTF_KIND_TYPEDEF) > 0;
}

void capture_describe_link(struct strbuf *out, const struct bpf_link *link, const struct bpf_program *prog)
{
	if (!link)
		return;
	const char *section = bpf_program__section_name(prog);
	const char *slash = strchr(section, '/');
	const char *name = strrchr(section, '/');
	strbuf_printf(out, "%s%.*s %s", out->len ? ", " : "", slash ? (int)(slash - section) : (int)strlen(section),
		      section, name ? name + 1 : "");
}

bool capture_btf_has_kfunc(const struct btf *btf, const char *name)
{
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

int capture_btf_tracepoint_args(const struct btf *btf, const char *name)
{
	char type_name[128];
	const struct btf_type *t;
	int id;

	snprintf(type_name, sizeof(type_name), "btf_trace_%s", name);
	id = btf ? btf__find_by_name_kind(btf, type_name, BTF_KIND_TYPEDEF) : -1;
	if (id <= 0)
		return -1;
	/* typedef -> pointer -> prototype (void *data, the tracepoint's arguments) */
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t) || !(t = btf__type_by_id(btf, t->type)) || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) > 0 ? btf_vlen(t) - 1 : -1;
}

uint64_t capture_configure_ring(struct bpf_map *events, const struct capture_env *env)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned pages = env->ring_buffer_pages ? env->ring_buffer_pages : CAPTURE_DEFAULT_RING_PAGES;
	unsigned rounded = 1;

	/* the kernel wants a power-of-two number of pages */
	while (rounded < pages && rounded < (1u << 20))
		rounded <<= 1;
	size_t bytes = (size_t)rounded * page;
	bpf_map__set_max_entries(events, (uint32_t)bytes);
	return bytes / 4;
}

/* libbpf's messages on stderr, without its debug chatter; a verifier log
 * (thousands of lines when the kernel refuses a program) is cut to its end,
 * where the verifier says why. */
static int print_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
	char text[2048];
	va_list again;

	if (level == LIBBPF_DEBUG)
		return 0;
	va_copy(again, args);
	int len = vsnprintf(text, sizeof(text), format, args);
	if (len >= 0 && (size_t)len < sizeof(text)) {
		fputs(text, stderr);
	} else if (len >= 0) {
		char *full = xmalloc((size_t)len + 1);
		vsnprintf(full, (size_t)len + 1, format, again);
		fprintf(stderr, "libbpf: (log cut to its last %zu bytes)\n...%s", sizeof(text),
			full + len - sizeof(text));
		free(full);
	}
	va_end(again);
	return len;
}

struct capture *capture_open(struct capture_env *env)
{
	struct capture *cap = xcalloc(1, sizeof(*cap));

	libbpf_set_print(print_libbpf);
	cap->env = env;
	for (size_t i = 0; i < SOURCE_COUNT; i++) {
		cap->slots[i].source = capture_sources[i];
		cap->slots[i].owner = cap;
	}
	cap->ncpus = libbpf_num_possible_cpus();
	if (cap->ncpus < 1)
		cap->ncpus = 1;
	cap->percpu = xcalloc((size_t)cap->ncpus, sizeof(uint64_t));
	return cap;
}

void capture_close(struct capture *cap)
{
	if (!cap)
		return;
	ring_buffer__free(cap->process_ring);
	ring_buffer__free(cap->other_rings);
	for (size_t i = 0; i < SOURCE_COUNT; i++) {
		struct capture_slot *slot = &cap->slots[i];

		if (slot->loaded)
			slot->source->unload(slot->handle.state);
		free(slot->load_error);
		free(slot->attach_error);
	}
	free(cap->percpu);
	free(cap);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct capture_slot *slot = ctx;
	struct capture *cap = slot->owner;

	/* every exec committed before this record was made is known to the
	 * cache before it is decoded (see the top of this file); that read is
	 * not cut short by the budget, or the exec could stay unread */
	if (slot->source != &process_source && cap->process_ring) {
		cap->catching_up = true;
		ring_buffer__consume(cap->process_ring);
		cap->catching_up = false;
	}
	slot->source->decode(slot->handle.state, cap->env, data, size);
	/* libbpf keeps reading while records keep coming; under overload that
	 * would starve the caller's commits, loss reports and signals */
	return --cap->budget > 0 || cap->catching_up ? 0 : BUDGET_SPENT;
}

/* Consume what RINGS hold, within the budget.  Returns 0, or -1 with
 * errno; a spent budget sets cap->backlog. */
static int consume_rings(struct capture *cap, struct ring_buffer *rings)
{
	if (!rings || cap->backlog)
		return 0;
	int rc = ring_buffer__consume(rings);
	if (rc == BUDGET_SPENT) {
		cap->backlog = true;
		return 0;
	}
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* Wait up to TIMEOUT_MS until a ring has records that asked for a wake-up. */
static int wait_rings(struct capture *cap, int timeout_ms)
{
	struct pollfd fds[2];
	nfds_t n = 0;

	/* a ring_buffer's epoll descriptor is readable while one of its rings is */
	if (cap->process_ring)
		fds[n++] = (struct pollfd){ .fd = ring_buffer__epoll_fd(cap->process_ring), .events = POLLIN };
	if (cap->other_rings)
		fds[n++] = (struct pollfd){ .fd = ring_buffer__epoll_fd(cap->other_rings), .events = POLLIN };
	return poll(fds, n, timeout_ms) < 0 ? -1 : 0;
}

/* One read pass: the process ring first, then the others.  Returns the
 * records read (at most the budget's worth), or -1 with errno; a spent
 * budget sets cap->backlog. */
static int read_rings(struct capture *cap)
{
	cap->budget = POLL_BUDGET;
	if (consume_rings(cap, cap->process_ring) < 0 || consume_rings(cap, cap->other_rings) < 0)
		return -1;
	/* records read while catching up may take the budget below 0 */
	return cap->budget > 0 ? POLL_BUDGET - cap->budget : POLL_BUDGET;
}

/* The helpers of MASK (CAPTURE_HELPER_*) this kernel lacks, named in ERR
 * ("bpf_loop (Linux 5.17)"); returns how many. */
static int missing_helpers(uint32_t mask, struct strbuf *err)
{
	static const struct {
		uint32_t bit;
		enum bpf_func_id id;
		const char *name;
	} helpers[] = {
		{ CAPTURE_HELPER_TASK_BTF, BPF_FUNC_get_current_task_btf, "bpf_get_current_task_btf (Linux 5.11)" },
		{ CAPTURE_HELPER_TASK_PT_REGS, BPF_FUNC_task_pt_regs, "bpf_task_pt_regs (5.15)" },
		{ CAPTURE_HELPER_LOOP, BPF_FUNC_loop, "bpf_loop (5.17)" },
	};
	int missing = 0;

	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
		if (!(mask & helpers[i].bit) ||
		    libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, helpers[i].id, NULL) != 0)
			continue;   /* there (1), or the probe itself failed: let the load say */
		strbuf_printf(err, "%s%s", missing++ ? ", " : "", helpers[i].name);
	}
	return missing;
}

static int load_slot(struct capture *cap, struct capture_slot *slot)
{
	struct strbuf err = STRBUF_INIT;
	struct strbuf missing = STRBUF_INIT;

	if (missing_helpers(slot->source->helpers, &missing) > 0) {
		strbuf_printf(&err, "this kernel lacks eBPF helpers that the %s programs call: %s",
			      slot->source->name, missing.data);
		slot->load_error = xstrdup(err.data);
		strbuf_release(&missing);
		strbuf_release(&err);
		return -1;
	}
	strbuf_release(&missing);
	if (slot->source->load(cap->env, &slot->handle, &err) != 0) {
		slot->load_error = xstrdup(err.len ? err.data : "loading its eBPF programs failed");
		strbuf_release(&err);
		return -1;
	}
	struct ring_buffer **rings = slot->source == &process_source ? &cap->process_ring : &cap->other_rings;
	int rc;
	if (!*rings) {
		*rings = ring_buffer__new(slot->handle.ringbuf_fd, on_record, slot, NULL);
		rc = *rings ? 0 : -errno;
	} else {
		rc = ring_buffer__add(*rings, slot->handle.ringbuf_fd, on_record, slot);
	}
	if (rc != 0) {
		strbuf_printf(&err, "reading its ring buffer failed: %s", strerror(-rc));
		slot->load_error = xstrdup(err.data);
		slot->source->unload(slot->handle.state);
		strbuf_release(&err);
		return -1;
	}
	slot->loaded = true;
	strbuf_release(&err);
	return 0;
}

static void report_line(struct strbuf *report, unsigned id, const char *state)
{
	const struct schema_event *event = schema_event_by_id(id);
	const char *name = event && event->rule_tag ? event->rule_tag : "event";

	strbuf_printf(report, "%s (%u): %s\n", name, id, state);
}

int capture_set_events(struct capture *cap, uint32_t wanted, struct strbuf *report)
{
	uint32_t producible = 0;

	for (size_t i = 0; i < SOURCE_COUNT; i++)
		producible |= capture_sources[i]->event_mask;
	uint32_t effective = wanted & producible;

	for (size_t i = 0; i < SOURCE_COUNT; i++) {
		struct capture_slot *slot = &cap->slots[i];
		uint32_t mask = effective & slot->source->event_mask;

		/* the process cache feeds every other source's Image and ProcessGuid */
		if (slot->source == &process_source && (effective & ~process_source.event_mask))
			mask = process_source.event_mask;
		if (mask && !slot->loaded && !slot->load_error)
			load_slot(cap, slot);
		if (!slot->loaded || mask == slot->attached)
			continue;
		struct strbuf err = STRBUF_INIT;
		free(slot->attach_error);
		slot->attach_error = NULL;
		if (slot->source->set_events(slot->handle.state, mask, &err) == 0) {
			slot->attached = mask;
		} else {
			slot->attach_error = xstrdup(err.len ? err.data : "attaching its eBPF programs failed");
			slot->attached = 0;
			slot->source->set_events(slot->handle.state, 0, &err);
		}
		strbuf_release(&err);
	}

	int unavailable = 0;
	for (unsigned id = 1; id < CAPTURE_EVENT_SLOTS; id++) {
		if (!(wanted & CAPTURE_EVENT_BIT(id)))
			continue;
		const struct schema_event *event = schema_event_by_id(id);
		const struct capture_slot *slot = NULL;

		for (size_t i = 0; i < SOURCE_COUNT; i++)
			if (cap->slots[i].source->event_mask & CAPTURE_EVENT_BIT(id))
				slot = &cap->slots[i];
		if (slot && (slot->attached & CAPTURE_EVENT_BIT(id))) {
			struct strbuf how = STRBUF_INIT;

			strbuf_puts(&how, "active");
			if (slot->source->describe) {
				struct strbuf mechanism = STRBUF_INIT;

				slot->source->describe(slot->handle.state, id, &mechanism);
				if (mechanism.len)
					strbuf_printf(&how, " (%s)", mechanism.data);
				strbuf_release(&mechanism);
			}
			report_line(report, id, how.data);
			strbuf_release(&how);
			continue;
		}
		unavailable++;
		struct strbuf why = STRBUF_INIT;
		if (!slot && event && event->windows_only)
			strbuf_puts(&why, "unavailable: Windows only, Linux has no equivalent");
		else if (!slot)
			strbuf_puts(&why, "unavailable: this version does not capture it");
		else if (slot->load_error)
			strbuf_printf(&why, "unavailable: %s", slot->load_error);
		else if (slot->attach_error)
			strbuf_printf(&why, "unavailable: %s", slot->attach_error);
		else
			strbuf_puts(&why, "unavailable");
		report_line(report, id, why.data);
		strbuf_release(&why);
	}
	return unavailable;
}

/* The sources' time-driven work (capture_source.tick). */
static void run_ticks(struct capture *cap)
{
	for (size_t i = 0; i < SOURCE_COUNT; i++) {
		struct capture_slot *slot = &cap->slots[i];

		if (slot->loaded && slot->attached && slot->source->tick)
			slot->source->tick(slot->handle.state, cap->env);
	}
}

int capture_poll(struct capture *cap, int timeout_ms)
{
	run_ticks(cap);
	/* a backlog is read at once, without waiting; otherwise wait, then read
	 * everything, also records submitted without a wake-up (capture.bpf.h) */
	bool backlog = cap->backlog;
	cap->backlog = false;
	if (!cap->process_ring && !cap->other_rings) {
		/* nothing loaded: just wait, so the caller's loop keeps its pace */
		return poll(NULL, 0, timeout_ms) < 0 ? -1 : 0;
	}
	if (!backlog && wait_rings(cap, timeout_ms) < 0)
		return -1;
	return read_rings(cap);
}

void capture_stop(struct capture *cap)
{
	struct strbuf err = STRBUF_INIT;

	for (size_t i = 0; i < SOURCE_COUNT; i++) {
		struct capture_slot *slot = &cap->slots[i];

		if (slot->loaded && slot->attached) {
			slot->source->set_events(slot->handle.state, 0, &err);
			slot->attached = 0;
		}
	}
	strbuf_release(&err);
}

int capture_drain(struct capture *cap)
{
	cap->backlog = false;
	return read_rings(cap);
}

void capture_lost(struct capture *cap, uint64_t lost[CAPTURE_EVENT_SLOTS])
{
	memset(lost, 0, sizeof(uint64_t) * CAPTURE_EVENT_SLOTS);
	for (size_t i = 0; i < SOURCE_COUNT; i++) {
		struct capture_slot *slot = &cap->slots[i];

		if (!slot->loaded)
			continue;
		for (uint32_t id = 0; id < CAPTURE_EVENT_SLOTS; id++) {
			if (!(slot->source->event_mask & CAPTURE_EVENT_BIT(id)))
				continue;
			if (bpf_map_lookup_elem(slot->handle.lost_fd, &id, cap->percpu) != 0)
				continue;
			for (int cpu = 0; cpu < cap->ncpus; cpu++)
				lost[id] += cap->percpu[cpu];
		}
	}
}
