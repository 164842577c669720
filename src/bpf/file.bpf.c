// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel half of the file source: FileCreateTime (2), RawAccessRead (9),
 * FileCreate (11), FileDelete (23) and FileDeleteDetected (26).  Records
 * (bpf/file.h) go through the capture framework's ring buffer to
 * src/capture/file_source.c.  Where the kernel runs fexit programs, opens,
 * unlinks, links, symlinks and renames are watched at the kernel functions
 * every way of making them goes through, io_uring's included (see "kernel
 * functions" below), and the other calls at the return of their own
 * syscall functions; else every call at sys_exit (BTF tracepoint).
 * "sys_exit" below means a syscall's exit either way; the records are the
 * same whichever hook made them.
 *
 * How each event is decided, in the kernel, at the call:
 *  - open/openat/openat2/creat, at sys_exit, from the returned descriptor's
 *    struct file: the kernel sets FMODE_CREATED in f_mode exactly when this
 *    open created the file (it is what fsnotify's IN_CREATE relies on), so a
 *    FileCreate for a new file is never a guess from timestamps.  O_TRUNC of
 *    an existing regular file is an overwrite (FileCreate too).  An inode
 *    that is a block device opened for reading is a RawAccessRead.  The path
 *    is the struct file's own (dentry walk): absolute, symlinks resolved.
 *    O_TMPFILE opens have no name; the linkat that names them is reported.
 *  - link/linkat/symlink/symlinkat, mknod/mknodat of a regular file, at
 *    sys_exit with success: FileCreate of the new name.
 *  - unlink/unlinkat, rename/renameat/renameat2, utime/utimes/futimesat/
 *    utimensat need the inode behind a name, which a syscall tracepoint
 *    cannot look up.  The kernel updates the ctime of every inode such a call
 *    changes (the unlinked file, the renamed and the replaced file, the file
 *    whose times are set) through inode_set_ctime_current(), which fires one
 *    of the tracepoints inode_set_ctime_to_ts, ctime_xchg_skip or
 *    ctime_ns_xchg (6.13 on).  When the thread changing a ctime is inside one
 *    of these calls (the syscall number in its saved user registers says
 *    so), those tracepoints note the inode in the call's per-thread journal:
 *    mode, identity and the mtime at that moment (before a utimes call
 *    stores the new one, on file systems with multigrain timestamps: ext4,
 *    xfs, btrfs, tmpfs).  A kernel without these tracepoints that runs
 *    fentry programs notes the same inodes at the entry of the functions
 *    every such call goes through: vfs_unlink (the unlinked file),
 *    vfs_rename (the renamed file and the one it replaces), vfs_utimes (the
 *    target, its mtime still the previous one on every file system).  At
 *    sys_exit the journal says: the unlinked file's mode; whether a rename replaced an existing file (two
 *    non-directory inodes touched) or moved onto a free name (one); the
 *    previous mtime of the file whose times were set.  A call through a
 *    stacked file system (inodes of two devices) answers less: see
 *    journal_ambiguous().
 * The target path of a name-based call is the absolute path of the
 * directory the name is resolved from (dirfd, working directory, or the
 * process's root for an absolute name; walked from its dentry at sys_exit),
 * '/', and the name as passed.
 *
 * 32-bit (ia32) calls are mapped to the native numbers with their own
 * registers and time structures (read_call), never read as native ones.
 *
 * Filtering: `enabled_events` (set by user space from the config) drops
 * every record of an event type the config can never log before any work;
 * the monitor's own activity is never reported.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/capture.bpf.h"
#include "bpf/file.h"
#include "bpf/lib/fd.bpf.h"
#include "bpf/lib/path.bpf.h"
#include "bpf/lib/syscalls.bpf.h"
#include "bpf/lib/twin.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Event ids (bits of enabled_events) user space wants now. */
__u32 enabled_events = 0;

#define BIT(id) (1u << (id))
#define DELETE_BITS (BIT(FILE_EVENT_DELETE) | BIT(FILE_EVENT_DELETE_DETECTED))

#define O_WRONLY_FLAG 01
#define O_CREAT_FLAG 0100
#define O_TRUNC_FLAG 01000
#define O_TMPFILE_BIT 020000000       /* __O_TMPFILE, the same on both */
#define AT_FDCWD_VALUE (-100)
#define AT_REMOVEDIR_FLAG 0x200
#define RENAME_EXCHANGE_FLAG 2
#define UTIME_NOW_VALUE ((1l << 30) - 1l)
#define UTIME_OMIT_VALUE ((1l << 30) - 2l)
#define IOP_MGTIME_FLAG 0x0020
#define PF_KTHREAD_FLAG 0x00200000
#define FMODE_READ_BIT 0x1
#define FMODE_CREATED_BIT 0x100000
#define S_IFMT_BITS 0170000
#define S_IFREG_BITS 0100000
#define S_IFDIR_BITS 0040000
#define S_IFBLK_BITS 0060000
#define S_IFCHR_BITS 0020000

/* What the exit of a syscall leads to. */
enum call_kind {
	CALL_NOT_WATCHED = 0,
	CALL_OPEN,              /* on_open */
	CALL_NEW_NAME,          /* on_new_name */
	CALL_JOURNALED,         /* on_journaled: its inodes are in the journal */
};

/* The kind of syscall NR, a native number.  The switch keeps every other
 * syscall's cost at a few instructions. */
static __always_inline enum call_kind call_kind(long nr)
{
	switch (nr) {
	case NR_OPEN:
	case NR_OPENAT:
	case NR_OPENAT2:
	case NR_CREAT:
		return CALL_OPEN;
	case NR_LINK:
	case NR_LINKAT:
	case NR_SYMLINK:
	case NR_SYMLINKAT:
	case NR_MKNOD:
	case NR_MKNODAT:
		return CALL_NEW_NAME;
	case NR_UNLINK:
	case NR_UNLINKAT:
	case NR_RENAME:
	case NR_RENAMEAT:
	case NR_RENAMEAT2:
	case NR_UTIME:
	case NR_UTIMES:
	case NR_FUTIMESAT:
	case NR_UTIMENSAT:
		return CALL_JOURNALED;
	default:
		return CALL_NOT_WATCHED;
	}
}

/* A syscall as this file reads it: the native number of the call (a
 * 32-bit call mapped to it) and its first five arguments. */
struct call_args {
	long nr;
	unsigned long arg[5];
	bool times32;           /* times are 32-bit structs (ia32 utime family) */
	bool bounded_loops;     /* walk paths and patterns without bpf_loop (a constant) */
};

#if defined(__TARGET_ARCH_x86)
/* The native number of an i386 syscall this file watches, else -1. */
static __always_inline long ia32_call(long nr)
{
	switch (nr) {
	case IA32_NR_OPEN: return NR_OPEN;
	case IA32_NR_CREAT: return NR_CREAT;
	case IA32_NR_LINK: return NR_LINK;
	case IA32_NR_UNLINK: return NR_UNLINK;
	case IA32_NR_MKNOD: return NR_MKNOD;
	case IA32_NR_UTIME: return NR_UTIME;
	case IA32_NR_RENAME: return NR_RENAME;
	case IA32_NR_SYMLINK: return NR_SYMLINK;
	case IA32_NR_UTIMES: return NR_UTIMES;
	case IA32_NR_OPENAT: return NR_OPENAT;
	case IA32_NR_MKNODAT: return NR_MKNODAT;
	case IA32_NR_FUTIMESAT: return NR_FUTIMESAT;
	case IA32_NR_UNLINKAT: return NR_UNLINKAT;
	case IA32_NR_RENAMEAT: return NR_RENAMEAT;
	case IA32_NR_LINKAT: return NR_LINKAT;
	case IA32_NR_SYMLINKAT: return NR_SYMLINKAT;
	case IA32_NR_UTIMENSAT: return NR_UTIMENSAT;
	case IA32_NR_UTIMENSAT_TIME64: return NR_UTIMENSAT;
	case IA32_NR_RENAMEAT2: return NR_RENAMEAT2;
	case IA32_NR_OPENAT2: return NR_OPENAT2;
	default: return -1;
	}
}
#endif

/* Fill C from the saved user registers REGS of TASK.  Returns false for a
 * call this file does not watch. */
static __always_inline bool read_call(struct task_struct *task, struct pt_regs *regs, struct call_args *c)
{
	long nr = SYSCALL_NR(regs);

	if (IN_COMPAT_SYSCALL(task, regs)) {
#if defined(__TARGET_ARCH_x86)
		c->nr = ia32_call(nr);
		c->arg[0] = COMPAT_ARG1(regs);
		c->arg[1] = COMPAT_ARG2(regs);
		c->arg[2] = COMPAT_ARG3(regs);
		c->arg[3] = COMPAT_ARG4(regs);
		c->arg[4] = COMPAT_ARG5(regs);
		c->times32 = nr != IA32_NR_UTIMENSAT_TIME64;
		return c->nr >= 0;
#else
		return false;
#endif
	}
	if (call_kind(nr) == CALL_NOT_WATCHED)
		return false;
	c->nr = nr;
	c->arg[0] = SYSCALL_ARG1(regs);
	c->arg[1] = SYSCALL_ARG2(regs);
	c->arg[2] = SYSCALL_ARG3(regs);
	c->arg[3] = SYSCALL_ARG4(regs);
	c->arg[4] = SYSCALL_ARG5(regs);
	c->times32 = false;
	return true;
}

/* ------------------------------------------------------------------ */
/* The per-thread journal of inodes whose ctime a call changed.        */

/* A ring of the last inodes noted: a call touches a few (a stacked file
 * system more: see journal_ambiguous). */
#define JOURNAL_INODES 8

struct journal_inode {
	__u64 ino;
	__s64 mtime_sec;        /* when the ctime changed, before any new mtime */
	__u32 mtime_nsec;
	__u32 mode;
	__u32 dev;
	__u32 mtime_before;     /* mtime_* is the one before a utimes call (see on_utime) */
};

struct journal {
	__u32 count;            /* inodes noted; the last JOURNAL_INODES are kept */
	__u32 keep_dirs;        /* utimes: the target may be a directory */
	struct journal_inode inodes[JOURNAL_INODES];
};

/* The journal of a watched call that touched no inode. */
static const struct journal empty_journal = {};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	/* threads inside a watched call at once: evicting one only loses
	 * what its call touched (about 0.7 MB) */
	__uint(max_entries, 2048);
	__type(key, __u32);                 /* thread id */
	__type(value, struct journal);
} journals SEC(".maps");

