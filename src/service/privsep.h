/*
 * Privilege separation (docs/privsep.md): who the forwarders' process
 * (output/forward_proc.h) runs as, and what the monitor prepares for it
 * before it drops its capabilities.  The user is _sysmon (created by
 * `sysmon -i`), else sysmon, else nobody, with a clear line saying so.
 */
#ifndef SYSMON_PRIVSEP_H
#define SYSMON_PRIVSEP_H

#include <stdbool.h>

#include "output/forward_proc.h"
#include "util/strbuf.h"

/* The names looked up, in order, before the fallback. */
#define PRIVSEP_USER "_sysmon"
#define PRIVSEP_USER_ALT "sysmon"
#define PRIVSEP_FALLBACK_USER "nobody"

/* In the monitor, while it has all its capabilities and no thread: find
 * the user (USER->fallback: it is nobody), make its group the monitor's only
 * supplementary group (so that the monitor may give the event log and the
 * state directory to that group, as their owner), open the monitor's own
 * program for the child to run (USER->exe_fd).  0, or -1 with ERR. */
int privsep_prepare(struct forward_user *user, struct strbuf *err);

/* `sysmon -i`: create the system user and group _sysmon (no home, no
 * shell) unless _sysmon or sysmon exists.  0, or -1 with ERR. */
int privsep_create_user(struct strbuf *err);

#endif
