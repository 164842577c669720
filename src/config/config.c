/*
 * The Sysmon config loader (see config.h): bytes -> text -> libxml2 tree ->
 * validated options and rule definitions -> compiled rules.
 *
 *  1. Encoding sniff as Sysmon does it (compatibility spec 1.1 step 1):
 *     UTF-16LE with or without BOM is converted to UTF-8 here; 8-bit text
 *     (UTF-8 with or without BOM, ISO-8859-1 by declaration) goes to
 *     libxml2 as is.  Leading white space is stripped (Sysmon does the
 *     same) and counted, so that line numbers still match the file.
 *  2. libxml2 parses without network, DTDs or entity loading; its first
 *     error becomes the message, nothing is printed by libxml2 itself.
 *  3. The tree is validated against the schema catalogue for the declared
 *     schemaversion, in place of Sysmon's generated DTD, and the rule sets
 *     are built as spec 1.6 says.  The project's decisions apply: whatever
 *     Sysmon would skip or ignore silently is an error here, reported as
 *     one message "FILE:LINE: what is wrong (and what to do)".
 */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <openssl/evp.h>

#define MAX_NAME_CHARS 255      /* Sysmon's limit on rule names */
#define MAX_TAG_EVENTS 4        /* ids sharing one tag: WmiEvent has 3 */
#define VERSION_4_1 SCHEMA_VERSION(4, 10)

/* Rule sets of one tag, in document order. */
struct tag_sets {
	struct rule_set_def *sets;
	size_t n, cap;
	bool windows_warned;
};

struct loader {
	const char *name;           /* the file, for messages */
	unsigned line_offset;       /* lines stripped before the text libxml2 saw */
	unsigned version;
	struct strbuf *err;
	bool failed;
	struct sysmon_config *config;
	struct tag_sets *tags;      /* indexed like schema_tag_at() */
};

static void fail(struct loader *ld, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn(struct loader *ld, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Only the first problem is reported: later ones are often its echoes. */
static void fail(struct loader *ld, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (ld->failed)
		return;
	ld->failed = true;
	strbuf_printf(ld->err, "%s:%u: ", ld->name, line);
	va_start(ap, fmt);
	strbuf_vprintf(ld->err, fmt, ap);
	va_end(ap);
}

/* Capacity for N+1 items of SIZE when arrays grow by doubling: a config of
 * 16 MiB can hold hundreds of thousands of warnings or options. */
static void *grow(void *array, size_t n, size_t size)
{
	if (n == 0 || (n & (n - 1)) == 0)
		array = xrealloc(array, (n ? 2 * n : 1) * size);
	return array;
}

static void add_warning(struct sysmon_config *config, char *line)
{
	config->warnings = grow(config->warnings, config->nwarnings, sizeof(char *));
	config->warnings[config->nwarnings++] = line;
}

static void warn(struct loader *ld, unsigned line, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_printf(&sb, "%s:%u: ", ld->name, line);
	va_start(ap, fmt);
	strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	add_warning(ld->config, sb.data);
}

static unsigned node_line(const struct loader *ld, xmlNode *node)
{
	long line = xmlGetLineNo(node);

	return (unsigned)(line > 0 ? line : 1) + ld->line_offset;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_blank(const char *text)
{
	for (; *text; text++)
		if (!is_space(*text))
			return false;
	return true;
}

/* Characters (UTF-8 code points) in TEXT: Sysmon's name limit counts
 * characters, not bytes. */
static size_t utf8_chars(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		if (((unsigned char)*text & 0xc0) != 0x80)
			n++;
	return n;
}

/* Append TEXT for a message: at most 40 bytes, bytes other than printable
 * ASCII as \xNN (a message stays one clean line whatever the file holds). */
static void quote_into(struct strbuf *sb, const char *text, size_t len)
{
	size_t shown = len > 40 ? 40 : len;

	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c >= 0x7f)
			strbuf_printf(sb, "\\x%02x", c);
		else
			strbuf_putc(sb, (char)c);
	}
	if (shown < len)
		strbuf_puts(sb, "...");
}

/* User text for a message, in BUF: at most 40 bytes, control bytes as
 * \xNN, so that a message stays one line. */
struct shown_text {
	char text[200];
};

static const char *shown(struct shown_text *buf, const char *text)
{
	struct strbuf sb = STRBUF_INIT;

	quote_into(&sb, text, strlen(text));
	snprintf(buf->text, sizeof(buf->text), "%s", strbuf_str(&sb));
	strbuf_release(&sb);
	return buf->text;
}

/* Edit distance, capped: for "did you mean" suggestions only. */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned cost = (a[i - 1] | 0x20) == (b[j - 1] | 0x20) ? 0 : 1;
			unsigned best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The candidate closest to WORD if it is a plausible misspelling, or NULL. */
static const char *closest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	unsigned best_distance = 3;

	for (size_t i = 0; i < n; i++) {
		unsigned d = edit_distance(word, candidates[i]);

		if (d < best_distance) {
			best = candidates[i];
			best_distance = d;
		}
	}
	return best;
}

static char *node_text(xmlNode *node)
{
	xmlChar *content = xmlNodeGetContent(node);
	char *text = xstrdup(content ? (const char *)content : "");

	xmlFree(content);
	return text;
}

static char *attr_text(xmlAttr *attr)
{
	xmlChar *content = xmlNodeListGetString(attr->doc, attr->children, 1);
	char *text = xstrdup(content ? (const char *)content : "");

	xmlFree(content);
	return text;
}

static xmlAttr *find_attr(xmlNode *node, const char *name)
{
	for (xmlAttr *a = node->properties; a; a = a->next)
		if (!a->ns && strcmp((const char *)a->name, name) == 0)
			return a;
	return NULL;
}

/* The attribute's value (malloc'd), or NULL if NODE does not have it. */
static char *get_attr(xmlNode *node, const char *name)
{
	xmlAttr *a = find_attr(node, name);

	return a ? attr_text(a) : NULL;
}