/* Unlinks and renames are seen at their vfs functions (file_unlinked,
 * file_renamed), not at their syscalls' exits: set by user space before
 * loading. */
const volatile bool names_at_vfs = false;

/* Is call C one whose inodes are journaled? */
static __always_inline bool wants_journal(const struct call_args *c, __u32 mask)
{
	switch (c->nr) {
	case NR_UNLINK:
		return !names_at_vfs && (mask & DELETE_BITS);
	case NR_UNLINKAT:
		return !names_at_vfs && (mask & DELETE_BITS) && !(c->arg[2] & AT_REMOVEDIR_FLAG);
	case NR_RENAME:
	case NR_RENAMEAT:
		return !names_at_vfs && (mask & (DELETE_BITS | BIT(FILE_EVENT_CREATE)));
	case NR_RENAMEAT2:
		return !names_at_vfs && (mask & (DELETE_BITS | BIT(FILE_EVENT_CREATE))) &&
		       !(c->arg[4] & RENAME_EXCHANGE_FLAG);
	case NR_UTIME:
	case NR_UTIMES:
	case NR_FUTIMESAT:
	case NR_UTIMENSAT:
		return mask & BIT(FILE_EVENT_CREATE_TIME);
	default:
		return false;
	}
}

static __always_inline bool is_utime_call(long nr)
{
	return nr == NR_UTIME || nr == NR_UTIMES || nr == NR_FUTIMESAT || nr == NR_UTIMENSAT;
}

/* Older layouts of struct inode's mtime: a timespec64 named __i_mtime
 * (6.7 to 6.10) or i_mtime (before). */
struct inode___mtime_dunder {
	struct timespec64 __i_mtime;
} __attribute__((preserve_access_index));

