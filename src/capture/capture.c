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
 *
 * Pins (capture_pin(), docs/restart.md), under DIR/SOURCE:
 *   control            the capture_control map, shared by every generation
 *   OBJECT/map_NAME    the maps of one build of the object (OBJECT: a hash
 *                      of its ELF), .rodata excepted (each loader's own)
 *   link_TGID_ID       the links the daemon TGID attached
 * A loader that finds them shares OBJECT's maps if it is the same build, so
 * that it reads the old ring where the old reader stopped; otherwise it
 * counts what the old ring holds after the handover.  The handover: its own
 * programs attached (still idle: control names the old loader), control's
 * active_tgid set to it (from that store on exactly one generation records
 * each event), then the old links unpinned, which detaches them.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/magic.h>

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

/* Room for DIR/SOURCE/OBJECT: capture_pin() takes a DIR of at most
 * PIN_ROOT_MAX bytes. */
#define PIN_ROOT_MAX 128
#define PIN_DIR_MAX 256

struct capture_slot {
	const struct capture_source *source;
	struct capture *owner;
	bool loaded;
	char *load_error;           /* why it could not be loaded; kept, not retried */
	struct capture_loaded handle;
	uint32_t attached;          /* ids whose programs are attached */
	char *attach_error;         /* why the last set_events failed, NULL if it did not */
	/* pins (capture_pin()); pin_dir NULL when not pinning */
	char *pin_dir;              /* DIR/SOURCE */
	struct bpf_object *obj;     /* the loaded object, for its maps and programs */
	bool adopting;              /* a previous daemon's state is to be taken over */
	bool same_object;           /* ... and it is this build: its maps are shared */
	char old_object_dir[PIN_DIR_MAX];  /* otherwise, the old build's pins */
	uint64_t lost_base[CAPTURE_EVENT_SLOTS];     /* of lost_events, reported before us */
	uint64_t lost_carried[CAPTURE_EVENT_SLOTS];  /* an old build's unreported losses */
	uint64_t skipped_seen;      /* its programs' recursion misses reported so far */
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
	char *pin_root;             /* capture_pin()'s DIR, NULL when not pinning */
	bool keep_pins;             /* capture_keep() */
	uint64_t dropped;           /* capture_take_dropped() */
};

/* The slot whose source is being loaded (capture_load() adopts for it). */
static struct capture_slot *loading_slot;

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
#define DEBUGFS_DIR "/sys/kernel/debug"

bool capture_tracefs_available(void)
{
	if (access(TRACEFS_DIR "/events", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return true;
	return mount("tracefs", TRACEFS_DIR, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0 &&
	       access(TRACEFS_DIR "/events", F_OK) == 0;
}

bool capture_kernel_has_task_pt_regs(void)
{
	static int known = -1;

	if (known < 0)
		known = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_pt_regs, NULL) == 1;
	return known;
}

bool capture_kernel_has_loop(void)
{
	static int known = -1;

	if (known < 0)
		known = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_loop, NULL) == 1;
	return known;
}

/* The first line of PATH into BUF (empty if unreadable). */
static void read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)size, f))
			buf[0] = 0;
		fclose(f);
	}
}

/* Does the config of kernel RELEASE, in its chosen preemption model, say
 * so (a CONFIG_PREEMPT_DYNAMIC kernel's default)?  -1: no config to read. */
static int config_preempts(const char *release)
{
	char path[300], line[256];
	int verdict = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/boot/config-%s", release);
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strcmp(line, "CONFIG_PREEMPT_NONE=y\n") == 0 || strcmp(line, "CONFIG_PREEMPT_VOLUNTARY=y\n") == 0)
			verdict = 0;
		else if (strcmp(line, "CONFIG_PREEMPT=y\n") == 0 || strcmp(line, "CONFIG_PREEMPT_LAZY=y\n") == 0 ||
			 strcmp(line, "CONFIG_PREEMPT_RT=y\n") == 0)
			verdict = 1;
	fclose(f);
	return verdict;
}

