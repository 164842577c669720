/*
 * `sysmon query`: read the event log (store/query.h does the filtering).
 *
 *   sysmon query [--log PATH] [--event N[,N]] [--since T] [--until T]
 *                [--where "FIELD CONDITION VALUE"]... [XPATH | --xpath XPATH]
 *                [--newest-first] [--limit N]
 *                [--format xml|json|text|table] [--fields A,B,...]
 *                [--count-by F[,F]] [--distinct F] [--follow] [--tree PID|GUID]
 *
 * wevtutil's qe spellings work too (`sysmon log qe` calls this): a channel
 * name as first word (ignored), /q:XPATH, /c:N, /rd:true, /f:text|xml.
 * Output: xml is the monitor's own line, json its JSON line (both byte for
 * byte, except that the log keeps whole values where the config's FieldSizes
 * cut the monitor's output), text is `wevtutil qe /f:text`'s layout, table
 * aligns the chosen fields.
 * Exit status: 0; 87 for bad input (unknown field or condition, malformed
 * XPath or time); 1 when the log cannot be read.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "output/format.h"
#include "store/eventlog.h"
#include "store/query.h"
#include "util/strbuf.h"

enum output_format { OUT_XML, OUT_JSON, OUT_TEXT, OUT_TABLE };

struct query_options {
	const char *log_path;
	enum output_format format;
	char **fields;                  /* --fields / --count-by / --distinct */
	size_t nfields;
	bool count_by, distinct, follow;
	const char *tree;
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sysmon query [--log PATH] [--event N[,N]] [--since T] [--until T]\n"
		"                    [--where \"FIELD CONDITION VALUE\"]... [XPATH]\n"
		"                    [--newest-first] [--limit N] [--format xml|json|text|table]\n"
		"                    [--fields A,B,...] [--count-by F[,F]] [--distinct F]\n"
		"                    [--follow] [--tree PID|ProcessGuid]\n"
		"  T: 30m, 1h, 2d, \"2026-11-26 10:00:00\" (UTC) or ISO 8601\n"
		"  CONDITION: is, is not, contains, contains any, is any, contains all, excludes,\n"
		"             excludes any, excludes all, begin with, not begin with, end with,\n"
		"             not end with, less than, more than, image\n"
		"  XPATH: *[System[(EventID=3)]] and *[EventData[Data[@Name='DestinationPort']='443']]\n"
		"  e.g. sysmon query --event 3 --count-by Image\n");
}

static int split_list(const char *list, char ***items, size_t *n, const char *what, struct strbuf *err)
{
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		while (len && p[0] == ' ') {
			p++;
			len--;
		}
		while (len && p[len - 1] == ' ')
			len--;
		if (len == 0) {
			strbuf_printf(err, "%s: empty field name in '%s'", what, list);
			return -1;
		}
		*items = xrealloc(*items, (*n + 1) * sizeof(**items));
		(*items)[(*n)++] = xstrndup(p, len);
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* Options that take a value, as "--name VALUE" or "--name=VALUE". */
static const char *const valued_options[] = {
	"--log", "--event", "--since", "--until", "--where", "--xpath", "--limit", "--format",
	"--fields", "--count-by", "--distinct", "--tree", NULL,
};

/* Is argv[*I] one of valued_options?  1 with *NAME and *VALUE set (and *I
 * past the value), 0 if not, -1 if its value is missing. */
static int valued_option(int argc, char **argv, int *i, const char **name, const char **value,
			 struct strbuf *err)
{
	const char *arg = argv[*i];

	for (const char *const *o = valued_options; *o; o++) {
		size_t len = strlen(*o);

		if (strncmp(arg, *o, len) != 0 || (arg[len] != '\0' && arg[len] != '='))
			continue;
		*name = *o;
		if (arg[len] == '=') {
			*value = arg + len + 1;
			return 1;
		}
		if (*i + 1 >= argc) {
			strbuf_printf(err, "%s needs a value", *o);
			return -1;
		}
		*value = argv[++*i];
		return 1;
	}
	return 0;
}

static int parse_limit(const char *text, uint64_t *limit, struct strbuf *err)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);

	if (!*text || *end || errno || text[0] == '-') {
		strbuf_printf(err, "--limit: '%s' is not a number", text);
		return -1;
	}
	*limit = v;
	return 0;
}

