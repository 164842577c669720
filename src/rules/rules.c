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

/* What only some conditions need, out of the hot filter array. */
struct filter_extra {
	struct rule_token *tokens;      /* ';' lists */
	uint32_t ntokens;
	const char *upper;              /* upper-cased value, for text ordering */
	bool value_is_integer;          /* for less than / more than */
	bool value_negative;
	const char *digits;             /* significant digits (no leading zeros) */
	uint32_t ndigits;
};

/* Kept within a cache line: rules_decide walks arrays of these. */
struct compiled_filter {
	const char *value;              /* lower-cased (ASCII only) */
	const char *name;               /* NULL when the filter has no name */
	uint64_t absent_in;             /* bit per event id whose layout lacks this field here */
	const struct filter_extra *extra;
	uint32_t value_len;
	/* At the first filter of a <Rule>: its number of filters (they follow
	 * this one); 0 for a plain filter. */
	uint32_t rule_length;
	uint8_t condition;              /* enum rule_condition */
	uint8_t field;                  /* position in the bound event's field list */
	bool reads_rule_name;           /* RuleName reads "-" while rules run */
	/* Top-level plain filter: a later top-level plain filter tests the same
	 * field, so in an AND set a failure here is not final (same-field OR). */
	bool same_field_later;
	bool rule_or;                   /* that <Rule>'s relation */
	bool image_whole;               /* `image` value is a path: compare all of it */
	/* Quick rejection: the field's length must be exactly / at least the
	 * value's, and its first / last byte (folded) must be QUICK_BYTE;
	 * otherwise the filter's result is QUICK_NEGATED. */
	uint8_t quick;
	uint8_t quick_byte;
	bool quick_negated;
};

_Static_assert(sizeof(struct compiled_filter) <= 64, "a compiled filter fits a cache line");
/* Fields are tracked in 32-bit masks while deciding. */
_Static_assert(SCHEMA_MAX_FIELDS <= 32, "field masks hold every field");

enum { QUICK_NONE, QUICK_EXACT, QUICK_PREFIX, QUICK_SUFFIX };

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
	void **allocations;             /* everything the filters point into */
	size_t nallocations, allocations_cap;
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

/* ---- Matching primitives.  F is the field text (FLEN bytes, its length
 * from the event, never strlen), the rule side is pre-folded. ---- */

#define BYTES_ONES 0x0101010101010101ull
#define BYTES_HIGH 0x8080808080808080ull

