/*
 * User names for the User, ParentUser, SourceUser and TargetUser fields
 * (compatibility spec 3.6.6 and the project decision: root is "root", never
 * "-", and an unknown uid shows as its decimal number).
 *
 * Names come from getpwuid_r and are cached; the cache is dropped when
 * /etc/passwd's mtime changes (checked at most once per second).
 */
#ifndef SYSMON_USERS_H
#define SYSMON_USERS_H

#include <sys/types.h>

/* The name of UID, or UID in decimal if it has none.  Thread-safe.  The
 * string stays valid for at least the next USERS_CACHE_SIZE - 1 calls. */
const char *user_name(uid_t uid);

#define USERS_CACHE_SIZE 1024

#endif
