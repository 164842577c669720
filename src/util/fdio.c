/*
 * Whole writes to a file descriptor (interface: fdio.h).
 */
#include <errno.h>
#include <unistd.h>

#include "util/fdio.h"

int fd_write_all(int fd, const void *data, size_t len, size_t *written)
{
	const char *p = data;
	size_t done = 0;
	int rc = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			rc = -1;
			break;
		}
		done += (size_t)n;
	}
	if (written)
		*written = done;
	return rc;
}
