/*
 * The text of a failed system call on a named object, as the outputs keep
 * it in their last_error for `sysmon status`: "cannot open /var/log/x: No
 * such file or directory".
 */
#ifndef SYSMON_ERRTEXT_H
#define SYSMON_ERRTEXT_H

#include <stddef.h>

/* "WHAT OBJECT: strerror(ERROR)" into BUF of SIZE bytes (cut to fit). */
void errtext_set(char *buf, size_t size, const char *what, const char *object, int error);

#endif
