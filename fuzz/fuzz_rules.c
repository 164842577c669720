/*
 * libFuzzer target for the rule engine (src/rules/): derives a few rule sets
 * (event ids, onmatch, AND/OR, <Rule>s, fields, conditions, values and
 * names, all from the input bytes) and one event, then compiles and decides.
 * Beyond "never crash or leak" it checks the engine against a slow,
 * literal transcription of the compatibility spec's pseudo-code (2.2-2.10,
 * with the project's `image` and numeric less/more than), and that
 * rules_may_log() never says "never" for an event that rules_decide() logs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "schema/event.h"
#include "schema/schema.h"
#include "util/strbuf.h"

struct input {
	const uint8_t *data;
	size_t size;
};

static uint8_t next_byte(struct input *in)
{
	if (!in->size)
		return 0;
	in->size--;
	return *in->data++;
}

/* Rule values and field texts mix a small alphabet that makes matches
 * likely (separators, digits, ';', '-', case pairs) with raw bytes. */
static char *next_text(struct input *in, size_t *len_out)
{
	static const char alphabet[] = "aAbB;;/\\-0189 .xX";
	size_t len = next_byte(in) % 12;
	char *text = xmalloc(len + 1);

	for (size_t i = 0; i < len; i++) {
		uint8_t b = next_byte(in);
		text[i] = b & 0x80 ? (char)(b & 0x7f ? b : 0xff) : alphabet[b % (sizeof(alphabet) - 1)];
	}
	text[len] = '\0';
	if (len_out)
		*len_out = len;
	return text;
}

static const unsigned tagged_ids[] = {
	1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
};
#define NTAGGED (sizeof(tagged_ids) / sizeof(tagged_ids[0]))

static void build_defs(struct input *in, struct rule_defs *defs)
{
	unsigned first = tagged_ids[next_byte(in) % NTAGGED];

	defs->nsets = next_byte(in) % 5;
	defs->sets = xcalloc(defs->nsets + 1, sizeof(struct rule_set_def));
	for (size_t i = 0; i < defs->nsets; i++) {
		struct rule_set_def *set = &defs->sets[i];
		uint8_t flags = next_byte(in);

		/* Mostly the same tag, so that sets interact. */
		set->event = schema_event_by_id(flags & 0xc0 ? first : tagged_ids[next_byte(in) % NTAGGED]);
		set->exclude = flags & 1;
		set->or_mode = flags & 2;
		set->naggregates = (flags >> 2) % 3;
		set->aggregates = xcalloc(set->naggregates + 1, sizeof(struct rule_aggregate_def));
		for (size_t j = 0; j < set->naggregates; j++) {
			uint8_t b = next_byte(in);
			set->aggregates[j].or_mode = b & 1;
			set->aggregates[j].name = b & 2 ? next_text(in, NULL) : NULL;
		}
		set->nfilters = next_byte(in) % 7;
		set->filters = xcalloc(set->nfilters + 1, sizeof(struct rule_filter_def));
		for (size_t j = 0; j < set->nfilters; j++) {
			struct rule_filter_def *f = &set->filters[j];
			uint8_t b = next_byte(in), c = next_byte(in);

			/* Few distinct fields, so that same-field OR happens. */
			f->field = (int)((b & 0x0f) % (b & 0x10 ? set->event->nfields : 4u + 1));
			f->condition = (enum rule_condition)(c % SCHEMA_CONDITION_COUNT);
			f->aggregate = set->naggregates && (b & 0x20) ? (int)((b >> 6) % set->naggregates) : -1;
			f->value = next_text(in, NULL);
			f->name = c & 0x80 ? next_text(in, NULL) : NULL;
			f->line = (unsigned)j;
		}
	}
}

static void build_event(struct input *in, const struct rule_defs *defs, struct event *ev)
{
	uint8_t b = next_byte(in);
	unsigned id = defs->nsets && (b & 1) ? defs->sets[0].event->id : tagged_ids[(b >> 1) % NTAGGED];

	/* A sibling of a shared tag, to exercise the binding of sets. */
	if (b & 0x80) {
		const struct schema_event *siblings[8];
		size_t n = schema_tag_events(schema_event_by_id(id)->rule_tag, siblings, 8);
		id = siblings[next_byte(in) % n]->id;
	}
	event_reset(ev, id);
	for (unsigned i = 0; i < ev->schema->nfields; i++) {
		uint8_t how = next_byte(in);
		size_t len;
		char *text;

		if (how % 4 == 0)
			continue;           /* unset: reads "-" */
		text = next_text(in, &len);
		if (how == 0xff) {
			/* A long value made of the short one repeated. */
			struct strbuf big = STRBUF_INIT;
			for (int k = 0; k < 500; k++)
				strbuf_append(&big, text, len);
			strbuf_append(&big, "", 0);
			event_set(ev, (int)i, strbuf_str(&big), big.len);
			strbuf_release(&big);
		} else {
			event_set(ev, (int)i, text, len);
		}
		free(text);
	}
}

