/*
 * The rule engine (see rules.h): compiles the rule definitions the config
 * loader built into per-event-id lists of rule sets, and decides per event
 * whether it is logged and under which RuleName.
 *
 * Semantics follow the compatibility spec sections 2.1-2.11 with the
 * project's decisions: `image` also splits on '/', `less than`/`more than`
 * compare numbers numerically.  Everything that depends only on the rules
 * (case folding, ';' lists, numbers, evaluation order, which filters cannot
 * apply to a sibling event id of a shared tag) is computed once in
 * rules_compile(), so rules_decide() does no allocation, no strlen and no
 * locale-dependent calls.
 */
#include "rules/rules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

/* Event ids are below 256 (255 is the highest); tagged ones below 64, which
 * lets a filter record the sibling ids it cannot apply to in one word. */
#define RULES_MAX_ID 256
#define RULES_MAX_TAGGED_ID 64

struct rule_token {
	const char *text;           /* lower-cased */
	uint32_t len;
};

struct compiled_filter {
	enum rule_condition condition;
	unsigned field;                 /* position in the bound event's field list */
	bool reads_rule_name;           /* RuleName reads "-" while rules run */
	/* Top-level plain filter: a later top-level plain filter tests the same
	 * field, so in an AND set a failure here is not final (same-field OR). */
	bool same_field_later;
	/* At the first filter of a <Rule>: its number of filters (they follow
	 * this one); 0 for a plain filter. */
	uint32_t rule_length;
	bool rule_or;                   /* that <Rule>'s relation */
	uint64_t absent_in;             /* bit per event id whose layout lacks this field here */
	const char *value;              /* lower-cased (ASCII only) */
	uint32_t value_len;
	const char *upper;              /* upper-cased, for text ordering */
	struct rule_token *tokens;      /* ';' lists */
	uint32_t ntokens;
	bool value_is_integer;          /* for less than / more than */
	bool value_negative;
	const char *digits;             /* significant digits (no leading zeros) */
	uint32_t ndigits;
	bool image_whole;               /* `image` value is a path: compare all of it */
	const char *name;               /* NULL when the filter has no name */
};

struct compiled_set {
	bool exclude;
	bool or_mode;
	struct compiled_filter *filters;
	size_t nfilters;
};

struct id_entry {
	bool tagged;                    /* has a rule tag (else always logged) */
	bool default_include;           /* decision when the tag has no sets */
	const struct compiled_set **order;   /* evaluation order (2.7) */
	size_t nsets;
};

struct rules {
	struct compiled_set *sets;      /* document order */
	size_t nsets;
	struct id_entry ids[RULES_MAX_ID];
	void **strings;                 /* every allocation the filters point into */
	size_t nstrings, strings_cap;
};

/* ---- Case folding: ASCII only (spec 2.1), no locale. ---- */

static inline unsigned char fold_lower(unsigned char c)
{
	return (unsigned char)(c - 'A') < 26 ? (unsigned char)(c | 0x20) : c;
}

static inline unsigned char fold_upper(unsigned char c)
{
	return (unsigned char)(c - 'a') < 26 ? (unsigned char)(c & ~0x20) : c;
}

static int ascii_casecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = fold_lower((unsigned char)*a), cb = fold_lower((unsigned char)*b);

		if (ca != cb || !ca)
			return ca - cb;
	}
}

int rule_condition_parse(const char *text)
{
	if (!text)
		return -1;
	if (!*text)
		return COND_IS;
	for (int i = 0; i < SCHEMA_CONDITION_COUNT; i++)
		if (!ascii_casecmp(text, schema_conditions[i]))
			return i;
	return -1;
}

void rule_defs_free(struct rule_defs *defs)
{
	if (!defs)
		return;
	for (size_t i = 0; i < defs->nsets; i++) {
		struct rule_set_def *set = &defs->sets[i];

		for (size_t j = 0; j < set->nfilters; j++) {
			free(set->filters[j].value);
			free(set->filters[j].name);
		}
		for (size_t j = 0; j < set->naggregates; j++)
			free(set->aggregates[j].name);
		free(set->filters);
		free(set->aggregates);
		free(set->group_name);
	}
	free(defs->sets);
	memset(defs, 0, sizeof(*defs));
}

/* ---- Matching primitives.  F is the field text (LEN bytes, not
 * NUL-terminated as far as we rely on), the rule side is pre-lowered. ---- */

static inline bool ci_equal(const char *f, const char *lowered, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (fold_lower((unsigned char)f[i]) != (unsigned char)lowered[i])
			return false;
	return true;
}

