/*
 * sink.c: the sink table and what every kind shares: the pending queue, the
 * once-per-loop-turn flush (so records submitted together are written and
 * fsync'd together), and record completion.  The disk spool in front of a
 * down sink is sink_spool.c.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "sink_int.h"
#include "spool.h"
#include "stats.h"
#include "xmalloc.h"

static const struct sink_ops *const sink_table[] = {
	&sink_syslog_ops,
	&sink_udp_ops,
	&sink_tcp_ops,
	&sink_tls_ops,
	&sink_file_ops,
	NULL,
};

static const struct sink_ops *sink_lookup(const char *);
static void	sink_flush_cb(int, short, void *);

static const struct sink_ops *
sink_lookup(const char *type)
{
	size_t	 i;

	for (i = 0; type != NULL && sink_table[i] != NULL; i++)
		if (strcmp(sink_table[i]->name, type) == 0)
			return sink_table[i];
	return NULL;
}

bool
sink_type_known(const char *type)
{
	return sink_lookup(type) != NULL;
}

struct sink *
sink_new(struct event_base *base, struct evdns_base *dns,
    const struct sink_conf *conf, const char *state_dir, uint64_t *ctr,
    char **cause)
{
	const struct sink_ops *ops;

	if ((ops = sink_lookup(conf->type)) == NULL) {
		cause_printf(cause, "sink %s: type %s is not available in "
		    "this build", conf->name, conf->type);
		return NULL;
	}
	return sink_new_kind(ops, base, dns, conf, state_dir, ctr, cause);
}

struct sink *
sink_new_kind(const struct sink_ops *ops, struct event_base *base,
    struct evdns_base *dns, const struct sink_conf *conf,
    const char *state_dir, uint64_t *ctr, char **cause)
{
	struct sink	*s;

	s = xcalloc(1, sizeof(*s));
	s->conf = conf;
	s->ops = ops;
	s->base = base;
	s->dns = dns;
	s->ctr = ctr;
	TAILQ_INIT(&s->pending);
	TAILQ_INIT(&s->spooling);
	s->flush_ev = event_new(base, -1, 0, sink_flush_cb, s);
	s->retry_ev = evtimer_new(base, sink_flush_cb, s);
	if (s->flush_ev == NULL || s->retry_ev == NULL)
		fatalx("%s: event_new", __func__);
	if (conf->spool_max_bytes > 0 &&
	    sink_spool_open(s, state_dir, cause) == -1)
		goto fail;
	if (s->ops->open(s, cause) == -1)
		goto fail;
	return s;
fail:
	spool_close(s->spool);
	if (s->flush_ev != NULL)
		event_free(s->flush_ev);
	if (s->retry_ev != NULL)
		event_free(s->retry_ev);
	free(s);
	return NULL;
}

/* Close the kind, then finish whatever it still held as not accepted. */
void
sink_free(struct sink *s)
{
	if (s == NULL)
		return;
	s->ops->close(s);
	sink_cancel_queue(s, &s->pending);
	sink_cancel_queue(s, &s->spooling);
	spool_close(s->spool);
	event_free(s->flush_ev);
	event_free(s->retry_ev);
	free(s);
}

void
sink_reopen(struct sink *s)
{
	if (s->ops->reopen != NULL)
		s->ops->reopen(s);
}

void
sink_cancel_queue(struct sink *s, struct sink_recq *q)
{
	struct sink_rec	*r;

	while ((r = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, r, entry);
		sink_finish(s, r, SINK_CANCELLED);
	}
}

void
sink_submit(struct sink *s, char *data, size_t len, sink_done_fn done,
    void *arg)
{
	struct sink_rec	*r;

	r = xcalloc(1, sizeof(*r));
	r->data = data;
	r->len = len;
	r->done = done;
	r->arg = arg;
	r->submitted_ms = clock_now_ms();
	if (sink_should_spool(s))
		TAILQ_INSERT_TAIL(&s->spooling, r, entry);
	else
		TAILQ_INSERT_TAIL(&s->pending, r, entry);
	event_active(s->flush_ev, EV_TIMEOUT, 0);
}