struct inode___mtime_timespec {
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

static __always_inline void read_mtime(struct inode *inode, struct journal_inode *e)
{
	struct inode___mtime_dunder *dunder = (void *)inode;
	struct inode___mtime_timespec *timespec = (void *)inode;

	if (bpf_core_field_exists(inode->i_mtime_sec)) {
		e->mtime_sec = BPF_CORE_READ(inode, i_mtime_sec);
		e->mtime_nsec = BPF_CORE_READ(inode, i_mtime_nsec);
	} else if (bpf_core_field_exists(dunder->__i_mtime)) {
		e->mtime_sec = BPF_CORE_READ(dunder, __i_mtime.tv_sec);
		e->mtime_nsec = BPF_CORE_READ(dunder, __i_mtime.tv_nsec);
	} else {
		e->mtime_sec = BPF_CORE_READ(timespec, i_mtime.tv_sec);
		e->mtime_nsec = BPF_CORE_READ(timespec, i_mtime.tv_nsec);
	}
}

/* INODE's ctime changes (BEFORE_CHANGE: at a vfs function's entry, is
 * about to): note it if the current thread is inside a watched call (its
 * syscall number is in its saved user registers), starting the call's
 * journal at its first inode.  sys_exit ends it. */
static __always_inline void journal_note(struct inode *inode, bool before_change)
{
	__u32 mask = enabled_events;

	if (!mask)
		return;
	struct task_struct *task = current_task();
	/* a kernel thread (writeback, a worker) makes no syscall */
	if (TASK_READ(task, flags) & PF_KTHREAD_FLAG)
		return;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct call_args c = {};
	if (!read_call(task, regs, &c) || !wants_journal(&c, mask))
		return;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (capture_is_monitor(pid_tgid >> 32))
		return;
	__u32 tid = (__u32)pid_tgid;
	struct journal *j = bpf_map_lookup_elem(&journals, &tid);
	if (!j) {
		struct journal fresh = { .keep_dirs = is_utime_call(c.nr) };

		bpf_map_update_elem(&journals, &tid, &fresh, BPF_NOEXIST);
		j = bpf_map_lookup_elem(&journals, &tid);
		if (!j)
			return;
	}
	__u32 mode = BPF_CORE_READ(inode, i_mode);
	__u64 ino = BPF_CORE_READ(inode, i_ino);
	__u32 dev = BPF_CORE_READ(inode, i_sb, s_dev);
	__u32 type = mode & S_IFMT_BITS;

	/* directories (the parents a call also touches) only where the call
	 * may target one; overlayfs whiteouts (0:0 character devices) never */
	if ((type == S_IFDIR_BITS && !j->keep_dirs) ||
	    (type == S_IFCHR_BITS && BPF_CORE_READ(inode, i_rdev) == 0))
		return;
	__u32 count = j->count;
	for (int i = 0; i < JOURNAL_INODES; i++)
		if (i < count && j->inodes[i].ino == ino && j->inodes[i].dev == dev)
			return;
	struct journal_inode *e = &j->inodes[count & (JOURNAL_INODES - 1)];
	e->ino = ino;
	e->mode = mode;
	e->dev = dev;
	read_mtime(inode, e);
	/* a multigrain inode's ctime is set before a new mtime (see on_utime) */
	e->mtime_before = before_change || (BPF_CORE_READ(inode, i_opflags) & IOP_MGTIME_FLAG);
	j->count = count + 1;
}

/* Entries of J still held (the ring keeps the last JOURNAL_INODES). */
static __always_inline __u32 journal_kept(const struct journal *j)
{
	return j->count < JOURNAL_INODES ? j->count : JOURNAL_INODES;
}

/* Did the call touch inodes of more than one file system, or more than the
 * ring holds?  Then it went through a stacked file system (overlayfs: its
 * own inodes, the real ones, copies made on the way) and the inodes do not
 * say which file was which. */
static __always_inline bool journal_ambiguous(const struct journal *j)
{
	__u32 kept = journal_kept(j);

	if (j->count > JOURNAL_INODES)
		return true;
	for (int i = 1; i < JOURNAL_INODES; i++)
		if ((__u32)i < kept && j->inodes[i].dev != j->inodes[0].dev)
			return true;
	return false;
}

/* inode_set_ctime_current() fires exactly one of these three on success
 * (file systems without multigrain timestamps: the first). */
SEC("tp_btf/inode_set_ctime_to_ts")
int BPF_PROG(file_ctime_set, struct inode *inode, struct timespec64 *ctime)
{
	journal_note(inode, false);
	return 0;
}

SEC("tp_btf/ctime_xchg_skip")
int BPF_PROG(file_ctime_skip, struct inode *inode, struct timespec64 *ctime)
{
	journal_note(inode, false);
	return 0;
}

SEC("tp_btf/ctime_ns_xchg")
int BPF_PROG(file_ctime_xchg, struct inode *inode, u32 old, u32 new, u32 cur)
{
	journal_note(inode, false);
	return 0;
}

/* Kernels without those tracepoints (before 6.13) that run fentry
 * programs: the same inodes, at the entry of the functions that every
 * unlink, rename and utimes goes through (their arguments as of 5.12). */
SEC("fentry/vfs_unlink")
int BPF_PROG(file_vfs_unlink, void *idmap, struct inode *dir, struct dentry *dentry)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);

	if (inode)
		journal_note(inode, true);
	return 0;
}

SEC("fentry/vfs_rename")
int BPF_PROG(file_vfs_rename, struct renamedata *rd)
{
	struct inode *source = BPF_CORE_READ(rd, old_dentry, d_inode);
	struct inode *target = BPF_CORE_READ(rd, new_dentry, d_inode);

	/* two names of one inode: the kernel changes nothing */
	if (!source || source == target)
		return 0;
	journal_note(source, true);
	if (target)
		journal_note(target, true);
	return 0;
}

SEC("fentry/vfs_utimes")
int BPF_PROG(file_vfs_utimes, const struct path *path)
{
	struct inode *inode = BPF_CORE_READ(path, dentry, d_inode);

	if (inode)
		journal_note(inode, true);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The record and its path.                                            */

struct file_scratch {
	struct file_record rec;       /* directly followed by data: sent as one */
	char data[FILE_DATA_SIZE];
	struct path_walk walk;
};

/* Each CPU's slots: one per program that fills a record, where the kernel
 * preempts programs (7.x) and another on that CPU may run meanwhile: the
 * open's end and its twin, the name changes' ends and their twins; the
 * syscalls' exits, of which a thread runs one at a time, share the last. */
enum scratch_slot { SLOT_OPEN = 0, SLOT_NAME = 2, SLOT_SYSCALL = 4, SCRATCH_SLOTS };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct file_scratch);
} scratch SEC(".maps");

PATH_WALKER(walk_path, scratch, FILE_DATA_MASK, FILE_PATH_MAX, false)

/* Write the absolute path of (DENTRY, VFSMNT) at the start of S->data;
 * returns its length.  A path whose beginning is missing sets
 * FILE_PATH_PARTIAL. */
static __always_inline __u32 write_path(struct file_scratch *s, __u32 *key, struct dentry *dentry,
					struct vfsmount *vfsmnt, bool bounded_loops)
{
	__u32 len = walk_path(s, key, 0, dentry, vfsmnt, bounded_loops);

	if (path_walk_partial(&s->walk))
		s->rec.flags |= FILE_PATH_PARTIAL;
	return len;
}

/* ------------------------------------------------------------------ */

/* The scratch record, its fixed part reset for record KIND; NULL, a loss
 * of event EVENT_ID counted, without one. */
static __always_inline struct file_scratch *new_record(__u32 *key, __u32 kind, __u32 how, __u32 tgid,
						       __u32 event_id)
{
	struct file_scratch *s = bpf_map_lookup_elem(&scratch, key);

	if (!s) {
		capture_count_lost(event_id);
		return NULL;
	}
	__builtin_memset(&s->rec, 0, sizeof(s->rec));
	s->rec.kind = kind;
	s->rec.how = how;
	s->rec.tgid = tgid;
	s->rec.uid = (__u32)bpf_get_current_uid_gid();
	s->rec.boot_ns = bpf_ktime_get_boot_ns();
	bpf_get_current_comm(s->rec.comm, sizeof(s->rec.comm));
	return s;
}

