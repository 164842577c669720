/*
 * The forwarders' process (interface: forward_proc.h), both sides of it.
 *
 * The channel is a stream socket pair; a message is a frame: a 32-bit
 * length (of what follows), a type byte, the payload.
 *   monitor -> child: 'C' the set (a generation number, the log, the state
 *                     directory, FieldSizes, each forwarder's settings and
 *                     TLS files' contents), 'F' new FieldSizes, 'W' new
 *                     records, 'S' stop (drain ms);
 *   child -> monitor: 'T' status (the generation, each forwarder's), 'P' a
 *                     problem line, 'D' done (stopped, about to exit).
 * Both ends are the same binary (the child is exec'd from the monitor's own
 * file), so the status structs cross as they are.
 *
 * Starting the child (in the forked copy of the monitor, before exec, only
 * system calls): the socket on fd 3, the binary on fd 4, stdin and stdout
 * /dev/null, stderr the monitor's; set-group-ID and set-user-ID to the
 * user (the monitor made them its saved IDs, privsep.h: no capability is
 * needed, and all capabilities go with root's uid), PR_SET_NO_NEW_PRIVS,
 * the parent-death signal, then execveat of fd 4 with "forwarders".
 *
 * The child stops when the monitor says so or is gone (the socket's end),
 * not at SIGTERM: a service manager that signals the whole group (systemd)
 * must not cut the forwarders' drain short while the monitor stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "output/consumer.h"
#include "output/forward_proc.h"
#include "util/clock.h"
#include "util/exitcodes.h"

#define CHILD_SOCKET_FD 3
#define CHILD_EXE_FD 4
/* the child's exit status when it could not become the user */
#define CHILD_EXIT_DROP 125
#define CHILD_EXIT_EXEC 126
#define STATUS_INTERVAL_MS 500
#define SEND_TIMEOUT_MS 2000
#define MAX_FRAME (64u << 20)
/* restarts: 1 s, doubling up to a minute; reset once it ran for a minute */
#define RESTART_MIN_MS 1000
#define RESTART_MAX_MS 60000
#define HEALTHY_RUN_NS (60 * 1000000000LL)
#define STOP_GRACE_MS 3000

/* ---- frames ---- */

static void put_u32(struct strbuf *b, uint32_t value)
{
	strbuf_append(b, (const char *)&value, sizeof(value));
}

static void put_str(struct strbuf *b, const char *text)
{
	if (!text) {
		put_u32(b, UINT32_MAX);
		return;
	}
	size_t len = strlen(text);
	put_u32(b, (uint32_t)len);
	strbuf_append(b, text, len);
}

/* Start frame TYPE in B (reset); frame_end writes its length. */
static void frame_begin(struct strbuf *b, char type)
{
	strbuf_reset(b);
	put_u32(b, 0);
	strbuf_putc(b, type);
}

static void frame_end(struct strbuf *b)
{
	uint32_t len = (uint32_t)(b->len - sizeof(uint32_t));
	memcpy(b->data, &len, sizeof(len));
}

struct reader {
	const char *p;
	size_t left;
	bool bad;
};

static bool get_bytes(struct reader *r, void *out, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = true;
		return false;
	}
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

static uint32_t get_u32(struct reader *r)
{
	uint32_t value = 0;

	get_bytes(r, &value, sizeof(value));
	return value;
}

static char *get_str(struct reader *r)
{
	uint32_t len = get_u32(r);

	if (r->bad || len == UINT32_MAX)
		return NULL;
	if (r->left < len) {
		r->bad = true;
		return NULL;
	}
	char *text = xstrndup(r->p, len);
	r->p += len;
	r->left -= len;
	return text;
}

/* Write all of DATA to FD (non-blocking or not), waiting at most
 * TIMEOUT_MS for room.  0, or -1 (the peer is gone or stuck). */
