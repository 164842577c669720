/*
 * uid -> user name for the User fields (see users.h).  A hit costs a hash
 * lookup under a mutex; /etc/passwd is stat'ed at most once per second and
 * a change of it forgets every cached name.
 */
#include "enrich/users.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "enrich/name_cache.h"
#include "util/filewatch.h"
#include "util/strbuf.h"

#define PASSWD_PATH "/etc/passwd"
#define PASSWD_CHECK_NS 1000000000LL

static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;
static struct name_cache *users;
static struct file_watch passwd_watch = FILE_WATCH_INIT(PASSWD_PATH, PASSWD_CHECK_NS);

static void check_passwd(void)
{
	if (file_watch_changed(&passwd_watch))
		name_cache_invalidate(users);
}

/* The name from the password database into *BUF (grown as needed), or NULL
 * if UID has no entry. */
static const char *lookup_passwd(uid_t uid, char **buf, size_t *buflen)
{
	struct passwd pw, *found = NULL;

	for (;;) {
		int rc = getpwuid_r(uid, &pw, *buf, *buflen, &found);
		if (rc == ERANGE && *buflen < (1u << 20)) {
			*buflen *= 2;
			*buf = xrealloc(*buf, *buflen);
			continue;
		}
		if (rc != 0 || !found || !found->pw_name || !found->pw_name[0])
			return NULL;
		return found->pw_name;
	}
}

const char *user_name(uid_t uid)
{
	char key[16];
	const char *name;

	snprintf(key, sizeof(key), "%u", (unsigned)uid);
	pthread_mutex_lock(&users_lock);
	if (!users)
		users = name_cache_new(USERS_CACHE_SIZE);
	check_passwd();
	name = name_cache_find(users, key, 0);
	if (!name) {
		size_t buflen = 1024;
		char *buf = xmalloc(buflen);
		const char *found = lookup_passwd(uid, &buf, &buflen);
		/* An unknown uid is cached too (as its number), so that a
		 * flood of events from it does not re-read the database. */
		name = name_cache_insert(users, key, found ? found : key, INT64_MAX);
		free(buf);
	}
	pthread_mutex_unlock(&users_lock);
	return name;
}