bool capture_preemption_verdict(const char *mode, const char *cmdline, const char *version, int config)
{
	if (strstr(mode, "(none)") || strstr(mode, "(voluntary)"))
		return false;
	if (strstr(mode, "(full)") || strstr(mode, "(lazy)"))
		return true;
	if (strstr(cmdline, "preempt=none") || strstr(cmdline, "preempt=voluntary"))
		return false;
	if (strstr(cmdline, "preempt=full") || strstr(cmdline, "preempt=lazy"))
		return true;
	if (strstr(version, "PREEMPT_RT"))
		return true;
	if (strstr(version, "PREEMPT_DYNAMIC"))
		return config != 0;   /* unknown: as if it did */
	return strstr(version, " PREEMPT ") != NULL;
}

bool capture_kernel_preempts_programs(void)
{
	static int known = -1;
	char mode[128], cmdline[4096];
	struct utsname u;

	if (known >= 0)
		return known;
	/* a dynamic kernel's mode now: "none voluntary (full) lazy" */
	read_line(DEBUGFS_DIR "/sched/preempt", mode, sizeof(mode));
	if (!mode[0] && mount("debugfs", DEBUGFS_DIR, "debugfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
		read_line(DEBUGFS_DIR "/sched/preempt", mode, sizeof(mode));
	read_line("/proc/cmdline", cmdline, sizeof(cmdline));
	known = uname(&u) != 0 || capture_preemption_verdict(mode, cmdline, u.version, config_preempts(u.release));
	return known;
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

bool capture_btf_first_arg_is_struct(const struct btf *btf, const char *function)
{
	int id = btf ? btf__find_by_name_kind(btf, function, BTF_KIND_FUNC) : -1;
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, btf__type_by_id(btf, id)->type) : NULL;

	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return false;
	t = btf__type_by_id(btf, btf_params(t)[0].type);
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(btf, btf__resolve_type(btf, t->type));
	return t && btf_is_struct(t);
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

/* --- pins across a restart (see the top of this file) --- */

static bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Is map NAME one a later generation shares?  .rodata is each loader's own
 * (its monitor_tgid), .kconfig the kernel's. */
static bool map_is_shared(const char *name)
{
	return !strstr(name, ".rodata") && !strstr(name, ".kconfig");
}

/* bpffs refuses names with a dot: ".bss" maps are pinned as map_NAME_bss. */
static void map_pin_path(char path[PATH_MAX], const char dir[PIN_DIR_MAX], const struct bpf_map *map)
{
	int at = snprintf(path, PATH_MAX, "%.*s/map_", PIN_DIR_MAX, dir);

	snprintf(path + at, PATH_MAX - (size_t)at, "%s", bpf_map__name(map));
	for (char *c = path + at; *c; c++)
		if (*c == '.')
			*c = '_';
}

/* Make MAP use the map pinned at PATH.  Returns 0, or -1 (none there, or
 * one libbpf refuses). */
static int reuse_pinned(struct bpf_map *map, const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return -1;
	int rc = bpf_map__reuse_fd(map, fd);
	close(fd);
	return rc == 0 ? 0 : -1;
}

static int read_control(const struct capture_slot *slot, struct sysmon_control *control)
{
	uint32_t key = 0;
	struct bpf_map *map = bpf_object__find_map_by_name(slot->obj, "capture_control");

	return map ? bpf_map_lookup_elem(bpf_map__fd(map), &key, control) : -1;
}

static int write_control(const struct capture_slot *slot, const struct sysmon_control *control)
{
	uint32_t key = 0;
	struct bpf_map *map = bpf_object__find_map_by_name(slot->obj, "capture_control");

	return map ? bpf_map_update_elem(bpf_map__fd(map), &key, control, BPF_ANY) : -1;
}

/* Sum the per-CPU lost_events counters of map FD into TOTAL. */
static void read_lost(struct capture *cap, int fd, uint32_t event_mask,
		      uint64_t total[CAPTURE_EVENT_SLOTS])
{
	memset(total, 0, sizeof(uint64_t) * CAPTURE_EVENT_SLOTS);
	for (uint32_t id = 0; id < CAPTURE_EVENT_SLOTS; id++) {
		if (!(event_mask & CAPTURE_EVENT_BIT(id)) ||
		    bpf_map_lookup_elem(fd, &id, cap->percpu) != 0)
			continue;
		for (int cpu = 0; cpu < cap->ncpus; cpu++)
			total[id] += cap->percpu[cpu];
	}
}

/* Remove the pins in DIR (a file or a directory tree). */
static void unpin_tree(const char *dir)
{
	DIR *d = opendir(dir);

	if (!d) {
		unlink(dir);
		return;
	}
	for (struct dirent *e; (e = readdir(d));) {
		char path[PATH_MAX];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			unpin_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Unpin the links of SLOT's directory: those of daemon TGID (OTHERS
 * false), or those of every other daemon (OTHERS true). */
static void unpin_links(const struct capture_slot *slot, uint32_t tgid, bool others)
{
	char mine[32];
	DIR *d = opendir(slot->pin_dir);

	if (!d)
		return;
	snprintf(mine, sizeof(mine), "link_%" PRIu32 "_", tgid);
	for (struct dirent *e; (e = readdir(d));) {
		char path[PATH_MAX];

		if (strncmp(e->d_name, "link_", 5) != 0 ||
		    (strncmp(e->d_name, mine, strlen(mine)) == 0) == others)
			continue;
		snprintf(path, sizeof(path), "%s/%s", slot->pin_dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

/* Pin every link attached to one of SLOT's programs as link_TGID_ID. */
static void pin_links(const struct capture_slot *slot, uint32_t tgid)
{
	uint32_t prog_ids[64];
	size_t nprogs = 0;
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, slot->obj) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_program__fd(prog) >= 0 && nprogs < sizeof(prog_ids) / sizeof(prog_ids[0]) &&
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
			prog_ids[nprogs++] = info.id;
	}
	for (uint32_t id = 0; bpf_link_get_next_id(id, &id) == 0;) {
		int fd = bpf_link_get_fd_by_id(id);
		struct bpf_link_info info;
		uint32_t len = sizeof(info);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
			for (size_t i = 0; i < nprogs; i++) {
				char path[PATH_MAX];

				if (info.prog_id != prog_ids[i])
					continue;
				snprintf(path, sizeof(path), "%s/link_%" PRIu32 "_%" PRIu32, slot->pin_dir,
					 tgid, id);
				if (bpf_obj_pin(fd, path) != 0 && errno != EEXIST)
					fprintf(stderr, "sysmon: pinning a %s link at %s failed: %s\n",
						slot->source->name, path, strerror(errno));
			}
		}
		close(fd);
	}
}

/* The old build's directory in SLOT's pins other than OBJECT_DIR, if any. */
static bool find_old_object(const struct capture_slot *slot, const char *object_dir,
			    char old[PIN_DIR_MAX])
{
	DIR *d = opendir(slot->pin_dir);
	bool found = false;

	if (!d)
		return false;
	for (struct dirent *e; !found && (e = readdir(d));) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(old, PIN_DIR_MAX, "%s/%.64s", slot->pin_dir, e->d_name);
		found = strcmp(old, object_dir) != 0;
	}
	closedir(d);
	return found;
}

/* FNV-1a: which build of an object this is. */
static uint64_t object_id(const void *data, size_t size)
{
	uint64_t hash = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < size; i++)
		hash = (hash ^ ((const unsigned char *)data)[i]) * 0x100000001b3ull;
	return hash;
}

int capture_load(struct bpf_object_skeleton *s)
{
	struct capture_slot *slot = loading_slot;
	struct bpf_object *obj = *s->obj;
	char object_dir[PIN_DIR_MAX], path[PATH_MAX];
	struct bpf_map *map;

	if (!slot)
		return -EINVAL;   /* loads are capture_set_events()'s */
	slot->obj = obj;
	if (!slot->pin_dir) {
		int rc = bpf_object__load_skeleton(s);
		struct sysmon_control control = { .active_tgid = slot->owner->env->monitor_tgid,
						  .monitor_tgid = slot->owner->env->monitor_tgid };

		if (rc != 0)
			return rc;
		return write_control(slot, &control) == 0 ? 0 : -errno;
	}
	snprintf(object_dir, sizeof(object_dir), "%s/%016" PRIx64, slot->pin_dir,
		 object_id(s->data, s->data_sz));
	if (mkdir(slot->pin_dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/control", slot->pin_dir);
	map = bpf_object__find_map_by_name(obj, "capture_control");
	if (!map)
		return -ENOENT;
	slot->adopting = reuse_pinned(map, path) == 0;
	slot->same_object = slot->adopting && path_exists(object_dir);
	slot->old_object_dir[0] = '\0';
	if (slot->same_object) {
		bpf_object__for_each_map(map, obj) {
			if (!map_is_shared(bpf_map__name(map)) || map == bpf_object__find_map_by_name(obj, "capture_control"))
				continue;
			map_pin_path(path, object_dir, map);
			reuse_pinned(map, path);
		}
	} else if (slot->adopting && !find_old_object(slot, object_dir, slot->old_object_dir)) {
		slot->old_object_dir[0] = '\0';
	}
	int rc = bpf_object__load_skeleton(s);
	if (rc != 0)
		return rc;

	if (mkdir(object_dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);

		if (!map_is_shared(name))
			continue;
		if (strcmp(name, "capture_control") == 0)
			snprintf(path, sizeof(path), "%s/control", slot->pin_dir);
		else
			map_pin_path(path, object_dir, map);
		if (bpf_obj_pin(bpf_map__fd(map), path) != 0 && errno != EEXIST)
			return -errno;
	}

	uint32_t me = slot->owner->env->monitor_tgid;
	struct sysmon_control control;

	if (read_control(slot, &control) != 0)
		return -errno;
	if (!slot->adopting) {
		memset(&control, 0, sizeof(control));
		control.active_tgid = me;
	} else if (control.active_tgid == me) {
		control.active_tgid = 0;   /* an old loader with our pid: idle until the handover */
	}
	if (slot->same_object)
		memcpy(slot->lost_base, control.lost_reported, sizeof(slot->lost_base));
	control.monitor_tgid = me;
	return write_control(slot, &control) == 0 ? 0 : -errno;
}

static int count_record(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	++*(uint64_t *)ctx;
	return 0;
}

/* Take over from the previous daemon, once SLOT's own programs are
 * attached: the store that makes them the recording ones, then the old
 * links' detachment; an old build's ring is counted empty (nothing writes
 * to it any more) and its pins removed. */
static void hand_over(struct capture *cap, struct capture_slot *slot)
{
	struct sysmon_control control;
	uint32_t me = cap->env->monitor_tgid;

	if (!slot->adopting || read_control(slot, &control) != 0)
		return;
	slot->adopting = false;
	uint32_t previous = control.active_tgid;
	control.active_tgid = me;
	if (!slot->same_object) {
		char path[PATH_MAX];
		int fd;

		snprintf(path, sizeof(path), "%.*s/map_lost_events", PIN_DIR_MAX, slot->old_object_dir);
		if (slot->old_object_dir[0] && (fd = bpf_obj_get(path)) >= 0) {
			read_lost(cap, fd, slot->source->event_mask, slot->lost_carried);
			for (int id = 0; id < CAPTURE_EVENT_SLOTS; id++)
				slot->lost_carried[id] -= slot->lost_carried[id] >= control.lost_reported[id]
					? control.lost_reported[id] : slot->lost_carried[id];
			close(fd);
		}
		memset(control.lost_reported, 0, sizeof(control.lost_reported));
	}
	write_control(slot, &control);
	unpin_links(slot, me, true);
	if (!slot->same_object && slot->old_object_dir[0]) {
		char path[PATH_MAX];
		uint64_t records = 0;

		snprintf(path, sizeof(path), "%.*s/map_events", PIN_DIR_MAX, slot->old_object_dir);
		int fd = bpf_obj_get(path);
		struct ring_buffer *old = fd >= 0 ? ring_buffer__new(fd, count_record, &records, NULL) : NULL;
		while (old && ring_buffer__consume(old) > 0)
			;
		ring_buffer__free(old);
		if (fd >= 0)
			close(fd);
		unpin_tree(slot->old_object_dir);
		cap->dropped += records;
		if (records)
			fprintf(stderr, "sysmon: %s: %" PRIu64 " records of the previous daemon's "
				"different eBPF build were not decoded\n", slot->source->name, records);
	}
	fprintf(stderr, "sysmon: %s: took over from the previous daemon (pid %" PRIu32 ")%s\n",
		slot->source->name, previous,
		slot->same_object ? ", reading its ring where it stopped" : "");
}

int capture_pin(struct capture *cap, const char *dir, struct strbuf *err)
{
	struct statfs fs;

	if (strlen(dir) > PIN_ROOT_MAX) {
		strbuf_printf(err, "%s: longer than %d bytes", dir, PIN_ROOT_MAX);
		return -1;
	}
	if (strncmp(dir, "/sys/fs/bpf/", 12) == 0 &&
	    (statfs("/sys/fs/bpf", &fs) != 0 || fs.f_type != BPF_FS_MAGIC) &&
	    mount("bpf", "/sys/fs/bpf", "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") != 0) {
		strbuf_printf(err, "mounting bpffs at /sys/fs/bpf failed: %s", strerror(errno));
		return -1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		strbuf_printf(err, "%s: cannot create: %s", dir, strerror(errno));
		return -1;
	}
	if (statfs(dir, &fs) != 0 || fs.f_type != BPF_FS_MAGIC) {
		strbuf_printf(err, "%s: not in a bpffs", dir);
		return -1;
	}
	free(cap->pin_root);
	cap->pin_root = xstrdup(dir);
	for (size_t i = 0; i < SOURCE_COUNT; i++) {
		struct capture_slot *slot = &cap->slots[i];
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, slot->source->name);
		free(slot->pin_dir);
		slot->pin_dir = xstrdup(path);
	}
	return 0;
}

void capture_keep(struct capture *cap)
{
	cap->keep_pins = true;
}

uint64_t capture_take_dropped(struct capture *cap)
{
	uint64_t dropped = cap->dropped;

	cap->dropped = 0;
	return dropped;
}

/* The runs of P that the kernel skipped (recursion_misses: P was already
 * running on that CPU, interrupted or preempted). */
static uint64_t program_misses(const struct bpf_program *prog)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = prog ? bpf_program__fd(prog) : -1;

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
		return 0;
	return info.recursion_misses;
}

/* The events that OBJ's loaded programs may have lost to skipped runs since
 * *SEEN, which is moved on; the programs concerned are appended to NAMES.
 * A program P with a twin P_twin (a second program on the same hook doing
 * the same, so that a nested event finds one of them idle) lost an event
 * only where both were skipped: at most the smaller of their counts. */
static uint64_t skipped_runs(struct bpf_object *obj, uint64_t *seen, struct strbuf *names)
{
	static const char twin_suffix[] = "_twin";
	struct bpf_program *prog;
	uint64_t total = 0, before = *seen;

	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		size_t len = strlen(name);

		if (len >= sizeof(twin_suffix) - 1 &&
		    strcmp(name + len - (sizeof(twin_suffix) - 1), twin_suffix) == 0)
			continue;
		uint64_t misses = program_misses(prog);
		const struct bpf_program *twin = capture_twin_of(obj, prog);
		if (twin && bpf_program__fd(twin) >= 0) {
			uint64_t twin_misses = program_misses(twin);
			misses = misses < twin_misses ? misses : twin_misses;
		}
		if (!misses)
			continue;
		total += misses;
		strbuf_printf(names, "%s%s", names->len ? ", " : "", name);
	}
	*seen = total;
	return total > before ? total - before : 0;
}

uint64_t capture_take_skipped(struct capture *cap, struct strbuf *programs)
{
	uint64_t skipped = 0;

	for (size_t i = 0; i < SOURCE_COUNT; i++) {
		struct capture_slot *slot = &cap->slots[i];
		struct strbuf names = STRBUF_INIT;

		if (!slot->loaded || !slot->obj)
			continue;
		uint64_t more = skipped_runs(slot->obj, &slot->skipped_seen, &names);
		if (more) {
			skipped += more;
			strbuf_printf(programs, "%s%s (%s)", programs->len ? "; " : "",
				      slot->source->name, strbuf_str(&names));
		}
		strbuf_release(&names);
	}
	return skipped;
}

int capture_unpin_all(const char *dir, struct strbuf *err)
{
	struct statfs fs;

	if (statfs(dir, &fs) != 0) {
		if (errno == ENOENT)
			return 0;
		strbuf_printf(err, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (fs.f_type != BPF_FS_MAGIC) {
		strbuf_printf(err, "%s: not in a bpffs, left alone", dir);
		return -1;
	}
	unpin_tree(dir);
	if (path_exists(dir)) {
		strbuf_printf(err, "%s: could not remove every pin", dir);
		return -1;
	}
	return 0;
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
			slot->source->loader->unload(slot->handle.state);
		free(slot->load_error);
		free(slot->attach_error);
		free(slot->pin_dir);
	}
	/* a clean stop: nothing is left for a next daemon */
	if (cap->pin_root && !cap->keep_pins)
		unpin_tree(cap->pin_root);
	free(cap->pin_root);
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

static int load_slot(struct capture *cap, struct capture_slot *slot)
{
	struct strbuf err = STRBUF_INIT;

	loading_slot = slot;
	int loaded = capture_load_source(slot->source->loader, cap->env, &slot->handle, &err);
	loading_slot = NULL;
	if (loaded != 0) {
		slot->adopting = false;
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
		slot->source->loader->unload(slot->handle.state);
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
		/* a previous daemon's pins are taken over even when unwanted now */
		bool pinned = slot->pin_dir && path_exists(slot->pin_dir);
		if ((mask || pinned) && !slot->loaded && !slot->load_error)
			load_slot(cap, slot);
		if (!slot->loaded)
			continue;
		if (mask != slot->attached) {
			struct strbuf err = STRBUF_INIT;
			free(slot->attach_error);
			slot->attach_error = NULL;
			/* pins of links the source lets go would keep them attached */
			if (slot->pin_dir)
				unpin_links(slot, cap->env->monitor_tgid, false);
			if (slot->source->set_events(slot->handle.state, mask, &err) == 0) {
				slot->attached = mask;
			} else {
				slot->attach_error = xstrdup(err.len ? err.data : "attaching its eBPF programs failed");
				slot->attached = 0;
				slot->source->set_events(slot->handle.state, 0, &err);
			}
			if (slot->pin_dir)
				pin_links(slot, cap->env->monitor_tgid);
			strbuf_release(&err);
		}
		hand_over(cap, slot);
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
			if (slot->pin_dir)
				unpin_links(slot, cap->env->monitor_tgid, false);
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
		uint64_t total[CAPTURE_EVENT_SLOTS];

		if (!slot->loaded)
			continue;
		read_lost(cap, slot->handle.lost_fd, slot->source->event_mask, total);
		for (uint32_t id = 0; id < CAPTURE_EVENT_SLOTS; id++)
			lost[id] += total[id] - slot->lost_base[id] + slot->lost_carried[id];
		/* what the caller reports now, the next daemon does not again */
		struct sysmon_control control;
		if (slot->pin_dir && !slot->adopting && read_control(slot, &control) == 0) {
			memcpy(control.lost_reported, total, sizeof(total));
			write_control(slot, &control);
		}
	}
}
