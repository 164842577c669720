/*
 * `sysmon config check|test|dump FILE`: tools for config authors, built on
 * the config loader (config/) and the rule engine (rules/).
 *
 *   check  validate FILE; print a one-screen summary (exit 0) or the error
 *          (exit 87, like every configuration error)
 *   test   decide events read as flat JSON objects from stdin, one per line,
 *          e.g. {"EventID":3,"Image":"/usr/bin/curl","DestinationPort":"443"},
 *          and write {"logged":...,"RuleName":"..."} or {"error":"..."} per
 *          line (for a dropped event, RuleName names the exclude rule that
 *          dropped it); exit 1 at the end if any line was bad
 *   dump   print the rules as `sysmon -c` does
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "config/config.h"
#include "output/format.h"
#include "rules/rules.h"
#include "schema/event.h"
#include "util/strbuf.h"

/* `check` stays on one screen: the first warnings, then a count. */
#define CHECK_MAX_WARNINGS 12
/* Input lines longer than this are refused rather than parsed. */
#define TEST_MAX_LINE (1u << 20)

static int usage(void)
{
	fprintf(stderr, "usage: sysmon config check FILE   validate a config and summarise it\n"
			"       sysmon config test FILE    decide JSON events from stdin, one per line\n"
			"       sysmon config dump FILE    print its rules as sysmon -c does\n");
	return EXIT_USAGE;
}

static struct sysmon_config *load(const char *path)
{
	struct strbuf err = STRBUF_INIT;
	struct sysmon_config *config = config_load_file(path, &err);

	if (!config)
		fprintf(stderr, "%s\n", strbuf_str(&err));
	strbuf_release(&err);
	return config;
}

/* ---- check -------------------------------------------------------------- */

/* Each option once, with its effective (last) value: duplicates are legal
 * and the last one wins. */
static void print_options(const struct sysmon_config *config)
{
	size_t shown = 0;

	printf("Options:          ");
	for (size_t k = 0; k < schema_option_count(); k++) {
		const struct config_option *last = NULL;
		size_t count = 0, len;
		const char *v;

		for (size_t i = 0; i < config->noptions; i++) {
			if (config->options[i].option == schema_option_at(k)) {
				last = &config->options[i];
				count++;
			}
		}
		if (!last)
			continue;
		v = last->value;
		while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
			v++;
		len = strcspn(v, "\r\n");
		printf("%s%s%s%s%.*s%s%s", shown++ ? ", " : "", last->option->name, last->option->rule ? "Config" : "",
		       len ? "=" : "", (int)(len > 40 ? 40 : len), v, len > 40 ? "..." : "",
		       last->has_effect ? "" : " (ignored)");
		if (count > 1)
			printf(" (%zu times)", count);
	}
	printf("%s\n", shown ? "" : "none");
}

static void print_rule_sets(const struct sysmon_config *config)
{
	const struct rule_defs *defs = &config->defs;
	struct strbuf unruled = STRBUF_INIT;

	printf("Rule sets:%s\n", defs->nsets ? "" : "        none");
	for (size_t t = 0; t < schema_tag_count(); t++) {
		const char *tag = schema_tag_at(t);
		size_t sets[2] = { 0, 0 }, filters[2] = { 0, 0 };

		for (size_t i = 0; i < defs->nsets; i++) {
			if (strcmp(defs->sets[i].event->rule_tag, tag) != 0)
				continue;
			sets[defs->sets[i].exclude]++;
			filters[defs->sets[i].exclude] += defs->sets[i].nfilters;
		}
		if (sets[0] + sets[1] == 0) {
			const struct schema_event *ev[4];

			if (schema_tag_events(tag, ev, 4) && ev[0]->default_include)
				strbuf_printf(&unruled, "%s%s", unruled.len ? ", " : "", tag);
			continue;
		}
		printf("  %-24s", tag);
		if (sets[0])
			printf("%zu include (%zu filter%s)", sets[0], filters[0], filters[0] == 1 ? "" : "s");
		if (sets[1])
			printf("%s%zu exclude (%zu filter%s)", sets[0] ? ", " : "", sets[1], filters[1],
			       filters[1] == 1 ? "" : "s");
		printf("\n");
	}
	if (unruled.len)
		printf("Without rule sets %s %s logged (Sysmon's default); other types are not\n",
		       strbuf_str(&unruled), strchr(strbuf_str(&unruled), ',') ? "are" : "is");
	else
		printf("Event types without rule sets are not logged\n");
	strbuf_release(&unruled);
}

