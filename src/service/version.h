/*
 * The version of sysmon, in one place: event 4's Version field, `sysmon -?`
 * and the man page quote it.
 */
#ifndef SYSMON_VERSION_H
#define SYSMON_VERSION_H

#define SYSMON_VERSION "0.1.0"

#endif