/* Spool first (one fsync for the batch), then refill from it, then write. */
static void
sink_flush_cb(int fd __unused, short ev __unused, void *arg)
{
	struct sink	*s = arg;

	if (s->spool != NULL)
		sink_spool_flush(s);
	s->ops->flush(s);
}

struct sink_rec *
sink_first(struct sink *s)
{
	return TAILQ_FIRST(&s->pending);
}

struct sink_rec *
sink_next(struct sink_rec *r)
{
	return TAILQ_NEXT(r, entry);
}

struct sink_rec *
sink_take(struct sink *s)
{
	struct sink_rec	*r;

	if ((r = TAILQ_FIRST(&s->pending)) != NULL)
		TAILQ_REMOVE(&s->pending, r, entry);
	return r;
}

void
sink_done_first(struct sink *s, enum sink_result res)
{
	struct sink_rec	*r;

	if ((r = sink_take(s)) != NULL)
		sink_finish(s, r, res);
}

void
sink_putback(struct sink *s, struct sink_rec *r)
{
	TAILQ_INSERT_HEAD(&s->pending, r, entry);
}

void
sink_finish(struct sink *s, struct sink_rec *r, enum sink_result res)
{
	if (res == SINK_OK && !r->replay && !r->spooled)
		s->ctr[SSK_SENT]++;
	/* The record's own time to acceptance (by the peer or the spool). */
	if (res == SINK_OK && !r->replay)
		prom_hist_observe(s->ctr + STATS_LATENCY,
		    clock_now_ms() - r->submitted_ms);
	r->done(r->arg, res);
	free(r->data);
	free(r);
}

/* Log transitions only, so a down sink does not flood the journal. */
void
sink_set_up(struct sink *s, bool up)
{
	if (s->up == up)
		return;
	s->up = up;
	if (up)
		log_state(LOG_LEVEL_INFO, "sink %s: up", s->conf->name);
	else
		log_state(LOG_LEVEL_WARN, "sink %s: down", s->conf->name);
	if (s->spool != NULL) {
		if (!up)
			sink_pending_to_spool(s);
		else
			event_active(s->flush_ev, EV_TIMEOUT, 0);
	}
}

void
sink_count(struct sink *s, enum status_sink_ctr c)
{
	s->ctr[c]++;
}

const struct sink_conf *
sink_conf(const struct sink *s)
{
	return s->conf;
}

/* A reload kept this sink: the same configuration, in the new config. */
void
sink_rebind(struct sink *s, const struct sink_conf *conf)
{
	s->conf = conf;
}

struct event_base *
sink_base(const struct sink *s)
{
	return s->base;
}

struct evdns_base *
sink_dns(const struct sink *s)
{
	return s->dns;
}

const void *
sink_kind_arg(const struct sink *s)
{
	return s->ops->arg;
}

void *
sink_priv(const struct sink *s)
{
	return s->priv;
}

void
sink_set_priv(struct sink *s, void *priv)
{
	s->priv = priv;
}

bool
sink_up(const struct sink *s)
{
	return s->up;
}

bool
sink_has_spool(const struct sink *s)
{
	return s->spool != NULL;
}

bool
sink_blocked(const struct sink *s, time_t *since)
{
	if (since != NULL)
		*since = s->blocked_since;
	return s->blocked;
}

void
sink_drop_spooling(struct sink *s)
{
	sink_cancel_queue(s, &s->spooling);
}

uint64_t
sink_spool_records(const struct sink *s)
{
	return s->spool != NULL ? spool_records(s->spool) : 0;
}

uint64_t
sink_spool_bytes(const struct sink *s)
{
	return s->spool != NULL ? spool_bytes(s->spool) : 0;
}
