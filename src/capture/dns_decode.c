/*
 * Decoder of the DNS source (loader: dns_source.c, records: bpf/dns.h):
 * DnsQuery (22) from the DNS messages processes exchange with port 53.
 *
 * A query a process sends is kept, with its process as it was then, until
 * the answer with the same id comes back on the same socket to the same
 * process; then one event is made: QueryName from the question,
 * QueryStatus and QueryResults from the answer, in Windows Sysmon's forms
 * (enrich/dnsmsg.h).  An answer seen before its query (sends through
 * write/writev are seen once sent) waits DNS_EARLY_NS for it.  A query
 * unanswered after DNS_ANSWER_TIMEOUT_NS gets
 * its event with QueryStatus 1460 (Windows' ERROR_TIMEOUT) and
 * QueryResults "-".  UtcTime is when the query was sent.  One event per
 * question sent: glibc's parallel A and AAAA queries are two events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>

#include "bpf/dns.h"
#include "capture/decode.h"
#include "enrich/dnsmsg.h"
#include "enrich/guid.h"
#include "enrich/users.h"

#define DNS_ANSWER_TIMEOUT_NS (5LL * 1000000000LL)
/* Queries waiting for their answer; when full, the oldest is ended as
 * timed out. */
#define DNS_PENDING_MAX 1024
/* Answers seen before their query (a write() to a TCP socket is seen once
 * sent, and another thread may read the answer first): kept this long, at
 * most this many. */
#define DNS_EARLY_NS (2LL * 1000000000LL)
#define DNS_EARLY_MAX 64

struct dns_fields {
	int utc_time, process_guid, process_id, query_name, query_status, query_results, image, user;
};

struct pending_query {
	bool used;
	uint16_t id;
	uint32_t tgid;
	uint64_t socket;
	uint64_t sent_boot_ns;
	char guid[GUID_TEXT_SIZE];
	char *query_name;
	char *image;
	char *user;
};

struct early_answer {
	bool used;
	uint16_t id;
	uint32_t tgid;
	uint64_t socket;
	uint64_t boot_ns;
	size_t len;
	uint8_t message[DNS_PAYLOAD_MAX];
};

struct dns_decoder {
	struct dns_fields fields;
	struct event ev;
	struct pending_query pending[DNS_PENDING_MAX];
	size_t pending_count;
	uint64_t oldest_sent_ns;    /* of the pending queries; 0 when none */
	struct early_answer early[DNS_EARLY_MAX];
	size_t early_count;
	struct strbuf results;
	struct dns_message message;
};

static int resolve_fields(struct dns_fields *f, struct strbuf *err)
{
	const struct capture_field_slot slots[] = {
		{ "UtcTime", &f->utc_time }, { "ProcessGuid", &f->process_guid },
		{ "ProcessId", &f->process_id }, { "QueryName", &f->query_name },
		{ "QueryStatus", &f->query_status }, { "QueryResults", &f->query_results },
		{ "Image", &f->image }, { "User", &f->user },
	};

	return CAPTURE_RESOLVE_FIELDS(DNS_EVENT_ID, slots, err);
}

static void forget(struct dns_decoder *st, struct pending_query *q)
{
	free(q->query_name);
	free(q->image);
	free(q->user);
	memset(q, 0, sizeof(*q));
	st->pending_count--;
}

struct dns_decoder *dns_decoder_new(struct strbuf *err)
{
	struct dns_decoder *st = xcalloc(1, sizeof(*st));

	event_init(&st->ev);
	if (resolve_fields(&st->fields, err) != 0) {
		dns_decoder_free(st);
		return NULL;
	}
	return st;
}

void dns_decoder_free(struct dns_decoder *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < DNS_PENDING_MAX; i++)
		if (st->pending[i].used)
			forget(st, &st->pending[i]);
	event_free(&st->ev);
	strbuf_release(&st->results);
	free(st);
}