/* NODE may only carry the attributes in ALLOWED; HINT says what it takes. */
static bool check_attributes(struct loader *ld, xmlNode *node, const char *const *allowed,
			     size_t nallowed, const char *hint)
{
	for (xmlAttr *a = node->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		bool known = false;

		for (size_t i = 0; i < nallowed && !a->ns; i++)
			if (strcmp(name, allowed[i]) == 0)
				known = true;
		if (known)
			continue;
		const char *guess = nallowed && !a->ns ? closest(name, allowed, nallowed) : NULL;
		struct strbuf shown = STRBUF_INIT;

		if (a->ns && a->ns->prefix)
			strbuf_printf(&shown, "%s:", (const char *)a->ns->prefix);
		strbuf_puts(&shown, name);
		if (guess)
			fail(ld, node_line(ld, node), "<%s> has the unknown attribute %s (did you mean %s?): %s",
			     (const char *)node->name, strbuf_str(&shown), guess, hint);
		else
			fail(ld, node_line(ld, node), "<%s> has the unknown attribute %s: %s",
			     (const char *)node->name, strbuf_str(&shown), hint);
		strbuf_release(&shown);
		return false;
	}
	return true;
}

/* Text directly inside NODE's parent, where only elements belong. */
static void fail_text(struct loader *ld, xmlNode *text, const char *parent, const char *hint)
{
	const char *content = (const char *)text->content;
	unsigned line = node_line(ld, text);
	struct strbuf quoted = STRBUF_INIT;
	size_t len;

	if (!content)
		content = "";
	/* libxml2 gives a text node the line where its text ends; count back
	 * to the first visible character. */
	for (const char *c = content; *c; c++)
		if (*c == '\n' && line > 1)
			line--;
	while (*content && is_space(*content)) {
		if (*content == '\n')
			line++;
		content++;
	}
	len = strcspn(content, "\r\n<");
	while (len && is_space(content[len - 1]))
		len--;
	quote_into(&quoted, content, len);
	fail(ld, line, "unexpected text '%s' inside <%s>: %s", strbuf_str(&quoted), parent, hint);
	strbuf_release(&quoted);
}

/* Visit NODE's children: text must be blank, comments and processing
 * instructions are skipped; returns the next element child after PREV. */
static xmlNode *next_element(struct loader *ld, xmlNode *parent, xmlNode *prev, const char *hint)
{
	for (xmlNode *c = prev ? prev->next : parent->children; c && !ld->failed; c = c->next) {
		switch (c->type) {
		case XML_ELEMENT_NODE:
			if (c->ns) {
				fail(ld, node_line(ld, c), "<%s%s%s> is in an XML namespace: Sysmon configs use "
				     "no namespaces (remove the xmlns declaration or the prefix)",
				     c->ns->prefix ? (const char *)c->ns->prefix : "", c->ns->prefix ? ":" : "",
				     (const char *)c->name);
				return NULL;
			}
			return c;
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (c->content && !is_blank((const char *)c->content))
				fail_text(ld, c, (const char *)parent->name, hint);
			break;
		case XML_ENTITY_REF_NODE:
			fail(ld, node_line(ld, c), "unexpected entity reference &%s; inside <%s>: %s",
			     (const char *)c->name, (const char *)parent->name, hint);
			break;
		default:
			break;
		}
	}
	return NULL;
}

/* The first element child of a node that holds text (a field or an
 * option), or NULL. */
