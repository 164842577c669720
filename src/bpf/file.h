/*
 * Records that the file source's kernel half (file.bpf.c) sends to its user
 * half (src/capture/file_decode.c) through its ring buffer: one record per
 * file operation that may become FileCreateTime (2), RawAccessRead (9),
 * FileCreate (11), FileDelete (23) or FileDeleteDetected (26).  Included
 * under vmlinux.h (kernel) and after <linux/types.h> (user).
 *
 * A record is a fixed header followed by the target's path (path_len bytes,
 * no terminating NUL).  The path was built in the kernel at the call: the
 * opened file's own path, or the absolute path of the directory a name was
 * resolved from (dirfd, working directory, or the process's root directory
 * for an absolute name), '/', the name as the caller passed it.  User space only removes "." , ".." and repeated
 * slashes from the part the caller wrote.
 */
#ifndef SYSMON_BPF_FILE_H
#define SYSMON_BPF_FILE_H

#define FILE_EVENT_CREATE_TIME 2
#define FILE_EVENT_RAW_ACCESS 9
#define FILE_EVENT_CREATE 11
#define FILE_EVENT_DELETE 23
#define FILE_EVENT_DELETE_DETECTED 26

#define FILE_PATH_MAX   4096     /* bytes of a directory path walked */
#define FILE_NAME_MAX   4096     /* bytes of a name read from the caller: PATH_MAX,
                                    the most a successful call accepts */
/* Scratch area: a walked path (< FILE_PATH_MAX + 1) then a name; offsets
 * are masked with FILE_DATA_MASK, the rest is slack for the last copy. */
#define FILE_DATA_MASK  8191
#define FILE_DATA_SIZE  (8192 + FILE_NAME_MAX + 256)

enum file_record_kind {
	FILE_RECORD_CREATE = 1,      /* FileCreate; `how` says which call */
	FILE_RECORD_DELETE = 2,      /* FileDelete / FileDeleteDetected */
	FILE_RECORD_RENAME_OVER = 3, /* both: a rename replaced an existing file */
	FILE_RECORD_TIME = 4,        /* FileCreateTime */
	FILE_RECORD_RAW_ACCESS = 5,  /* RawAccessRead */
};

/* How a FileCreate came about. */
enum file_create_how {
	FILE_CREATE_NEW = 1,         /* open/creat created the file (FMODE_CREATED) */
	FILE_CREATE_TRUNCATE = 2,    /* O_TRUNC of an existing regular file */
	FILE_CREATE_RENAME = 3,      /* rename onto a name that did not exist */
	FILE_CREATE_LINK = 4,        /* link/linkat (also an O_TMPFILE linked in) */
	FILE_CREATE_SYMLINK = 5,     /* symlink/symlinkat */
	FILE_DELETE_UNLINK = 6,      /* unlink/unlinkat */
	FILE_CREATE_MKNOD = 7,       /* mknod/mknodat of a regular file */
};

/* Flags of a record. */
#define FILE_HAVE_MODE      (1u << 0)  /* mode (and ino, dev) are the target's */
#define FILE_HAVE_PREVIOUS  (1u << 1)  /* old_sec/old_nsec hold the previous mtime */
#define FILE_PATH_PARTIAL   (1u << 2)  /* the path's beginning was not recovered */
/* Rename-over: mode/ino and other_mode/other_ino are the renamed and the
 * replaced file's, in an order the kernel does not reveal. */
#define FILE_HAVE_TWO_MODES (1u << 3)

struct file_record {
	__u32 kind;            /* enum file_record_kind */
	__u32 how;             /* enum file_create_how */
	__u32 tgid;
	__u32 uid;             /* real uid of the caller */
	__u64 boot_ns;         /* bpf_ktime_get_boot_ns() at the call's end */
	__u64 ino;             /* FILE_HAVE_MODE: the target's inode number */
	__u32 dev;             /* FILE_HAVE_MODE: its file system (kernel dev_t) */
	__u32 mode;            /* FILE_HAVE_MODE: its i_mode */
	__u32 other_mode;      /* FILE_HAVE_TWO_MODES */
	__u64 other_ino;       /* FILE_HAVE_TWO_MODES */
	__s64 new_sec;         /* FILE_RECORD_TIME: the mtime the call set */
	__s64 old_sec;         /* FILE_HAVE_PREVIOUS: the mtime before the call */
	__u32 new_nsec;
	__u32 old_nsec;
	__u32 flags;           /* FILE_* flags above */
	__u16 path_len;        /* bytes of path that follow */
	__u16 reserved;
	char comm[16];         /* task name (Image when the process is unknown) */
};

/* FileCreate paths the config can log (rules_field_patterns() of
 * TargetFilename): when `active`, a FileCreate of an open (whose path is
 * the kernel's own, complete) is sent only if its path matches one of the
 * first `count` patterns, ASCII case-insensitively.  User space sets it;
 * too many or too long patterns leave it inactive. */
#define FILE_PATTERNS 32
#define FILE_PATTERN_MAX 256     /* bytes of a pattern (power of two) */

enum file_pattern_kind {
	FILE_PATTERN_IS = 1,         /* the whole path */
	FILE_PATTERN_PREFIX = 2,
	FILE_PATTERN_SUFFIX = 3,
};

struct file_path_pattern {
	__u32 kind;                  /* enum file_pattern_kind */
	__u32 len;                   /* < FILE_PATTERN_MAX */
	char text[FILE_PATTERN_MAX]; /* lower-case ASCII */
};

struct file_create_filter {
	__u32 active;
	__u32 count;
	struct file_path_pattern patterns[FILE_PATTERNS];
};

#endif
