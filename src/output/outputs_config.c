/*
 * outputs.conf parser (interface: outputs_config.h).  Line based: every
 * error names FILE:LINE, and an unknown section or key is an error, so a
 * typo never silently turns an output off.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/outputs_config.h"
#include "output/sinks.h"
#include "util/units.h"

#define MAX_CONFIG_BYTES (1u << 20)

enum section_kind { SECTION_GLOBAL, SECTION_SYSLOG, SECTION_FORWARD, SECTION_JSON };

struct parser {
	const char *name;
	unsigned line;
	struct strbuf *err;
	struct outputs_config *config;
	enum section_kind section;
	bool port_set;
};

static void syslog_defaults(struct syslog_config *syslog)
{
	syslog->enabled = true;
	syslog->socket_path = xstrdup("/dev/log");
	syslog->max_message = OUTPUTS_DEFAULT_MAX_MESSAGE;
	syslog->queue_bytes = 4u << 20;
	syslog->daemon_log = xstrdup("/var/log/syslog");
}

static struct outputs_config *config_new(void)
{
	struct outputs_config *config = xcalloc(1, sizeof(*config));

	config->status_path = xstrdup(SINKS_DEFAULT_STATUS);
	config->state_dir = xstrdup(SINKS_DEFAULT_STATE_DIR);
	syslog_defaults(&config->syslog);
	return config;
}

struct outputs_config *outputs_config_default(void)
{
	return config_new();
}

void outputs_forward_free(struct forward_config *f)
{
	free(f->name);
	free(f->host);
	free(f->port);
	free(f->server_name);
	free(f->ca_file);
	free(f->cert_file);
	free(f->key_file);
	free(f->ca_pem);
	free(f->cert_pem);
	free(f->key_pem);
}

void outputs_config_free(struct outputs_config *config)
{
	if (!config)
		return;
	free(config->path);
	free(config->status_path);
	free(config->state_dir);
	free(config->syslog.socket_path);
	free(config->syslog.daemon_log);
	for (size_t i = 0; i < config->nforwards; i++)
		outputs_forward_free(&config->forwards[i]);
	free(config->forwards);
	for (size_t i = 0; i < config->njsons; i++) {
		free(config->jsons[i].name);
		free(config->jsons[i].path);
	}
	free(config->jsons);
	free(config);
}

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(p->err);
	strbuf_printf(p->err, "%s:%u: ", p->name, p->line);
	va_start(ap, fmt);
	strbuf_vprintf(p->err, fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_bool(struct parser *p, const char *key, const char *value, bool *out)
{
	if (!strcasecmp(value, "yes") || !strcasecmp(value, "true") || !strcmp(value, "1") ||
	    !strcasecmp(value, "on")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(value, "no") || !strcasecmp(value, "false") || !strcmp(value, "0") ||
	    !strcasecmp(value, "off")) {
		*out = false;
		return 0;
	}
	return fail(p, "%s takes yes or no, not '%s'", key, value);
}

static int parse_message_size(struct parser *p, const char *key, const char *value, unsigned *out)
{
	uint64_t bytes;

	if (size_parse(value, &bytes) != 0 || bytes < OUTPUTS_MIN_MAX_MESSAGE ||
	    bytes > OUTPUTS_MAX_MAX_MESSAGE)
		return fail(p, "%s takes a size from %u to %u bytes (e.g. 8192, 64k), not '%s'", key,
			    OUTPUTS_MIN_MAX_MESSAGE, OUTPUTS_MAX_MAX_MESSAGE, value);
	*out = (unsigned)bytes;
	return 0;
}

static int parse_duration(struct parser *p, const char *key, const char *value, unsigned *out)
{
	if (duration_parse_ms(value, out) != 0 || *out == 0)
		return fail(p, "%s takes a duration (e.g. 500ms, 2s, 1m), not '%s'", key, value);
	return 0;
}

static void set_text(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

static int global_key(struct parser *p, const char *key, const char *value)
{
	if (!strcmp(key, "status_file"))
		set_text(&p->config->status_path, value);
	else if (!strcmp(key, "state_dir"))
		set_text(&p->config->state_dir, value);
	else
		return fail(p, "unknown setting '%s' (before the first section: status_file, state_dir)", key);
	return 0;
}

static int syslog_key(struct parser *p, const char *key, const char *value)
{
	struct syslog_config *s = &p->config->syslog;

	if (!strcmp(key, "enabled"))
		return parse_bool(p, key, value, &s->enabled);
	if (!strcmp(key, "socket")) {
		if (value[0] != '/')
			return fail(p, "socket takes an absolute path, not '%s'", value);
		set_text(&s->socket_path, value);
		return 0;
	}
	if (!strcmp(key, "max_message"))
		return parse_message_size(p, key, value, &s->max_message);
	if (!strcmp(key, "queue_size")) {
		if (size_parse(value, &s->queue_bytes) != 0)
			return fail(p, "queue_size takes a size (e.g. 4M), not '%s'", value);
		return 0;
	}
	if (!strcmp(key, "daemon_log")) {
		if (value[0] != '/' && strcmp(value, "none") != 0)
			return fail(p, "daemon_log takes an absolute path or none, not '%s'", value);
		set_text(&s->daemon_log, value);
		return 0;
	}
	return fail(p, "unknown setting '%s' in [syslog] (enabled, socket, max_message, queue_size, daemon_log)",
		    key);
}

static int forward_key(struct parser *p, const char *key, const char *value)
{
	struct forward_config *f = &p->config->forwards[p->config->nforwards - 1];

	if (!strcmp(key, "protocol")) {
		if (!strcasecmp(value, "tcp"))
			f->protocol = FORWARD_TCP;
		else if (!strcasecmp(value, "tls"))
			f->protocol = FORWARD_TLS;
		else if (!strcasecmp(value, "relp"))
			f->protocol = FORWARD_RELP;
		else
			return fail(p, "protocol takes tcp, tls or relp, not '%s'", value);
		if (!p->port_set)
			set_text(&f->port, f->protocol == FORWARD_TLS ? "6514" : f->protocol == FORWARD_RELP ? "2514" : "514");
		return 0;
	}
	if (!strcmp(key, "host")) {
		set_text(&f->host, value);
		return 0;
	}
	if (!strcmp(key, "port")) {
		for (const char *c = value; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '-')
				return fail(p, "port takes a number or service name, not '%s'", value);
		set_text(&f->port, value);
		p->port_set = true;
		return 0;
	}
	if (!strcmp(key, "server_name")) {
		set_text(&f->server_name, value);
		return 0;
	}
	if (!strcmp(key, "ca_file")) {
		set_text(&f->ca_file, value);
		return 0;
	}
	if (!strcmp(key, "cert_file")) {
		set_text(&f->cert_file, value);
		return 0;
	}
	if (!strcmp(key, "key_file")) {
		set_text(&f->key_file, value);
		return 0;
	}
	if (!strcmp(key, "max_message"))
		return parse_message_size(p, key, value, &f->max_message);
	if (!strcmp(key, "reconnect_min"))
		return parse_duration(p, key, value, &f->reconnect_min_ms);
	if (!strcmp(key, "reconnect_max"))
		return parse_duration(p, key, value, &f->reconnect_max_ms);
	if (!strcmp(key, "send_timeout"))
		return parse_duration(p, key, value, &f->send_timeout_ms);
	if (!strcmp(key, "connect_timeout"))
		return parse_duration(p, key, value, &f->connect_timeout_ms);
	if (!strcmp(key, "start")) {
		if (!strcmp(value, "oldest"))
			f->start_at_newest = false;
		else if (!strcmp(value, "newest"))
			f->start_at_newest = true;
		else
			return fail(p, "start takes oldest or newest, not '%s'", value);
		return 0;
	}
	return fail(p, "unknown setting '%s' in [forward %s] (protocol, host, port, server_name, "
		    "ca_file, cert_file, key_file, max_message, reconnect_min, reconnect_max, "
		    "send_timeout, connect_timeout, start)", key, f->name);
}

static int json_key(struct parser *p, const char *key, const char *value)
{
	struct jsonfile_config *j = &p->config->jsons[p->config->njsons - 1];

	if (!strcmp(key, "path")) {
		if (strcmp(value, "-") != 0 && value[0] != '/')
			return fail(p, "path takes an absolute path or - (stdout), not '%s'", value);
		set_text(&j->path, value);
		return 0;
	}
	if (!strcmp(key, "max_size")) {
		if (size_parse(value, &j->max_size) != 0)
			return fail(p, "max_size takes a size (e.g. 100M, 0 = never rotate), not '%s'", value);
		return 0;
	}
	if (!strcmp(key, "keep")) {
		char *end;
		unsigned long keep = strtoul(value, &end, 10);
		if (!isdigit((unsigned char)*value) || *end || keep > 1000)
			return fail(p, "keep takes a number of files from 0 to 1000, not '%s'", value);
		j->keep = (unsigned)keep;
		return 0;
	}
	if (!strcmp(key, "ecs"))
		return parse_bool(p, key, value, &j->ecs);
	return fail(p, "unknown setting '%s' in [json %s] (path, max_size, keep, ecs)", key, j->name);
}

static bool valid_name(const char *name)
{
	if (!*name || strlen(name) > 64)
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return false;
	return name[0] != '.';
}

/* "[kind NAME]" (the name optionally in double quotes). */
static int open_section(struct parser *p, char *text)
{
	char *kind = text, *name = text + strcspn(text, " \t");

	if (*name) {
		*name++ = '\0';
		name += strspn(name, " \t");
		size_t len = strlen(name);
		if (len >= 2 && name[0] == '"' && name[len - 1] == '"') {
			name[len - 1] = '\0';
			name++;
		}
	}
	if (!strcmp(kind, "syslog")) {
		if (*name)
			return fail(p, "[syslog] takes no name");
		p->section = SECTION_SYSLOG;
		return 0;
	}
	if (strcmp(kind, "forward") != 0 && strcmp(kind, "json") != 0)
		return fail(p, "unknown section [%s] (syslog, forward NAME, json NAME)", kind);
	if (!valid_name(name))
		return fail(p, "[%s] needs a name of letters, digits, '-', '_', '.' (e.g. [%s central])",
			    kind, kind);
	if (!strcmp(kind, "forward")) {
		struct outputs_config *c = p->config;
		for (size_t i = 0; i < c->nforwards; i++)
			if (!strcmp(c->forwards[i].name, name))
				return fail(p, "a second [forward %s]", name);
		c->forwards = xrealloc(c->forwards, (c->nforwards + 1) * sizeof(*c->forwards));
		struct forward_config *f = &c->forwards[c->nforwards++];
		memset(f, 0, sizeof(*f));
		f->name = xstrdup(name);
		f->protocol = FORWARD_TCP;
		f->port = xstrdup("514");
		f->max_message = OUTPUTS_DEFAULT_MAX_MESSAGE;
		f->reconnect_min_ms = 1000;
		f->reconnect_max_ms = 60 * 1000;
		f->send_timeout_ms = 60 * 1000;
		f->connect_timeout_ms = 10 * 1000;
		p->section = SECTION_FORWARD;
		p->port_set = false;
		return 0;
	}
	struct outputs_config *c = p->config;
	for (size_t i = 0; i < c->njsons; i++)
		if (!strcmp(c->jsons[i].name, name))
			return fail(p, "a second [json %s]", name);
	c->jsons = xrealloc(c->jsons, (c->njsons + 1) * sizeof(*c->jsons));
	struct jsonfile_config *j = &c->jsons[c->njsons++];
	memset(j, 0, sizeof(*j));
	j->name = xstrdup(name);
	j->max_size = 100ull << 20;
	j->keep = 5;
	p->section = SECTION_JSON;
	return 0;
}