static __always_inline void set_inode(struct file_record *rec, struct inode *inode)
{
	rec->flags |= FILE_HAVE_MODE;
	rec->mode = BPF_CORE_READ(inode, i_mode);
	rec->ino = BPF_CORE_READ(inode, i_ino);
	rec->dev = BPF_CORE_READ(inode, i_sb, s_dev);
}

/* Path of an open file. */
static __always_inline __u32 write_file_path(struct file_scratch *s, __u32 *key, struct file *file,
					     bool bounded_loops)
{
	return write_path(s, key, BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt),
			  bounded_loops);
}

/* Path of NAME (user memory) as the kernel resolved it: the absolute path
 * of the directory it starts from (the process's root directory for an
 * absolute NAME, which is not "/" in a chroot; else DIRFD or the working
 * directory), '/', NAME. */
static __always_inline __u32 write_named_path(struct file_scratch *s, __u32 *key, long dirfd,
					      const char *name, bool bounded_loops)
{
	struct task_struct *task = current_task();
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	char first = 0;
	__u32 off = 0;

	if (bpf_probe_read_user(&first, 1, name) != 0)
		return 0;
	if (first == '/') {
		if (fs)
			off = write_path(s, key, BPF_CORE_READ(fs, root.dentry), BPF_CORE_READ(fs, root.mnt),
					 bounded_loops);
	} else if (dirfd == AT_FDCWD_VALUE) {
		if (fs)
			off = write_path(s, key, BPF_CORE_READ(fs, pwd.dentry), BPF_CORE_READ(fs, pwd.mnt),
					 bounded_loops);
	} else {
		struct file *dir = file_of_fd(dirfd);

		if (dir)
			off = write_path(s, key, BPF_CORE_READ(dir, f_path.dentry),
					 BPF_CORE_READ(dir, f_path.mnt), bounded_loops);
	}
	if (off == 0)
		s->rec.flags |= FILE_PATH_PARTIAL;
	s->data[off & FILE_DATA_MASK] = '/';
	off++;
	long n = bpf_probe_read_user_str(&s->data[off & FILE_DATA_MASK], FILE_NAME_MAX, name);
	if (n > 0)
		off += n - 1;   /* without the NUL */
	return off;
}

/* Which FileCreate paths to send: see bpf/file.h. */
struct file_create_filter create_filter = {};

struct pattern_walk {
	struct file_scratch *s;
	__u32 len;                   /* of the path in s->data */
	bool matched;
};