/* Sysmon's substring search: an empty needle is found in any non-empty
 * field, nothing is found in an empty one. */
static bool ci_find(const char *f, uint32_t flen, const char *needle, uint32_t nlen)
{
	if (flen == 0)
		return false;
	if (nlen == 0)
		return true;
	if (nlen > flen)
		return false;
	unsigned char first = (unsigned char)needle[0];
	for (uint32_t i = 0; i + nlen <= flen; i++) {
		if (fold_lower((unsigned char)f[i]) != first)
			continue;
		if (ci_equal(f + i + 1, needle + 1, nlen - 1))
			return true;
	}
	return false;
}

/* Three-way comparison folding to upper case, shorter first on a common
 * prefix (Sysmon for Linux's ordering). */
static int ci_order(const char *f, uint32_t flen, const char *upper, uint32_t ulen)
{
	uint32_t n = flen < ulen ? flen : ulen;

	for (uint32_t i = 0; i < n; i++) {
		unsigned char a = fold_upper((unsigned char)f[i]), b = (unsigned char)upper[i];

		if (a != b)
			return a < b ? -1 : 1;
	}
	return flen < ulen ? -1 : flen > ulen;
}

/* Is TEXT an optional '-' and one or more decimal digits?  On success gives
 * the sign and the significant digits (empty for zero). */
static bool parse_integer(const char *text, uint32_t len, bool *negative,
			  const char **digits, uint32_t *ndigits)
{
	uint32_t i = 0;

	*negative = len > 0 && text[0] == '-';
	if (*negative)
		i = 1;
	if (i == len)
		return false;
	for (uint32_t j = i; j < len; j++)
		if ((unsigned char)(text[j] - '0') > 9)
			return false;
	while (i < len && text[i] == '0')
		i++;
	*digits = text + i;
	*ndigits = len - i;
	if (*ndigits == 0)
		*negative = false;      /* -0 is 0 */
	return true;
}

static int compare_magnitude(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	int c = memcmp(a, b, alen);
	return (c > 0) - (c < 0);
}

/* less than / more than: numeric when both sides are integers (project
 * decision), otherwise Sysmon's case-insensitive text ordering. */
static int order_value(const struct compiled_filter *flt, const char *f, uint32_t flen)
{
	bool negative;
	const char *digits;
	uint32_t ndigits;

	if (flt->value_is_integer && parse_integer(f, flen, &negative, &digits, &ndigits)) {
		if (negative != flt->value_negative)
			return negative ? -1 : 1;
		int c = compare_magnitude(digits, ndigits, flt->digits, flt->ndigits);
		return negative ? -c : c;
	}
	return ci_order(f, flen, flt->upper, flt->value_len);
}

/* `image` (project decision): the part after the last '/', and for values
 * that are not Linux paths (not starting with '/') also after the last '\',
 * so `bash` matches /usr/bin/bash and `lsass.exe` C:\Windows\lsass.exe.  A
 * rule value that holds a separator is compared with the whole field. */
static bool match_image(const struct compiled_filter *flt, const char *f, uint32_t flen)
{
	if (!flt->image_whole) {
		bool windows_style = flen == 0 || f[0] != '/';
		uint32_t start = flen;

		while (start > 0 && f[start - 1] != '/' && !(windows_style && f[start - 1] == '\\'))
			start--;
		f += start;
		flen -= start;
	}
	return flen == flt->value_len && ci_equal(f, flt->value, flen);
}

static bool match_filter(const struct compiled_filter *flt, const char *f, uint32_t flen)
{
	const char *v = flt->value;
	uint32_t vlen = flt->value_len;

	switch (flt->condition) {
	case COND_IS:
		return flen == vlen && ci_equal(f, v, vlen);
	case COND_IS_NOT:
		return !(flen == vlen && ci_equal(f, v, vlen));
	case COND_CONTAINS:
		return ci_find(f, flen, v, vlen);
	case COND_EXCLUDES:
		return !ci_find(f, flen, v, vlen);
	case COND_CONTAINS_ANY:
	case COND_EXCLUDES_ANY: {
		bool any = false;
		for (uint32_t i = 0; i < flt->ntokens && !any; i++)
			any = ci_find(f, flen, flt->tokens[i].text, flt->tokens[i].len);
		return flt->condition == COND_CONTAINS_ANY ? any : !any;
	}
	case COND_CONTAINS_ALL:
	case COND_EXCLUDES_ALL: {
		bool all = true;
		for (uint32_t i = 0; i < flt->ntokens && all; i++)
			all = ci_find(f, flen, flt->tokens[i].text, flt->tokens[i].len);
		return flt->condition == COND_CONTAINS_ALL ? all : !all;
	}
	case COND_IS_ANY:
		for (uint32_t i = 0; i < flt->ntokens; i++)
			if (flen == flt->tokens[i].len && ci_equal(f, flt->tokens[i].text, flen))
				return true;
		return false;
	case COND_BEGIN_WITH:
		return vlen <= flen && ci_equal(f, v, vlen);
	case COND_NOT_BEGIN_WITH:
		return !(vlen <= flen && ci_equal(f, v, vlen));
	case COND_END_WITH:
		return vlen <= flen && ci_equal(f + flen - vlen, v, vlen);
	case COND_NOT_END_WITH:
		return !(vlen <= flen && ci_equal(f + flen - vlen, v, vlen));
	case COND_LESS_THAN:
		return order_value(flt, f, flen) < 0;
	case COND_MORE_THAN:
		return order_value(flt, f, flen) > 0;
	case COND_IMAGE:
		return match_image(flt, f, flen);
	}
	return false;
}

