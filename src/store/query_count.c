/*
 * Counting query results per distinct value (query.h: query_count_by):
 * in SQL over the stored values when the fields allow it, else over the
 * records that query_run() emits.
 */
#include "store/query_internal.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Counting: a hash table keyed by bytes.  The SQL path keys on the stored
 * values (no decoding per row; SQLite's GROUP BY would sort every row), the
 * C path on the joined texts; both carry the joined text of the group. */

struct group_slot {
	char *key;                      /* NULL = empty slot */
	size_t key_len;
	char *text;                     /* values joined with '\t' */
	uint64_t count;
};

struct group_table {
	struct group_slot *slots;
	size_t cap, count;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static void group_table_free(struct group_table *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		free(t->slots[i].key);
		free(t->slots[i].text);
	}
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* The slot of KEY, added (with no text, count 0) if new. */
/* The slot of KEY, added (with no text, count 0) if new.  OWNED: KEY was
 * allocated by the caller and now belongs to the table (freed if present). */
static struct group_slot *find_slot(struct group_table *t, const char *key, size_t len, char *owned)
{
	if (2 * (t->count + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct group_slot *slots = xcalloc(cap, sizeof(*slots));

		for (size_t i = 0; i < t->cap; i++) {
			if (!t->slots[i].key)
				continue;
			size_t j = hash_bytes(t->slots[i].key, t->slots[i].key_len) & (cap - 1);

			while (slots[j].key)
				j = (j + 1) & (cap - 1);
			slots[j] = t->slots[i];
		}
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	size_t j = hash_bytes(key, len) & (t->cap - 1);

	while (t->slots[j].key) {
		if (t->slots[j].key_len == len && !memcmp(t->slots[j].key, key, len)) {
			free(owned);
			return &t->slots[j];
		}
		j = (j + 1) & (t->cap - 1);
	}
	if (owned) {
		t->slots[j].key = owned;
	} else {
		/* Keys are bytes (stored integers hold zeros): no string copy. */
		t->slots[j].key = xmalloc(len + 1);
		memcpy(t->slots[j].key, key, len);
		t->slots[j].key[len] = '\0';
	}
	t->slots[j].key_len = len;
	t->count++;
	return &t->slots[j];
}

static struct group_slot *group_slot(struct group_table *t, const char *key, size_t len)
{
	return find_slot(t, key, len, NULL);
}

/* Values of one record joined with '\t' (tabs inside values become spaces,
 * so the join stays unambiguous). */
static void append_value(struct strbuf *key, const char *value, size_t len, bool first)
{
	if (!first)
		strbuf_putc(key, '\t');
	for (size_t i = 0; i < len; i++)
		strbuf_putc(key, value[i] == '\t' ? ' ' : value[i]);
}

struct count_state {
	struct eventlog *log;
	const char *const *fields;
	size_t nfields;
	struct group_table *table;
	struct strbuf key, value;
};

static int count_record(const struct event *ev, unsigned origin, void *arg)
{
	struct count_state *st = arg;
	char buf[64];

	strbuf_reset(&st->key);
	for (size_t i = 0; i < st->nfields; i++) {
		const char *value = query_field_value(st->log, ev, origin, st->fields[i], buf);

		append_value(&st->key, value, strlen(value), i == 0);
	}
	group_slot(st->table, strbuf_str(&st->key), st->key.len)->count++;
	return 0;
}

/* A row of "SELECT fields..., EventID": key on the stored values (type
 * and bytes), decode only a new group's values. */
static int count_sql_row(sqlite3_stmt *stmt, void *arg)
{
	struct count_state *st = arg;

	strbuf_reset(&st->key);
	for (size_t i = 0; i < st->nfields; i++) {
		int type = sqlite3_column_type(stmt, (int)i);

		strbuf_putc(&st->key, (char)type);
		if (type == SQLITE_INTEGER) {
			int64_t v = sqlite3_column_int64(stmt, (int)i);

			strbuf_append(&st->key, (const char *)&v, sizeof(v));
		} else if (type != SQLITE_NULL) {
			const void *data = sqlite3_column_blob(stmt, (int)i);
			uint32_t len = (uint32_t)sqlite3_column_bytes(stmt, (int)i);

			strbuf_append(&st->key, (const char *)&len, sizeof(len));
			if (len)
				strbuf_append(&st->key, data, len);
		}
	}
	struct group_slot *slot = group_slot(st->table, strbuf_str(&st->key), st->key.len);

	if (!slot->text) {
		const struct schema_event *event =
			schema_event_by_id((unsigned)sqlite3_column_int(stmt, (int)st->nfields));
		struct strbuf text = STRBUF_INIT;

		for (size_t i = 0; i < st->nfields; i++) {
			strbuf_reset(&st->value);
			if (event)
				eventlog_decode_value(event, schema_field_index(event, st->fields[i]),
						      sqlite3_column_value(stmt, (int)i), &st->value);
			append_value(&text, strbuf_str(&st->value), st->value.len, i == 0);
		}
		slot->text = xstrdup(strbuf_str(&text));
		strbuf_release(&text);
	}
	slot->count++;
	return 0;
}

static int compare_groups(const void *a, const void *b)
{
	const struct query_group *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->values, y->values);
}

int query_count_by(struct eventlog *log, struct query *q, const char *const *fields, size_t nfields,
		   struct query_group **groups, size_t *ngroups, struct strbuf *err)
{
	struct group_table table = { 0 };
	struct count_state st = { log, fields, nfields, &table, STRBUF_INIT, STRBUF_INIT };
	bool in_sql = true;
	int rc;

	*groups = NULL;
	*ngroups = 0;
	if (!q->prepared && query_prepare(q, err) < 0)
		return -1;
	for (size_t i = 0; i < nfields; i++)
		if (!strcmp(fields[i], "Computer") || !strcmp(fields[i], "EventRecordID") ||
		    !strcmp(fields[i], "TimeCreated") ||
		    (!query_pseudo_field(fields[i]) && !eventlog_column_groupable(fields[i])))
			in_sql = false;
	/* With a limit, "the first N matching records" is a walk in order. */
	if (q->filter_in_c || q->limit)
		in_sql = false;
	if (in_sql) {
		struct strbuf sql = STRBUF_INIT;

		strbuf_puts(&sql, "SELECT ");
		for (size_t i = 0; i < nfields; i++)
			strbuf_printf(&sql, "%s, ", !strcmp(fields[i], "EventID") ? "EventID"
						    : eventlog_column_name(fields[i]));
		strbuf_printf(&sql, "EventID FROM events WHERE %s", q->where_sql.data);
		query_set_window(q, log);
		rc = eventlog_sql_rows(log, sql.data, q->binds, q->nbinds, count_sql_row, &st, err);
		strbuf_release(&sql);
	} else {
		const char **list = xcalloc(nfields + 1, sizeof(*list));
		size_t nlist = 0;

		for (size_t i = 0; i < nfields; i++)
			if (!query_pseudo_field(fields[i]))
				list[nlist++] = fields[i];
		rc = query_run(log, q, list, nlist, count_record, &st, err) < 0 ? -1 : 0;
		free(list);
	}
	strbuf_release(&st.key);
	strbuf_release(&st.value);
	if (rc < 0) {
		group_table_free(&table);
		return -1;
	}
	/* Merge by text (two stored forms can read alike once joined), moving
	 * the texts rather than copying them: a million groups is a lot. */
	struct group_table merged = { 0 };

	for (size_t i = 0; i < table.cap; i++) {
		struct group_slot *from = &table.slots[i];

		if (!from->key)
			continue;
		char *text = from->text ? from->text : from->key;
		size_t len = from->text ? strlen(from->text) : from->key_len;

		if (from->text)
			free(from->key);
		from->key = from->text = NULL;
		find_slot(&merged, text, len, text)->count += from->count;
	}
	group_table_free(&table);
	struct query_group *list = xcalloc(merged.count + 1, sizeof(*list));
	size_t n = 0;

	for (size_t i = 0; i < merged.cap; i++) {
		if (!merged.slots[i].key)
			continue;
		list[n].values = merged.slots[i].key;
		list[n].count = merged.slots[i].count;
		merged.slots[i].key = NULL;
		n++;
	}
	group_table_free(&merged);
	qsort(list, n, sizeof(*list), compare_groups);
	*groups = list;
	*ngroups = n;
	return 0;
}

void query_groups_free(struct query_group *groups, size_t ngroups)
{
	for (size_t i = 0; i < ngroups; i++)
		free(groups[i].values);
	free(groups);
}