static int parse_format(const char *text, enum output_format *format, struct strbuf *err)
{
	if (!strcasecmp(text, "xml") || !strcasecmp(text, "renderedxml"))
		*format = OUT_XML;
	else if (!strcasecmp(text, "json"))
		*format = OUT_JSON;
	else if (!strcasecmp(text, "text"))
		*format = OUT_TEXT;
	else if (!strcasecmp(text, "table"))
		*format = OUT_TABLE;
	else {
		strbuf_printf(err, "--format: '%s' is not one of xml, json, text, table", text);
		return -1;
	}
	return 0;
}

static bool looks_like_xpath(const char *arg)
{
	while (*arg == ' ' || *arg == '(')
		arg++;
	return *arg == '*' || strncasecmp(arg, "Event[", 6) == 0 || strncasecmp(arg, "not(", 4) == 0;
}

static int parse_options(int argc, char **argv, struct query *q, struct query_options *opt,
			 struct strbuf *err)
{
	int64_t now = event_now_ns();
	bool have_limit = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *option, *value;
		int valued = valued_option(argc, argv, &i, &option, &value, err);

		if (valued < 0)
			return -1;
		if (valued) {
			if (!strcmp(option, "--log")) {
				opt->log_path = value;
			} else if (!strcmp(option, "--event")) {
				if (query_add_events(q, value, err) < 0)
					return -1;
			} else if (!strcmp(option, "--since") || !strcmp(option, "--until")) {
				bool since = !strcmp(option, "--since");

				if (query_parse_time(value, now, since ? &q->since_ns : &q->until_ns, err) < 0)
					return -1;
				*(since ? &q->has_since : &q->has_until) = true;
			} else if (!strcmp(option, "--where")) {
				if (query_add_where(q, value, err) < 0)
					return -1;
			} else if (!strcmp(option, "--xpath")) {
				if (query_add_xpath(q, value, now, err) < 0)
					return -1;
			} else if (!strcmp(option, "--limit")) {
				if (parse_limit(value, &q->limit, err) < 0)
					return -1;
				have_limit = true;
			} else if (!strcmp(option, "--format")) {
				if (parse_format(value, &opt->format, err) < 0)
					return -1;
			} else if (!strcmp(option, "--tree")) {
				opt->tree = value;
			} else {
				if (opt->nfields) {
					strbuf_printf(err, "use one of --fields, --count-by and --distinct");
					return -1;
				}
				opt->count_by = !strcmp(option, "--count-by");
				opt->distinct = !strcmp(option, "--distinct");
				if (split_list(value, &opt->fields, &opt->nfields, option, err) < 0)
					return -1;
				if (opt->distinct && opt->nfields != 1) {
					strbuf_printf(err, "--distinct takes one field");
					return -1;
				}
			}
		} else if (!strcmp(arg, "--newest-first") || !strcasecmp(arg, "/rd:true")) {
			q->newest_first = true;
		} else if (!strcasecmp(arg, "/rd:false")) {
			q->newest_first = false;
		} else if (!strcmp(arg, "--follow") || !strcmp(arg, "-f")) {
			opt->follow = true;
		} else if (!strncasecmp(arg, "/q:", 3)) {
			if (query_add_xpath(q, arg + 3, now, err) < 0)
				return -1;
		} else if (!strncasecmp(arg, "/c:", 3)) {
			if (parse_limit(arg + 3, &q->limit, err) < 0)
				return -1;
			have_limit = true;
		} else if (!strncasecmp(arg, "/f:", 3)) {
			if (parse_format(arg + 3, &opt->format, err) < 0)
				return -1;
		} else if (!strncasecmp(arg, "/e:", 3) || !strncasecmp(arg, "/lf:", 4)) {
			continue;   /* wevtutil layout switches with no meaning here */
		} else if (looks_like_xpath(arg)) {
			if (query_add_xpath(q, arg, now, err) < 0)
				return -1;
		} else if (i == 1 && arg[0] != '-' && strcasestr(arg, "sysmon")) {
			continue;   /* wevtutil's channel name */
		} else {
			strbuf_printf(err, "unknown argument '%s'", arg);
			return -1;
		}
	}
	if (opt->follow && !have_limit)
		q->limit = 10;   /* like tail -f: the last records, then new ones */
	if (opt->follow && (opt->count_by || opt->distinct || opt->tree)) {
		strbuf_printf(err, "--follow prints records; it does not combine with --count-by, --distinct or --tree");
		return -1;
	}
	return 0;
}