/* ---- Evaluation (spec 2.6, 2.7, 2.9). ---- */

static inline bool filter_matches(const struct compiled_filter *flt, const struct event *ev)
{
	if (flt->reads_rule_name)
		return match_filter(flt, "-", 1);
	uint32_t offset = ev->offset[flt->field];
	if (offset == EVENT_UNSET)
		return match_filter(flt, "-", 1);
	return match_filter(flt, ev->arena + offset, ev->length[flt->field]);
}

/* One <Rule>: every matching named filter updates the candidate name, even
 * if the <Rule> fails later (the stale-name quirk). */
static bool eval_rule(const struct compiled_filter *flt, uint32_t n, bool or_mode,
		      const struct event *ev, uint64_t id_bit, const char **candidate)
{
	for (uint32_t i = 0; i < n; i++, flt++) {
		bool match = !(flt->absent_in & id_bit) && filter_matches(flt, ev);

		if (match && flt->name)
			*candidate = flt->name;
		if (or_mode && match)
			return true;
		if (!or_mode && !match)
			return false;
	}
	return !or_mode;
}

static bool eval_set(const struct compiled_set *set, const struct event *ev, uint64_t id_bit,
		     const char **candidate)
{
	uint32_t satisfied = 0;          /* fields that matched at the top level */
	size_t i = 0;

	if (set->nfilters == 0)
		return false;
	while (i < set->nfilters) {
		const struct compiled_filter *flt = &set->filters[i];
		bool match, plain = flt->rule_length == 0;

		if (!plain) {
			match = eval_rule(flt, flt->rule_length, flt->rule_or, ev, id_bit, candidate);
			i += flt->rule_length;
		} else {
			i++;
			if (flt->absent_in & id_bit) {
				match = false;
			} else if (satisfied & (1u << flt->field)) {
				continue;
			} else {
				match = filter_matches(flt, ev);
				if (match) {
					if (flt->name)
						*candidate = flt->name;
					satisfied |= 1u << flt->field;
				}
			}
		}
		if (set->or_mode && match)
			return true;
		if (!set->or_mode && !match) {
			if (plain && flt->same_field_later)
				continue;
			return false;
		}
	}
	return !set->or_mode;
}

bool rules_decide(const struct rules *rules, const struct event *ev, const char **rule_name)
{
	const struct schema_event *schema = ev->schema;
	const char *candidate = NULL;

	if (rule_name)
		*rule_name = "-";
	if (!schema || schema->id >= RULES_MAX_ID || !schema->rule_tag)
		return true;
	if (!rules)
		return schema->default_include;

	const struct id_entry *entry = &rules->ids[schema->id];
	if (!entry->tagged)
		return true;
	if (entry->nsets == 0)
		return entry->default_include;

	uint64_t id_bit = schema->id < RULES_MAX_TAGGED_ID ? 1ull << schema->id : 0;
	for (size_t i = 0; i < entry->nsets; i++) {
		const struct compiled_set *set = entry->order[i];

		if (!eval_set(set, ev, id_bit, &candidate))
			continue;
		if (set->exclude)
			return false;
		if (rule_name && candidate)
			*rule_name = candidate;
		return true;
	}
	/* Nothing matched: one set gives the opposite of its onmatch, two or
	 * more exclude the event (even if all are exclude sets, 2.7). */
	return entry->nsets == 1 && entry->order[0]->exclude;
}

/* ---- rules_may_log ---- */

/* Can SET match an event of type ID at all?  True unless it has no filter
 * whose field exists in ID's layout. */