static inline uint64_t load8(const char *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

/* Eight bytes folded to lower case at once (ASCII letters only). */
static inline uint64_t fold_lower8(uint64_t x)
{
	uint64_t low7 = x & ~BYTES_HIGH;
	uint64_t at_least_a = low7 + (0x80 - 'A') * BYTES_ONES;
	uint64_t above_z = low7 + (0x80 - 'Z' - 1) * BYTES_ONES;
	uint64_t upper = at_least_a & ~above_z & ~x & BYTES_HIGH;

	return x | (upper >> 2);
}

static inline bool ci_equal(const char *f, const char *lowered, uint32_t len)
{
	for (; len >= 8; f += 8, lowered += 8, len -= 8)
		if (fold_lower8(load8(f)) != load8(lowered))
			return false;
	for (uint32_t i = 0; i < len; i++)
		if (fold_lower((unsigned char)f[i]) != (unsigned char)lowered[i])
			return false;
	return true;
}

/* Sysmon's substring search: an empty needle is found in any non-empty
 * field, nothing is found in an empty one.  Candidates for the first byte
 * are found eight bytes at a time. */
static bool ci_find(const char *f, uint32_t flen, const char *needle, uint32_t nlen)
{
	if (flen == 0)
		return false;
	if (nlen == 0)
		return true;
	if (nlen > flen)
		return false;

	uint32_t last = flen - nlen;          /* last possible start */
	unsigned char first = (unsigned char)needle[0];
	uint64_t pattern = first * BYTES_ONES;
	uint32_t i = 0;

	for (; i + 8 <= flen && i <= last; i += 8) {
		uint64_t x = fold_lower8(load8(f + i)) ^ pattern;
		/* High bit set at zero bytes (and possibly above them: verified). */
		uint64_t zero = (x - BYTES_ONES) & ~x & BYTES_HIGH;

		while (zero) {
			uint32_t p = i + (uint32_t)(__builtin_ctzll(zero) >> 3);

			if (p > last)
				return false;
			if (fold_lower((unsigned char)f[p]) == first &&
			    ci_equal(f + p + 1, needle + 1, nlen - 1))
				return true;
			zero &= zero - 1;
		}
	}
	for (; i <= last; i++)
		if (fold_lower((unsigned char)f[i]) == first && ci_equal(f + i + 1, needle + 1, nlen - 1))
			return true;
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
	const struct filter_extra *x = flt->extra;
	bool negative;
	const char *digits;
	uint32_t ndigits;

	if (x->value_is_integer && parse_integer(f, flen, &negative, &digits, &ndigits)) {
		if (negative != x->value_negative)
			return negative ? -1 : 1;
		int c = compare_magnitude(digits, ndigits, x->digits, x->ndigits);
		return negative ? -c : c;
	}
	return ci_order(f, flen, x->upper, flt->value_len);
}

/* Where the file name of F starts for `image` (project decision): after the
 * last '/', and for values that are not Linux paths (not starting with '/')
 * also after the last '\', so `bash` matches /usr/bin/bash and `lsass.exe`
 * C:\Windows\lsass.exe. */
static uint32_t image_name_start(const char *f, uint32_t flen)
{
	const char *slash = memrchr(f, '/', flen);
	uint32_t start = slash ? (uint32_t)(slash - f) + 1 : 0;

	if (flen == 0 || f[0] != '/') {
		const char *backslash = memrchr(f + start, '\\', flen - start);
		if (backslash)
			start = (uint32_t)(backslash - f) + 1;
	}
	return start;
}

/* ---- Evaluation (spec 2.6, 2.7, 2.9). ---- */

/* Per-decision state: the event, its id's bit for absent_in, the candidate
 * RuleName, and each field's `image` name start once computed. */
struct decision {
	const struct event *ev;
	uint64_t id_bit;
	const char *candidate;
	uint32_t image_known;           /* bit per field */
	uint32_t image_start[SCHEMA_MAX_FIELDS];
};

static bool match_image(const struct compiled_filter *flt, const char *f, uint32_t flen,
			struct decision *d)
{
	if (!flt->image_whole) {
		uint32_t start;

		if (flt->reads_rule_name || d->ev->offset[flt->field] == EVENT_UNSET) {
			start = 0;          /* "-" */
		} else if (d->image_known & (1u << flt->field)) {
			start = d->image_start[flt->field];
		} else {
			start = image_name_start(f, flen);
			d->image_start[flt->field] = start;
			d->image_known |= 1u << flt->field;
		}
		f += start;
		flen -= start;
	}
	return flen == flt->value_len && ci_equal(f, flt->value, flen);
}

static inline bool match_filter(const struct compiled_filter *flt, const char *f, uint32_t flen,
				struct decision *d)
{
	const char *v = flt->value;
	uint32_t vlen = flt->value_len;
	const struct filter_extra *x = flt->extra;

	switch ((enum rule_condition)flt->condition) {
	case COND_IS:
		return flen == vlen && ci_equal(f, v, vlen);
	case COND_IS_NOT:
		return !(flen == vlen && ci_equal(f, v, vlen));
	case COND_END_WITH:
		return vlen <= flen && ci_equal(f + flen - vlen, v, vlen);
	case COND_NOT_END_WITH:
		return !(vlen <= flen && ci_equal(f + flen - vlen, v, vlen));
	case COND_BEGIN_WITH:
		return vlen <= flen && ci_equal(f, v, vlen);
	case COND_NOT_BEGIN_WITH:
		return !(vlen <= flen && ci_equal(f, v, vlen));
	case COND_CONTAINS:
		return ci_find(f, flen, v, vlen);
	case COND_EXCLUDES:
		return !ci_find(f, flen, v, vlen);
	case COND_IMAGE:
		return match_image(flt, f, flen, d);
	case COND_CONTAINS_ANY:
	case COND_EXCLUDES_ANY: {
		bool any = false;
		for (uint32_t i = 0; i < x->ntokens && !any; i++)
			any = ci_find(f, flen, x->tokens[i].text, x->tokens[i].len);
		return flt->condition == COND_CONTAINS_ANY ? any : !any;
	}
	case COND_CONTAINS_ALL:
	case COND_EXCLUDES_ALL: {
		bool all = true;
		for (uint32_t i = 0; i < x->ntokens && all; i++)
			all = ci_find(f, flen, x->tokens[i].text, x->tokens[i].len);
		return flt->condition == COND_CONTAINS_ALL ? all : !all;
	}
	case COND_IS_ANY:
		for (uint32_t i = 0; i < x->ntokens; i++)
			if (flen == x->tokens[i].len && ci_equal(f, x->tokens[i].text, flen))
				return true;
		return false;
	case COND_LESS_THAN:
		return order_value(flt, f, flen) < 0;
	case COND_MORE_THAN:
		return order_value(flt, f, flen) > 0;
	}
	return false;
}

static inline bool filter_matches(const struct compiled_filter *flt, struct decision *d)
{
	const struct event *ev = d->ev;
	uint32_t offset = ev->offset[flt->field];
	const char *f = "-";
	uint32_t flen = 1;

	if (!flt->reads_rule_name && offset != EVENT_UNSET) {
		f = ev->arena + offset;
		flen = ev->length[flt->field];
	}
	/* Most filters fail on the length or on one byte: decide those
	 * without the full comparison. */
	if (flt->quick != QUICK_NONE) {
		uint32_t need = flt->value_len;

		if (flt->quick == QUICK_EXACT ? flen != need : flen < need)
			return flt->quick_negated;
		if (need && fold_lower((unsigned char)f[flt->quick == QUICK_SUFFIX ? flen - 1 : 0]) !=
			    flt->quick_byte)
			return flt->quick_negated;
	}
	return match_filter(flt, f, flen, d);
}

/* One <Rule>: every matching named filter updates the candidate name, even
 * if the <Rule> fails later (the stale-name quirk). */
static bool eval_rule(const struct compiled_filter *flt, uint32_t n, bool or_mode,
		      struct decision *d)
{
	for (uint32_t i = 0; i < n; i++, flt++) {
		bool match = !(flt->absent_in & d->id_bit) && filter_matches(flt, d);

		if (match && flt->name)
			d->candidate = flt->name;
		if (or_mode && match)
			return true;
		if (!or_mode && !match)
			return false;
	}
	return !or_mode;
}

/* Rendering a field cannot fail here (values are text already), so the
 * spec's FAILED outcome does not arise. */
static bool eval_set(const struct compiled_set *set, struct decision *d)
{
	uint32_t satisfied = 0;          /* fields that matched at the top level */
	size_t i = 0;

	if (set->nfilters == 0)
		return false;
	while (i < set->nfilters) {
		const struct compiled_filter *flt = &set->filters[i];
		bool match, plain = flt->rule_length == 0;

		if (!plain) {
			match = eval_rule(flt, flt->rule_length, flt->rule_or, d);
			i += flt->rule_length;
		} else {
			i++;
			if (flt->absent_in & d->id_bit) {
				match = false;
			} else if (satisfied & (1u << flt->field)) {
				continue;
			} else {
				match = filter_matches(flt, d);
				if (match) {
					if (flt->name)
						d->candidate = flt->name;
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
	const struct schema_event *schema = ev ? ev->schema : NULL;

	if (rule_name)
		*rule_name = "-";
	/* Not a filterable event: never drop it silently. */
	if (!schema || schema->id >= RULES_MAX_ID || !schema->rule_tag)
		return true;
	if (!rules)
		return schema->default_include;

	const struct id_entry *entry = &rules->ids[schema->id];
	if (!entry->tagged)
		return true;
	if (entry->nsets == 0)
		return entry->default_include;

	struct decision d;
	d.ev = ev;
	d.id_bit = schema->id < RULES_MAX_TAGGED_ID ? 1ull << schema->id : 0;
	d.candidate = NULL;
	d.image_known = 0;
	for (size_t i = 0; i < entry->nsets; i++) {
		const struct compiled_set *set = entry->order[i];

		if (!eval_set(set, &d))
			continue;
		if (rule_name && d.candidate)
			*rule_name = d.candidate;
		return !set->exclude;
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

/* ---- rules_field_patterns ---- */

/* Add FLT's patterns to OUT; false if FLT's condition has none. */
static bool add_patterns(const struct compiled_filter *flt, struct rule_text_pattern *out, int max, int *n)
{
	switch ((enum rule_condition)flt->condition) {
	case COND_IS: case COND_BEGIN_WITH: case COND_END_WITH:
		if (*n == max)
			return false;
		out[(*n)++] = (struct rule_text_pattern){ (enum rule_condition)flt->condition, flt->value,
							  flt->value_len };
		return true;
	case COND_IS_ANY:
		for (uint32_t t = 0; t < flt->extra->ntokens; t++) {
			if (*n == max)
				return false;
			out[(*n)++] = (struct rule_text_pattern){ COND_IS, flt->extra->tokens[t].text,
								  flt->extra->tokens[t].len };
		}
		return true;
	default:
		return false;
	}
}

int rules_field_patterns(const struct rules *rules, unsigned id, const char *field,
			 struct rule_text_pattern *out, int max)
{
	const struct schema_event *schema = schema_event_by_id(id);
	int field_index = schema ? schema_field_index(schema, field) : -1;
	int n = 0;

	if (!rules || field_index < 0 || id >= RULES_MAX_TAGGED_ID || !rules->ids[id].tagged)
		return -1;
	const struct id_entry *entry = &rules->ids[id];
	uint64_t id_bit = 1ull << id;
	/* no sets, or one exclude set: what it does not match is logged */
	if (entry->nsets == 0 || (entry->nsets == 1 && entry->order[0]->exclude))
		return -1;
	/* otherwise an event is logged only by an include set it matches */
	for (size_t i = 0; i < entry->nsets; i++) {
		const struct compiled_set *set = entry->order[i];
		bool on_field = false;

		if (set->exclude || !set_can_match(set, id))
			continue;
		for (size_t k = 0; k < set->nfilters;) {
			const struct compiled_filter *flt = &set->filters[k];

			if (flt->rule_length) {
				if (set->or_mode)
					return -1;   /* the <Rule> alone may match */
				k += flt->rule_length;
				continue;
			}
			k++;
			if (flt->absent_in & id_bit)
				continue;    /* never matches ID */
			if (flt->field != field_index) {
				if (set->or_mode)
					return -1;
				continue;    /* AND: FIELD's filters must match too */
			}
			if (!add_patterns(flt, out, max, &n))
				return -1;
			on_field = true;
		}
		if (!on_field)
			return -1;
	}
	return n;
}

/* ---- Compilation ---- */

/* Record an allocation the compiled rules own (freed by rules_free). */
static void *own(struct rules *rules, void *s)
{
	if (rules->nallocations == rules->allocations_cap) {
		rules->allocations_cap = rules->allocations_cap ? 2 * rules->allocations_cap : 64;
		rules->allocations = xrealloc(rules->allocations, rules->allocations_cap * sizeof(void *));
	}
	rules->allocations[rules->nallocations++] = s;
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
static void split_tokens(struct rules *rules, const struct compiled_filter *flt,
			 struct filter_extra *x)
{
	const char *v = flt->value;
	uint32_t len = flt->value_len, count = 1;

	for (uint32_t i = 0; i < len; i++)
		count += v[i] == ';';
	x->tokens = own(rules, xcalloc(count, sizeof(struct rule_token)));
	x->ntokens = count;

	uint32_t start = 0, n = 0;
	for (uint32_t i = 0; i <= len; i++) {
		if (i < len && v[i] != ';')
			continue;
		struct rule_token *t = &x->tokens[n++];
		t->text = v + start;
		t->len = i - start;
		if (t->len == 0 && flt->condition != COND_IS_ANY)
			t->len = len - start;
		start = i + 1;
	}
}

static void set_quick_check(struct compiled_filter *flt)
{
	switch ((enum rule_condition)flt->condition) {
	case COND_IS: case COND_IS_NOT:
		flt->quick = QUICK_EXACT;
		break;
	case COND_IMAGE:
		flt->quick = flt->image_whole ? QUICK_EXACT : QUICK_NONE;
		break;
	case COND_BEGIN_WITH: case COND_NOT_BEGIN_WITH:
		flt->quick = QUICK_PREFIX;
		break;
	case COND_END_WITH: case COND_NOT_END_WITH:
		flt->quick = QUICK_SUFFIX;
		break;
	default:
		flt->quick = QUICK_NONE;
		return;
	}
	flt->quick_negated = flt->condition == COND_IS_NOT || flt->condition == COND_NOT_BEGIN_WITH ||
			     flt->condition == COND_NOT_END_WITH;
	if (flt->value_len)
		flt->quick_byte = (unsigned char)flt->value[flt->quick == QUICK_SUFFIX ? flt->value_len - 1 : 0];
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

	if (fd->field < 0 || (unsigned)fd->field >= event->nfields ||
	    (unsigned)fd->condition >= SCHEMA_CONDITION_COUNT || !fd->value ||
	    fd->aggregate < -1 || (fd->aggregate >= 0 && (size_t)fd->aggregate >= def->naggregates))
		return false;

	size_t len = strlen(fd->value);
	if (len > UINT32_MAX / 2)
		return false;
	flt->condition = (uint8_t)fd->condition;
	flt->field = (uint8_t)fd->field;
	flt->reads_rule_name = !strcmp(event->fields[fd->field].name, "RuleName");
	flt->value = folded_copy(rules, fd->value, len, false);
	flt->value_len = (uint32_t)len;
	flt->name = fd->name && *fd->name ? own(rules, xstrdup(fd->name)) : NULL;

	struct filter_extra *x;
	switch (fd->condition) {
	case COND_CONTAINS_ANY: case COND_CONTAINS_ALL: case COND_EXCLUDES_ANY:
	case COND_EXCLUDES_ALL: case COND_IS_ANY:
		flt->extra = x = own(rules, xcalloc(1, sizeof(*x)));
		split_tokens(rules, flt, x);
		break;
	case COND_LESS_THAN: case COND_MORE_THAN:
		flt->extra = x = own(rules, xcalloc(1, sizeof(*x)));
		x->upper = folded_copy(rules, fd->value, len, true);
		x->value_is_integer = parse_integer(flt->value, flt->value_len, &x->value_negative,
						    &x->digits, &x->ndigits);
		break;
	case COND_IMAGE:
		flt->image_whole = memchr(flt->value, '/', len) || memchr(flt->value, '\\', len);
		break;
	default:
		break;
	}
	set_quick_check(flt);

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
	for (size_t i = 0; i < rules->nallocations; i++)
		free(rules->allocations[i]);
	free(rules->allocations);
	free(rules);
}