static int check(const char *path)
{
	struct sysmon_config *config = load(path);
	struct strbuf hashes = STRBUF_INIT;
	char vbuf[16];

	if (!config)
		return EXIT_USAGE;
	config_hash_algorithms_text(config->hash_algorithms, &hashes);
	printf("%s: valid Sysmon config, schema version %s\n", path,
	       schema_version_text(config->schema_version, vbuf));
	printf("SHA256:           %s\n", config->sha256);
	printf("Hash algorithms:  %s\n", strbuf_str(&hashes));
	print_options(config);
	print_rule_sets(config);
	printf("Warnings:         %zu\n", config->nwarnings);
	for (size_t i = 0; i < config->nwarnings && i < CHECK_MAX_WARNINGS; i++)
		printf("  %s\n", config->warnings[i]);
	if (config->nwarnings > CHECK_MAX_WARNINGS)
		printf("  ... and %zu more\n", config->nwarnings - CHECK_MAX_WARNINGS);
	strbuf_release(&hashes);
	config_free(config);
	return EXIT_OK;
}

/* ---- test: a parser for flat JSON objects ------------------------------- */

struct json_pair {
	char *key;
	char *value;        /* NULL for null */
};

struct json_input {
	const char *p, *end;
	struct strbuf *why;
};

static void skip_space(struct json_input *in)
{
	while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\r' || *in->p == '\n'))
		in->p++;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void put_code_point(struct strbuf *sb, unsigned cp)
{
	if (cp < 0x80) {
		strbuf_putc(sb, (char)cp);
	} else if (cp < 0x800) {
		strbuf_putc(sb, (char)(0xc0 | (cp >> 6)));
		strbuf_putc(sb, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_putc(sb, (char)(0xe0 | (cp >> 12)));
		strbuf_putc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_putc(sb, (char)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_putc(sb, (char)(0xf0 | (cp >> 18)));
		strbuf_putc(sb, (char)(0x80 | ((cp >> 12) & 0x3f)));
		strbuf_putc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_putc(sb, (char)(0x80 | (cp & 0x3f)));
	}
}

/* A JSON string at in->p (which is at the opening quote) into a new C
 * string; NUL characters are refused, since values are C strings. */
static char *parse_string(struct json_input *in)
{
	struct strbuf sb = STRBUF_INIT;

	in->p++;
	while (in->p < in->end && *in->p != '"') {
		unsigned char c = (unsigned char)*in->p++;
		unsigned cp, low;

		if (c < 0x20) {
			strbuf_puts(in->why, "control character inside a string (escape it)");
			goto bad;
		}
		if (c != '\\') {
			strbuf_putc(&sb, (char)c);
			continue;
		}
		if (in->p >= in->end)
			break;
		switch (*in->p++) {
		case '"': strbuf_putc(&sb, '"'); break;
		case '\\': strbuf_putc(&sb, '\\'); break;
		case '/': strbuf_putc(&sb, '/'); break;
		case 'b': strbuf_putc(&sb, '\b'); break;
		case 'f': strbuf_putc(&sb, '\f'); break;
		case 'n': strbuf_putc(&sb, '\n'); break;
		case 'r': strbuf_putc(&sb, '\r'); break;
		case 't': strbuf_putc(&sb, '\t'); break;
		case 'u':
			if (hex4(in->p, in->end, &cp) < 0) {
				strbuf_puts(in->why, "\\u needs four hex digits");
				goto bad;
			}
			in->p += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (in->end - in->p < 6 || in->p[0] != '\\' || in->p[1] != 'u' ||
				    hex4(in->p + 2, in->end, &low) < 0 || low < 0xdc00 || low >= 0xe000) {
					strbuf_puts(in->why, "unpaired UTF-16 surrogate in a \\u escape");
					goto bad;
				}
				in->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				strbuf_puts(in->why, "unpaired UTF-16 surrogate in a \\u escape");
				goto bad;
			}
			if (cp == 0) {
				strbuf_puts(in->why, "\\u0000 is not allowed in a value");
				goto bad;
			}
			put_code_point(&sb, cp);
			break;
		default:
			strbuf_puts(in->why, "unknown escape in a string");
			goto bad;
		}
	}
	if (in->p >= in->end) {
		strbuf_puts(in->why, "unterminated string");
		goto bad;
	}
	in->p++;
	if (!sb.data)
		return xstrdup("");
	return sb.data;
bad:
	strbuf_release(&sb);
	return NULL;
}

/* A JSON number kept as its text. */
static char *parse_number(struct json_input *in)
{
	const char *start = in->p;

	if (in->p < in->end && *in->p == '-')
		in->p++;
	if (in->p >= in->end || *in->p < '0' || *in->p > '9')
		goto bad;
	while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
		in->p++;
	if (in->p < in->end && *in->p == '.') {
		in->p++;
		if (in->p >= in->end || *in->p < '0' || *in->p > '9')
			goto bad;
		while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
			in->p++;
	}
	if (in->p < in->end && (*in->p == 'e' || *in->p == 'E')) {
		in->p++;
		if (in->p < in->end && (*in->p == '+' || *in->p == '-'))
			in->p++;
		if (in->p >= in->end || *in->p < '0' || *in->p > '9')
			goto bad;
		while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
			in->p++;
	}
	return xstrndup(start, (size_t)(in->p - start));
bad:
	strbuf_puts(in->why, "malformed number");
	return NULL;
}

static bool literal(struct json_input *in, const char *word)
{
	size_t len = strlen(word);

	if ((size_t)(in->end - in->p) < len || memcmp(in->p, word, len) != 0)
		return false;
	in->p += len;
	return true;
}

static void free_pairs(struct json_pair *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(pairs[i].key);
		free(pairs[i].value);
	}
	free(pairs);
}

/* {"key": "string" | number | true | false | null, ...}; returns the number
 * of pairs, or -1 with the reason in WHY. */
static long parse_object(const char *text, size_t len, struct json_pair **out, struct strbuf *why)
{
	struct json_input in = { text, text + len, why };
	struct json_pair *pairs = NULL;
	size_t n = 0;

	skip_space(&in);
	if (in.p >= in.end || *in.p != '{') {
		strbuf_puts(why, "expected a JSON object such as {\"EventID\":1,\"Image\":\"/bin/sh\"}");
		return -1;
	}
	in.p++;
	skip_space(&in);
	if (in.p < in.end && *in.p == '}') {
		in.p++;
	} else {
		for (;;) {
			char *key, *value = NULL;

			skip_space(&in);
			if (in.p >= in.end || *in.p != '"') {
				strbuf_puts(why, "expected a field name in double quotes");
				goto bad;
			}
			if (!(key = parse_string(&in)))
				goto bad;
			skip_space(&in);
			if (in.p >= in.end || *in.p != ':') {
				strbuf_puts(why, "expected ':' after a field name");
				free(key);
				goto bad;
			}
			in.p++;
			skip_space(&in);
			if (in.p < in.end && *in.p == '"')
				value = parse_string(&in);
			else if (in.p < in.end && (*in.p == '-' || (*in.p >= '0' && *in.p <= '9')))
				value = parse_number(&in);
			else if (literal(&in, "true"))
				value = xstrdup("true");
			else if (literal(&in, "false"))
				value = xstrdup("false");
			else if (literal(&in, "null"))
				value = NULL;
			else {
				strbuf_printf(why, "the value of \"%s\" is not a string or a number (events are flat)",
					      key);
				free(key);
				goto bad;
			}
			if (!value && why->len) {
				free(key);
				goto bad;
			}
			pairs = xrealloc(pairs, (n + 1) * sizeof(*pairs));
			pairs[n++] = (struct json_pair){ key, value };
			skip_space(&in);
			if (in.p < in.end && *in.p == ',') {
				in.p++;
				continue;
			}
			if (in.p < in.end && *in.p == '}') {
				in.p++;
				break;
			}
			strbuf_puts(why, "expected ',' or '}'");
			goto bad;
		}
	}
	skip_space(&in);
	if (in.p != in.end) {
		strbuf_puts(why, "text after the closing '}'");
		goto bad;
	}
	*out = pairs;
	return (long)n;
bad:
	free_pairs(pairs, n);
	return -1;
}

/* Fill EV from the pairs; returns 0 or -1 with the reason in WHY. */
static int build_event(struct event *ev, const struct json_pair *pairs, size_t n, struct strbuf *why)
{
	const char *id_text = NULL;
	unsigned long id = 0;
	char *end;

	for (size_t i = 0; i < n; i++)
		if (strcmp(pairs[i].key, "EventID") == 0)
			id_text = pairs[i].value;
	if (!id_text) {
		strbuf_puts(why, "no EventID (a number such as 1 for ProcessCreate or 3 for NetworkConnect)");
		return -1;
	}
	if (*id_text < '0' || *id_text > '9' || (id = strtoul(id_text, &end, 10), *end) || id > 0xffff ||
	    event_reset(ev, (unsigned)id) < 0) {
		strbuf_puts(why, "EventID ");
		format_json_escape(why, id_text, strlen(id_text));
		strbuf_puts(why, " is not an event id of the schema (1-29 or 255)");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(pairs[i].key, "EventID") == 0 || !pairs[i].value)
			continue;
		if (event_set_name(ev, pairs[i].key, pairs[i].value) < 0) {
			strbuf_printf(why, "event %lu (%s) has no field \"", id,
				      ev->schema->rule_tag ? ev->schema->rule_tag : ev->schema->title);
			format_json_escape(why, pairs[i].key, strlen(pairs[i].key));
			strbuf_puts(why, "\"");
			return -1;
		}
	}
	return 0;
}

