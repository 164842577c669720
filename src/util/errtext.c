/*
 * The text of a failed system call on a named object (see errtext.h).
 */
#include "util/errtext.h"

#include <stdio.h>
#include <string.h>

void errtext_set(char *buf, size_t size, const char *what, const char *object, int error)
{
	snprintf(buf, size, "%s %s: %s", what, object, strerror(error));
}