static int send_all(int fd, const char *data, size_t len, int timeout_ms)
{
	int64_t deadline = monotonic_ns() + (int64_t)timeout_ms * 1000000;

	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -1;
		int64_t left = deadline - monotonic_ns();
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		if (left <= 0 || poll(&pfd, 1, (int)(left / 1000000) + 1) < 0)
			return -1;
	}
	return 0;
}

/* Read what FD has into IN without blocking: 0, or -1 at EOF or error. */
static int receive(int fd, struct strbuf *in)
{
	char buf[65536];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			strbuf_append(in, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		return -1;
	}
}

/* The next whole frame of IN: its type and payload (valid until IN
 * changes); false when none is whole yet.  *USED: bytes to drop after. */
static bool next_frame(struct strbuf *in, size_t offset, char *type, struct reader *payload, size_t *used)
{
	uint32_t len;

	if (in->len - offset < sizeof(len) + 1)
		return false;
	memcpy(&len, in->data + offset, sizeof(len));
	if (len == 0 || len > MAX_FRAME || in->len - offset - sizeof(len) < len)
		return false;
	*type = in->data[offset + sizeof(len)];
	*payload = (struct reader){ .p = in->data + offset + sizeof(len) + 1, .left = len - 1 };
	*used = sizeof(len) + len;
	return true;
}

static void drop_front(struct strbuf *in, size_t n)
{
	if (n == 0)
		return;
	memmove(in->data, in->data + n, in->len - n);
	in->len -= n;
	in->data[in->len] = '\0';
}

/* ---- the forwarders' settings on the wire ---- */

static void put_forward(struct strbuf *b, const struct forward_config *f)
{
	put_str(b, f->name);
	put_u32(b, (uint32_t)f->protocol);
	put_str(b, f->host);
	put_str(b, f->port);
	put_str(b, f->server_name);
	put_str(b, f->ca_file);
	put_str(b, f->cert_file);
	put_str(b, f->key_file);
	put_str(b, f->ca_pem);
	put_str(b, f->cert_pem);
	put_str(b, f->key_pem);
	put_u32(b, f->max_message);
	put_u32(b, f->reconnect_min_ms);
	put_u32(b, f->reconnect_max_ms);
	put_u32(b, f->send_timeout_ms);
	put_u32(b, f->connect_timeout_ms);
	put_u32(b, f->start_at_newest);
}

static void get_forward(struct reader *r, struct forward_config *f)
{
	f->name = get_str(r);
	f->protocol = (enum forward_protocol)get_u32(r);
	f->host = get_str(r);
	f->port = get_str(r);
	f->server_name = get_str(r);
	f->ca_file = get_str(r);
	f->cert_file = get_str(r);
	f->key_file = get_str(r);
	f->ca_pem = get_str(r);
	f->cert_pem = get_str(r);
	f->key_pem = get_str(r);
	f->max_message = get_u32(r);
	f->reconnect_min_ms = get_u32(r);
	f->reconnect_max_ms = get_u32(r);
	f->send_timeout_ms = get_u32(r);
	f->connect_timeout_ms = get_u32(r);
	f->start_at_newest = get_u32(r) != 0;
	if (!f->name || !f->host || !f->port)
		r->bad = true;
}

/* ---- the monitor's side ---- */

struct forward_proc {
	struct forward_user user;
	char *log_path;
	const struct forward_config *forwards;   /* borrowed: the running set */
	size_t n;
	char *state_dir;
	struct field_sizes sizes;
	bool have_sizes;
	uint32_t generation;

	pid_t pid;                  /* 0: no child */
	int fd;
	struct strbuf in, out;
	struct forwarder_status *status;   /* N of them */
	struct strbuf problems;
	int64_t started_ns, restart_at_ns;
	unsigned restart_delay_ms;
	bool stopping, done, shared;
};

