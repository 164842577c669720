/*
 * The installed service's files (see service.h): probing what is installed,
 * copying the program and the config into place atomically, the config's
 * origin record for event 16, and the boot service (systemd unit, or SysV
 * init script with rc?.d links).  Starting and stopping the monitor is in
 * daemon.c; both use pidfile.c (which monitor runs) and spawn.c (systemctl,
 * update-rc.d), never each other.
 */
#include "service/service.h"

#include "config/config.h"
#include "service/pidfile.h"
#include "service/spawn.h"
#include "util/fdio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_SIZE (64u << 20)
#define ORIGIN_SUFFIX ".origin"

/* The SysV init script: every action is `sysmon service ACTION`, so the
 * daemon logic exists once (daemon.c). */
static const char init_script[] =
	"#!/bin/sh\n"
	"### BEGIN INIT INFO\n"
	"# Provides:          sysmon\n"
	"# Required-Start:    $local_fs $remote_fs $syslog\n"
	"# Required-Stop:     $local_fs $remote_fs $syslog\n"
	"# Default-Start:     2 3 4 5\n"
	"# Default-Stop:      0 1 6\n"
	"# Short-Description: Sysmon-compatible system activity monitor\n"
	"# Description:       Logs process, network and file activity with the rules of\n"
	"#                    " SERVICE_CONFIG_PATH " (see sysmon(8)).\n"
	"### END INIT INFO\n"
	"#\n"
	"# Written by `sysmon -accepteula -i`, removed by `sysmon -u`.\n"
	"\n"
	"SYSMON=" SERVICE_BIN_PATH "\n"
	"\n"
	"case \"$1\" in\n"
	"start|stop|restart|reload|force-reload|status)\n"
	"\t[ -x \"$SYSMON\" ] || { echo \"$SYSMON is missing: reinstall with sysmon -accepteula -i\" >&2; exit 5; }\n"
	"\texec \"$SYSMON\" service \"$1\"\n"
	"\t;;\n"
	"*)\n"
	"\techo \"Usage: " SERVICE_INIT_SCRIPT " {start|stop|restart|reload|force-reload|status}\" >&2\n"
	"\texit 3\n"
	"\t;;\n"
	"esac\n";

static const char systemd_unit[] =
	"# Written by `sysmon -accepteula -i`, removed by `sysmon -u`.\n"
	"[Unit]\n"
	"Description=Sysmon-compatible system activity monitor\n"
	"Documentation=man:sysmon(8)\n"
	"After=local-fs.target\n"
	"\n"
	"[Service]\n"
	"Type=simple\n"
	"ExecStart=" SERVICE_BIN_PATH " run --config " SERVICE_CONFIG_PATH
	" --log " SERVICE_EVENTLOG_PATH " --pid-file " SERVICE_PID_PATH
	" --bpf-pins " SERVICE_BPF_PINS "\n"
	"ExecReload=/bin/kill -HUP $MAINPID\n"
	"Restart=on-failure\n"
	"RestartSec=10\n"
	"\n"
	"[Install]\n"
	"WantedBy=multi-user.target\n";

const char *service_init_script(void)
{
	return init_script;
}

const char *service_systemd_unit(void)
{
	return systemd_unit;
}

/* rc?.d links made when update-rc.d is absent: the script's LSB
 * Default-Start and Default-Stop levels. */
static const struct {
	const char *dir;
	const char *prefix;     /* S: start in that runlevel, K: stop */
} rc_links[] = {
	{ "/etc/rc0.d", "K80" }, { "/etc/rc1.d", "K80" }, { "/etc/rc2.d", "S20" },
	{ "/etc/rc3.d", "S20" }, { "/etc/rc4.d", "S20" }, { "/etc/rc5.d", "S20" },
	{ "/etc/rc6.d", "K80" },
};
static const char *const rc_all_dirs[] = {
	"/etc/rc0.d", "/etc/rc1.d", "/etc/rc2.d", "/etc/rc3.d", "/etc/rc4.d",
	"/etc/rc5.d", "/etc/rc6.d", "/etc/rcS.d",
};