static bool set_can_match(const struct compiled_set *set, unsigned id)
{
	uint64_t id_bit = id < RULES_MAX_TAGGED_ID ? 1ull << id : 0;

	for (size_t i = 0; i < set->nfilters; i++)
		if (!(set->filters[i].absent_in & id_bit))
			return true;
	return false;
}

bool rules_may_log(const struct rules *rules, unsigned id)
{
	const struct schema_event *schema = schema_event_by_id(id);

	if (!schema || !schema->rule_tag || id >= RULES_MAX_ID)
		return true;
	if (!rules)
		return schema->default_include;

	const struct id_entry *entry = &rules->ids[id];
	if (entry->nsets == 0)
		return entry->default_include;
	/* A single exclude set logs whatever it does not match. */
	if (entry->nsets == 1 && entry->order[0]->exclude)
		return true;
	/* Otherwise only a matching include set logs anything. */
	for (size_t i = 0; i < entry->nsets; i++)
		if (!entry->order[i]->exclude && set_can_match(entry->order[i], id))
			return true;
	return false;
}

/* ---- Compilation ---- */

/* Record an allocation the compiled rules own (freed by rules_free). */
static void *own(struct rules *rules, void *s)
{
	if (rules->nstrings == rules->strings_cap) {
		rules->strings_cap = rules->strings_cap ? 2 * rules->strings_cap : 64;
		rules->strings = xrealloc(rules->strings, rules->strings_cap * sizeof(void *));
	}
	rules->strings[rules->nstrings++] = s;
	return s;
}

static char *folded_copy(struct rules *rules, const char *text, size_t len, bool upper)
{
	char *copy = own(rules, xmalloc(len + 1));

	for (size_t i = 0; i < len; i++)
		copy[i] = (char)(upper ? fold_upper((unsigned char)text[i])
				       : fold_lower((unsigned char)text[i]));
	copy[len] = '\0';
	return copy;
}

/* Split the lowered value on every ';' (spec 2.3).  For the substring
 * conditions an empty token stands for the rest of the value from its
 * position (delimiters included), as Sysmon's search runs to the end of the
 * string when given no length; `is any` keeps it empty. */
static void split_tokens(struct rules *rules, struct compiled_filter *flt)
{
	const char *v = flt->value;
	uint32_t len = flt->value_len, count = 1;

	for (uint32_t i = 0; i < len; i++)
		count += v[i] == ';';
	flt->tokens = own(rules, xcalloc(count, sizeof(struct rule_token)));
	flt->ntokens = count;

	uint32_t start = 0, n = 0;
	for (uint32_t i = 0; i <= len; i++) {
		if (i < len && v[i] != ';')
			continue;
		struct rule_token *t = &flt->tokens[n++];
		t->text = v + start;
		t->len = i - start;
		if (t->len == 0 && flt->condition != COND_IS_ANY)
			t->len = len - start;
		start = i + 1;
	}
}

/* Does event OTHER hold SET_EVENT's field FIELD at the same position? */
static bool same_field_at(const struct schema_event *set_event, const struct schema_event *other,
			  unsigned field)
{
	return field < other->nfields &&
	       !strcmp(set_event->fields[field].name, other->fields[field].name);
}

static bool compile_filter(struct rules *rules, const struct rule_set_def *def, size_t index,
			   struct compiled_filter *flt)
{
	const struct rule_filter_def *fd = &def->filters[index];
	const struct schema_event *event = def->event;

	if (fd->field < 0 || (unsigned)fd->field >= event->nfields || fd->field >= 32 ||
	    (unsigned)fd->condition >= SCHEMA_CONDITION_COUNT || !fd->value ||
	    fd->aggregate < -1 || (fd->aggregate >= 0 && (size_t)fd->aggregate >= def->naggregates))
		return false;

	size_t len = strlen(fd->value);
	if (len > UINT32_MAX / 2)
		return false;
	flt->condition = fd->condition;
	flt->field = (unsigned)fd->field;
	flt->reads_rule_name = !strcmp(event->fields[fd->field].name, "RuleName");
	flt->value = folded_copy(rules, fd->value, len, false);
	flt->value_len = (uint32_t)len;
	flt->name = fd->name && *fd->name ? own(rules, xstrdup(fd->name)) : NULL;

	switch (fd->condition) {
	case COND_CONTAINS_ANY: case COND_CONTAINS_ALL: case COND_EXCLUDES_ANY:
	case COND_EXCLUDES_ALL: case COND_IS_ANY:
		split_tokens(rules, flt);
		break;
	case COND_LESS_THAN: case COND_MORE_THAN:
		flt->upper = folded_copy(rules, fd->value, len, true);
		flt->value_is_integer = parse_integer(flt->value, flt->value_len, &flt->value_negative,
						      &flt->digits, &flt->ndigits);
		break;
	case COND_IMAGE:
		flt->image_whole = memchr(flt->value, '/', len) || memchr(flt->value, '\\', len);
		break;
	default:
		break;
	}