static xmlNode *element_child(xmlNode *node)
{
	for (xmlNode *c = node->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

static bool name_too_long(struct loader *ld, xmlNode *node, const char *name)
{
	size_t n = utf8_chars(name);

	if (n <= MAX_NAME_CHARS)
		return false;
	fail(ld, node_line(ld, node), "the name of <%s> is %zu characters long; Sysmon allows at most %d "
	     "(RuleName is cut there): shorten it", (const char *)node->name, n, MAX_NAME_CHARS);
	return true;
}

/* ---- options ------------------------------------------------------------ */

static const char *option_example(const char *name)
{
	if (strcmp(name, "HashAlgorithms") == 0)
		return "sha256";
	if (strcmp(name, "DnsLookup") == 0)
		return "false";
	if (strcmp(name, "FieldSizes") == 0)
		return "CommandLine:2048,Image:512";
	return "...";
}

static void fail_unknown_option(struct loader *ld, xmlNode *node)
{
	const char *name = (const char *)node->name;
	const char *names[64];
	size_t n = 0;
	char vbuf[16], sbuf[16];
	struct strbuf list = STRBUF_INIT;

	for (size_t i = 0; i < schema_option_count(); i++) {
		const struct schema_option *o = schema_option_at(i);
		size_t len = strlen(o->name);

		if (!o->config_element)
			continue;
		/* The element exists, just not in this schema version. */
		if (strncmp(name, o->name, len) == 0 &&
		    (o->rule ? strcmp(name + len, "Config") == 0 : name[len] == '\0')) {
			if (ld->version < o->since)
				fail(ld, node_line(ld, node), "option %s needs schemaversion %s or later "
				     "(this config declares %s): raise schemaversion or remove it",
				     name, schema_version_text(o->since, sbuf), schema_version_text(ld->version, vbuf));
			else
				fail(ld, node_line(ld, node), "option %s was removed after schemaversion %s "
				     "(this config declares %s): remove it",
				     name, schema_version_text(o->until, sbuf), schema_version_text(ld->version, vbuf));
			return;
		}
	}
	if (schema_tag_events(name, NULL, 0) > 0 || strcmp(name, "RuleGroup") == 0) {
		fail(ld, node_line(ld, node), "<%s> must be inside <EventFiltering>, not directly inside <Sysmon>",
		     name);
		return;
	}
	char elements[64][48];

	names[n++] = "EventFiltering";
	strbuf_puts(&list, "EventFiltering");
	for (size_t i = 0; i < schema_option_count() && n < 64; i++) {
		const struct schema_option *o = schema_option_at(i);

		if (!o->config_element || ld->version < o->since || ld->version > o->until)
			continue;
		snprintf(elements[n], sizeof(elements[n]), "%s%s", o->name, o->rule ? "Config" : "");
		strbuf_printf(&list, ", %s", elements[n]);
		names[n] = elements[n];
		n++;
	}
	const char *guess = closest(name, names, n);

	if (guess)
		fail(ld, node_line(ld, node), "unknown element <%s> inside <Sysmon> (did you mean <%s>?)", name, guess);
	else
		fail(ld, node_line(ld, node), "unknown element <%s> inside <Sysmon>: schema %s allows %s",
		     name, schema_version_text(ld->version, vbuf), strbuf_str(&list));
	strbuf_release(&list);
}

static void record_option(struct sysmon_config *config, const struct schema_option *option,
			  char *value, unsigned line, bool has_effect)
{
	config->options = grow(config->options, config->noptions, sizeof(*config->options));
	config->options[config->noptions++] = (struct config_option){
		.option = option, .value = value, .line = line, .has_effect = has_effect,
	};
}

static void load_option(struct loader *ld, xmlNode *node)
{
	const char *name = (const char *)node->name;
	const struct schema_option *option = schema_option_by_element(name, ld->version);
	unsigned line = node_line(ld, node);
	struct strbuf why = STRBUF_INIT;
	bool has_effect = true;
	char *value;

	if (!option) {
		fail_unknown_option(ld, node);
		return;
	}
	if (!check_attributes(ld, node, NULL, 0, "options take no attributes, only a value as text"))
		return;
	if (element_child(node)) {
		fail(ld, line, "<%s> contains an element: an option holds only text", name);
		return;
	}
	value = node_text(node);
	if (option->argument == OPTION_ARG_REQUIRED && is_blank(value)) {
		fail(ld, line, "<%s> is empty: it needs a value, e.g. <%s>%s</%s>", name, name,
		     option_example(name), name);
	} else if (option->argument == OPTION_ARG_NONE && !is_blank(value)) {
		fail(ld, line, "<%s> takes no value: write <%s/>", name, name);
	} else if (strcmp(option->name, "HashAlgorithms") == 0) {
		if (config_parse_hash_algorithms(value, &ld->config->hash_algorithms, &why) < 0)
			fail(ld, line, "%s", strbuf_str(&why));
	} else if (strcmp(option->name, "DnsLookup") == 0) {
		const char *v = value;
		size_t len;

		while (is_space(*v))
			v++;
		len = strlen(v);
		while (len && is_space(v[len - 1]))
			len--;
		if (len == 4 && strncasecmp(v, "true", 4) == 0)
			ld->config->dns_lookup = true;
		else if (len == 5 && strncasecmp(v, "false", 5) == 0)
			ld->config->dns_lookup = false;
		else
			fail(ld, line, "<DnsLookup> must be true or false, not '%.*s'", (int)(len > 40 ? 40 : len), v);
	} else if (strcmp(option->name, "FieldSizes") == 0) {
		memset(&ld->config->field_sizes, 0, sizeof(ld->config->field_sizes));
		free(ld->config->field_sizes_text);
		ld->config->field_sizes_text = xstrdup(value);
		if (config_parse_field_sizes(value, &ld->config->field_sizes, &why) < 0)
			fail(ld, line, "%s", strbuf_str(&why));
	} else {
		has_effect = false;
		warn(ld, line, "<%s> has no effect on Linux; it is accepted and ignored", name);
	}
	strbuf_release(&why);
	record_option(ld->config, option, value, line, has_effect);
}

/* ---- rules -------------------------------------------------------------- */

/* A rule set while its element is read: field names are bound to positions
 * once all of them are known (shared tags pick their event by them). */
struct set_builder {
	struct rule_set_def set;
	size_t filter_cap;
	const char **field_names;   /* per filter; point into the document */
	const struct schema_event *events[MAX_TAG_EVENTS];
	size_t nevents;
	const char *tag;
};

static bool list_condition(enum rule_condition c)
{
	return c == COND_CONTAINS_ANY || c == COND_IS_ANY || c == COND_CONTAINS_ALL ||
	       c == COND_EXCLUDES_ANY || c == COND_EXCLUDES_ALL;
}

static bool has_empty_token(const char *value)
{
	size_t len = strlen(value);

	return len == 0 || value[0] == ';' || value[len - 1] == ';' || strstr(value, ";;");
}

/* Where else a field name occurs, for messages: the first tag that has it. */
static const char *tag_with_field(const char *name)
{
	for (size_t i = 0; i < schema_event_count(); i++) {
		const struct schema_event *e = schema_event_at(i);

		if (e->rule_tag && schema_field_index(e, name) >= 0)
			return e->rule_tag;
	}
	return NULL;
}

/* Is NAME a field of some event of the set's tag in this version?  Reports
 * the error if not. */
static bool check_field(struct loader *ld, struct set_builder *b, xmlNode *node, const char *name)
{
	unsigned since = 0xffffffffu;
	bool exists = false;
	char vbuf[16], sbuf[16];

	for (size_t i = 0; i < b->nevents; i++) {
		int index = schema_field_index(b->events[i], name);

		if (index < 0)
			continue;
		exists = true;
		if (schema_field_in_version(b->events[i], index, ld->version))
			return true;
		if (b->events[i]->fields[index].since < since)
			since = b->events[i]->fields[index].since;
	}
	if (exists) {
		fail(ld, node_line(ld, node), "%s field %s needs schemaversion %s or later (this config "
		     "declares %s): raise schemaversion or remove the filter", b->tag, name,
		     schema_version_text(since, sbuf), schema_version_text(ld->version, vbuf));
		return false;
	}

	const char *names[SCHEMA_MAX_FIELDS * MAX_TAG_EVENTS];
	size_t n = 0;
	struct strbuf list = STRBUF_INIT;

	for (size_t i = 0; i < b->nevents; i++) {
		for (unsigned f = 0; f < b->events[i]->nfields; f++) {
			const char *fname = b->events[i]->fields[f].name;
			bool seen = false;

			if (!schema_field_in_version(b->events[i], (int)f, ld->version))
				continue;
			for (size_t k = 0; k < n; k++)
				if (strcmp(names[k], fname) == 0)
					seen = true;
			if (seen)
				continue;
			names[n++] = fname;
			strbuf_printf(&list, "%s%s", list.len ? ", " : "", fname);
		}
	}
	const char *guess = closest(name, names, n);
	const char *other = tag_with_field(name);

	if (guess)
		fail(ld, node_line(ld, node), "unknown field <%s> in <%s> (did you mean <%s>?)", name, b->tag, guess);
	else if (other)
		fail(ld, node_line(ld, node), "<%s> is a field of %s, not of %s: move the filter to a <%s> "
		     "element", name, other, b->tag, other);
	else
		fail(ld, node_line(ld, node), "unknown field <%s> in <%s>: its fields in schema %s are %s",
		     name, b->tag, schema_version_text(ld->version, vbuf), strbuf_str(&list));
	strbuf_release(&list);
	return false;
}

static const char *const field_attributes[] = { "condition", "name" };

static void add_filter(struct loader *ld, struct set_builder *b, xmlNode *node, int aggregate,
		       const char *rule_name, const char *group_name)
{
	const char *name = (const char *)node->name;
	unsigned line = node_line(ld, node);
	char *condition_text, *own_name, *value;
	int condition;

	if (strcmp(name, "RuleGroup") == 0 || schema_tag_events(name, NULL, 0) > 0) {
		fail(ld, line, "<%s> cannot be inside <%s>: rule groups and event elements go directly in "
		     "<EventFiltering>", name, aggregate >= 0 ? "Rule" : b->tag);
		return;
	}
	if (!check_field(ld, b, node, name))
		return;
	if (!check_attributes(ld, node, field_attributes, 2,
			      "a field element takes condition=\"...\" and name=\"...\""))
		return;
	if (element_child(node)) {
		fail(ld, line, "field <%s> contains an element: a field holds only its value as text", name);
		return;
	}
	condition_text = get_attr(node, "condition");
	condition = rule_condition_parse(condition_text ? condition_text : "");
	if (condition < 0) {
		struct strbuf list = STRBUF_INIT;

		for (size_t i = 0; i < SCHEMA_CONDITION_COUNT; i++)
			strbuf_printf(&list, "%s%s", i ? ", " : "", schema_conditions[i]);
		struct shown_text st;

		fail(ld, line, "unknown condition '%s' on <%s>: the conditions are %s", shown(&st, condition_text), name,
		     strbuf_str(&list));
		strbuf_release(&list);
		free(condition_text);
		return;
	}
	free(condition_text);
	own_name = get_attr(node, "name");
	if (own_name && name_too_long(ld, node, own_name)) {
		free(own_name);
		return;
	}
	value = node_text(node);
	if (list_condition((enum rule_condition)condition) && has_empty_token(value))
		warn(ld, line, "<%s condition=\"%s\"> has an empty item in its ';' list: Sysmon then compares "
		     "the rest of the value from there (a trailing ';' makes 'contains any' match everything "
		     "and 'excludes any' match nothing); remove the extra ';'",
		     name, schema_conditions[condition]);

	/* Name inheritance: field name > Rule name > RuleGroup name; "" is none. */
	const char *inherited = own_name && *own_name ? own_name :
				rule_name && *rule_name ? rule_name :
				group_name && *group_name ? group_name : NULL;

	if (b->set.nfilters == b->filter_cap) {
		b->filter_cap = b->filter_cap ? 2 * b->filter_cap : 8;
		b->set.filters = xrealloc(b->set.filters, b->filter_cap * sizeof(*b->set.filters));
		b->field_names = xrealloc(b->field_names, b->filter_cap * sizeof(*b->field_names));
	}
	b->field_names[b->set.nfilters] = name;
	b->set.filters[b->set.nfilters++] = (struct rule_filter_def){
		.field = -1,
		.condition = (enum rule_condition)condition,
		.value = value,
		.name = inherited ? xstrdup(inherited) : NULL,
		.aggregate = aggregate,
		.line = line,
	};
	free(own_name);
}

static const char *const rule_attributes[] = { "name", "groupRelation" };

static void load_rule(struct loader *ld, struct set_builder *b, xmlNode *node, const char *group_name)
{
	char *name, *relation;
	int index;

	if (!check_attributes(ld, node, rule_attributes, 2,
			      "<Rule> takes name=\"...\" and groupRelation=\"and|or\""))
		return;
	name = get_attr(node, "name");
	if (name && name_too_long(ld, node, name)) {
		free(name);
		return;
	}
	relation = get_attr(node, "groupRelation");
	b->set.aggregates = grow(b->set.aggregates, b->set.naggregates, sizeof(*b->set.aggregates));
	index = (int)b->set.naggregates++;
	/* Sysmon: "or" in any case, or no attribute, is OR; anything else AND. */
	b->set.aggregates[index] = (struct rule_aggregate_def){
		.name = name && *name ? xstrdup(name) : NULL,
		.or_mode = !relation || strcasecmp(relation, "or") == 0,
	};
	free(relation);
	for (xmlNode *c = next_element(ld, node, NULL, "a <Rule> holds field elements only");
	     c && !ld->failed; c = next_element(ld, node, c, "a <Rule> holds field elements only")) {
		if (strcmp((const char *)c->name, "Rule") == 0) {
			fail(ld, node_line(ld, c), "a <Rule> cannot contain another <Rule>: close the first one "
			     "before opening the next");
			break;
		}
		add_filter(ld, b, c, index, name, group_name);
	}
	free(name);
}

/* Pick the concrete event of the set's tag (spec 1.6.5): the first id whose
 * fields include every field the element uses; then resolve positions. */
static bool bind_set(struct loader *ld, struct set_builder *b)
{
	const struct schema_event *bound = NULL;

	for (size_t i = 0; i < b->nevents && !bound; i++) {
		bool all = true;

		for (size_t f = 0; f < b->set.nfilters && all; f++)
			if (schema_field_index(b->events[i], b->field_names[f]) < 0)
				all = false;
		if (all)
			bound = b->events[i];
	}
	if (!bound) {
		struct strbuf detail = STRBUF_INIT;

		for (size_t f = 0; f < b->set.nfilters; f++) {
			bool everywhere = true;

			for (size_t i = 0; i < b->nevents; i++)
				if (schema_field_index(b->events[i], b->field_names[f]) < 0)
					everywhere = false;
			if (everywhere)
				continue;
			strbuf_printf(&detail, "%s%s (event", detail.len ? "; " : "", b->field_names[f]);
			for (size_t i = 0; i < b->nevents; i++)
				if (schema_field_index(b->events[i], b->field_names[f]) >= 0)
					strbuf_printf(&detail, " %u", b->events[i]->id);
			strbuf_putc(&detail, ')');
		}
		fail(ld, b->set.line, "<%s> mixes fields that no single %s event has: %s; split it into one "
		     "<%s> element per event type", b->tag, b->tag, strbuf_str(&detail), b->tag);
		strbuf_release(&detail);
		return false;
	}
	b->set.event = bound;
	for (size_t f = 0; f < b->set.nfilters; f++) {
		int index = schema_field_index(bound, b->field_names[f]);
		char vbuf[16], sbuf[16];

		if (!schema_field_in_version(bound, index, ld->version)) {
			fail(ld, b->set.filters[f].line, "%s field %s needs schemaversion %s or later for "
			     "event %u (this config declares %s)", b->tag, b->field_names[f],
			     schema_version_text(bound->fields[index].since, sbuf), bound->id, schema_version_text(ld->version, vbuf));
			return false;
		}
		b->set.filters[f].field = index;
	}
	return true;
}

static void free_set(struct rule_set_def *set)
{
	struct rule_defs one = { .sets = xmalloc(sizeof(*set)), .nsets = 1 };

	one.sets[0] = *set;
	rule_defs_free(&one);
}

static void fail_unknown_event(struct loader *ld, xmlNode *node, const char *parent)
{
	const char *name = (const char *)node->name;
	const char *names[32];
	size_t n = 0;
	struct strbuf list = STRBUF_INIT;
	char vbuf[16];

	if (schema_option_by_element(name, ld->version)) {
		fail(ld, node_line(ld, node), "<%s> is an option: put it directly inside <Sysmon>, not in <%s>",
		     name, parent);
		return;
	}
	if (strcmp(name, "Rule") == 0 || schema_is_field_name(name)) {
		fail(ld, node_line(ld, node), "<%s> must be inside an event element such as <ProcessCreate "
		     "onmatch=\"include\">, not directly in <%s>", name, parent);
		return;
	}
	for (size_t i = 0; i < schema_tag_count() && n < 32; i++) {
		const struct schema_event *ev[MAX_TAG_EVENTS];

		if (schema_tag_events(schema_tag_at(i), ev, MAX_TAG_EVENTS) == 0 ||
		    !schema_event_in_version(ev[0], ld->version))
			continue;
		names[n++] = schema_tag_at(i);
		strbuf_printf(&list, ", %s", schema_tag_at(i));
	}
	const char *guess = closest(name, names, n);

	if (guess)
		fail(ld, node_line(ld, node), "unknown event element <%s> in <%s> (did you mean <%s>?)",
		     name, parent, guess);
	else
		fail(ld, node_line(ld, node), "unknown event element <%s> in <%s>: schema %s has RuleGroup%s",
		     name, parent, schema_version_text(ld->version, vbuf), strbuf_str(&list));
	strbuf_release(&list);
}

static const char *const event_attributes[] = { "onmatch", "default" };

/* One event element (a rule set), directly in EventFiltering or in a
 * RuleGroup (GROUP != NULL). */
static void load_event(struct loader *ld, xmlNode *node, xmlNode *group, bool group_or, const char *group_name)
{
	const char *tag = (const char *)node->name;
	const char *parent = group ? "RuleGroup" : "EventFiltering";
	struct set_builder b = { .tag = tag };
	struct shown_text st;
	unsigned line = node_line(ld, node);
	char vbuf[16], sbuf[16];
	size_t tag_index = 0;
	char *onmatch, *deflt;
	bool exclude;

	b.nevents = schema_tag_events(tag, b.events, MAX_TAG_EVENTS);
	if (b.nevents == 0) {
		fail_unknown_event(ld, node, parent);
		return;
	}
	if (!schema_event_in_version(b.events[0], ld->version)) {
		fail(ld, line, "event element %s needs schemaversion %s or later (this config declares "
		     "%s): raise schemaversion or remove it", tag, schema_version_text(b.events[0]->since, sbuf),
		     schema_version_text(ld->version, vbuf));
		return;
	}
	if (!check_attributes(ld, node, event_attributes, 2,
			      "an event element takes onmatch=\"include\" or onmatch=\"exclude\""))
		return;
	onmatch = get_attr(node, "onmatch");
	deflt = get_attr(node, "default");
	if (onmatch && deflt) {
		fail(ld, line, "<%s> has both onmatch and default: keep only onmatch (default=\"include\" "
		     "means onmatch=\"exclude\")", tag);
	} else if (!onmatch && !deflt) {
		fail(ld, line, "<%s> has no onmatch attribute: write onmatch=\"include\" (log only what "
		     "matches) or onmatch=\"exclude\" (log everything but what matches)", tag);
	} else if (onmatch && strcmp(onmatch, "include") != 0 && strcmp(onmatch, "exclude") != 0) {
		fail(ld, line, "<%s onmatch=\"%s\">: onmatch is \"include\" or \"exclude\" (lower case)", tag,
		     shown(&st, onmatch));
	} else if (deflt && strcmp(deflt, "include") != 0 && strcmp(deflt, "exclude") != 0) {
		fail(ld, line, "<%s default=\"%s\">: default is \"include\" or \"exclude\" (lower case); "
		     "better write onmatch", tag, shown(&st, deflt));
	}
	/* Legacy default="include" is onmatch="exclude" and vice versa. */
	exclude = onmatch ? strcmp(onmatch, "exclude") == 0 : deflt && strcmp(deflt, "include") == 0;
	free(onmatch);
	free(deflt);
	if (ld->failed)
		return;

	b.set.exclude = exclude;
	b.set.or_mode = group ? group_or : ld->version <= VERSION_4_1;
	b.set.group_name = group_name && *group_name ? xstrdup(group_name) : NULL;
	b.set.line = line;
	static const char hint[] = "values go inside field elements, e.g. <Image condition=\"end with\">"
				   "/bash</Image>";
	for (xmlNode *c = next_element(ld, node, NULL, hint); c && !ld->failed; c = next_element(ld, node, c, hint)) {
		if (strcmp((const char *)c->name, "Rule") == 0)
			load_rule(ld, &b, c, group_name);
		else
			add_filter(ld, &b, c, -1, NULL, group_name);
	}
	while (tag_index < schema_tag_count() && strcmp(schema_tag_at(tag_index), tag) != 0)
		tag_index++;
	if (!ld->failed && tag_index == schema_tag_count())
		fail(ld, line, "internal error: the schema catalogue lists no tag %s", tag);
	if (!ld->failed && bind_set(ld, &b)) {
		struct tag_sets *ts = &ld->tags[tag_index];

		if (b.set.event->windows_only && !ts->windows_warned) {
			warn(ld, line, "%s events never occur on Linux; its rules are kept but never match", tag);
			ts->windows_warned = true;
		}
		if (ts->n == ts->cap) {
			ts->cap = ts->cap ? 2 * ts->cap : 4;
			ts->sets = xrealloc(ts->sets, ts->cap * sizeof(*ts->sets));
		}
		ts->sets[ts->n++] = b.set;
	} else {
		free_set(&b.set);
	}
	free(b.field_names);
}

static const char *const group_attributes[] = { "groupRelation", "name" };

static void load_rule_group(struct loader *ld, xmlNode *node)
{
	struct shown_text st;
	unsigned line = node_line(ld, node);
	char *relation, *name;

	if (!check_attributes(ld, node, group_attributes, 2,
			      "<RuleGroup> takes groupRelation=\"and|or\" and name=\"...\""))
		return;
	relation = get_attr(node, "groupRelation");
	name = get_attr(node, "name");
	if (!relation)
		fail(ld, line, "<RuleGroup> has no groupRelation: write groupRelation=\"or\" (any filter "
		     "matches) or groupRelation=\"and\" (all must match)");
	else if (strcmp(relation, "and") != 0 && strcmp(relation, "or") != 0)
		fail(ld, line, "<RuleGroup groupRelation=\"%s\">: groupRelation is \"and\" or \"or\" (lower case)",
		     shown(&st, relation));
	else if (!(name && name_too_long(ld, node, name))) {
		static const char hint[] = "a <RuleGroup> holds event elements only";

		for (xmlNode *c = next_element(ld, node, NULL, hint); c && !ld->failed;
		     c = next_element(ld, node, c, hint)) {
			if (strcmp((const char *)c->name, "RuleGroup") == 0)
				fail(ld, node_line(ld, c), "a <RuleGroup> cannot contain another <RuleGroup>: close "
				     "the first one (line %u) before opening the next", line);
			else
				load_event(ld, c, node, strcmp(relation, "or") == 0, name);
		}
	}
	free(relation);
	free(name);
}

static void load_event_filtering(struct loader *ld, xmlNode *node)
{
	static const char hint[] = "<EventFiltering> holds <RuleGroup> and event elements only";

	if (!check_attributes(ld, node, NULL, 0, "<EventFiltering> takes no attributes"))
		return;
	for (xmlNode *c = next_element(ld, node, NULL, hint); c && !ld->failed; c = next_element(ld, node, c, hint)) {
		if (strcmp((const char *)c->name, "RuleGroup") == 0)
			load_rule_group(ld, c);
		else
			load_event(ld, c, NULL, false, NULL);
	}
}

/* Move the sets into config->defs: by tag in manifest order, document
 * order within a tag (spec 1.6.1); warn about exclude-only tags. */
static void collect_sets(struct loader *ld)
{
	struct rule_defs *defs = &ld->config->defs;
	size_t total = 0;

	for (size_t t = 0; t < schema_tag_count(); t++)
		total += ld->tags[t].n;
	defs->schema_version = ld->version;
	defs->sets = total ? xmalloc(total * sizeof(*defs->sets)) : NULL;
	defs->nsets = 0;
	for (size_t t = 0; t < schema_tag_count(); t++) {
		struct tag_sets *ts = &ld->tags[t];
		size_t includes = 0, excludes = 0;

		for (size_t i = 0; i < ts->n; i++) {
			if (ts->sets[i].exclude)
				excludes++;
			else
				includes++;
			defs->sets[defs->nsets++] = ts->sets[i];
		}
		if (excludes >= 2 && includes == 0 && !ld->failed)
			warn(ld, ts->sets[0].line, "%zu <%s onmatch=\"exclude\"> elements and no include one: "
			     "Sysmon then logs no %s event at all (one that matches none of them is dropped "
			     "too); merge them into one exclude element", excludes, schema_tag_at(t),
			     schema_tag_at(t));
		free(ts->sets);
		ts->sets = NULL;
		ts->n = ts->cap = 0;
	}
}

static void load_root(struct loader *ld, xmlNode *root)
{
	struct shown_text st;
	char *version_attr;
	unsigned line = node_line(ld, root);
	char vbuf[16], obuf[16], nbuf[16];

	if (root->ns || strcmp((const char *)root->name, "Sysmon") != 0) {
		fail(ld, line, "the root element is <%s%s%s>, not <Sysmon>: a config is <Sysmon "
		     "schemaversion=\"4.90\"> ... </Sysmon>", root->ns && root->ns->prefix ?
		     (const char *)root->ns->prefix : "", root->ns && root->ns->prefix ? ":" : "",
		     (const char *)root->name);
		return;
	}
	static const char *const root_attributes[] = { "schemaversion" };
	if (!check_attributes(ld, root, root_attributes, 1, "<Sysmon> takes schemaversion=\"...\" only"))
		return;
	version_attr = get_attr(root, "schemaversion");
	if (!version_attr) {
		fail(ld, line, "<Sysmon> has no schemaversion attribute: write e.g. <Sysmon schemaversion=\"4.90\"> "
		     "(versions %s to %s are supported)", schema_version_text(SCHEMA_OLDEST, obuf),
		     schema_version_text(SCHEMA_NEWEST, nbuf));
		return;
	}
	if (schema_parse_version(version_attr, &ld->version) < 0) {
		fail(ld, line, "schemaversion \"%s\" is not a version number: write e.g. schemaversion=\"4.90\" "
		     "(versions %s to %s are supported)", shown(&st, version_attr), schema_version_text(SCHEMA_OLDEST, obuf),
		     schema_version_text(SCHEMA_NEWEST, nbuf));
		free(version_attr);
		return;
	}
	free(version_attr);
	if (!schema_version_supported(ld->version)) {
		fail(ld, line, "schemaversion %s is not supported: this sysmon reads schema versions %s to %s",
		     schema_version_text(ld->version, vbuf), schema_version_text(SCHEMA_OLDEST, obuf),
		     schema_version_text(SCHEMA_NEWEST, nbuf));
		return;
	}
	ld->config->schema_version = ld->version;
	ld->config->defs.schema_version = ld->version;

	static const char hint[] = "<Sysmon> holds option elements and <EventFiltering> only";
	for (xmlNode *c = next_element(ld, root, NULL, hint); c && !ld->failed; c = next_element(ld, root, c, hint)) {
		if (strcmp((const char *)c->name, "EventFiltering") == 0)
			load_event_filtering(ld, c);
		else
			load_option(ld, c);
	}
}

/* ---- bytes to text ------------------------------------------------------ */

static void put_utf8(struct strbuf *sb, unsigned cp)
{
	char out[4];
	size_t n;

	if (cp < 0x80) {
		out[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		out[0] = (char)(0xf0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	strbuf_append(sb, out, n);
}

/* UTF-16 (little- or big-endian) to UTF-8, for libxml2. */
static bool utf16_to_utf8(struct loader *ld, const unsigned char *data, size_t len, bool big_endian,
			  struct strbuf *out)
{
	unsigned line = 1;

	strbuf_grow(out, len + len / 2 + 1);
	for (size_t i = 0; i + 1 < len; i += 2) {
		unsigned unit = big_endian ? (unsigned)(data[i] << 8 | data[i + 1]) : (unsigned)(data[i + 1] << 8 | data[i]);

		if (unit >= 0xd800 && unit < 0xdc00 && i + 3 < len) {
			unsigned low = big_endian ? (unsigned)(data[i + 2] << 8 | data[i + 3]) :
						    (unsigned)(data[i + 3] << 8 | data[i + 2]);

			if (low >= 0xdc00 && low < 0xe000) {
				put_utf8(out, 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
				i += 2;
				continue;
			}
		}
		if (unit >= 0xd800 && unit < 0xe000) {
			fail(ld, line, "the file is not valid UTF-16 (an unpaired surrogate 0x%04x): save it "
			     "again as UTF-8 or UTF-16", unit);
			return false;
		}
		if (unit == '\n')
			line++;
		put_utf8(out, unit);
	}
	return true;
}

struct xml_error {
	bool seen;
	unsigned line;
	char message[512];
};

static void capture_error(void *context, xmlErrorPtr error)
{
	struct xml_error *first = context;
	size_t len;

	if (first->seen || error->level < XML_ERR_ERROR)
		return;
	first->seen = true;
	first->line = error->line > 0 ? (unsigned)error->line : 1;
	snprintf(first->message, sizeof(first->message), "%s", error->message ? error->message : "parse error");
	len = strlen(first->message);
	while (len && is_space(first->message[len - 1]))
		first->message[--len] = '\0';
	/* Some messages have a second line ("Bytes: 0xE9 ..."): keep one line. */
	for (char *c = first->message; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
}

static void ignore_generic_error(void *context, const char *fmt, ...)
{
	(void)context;
	(void)fmt;
}

static unsigned line_of(const char *text, size_t offset)
{
	unsigned line = 1;

	for (size_t i = 0; i < offset; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/* The first thing in the file is not markup: say what it is. */
static void fail_not_xml(struct loader *ld, const char *text, size_t len, unsigned line)
{
	struct strbuf start = STRBUF_INIT;
	size_t shown = 0;

	while (shown < len && shown < 40 && text[shown] != '\n' && text[shown] != '\r' &&
	       (shown == 0 || text[shown - 1] != '>'))
		shown++;
	quote_into(&start, text, shown);
	if (len >= 6 && strncmp(text, "Sysmon", 6) == 0)
		fail(ld, line, "the file does not start with '<': the first element must be <Sysmon "
		     "schemaversion=...> (the tutorial's text omits the leading '<' of '%s')", strbuf_str(&start));
	else
		fail(ld, line, "the file does not start with '<' (it starts with '%s'): a Sysmon config is an "
		     "XML file whose first element is <Sysmon schemaversion=...>", strbuf_str(&start));
	strbuf_release(&start);
}

static xmlDoc *parse_xml(struct loader *ld, const char *text, size_t len, bool converted)
{
	struct xml_error first = { 0 };
	int options = XML_PARSE_NONET | XML_PARSE_BIG_LINES;
	xmlDoc *doc;

	/* Never substitute entities, load DTDs or reach the network; a UTF-16
	 * file was converted already, so its declaration must not switch the
	 * decoder back. */
	if (converted)
		options |= XML_PARSE_IGNORE_ENC;
	xmlSetStructuredErrorFunc(&first, capture_error);
	xmlSetGenericErrorFunc(NULL, ignore_generic_error);
	doc = xmlReadMemory(text, (int)len, NULL, converted ? "UTF-8" : NULL, options);
	xmlSetStructuredErrorFunc(NULL, NULL);
	xmlSetGenericErrorFunc(NULL, NULL);
	if (!doc || first.seen) {
		fail(ld, first.seen ? first.line + ld->line_offset : 1, "malformed XML: %s",
		     first.seen ? first.message : "libxml2 could not parse the file");
		xmlFreeDoc(doc);
		return NULL;
	}
	if (doc->intSubset || doc->extSubset) {
		const char *doctype = memmem(text, len, "<!DOCTYPE", 9);

		fail(ld, (doctype ? line_of(text, (size_t)(doctype - text)) : 1) + ld->line_offset,
		     "the config has a <!DOCTYPE>: Sysmon configs have none (sysmon validates them "
		     "itself): remove it");
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static void hash_bytes(const char *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	hex[0] = '\0';
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		return;
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static struct sysmon_config *new_config(void)
{
	struct sysmon_config *config = xcalloc(1, sizeof(*config));

	config->schema_version = SCHEMA_LINUX;
	config->hash_algorithms = HASH_SHA256;
	config->defs.schema_version = SCHEMA_LINUX;
	return config;
}

struct sysmon_config *config_load_memory(const char *name, const char *data, size_t len, struct strbuf *err)
{
	struct loader ld = { .name = name, .err = err };
	const unsigned char *bytes = (const unsigned char *)data;
	struct strbuf converted = STRBUF_INIT;
	const char *text = data;
	size_t text_len = len, skip = 0;
	bool utf16 = false;
	xmlDoc *doc = NULL;

	ld.config = new_config();
	ld.config->path = xstrdup(name);
	ld.tags = xcalloc(schema_tag_count(), sizeof(*ld.tags));
	if (len > CONFIG_MAX_SIZE) {
		fail(&ld, 1, "the file is %zu bytes; a config may have at most %u MiB: is this the right file?",
		     len, CONFIG_MAX_SIZE >> 20);
		goto out;
	}
	hash_bytes(data, len, ld.config->sha256);

	/* Sysmon's sniff: no BOM and a zero second byte is UTF-16LE too. */
	if (len >= 2 && bytes[0] == 0xff && bytes[1] == 0xfe) {
		utf16 = utf16_to_utf8(&ld, bytes + 2, len - 2, false, &converted);
	} else if (len >= 2 && bytes[0] == 0xfe && bytes[1] == 0xff) {
		utf16 = utf16_to_utf8(&ld, bytes + 2, len - 2, true, &converted);
	} else if (len >= 2 && bytes[1] == 0 && bytes[0] != 0) {
		utf16 = utf16_to_utf8(&ld, bytes, len, false, &converted);
	} else if (len >= 3 && bytes[0] == 0xef && bytes[1] == 0xbb && bytes[2] == 0xbf) {
		text += 3;
		text_len -= 3;
	}
	if (ld.failed)
		goto out;
	if (utf16) {
		text = strbuf_str(&converted);
		text_len = converted.len;
	}
	/* Sysmon strips leading white space (so a declaration after it is
	 * legal); keep counting lines for the messages. */
	while (skip < text_len && is_space(text[skip])) {
		if (text[skip] == '\n' || (text[skip] == '\r' && (skip + 1 == text_len || text[skip + 1] != '\n')))
			ld.line_offset++;
		skip++;
	}
	if (len == 0) {
		fail(&ld, 1, "the file is empty: a config is an XML file such as <Sysmon schemaversion=\"4.90\">"
		     "<EventFiltering/></Sysmon>");
		goto out;
	}
	if (skip == text_len) {
		fail(&ld, 1 + ld.line_offset, "the file holds only white space: a config is an XML file such as "
		     "<Sysmon schemaversion=\"4.90\"><EventFiltering/></Sysmon>");
		goto out;
	}
	if (text[skip] != '<') {
		fail_not_xml(&ld, text + skip, text_len - skip, 1 + ld.line_offset);
		goto out;
	}
	doc = parse_xml(&ld, text + skip, text_len - skip, utf16);
	if (!doc)
		goto out;
	load_root(&ld, xmlDocGetRootElement(doc));
	collect_sets(&ld);
	if (!ld.failed) {
		ld.config->rules = rules_compile(&ld.config->defs);
		if (!ld.config->rules)
			fail(&ld, 1, "internal error: the rule engine rejected the rule definitions");
	}
out:
	for (size_t t = 0; t < schema_tag_count(); t++) {
		struct rule_defs rest = { .sets = ld.tags[t].sets, .nsets = ld.tags[t].n };

		rule_defs_free(&rest);
	}
	free(ld.tags);
	xmlFreeDoc(doc);
	strbuf_release(&converted);
	if (ld.failed) {
		config_free(ld.config);
		return NULL;
	}
	return ld.config;
}

struct sysmon_config *config_load_file(const char *path, struct strbuf *err)
{
	struct strbuf data = STRBUF_INIT;
	struct sysmon_config *config = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		strbuf_printf(err, "%s: cannot open the config: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		strbuf_printf(err, "%s: is a directory, not a config file", path);
		close(fd);
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (unsigned long long)st.st_size > CONFIG_MAX_SIZE) {
		strbuf_printf(err, "%s:1: the file is %lld bytes; a config may have at most %u MiB: is this "
			      "the right file?", path, (long long)st.st_size, CONFIG_MAX_SIZE >> 20);
		close(fd);
		return NULL;
	}
	/* Read one byte past the limit so that a growing file or a pipe is
	 * caught too. */
	for (;;) {
		ssize_t n;

		strbuf_grow(&data, 65536);
		n = read(fd, data.data + data.len, data.cap - data.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			strbuf_printf(err, "%s: cannot read the config: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		data.len += (size_t)n;
		data.data[data.len] = '\0';
		if (data.len > CONFIG_MAX_SIZE)
			break;
	}
	config = config_load_memory(path, data.data ? data.data : "", data.len, err);
out:
	close(fd);
	strbuf_release(&data);
	return config;
}

struct sysmon_config *config_default(void)
{
	struct sysmon_config *config = new_config();

	config->rules = rules_compile(&config->defs);
	return config;
}

void config_free(struct sysmon_config *config)
{
	if (!config)
		return;
	free(config->path);
	free(config->field_sizes_text);
	rule_defs_free(&config->defs);
	rules_free(config->rules);
	for (size_t i = 0; i < config->nwarnings; i++)
		free(config->warnings[i]);
	free(config->warnings);
	for (size_t i = 0; i < config->noptions; i++)
		free(config->options[i].value);
	free(config->options);
	free(config);
}
