/*
 * RELP client over librelp (interface and acknowledgement rule: relp.h).
 * One librelp engine per session, so that a forwarder thread owns all of
 * its librelp state; librelp's errors reach us through its onErr
 * callbacks, which mark the session failed, so an error answer can never
 * be taken for an acknowledgement.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <librelp.h>

#include "output/relp.h"

struct relp_client {
	relpEngine_t *engine;
	relpClt_t *clt;
	int stop_now;                   /* librelp's "shut down immediately" flag */
	bool failed;
	char error[256];                /* the first error librelp reported */
	uint64_t sent;                  /* messages sent in this session */
	uint64_t last_sent, acked;
	uint64_t window[RELP_WINDOW];   /* record of message k at [k % RELP_WINDOW] */
};

static void note_error(struct relp_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_error(struct relp_client *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->failed) {
		va_start(ap, fmt);
		vsnprintf(c->error, sizeof(c->error), fmt, ap);
		va_end(ap);
	}
	c->failed = true;
}

/* librelp's errors, with the session's client as the user pointer. */
static void on_error(void *user, char *object, char *message, relpRetVal code)
{
	struct relp_client *c = user;

	if (c)
		note_error(c, "RELP: %s (%s, code %d)", message, object, (int)code);
}

static void on_auth_error(void *user, char *info, char *message, relpRetVal code)
{
	struct relp_client *c = user;

	if (c)
		note_error(c, "RELP: %s (%s, code %d)", message, info, (int)code);
}

/* Errors librelp cannot attach to a session: none of ours can be told
 * apart, so they are dropped (the failing call returns its own code). */
static void on_generic_error(char *object, char *message, relpRetVal code)
{
	(void)object;
	(void)message;
	(void)code;
}

static void quiet(char *fmt, ...)
{
	(void)fmt;
}

static void free_client(struct relp_client *c)
{
	if (c->clt)
		relpEngineCltDestruct(c->engine, &c->clt);
	if (c->engine)
		relpEngineDestruct(&c->engine);
	free(c);
}

static unsigned seconds_of(unsigned ms)
{
	return ms < 1000 ? 1 : (ms + 999) / 1000;
}

struct relp_client *relp_connect(const struct relp_options *o, struct strbuf *err)
{
	struct relp_client *c = xcalloc(1, sizeof(*c));
	relpRetVal rc;
	const char *step;

	if ((rc = relpEngineConstruct(&c->engine)) != RELP_RET_OK) {
		step = "relpEngineConstruct";
		goto fail;
	}
	relpEngineSetDbgprint(c->engine, quiet);
	relpEngineSetShutdownImmdtPtr(c->engine, &c->stop_now);
	relpEngineSetOnErr(c->engine, on_error);
	relpEngineSetOnAuthErr(c->engine, on_auth_error);
	relpEngineSetOnGenericErr(c->engine, on_generic_error);
	if ((rc = relpEngineSetEnableCmd(c->engine, (unsigned char *)"syslog", eRelpCmdState_Required)) !=
	    RELP_RET_OK) {
		step = "enabling the syslog command";
		goto fail;
	}
	if ((rc = relpEngineCltConstruct(c->engine, &c->clt)) != RELP_RET_OK) {
		step = "relpEngineCltConstruct";
		goto fail;
	}
	relpCltSetUsrPtr(c->clt, c);
	relpCltSetWindowSize(c->clt, RELP_WINDOW);
	relpCltSetTimeout(c->clt, seconds_of(o->send_timeout_ms));
	relpCltSetConnTimeout(c->clt, (int)seconds_of(o->connect_timeout_ms));
	rc = relpCltConnect(c->clt, AF_UNSPEC, (unsigned char *)o->port, (unsigned char *)o->host);
	if (rc != RELP_RET_OK || c->failed) {
		if (c->failed)
			strbuf_printf(err, "connect to %s port %s: %s", o->host, o->port, c->error);
		else
			strbuf_printf(err, "connect to %s port %s: RELP session not opened (librelp code %d)",
				      o->host, o->port, (int)rc);
		c->stop_now = 1;
		free_client(c);
		return NULL;
	}
	return c;
fail:
	strbuf_printf(err, "RELP: %s failed (librelp code %d)", step, (int)rc);
	free_client(c);
	return NULL;
}

int relp_send(struct relp_client *c, uint64_t record_id, const char *message, size_t len, struct strbuf *err)
{
	relpRetVal rc = relpCltSendSyslog(c->clt, (unsigned char *)message, len);

	if (rc != RELP_RET_OK || c->failed) {
		if (c->failed)
			strbuf_puts(err, c->error);
		else
			strbuf_printf(err, "RELP: sending failed (librelp code %d)", (int)rc);
		c->failed = true;
		return -1;
	}
	/* fewer than RELP_WINDOW were unanswered before this one went out,
	 * and answers come in order: the one RELP_WINDOW back is answered */
	uint64_t *slot = &c->window[c->sent % RELP_WINDOW];
	if (c->sent >= RELP_WINDOW)
		c->acked = *slot;
	*slot = record_id;
	c->sent++;
	c->last_sent = record_id;
	return 0;
}

uint64_t relp_acked(const struct relp_client *c)
{
	return c->acked;
}

bool relp_pending(const struct relp_client *c)
{
	return c->last_sent != c->acked;
}

int relp_close(struct relp_client *c, uint64_t *acked, struct strbuf *err)
{
	/* relpEngineCltDestruct waits for room in the window, sends "close"
	 * and waits for its answer; every failure on the way is reported
	 * through onErr */
	relpEngineCltDestruct(c->engine, &c->clt);
	bool ok = !c->failed;
	*acked = ok ? c->last_sent : c->acked;
	if (!ok)
		strbuf_printf(err, "closing the RELP session: %s", c->error);
	free_client(c);
	return ok ? 0 : -1;
}

void relp_abandon(struct relp_client *c)
{
	/* with the flag up, librelp's destructor does not wait for answers */
	c->stop_now = 1;
	free_client(c);
}