	/* Sibling ids of a shared tag whose layout lacks this field here (2.10). */
	const struct schema_event *siblings[RULES_MAX_TAGGED_ID];
	size_t nsiblings = schema_tag_events(event->rule_tag, siblings, RULES_MAX_TAGGED_ID);
	for (size_t i = 0; i < nsiblings; i++) {
		if (siblings[i]->id >= RULES_MAX_TAGGED_ID)
			return false;
		if (!same_field_at(event, siblings[i], flt->field))
			flt->absent_in |= 1ull << siblings[i]->id;
	}
	return true;
}

static bool compile_set(struct rules *rules, const struct rule_set_def *def,
			struct compiled_set *set)
{
	if (!def->event || !def->event->rule_tag || def->event->id >= RULES_MAX_TAGGED_ID)
		return false;
	set->exclude = def->exclude;
	set->or_mode = def->or_mode;
	set->nfilters = def->nfilters;
	set->filters = def->nfilters ? xcalloc(def->nfilters, sizeof(struct compiled_filter)) : NULL;
	for (size_t i = 0; i < def->nfilters; i++)
		if (!compile_filter(rules, def, i, &set->filters[i]))
			return false;

	/* A <Rule> is a run of consecutive filters with the same aggregate
	 * index, as Sysmon groups them. */
	for (size_t i = 0; i < def->nfilters;) {
		int aggregate = def->filters[i].aggregate;
		size_t end = i + 1;

		if (aggregate < 0) {
			for (size_t j = i + 1; j < def->nfilters; j++)
				if (def->filters[j].aggregate < 0 &&
				    def->filters[j].field == def->filters[i].field)
					set->filters[i].same_field_later = true;
			i = end;
			continue;
		}
		while (end < def->nfilters && def->filters[end].aggregate == aggregate)
			end++;
		set->filters[i].rule_length = (uint32_t)(end - i);
		set->filters[i].rule_or = def->aggregates[aggregate].or_mode;
		i = end;
	}
	return true;
}

static void add_to_order(struct rules *rules, const struct compiled_set *set, unsigned id)
{
	struct id_entry *entry = &rules->ids[id];

	entry->order = xrealloc(entry->order, (entry->nsets + 1) * sizeof(*entry->order));
	entry->order[entry->nsets++] = set;
}

struct rules *rules_compile(const struct rule_defs *defs)
{
	struct rules *rules = xcalloc(1, sizeof(*rules));

	for (size_t i = 0; i < schema_event_count(); i++) {
		const struct schema_event *e = schema_event_at(i);

		if (e->id < RULES_MAX_ID) {
			rules->ids[e->id].tagged = e->rule_tag != NULL;
			rules->ids[e->id].default_include = e->default_include;
		}
	}
	if (!defs || defs->nsets == 0)
		return rules;

	rules->sets = xcalloc(defs->nsets, sizeof(struct compiled_set));
	rules->nsets = defs->nsets;
	for (size_t i = 0; i < defs->nsets; i++) {
		if (!compile_set(rules, &defs->sets[i], &rules->sets[i])) {
			rules_free(rules);
			return NULL;
		}
	}

	/* Evaluation order per id (2.7): exclude sets, then include sets, each
	 * in reverse document order; a shared tag's sets serve all its ids. */
	for (int pass = 0; pass < 2; pass++) {
		bool exclude = pass == 0;

		for (size_t i = defs->nsets; i-- > 0;) {
			const struct schema_event *siblings[RULES_MAX_TAGGED_ID];
			size_t n;

			if (rules->sets[i].exclude != exclude)
				continue;
			n = schema_tag_events(defs->sets[i].event->rule_tag, siblings, RULES_MAX_TAGGED_ID);
			for (size_t j = 0; j < n; j++)
				add_to_order(rules, &rules->sets[i], siblings[j]->id);
		}
	}
	return rules;
}

void rules_free(struct rules *rules)
{
	if (!rules)
		return;
	for (size_t i = 0; i < rules->nsets; i++)
		free(rules->sets[i].filters);
	free(rules->sets);
	for (size_t i = 0; i < RULES_MAX_ID; i++)
		free(rules->ids[i].order);
	for (size_t i = 0; i < rules->nstrings; i++)
		free(rules->strings[i]);
	free(rules->strings);
	free(rules);
}