/* Printing records. */

struct printer {
	struct eventlog *log;
	struct query_options *opt;
	FILE *out;
	struct strbuf line;
	uint64_t printed;
	uint64_t last_id;
	/* table: rows buffered to align columns */
	char ***rows;
	size_t nrows;
	/* follow with a limit: the newest records, collected newest first */
	struct event *held;
	unsigned *held_origin;
	size_t nheld;
};

static void origin_context(struct printer *p, unsigned origin, struct format_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	eventlog_origin(p->log, origin, &ctx->computer, &ctx->process_id, &ctx->thread_id);
}

static void print_text(struct printer *p, const struct event *ev, unsigned origin)
{
	struct format_context ctx;
	char when[48];
	const struct schema_event *schema = ev->schema;

	origin_context(p, origin, &ctx);
	event_format_systemtime(ev->time_ns, when);
	when[23] = '\0';   /* wevtutil shows milliseconds */
	strbuf_printf(&p->line,
		      "Event[%" PRIu64 "]:\n"
		      "  Log Name: Linux-Sysmon/Operational\n"
		      "  Source: Linux-Sysmon\n"
		      "  Date: %s\n"
		      "  Event ID: %u\n"
		      "  Task: %s%s%s%s\n"
		      "  Level: %s\n"
		      "  Opcode: Info\n"
		      "  Keyword: N/A\n"
		      "  User: S-1-5-18\n"
		      "  User Name: root\n"
		      "  Computer: %s\n"
		      "  Record ID: %" PRIu64 "\n"
		      "  Description: \n"
		      "%s:\n",
		      p->printed, when, schema->id, schema->title,
		      schema->rule_tag ? " (rule: " : "", schema->rule_tag ? schema->rule_tag : "",
		      schema->rule_tag ? ")" : "",
		      schema->level == 2 ? "Error" : "Information", ctx.computer, ev->record_id,
		      schema->title);
	for (unsigned i = 0; i < schema->nfields; i++) {
		strbuf_printf(&p->line, "%s: ", schema->fields[i].name);
		strbuf_append(&p->line, event_value(ev, (int)i), event_value_len(ev, (int)i));
		strbuf_putc(&p->line, '\n');
	}
	strbuf_putc(&p->line, '\n');
}

static void table_row(struct printer *p, char **cells)
{
	p->rows = xrealloc(p->rows, (p->nrows + 1) * sizeof(*p->rows));
	p->rows[p->nrows++] = cells;
}

/* Cells are cut at 80 characters and tabs/newlines shown as spaces, so a
 * hostile command line cannot break the table. */
static char *table_cell(const char *value)
{
	size_t len = strlen(value);
	char *cell = xstrndup(value, len > 80 ? 80 : len);

	for (char *c = cell; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	if (len > 80)
		memcpy(cell + 77, "...", 3);
	return cell;
}

static void flush_table(struct printer *p)
{
	size_t ncols = p->opt->nfields;
	size_t *width = xcalloc(ncols, sizeof(*width));

	if (p->nrows == 0) {
		free(width);
		return;
	}
	for (size_t r = 0; r < p->nrows; r++)
		for (size_t c = 0; c < ncols; c++)
			if (strlen(p->rows[r][c]) > width[c])
				width[c] = strlen(p->rows[r][c]);
	for (size_t r = 0; r < p->nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			if (c + 1 < ncols)
				fprintf(p->out, "%-*s  ", (int)width[c], p->rows[r][c]);
			else
				fprintf(p->out, "%s\n", p->rows[r][c]);
			free(p->rows[r][c]);
		}
		free(p->rows[r]);
	}
	free(width);
	free(p->rows);
	p->rows = NULL;
	p->nrows = 0;
}