static __always_inline char fold_byte(char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static long match_pattern(__u64 index, void *ctx)
{
	struct pattern_walk *w = ctx;
	const struct file_path_pattern *p = &create_filter.patterns[index & (FILE_PATTERNS - 1)];
	__u32 plen = p->len, start = 0;

	if (plen >= FILE_PATTERN_MAX || plen > w->len || (p->kind == FILE_PATTERN_IS && plen != w->len))
		return 0;
	if (p->kind == FILE_PATTERN_SUFFIX)
		start = w->len - plen;
	for (__u32 i = 0; i < FILE_PATTERN_MAX; i++) {
		if (i == plen) {
			w->matched = true;
			return 1;
		}
		if (fold_byte(w->s->data[(start + i) & FILE_DATA_MASK]) != p->text[i])
			return 0;
	}
	return 0;
}

/* May the config log a FileCreate of the complete kernel path of LEN
 * bytes in S->data? */
static __always_inline bool create_path_wanted(struct file_scratch *s, __u32 len, bool bounded_loops)
{
	struct pattern_walk w = { .s = s, .len = len };
	__u32 count = create_filter.count;

	if (!create_filter.active || (s->rec.flags & FILE_PATH_PARTIAL))
		return true;
	if (count > FILE_PATTERNS)
		count = FILE_PATTERNS;
	/* without bpf_loop every path is sent (the rule engine decides):
	 * patterns times bytes is too many branches for 5.10's verifier */
	if (bounded_loops)
		return true;
	bpf_loop(count, match_pattern, &w, 0);
	return w.matched;
}

static __always_inline void submit(struct file_scratch *s, __u32 len, __u32 event_id)
{
	asm volatile("" : "+r"(len));   /* the mask must stay, for the verifier */
	len &= FILE_DATA_MASK;
	s->rec.path_len = len;
	capture_submit(&s->rec, sizeof(s->rec) + len, event_id);
}

/* ------------------------------------------------------------------ */

/* An open with FLAGS (O_*) made FILE, or the descriptor FD (FILE NULL):
 * FileCreate or RawAccessRead as it says.  BOUNDED_LOOPS: without bpf_loop. */
/* Claims of the events of the hooks with twins (bpf/lib/twin.bpf.h). */
#define CLAIM_OPEN(tid) ((1ULL << 32) | (tid))

static __always_inline int report_open(__u64 flags, long fd, struct file *file, __u32 mask,
				       bool bounded_loops, __u32 slot)
{
	bool want_create = mask & BIT(FILE_EVENT_CREATE);
	bool want_raw = mask & BIT(FILE_EVENT_RAW_ACCESS);

	if (flags & O_TMPFILE_BIT)
		return 0;   /* nameless until linkat */
	if (!(want_create && (flags & (O_CREAT_FLAG | O_TRUNC_FLAG))) && !want_raw)
		return 0;

	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (capture_is_monitor(tgid))
		return 0;
	if (!file)
		file = file_of_fd(fd);
	if (!file)
		return 0;
	__u32 f_mode = BPF_CORE_READ(file, f_mode);
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	__u32 mode = BPF_CORE_READ(inode, i_mode);
	__u32 kind, how = 0, event_id;

	if (want_create && (f_mode & FMODE_CREATED_BIT)) {
		kind = FILE_RECORD_CREATE;
		how = FILE_CREATE_NEW;
		event_id = FILE_EVENT_CREATE;
	} else if (want_create && (flags & O_TRUNC_FLAG) && (mode & S_IFMT_BITS) == S_IFREG_BITS) {
		kind = FILE_RECORD_CREATE;
		how = FILE_CREATE_TRUNCATE;
		event_id = FILE_EVENT_CREATE;
	} else if (want_raw && (mode & S_IFMT_BITS) == S_IFBLK_BITS && (f_mode & FMODE_READ_BIT)) {
		kind = FILE_RECORD_RAW_ACCESS;
		event_id = FILE_EVENT_RAW_ACCESS;
	} else {
		return 0;
	}
	/* at the open's end, once of its two programs */
	if (slot != SLOT_SYSCALL && !twin_claim(CLAIM_OPEN((__u32)bpf_get_current_pid_tgid()), (__u64)file, slot - SLOT_OPEN))
		return 0;

	__u32 key = slot;
	struct file_scratch *s = new_record(&key, kind, how, tgid, event_id);
	if (!s)
		return 0;
	set_inode(&s->rec, inode);
	__u32 len = write_file_path(s, &key, file, bounded_loops);
	if (kind == FILE_RECORD_CREATE && !create_path_wanted(s, len & FILE_DATA_MASK, bounded_loops))
		return 0;   /* no rule of the config can log it */
	submit(s, len, event_id);
	return 0;
}

static __always_inline int on_open(const struct call_args *c, long ret, __u32 mask)
{
	__u64 flags = 0;

	if (ret < 0)
		return 0;
	if (c->nr == NR_CREAT)
		flags = O_CREAT_FLAG | O_TRUNC_FLAG | O_WRONLY_FLAG;
	else if (c->nr == NR_OPEN)
		flags = c->arg[1];
	else if (c->nr == NR_OPENAT)
		flags = c->arg[2];
	else if (bpf_probe_read_user(&flags, sizeof(flags), (void *)c->arg[2]) != 0)
		return 0;   /* openat2: struct open_how starts with the flags */
	return report_open(flags, ret, NULL, mask, c->bounded_loops, SLOT_SYSCALL);
}

static __always_inline int on_new_name(const struct call_args *c, long ret, __u32 mask)
{
	long dirfd = AT_FDCWD_VALUE;
	const char *name;
	__u32 how = FILE_CREATE_LINK;

	if (ret != 0 || !(mask & BIT(FILE_EVENT_CREATE)))
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (capture_is_monitor(tgid))
		return 0;
	if (c->nr == NR_LINK) {
		name = (const char *)c->arg[1];
	} else if (c->nr == NR_LINKAT) {
		dirfd = (int)c->arg[2];
		name = (const char *)c->arg[3];
	} else if (c->nr == NR_SYMLINK) {
		how = FILE_CREATE_SYMLINK;
		name = (const char *)c->arg[1];
	} else if (c->nr == NR_MKNOD || c->nr == NR_MKNODAT) {
		/* a regular file (type 0 is one too); nodes and FIFOs are not */
		__u32 mode = c->nr == NR_MKNOD ? c->arg[1] : c->arg[2];
		if ((mode & S_IFMT_BITS) != 0 && (mode & S_IFMT_BITS) != S_IFREG_BITS)
			return 0;
		how = FILE_CREATE_MKNOD;
		if (c->nr == NR_MKNOD) {
			name = (const char *)c->arg[0];
		} else {
			dirfd = (int)c->arg[0];
			name = (const char *)c->arg[1];
		}
	} else {
		how = FILE_CREATE_SYMLINK;
		dirfd = (int)c->arg[1];
		name = (const char *)c->arg[2];
	}
	__u32 key = SLOT_SYSCALL;
	struct file_scratch *s = new_record(&key, FILE_RECORD_CREATE, how, tgid, FILE_EVENT_CREATE);
	if (!s)
		return 0;
	submit(s, write_named_path(s, &key, dirfd, name, c->bounded_loops), FILE_EVENT_CREATE);
	return 0;
}

static __always_inline bool is_dir(__u32 mode)
{
	return (mode & S_IFMT_BITS) == S_IFDIR_BITS;
}

static __always_inline bool is_executable(__u32 mode)
{
	return (mode & S_IFMT_BITS) == S_IFREG_BITS && (mode & 0111);
}

static __always_inline void copy_journal_inode(struct file_record *rec, const struct journal_inode *e)
{
	rec->flags |= FILE_HAVE_MODE;
	rec->mode = e->mode;
	rec->ino = e->ino;
	rec->dev = e->dev;
}

static __always_inline int on_unlink(const struct call_args *c, const struct journal *j, __u32 tgid)
{
	long dirfd = AT_FDCWD_VALUE;
	const char *name = (const char *)c->arg[0];

	if (c->nr == NR_UNLINKAT) {
		dirfd = (int)c->arg[0];
		name = (const char *)c->arg[1];
	}
	__u32 key = SLOT_SYSCALL;
	struct file_scratch *s = new_record(&key, FILE_RECORD_DELETE, FILE_DELETE_UNLINK, tgid,
					    FILE_EVENT_DELETE);
	if (!s)
		return 0;
	/* the unlinked file; through a stacked file system also its copies,
	 * which must agree on being executable for the mode to be sent */
	int first = -1;
	bool conflict = false;
	__u32 kept = journal_kept(j);
	for (int i = 0; i < JOURNAL_INODES; i++) {
		if ((__u32)i >= kept || is_dir(j->inodes[i].mode))
			continue;
		if (first < 0)
			first = i;
		else if (is_executable(j->inodes[i].mode) !=
			 is_executable(j->inodes[first & (JOURNAL_INODES - 1)].mode))
			conflict = true;
	}
	if (first >= 0 && !conflict)
		copy_journal_inode(&s->rec, &j->inodes[first & (JOURNAL_INODES - 1)]);
	submit(s, write_named_path(s, &key, dirfd, name, c->bounded_loops), FILE_EVENT_DELETE);
	return 0;
}

static __always_inline int on_rename(const struct call_args *c, const struct journal *j, __u32 tgid,
				     __u32 mask)
{
	long dirfd = AT_FDCWD_VALUE;
	const char *name = (const char *)c->arg[1];
	int first = -1, second = -1;

	if (c->nr != NR_RENAME) {
		dirfd = (int)c->arg[2];
		name = (const char *)c->arg[3];
	}
	__u32 kept = journal_kept(j);
	for (int i = 0; i < JOURNAL_INODES; i++) {
		if ((__u32)i >= kept || is_dir(j->inodes[i].mode))
			continue;
		if (first < 0)
			first = i;
		else if (second < 0)
			second = i;
	}
	/* no file touched: a directory was renamed */
	if (first < 0)
		return 0;
	/* Through a stacked file system the count of files touched means
	 * nothing: the new name holds the renamed file (a FileCreate), whether
	 * it replaced one is not known. */
	bool ambiguous = journal_ambiguous(j);
	bool over = !ambiguous && second >= 0;
	if (!over && !(mask & BIT(FILE_EVENT_CREATE)))
		return 0;
	__u32 key = SLOT_SYSCALL;
	__u32 event_id = over && (mask & DELETE_BITS) ? FILE_EVENT_DELETE : FILE_EVENT_CREATE;
	struct file_scratch *s = new_record(&key, over ? FILE_RECORD_RENAME_OVER : FILE_RECORD_CREATE,
					    FILE_CREATE_RENAME, tgid, event_id);
	if (!s)
		return 0;
	if (!ambiguous)
		copy_journal_inode(&s->rec, &j->inodes[first & (JOURNAL_INODES - 1)]);
	if (over) {
		s->rec.flags |= FILE_HAVE_TWO_MODES;
		s->rec.other_mode = j->inodes[second & (JOURNAL_INODES - 1)].mode;
		s->rec.other_ino = j->inodes[second & (JOURNAL_INODES - 1)].ino;
	}
	submit(s, write_named_path(s, &key, dirfd, name, c->bounded_loops), event_id);
	return 0;
}

static __always_inline int on_utime(const struct call_args *c, const struct journal *j, __u32 tgid)
{
	long dirfd = AT_FDCWD_VALUE;
	const char *name;
	const void *times;
	__s64 sec = 0;
	long nsec = 0;

	if (c->nr == NR_UTIME || c->nr == NR_UTIMES) {
		name = (const char *)c->arg[0];
		times = (const void *)c->arg[1];
	} else {
		dirfd = (int)c->arg[0];
		name = (const char *)c->arg[1];
		times = (const void *)c->arg[2];
	}
	if (!times)
		return 0;   /* "now" */
	/* struct utimbuf { actime, modtime }, or the second of two timeval /
	 * timespec { seconds, usec or nsec }; all fields 32-bit for ia32 */
	if (c->times32) {
		__s32 pair[2] = {};
		if (c->nr == NR_UTIME) {
			if (bpf_probe_read_user(&pair[0], sizeof(pair[0]), times + 4) != 0)
				return 0;
		} else if (bpf_probe_read_user(pair, sizeof(pair), times + 8) != 0) {
			return 0;
		}
		sec = pair[0];
		nsec = pair[1];
	} else if (c->nr == NR_UTIME) {
		if (bpf_probe_read_user(&sec, sizeof(sec), times + 8) != 0)
			return 0;
	} else {
		__s64 pair[2];
		if (bpf_probe_read_user(pair, sizeof(pair), times + 16) != 0)
			return 0;
		sec = pair[0];
		nsec = pair[1];
	}
	if (c->nr != NR_UTIME) {
		if (c->nr == NR_UTIMENSAT) {
			if (nsec == UTIME_NOW_VALUE || nsec == UTIME_OMIT_VALUE)
				return 0;
		} else {
			nsec *= 1000;
		}
	}
	__u32 key = SLOT_SYSCALL;
	struct file_scratch *s = new_record(&key, FILE_RECORD_TIME, 0, tgid, FILE_EVENT_CREATE_TIME);
	if (!s)
		return 0;
	s->rec.new_sec = sec;
	s->rec.new_nsec = (__u32)nsec;
	/* the only file the call touched is its target; through a stacked
	 * file system copies are touched too and their times mean nothing */
	bool first_kept = j->count > 0 && !journal_ambiguous(j);
	if (first_kept)
		copy_journal_inode(&s->rec, &j->inodes[0]);
	if (first_kept && j->inodes[0].mtime_before) {
		/* vfs_utimes' entry saw the old mtime; so did a ctime tracepoint
		 * on a multigrain inode, whose ctime setattr_copy() sets before
		 * the new mtime; other file systems set the mtime first: no
		 * previous time then, rather than a wrong one */
		s->rec.flags |= FILE_HAVE_PREVIOUS;
		s->rec.old_sec = j->inodes[0].mtime_sec;
		s->rec.old_nsec = j->inodes[0].mtime_nsec;
	}
	__u32 len;
	if (name) {
		len = write_named_path(s, &key, dirfd, name, c->bounded_loops);
	} else {
		struct file *file = file_of_fd(dirfd);
		if (!file)
			return 0;
		len = write_file_path(s, &key, file, c->bounded_loops);
	}
	submit(s, len, FILE_EVENT_CREATE_TIME);
	return 0;
}

static __always_inline int on_journaled(const struct call_args *c, long ret, __u32 mask)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	const struct journal *found = bpf_map_lookup_elem(&journals, &tid);
	__u32 tgid = pid_tgid >> 32;

	if (ret == 0 && wants_journal(c, mask) && !capture_is_monitor(tgid)) {
		const struct journal *j = found ? found : &empty_journal;

		switch (c->nr) {
		case NR_UNLINK:
		case NR_UNLINKAT:
			on_unlink(c, j, tgid);
			break;
		case NR_RENAME:
		case NR_RENAMEAT:
		case NR_RENAMEAT2:
			on_rename(c, j, tgid, mask);
			break;
		default:
			on_utime(c, j, tgid);
		}
	}
	/* after use: a deleted entry may be reused at once */
	if (found)
		bpf_map_delete_elem(&journals, &tid);
	return 0;
}