static void proc_problem(struct forward_proc *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void proc_problem(struct forward_proc *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vpush_line(&p->problems, OUTPUT_PROBLEMS_MAX, fmt, ap);
	va_end(ap);
}

/* Can USER search every directory above PATH?  The first one it cannot,
 * in BLOCKED. */
static bool reachable(const struct forward_user *user, const char *path, struct strbuf *blocked)
{
	char *dir = xstrdup(path);
	bool ok = true;

	for (char *slash = strrchr(dir, '/'); ok && slash; slash = strrchr(dir, '/')) {
		*slash = '\0';
		const char *name = slash == dir ? "/" : dir;
		struct stat st;
		if (stat(name, &st) != 0)
			continue;
		bool search = st.st_uid == user->uid ? st.st_mode & S_IXUSR
			      : st.st_gid == user->gid ? st.st_mode & S_IXGRP : st.st_mode & S_IXOTH;
		if (!search) {
			strbuf_puts(blocked, name);
			ok = false;
		}
		if (slash == dir)
			break;
	}
	free(dir);
	return ok;
}

/* Give FILE to the user's group with MODE (it is ours: no capability
 * needed, the monitor is in that group). */
static void share_file(struct forward_proc *p, const char *path, mode_t mode)
{
	if (access(path, F_OK) != 0)
		return;
	if (chown(path, (uid_t)-1, p->user.gid) != 0 || chmod(path, mode) != 0)
		proc_problem(p, "forwarders: cannot give %s to group %s: %s", path, p->user.name, strerror(errno));
}

/* The event log for the group to read (its -shm to write: WAL readers
 * lock there), its directory to search; the state directory to write. */
static void share(struct forward_proc *p)
{
	struct strbuf path = STRBUF_INIT, blocked = STRBUF_INIT;
	static const struct { const char *suffix; mode_t mode; } files[] = {
		{ "", 0640 }, { "-wal", 0640 }, { "-shm", 0660 },
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		strbuf_reset(&path);
		strbuf_printf(&path, "%s%s", p->log_path, files[i].suffix);
		share_file(p, path.data, files[i].mode);
	}
	/* the log's own directory, if it is ours and closed to others */
	char *dir = xstrndup(p->log_path, (size_t)(strrchr(p->log_path, '/') ? strrchr(p->log_path, '/') - p->log_path : 0));
	struct stat st;
	if (*dir && stat(dir, &st) == 0 && st.st_uid == geteuid() && !(st.st_mode & S_IXOTH))
		share_file(p, dir, (st.st_mode & 07777) | S_IRGRP | S_IXGRP);
	free(dir);
	if (!reachable(&p->user, p->log_path, &blocked))
		proc_problem(p, "forwarders: user %s cannot reach the event log %s: %s is not searchable by it; "
			     "the forwarders cannot read the log (docs/privsep.md)", p->user.name, p->log_path,
			     blocked.data);
	if (mkdir(p->state_dir, 0770) != 0 && errno != EEXIST)
		proc_problem(p, "forwarders: cannot create %s: %s", p->state_dir, strerror(errno));
	share_file(p, p->state_dir, 0770);
	/* cursors written before the forwarders had a process of their own */
	DIR *d = opendir(p->state_dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (strncmp(e->d_name, "forward-", 8) != 0)
			continue;
		strbuf_reset(&path);
		strbuf_printf(&path, "%s/%s", p->state_dir, e->d_name);
		if (stat(path.data, &st) == 0 && st.st_uid == geteuid())
			share_file(p, path.data, 0660);
	}
	if (d)
		closedir(d);
	strbuf_reset(&blocked);
	if (!reachable(&p->user, p->state_dir, &blocked))
		proc_problem(p, "forwarders: user %s cannot reach the state directory %s: %s is not searchable "
			     "by it (docs/privsep.md)", p->user.name, p->state_dir, blocked.data);
	strbuf_release(&path);
	strbuf_release(&blocked);
}

static void build_config(struct forward_proc *p, struct strbuf *b)
{
	frame_begin(b, 'C');
	put_u32(b, p->generation);
	put_str(b, p->log_path);
	put_str(b, p->state_dir);
	put_u32(b, p->have_sizes);
	if (p->have_sizes)
		strbuf_append(b, (const char *)&p->sizes, sizeof(p->sizes));
	put_u32(b, (uint32_t)p->n);
	for (size_t i = 0; i < p->n; i++)
		put_forward(b, &p->forwards[i]);
	frame_end(b);
}

static void send_frame(struct forward_proc *p, struct strbuf *frame)
{
	if (p->pid && p->fd >= 0 && send_all(p->fd, frame->data, frame->len, SEND_TIMEOUT_MS) != 0)
		proc_problem(p, "forwarders: cannot reach the forwarders' process (pid %d): %s", (int)p->pid,
			     strerror(errno));
}

/* Fork and exec the child (see the top of the file). */
static int spawn(struct forward_proc *p)
{
	int sv[2];
	char *const argv[] = { "sysmon", "forwarders", NULL };
	char *const envp[] = { NULL };

	if (!p->shared) {
		share(p);
		p->shared = true;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		proc_problem(p, "forwarders: socketpair: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		proc_problem(p, "forwarders: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		int sock = fcntl(sv[1], F_DUPFD, 10), exe = fcntl(p->user.exe_fd, F_DUPFD, 10);
		int null = open("/dev/null", O_RDWR);
		if (sock < 0 || exe < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(sock, CHILD_SOCKET_FD) < 0 || dup2(exe, CHILD_EXE_FD) < 0)
			_exit(CHILD_EXIT_EXEC);
		close_range(CHILD_EXE_FD + 1, ~0u, 0);
		/* the monitor's dormant CAP_SETUID and CAP_SETGID, for this copy
		 * only; the uid change then clears every capability */
		struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
		struct __user_cap_data_struct data[2];
		if (syscall(SYS_capget, &header, data) != 0)
			_exit(CHILD_EXIT_DROP);
		data[0].effective |= data[0].permitted & ((1u << CAP_SETUID) | (1u << CAP_SETGID));
		gid_t gid = p->user.gid;
		uid_t uid = p->user.uid;
		if (syscall(SYS_capset, &header, data) != 0 || syscall(SYS_setgroups, 1, &gid) != 0 ||
		    syscall(SYS_setresgid, gid, gid, gid) != 0 || syscall(SYS_setresuid, uid, uid, uid) != 0 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
			_exit(CHILD_EXIT_DROP);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		syscall(SYS_execveat, CHILD_EXE_FD, "", argv, envp, AT_EMPTY_PATH);
		_exit(CHILD_EXIT_EXEC);
	}
	close(sv[1]);
	p->pid = pid;
	p->fd = sv[0];
	p->done = false;
	strbuf_reset(&p->in);
	p->started_ns = monotonic_ns();
	fprintf(stderr, "sysmon: the forwarders run in process %d as user %s (uid %u)%s\n", (int)pid,
		p->user.name, (unsigned)p->user.uid,
		p->user.fallback ? ": there is no user _sysmon or sysmon (sysmon -i creates _sysmon), "
				   "so they share nobody's uid with other daemons" : "");
	build_config(p, &p->out);
	send_frame(p, &p->out);
	return 0;
}

static void describe_exit(int status, struct strbuf *out)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_DROP)
		strbuf_puts(out, "it could not become the unprivileged user");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_EXEC)
		strbuf_puts(out, "it could not run the program");
	else if (WIFEXITED(status))
		strbuf_printf(out, "it exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		strbuf_printf(out, "it was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		strbuf_puts(out, "it ended");
}

/* The next start: 1 s after the first failure, doubling up to a minute. */
static void schedule_restart(struct forward_proc *p)
{
	p->restart_delay_ms = p->restart_delay_ms ? p->restart_delay_ms * 2 : RESTART_MIN_MS;
	if (p->restart_delay_ms > RESTART_MAX_MS)
		p->restart_delay_ms = RESTART_MAX_MS;
	p->restart_at_ns = monotonic_ns() + (int64_t)p->restart_delay_ms * 1000000;
}

/* The child is gone (EOF on the socket): reap it, and restart it later
 * unless the monitor stops. */
static void child_gone(struct forward_proc *p)
{
	struct strbuf why = STRBUF_INIT;
	int status = 0;
	pid_t pid = p->pid;

	close(p->fd);
	p->fd = -1;
	int64_t deadline = monotonic_ns() + (int64_t)STOP_GRACE_MS * 1000000;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (monotonic_ns() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		struct timespec pause = { 0, 10 * 1000000 };
		nanosleep(&pause, NULL);
	}
	p->pid = 0;
	if (p->stopping || (p->done && p->n == 0)) {
		strbuf_release(&why);
		return;
	}
	describe_exit(status, &why);
	if (monotonic_ns() - p->started_ns >= HEALTHY_RUN_NS)
		p->restart_delay_ms = 0;
	schedule_restart(p);
	proc_problem(p, "forwarders: their process (pid %d) ended: %s; restarting it in %u ms (the forwarders "
		     "resume from their cursors)", (int)pid, why.data, p->restart_delay_ms);
	for (size_t i = 0; i < p->n; i++)
		p->status[i].state = FORWARDER_STOPPED;
	strbuf_release(&why);
}

static void take_frames(struct forward_proc *p)
{
	size_t offset = 0, used;
	struct reader r;
	char type;

	while (next_frame(&p->in, offset, &type, &r, &used)) {
		offset += used;
		if (type == 'T') {
			uint32_t generation = get_u32(&r), n = get_u32(&r);
			if (generation != p->generation || n != p->n)
				continue;   /* a set the child has not taken yet */
			for (size_t i = 0; i < p->n && !r.bad; i++)
				get_bytes(&r, &p->status[i], sizeof(p->status[i]));
		} else if (type == 'P') {
			proc_problem(p, "%.*s", (int)r.left, r.p);
		} else if (type == 'D') {
			p->done = true;
		}
	}
	drop_front(&p->in, offset);
}

struct forward_proc *forward_proc_new(const struct forward_user *user, const char *log_path)
{
	struct forward_proc *p = xcalloc(1, sizeof(*p));

	p->user = *user;
	p->log_path = xstrdup(log_path);
	p->fd = -1;
	return p;
}

void forward_proc_configure(struct forward_proc *p, const struct forward_config *forwards, size_t n,
			    const char *state_dir, const struct field_sizes *sizes)
{
	struct forwarder_status *status = xcalloc(n + 1, sizeof(*status));

	/* what a kept forwarder showed, until the child's next report */
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t j = 0; j < p->n && !found; j++) {
			if (strcmp(forwards[i].name, p->forwards[j].name) == 0) {
				status[i] = p->status[j];
				found = true;
			}
		}
		if (!found) {
			status[i].state = FORWARDER_STARTING;
			forwarder_address(&forwards[i], status[i].address, sizeof(status[i].address));
		}
	}
	free(p->status);
	p->status = status;
	p->forwards = forwards;
	p->n = n;
	if (!p->state_dir || strcmp(p->state_dir, state_dir) != 0)
		p->shared = false;
	free(p->state_dir);
	p->state_dir = xstrdup(state_dir);
	if (sizes) {
		p->sizes = *sizes;
		p->have_sizes = true;
	}
	p->generation++;
	if (p->pid) {
		if (!p->shared) {
			share(p);
			p->shared = true;
		}
		build_config(p, &p->out);
		send_frame(p, &p->out);   /* an empty set: the child stops and exits */
	} else if (n > 0) {
		p->restart_delay_ms = 0;
		spawn(p);
	}
}