/* Append one message to ERR; several (from a removal that goes on after a
 * failure) are separated by newlines. */
static void __attribute__((format(printf, 2, 3))) add_error(struct strbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (err->len)
		strbuf_putc(err, '\n');
	va_start(ap, fmt);
	strbuf_vprintf(err, fmt, ap);
	va_end(ap);
}

static bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static bool systemd_is_init(void)
{
	char comm[32] = "";
	FILE *f = fopen("/proc/1/comm", "r");

	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	return strcmp(comm, "systemd\n") == 0 || path_exists("/run/systemd/system");
}

void service_probe(struct service_state *state)
{
	memset(state, 0, sizeof(*state));
	state->systemd = systemd_is_init();
	state->binary = path_exists(SERVICE_BIN_PATH);
	state->config = path_exists(SERVICE_CONFIG_PATH);
	state->init_script = path_exists(SERVICE_INIT_SCRIPT);
	state->unit = path_exists(SERVICE_UNIT_PATH);
	state->pid = pidfile_holder(SERVICE_PID_PATH, &state->stale_pid);
}

bool service_installed(const struct service_state *state)
{
	return state->config || state->init_script || state->unit;
}

static void note_missing(struct strbuf *missing, const char *path)
{
	if (!missing)
		return;
	if (missing->len)
		strbuf_puts(missing, ", ");
	strbuf_puts(missing, path);
}

bool service_complete(const struct service_state *state, struct strbuf *missing)
{
	bool boot = state->systemd ? state->unit : state->init_script;

	if (!state->binary)
		note_missing(missing, SERVICE_BIN_PATH);
	if (!state->config)
		note_missing(missing, SERVICE_CONFIG_PATH);
	if (!boot)
		note_missing(missing, state->systemd ? SERVICE_UNIT_PATH : SERVICE_INIT_SCRIPT);
	return state->binary && state->config && boot;
}

bool service_require_root(const char *action)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "You need to run Sysmon as root (to %s).\n", action);
	return false;
}

int service_read_file(const char *path, char **data, size_t *len, struct strbuf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		add_error(err, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE_SIZE) {
		if (S_ISDIR(st.st_mode))
			add_error(err, "%s: is a directory, not a file", path);
		else if (!S_ISREG(st.st_mode))
			add_error(err, "%s: is not a regular file", path);
		else
			add_error(err, "%s: larger than %u MiB: is this the right file?", path,
				  MAX_FILE_SIZE >> 20);
		close(fd);
		return -1;
	}
	struct strbuf buf = STRBUF_INIT;
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			add_error(err, "%s: cannot read: %s", path, strerror(errno));
			strbuf_release(&buf);
			close(fd);
			return -1;
		}
		if (buf.len + (size_t)n > MAX_FILE_SIZE) {
			add_error(err, "%s: larger than %u MiB: is this the right file?", path,
				  MAX_FILE_SIZE >> 20);
			strbuf_release(&buf);
			close(fd);
			return -1;
		}
		strbuf_append(&buf, chunk, (size_t)n);
	}
	close(fd);
	strbuf_grow(&buf, 1);   /* an empty file still gets a buffer */
	*data = buf.data;
	*len = buf.len;
	return 0;
}

struct sysmon_config *service_load_config(const char *path, char **data, size_t *len,
					  struct strbuf *err)
{
	struct sysmon_config *config;

	if (service_read_file(path, data, len, err) < 0)
		return NULL;
	config = config_load_memory(path, *data, *len, err);
	if (!config) {
		free(*data);
		*data = NULL;
	}
	return config;
}

/* Write PATH atomically: a temporary file in the same directory, synced,
 * then renamed over PATH, so that readers (the monitor reloading) see the
 * old file or the new one, never a part. */