/* The previous section is complete: check what it must have. */
static int close_section(struct parser *p)
{
	if (p->section == SECTION_FORWARD) {
		struct forward_config *f = &p->config->forwards[p->config->nforwards - 1];
		if (!f->host)
			return fail(p, "[forward %s] has no host", f->name);
		if (f->reconnect_min_ms > f->reconnect_max_ms)
			return fail(p, "[forward %s]: reconnect_min is larger than reconnect_max", f->name);
		if ((f->cert_file != NULL) != (f->key_file != NULL))
			return fail(p, "[forward %s]: cert_file and key_file go together", f->name);
		if (f->protocol != FORWARD_TLS && (f->ca_file || f->cert_file || f->server_name))
			return fail(p, "[forward %s]: ca_file, cert_file and server_name need protocol = tls",
				    f->name);
	} else if (p->section == SECTION_JSON) {
		struct jsonfile_config *j = &p->config->jsons[p->config->njsons - 1];
		if (!j->path)
			return fail(p, "[json %s] has no path (a file, or - for stdout)", j->name);
		for (size_t i = 0; i + 1 < p->config->njsons; i++)
			if (!strcmp(p->config->jsons[i].path, j->path))
				return fail(p, "[json %s] writes to the same path as [json %s]", j->name,
					    p->config->jsons[i].name);
	}
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

struct outputs_config *outputs_config_parse(const char *name, const char *text, struct strbuf *err)
{
	struct parser p = { .name = name, .err = err, .config = config_new(), .section = SECTION_GLOBAL };
	char *copy = xstrdup(text), *next = copy;
	int rc = 0;

	while (rc == 0 && next) {
		char *line = next;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p.line++;
		line = trim(line);
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			size_t len = strlen(line);
			if (line[len - 1] != ']') {
				rc = fail(&p, "a section header ends with ']'");
				break;
			}
			line[len - 1] = '\0';
			if ((rc = close_section(&p)) == 0)
				rc = open_section(&p, trim(line + 1));
			continue;
		}
		char *eq = strchr(line, '=');
		if (!eq) {
			rc = fail(&p, "expected 'key = value' or '[section]', not '%s'", line);
			break;
		}
		*eq = '\0';
		char *key = trim(line), *value = trim(eq + 1);
		size_t vlen = strlen(value);
		if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
			value[vlen - 1] = '\0';
			value++;
		}
		if (!*key) {
			rc = fail(&p, "a setting without a name");
			break;
		}
		if (!*value) {
			rc = fail(&p, "%s has no value", key);
			break;
		}
		switch (p.section) {
		case SECTION_GLOBAL: rc = global_key(&p, key, value); break;
		case SECTION_SYSLOG: rc = syslog_key(&p, key, value); break;
		case SECTION_FORWARD: rc = forward_key(&p, key, value); break;
		case SECTION_JSON: rc = json_key(&p, key, value); break;
		}
	}
	if (rc == 0)
		rc = close_section(&p);
	free(copy);
	if (rc != 0) {
		outputs_config_free(p.config);
		return NULL;
	}
	return p.config;
}

