/*
 * Noticing that a file changed, cheaply: a cache built from a file
 * (/etc/passwd's user names, utmp's logins) asks on every use, the file is
 * stat'ed at most once per interval, and a change is a different inode,
 * size or modification time, or the file appearing or vanishing.  One watch
 * is used by one thread at a time.
 */
#ifndef SYSMON_FILEWATCH_H
#define SYSMON_FILEWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

struct file_watch {
	const char *path;
	int64_t interval_ns;        /* stat at most once per this (CLOCK_MONOTONIC_COARSE) */
	int64_t checked_ns;
	bool checked;
	struct stat seen;           /* all zero: missing (or not looked at yet) */
};

#define FILE_WATCH_INIT(file, interval) { .path = (file), .interval_ns = (interval) }

/* Has the file changed since the last time this said so?  The first call
 * says yes when the file exists. */
bool file_watch_changed(struct file_watch *watch);

#endif