/* ---- The reference: slow and literal. ---- */

static char *ascii_fold(const char *s, size_t len, bool upper)
{
	char *out = xmalloc(len + 1);

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (upper && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!upper && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[i] = c;
	}
	out[len] = '\0';
	return out;
}

static bool ref_find(const char *f, size_t flen, const char *needle, size_t nlen)
{
	if (flen == 0)
		return false;
	if (nlen == 0)
		return true;
	return memmem(f, flen, needle, nlen) != NULL;
}

static bool ref_integer(const char *s, size_t len)
{
	size_t i = len && s[0] == '-';

	if (i == len)
		return false;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int ref_numeric_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	bool an = a[0] == '-', bn = b[0] == '-';
	const char *ad = a + an, *bd = b + bn;
	size_t al = alen - an, bl = blen - bn;

	while (al && *ad == '0')
		ad++, al--;
	while (bl && *bd == '0')
		bd++, bl--;
	if (!al)
		an = false;
	if (!bl)
		bn = false;
	if (an != bn)
		return an ? -1 : 1;
	int c = al != bl ? (al < bl ? -1 : 1) : memcmp(ad, bd, al);
	c = (c > 0) - (c < 0);
	return an ? -c : c;
}

static int ref_order(const char *f, size_t flen, const char *v, size_t vlen)
{
	if (ref_integer(f, flen) && ref_integer(v, vlen))
		return ref_numeric_compare(f, flen, v, vlen);
	char *fu = ascii_fold(f, flen, true), *vu = ascii_fold(v, vlen, true);
	size_t n = flen < vlen ? flen : vlen;
	int c = memcmp(fu, vu, n);
	free(fu);
	free(vu);
	if (c)
		return c < 0 ? -1 : 1;
	return flen < vlen ? -1 : flen > vlen;
}

static bool ref_condition(enum rule_condition cond, const char *value, const char *field, size_t flen)
{
	size_t vlen = strlen(value);
	char *v = ascii_fold(value, vlen, false), *f = ascii_fold(field, flen, false);
	bool r = false, any = false, all = true;

	switch (cond) {
	case COND_IS: r = flen == vlen && !memcmp(f, v, vlen); break;
	case COND_IS_NOT: r = !(flen == vlen && !memcmp(f, v, vlen)); break;
	case COND_CONTAINS: r = ref_find(f, flen, v, vlen); break;
	case COND_EXCLUDES: r = !ref_find(f, flen, v, vlen); break;
	case COND_BEGIN_WITH: r = vlen <= flen && !memcmp(f, v, vlen); break;
	case COND_NOT_BEGIN_WITH: r = !(vlen <= flen && !memcmp(f, v, vlen)); break;
	case COND_END_WITH: r = vlen <= flen && !memcmp(f + flen - vlen, v, vlen); break;
	case COND_NOT_END_WITH: r = !(vlen <= flen && !memcmp(f + flen - vlen, v, vlen)); break;
	case COND_LESS_THAN: r = ref_order(field, flen, value, vlen) < 0; break;
	case COND_MORE_THAN: r = ref_order(field, flen, value, vlen) > 0; break;
	case COND_IMAGE: {
		const char *tail = f;
		size_t tlen = flen;
		if (!memchr(v, '/', vlen) && !memchr(v, '\\', vlen)) {
			for (size_t i = 0; i < flen; i++)
				if (f[i] == '/' || (f[i] == '\\' && (flen == 0 || f[0] != '/'))) {
					tail = f + i + 1;
					tlen = flen - i - 1;
				}
		}
		r = tlen == vlen && !memcmp(tail, v, vlen);
		break;
	}
	case COND_CONTAINS_ANY: case COND_EXCLUDES_ANY: case COND_CONTAINS_ALL:
	case COND_EXCLUDES_ALL: case COND_IS_ANY: {
		const char *start = v;
		for (;;) {
			const char *end = memchr(start, ';', vlen - (size_t)(start - v));
			size_t tlen = end ? (size_t)(end - start) : vlen - (size_t)(start - v);
			bool hit;
			if (cond == COND_IS_ANY) {
				hit = tlen == flen && !memcmp(f, start, tlen);
			} else {
				size_t search = tlen ? tlen : vlen - (size_t)(start - v);
				hit = ref_find(f, flen, start, search);
			}
			any |= hit;
			all &= hit;
			if (!end)
				break;
			start = end + 1;
		}
		r = cond == COND_CONTAINS_ANY || cond == COND_IS_ANY ? any
		  : cond == COND_EXCLUDES_ANY ? !any
		  : cond == COND_CONTAINS_ALL ? all : !all;
		break;
	}
	}
	free(v);
	free(f);
	return r;
}

