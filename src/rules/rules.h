/*
 * The rule engine: Sysmon's filtering semantics (compatibility spec sections
 * 2.1-2.11 with its "Decisions for this project").
 *
 * Two layers:
 *  - struct rule_defs: the rules as the config wrote them (original case,
 *    document order, names resolved by inheritance).  The config loader
 *    builds it; `sysmon -c` / `config dump` print it.
 *  - struct rules: the compiled form, built once at load (case folding, ';'
 *    lists split, numbers parsed, include/exclude evaluation order fixed),
 *    evaluated per event on the hot path by rules_decide().
 */
#ifndef SYSMON_RULES_H
#define SYSMON_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/event.h"
#include "schema/schema.h"

/* Same order as schema_conditions[] (the manifest's). */
enum rule_condition {
	COND_IS, COND_IS_NOT, COND_CONTAINS, COND_CONTAINS_ANY, COND_IS_ANY,
	COND_CONTAINS_ALL, COND_EXCLUDES, COND_EXCLUDES_ANY, COND_EXCLUDES_ALL,
	COND_BEGIN_WITH, COND_NOT_BEGIN_WITH, COND_END_WITH, COND_NOT_END_WITH,
	COND_LESS_THAN, COND_MORE_THAN, COND_IMAGE,
};

/* Condition from its name, case-insensitively ("" is "is"); -1 if unknown. */
int rule_condition_parse(const char *text);

struct rule_filter_def {
	int field;                  /* position in set->event's field list */
	enum rule_condition condition;
	char *value;                /* as written: entities decoded, not trimmed */
	char *name;                 /* field name > Rule name > RuleGroup name; NULL if none */
	int aggregate;              /* index into set->aggregates, -1 for a plain filter */
	unsigned line;              /* in the config file, for messages */
};

struct rule_aggregate_def {
	char *name;                 /* <Rule name=...>, NULL if none */
	bool or_mode;               /* groupRelation "or" (any case) or absent */
};

struct rule_set_def {
	const struct schema_event *event; /* the concrete id the set is bound to */
	bool exclude;               /* onmatch="exclude" */
	bool or_mode;               /* combine mode of the top level */
	char *group_name;           /* enclosing RuleGroup name, NULL if none */
	struct rule_filter_def *filters;   /* document order */
	size_t nfilters;
	struct rule_aggregate_def *aggregates;
	size_t naggregates;
	unsigned line;
};

struct rule_defs {
	unsigned schema_version;
	/* By tag in manifest order, document order within a tag. */
	struct rule_set_def *sets;
	size_t nsets;
};

void rule_defs_free(struct rule_defs *defs);

struct rules;

/* Compile DEFS (NULL or no sets: every event type at its default).  Returns
 * NULL if DEFS are inconsistent (a field, condition or <Rule> index out of
 * range, a NULL value, a set bound to an event without a rule tag): the
 * loader's validation should make that impossible.  The result does not
 * point into DEFS.  A NULL struct rules decides like one compiled from no
 * sets. */
struct rules *rules_compile(const struct rule_defs *defs);
void rules_free(struct rules *rules);

/* Is EV logged?  *RULE_NAME (if not NULL) is the name of the rule that
 * decided (compatibility spec 2.9): when logged, the RuleName to write; when
 * an exclude set matched, the name of the exclude rule that dropped it.  "-"
 * when that rule has no name or no set matched (the event went by its
 * default).  It points into RULES and lives as long as they do.  Events
 * without a rule tag (4, 16, 255) are always logged. */
bool rules_decide(const struct rules *rules, const struct event *ev, const char **rule_name);

/* Can an event of type ID ever be logged under these rules?  False only when
 * no event of that type can pass (its programs need not be attached). */
bool rules_may_log(const struct rules *rules, unsigned id);

/* A text that a field's value must match, case-insensitively (ASCII):
 * COND_IS (the whole value), COND_BEGIN_WITH or COND_END_WITH. */
struct rule_text_pattern {
	enum rule_condition kind;
	const char *text;           /* lower-cased; lives as long as RULES */
	uint32_t len;
};

/* Patterns such that every event of type ID these rules can log has its
 * field FIELD matching at least one of them (so a capture source may drop
 * any other event before it is built).  Up to MAX go to OUT; returns their
 * number, or -1 when no such list is known: a set that can log events of
 * ID without a plain is / is any / begin with / end with filter on FIELD
 * (a <Rule>, another condition, OR with another field), a set with no
 * filter on FIELD in AND, or more than MAX patterns. */
int rules_field_patterns(const struct rules *rules, unsigned id, const char *field,
			 struct rule_text_pattern *out, int max);

#endif