static int test(const char *path)
{
	struct sysmon_config *config = load(path);
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	struct event ev;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool bad_input = false;

	if (!config)
		return EXIT_USAGE;
	event_init(&ev);
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		struct json_pair *pairs = NULL;
		const char *rule_name = "-";
		long n = -1;

		strbuf_reset(&out);
		strbuf_reset(&why);
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;
		if ((size_t)len > TEST_MAX_LINE)
			strbuf_printf(&why, "the line is longer than %u bytes", TEST_MAX_LINE);
		else
			n = parse_object(line, (size_t)len, &pairs, &why);
		if (n >= 0 && build_event(&ev, pairs, (size_t)n, &why) == 0) {
			bool logged = rules_decide(config->rules, &ev, &rule_name);

			strbuf_printf(&out, "{\"logged\":%s,\"RuleName\":\"", logged ? "true" : "false");
			format_json_escape(&out, rule_name, strlen(rule_name));
			strbuf_puts(&out, "\"}\n");
		} else {
			strbuf_puts(&out, "{\"error\":\"");
			format_json_escape(&out, strbuf_str(&why), why.len);
			strbuf_puts(&out, "\"}\n");
			bad_input = true;
		}
		if (n > 0)
			free_pairs(pairs, (size_t)n);
		else
			free(pairs);
		fwrite(out.data, 1, out.len, stdout);
	}
	free(line);
	event_free(&ev);
	strbuf_release(&out);
	strbuf_release(&why);
	config_free(config);
	if (fflush(stdout) != 0)
		return EXIT_FAILURE_RUN;
	return bad_input ? EXIT_FAILURE_RUN : EXIT_OK;
}

static int dump(const char *path)
{
	struct sysmon_config *config = load(path);

	if (!config)
		return EXIT_USAGE;
	config_dump(stdout, config);
	config_free(config);
	return EXIT_OK;
}

int cmd_config(int argc, char **argv)
{
	if (argc != 3)
		return usage();
	if (strcmp(argv[1], "check") == 0)
		return check(argv[2]);
	if (strcmp(argv[1], "test") == 0)
		return test(argv[2]);
	if (strcmp(argv[1], "dump") == 0)
		return dump(argv[2]);
	return usage();
}