static bool ref_filter(const struct rule_set_def *set, const struct rule_filter_def *flt,
		       const struct event *ev, bool *absent)
{
	const char *name = set->event->fields[flt->field].name;

	*absent = (unsigned)flt->field >= ev->schema->nfields ||
		  strcmp(ev->schema->fields[flt->field].name, name);
	if (*absent)
		return false;
	if (!strcmp(name, "RuleName") || !event_is_set(ev, flt->field))
		return ref_condition(flt->condition, flt->value, "-", 1);
	return ref_condition(flt->condition, flt->value, event_value(ev, flt->field),
			     event_value_len(ev, flt->field));
}

/* eval_seq of spec 2.6 over filters [from, to) of SET. */
static bool ref_sequence(const struct rule_set_def *set, size_t from, size_t to, bool or_mode,
			 bool top, const struct event *ev, const char **candidate)
{
	bool satisfied[SCHEMA_MAX_FIELDS] = { false };

	for (size_t i = from; i < to;) {
		const struct rule_filter_def *flt = &set->filters[i];
		bool r, plain = !top || flt->aggregate < 0, absent;

		if (top && flt->aggregate >= 0) {
			size_t end = i + 1;
			while (end < to && set->filters[end].aggregate == flt->aggregate)
				end++;
			r = ref_sequence(set, i, end, set->aggregates[flt->aggregate].or_mode, false, ev,
					 candidate);
			i = end;
		} else {
			i++;
			r = ref_filter(set, flt, ev, &absent);
			if (!absent && top && satisfied[flt->field])
				continue;
			if (r) {
				if (flt->name && *flt->name)
					*candidate = flt->name;
				satisfied[flt->field] = true;
			}
		}
		if (or_mode && r)
			return true;
		if (!or_mode && !r) {
			bool later = false;
			if (top && plain)
				for (size_t j = i; j < to; j++)
					later |= set->filters[j].aggregate < 0 &&
						 set->filters[j].field == flt->field;
			if (later)
				continue;
			return false;
		}
	}
	return !or_mode;
}

static bool ref_decide(const struct rule_defs *defs, const struct event *ev, const char **name)
{
	const struct rule_set_def *list[8];
	size_t n = 0;
	const char *candidate = NULL;

	*name = "-";
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = defs->nsets; i-- > 0;)
			if (defs->sets[i].exclude == (pass == 0) &&
			    !strcmp(defs->sets[i].event->rule_tag, ev->schema->rule_tag))
				list[n++] = &defs->sets[i];
	if (n == 0)
		return ev->schema->default_include;
	for (size_t i = 0; i < n; i++) {
		if (!list[i]->nfilters ||
		    !ref_sequence(list[i], 0, list[i]->nfilters, list[i]->or_mode, true, ev, &candidate))
			continue;
		if (candidate)
			*name = candidate;
		return !list[i]->exclude;
	}
	return n == 1 && list[0]->exclude;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct rule_defs defs = { 0 };
	struct event ev;
	char *condition;

	condition = next_text(&in, NULL);
	(void)rule_condition_parse(condition);
	free(condition);

	build_defs(&in, &defs);
	event_init(&ev);
	build_event(&in, &defs, &ev);

	struct rules *rules = rules_compile(&defs);
	if (!rules) {
		fprintf(stderr, "rules_compile refused definitions built to be valid\n");
		abort();
	}
	const char *name = NULL, *expected_name = NULL;
	bool logged = rules_decide(rules, &ev, &name);
	bool expected = ref_decide(&defs, &ev, &expected_name);
	if (logged != expected || strcmp(name, expected_name)) {
		fprintf(stderr, "event %u: engine %d '%s', reference %d '%s'\n", ev.schema->id,
			logged, name, expected, expected_name);
		abort();
	}
	if (logged && !rules_may_log(rules, ev.schema->id)) {
		fprintf(stderr, "event %u logged but rules_may_log says never\n", ev.schema->id);
		abort();
	}
	for (unsigned id = 0; id < 300; id++)
		(void)rules_may_log(rules, id);

	rules_free(rules);
	rule_defs_free(&defs);
	event_free(&ev);
	return 0;
}