struct outputs_config *outputs_config_load(const char *path, struct strbuf *err)
{
	FILE *f = fopen(path, "re");
	struct strbuf text = STRBUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f) {
		strbuf_reset(err);
		strbuf_printf(err, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		strbuf_append(&text, chunk, n);
		if (text.len > MAX_CONFIG_BYTES)
			break;
	}
	bool failed = ferror(f);
	fclose(f);
	if (failed || text.len > MAX_CONFIG_BYTES || memchr(strbuf_str(&text), '\0', text.len)) {
		strbuf_reset(err);
		strbuf_printf(err, "%s: %s", path,
			      failed ? "read error" : "not a text file of at most 1 MiB");
		strbuf_release(&text);
		return NULL;
	}
	struct outputs_config *config = outputs_config_parse(path, strbuf_str(&text), err);
	strbuf_release(&text);
	if (config)
		config->path = xstrdup(path);
	return config;
}

const char *outputs_protocol_name(enum forward_protocol protocol)
{
	return protocol == FORWARD_TLS ? "tls" : protocol == FORWARD_RELP ? "relp" : "tcp";
}

static void describe_ms(struct strbuf *out, unsigned ms)
{
	if (ms % 1000)
		strbuf_printf(out, "%ums", ms);
	else
		strbuf_printf(out, "%us", ms / 1000);
}

