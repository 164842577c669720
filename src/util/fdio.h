/*
 * Whole writes to a file descriptor: write(2) until every byte is out,
 * through interruptions by signals (the daemon's handlers do not restart
 * system calls, so a stop or reload signal may land in the middle of any
 * write) and short writes to pipes and sockets.
 */
#ifndef SYSMON_FDIO_H
#define SYSMON_FDIO_H

#include <stddef.h>

/* Write the LEN bytes at DATA to FD.  0, or -1 with errno set (EIO when
 * the descriptor takes no more bytes).  *WRITTEN (unless NULL) is what was
 * written either way. */
int fd_write_all(int fd, const void *data, size_t len, size_t *written);

#endif