/* A call returned RET, REGS holding its number and arguments.  ONLY >= 0:
 * the program is the one of that (native) call, which the compiler then
 * keeps alone.  BOUNDED_LOOPS: without bpf_loop. */
static __always_inline int on_call_exit(struct pt_regs *regs, long ret, long only, bool bounded_loops)
{
	__u32 mask = enabled_events;

	if (!mask)
		return 0;
	struct call_args c = {};
	if (!read_call(current_task(), regs, &c) || (only >= 0 && c.nr != only))
		return 0;
	c.bounded_loops = bounded_loops;
	switch (call_kind(only >= 0 ? only : c.nr)) {
	case CALL_OPEN:
		return on_open(&c, ret, mask);
	case CALL_NEW_NAME:
		return on_new_name(&c, ret, mask);
	case CALL_JOURNALED:
		return on_journaled(&c, ret, mask);
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* Where the kernel runs fentry/fexit programs: opens and unlinks at the
 * kernel functions that every way of making them goes through (the
 * syscalls, io_uring's IORING_OP_OPENAT/OPENAT2 and UNLINKAT, the kernel's
 * own opens for a process, such as a core dump's), instead of at the
 * syscalls' exits; the loader attaches one or the other, never both. */

/* The current thread, unless it is a kernel thread (writeback, a worker:
 * no process of a user) or the monitor; io_uring's workers are threads of
 * the process that submitted the request. */
static __always_inline bool user_thread(void)
{
	struct task_struct *task = current_task();

	return !(TASK_READ(task, flags) & PF_KTHREAD_FLAG) && !capture_is_monitor(bpf_get_current_pid_tgid() >> 32);
}

/* The return of do_filp_open (do_file_open from 7.0), where every open by
 * name ends: the file it opened, or an error.  OP (struct open_flags, of
 * fs/internal.h) starts with the open's O_* flags, creat's included. */
static __always_inline int on_open_end(const int *op, struct file *file, __u32 twin)
{
	__u32 mask = enabled_events;
	int flags = 0;

	if (!(mask & (BIT(FILE_EVENT_CREATE) | BIT(FILE_EVENT_RAW_ACCESS))) ||
	    (unsigned long)file >= (unsigned long)-4095 || !user_thread())
		return 0;
	if (bpf_probe_read_kernel(&flags, sizeof(flags), op) != 0)
		return 0;
	return report_open((__u32)flags, -1, file, mask, false, SLOT_OPEN + twin);
}

/* With its twin (bpf/lib/twin.bpf.h), as the name changes' below. */
TWIN_PROGRAMS("fexit", file_open_exit, on_open_end(op, file, twin),
	      int dfd, struct filename *name, const int *op, struct file *file)

/* A change of a name allowed by its security_path_* hook, until its vfs_*
 * function returns: the dentry that function gets (to match it: a stacked
 * file system's own call below has another), the mount (the vfs functions
 * have only dentries), and the file's inode. */
enum pending_kind { PENDING_UNLINK = 1, PENDING_LINK, PENDING_SYMLINK, PENDING_RENAME };

struct pending_name {
	__u64 dentry;
	__u64 mnt;
	__u64 ino;              /* unlink, rename: the file */
	__u64 other_ino;        /* rename: the file it replaces (other_mode != 0) */
	__u32 kind;             /* enum pending_kind */
	__u32 mode;
	__u32 other_mode;
	__u32 dev;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 2048);          /* threads changing names at once */
	__type(key, __u32);                 /* thread id */
	__type(value, struct pending_name);
} pending_names SEC(".maps");

/* Note the pending change P of the current thread, unless no event of
 * MASK (enabled_events) can come of it. */
static __always_inline void note_pending(struct pending_name *p, __u32 mask)
{
	if (!(enabled_events & mask) || !user_thread())
		return;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending_names, &tid, p, BPF_ANY);
}

/* The pending change of kind KIND whose vfs function got DENTRY and
 * returned, taken from the map into P; false for no such change, or one
 * that failed. */
static __always_inline bool take_pending(void *ctx, __u32 kind, struct dentry *dentry, struct pending_name *p)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_name *found = bpf_map_lookup_elem(&pending_names, &tid);
	__u64 ret = 0;

	if (!found || found->kind != kind || found->dentry != (__u64)dentry)
		return false;
	*p = *found;
	bpf_map_delete_elem(&pending_names, &tid);
	/* the return value's place depends on the function's arguments,
	 * which change between kernels (vfs_symlink's in 7.0) */
	return bpf_get_func_ret(ctx, &ret) == 0 && ret == 0;
}

