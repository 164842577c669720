/*
 * Privilege separation: the forwarders' user and the monitor's part of the
 * set-up (interface: privsep.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "service/privsep.h"
#include "service/spawn.h"

static bool look_up(const char *name, struct forward_user *user)
{
	struct passwd *pw = getpwnam(name);

	if (!pw || pw->pw_uid == 0 || pw->pw_gid == 0)
		return false;
	user->uid = pw->pw_uid;
	user->gid = pw->pw_gid;
	snprintf(user->name, sizeof(user->name), "%s", name);
	return true;
}

int privsep_prepare(struct forward_user *user, struct strbuf *err)
{
	user->exe_fd = -1;
	user->fallback = false;
	if (!look_up(PRIVSEP_USER, user) && !look_up(PRIVSEP_USER_ALT, user)) {
		if (!look_up(PRIVSEP_FALLBACK_USER, user)) {
			strbuf_printf(err, "none of the users %s, %s, %s exists", PRIVSEP_USER, PRIVSEP_USER_ALT,
				      PRIVSEP_FALLBACK_USER);
			return -1;
		}
		user->fallback = true;
	}
	if (setgroups(1, &user->gid) != 0) {
		strbuf_printf(err, "setgroups: %s", strerror(errno));
		return -1;
	}
	user->exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (user->exe_fd < 0) {
		strbuf_printf(err, "/proc/self/exe: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int privsep_create_user(struct strbuf *err)
{
	char *const argv[] = { "useradd", "--system", "--user-group", "--no-create-home",
			       "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
			       "--comment", "sysmon forwarders", PRIVSEP_USER, NULL };

	if (getpwnam(PRIVSEP_USER) || getpwnam(PRIVSEP_USER_ALT))
		return 0;
	if (spawn_program(argv, true) != 0) {
		strbuf_printf(err, "cannot create the user %s (useradd failed); the forwarders would run as %s",
			      PRIVSEP_USER, PRIVSEP_FALLBACK_USER);
		return -1;
	}
	return 0;
}
