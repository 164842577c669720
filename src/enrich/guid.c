/*
 * ProcessGuid/LogonGuid construction and the boot-to-wall clock offset; the
 * layout and its reasons are in guid.h.
 */
#include "enrich/guid.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

#include "enrich/users.h"
#include "util/clock.h"
#include "util/filewatch.h"
#include "util/strbuf.h"

#define NS_PER_SEC 1000000000LL

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static uint32_t machine_id;
static int64_t boot_to_wall_offset_ns;

static uint32_t read_machine_id(void)
{
	char text[9] = "";
	FILE *f = fopen("/etc/machine-id", "re");

	if (!f)
		return 0;
	size_t n = fread(text, 1, 8, f);
	fclose(f);
	if (n != 8)
		return 0;
	for (int i = 0; i < 8; i++)
		if (!strchr("0123456789abcdefABCDEF", text[i]))
			return 0;
	return (uint32_t)strtoul(text, NULL, 16);
}

static void init_once_fn(void)
{
	machine_id = read_machine_id();

	/* Read the wall clock between two boot-clock reads and keep the
	 * tightest of a few tries, so the offset is good to a microsecond. */
	int64_t best_span = INT64_MAX;
	for (int i = 0; i < 5; i++) {
		int64_t before = clock_ns(CLOCK_BOOTTIME);
		int64_t wall = clock_ns(CLOCK_REALTIME);
		int64_t after = clock_ns(CLOCK_BOOTTIME);
		if (after - before < best_span) {
			best_span = after - before;
			boot_to_wall_offset_ns = wall - (before + (after - before) / 2);
		}
	}
}

void guid_init(void)
{
	pthread_once(&init_once, init_once_fn);
}

uint32_t guid_machine_id(void)
{
	guid_init();
	return machine_id;
}

int64_t guid_boot_to_wall_ns(uint64_t boot_ns)
{
	guid_init();
	/* modulo 2^64: BOOT_NS may be any value a record held */
	return (int64_t)(boot_ns + (uint64_t)boot_to_wall_offset_ns);
}

void guid_format(char out[GUID_TEXT_SIZE], uint32_t seconds, uint64_t key)
{
	guid_init();
	unsigned char k[8];
	for (int i = 0; i < 8; i++)
		k[i] = (unsigned char)(key >> (8 * i));  /* little-endian, as Windows stores Data4 */
	snprintf(out, GUID_TEXT_SIZE,
		 "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
		 machine_id, seconds & 0xffff, seconds >> 16,
		 k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]);
}

void guid_format_process(char out[GUID_TEXT_SIZE], uint32_t pid, uint64_t start_boot_ns)
{
	int64_t wall_ns = guid_boot_to_wall_ns(start_boot_ns);
	uint32_t seconds = wall_ns > 0 ? (uint32_t)(wall_ns / NS_PER_SEC) : 0;
	uint64_t key = ((uint64_t)pid << 32) | (uint32_t)(start_boot_ns % NS_PER_SEC);

	guid_format(out, seconds, key);
}

/* Logins from utmp, re-read when the file changes (checked at most once a
 * second): a ProcessCreate costs a scan of a few records, not a file read. */
struct login {
	char line[sizeof(((struct utmpx *)0)->ut_line) + 1];
	char user[sizeof(((struct utmpx *)0)->ut_user) + 1];
	uint32_t seconds;
};

static pthread_mutex_t logins_lock = PTHREAD_MUTEX_INITIALIZER;
static struct login *logins;
static size_t nlogins;
static struct file_watch utmp_watch = FILE_WATCH_INIT(_PATH_UTMPX, NS_PER_SEC);

static void reload_logins(void)
{
	if (!file_watch_changed(&utmp_watch))
		return;
	nlogins = 0;

	int fd = open(_PATH_UTMPX, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct utmpx rec;
	size_t cap = 0;
	while (read(fd, &rec, sizeof(rec)) == (ssize_t)sizeof(rec)) {
		if (rec.ut_type != USER_PROCESS)
			continue;
		if (nlogins == cap) {
			cap = cap ? cap * 2 : 16;
			logins = xrealloc(logins, cap * sizeof(*logins));
		}
		struct login *l = &logins[nlogins++];
		memcpy(l->line, rec.ut_line, sizeof(rec.ut_line));
		l->line[sizeof(rec.ut_line)] = '\0';
		memcpy(l->user, rec.ut_user, sizeof(rec.ut_user));
		l->user[sizeof(rec.ut_user)] = '\0';
		l->seconds = (uint32_t)rec.ut_tv.tv_sec;
	}
	close(fd);
}

static uint32_t login_seconds(uint32_t uid, uint32_t tty)
{
	char line[32];
	const char *user = user_name(uid);
	uint32_t seconds = 0;

	snprintf(line, sizeof(line), "pts/%u", tty);
	pthread_mutex_lock(&logins_lock);
	reload_logins();
	for (size_t i = 0; i < nlogins; i++) {
		if (strcmp(logins[i].line, line) == 0 && strcmp(logins[i].user, user) == 0) {
			seconds = logins[i].seconds;
			break;
		}
	}
	pthread_mutex_unlock(&logins_lock);
	return seconds;
}

void guid_format_logon(char out[GUID_TEXT_SIZE], uint32_t uid, uint32_t tty)
{
	guid_format(out, login_seconds(uid, tty), (uint64_t)uid | (uint64_t)tty << 32);
}

void guid_format_logon_id(char out[11], uint32_t uid)
{
	snprintf(out, 11, "%u", uid);
}