static void emit(struct dns_decoder *st, struct capture_env *env, const struct pending_query *q,
		 unsigned status, const char *results)
{
	const struct dns_fields *f = &st->fields;
	struct event *ev = &st->ev;

	event_reset(ev, DNS_EVENT_ID);
	capture_set_utctime(ev, f->utc_time, q->sent_boot_ns);
	event_set_str(ev, f->process_guid, q->guid);
	event_setf(ev, f->process_id, "%u", q->tgid);
	event_set_str(ev, f->query_name, q->query_name);
	event_setf(ev, f->query_status, "%u", status);
	event_set_str(ev, f->query_results, results && results[0] ? results : "-");
	event_set_str(ev, f->image, q->image);
	event_set_str(ev, f->user, q->user);
	env->emit(env, ev);
}

static void recompute_oldest(struct dns_decoder *st)
{
	st->oldest_sent_ns = 0;
	for (size_t i = 0; i < DNS_PENDING_MAX && st->pending_count; i++) {
		const struct pending_query *q = &st->pending[i];

		if (q->used && (!st->oldest_sent_ns || q->sent_boot_ns < st->oldest_sent_ns))
			st->oldest_sent_ns = q->sent_boot_ns;
	}
}

/* End (as timed out) every query sent before CUTOFF_NS. */
static void expire(struct dns_decoder *st, struct capture_env *env, uint64_t cutoff_ns)
{
	for (size_t i = 0; i < DNS_PENDING_MAX && st->pending_count; i++) {
		struct pending_query *q = &st->pending[i];

		if (q->used && q->sent_boot_ns < cutoff_ns) {
			emit(st, env, q, DNS_STATUS_TIMEOUT, NULL);
			forget(st, q);
		}
	}
	recompute_oldest(st);
}

static struct pending_query *find(struct dns_decoder *st, uint32_t tgid, uint64_t socket, uint16_t id)
{
	for (size_t i = 0; i < DNS_PENDING_MAX && st->pending_count; i++) {
		struct pending_query *q = &st->pending[i];

		if (q->used && q->tgid == tgid && q->socket == socket && q->id == id)
			return q;
	}
	return NULL;
}

/* End query Q with the answer MSG (LEN bytes, parsed into PARSED). */
static void answer(struct dns_decoder *st, struct capture_env *env, struct pending_query *q,
		   const uint8_t *msg, size_t len, const struct dns_message *parsed)
{
	strbuf_reset(&st->results);
	size_t results = dns_format_results(msg, len, parsed, &st->results);
	emit(st, env, q, dns_query_status(parsed, results), strbuf_str(&st->results));
	bool was_oldest = q->sent_boot_ns == st->oldest_sent_ns;
	forget(st, q);
	if (was_oldest)
		recompute_oldest(st);
}

/* Keep an answer whose query is not seen yet; the oldest goes when full. */
static void keep_early(struct dns_decoder *st, const struct dns_record *rec, const uint8_t *msg,
		       size_t len, uint16_t id)
{
	struct early_answer *slot = NULL;

	for (size_t i = 0; i < DNS_EARLY_MAX; i++) {
		struct early_answer *e = &st->early[i];

		if (!e->used) {
			slot = e;
			break;
		}
		if (!slot || e->boot_ns < slot->boot_ns)
			slot = e;
	}
	if (!slot->used)
		st->early_count++;
	slot->used = true;
	slot->id = id;
	slot->tgid = rec->tgid;
	slot->socket = rec->socket;
	slot->boot_ns = rec->boot_ns;
	slot->len = len;
	memcpy(slot->message, msg, len);
}

