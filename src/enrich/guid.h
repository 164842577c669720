/*
 * ProcessGuid, LogonGuid and LogonId text, and the boot-clock to wall-clock
 * conversion the enrichment stage uses for every kernel timestamp.
 *
 * Layout (compatibility spec 3.6.3, 3.6.4 and the project decision that
 * overrides REF's key): 16 bytes laid out like a Windows GUID, printed
 * lower-case as {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}:
 *   bytes 0-3   machine id: first 8 hex digits of /etc/machine-id (0 if unreadable)
 *   bytes 4-7   process start, whole seconds since the epoch (u32, wall clock)
 *   bytes 8-15  key, little-endian: ((u64)pid << 32) | (u32)(start_boot_ns % 1e9)
 * start_boot_ns is the CLOCK_BOOTTIME time (ns) of the exec that created the
 * process image, or for a process already running at monitor start its
 * start time from /proc/PID/stat field 22 (clock ticks * 1e9 / CLK_TCK).
 * So every event of one image, and nothing else, carries the same GUID.
 */
#ifndef SYSMON_GUID_H
#define SYSMON_GUID_H

#include <stdint.h>

#define GUID_TEXT_SIZE 39   /* "{8-4-4-4-12}" plus the NUL */
#define GUID_ZERO_TEXT "{00000000-0000-0000-0000-000000000000}"

/* Read the machine id and compute the boot-to-wall offset, once (later
 * calls are no-ops).  Every other function here calls it if needed. */
void guid_init(void);

/* The machine id used as the first GUID group. */
uint32_t guid_machine_id(void);

/* Wall-clock ns since the epoch for a CLOCK_BOOTTIME time in ns (the clock
 * bpf_ktime_get_boot_ns() reads), with the offset fixed by guid_init(). */
int64_t guid_boot_to_wall_ns(uint64_t boot_ns);

/* Any GUID of this layout: SECONDS into bytes 4-7, KEY into bytes 8-15. */
void guid_format(char out[GUID_TEXT_SIZE], uint32_t seconds, uint64_t key);

/* ProcessGuid of the image PID started (exec'd) at START_BOOT_NS. */
void guid_format_process(char out[GUID_TEXT_SIZE], uint32_t pid, uint64_t start_boot_ns);

/* LogonGuid (spec 3.6.5): key = uid | (u64)tty << 32, seconds = the login
 * time of that user on pts/TTY from utmp, 0 if there is none.  TTY is the
 * pts index (the minor number's low 8 bits, as REF takes it; 0 without a
 * terminal).  utmp is re-read only when its mtime changes. */
void guid_format_logon(char out[GUID_TEXT_SIZE], uint32_t uid, uint32_t tty);

/* LogonId text: the uid in decimal.  REF prints uid & 0xffff; the full uid
 * is the same text for every uid below 65536 and stays unambiguous for the
 * large uids of user namespaces. */
void guid_format_logon_id(char out[11], uint32_t uid);

#endif
