/*
 * The Sysmon configuration: loading a `<Sysmon schemaversion=...>` file
 * (libxml2; any encoding Windows tools write), validating it against the
 * schema catalogue for its version, and the resulting options and rules.
 * Compatibility spec section 1, with its "Decisions for this project":
 * every problem is an error "FILE:LINE: what is wrong (and what to do)".
 */
#ifndef SYSMON_CONFIG_H
#define SYSMON_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "rules/rules.h"
#include "schema/schema.h"
#include "util/strbuf.h"

/* Largest config file the loader reads. */
#define CONFIG_MAX_SIZE (16u << 20)

/* An option element as the config wrote it (duplicates: the last one wins,
 * each is listed). */
struct config_option {
	const struct schema_option *option;
	char *value;                /* element text, "" for an empty element */
	unsigned line;
	bool has_effect;            /* false: accepted but ignored on Linux */
};

struct sysmon_config {
	char *path;                 /* as given to the loader; NULL for the default config */
	unsigned schema_version;
	unsigned hash_algorithms;   /* HASH_* bits; HASH_SHA256 when not set */
	bool dns_lookup;            /* DnsLookup: resolve host names in NetworkConnect */
	char *field_sizes_text;     /* FieldSizes as written, NULL if not set */
	struct field_sizes field_sizes;
	struct rule_defs defs;      /* rules as written (for dumps) */
	struct rules *rules;        /* compiled (for rules_decide) */
	char **warnings;            /* one line each, "FILE:LINE: ..." */
	size_t nwarnings;
	char sha256[65];            /* hex SHA256 of the file's bytes ("" for the default) */
	struct config_option *options; /* document order */
	size_t noptions;
};

/* Load and validate PATH.  On failure returns NULL and appends one message
 * "PATH:LINE: what is wrong (and what to do)" to ERR ("PATH: ..." when the
 * file cannot be read at all).  Warnings go to config->warnings. */
struct sysmon_config *config_load_file(const char *path, struct strbuf *err);
/* The same for a config held in memory; NAME stands for the file in messages. */
struct sysmon_config *config_load_memory(const char *name, const char *data, size_t len,
					 struct strbuf *err);
/* Sysmon's default configuration: no rules (ProcessCreate and
 * ProcessTerminate logged, by their defaults), SHA256 hashes. */
struct sysmon_config *config_default(void);
void config_free(struct sysmon_config *config);

/* Option value parsers, shared with the command line (-h).  Each returns 0,
 * or -1 with "what is wrong (and what to do)" appended to ERR. */
int config_parse_hash_algorithms(const char *text, unsigned *algorithms, struct strbuf *err);
/* "Name:Size[,Name:Size...]" (compatibility spec 1.4.3): fills SIZES for
 * every event id 1..25 that has a field of that name. */
int config_parse_field_sizes(const char *text, struct field_sizes *sizes, struct strbuf *err);
/* "SHA1,MD5,SHA256,IMPHASH" order, as Sysmon names them. */
void config_hash_algorithms_text(unsigned algorithms, struct strbuf *out);

/* The rules as `sysmon -c` prints them (compatibility spec section 4.5):
 * the " - Field Sizes:" line when set, then "Rule configuration (version
 * X):" and the rule sets.  The caller prints the banner and service lines
 * before it, ending with one empty line, as Sysmon does. */
void config_dump(FILE *out, const struct sysmon_config *config);

#endif