static int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode,
			     struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	int fd;

	strbuf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		add_error(err, "%s: cannot create: %s", tmp.data, strerror(errno));
		strbuf_release(&tmp);
		return -1;
	}
	if (fchmod(fd, mode) < 0 || fd_write_all(fd, data, len, NULL) < 0 || fsync(fd) < 0) {
		add_error(err, "%s: cannot write: %s", tmp.data, strerror(errno));
		close(fd);
		unlink(tmp.data);
		strbuf_release(&tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp.data, path) < 0) {
		add_error(err, "%s: cannot replace: %s", path, strerror(errno));
		unlink(tmp.data);
		strbuf_release(&tmp);
		return -1;
	}
	strbuf_release(&tmp);
	return 0;
}

/* Create DIR with MODE, or set MODE on it if it exists. */
static int make_dir(const char *dir, mode_t mode, struct strbuf *err)
{
	if (mkdir(dir, mode) < 0 && errno != EEXIST) {
		add_error(err, "%s: cannot create: %s", dir, strerror(errno));
		return -1;
	}
	if (chmod(dir, mode) < 0) {
		add_error(err, "%s: cannot set its mode: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int service_install_binary(struct strbuf *err)
{
	struct stat self, installed;
	char *data;
	size_t len;

	if (stat("/proc/self/exe", &self) < 0) {
		add_error(err, "/proc/self/exe: %s", strerror(errno));
		return -1;
	}
	if (stat(SERVICE_BIN_PATH, &installed) == 0 && installed.st_dev == self.st_dev &&
	    installed.st_ino == self.st_ino)
		return 0;
	if (service_read_file("/proc/self/exe", &data, &len, err) < 0)
		return -1;
	/* rename() also works while an old copy is running ("text file busy"). */
	int rc = write_file_atomic(SERVICE_BIN_PATH, data, len, 0755, err);

	free(data);
	return rc;
}

static char *origin_path(const char *config_path)
{
	struct strbuf path = STRBUF_INIT;

	strbuf_printf(&path, "%s%s", config_path, ORIGIN_SUFFIX);
	return path.data;
}

int service_write_config(const char *data, size_t len, const char *origin, struct strbuf *err)
{
	if (make_dir(SERVICE_CONFIG_DIR, 0700, err) < 0)
		return -1;

	/* The origin first: a reload triggered between the two renames then
	 * names the new file for the old config at worst, never the reverse. */
	char *opath = origin_path(SERVICE_CONFIG_PATH);
	struct strbuf line = STRBUF_INIT;

	strbuf_printf(&line, "%s\n", origin);
	int rc = write_file_atomic(opath, line.data, line.len, 0600, err);

	strbuf_release(&line);
	free(opath);
	if (rc < 0)
		return -1;
	return write_file_atomic(SERVICE_CONFIG_PATH, data, len, 0600, err);
}

char *service_config_origin(const char *config_path)
{
	char *opath = origin_path(config_path);
	FILE *f = fopen(opath, "re");
	char line[4096];
	char *origin = NULL;

	free(opath);
	if (f) {
		if (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0])
				origin = xstrdup(line);
		}
		fclose(f);
	}
	return origin ? origin : xstrdup(config_path);
}

static bool have_program(const char *name)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[256];

		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

static int make_rc_links(struct strbuf *err)
{
	static const char target[] = "../init.d/" SERVICE_NAME;

	if (have_program("update-rc.d")) {
		char *argv[] = { "update-rc.d", SERVICE_NAME, "defaults", NULL };

		if (spawn_program(argv, false) == 0)
			return 0;
	}
	for (size_t i = 0; i < sizeof(rc_links) / sizeof(rc_links[0]); i++) {
		char link[256];

		snprintf(link, sizeof(link), "%s/%s%s", rc_links[i].dir, rc_links[i].prefix, SERVICE_NAME);
		if (mkdir(rc_links[i].dir, 0755) < 0 && errno != EEXIST) {
			add_error(err, "%s: cannot create: %s", rc_links[i].dir, strerror(errno));
			return -1;
		}
		if (symlink(target, link) < 0 && errno != EEXIST) {
			add_error(err, "%s: cannot create: %s", link, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Remove every rc?.d link named [SK]NNsysmon, whoever made it. */
static int remove_rc_links(struct strbuf *err)
{
	int rc = 0;

	for (size_t i = 0; i < sizeof(rc_all_dirs) / sizeof(rc_all_dirs[0]); i++) {
		DIR *dir = opendir(rc_all_dirs[i]);
		struct dirent *de;

		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			const char *name = de->d_name;

			if ((name[0] != 'S' && name[0] != 'K') || name[1] < '0' || name[1] > '9' ||
			    name[2] < '0' || name[2] > '9' || strcmp(name + 3, SERVICE_NAME) != 0)
				continue;
			char link[512];

			snprintf(link, sizeof(link), "%s/%s", rc_all_dirs[i], name);
			if (unlink(link) < 0 && errno != ENOENT) {
				add_error(err, "%s: cannot remove: %s", link, strerror(errno));
				rc = -1;
			}
		}
		closedir(dir);
	}
	return rc;
}

int service_install_boot(const struct service_state *state, struct strbuf *err)
{
	if (state->systemd) {
		if (write_file_atomic(SERVICE_UNIT_PATH, systemd_unit, sizeof(systemd_unit) - 1, 0644,
				      err) < 0)
			return -1;
		char *reload[] = { "systemctl", "daemon-reload", NULL };
		char *enable[] = { "systemctl", "enable", "sysmon.service", NULL };

		if (spawn_program(reload, true) != 0 ||
		    spawn_program(enable, true) != 0) {
			add_error(err, "systemctl could not enable sysmon.service (see its message above)");
			return -1;
		}
		return 0;
	}
	if (write_file_atomic(SERVICE_INIT_SCRIPT, init_script, sizeof(init_script) - 1, 0755,
			      err) < 0)
		return -1;
	return make_rc_links(err);
}

int service_remove_boot(const struct service_state *state, struct strbuf *err)
{
	int rc = 0;

	if (state->unit || state->systemd) {
		if (state->systemd) {
			char *disable[] = { "systemctl", "disable", "sysmon.service", NULL };

			spawn_program(disable, false);
		}
		if (unlink(SERVICE_UNIT_PATH) < 0 && errno != ENOENT) {
			add_error(err, "%s: cannot remove: %s", SERVICE_UNIT_PATH, strerror(errno));
			rc = -1;
		}
		if (state->systemd) {
			char *reload[] = { "systemctl", "daemon-reload", NULL };

			spawn_program(reload, false);
		}
	}
	if (unlink(SERVICE_INIT_SCRIPT) < 0 && errno != ENOENT) {
		add_error(err, "%s: cannot remove: %s", SERVICE_INIT_SCRIPT, strerror(errno));
		rc = -1;
	}
	if (remove_rc_links(err) < 0)
		rc = -1;
	return rc;
}

/* Remove DIR and what it holds (one level: the config directory has no
 * subdirectories of ours; anything else is left and reported). */
static int remove_dir(const char *dir, struct strbuf *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		if (errno == ENOENT)
			return 0;
		add_error(err, "%s: cannot open: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT) {
			add_error(err, "%s: cannot remove: %s", path, strerror(errno));
			rc = -1;
		}
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT) {
		add_error(err, "%s: cannot remove: %s", dir, strerror(errno));
		rc = -1;
	}
	return rc;
}

int service_remove_files(bool binary, struct strbuf *err)
{
	int rc = 0;

	if (binary && unlink(SERVICE_BIN_PATH) < 0 && errno != ENOENT) {
		add_error(err, "%s: cannot remove: %s", SERVICE_BIN_PATH, strerror(errno));
		rc = -1;
	}
	if (remove_dir(SERVICE_CONFIG_DIR, err) < 0)
		rc = -1;
	return rc;
}
