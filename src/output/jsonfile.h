/*
 * The JSON lines sink's writer: one event per line into a file with
 * size-based rotation (PATH -> PATH.1 -> ... -> PATH.keep, oldest dropped),
 * or into stdout, for log shippers (Vector, Fluent Bit, Filebeat) that tail
 * a file or read a pipe.  Lines are buffered and written whole, so a reader
 * never sees half a line at a rotation.
 */
#ifndef SYSMON_JSONFILE_H
#define SYSMON_JSONFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "output/outputs_config.h"
#include "util/strbuf.h"

struct jsonfile;

struct jsonfile_stats {
	uint64_t lines;             /* written (or buffered to be) */
	uint64_t discarded;         /* thrown away after write errors (a consumer of
				     * the event log writes them again) */
	uint64_t rotations;
	uint64_t file_bytes;        /* size of the current file */
	bool open;
	char last_error[256];
};

/* Open (or create) the file; a failure to open is not fatal: it is
 * retried at every flush and reported in the stats. */
struct jsonfile *jsonfile_open(const struct jsonfile_config *config);
/* Append one line (LINE must not hold a newline; it is added). */
void jsonfile_write(struct jsonfile *file, const char *line, size_t len);
/* Write out the buffer.  Returns 0, or -1 if an error is pending. */
int jsonfile_flush(struct jsonfile *file);
void jsonfile_get_stats(const struct jsonfile *file, struct jsonfile_stats *stats);
void jsonfile_close(struct jsonfile *file);

#endif