static void table_header(struct printer *p)
{
	char **cells = xcalloc(p->opt->nfields, sizeof(*cells));

	for (size_t c = 0; c < p->opt->nfields; c++)
		cells[c] = xstrdup(p->opt->fields[c]);
	table_row(p, cells);
}

static int print_record(const struct event *ev, unsigned origin, void *arg)
{
	struct printer *p = arg;
	struct format_context ctx;

	if (ev->record_id > p->last_id)
		p->last_id = ev->record_id;
	strbuf_reset(&p->line);
	switch (p->opt->format) {
	case OUT_XML:
		origin_context(p, origin, &ctx);
		format_xml(&p->line, ev, &ctx);
		strbuf_putc(&p->line, '\n');
		break;
	case OUT_JSON:
		origin_context(p, origin, &ctx);
		format_json(&p->line, ev, &ctx);
		strbuf_putc(&p->line, '\n');
		break;
	case OUT_TEXT:
		print_text(p, ev, origin);
		break;
	case OUT_TABLE: {
		char **cells = xcalloc(p->opt->nfields, sizeof(*cells));
		char buf[64];

		for (size_t c = 0; c < p->opt->nfields; c++)
			cells[c] = table_cell(query_field_value(p->log, ev, origin, p->opt->fields[c], buf));
		table_row(p, cells);
		break;
	}
	}
	p->printed++;
	if (p->line.len && fwrite(p->line.data, 1, p->line.len, p->out) != p->line.len)
		return -1;
	return 0;
}

/* --follow's first part: the newest N records, printed oldest first. */
static int hold_record(const struct event *ev, unsigned origin, void *arg)
{
	struct printer *p = arg;
	struct event *copy;

	p->held = xrealloc(p->held, (p->nheld + 1) * sizeof(*p->held));
	p->held_origin = xrealloc(p->held_origin, (p->nheld + 1) * sizeof(*p->held_origin));
	copy = &p->held[p->nheld];
	event_init(copy);
	event_reset(copy, ev->schema->id);
	for (unsigned i = 0; i < ev->schema->nfields; i++)
		if (event_is_set(ev, (int)i))
			event_set(copy, (int)i, event_value(ev, (int)i), event_value_len(ev, (int)i));
	copy->record_id = ev->record_id;
	copy->time_ns = ev->time_ns;
	p->held_origin[p->nheld++] = origin;
	return 0;
}

/* The newest record id in the log now (0 if empty), -1 on error. */
static int64_t newest_record(struct eventlog *log, struct strbuf *err)
{
	static const char *const no_fields[] = { NULL };
	struct eventlog_select sel = { .newest_first = true, .fields = no_fields };
	struct eventlog_cursor *cur = eventlog_select(log, &sel, err);
	struct event ev;
	int64_t id = -1;
	unsigned origin;

	if (!cur)
		return -1;
	event_init(&ev);
	int rc = eventlog_next(cur, &ev, &origin, err);

	if (rc >= 0)
		id = rc ? (int64_t)ev.record_id : 0;
	event_free(&ev);
	eventlog_cursor_free(cur);
	return id;
}

