/*
 * Records that the process source's kernel half (process.bpf.c) sends to
 * its user half (src/capture/process_decode.c) through its ring buffer.
 * Included under vmlinux.h (kernel) and after <linux/types.h> (user).
 *
 * Every record starts with a __u32 kind.  An exec record is variable-sized:
 * its fixed header is followed by the argv bytes (NULs kept), the
 * executable's absolute path and the working directory, back to back,
 * with the lengths in the header (no terminating NULs).
 */
#ifndef SYSMON_BPF_PROCESS_H
#define SYSMON_BPF_PROCESS_H

#define PROCESS_EVENT_CREATE 1     /* ProcessCreate, from exec records */
#define PROCESS_EVENT_TERMINATE 5  /* ProcessTerminate, from exit records */

#define PROCESS_ARGS_MAX   16384  /* bytes of argv captured */
#define PROCESS_PATH_MAX   4096   /* bytes of a path captured */
/* Scratch area for the variable part: argv + two paths fit below
 * PROCESS_DATA_MASK + 1; the rest is slack for the last name copied. */
#define PROCESS_DATA_MASK  32767
#define PROCESS_DATA_SIZE  (32768 + 512)

enum process_record_kind {
	PROCESS_RECORD_EXEC = 1,
	PROCESS_RECORD_EXIT = 2,
};

/* Flags of an exec record. */
#define PROCESS_ARGS_TRUNCATED  (1u << 0)  /* argv longer than PROCESS_ARGS_MAX */
#define PROCESS_ARGS_UNREADABLE (1u << 1)  /* argv could not be read */
#define PROCESS_IMAGE_PARTIAL   (1u << 2)  /* path's beginning not recovered */
#define PROCESS_CWD_PARTIAL     (1u << 3)
#define PROCESS_NO_IMAGE        (1u << 4)  /* no mm->exe_file */
#define PROCESS_IMAGE_PSEUDO    (1u << 5)  /* no path, only a name (memfd): shown as
					      the kernel does, "/NAME (deleted)" */

#define PROCESS_NO_TTY   (-1)
#define PROCESS_UNSET_ID 4294967295u       /* audit loginuid / sessionid unset */

struct process_exec_record {
	__u32 kind;            /* PROCESS_RECORD_EXEC */
	__u32 tgid;            /* the process (thread group) that exec'd */
	__u32 old_tid;         /* thread that called exec (!= tgid when a thread did) */
	__u32 ppid;            /* real_parent's tgid */
	__u32 uid;             /* real uid */
	__u32 loginuid;        /* audit login uid, PROCESS_UNSET_ID when unset */
	__u32 sessionid;       /* audit session, PROCESS_UNSET_ID when unset */
	__s32 tty_index;       /* controlling tty's index, PROCESS_NO_TTY if none */
	__u64 exec_boot_ns;    /* bpf_ktime_get_boot_ns() at the exec */
	__u32 flags;           /* PROCESS_* flags above */
	__u16 args_len;        /* bytes of argv that follow */
	__u16 image_len;       /* bytes of the executable's path that follow */
	__u16 cwd_len;         /* bytes of the working directory that follow */
	__u16 reserved;
	char comm[16];         /* task name after the exec (fallback for Image) */
};

/* Flags of an exit record. */
#define PROCESS_EXIT_NEVER_EXECED (1u << 0)  /* a fork that kept its parent's image */
#define PROCESS_EXIT_MAY_REPEAT   (1u << 1)  /* from the fallback program: two threads
						 ending at once may both report */

struct process_exit_record {
	__u32 kind;            /* PROCESS_RECORD_EXIT */
	__u32 tgid;
	__u32 ppid;            /* real_parent's tgid at the exit */
	__u32 uid;
	__s32 exit_code;
	__u32 flags;           /* PROCESS_EXIT_* */
	__u64 exit_boot_ns;
	__u64 start_boot_ns;   /* the process's fork (task start_boottime) */
	char comm[16];
};

#endif
