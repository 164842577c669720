/*
 * A growable, always NUL-terminated byte buffer: the one way this code base
 * builds strings whose length it does not know in advance (formatted events,
 * query output, dumps).  Allocation failure aborts with a message: the
 * daemon cannot do anything useful without memory.
 */
#ifndef SYSMON_STRBUF_H
#define SYSMON_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *data;     /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_append(struct strbuf *sb, const char *data, size_t len);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
void strbuf_reset(struct strbuf *sb);          /* empty, keeps the memory */
void strbuf_release(struct strbuf *sb);        /* frees the memory */
const char *strbuf_str(const struct strbuf *sb); /* "" when empty */
/* Append FMT as one line ('\n' added) to the line queue SB, unless SB
 * already holds LIMIT bytes: a queue nobody drains stays bounded. */
void strbuf_vpush_line(struct strbuf *sb, size_t limit, const char *fmt, va_list ap);
/* Move the first line of SB (text up to a '\n', which is dropped) into
 * LINE; false, LINE untouched, when SB holds no whole line. */
bool strbuf_shift_line(struct strbuf *sb, struct strbuf *line);

/* Memory helpers that abort with a message instead of returning NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