static int run_follow(struct eventlog *log, struct query *q, struct printer *p, const char *const *fields,
		      size_t nfields, struct strbuf *err)
{
	struct sigaction sa = { .sa_handler = on_interrupt };
	int64_t newest = newest_record(log, err);

	if (newest < 0)
		return EXIT_FAILURE_RUN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The newest LIMIT records up to NEWEST, oldest first. */
	q->newest_first = true;
	q->up_to_record_id = (uint64_t)newest;
	if (q->limit && query_run(log, q, fields, nfields, hold_record, p, err) < 0)
		return EXIT_FAILURE_RUN;
	for (size_t i = p->nheld; i-- > 0;) {
		print_record(&p->held[i], p->held_origin[i], p);
		event_free(&p->held[i]);
	}
	free(p->held);
	free(p->held_origin);
	p->held = NULL;
	if (p->opt->format == OUT_TABLE)
		flush_table(p);
	fflush(p->out);
	/* Then every new record, polling (a reader never blocks the writer). */
	q->newest_first = false;
	q->limit = 0;
	q->after_record_id = (uint64_t)newest;
	while (!interrupted) {
		usleep(200 * 1000);
		newest = newest_record(log, err);
		if (newest < 0)
			return EXIT_FAILURE_RUN;
		if ((uint64_t)newest <= q->after_record_id)
			continue;
		q->up_to_record_id = (uint64_t)newest;
		if (query_run(log, q, fields, nfields, print_record, p, err) < 0)
			return EXIT_FAILURE_RUN;
		if (p->opt->format == OUT_TABLE)
			flush_table(p);
		fflush(p->out);
		q->after_record_id = (uint64_t)newest;
	}
	return EXIT_OK;
}

/* --tree: ancestors and descendants of one process from ProcessCreate. */

struct tree_node {
	uint64_t record_id;
	char *guid, *parent_guid, *image, *command_line, *utc_time;
	unsigned long pid;
	bool printed;
};

struct tree {
	struct tree_node *nodes;        /* in record id order */
	size_t n;
	/* Sorted views, so that a log of a million processes stays fast:
	 * by ProcessGuid and by ParentProcessGuid (then record id). */
	struct tree_node **by_guid, **by_parent;
};

static int collect_node(const struct event *ev, unsigned origin, void *arg)
{
	struct tree *t = arg;
	struct tree_node *node;

	(void)origin;
	t->nodes = xrealloc(t->nodes, (t->n + 1) * sizeof(*t->nodes));
	node = &t->nodes[t->n++];
	node->record_id = ev->record_id;
	node->guid = xstrdup(event_value_by_name(ev, "ProcessGuid"));
	node->parent_guid = xstrdup(event_value_by_name(ev, "ParentProcessGuid"));
	node->image = xstrdup(event_value_by_name(ev, "Image"));
	node->command_line = xstrdup(event_value_by_name(ev, "CommandLine"));
	node->utc_time = xstrdup(event_value_by_name(ev, "UtcTime"));
	node->pid = strtoul(event_value_by_name(ev, "ProcessId"), NULL, 10);
	node->printed = false;
	return 0;
}

static int order_nodes(const char *a_key, const struct tree_node *a, const char *b_key,
		       const struct tree_node *b)
{
	int c = strcasecmp(a_key, b_key);

	if (c)
		return c;
	return a->record_id < b->record_id ? -1 : a->record_id > b->record_id;
}

static int by_guid_order(const void *x, const void *y)
{
	const struct tree_node *a = *(struct tree_node *const *)x, *b = *(struct tree_node *const *)y;

	return order_nodes(a->guid, a, b->guid, b);
}

static int by_parent_order(const void *x, const void *y)
{
	const struct tree_node *a = *(struct tree_node *const *)x, *b = *(struct tree_node *const *)y;

	return order_nodes(a->parent_guid, a, b->parent_guid, b);
}

static void index_tree(struct tree *t)
{
	t->by_guid = xcalloc(t->n + 1, sizeof(*t->by_guid));
	t->by_parent = xcalloc(t->n + 1, sizeof(*t->by_parent));
	for (size_t i = 0; i < t->n; i++)
		t->by_guid[i] = t->by_parent[i] = &t->nodes[i];
	qsort(t->by_guid, t->n, sizeof(*t->by_guid), by_guid_order);
	qsort(t->by_parent, t->n, sizeof(*t->by_parent), by_parent_order);
}

