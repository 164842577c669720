/*
 * Records that the image-load source's kernel half (imageload.bpf.c) sends
 * to its user half (src/capture/imageload_decode.c): one record per file
 * mapped executable into a process by mmap (ld.so loading a library,
 * dlopen), which becomes an ImageLoad (7) event.  Included under vmlinux.h
 * (kernel) and after <linux/types.h> (user).
 *
 * A record is a fixed header followed by the file's absolute path
 * (path_len bytes, no terminating NUL), walked in the kernel from the
 * mapped file itself at the call.
 */
#ifndef SYSMON_BPF_IMAGELOAD_H
#define SYSMON_BPF_IMAGELOAD_H

#define IMAGELOAD_EVENT_ID 7

#define IMAGELOAD_PATH_MAX   4096   /* bytes of a path */
/* Scratch area: a path below IMAGELOAD_DATA_MASK + 1, then slack for the
 * last name copied. */
#define IMAGELOAD_DATA_MASK  8191
#define IMAGELOAD_DATA_SIZE  (8192 + 512)

/* Flags of a record. */
#define IMAGELOAD_PATH_PARTIAL (1u << 0)   /* the path's beginning was not recovered */

struct imageload_record {
	__u32 tgid;
	__u32 uid;             /* real uid */
	__u64 boot_ns;         /* bpf_ktime_get_boot_ns() at the call's end */
	__u64 ino;             /* the mapped file's inode number */
	__u32 dev;             /* and its file system (kernel dev_t) */
	__u32 flags;
	__u16 path_len;        /* bytes of path that follow */
	__u16 reserved[3];
	char comm[16];
};

#endif
