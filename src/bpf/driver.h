/*
 * Records that the driver source's kernel half (driver.bpf.c) sends to its
 * user half (src/capture/driver_decode.c): one record per kernel module
 * loaded, which becomes a DriverLoad (6) event.  Included under vmlinux.h
 * (kernel) and after <linux/types.h> (user).
 */
#ifndef SYSMON_BPF_DRIVER_H
#define SYSMON_BPF_DRIVER_H

#define DRIVER_EVENT_ID 6
#define DRIVER_NAME_MAX 56       /* MODULE_NAME_LEN */

/* Flags of a record. */
#define DRIVER_SIG_KNOWN (1u << 0)   /* the kernel checks signatures (sig_ok is valid) */
#define DRIVER_SIG_OK    (1u << 1)   /* and this module's signature verified */

struct driver_record {
	__u64 boot_ns;                /* bpf_ktime_get_boot_ns() at the load */
	__u32 flags;
	__u32 reserved;
	char name[DRIVER_NAME_MAX];   /* the module's name, NUL-terminated */
};

#endif