static __always_inline void set_pending_inode(struct pending_name *p, struct inode *inode)
{
	p->ino = inode->i_ino;
	p->mode = inode->i_mode;
	p->dev = inode->i_sb->s_dev;
}

/* Record KIND/HOW of event EVENT_ID for the name at (DENTRY, P's mount),
 * in the scratch of program TWIN. */
static __always_inline void report_pending(const struct pending_name *p, struct dentry *dentry, __u32 kind,
					   __u32 how, __u32 event_id, __u32 twin)
{
	__u32 key = SLOT_NAME + twin;
	struct file_scratch *s = new_record(&key, kind, how, bpf_get_current_pid_tgid() >> 32, event_id);

	if (!s)
		return;
	if (p->mode) {
		s->rec.flags |= FILE_HAVE_MODE;
		s->rec.mode = p->mode;
		s->rec.ino = p->ino;
		s->rec.dev = p->dev;
	}
	if (p->other_mode) {
		s->rec.flags |= FILE_HAVE_TWO_MODES;
		s->rec.other_mode = p->other_mode;
		s->rec.other_ino = p->other_ino;
	}
	/* the name is the dentry's: its directory is still locked */
	submit(s, write_path(s, &key, dentry, (struct vfsmount *)p->mnt, false), event_id);
}

static __always_inline int may_unlink(const struct path *dir, struct dentry *dentry, int ret)
{
	struct inode *inode = dentry->d_inode;
	struct pending_name p = { .kind = PENDING_UNLINK, .dentry = (__u64)dentry, .mnt = (__u64)dir->mnt };

	if (ret != 0 || !inode)
		return 0;
	set_pending_inode(&p, inode);
	note_pending(&p, DELETE_BITS);
	return 0;
}

static __always_inline int unlinked(void *ctx, struct dentry *dentry, __u32 twin)
{
	struct pending_name p;

	if (take_pending(ctx, PENDING_UNLINK, dentry, &p) && (enabled_events & DELETE_BITS))
		report_pending(&p, dentry, FILE_RECORD_DELETE, FILE_DELETE_UNLINK, FILE_EVENT_DELETE, twin);
	return 0;
}

static __always_inline int may_link(const struct path *new_dir, struct dentry *new_dentry, int ret)
{
	struct pending_name p = { .kind = PENDING_LINK, .dentry = (__u64)new_dentry, .mnt = (__u64)new_dir->mnt };

	if (ret == 0)
		note_pending(&p, BIT(FILE_EVENT_CREATE));
	return 0;
}

static __always_inline int linked(void *ctx, struct dentry *new_dentry, __u32 twin)
{
	struct pending_name p;

	if (take_pending(ctx, PENDING_LINK, new_dentry, &p) && (enabled_events & BIT(FILE_EVENT_CREATE)))
		report_pending(&p, new_dentry, FILE_RECORD_CREATE, FILE_CREATE_LINK, FILE_EVENT_CREATE, twin);
	return 0;
}

static __always_inline int may_symlink(const struct path *dir, struct dentry *dentry, int ret)
{
	struct pending_name p = { .kind = PENDING_SYMLINK, .dentry = (__u64)dentry, .mnt = (__u64)dir->mnt };

	if (ret == 0)
		note_pending(&p, BIT(FILE_EVENT_CREATE));
	return 0;
}

static __always_inline int symlinked(void *ctx, struct dentry *dentry, __u32 twin)
{
	struct pending_name p;

	if (take_pending(ctx, PENDING_SYMLINK, dentry, &p) && (enabled_events & BIT(FILE_EVENT_CREATE)))
		report_pending(&p, dentry, FILE_RECORD_CREATE, FILE_CREATE_SYMLINK, FILE_EVENT_CREATE, twin);
	return 0;
}

/* A rename of a file (not a directory, not an exchange, not onto another
 * name of the same file, which changes nothing): the renamed file and the
 * one it replaces, if any.  vfs_rename then moves OLD_DENTRY to the new
 * name, which is what is reported. */
static __always_inline int may_rename(struct dentry *old_dentry, const struct path *new_dir,
				      struct dentry *new_dentry, unsigned int flags, int ret)
{
	struct inode *source = old_dentry->d_inode;
	struct inode *target = new_dentry->d_inode;
	struct pending_name p = { .kind = PENDING_RENAME, .dentry = (__u64)old_dentry, .mnt = (__u64)new_dir->mnt };

	if (ret != 0 || (flags & RENAME_EXCHANGE_FLAG) || !source || source == target)
		return 0;
	set_pending_inode(&p, source);
	if (is_dir(p.mode))
		return 0;
	if (target) {
		p.other_mode = target->i_mode;
		p.other_ino = target->i_ino;
	}
	note_pending(&p, DELETE_BITS | BIT(FILE_EVENT_CREATE));
	return 0;
}

static __always_inline int renamed(void *ctx, struct renamedata *rd, __u32 twin)
{
	struct dentry *moved = rd->old_dentry;
	struct pending_name p;
	__u32 mask = enabled_events;

	if (!take_pending(ctx, PENDING_RENAME, moved, &p))
		return 0;
	/* over an existing file: FileDelete of it and FileCreate of the new
	 * name; onto a free name: FileCreate */
	bool over = p.other_mode != 0;
	if (over && (mask & DELETE_BITS))
		report_pending(&p, moved, FILE_RECORD_RENAME_OVER, FILE_CREATE_RENAME, FILE_EVENT_DELETE, twin);
	else if (mask & BIT(FILE_EVENT_CREATE))
		report_pending(&p, moved, over ? FILE_RECORD_RENAME_OVER : FILE_RECORD_CREATE, FILE_CREATE_RENAME,
			       FILE_EVENT_CREATE, twin);
	return 0;
}