/* First position in VIEW (sorted on KEY_OF) whose key is not below KEY. */
static size_t lower_bound(struct tree_node **view, size_t n, const char *key, bool parent)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcasecmp(parent ? view[mid]->parent_guid : view[mid]->guid, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The newest ProcessCreate of GUID, or NULL ("-" is nobody). */
static struct tree_node *node_by_guid(struct tree *t, const char *guid)
{
	size_t i = lower_bound(t->by_guid, t->n, guid, false);
	struct tree_node *found = NULL;

	if (!strcmp(guid, "-"))
		return NULL;
	for (; i < t->n && !strcasecmp(t->by_guid[i]->guid, guid); i++)
		found = t->by_guid[i];
	return found;
}

static void print_node(FILE *out, const struct tree_node *node, int depth, bool target)
{
	fprintf(out, "%*s%s%s [%lu] %s  (%s, %s)\n", depth * 2, "", target ? "* " : "", node->image,
		node->pid, node->command_line, node->utc_time, node->guid);
}

/* Children in record id order; each process printed once (a GUID loop in
 * hostile data ends there), nesting bounded. */
static void print_descendants(FILE *out, struct tree *t, const struct tree_node *parent, int depth)
{
	if (depth > 256 || !strcmp(parent->guid, "-"))
		return;
	for (size_t i = lower_bound(t->by_parent, t->n, parent->guid, true);
	     i < t->n && !strcasecmp(t->by_parent[i]->parent_guid, parent->guid); i++) {
		struct tree_node *child = t->by_parent[i];

		if (child->printed)
			continue;
		child->printed = true;
		print_node(out, child, depth, false);
		print_descendants(out, t, child, depth + 1);
	}
}

static int run_tree(struct eventlog *log, const char *target, FILE *out, struct strbuf *err)
{
	static const char *const fields[] = { "ProcessGuid", "ParentProcessGuid", "ProcessId", "Image",
					      "CommandLine", "UtcTime" };
	struct query q;
	struct tree t = { 0 };
	int rc = EXIT_OK;

	query_init(&q);
	query_add_events(&q, "1", err);
	if (query_run(log, &q, fields, sizeof(fields) / sizeof(fields[0]), collect_node, &t, err) < 0)
		rc = EXIT_FAILURE_RUN;
	query_free(&q);
	index_tree(&t);

	struct tree_node *node = NULL;

	if (rc == EXIT_OK && target[0] == '{') {
		node = node_by_guid(&t, target);
	} else if (rc == EXIT_OK) {
		char *end;
		unsigned long pid = strtoul(target, &end, 10);

		if (!*target || *end || target[0] == '-') {
			strbuf_printf(err, "--tree: '%s' is neither a process id nor a ProcessGuid", target);
			rc = EXIT_USAGE;
		}
		/* A pid is reused: its newest process. */
		for (size_t i = t.n; rc == EXIT_OK && i-- > 0 && !node;)
			if (t.nodes[i].pid == pid)
				node = &t.nodes[i];
	}
	if (rc == EXIT_OK && !node) {
		strbuf_printf(err, "--tree: no ProcessCreate event for %s in the log", target);
		rc = EXIT_FAILURE_RUN;
	}
	if (rc == EXIT_OK) {
		/* Ancestors, oldest first. */
		struct tree_node **chain = xcalloc(t.n + 1, sizeof(*chain));
		size_t depth = 0;

		node->printed = true;
		for (struct tree_node *up = node_by_guid(&t, node->parent_guid); up && !up->printed;
		     up = node_by_guid(&t, up->parent_guid)) {
			up->printed = true;
			chain[depth++] = up;
		}
		for (size_t i = depth; i-- > 0;)
			print_node(out, chain[i], (int)(depth - 1 - i), false);
		print_node(out, node, (int)depth, true);
		print_descendants(out, &t, node, (int)depth + 1);
		free(chain);
	}
	for (size_t i = 0; i < t.n; i++) {
		free(t.nodes[i].guid);
		free(t.nodes[i].parent_guid);
		free(t.nodes[i].image);
		free(t.nodes[i].command_line);
		free(t.nodes[i].utc_time);
	}
	free(t.nodes);
	free(t.by_guid);
	free(t.by_parent);
	return rc;
}

static int compare_values(const void *a, const void *b)
{
	return strcmp(((const struct query_group *)a)->values, ((const struct query_group *)b)->values);
}

static int run_count(struct eventlog *log, struct query *q, struct query_options *opt, FILE *out,
		     struct strbuf *err)
{
	struct query_group *groups;
	size_t ngroups;

	if (query_count_by(log, q, (const char *const *)opt->fields, opt->nfields, &groups, &ngroups, err) < 0)
		return EXIT_FAILURE_RUN;
	if (opt->distinct) {
		qsort(groups, ngroups, sizeof(*groups), compare_values);
		for (size_t i = 0; i < ngroups; i++)
			fprintf(out, "%s\n", groups[i].values);
	} else {
		fprintf(out, "%10s  ", "Count");
		for (size_t i = 0; i < opt->nfields; i++)
			fprintf(out, "%s%s", i ? "\t" : "", opt->fields[i]);
		fputc('\n', out);
		for (size_t i = 0; i < ngroups; i++)
			fprintf(out, "%10" PRIu64 "  %s\n", groups[i].count, groups[i].values);
	}
	query_groups_free(groups, ngroups);
	return EXIT_OK;
}

int cmd_query(int argc, char **argv)
{
	struct query q;
	struct query_options opt = { .log_path = EVENTLOG_DEFAULT_PATH, .format = OUT_XML };
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = NULL;
	int rc = EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "/?")) {
			usage(stdout);
			return EXIT_OK;
		}
	}
	query_init(&q);
	if (parse_options(argc, argv, &q, &opt, &err) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (opt.format == OUT_TABLE && opt.nfields == 0 && !opt.count_by && !opt.distinct) {
		static const char *const defaults[] = { "EventRecordID", "TimeCreated", "EventID", "Image" };

		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
			opt.fields = xrealloc(opt.fields, (opt.nfields + 1) * sizeof(*opt.fields));
			opt.fields[opt.nfields++] = xstrdup(defaults[i]);
		}
	}
	if (opt.nfields && opt.format != OUT_TABLE && !opt.count_by && !opt.distinct) {
		strbuf_printf(&err, "--fields goes with --format table");
		rc = EXIT_USAGE;
		goto out;
	}
	if ((opt.count_by || opt.distinct) &&
	    query_require_fields(&q, (const char *const *)opt.fields, opt.nfields, &err) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; opt.format == OUT_TABLE && i < opt.nfields; i++) {
		if (!eventlog_column_name(opt.fields[i]) && strcmp(opt.fields[i], "EventID") &&
		    strcmp(opt.fields[i], "EventRecordID") && strcmp(opt.fields[i], "TimeCreated") &&
		    strcmp(opt.fields[i], "Computer")) {
			strbuf_printf(&err, "--fields: unknown field '%s'", opt.fields[i]);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (!opt.tree && query_prepare(&q, &err) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	log = eventlog_open_readonly(opt.log_path, &err);
	if (!log) {
		rc = EXIT_FAILURE_RUN;
		goto out;
	}
	if (opt.tree) {
		rc = run_tree(log, opt.tree, stdout, &err);
		goto out;
	}
	if (opt.count_by || opt.distinct) {
		rc = run_count(log, &q, &opt, stdout, &err);
		goto out;
	}

	struct printer p = { .log = log, .opt = &opt, .out = stdout };
	/* Table output reads only its fields. */
	const char *const *fields = opt.format == OUT_TABLE ? (const char *const *)opt.fields : NULL;

	if (opt.format == OUT_TABLE)
		table_header(&p);
	if (opt.follow) {
		rc = run_follow(log, &q, &p, fields, opt.nfields, &err);
	} else if (query_run(log, &q, fields, opt.nfields, print_record, &p, &err) < 0) {
		rc = EXIT_FAILURE_RUN;
	}
	if (opt.format == OUT_TABLE)
		flush_table(&p);
	strbuf_release(&p.line);
out:
	if (rc != EXIT_OK && err.len)
		fprintf(stderr, "sysmon query: %s\n", err.data);
	if (rc == EXIT_USAGE)
		fprintf(stderr, "(sysmon query --help shows the options)\n");
	for (size_t i = 0; i < opt.nfields; i++)
		free(opt.fields[i]);
	free(opt.fields);
	query_free(&q);
	eventlog_close(log);
	strbuf_release(&err);
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = EXIT_FAILURE_RUN;
	return rc;
}