void forward_proc_set_field_sizes(struct forward_proc *p, const struct field_sizes *sizes)
{
	p->sizes = *sizes;
	p->have_sizes = true;
	if (!p->pid)
		return;
	frame_begin(&p->out, 'F');
	strbuf_append(&p->out, (const char *)sizes, sizeof(*sizes));
	frame_end(&p->out);
	send_frame(p, &p->out);
}

void forward_proc_wake(struct forward_proc *p)
{
	static const char wake[] = { 1, 0, 0, 0, 'W' };

	/* a full socket means a wake-up is pending anyway */
	if (p->pid && p->fd >= 0 && send(p->fd, wake, sizeof(wake), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return;
}

void forward_proc_tick(struct forward_proc *p)
{
	if (p->pid) {
		int rc = receive(p->fd, &p->in);
		take_frames(p);
		if (rc != 0)
			child_gone(p);
	}
	if (!p->pid && !p->stopping && p->n > 0 && p->restart_at_ns && monotonic_ns() >= p->restart_at_ns) {
		p->restart_at_ns = 0;
		if (spawn(p) != 0)
			schedule_restart(p);
	}
}

void forward_proc_status(struct forward_proc *p, size_t i, struct forwarder_status *status)
{
	*status = p->status[i];
}

bool forward_proc_next_problem(struct forward_proc *p, struct strbuf *text)
{
	return strbuf_shift_line(&p->problems, text);
}

pid_t forward_proc_pid(const struct forward_proc *p)
{
	return p->pid;
}

void forward_proc_request_stop(struct forward_proc *p, unsigned drain_ms)
{
	if (p->stopping)
		return;
	p->stopping = true;
	if (!p->pid)
		return;
	frame_begin(&p->out, 'S');
	put_u32(&p->out, drain_ms);
	frame_end(&p->out);
	send_frame(p, &p->out);
	p->restart_at_ns = monotonic_ns() + (int64_t)(drain_ms + STOP_GRACE_MS) * 1000000;   /* the deadline */
}

void forward_proc_stop(struct forward_proc *p)
{
	forward_proc_request_stop(p, 0);
	while (p->pid && !p->done) {
		int64_t left = (p->restart_at_ns - monotonic_ns()) / 1000000;
		if (left <= 0) {
			proc_problem(p, "forwarders: their process (pid %d) did not stop in time; killed", (int)p->pid);
			kill(p->pid, SIGKILL);
			break;
		}
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		if (poll(&pfd, 1, (int)left + 1) < 0 && errno != EINTR)
			break;
		int rc = receive(p->fd, &p->in);
		take_frames(p);
		if (rc != 0)
			break;
	}
	if (p->pid)
		child_gone(p);
}

void forward_proc_free(struct forward_proc *p)
{
	if (!p)
		return;
	forward_proc_stop(p);
	free(p->log_path);
	free(p->state_dir);
	free(p->status);
	strbuf_release(&p->in);
	strbuf_release(&p->out);
	strbuf_release(&p->problems);
	free(p);
}

/* ---- the child ---- */

struct child {
	int fd;
	struct strbuf in, out, text;
	uint32_t generation;
	char *log_path, *state_dir;
	struct field_sizes sizes;
	bool have_sizes;
	struct forward_config *configs;
	struct forwarder **forwarders;
	size_t n;
	unsigned drain_ms;
	bool stop;
};

static void child_send(struct child *c)
{
	if (send_all(c->fd, c->out.data, c->out.len, SEND_TIMEOUT_MS) != 0)
		c->stop = true;   /* the monitor is gone */
}

static void child_problem(struct child *c, const char *text)
{
	frame_begin(&c->out, 'P');
	strbuf_puts(&c->out, text);
	frame_end(&c->out);
	child_send(c);
}

static void child_problems(struct child *c)
{
	for (size_t i = 0; i < c->n; i++)
		while (c->forwarders[i] && forwarder_next_problem(c->forwarders[i], &c->text))
			child_problem(c, c->text.data);
}

static void child_status(struct child *c)
{
	frame_begin(&c->out, 'T');
	put_u32(&c->out, c->generation);
	put_u32(&c->out, (uint32_t)c->n);
	for (size_t i = 0; i < c->n; i++) {
		struct forwarder_status st = { .state = FORWARDER_STOPPED };
		if (c->forwarders[i])
			forwarder_get_status(c->forwarders[i], &st);
		strbuf_append(&c->out, (const char *)&st, sizeof(st));
	}
	frame_end(&c->out);
	child_send(c);
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_forward(const struct forward_config *a, const struct forward_config *b)
{
	return same_text(a->name, b->name) && a->protocol == b->protocol && same_text(a->host, b->host) &&
	       same_text(a->port, b->port) && same_text(a->server_name, b->server_name) &&
	       same_text(a->ca_file, b->ca_file) && same_text(a->cert_file, b->cert_file) &&
	       same_text(a->key_file, b->key_file) && a->max_message == b->max_message &&
	       a->reconnect_min_ms == b->reconnect_min_ms && a->reconnect_max_ms == b->reconnect_max_ms &&
	       a->send_timeout_ms == b->send_timeout_ms && a->connect_timeout_ms == b->connect_timeout_ms &&
	       a->start_at_newest == b->start_at_newest;
}

/* A new set: keep the forwarders whose settings did not change (no
 * reconnect, no resent events), start the others, stop the rest. */
static void child_configure(struct child *c, struct reader *r)
{
	uint32_t generation = get_u32(r);
	char *log_path = get_str(r), *state_dir = get_str(r);
	bool have_sizes = get_u32(r) != 0;
	struct field_sizes sizes;
	if (have_sizes)
		get_bytes(r, &sizes, sizeof(sizes));
	uint32_t n = get_u32(r);
	if (n > 4096)
		r->bad = true;
	struct forward_config *configs = xcalloc(r->bad ? 1 : n + 1, sizeof(*configs));
	for (uint32_t i = 0; i < n && !r->bad; i++)
		get_forward(r, &configs[i]);
	if (r->bad || !log_path || !state_dir) {
		child_problem(c, "forwarders: a malformed set from the monitor; keeping the running one");
		for (uint32_t i = 0; i < n && configs; i++)
			outputs_forward_free(&configs[i]);
		free(configs);
		free(log_path);
		free(state_dir);
		return;
	}
	struct forwarder **started = xcalloc(n + 1, sizeof(*started));
	bool *kept = xcalloc(c->n + 1, sizeof(*kept));
	bool same_place = c->log_path && strcmp(c->log_path, log_path) == 0 && strcmp(c->state_dir, state_dir) == 0;
	for (uint32_t i = 0; i < n; i++) {
		for (size_t j = 0; same_place && j < c->n && !started[i]; j++) {
			if (!kept[j] && c->forwarders[j] && same_forward(&configs[i], &c->configs[j])) {
				started[i] = c->forwarders[j];
				kept[j] = true;
			}
		}
		if (started[i])
			continue;
		strbuf_reset(&c->text);
		started[i] = forwarder_start(&configs[i], log_path, state_dir, have_sizes ? &sizes : NULL, &c->text);
		if (!started[i])
			child_problem(c, c->text.data);
	}
	for (size_t j = 0; j < c->n; j++) {
		if (!kept[j] && c->forwarders[j]) {
			while (forwarder_next_problem(c->forwarders[j], &c->text))
				child_problem(c, c->text.data);
			forwarder_free(c->forwarders[j]);   /* drains nothing: the cursor resumes */
		}
		outputs_forward_free(&c->configs[j]);
	}
	for (uint32_t i = 0; have_sizes && i < n; i++)
		if (started[i])
			forwarder_set_field_sizes(started[i], &sizes);
	free(kept);
	free(c->forwarders);
	free(c->configs);
	free(c->log_path);
	free(c->state_dir);
	c->forwarders = started;
	c->configs = configs;
	c->n = n;
	c->log_path = log_path;
	c->state_dir = state_dir;
	c->generation = generation;
	if (have_sizes) {
		c->sizes = sizes;
		c->have_sizes = true;
	}
	if (n == 0)
		c->stop = true;   /* nothing to forward: the monitor starts us again when there is */
	child_status(c);
}

static void child_take(struct child *c)
{
	size_t offset = 0, used;
	struct reader r;
	char type;

	while (!c->stop && next_frame(&c->in, offset, &type, &r, &used)) {
		offset += used;
		if (type == 'C') {
			child_configure(c, &r);
		} else if (type == 'W') {
			for (size_t i = 0; i < c->n; i++)
				if (c->forwarders[i])
					forwarder_wake(c->forwarders[i]);
		} else if (type == 'F' && get_bytes(&r, &c->sizes, sizeof(c->sizes))) {
			c->have_sizes = true;
			for (size_t i = 0; i < c->n; i++)
				if (c->forwarders[i])
					forwarder_set_field_sizes(c->forwarders[i], &c->sizes);
		} else if (type == 'S') {
			c->drain_ms = get_u32(&r);
			c->stop = true;
		}
	}
	drop_front(&c->in, offset);
}

/* Refuse to forward with any privilege: the drop must have happened. */
static int check_unprivileged(void)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	uid_t ruid, euid, suid;

	if (getresuid(&ruid, &euid, &suid) != 0 || ruid == 0 || euid == 0 || suid == 0) {
		fprintf(stderr, "sysmon forwarders: refusing to run as root (only the monitor starts this)\n");
		return -1;
	}
	if (syscall(SYS_capget, &header, data) != 0 || data[0].effective || data[1].effective ||
	    data[0].permitted || data[1].permitted || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		fprintf(stderr, "sysmon forwarders: refusing to run with capabilities or without no_new_privs\n");
		return -1;
	}
	return 0;
}

int forward_proc_child_main(void)
{
	struct child c = { .fd = CHILD_SOCKET_FD, .in = STRBUF_INIT, .out = STRBUF_INIT, .text = STRBUF_INIT };
	struct sigaction sa;
	struct stat st;

	if (fstat(CHILD_SOCKET_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "sysmon forwarders: only the monitor starts this (no socket on fd %d)\n",
			CHILD_SOCKET_FD);
		return EXIT_USAGE;
	}
	close(CHILD_EXE_FD);
	prctl(PR_SET_NAME, "sysmon-forward", 0, 0, 0);
	if (check_unprivileged() != 0)
		return EXIT_FAILURE_RUN;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGTERM, &sa, NULL);   /* the monitor stops us (see the top) */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);   /* reloads come from the monitor */
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	int64_t last_status = monotonic_ns();
	while (!c.stop) {
		struct pollfd pfd = { .fd = c.fd, .events = POLLIN };
		int rc = poll(&pfd, 1, STATUS_INTERVAL_MS);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc > 0) {
			if (receive(c.fd, &c.in) != 0) {
				child_take(&c);
				break;   /* the monitor is gone */
			}
			child_take(&c);
		}
		child_problems(&c);
		if (monotonic_ns() - last_status >= (int64_t)STATUS_INTERVAL_MS * 1000000) {
			last_status = monotonic_ns();
			child_status(&c);
		}
	}
	/* everything drains in parallel; the last status and problems go to
	 * the monitor */
	for (size_t i = 0; i < c.n; i++)
		if (c.forwarders[i])
			forwarder_request_stop(c.forwarders[i], c.drain_ms);
	for (size_t i = 0; i < c.n; i++)
		if (c.forwarders[i])
			forwarder_stop(c.forwarders[i]);
	child_problems(&c);
	child_status(&c);
	frame_begin(&c.out, 'D');
	frame_end(&c.out);
	child_send(&c);
	for (size_t i = 0; i < c.n; i++) {
		forwarder_free(c.forwarders[i]);
		outputs_forward_free(&c.configs[i]);
	}
	free(c.forwarders);
	free(c.configs);
	free(c.log_path);
	free(c.state_dir);
	strbuf_release(&c.in);
	strbuf_release(&c.out);
	strbuf_release(&c.text);
	return EXIT_OK;
}
