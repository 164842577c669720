/*
 * The Sysmon event schema catalogue: every event id (1-29 and 255), its
 * name, rule element, fields in output order and the schema versions that
 * have it.  This is the single source of truth for the config loader (which
 * fields and tags a given schemaversion allows), the rule engine (field
 * positions), the formatters (field order, <Version>, <Level>) and the query
 * tool (field names).
 *
 * Field positions are those of the newest layout; an event value array is
 * always indexed by them, whatever schemaversion the config declared.
 */
#ifndef SYSMON_SCHEMA_H
#define SYSMON_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A schema version as Sysmon encodes it: major in the high 16 bits, the
 * two-digit minor in the low 16 ("4.2" is 4.20). */
#define SCHEMA_VERSION(major, minor) (((unsigned)(major) << 16) | (unsigned)(minor))
#define SCHEMA_MAJOR(v) ((v) >> 16)
#define SCHEMA_MINOR(v) ((v) & 0xffffu)

#define SCHEMA_OLDEST   SCHEMA_VERSION(4, 0)   /* oldest config we accept */
#define SCHEMA_NEWEST   SCHEMA_VERSION(4, 90)  /* newest config we accept */
#define SCHEMA_LINUX    SCHEMA_VERSION(4, 81)  /* what Sysmon for Linux 1.3 implements:
                                                  the default config's version */
#define SCHEMA_MAX_FIELDS 24                   /* ProcessCreate has 23 */

#define EVENT_ID_ERROR 255

/* Maximum length in bytes per (event id, field), from the config's
 * FieldSizes (the formatters apply it); 0 = no limit.  Indexed [event id]
 * [field position]; id 255 and ids > 29 are never trimmed, as in Sysmon. */
struct field_sizes {
	unsigned max[30][SCHEMA_MAX_FIELDS];
};

/* The algorithms of the Hashes fields (ProcessCreate, ImageLoad, DriverLoad):
 * the HashAlgorithms option selects them (config), the hash cache computes
 * them (enrich). */
enum hash_algorithm {
	HASH_SHA1 = 1 << 0,
	HASH_MD5 = 1 << 1,
	HASH_SHA256 = 1 << 2,
	HASH_IMPHASH = 1 << 3,      /* accepted, never produced on Linux */
};
#define HASH_ALL (HASH_SHA1 | HASH_MD5 | HASH_SHA256 | HASH_IMPHASH)

enum field_type {
	FIELD_STRING,
	FIELD_GUID,
	FIELD_UINT16,
	FIELD_UINT32,
	FIELD_PID,
	FIELD_HEXINT32,
	FIELD_HEXINT64,
	FIELD_BOOLEAN,
};

struct schema_field {
	const char *name;
	enum field_type type;
	unsigned since;           /* first schema version with this field */
};

struct schema_event {
	unsigned id;
	const char *symbol;       /* SYSMONEVENT_CREATE_PROCESS */
	const char *title;        /* manifest template: "Process Create" */
	const char *rule_tag;     /* ProcessCreate; NULL for 4, 16, 255 */
	unsigned version;         /* manifest event version: <Version> */
	unsigned level;           /* 4 informational, 2 error */
	bool default_include;     /* logged when its tag has no rule sets */
	bool windows_only;        /* never produced on Linux */
	unsigned since;           /* first schema version with its tag */
	unsigned nfields;
	const struct schema_field *fields;
};

/* Events in id order (1..29, then 255). */
size_t schema_event_count(void);
const struct schema_event *schema_event_at(size_t index);
const struct schema_event *schema_event_by_id(unsigned id);

/* Rule tags in manifest order (ProcessCreate, FileCreateTime, ...); a tag
 * shared by several ids (RegistryEvent, PipeEvent, WmiEvent) is listed once. */
size_t schema_tag_count(void);
const char *schema_tag_at(size_t index);
/* Event ids covered by TAG in ascending order; returns their number (0 if
 * TAG is unknown). */
size_t schema_tag_events(const char *tag, const struct schema_event **events, size_t max);

/* Position of NAME (case-sensitive) in EVENT's field list, or -1. */
int schema_field_index(const struct schema_event *event, const char *name);
/* Does the schema VERSION have EVENT's field at INDEX / the EVENT's tag? */
bool schema_field_in_version(const struct schema_event *event, int index, unsigned version);
bool schema_event_in_version(const struct schema_event *event, unsigned version);
/* Is NAME a field of any event (used by FieldSizes)? */
bool schema_is_field_name(const char *name);

/* Parse a schemaversion attribute the way Sysmon does ("4.2" = 4.20,
 * "4" = 4.00); returns 0 and sets *version, or -1 if TEXT is not a number. */
int schema_parse_version(const char *text, unsigned *version);
/* "4.22"; BUF must hold 16 bytes. */
const char *schema_version_text(unsigned version, char *buf);
bool schema_version_supported(unsigned version);

/* Top-level option elements and command-line options of the manifest. */
enum option_argument { OPTION_ARG_NONE, OPTION_ARG_OPTIONAL, OPTION_ARG_REQUIRED };

struct schema_option {
	const char *name;         /* element name without "Config" */
	const char *cli_switch;   /* NULL if config-only */
	enum option_argument argument;
	bool config_element;      /* may appear under <Sysmon> */
	bool rule;                /* rule option: element is <name>Config */
	bool internal;            /* target="internal" */
	unsigned since, until;    /* schema versions with it (until inclusive) */
};

size_t schema_option_count(void);
const struct schema_option *schema_option_at(size_t index);
/* The option that element ELEMENT names under schema VERSION, or NULL. */
const struct schema_option *schema_option_by_element(const char *element, unsigned version);

/* Condition names in manifest order (index = Sysmon's filter id). */
#define SCHEMA_CONDITION_COUNT 16
extern const char *const schema_conditions[SCHEMA_CONDITION_COUNT];

/* `sysmon -s [version|all]`: print the manifest(s) as Sysmon does.  Returns
 * 0, or -1 if no schema matches VERSION_PREFIX (NULL = newest). */
int schema_print(FILE *out, const char *version_prefix);

#endif
