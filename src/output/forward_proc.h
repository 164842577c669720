/*
 * The forwarders' process (docs/privsep.md): the forwarders (TCP, TLS,
 * RELP to central collectors) run in a child of the monitor that holds no
 * privilege at all: an unprivileged user (_sysmon, sysmon, else nobody),
 * no capability, PR_SET_NO_NEW_PRIVS.  A fault in the TLS or RELP code,
 * or a hostile collector, gets that user, not root.
 *
 * The monitor's side (sinks.c is the only caller) starts the child when
 * forwarders are configured, hands it what it cannot read itself (the
 * outputs' settings, the TLS files' contents) over a socket, wakes it at
 * each commit, takes its status and problem lines, restarts it with a
 * growing delay when it dies (the forwarders' cursors resume), and stops
 * it with the monitor.  The child (`sysmon forwarders`, exec'd from the
 * monitor's own binary) reads the event log read-only, as any reader, and
 * keeps its cursors in the state directory.
 *
 * Access: the child's group may read the event log and its -wal, and
 * write its -shm (SQLite's WAL readers take their locks there); the state
 * directory is the group's to write.  The monitor sets that up when it
 * starts the child.
 */
#ifndef SYSMON_FORWARD_PROC_H
#define SYSMON_FORWARD_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "output/forwarder.h"
#include "output/outputs_config.h"
#include "schema/schema.h"
#include "util/strbuf.h"

/* Who the child runs as, and the program it runs (an fd of the monitor's
 * own binary, opened before the monitor dropped its capabilities). */
struct forward_user {
	uid_t uid;
	gid_t gid;
	char name[64];
	bool fallback;              /* nobody: no user of our own */
	int exe_fd;
};

struct forward_proc;

struct forward_proc *forward_proc_new(const struct forward_user *user, const char *log_path);
/* Run FORWARDS (borrowed until the next call) from STATE_DIR: starts the
 * child, or hands a running one the new set (it keeps the forwarders
 * whose settings did not change); none stops it. */
void forward_proc_configure(struct forward_proc *p, const struct forward_config *forwards, size_t n,
			    const char *state_dir, const struct field_sizes *sizes);
void forward_proc_set_field_sizes(struct forward_proc *p, const struct field_sizes *sizes);
/* New records were committed to the log. */
void forward_proc_wake(struct forward_proc *p);
/* Every ~100 ms: take the child's messages, restart it when it died. */
void forward_proc_tick(struct forward_proc *p);
/* The last status the child sent of forwarder I of the set. */
void forward_proc_status(struct forward_proc *p, size_t i, struct forwarder_status *status);
bool forward_proc_next_problem(struct forward_proc *p, struct strbuf *text);
/* The child's pid, 0 when none runs. */
pid_t forward_proc_pid(const struct forward_proc *p);
/* Stopping: the forwarders send what is committed for at most DRAIN_MS
 * (request), then the child's last status and problems are taken and it
 * is waited for (stop). */
void forward_proc_request_stop(struct forward_proc *p, unsigned drain_ms);
void forward_proc_stop(struct forward_proc *p);
void forward_proc_free(struct forward_proc *p);

/* The child: `sysmon forwarders`, its socket on fd 3.  Refuses to run
 * with any privilege.  Returns the exit status. */
int forward_proc_child_main(void);

#endif
