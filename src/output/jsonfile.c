/*
 * JSON lines file/stdout writer with size-based rotation (interface:
 * jsonfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/jsonfile.h"
#include "util/errtext.h"
#include "util/fdio.h"

/* Write out when this much is buffered (else at the monitor's tick). */
#define FLUSH_THRESHOLD (64u << 10)

struct jsonfile {
	char *path;                 /* NULL for stdout */
	uint64_t max_size;
	unsigned keep;
	int fd;
	struct strbuf buffer;
	uint64_t buffered_lines;
	struct jsonfile_stats stats;
};

static void set_error(struct jsonfile *file, const char *what, int error)
{
	errtext_set(file->stats.last_error, sizeof(file->stats.last_error), what,
		    file->path ? file->path : "stdout", error);
}

static int open_file(struct jsonfile *file)
{
	struct stat st;

	file->fd = open(file->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (file->fd < 0) {
		set_error(file, "cannot open", errno);
		return -1;
	}
	file->stats.file_bytes = fstat(file->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	file->stats.open = true;
	return 0;
}

struct jsonfile *jsonfile_open(const struct jsonfile_config *config)
{
	struct jsonfile *file = xcalloc(1, sizeof(*file));

	file->fd = -1;
	if (strcmp(config->path, "-") == 0) {
		file->fd = STDOUT_FILENO;
		file->stats.open = true;
		return file;
	}
	file->path = xstrdup(config->path);
	file->max_size = config->max_size;
	file->keep = config->keep;
	open_file(file);
	return file;
}

/* PATH -> PATH.1 -> ... -> PATH.keep; the oldest goes. */
static int rotate(struct jsonfile *file)
{
	struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;
	int rc = 0;

	close(file->fd);
	file->fd = -1;
	file->stats.open = false;
	if (file->keep == 0) {
		if (unlink(file->path) != 0 && errno != ENOENT) {
			set_error(file, "cannot remove", errno);
			rc = -1;
		}
	}
	for (unsigned n = file->keep; rc == 0 && n >= 1; n--) {
		strbuf_reset(&from);
		strbuf_reset(&to);
		if (n == 1)
			strbuf_puts(&from, file->path);
		else
			strbuf_printf(&from, "%s.%u", file->path, n - 1);
		strbuf_printf(&to, "%s.%u", file->path, n);
		if (rename(from.data, to.data) != 0 && errno != ENOENT) {
			set_error(file, "cannot rotate", errno);
			rc = -1;
		}
	}
	strbuf_release(&from);
	strbuf_release(&to);
	file->stats.rotations++;
	if (open_file(file) != 0)
		rc = -1;
	return rc;
}

static int write_all(struct jsonfile *file, const char *data, size_t len)
{
	size_t written;
	int rc = fd_write_all(file->fd, data, len, &written);

	file->stats.file_bytes += written;
	if (rc < 0)
		set_error(file, "cannot write to", errno);
	return rc;
}

int jsonfile_flush(struct jsonfile *file)
{
	if (file->buffer.len == 0)
		return file->stats.open ? 0 : -1;
	if (file->fd < 0 && (!file->path || open_file(file) != 0)) {
		/* keep nothing unbounded while the file cannot be opened */
		file->stats.discarded += file->buffered_lines;
		file->buffered_lines = 0;
		strbuf_reset(&file->buffer);
		return -1;
	}
	int rc = write_all(file, file->buffer.data, file->buffer.len);
	if (rc != 0) {
		file->stats.discarded += file->buffered_lines;
		if (file->path) {
			close(file->fd);
			file->fd = -1;
			file->stats.open = false;
		}
	}
	file->buffered_lines = 0;
	strbuf_reset(&file->buffer);
	return rc;
}

void jsonfile_write(struct jsonfile *file, const char *line, size_t len)
{
	if (file->path && file->max_size && file->fd >= 0 &&
	    file->stats.file_bytes + file->buffer.len + len + 1 > file->max_size &&
	    file->stats.file_bytes + file->buffer.len > 0) {
		jsonfile_flush(file);
		if (file->fd >= 0)
			rotate(file);
	}
	strbuf_append(&file->buffer, line, len);
	strbuf_putc(&file->buffer, '\n');
	file->buffered_lines++;
	file->stats.lines++;
	if (file->buffer.len >= FLUSH_THRESHOLD)
		jsonfile_flush(file);
}

void jsonfile_get_stats(const struct jsonfile *file, struct jsonfile_stats *stats)
{
	*stats = file->stats;
}

void jsonfile_close(struct jsonfile *file)
{
	if (!file)
		return;
	jsonfile_flush(file);
	if (file->path && file->fd >= 0)
		close(file->fd);
	strbuf_release(&file->buffer);
	free(file->path);
	free(file);
}