void outputs_config_describe(const struct outputs_config *config, struct strbuf *out)
{
	strbuf_printf(out, "outputs: %s\n", config->path ? config->path : "(defaults)");
	strbuf_printf(out, "status file: %s\nforwarder state: %s\n", config->status_path,
		      config->state_dir);
	if (config->syslog.enabled)
		strbuf_printf(out, "syslog: %s, messages up to %u bytes\n", config->syslog.socket_path,
			      config->syslog.max_message);
	else
		strbuf_puts(out, "syslog: off\n");
	for (size_t i = 0; i < config->nforwards; i++) {
		const struct forward_config *f = &config->forwards[i];
		strbuf_printf(out, "forward %s: %s %s port %s", f->name, outputs_protocol_name(f->protocol),
			      f->host, f->port);
		if (f->protocol == FORWARD_TLS)
			strbuf_printf(out, ", certificate name %s, CAs %s%s%s",
				      f->server_name ? f->server_name : f->host,
				      f->ca_file ? f->ca_file : "(system)",
				      f->cert_file ? ", client certificate " : "",
				      f->cert_file ? f->cert_file : "");
		strbuf_printf(out, ", messages up to %u bytes, reconnect ", f->max_message);
		describe_ms(out, f->reconnect_min_ms);
		strbuf_puts(out, "..");
		describe_ms(out, f->reconnect_max_ms);
		strbuf_printf(out, ", new cursor at the %s record\n", f->start_at_newest ? "newest" : "oldest");
	}
	for (size_t i = 0; i < config->njsons; i++) {
		const struct jsonfile_config *j = &config->jsons[i];
		strbuf_printf(out, "json %s: %s%s", j->name,
			      strcmp(j->path, "-") ? j->path : "stdout", j->ecs ? ", ECS names" : "");
		if (strcmp(j->path, "-") && j->max_size)
			strbuf_printf(out, ", rotate at %" PRIu64 " bytes keeping %u", j->max_size, j->keep);
		strbuf_putc(out, '\n');
	}
}
