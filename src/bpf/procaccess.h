/*
 * Records that the process-access source's kernel half (procaccess.bpf.c)
 * sends to its user half (src/capture/procaccess_decode.c) through its ring
 * buffer: ProcessAccess (10), CreateRemoteThread (8) and ProcessTampering
 * (25).  Included under vmlinux.h (kernel) and after <linux/types.h> (user).
 * docs/events.md says what each event means on Linux.
 */
#ifndef SYSMON_BPF_PROCACCESS_H
#define SYSMON_BPF_PROCACCESS_H

#define PROCACCESS_EVENT_REMOTE_THREAD 8
#define PROCACCESS_EVENT_ACCESS 10
#define PROCACCESS_EVENT_TAMPERING 25

/* GrantedAccess values: the Windows access rights closest to each
 * operation (docs/events.md has the table). */
#define PROCACCESS_ALL_ACCESS     0x1F3FFFu  /* PROCESS_ALL_ACCESS: ptrace attach/seize */
#define PROCACCESS_VM_READ        0x0010u    /* PROCESS_VM_READ */
#define PROCACCESS_VM_WRITE       0x0020u    /* PROCESS_VM_WRITE */
#define PROCACCESS_QUERY_LIMITED  0x1000u    /* PROCESS_QUERY_LIMITED_INFORMATION */

/* The same access is reported again for one pair of processes only after
 * this long: a debugger peeks thousands of words a second. */
#define PROCACCESS_REPEAT_NS (1000ULL * 1000000ULL)

enum procaccess_record_kind {
	PROCACCESS_RECORD_ACCESS = 1,    /* ProcessAccess */
	PROCACCESS_RECORD_INJECT = 2,    /* CreateRemoteThread */
	PROCACCESS_RECORD_TAMPER = 3,    /* ProcessTampering */
};

/* What the accessing process did (for diagnostics: the event shows it as
 * GrantedAccess). */
enum procaccess_operation {
	PROCACCESS_OP_PTRACE = 1,        /* `request` holds the ptrace request */
	PROCACCESS_OP_VM_READV = 2,      /* process_vm_readv */
	PROCACCESS_OP_VM_WRITEV = 3,     /* process_vm_writev */
	PROCACCESS_OP_PROC_OPEN = 4,     /* open of /proc/PID/{mem,environ,maps} */
};

/* Flags of an access record. */
#define PROCACCESS_TARGET_TASK    (1u << 0)  /* target.* read from the target's task */
#define PROCACCESS_START_ADDRESS  (1u << 1)  /* start_address holds the new instruction pointer */

struct procaccess_task {
	__u32 tgid;
	__u32 tid;
	__u32 uid;             /* real uid */
	__u32 pad;
	char comm[16];         /* task name: the Image when nothing better is known */
};

struct procaccess_record {
	__u32 kind;            /* PROCACCESS_RECORD_ACCESS or _INJECT */
	__u32 operation;       /* enum procaccess_operation */
	__u32 granted_access;  /* PROCACCESS_* rights (ProcessAccess) */
	__u32 flags;
	__s64 request;         /* ptrace request */
	__u64 boot_ns;         /* bpf_ktime_get_boot_ns() at the call's end */
	__u64 start_address;   /* PROCACCESS_START_ADDRESS */
	struct procaccess_task source;
	/* Without PROCACCESS_TARGET_TASK only target.tid is known (the pid
	 * the caller named); user space looks the process up. */
	struct procaccess_task target;
};

/* How an image without a file behind it was executed (Type of event 25). */
enum procaccess_tamper_type {
	PROCACCESS_TAMPER_MEMFD = 1,     /* the file is a memfd (memfd_create) */
	PROCACCESS_TAMPER_DELETED = 2,   /* the file has no name left (nlink 0) */
	PROCACCESS_TAMPER_FD_PATH = 3,   /* run through a descriptor (fexecve, /proc/PID/fd/N) */
};

#define PROCACCESS_NAME_MAX 64

struct procaccess_tamper_record {
	__u32 kind;            /* PROCACCESS_RECORD_TAMPER */
	__u32 type;            /* enum procaccess_tamper_type */
	__u32 tgid;
	__u32 uid;
	__u64 boot_ns;         /* at the exec */
	char comm[16];
	char file_name[PROCACCESS_NAME_MAX];  /* the executed file's own name (NUL-terminated) */
};

#endif