/* Every unlink, link, symlink and rename of a name (the syscalls,
 * io_uring's UNLINKAT, LINKAT, SYMLINKAT, RENAMEAT) asks its security_path_*
 * hook first, which has the directory's path (CONFIG_SECURITY_PATH, which
 * Debian's kernels have); their arguments are the same from 5.x to 7.x.
 * Each program with its twin (bpf/lib/twin.bpf.h): both note the same
 * pending change, and the first to take it at the vfs function's return
 * reports it. */
TWIN_PROGRAMS("fexit/security_path_unlink", file_may_unlink, may_unlink(dir, dentry, ret),
	      const struct path *dir, struct dentry *dentry, int ret)
TWIN_PROGRAMS("fexit/vfs_unlink", file_unlinked, unlinked(ctx, dentry, twin),
	      void *idmap, struct inode *dir, struct dentry *dentry)
TWIN_PROGRAMS("fexit/security_path_link", file_may_link, may_link(new_dir, new_dentry, ret),
	      struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry, int ret)
TWIN_PROGRAMS("fexit/vfs_link", file_linked, linked(ctx, new_dentry, twin),
	      struct dentry *old_dentry, void *idmap, struct inode *dir, struct dentry *new_dentry)
TWIN_PROGRAMS("fexit/security_path_symlink", file_may_symlink, may_symlink(dir, dentry, ret),
	      const struct path *dir, struct dentry *dentry, const char *old_name, int ret)
TWIN_PROGRAMS("fexit/vfs_symlink", file_symlinked, symlinked(ctx, dentry, twin),
	      void *idmap, struct inode *dir, struct dentry *dentry)
TWIN_PROGRAMS("fexit/security_path_rename", file_may_rename,
	      may_rename(old_dentry, new_dir, new_dentry, flags, ret),
	      const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
	      struct dentry *new_dentry, unsigned int flags, int ret)
TWIN_PROGRAMS("fexit/vfs_rename", file_renamed, renamed(ctx, rd, twin), struct renamedata *rd)

static __always_inline int on_any_exit(struct pt_regs *regs, long ret, bool bounded_loops)
{
	return on_call_exit(regs, ret, -1, bounded_loops);
}

/* Every syscall exit: the kernels without fentry/fexit (their bounded
 * twin: without bpf_loop). */
SYS_EXIT_PROGRAMS(file_sys_exit, on_any_exit)

/* Where the kernel has fentry/fexit: the return of each watched call's own
 * syscall function, the 64-bit one (__x64_sys_unlinkat, ...) and the
 * 32-bit one (__ia32_sys_unlinkat, __ia32_compat_sys_openat, ...; ia32
 * registers, which read_call maps), so that no other syscall runs anything.
 * The loader names each program's function; a kernel lacking one of them
 * uses file_sys_exit instead (a journal started by a call whose exit is
 * not watched would be read by the thread's next call). */
#define FILE_FEXIT_PROGRAM(name, nr)                                            \
	SEC("fexit")                                                            \
	int BPF_PROG(name, struct pt_regs *regs, long ret)                      \
	{                                                                       \
		return on_call_exit(regs, ret, nr, false);                      \
	}

FILE_FEXIT_PROGRAM(fx_open, NR_OPEN)
FILE_FEXIT_PROGRAM(fx_openat, NR_OPENAT)
FILE_FEXIT_PROGRAM(fx_openat2, NR_OPENAT2)
FILE_FEXIT_PROGRAM(fx_creat, NR_CREAT)
FILE_FEXIT_PROGRAM(fx_link, NR_LINK)
FILE_FEXIT_PROGRAM(fx_linkat, NR_LINKAT)
FILE_FEXIT_PROGRAM(fx_symlink, NR_SYMLINK)
FILE_FEXIT_PROGRAM(fx_symlinkat, NR_SYMLINKAT)
FILE_FEXIT_PROGRAM(fx_mknod, NR_MKNOD)
FILE_FEXIT_PROGRAM(fx_mknodat, NR_MKNODAT)
FILE_FEXIT_PROGRAM(fx_unlink, NR_UNLINK)
FILE_FEXIT_PROGRAM(fx_unlinkat, NR_UNLINKAT)
FILE_FEXIT_PROGRAM(fx_rename, NR_RENAME)
FILE_FEXIT_PROGRAM(fx_renameat, NR_RENAMEAT)
FILE_FEXIT_PROGRAM(fx_renameat2, NR_RENAMEAT2)
FILE_FEXIT_PROGRAM(fx_utime, NR_UTIME)
FILE_FEXIT_PROGRAM(fx_utimes, NR_UTIMES)
FILE_FEXIT_PROGRAM(fx_futimesat, NR_FUTIMESAT)
FILE_FEXIT_PROGRAM(fx_utimensat, NR_UTIMENSAT)
#if defined(__TARGET_ARCH_x86)
FILE_FEXIT_PROGRAM(fx32_open, NR_OPEN)
FILE_FEXIT_PROGRAM(fx32_openat, NR_OPENAT)
FILE_FEXIT_PROGRAM(fx32_openat2, NR_OPENAT2)
FILE_FEXIT_PROGRAM(fx32_creat, NR_CREAT)
FILE_FEXIT_PROGRAM(fx32_link, NR_LINK)
FILE_FEXIT_PROGRAM(fx32_linkat, NR_LINKAT)
FILE_FEXIT_PROGRAM(fx32_symlink, NR_SYMLINK)
FILE_FEXIT_PROGRAM(fx32_symlinkat, NR_SYMLINKAT)
FILE_FEXIT_PROGRAM(fx32_mknod, NR_MKNOD)
FILE_FEXIT_PROGRAM(fx32_mknodat, NR_MKNODAT)
FILE_FEXIT_PROGRAM(fx32_unlink, NR_UNLINK)
FILE_FEXIT_PROGRAM(fx32_unlinkat, NR_UNLINKAT)
FILE_FEXIT_PROGRAM(fx32_rename, NR_RENAME)
FILE_FEXIT_PROGRAM(fx32_renameat, NR_RENAMEAT)
FILE_FEXIT_PROGRAM(fx32_renameat2, NR_RENAMEAT2)
FILE_FEXIT_PROGRAM(fx32_utime, NR_UTIME)
FILE_FEXIT_PROGRAM(fx32_utimes, NR_UTIMES)
FILE_FEXIT_PROGRAM(fx32_futimesat, NR_FUTIMESAT)
FILE_FEXIT_PROGRAM(fx32_utimensat, NR_UTIMENSAT)
FILE_FEXIT_PROGRAM(fx32_utimensat64, NR_UTIMENSAT)
#endif