static void remember_query(struct dns_decoder *st, struct capture_env *env, const struct dns_record *rec,
			   const struct dns_message *msg)
{
	if (find(st, rec->tgid, rec->socket, msg->id))
		return;   /* a retransmission: the first send stands */
	if (st->pending_count == DNS_PENDING_MAX)
		expire(st, env, st->oldest_sent_ns + 1);

	struct pending_query *q = NULL;
	for (size_t i = 0; i < DNS_PENDING_MAX; i++)
		if (!st->pending[i].used) {
			q = &st->pending[i];
			break;
		}
	if (!q)
		return;
	const struct process_info *info = capture_lookup_process(env, rec->tgid);
	char comm[CAPTURE_COMM_SIZE + 1];

	q->used = true;
	q->id = msg->id;
	q->tgid = rec->tgid;
	q->socket = rec->socket;
	q->sent_boot_ns = rec->boot_ns;
	memcpy(q->guid, info ? info->guid : GUID_ZERO_TEXT, GUID_TEXT_SIZE);
	q->query_name = xstrdup(msg->query_name);
	q->image = xstrdup(capture_image_of(info, rec->comm, comm));
	q->user = xstrdup(user_name(rec->uid));
	st->pending_count++;
	if (!st->oldest_sent_ns || rec->boot_ns < st->oldest_sent_ns)
		st->oldest_sent_ns = rec->boot_ns;

	/* its answer may have been seen already */
	for (size_t i = 0; i < DNS_EARLY_MAX && st->early_count; i++) {
		struct early_answer *e = &st->early[i];
		struct dns_message parsed;

		if (!e->used || e->tgid != q->tgid || e->socket != q->socket || e->id != q->id)
			continue;
		e->used = false;
		st->early_count--;
		if (dns_parse(e->message, e->len, &parsed) == 0)
			answer(st, env, q, e->message, e->len, &parsed);
		return;
	}
}

int dns_decoder_decode(struct dns_decoder *st, struct capture_env *env, const void *data, size_t size)
{
	struct dns_record rec;

	if (size < sizeof(rec))
		return -1;
	memcpy(&rec, data, sizeof(rec));
	if (rec.payload_len > size - sizeof(rec) || rec.payload_len > DNS_PAYLOAD_MAX)
		return -1;
	const uint8_t *payload = (const uint8_t *)data + sizeof(rec);
	size_t len = rec.payload_len;

	/* TCP: a message is preceded by its 2-byte length, sent with it or
	 * alone (glibc reads the length, then the message) */
	if (rec.protocol == 6) {
		if (len < 2 || rec.message_len == 2)
			return 0;
		if ((size_t)(payload[0] << 8 | payload[1]) + 2 == rec.message_len) {
			payload += 2;
			len -= 2;
		}
	}
	struct dns_message *msg = &st->message;
	if (dns_parse(payload, len, msg) != 0 || msg->opcode != 0)
		return 0;   /* not a DNS query or answer: other traffic on port 53 */

	if (rec.kind == DNS_RECORD_SENT) {
		if (!msg->response)
			remember_query(st, env, &rec, msg);
		return 0;
	}
	if (rec.kind != DNS_RECORD_RECEIVED || !msg->response)
		return 0;
	struct pending_query *q = find(st, rec.tgid, rec.socket, msg->id);
	if (q)
		answer(st, env, q, payload, len, msg);
	else
		keep_early(st, &rec, payload, len, msg->id);
	return 0;
}

void dns_decoder_tick(struct dns_decoder *st, struct capture_env *env)
{
	struct timespec now;

	if ((!st->pending_count && !st->early_count) || clock_gettime(CLOCK_BOOTTIME, &now) != 0)
		return;
	uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	for (size_t i = 0; i < DNS_EARLY_MAX && st->early_count; i++) {
		struct early_answer *e = &st->early[i];

		if (e->used && e->boot_ns + DNS_EARLY_NS < now_ns) {
			e->used = false;
			st->early_count--;
		}
	}
	if (now_ns < DNS_ANSWER_TIMEOUT_NS || st->oldest_sent_ns > now_ns - DNS_ANSWER_TIMEOUT_NS)
		return;
	expire(st, env, now_ns - DNS_ANSWER_TIMEOUT_NS);
}
