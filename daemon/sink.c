/*
 * sink.c: the sink table and what every kind shares: the pending queue, the
 * once-per-loop-turn flush (so records submitted together are written and
 * fsync'd together), record completion, and the disk spool in front of a
 * sink that is down (see sink.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "sink.h"
#include "spool.h"

#define SINK_REPLAY_BATCH	512	/* spool records in the kind's queue */
#define SINK_RETRY_SEC		1	/* retry a full or failing spool */

static const struct sink_ops *const sink_table[] = {
	&sink_syslog_ops,
	&sink_udp_ops,
	&sink_tcp_ops,
	&sink_tls_ops,
	&sink_file_ops,
	NULL,
};

static int	sink_spool_open(struct sink *, const char *, char **);
static bool	sink_should_spool(const struct sink *);
static void	sink_spool_flush(struct sink *);
static size_t	sink_spool_append(struct sink *);
static void	sink_set_blocked(struct sink *, bool, const char *);
static void	sink_replay_fill(struct sink *);
static void	sink_replay_done(void *, enum sink_result);
static void	sink_pending_to_spool(struct sink *);
static void	sink_flush_cb(int, short, void *);
static void	sink_cancel_queue(struct sink *, struct sink_recq *);
static time_t	sink_monotonic(void);

const struct sink_ops *
sink_lookup(const char *type)
{
	size_t	 i;

	for (i = 0; sink_table[i] != NULL; i++)
		if (strcmp(sink_table[i]->name, type) == 0)
			return sink_table[i];
	return NULL;
}

struct sink *
sink_new(struct event_base *base, struct evdns_base *dns,
    const struct sink_conf *conf, const char *state_dir, char **cause)
{
	struct sink	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("%s", __func__);
	s->conf = conf;
	s->base = base;
	s->dns = dns;
	TAILQ_INIT(&s->pending);
	TAILQ_INIT(&s->spooling);
	if ((s->ops = sink_lookup(conf->type)) == NULL) {
		cause_printf(cause, "sink %s: type %s is not available in "
		    "this build", conf->name, conf->type);
		goto fail;
	}
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

static int
sink_spool_open(struct sink *s, const char *state_dir, char **cause)
{
	char	 dir[PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s/spool/%s", state_dir,
	    s->conf->name) >= (int)sizeof(dir)) {
		cause_printf(cause, "sink %s: spool path too long",
		    s->conf->name);
		return -1;
	}
	if ((s->spool = spool_open(dir, s->conf->spool_max_bytes, cause)) ==
	    NULL)
		return -1;
	if (spool_records(s->spool) > 0)
		log_info("sink %s: %llu spooled records to deliver",
		    s->conf->name,
		    (unsigned long long)spool_records(s->spool));
	return 0;
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

static void
sink_cancel_queue(struct sink *s, struct sink_recq *q)
{
	struct sink_rec	*r;

	while ((r = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, r, entry);
		if (q == &s->pending)
			s->npending--;
		sink_rec_finish(s, r, SINK_CANCELLED);
	}
}

/* Keep order: once anything is spooled, everything goes through the spool. */
static bool
sink_should_spool(const struct sink *s)
{
	return s->spool != NULL && (!s->up || spool_records(s->spool) > 0 ||
	    !TAILQ_EMPTY(&s->spooling));
}

void
sink_submit(struct sink *s, char *data, size_t len, sink_done_fn done,
    void *arg)
{
	struct sink_rec	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s", __func__);
	r->data = data;
	r->len = len;
	r->done = done;
	r->arg = arg;
	s->ninflight++;
	if (sink_should_spool(s))
		TAILQ_INSERT_TAIL(&s->spooling, r, entry);
	else {
		TAILQ_INSERT_TAIL(&s->pending, r, entry);
		s->npending++;
	}
	event_active(s->flush_ev, EV_TIMEOUT, 0);
}

/* Spool first (one fsync for the batch), then refill from it, then write. */
static void
sink_flush_cb(int fd __unused, short ev __unused, void *arg)
{
	struct sink	*s = arg;

	if (s->spool != NULL) {
		sink_spool_flush(s);
		sink_replay_fill(s);
	}
	s->ops->flush(s);
}

/* Append what waits, fsync once, and accept what the fsync made durable. */
static void
sink_spool_flush(struct sink *s)
{
	struct sink_rec	*r;
	size_t		 n, i;

	if (TAILQ_EMPTY(&s->spooling) || evtimer_pending(s->retry_ev, NULL))
		return;
	n = sink_spool_append(s);
	if (n > 0 && spool_sync(s->spool) != SPOOL_OK) {
		sink_set_blocked(s, true, "cannot write the spool");
		return;
	}
	for (i = 0; i < n; i++) {
		r = TAILQ_FIRST(&s->spooling);
		TAILQ_REMOVE(&s->spooling, r, entry);
		s->stats.spooled++;
		r->spooled = true;
		sink_rec_finish(s, r, SINK_OK);
	}
	if (TAILQ_EMPTY(&s->spooling))
		sink_set_blocked(s, false, NULL);
}

/* Append records in order until one does not fit; returns how many went. */
static size_t
sink_spool_append(struct sink *s)
{
	struct sink_rec	*r;
	size_t		 n = 0;
	int		 rv;

	TAILQ_FOREACH(r, &s->spooling, entry) {
		rv = spool_append(s->spool, r->data, r->len);
		if (rv == SPOOL_OK) {
			n++;
			continue;
		}
		if (rv == SPOOL_FULL)
			sink_set_blocked(s, true, "spool full");
		else if (rv == SPOOL_TOOBIG) {
			log_warnx("sink %s: record over the spool's record "
			    "limit", s->conf->name);
			sink_set_blocked(s, true, "record too big to spool");
		} else
			sink_set_blocked(s, true, "cannot write the spool");
		break;
	}
	return n;
}

/*
 * Blocked: records wait in memory, holding their acks, so the streams stop
 * at their prefetch.  Retried every second, and whenever replay frees room.
 */
static void
sink_set_blocked(struct sink *s, bool blocked, const char *why)
{
	struct timeval	 tv = { SINK_RETRY_SEC, 0 };

	if (blocked)
		evtimer_add(s->retry_ev, &tv);
	if (s->blocked == blocked)
		return;
	s->blocked = blocked;
	s->blocked_since = sink_monotonic();
	if (blocked)
		log_warnx("sink %s: %s (%llu records, %llu bytes): holding "
		    "acknowledgements, consumption stops", s->conf->name, why,
		    (unsigned long long)spool_records(s->spool),
		    (unsigned long long)spool_bytes(s->spool));
	else
		log_info("sink %s: spool accepts records again", s->conf->name);
}

/* Hand the kind the next spooled records, in order, a batch at a time. */
static void
sink_replay_fill(struct sink *s)
{
	struct sink_rec	*r;
	const void	*data;
	size_t		 len;

	while (s->up && s->replaying < SINK_REPLAY_BATCH &&
	    s->replaying < spool_records(s->spool)) {
		if (spool_peek(s->spool, s->replaying, &data, &len) != SPOOL_OK)
			break;
		if ((r = calloc(1, sizeof(*r))) == NULL ||
		    (r->data = malloc(len)) == NULL)
			fatal("%s", __func__);
		memcpy(r->data, data, len);
		r->len = len;
		r->done = sink_replay_done;
		r->arg = s;
		r->replay = true;
		s->replaying++;
		s->ninflight++;
		TAILQ_INSERT_TAIL(&s->pending, r, entry);
		s->npending++;
	}
}

/* Replayed records are accepted in order: drop the oldest from the spool. */
static void
sink_replay_done(void *arg, enum sink_result res)
{
	struct sink	*s = arg;

	s->replaying--;
	if (res != SINK_OK)
		return;
	s->stats.replayed++;
	if (spool_consume(s->spool, 1) != SPOOL_OK)
		log_warnx("sink %s: cannot advance the spool", s->conf->name);
	/* Room again: whatever waits is retried at once. */
	if (s->blocked && TAILQ_EMPTY(&s->spooling))
		sink_set_blocked(s, false, NULL);
	else if (s->blocked)
		evtimer_del(s->retry_ev);
	event_active(s->flush_ev, EV_TIMEOUT, 0);
}

/*
 * The sink went down: what waited for it is spooled instead, so its messages
 * can be acked.  Replayed records are only forgotten: they are still spooled.
 */
static void
sink_pending_to_spool(struct sink *s)
{
	struct sink_rec	*r, *next;
	struct sink_recq  move;

	TAILQ_INIT(&move);
	for (r = TAILQ_FIRST(&s->pending); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		TAILQ_REMOVE(&s->pending, r, entry);
		s->npending--;
		if (r->replay)
			sink_rec_finish(s, r, SINK_CANCELLED);
		else
			TAILQ_INSERT_TAIL(&move, r, entry);
	}
	/* Older than anything already waiting to be spooled. */
	while ((r = TAILQ_LAST(&move, sink_recq)) != NULL) {
		TAILQ_REMOVE(&move, r, entry);
		TAILQ_INSERT_HEAD(&s->spooling, r, entry);
	}
	event_active(s->flush_ev, EV_TIMEOUT, 0);
}

void
sink_rec_finish(struct sink *s, struct sink_rec *r, enum sink_result res)
{
	if (res == SINK_OK && !r->replay && !r->spooled)
		s->stats.sent++;
	s->ninflight--;
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
		log_info("sink %s: up", s->conf->name);
	else
		log_warnx("sink %s: down", s->conf->name);
	if (s->spool != NULL) {
		if (!up)
			sink_pending_to_spool(s);
		else
			event_active(s->flush_ev, EV_TIMEOUT, 0);
	}
}

void
sink_drop_spooling(struct sink *s)
{
	sink_cancel_queue(s, &s->spooling);
}

static time_t
sink_monotonic(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

uint64_t
sink_spool_records(const struct sink *s)
{
	return s->spool != NULL ? spool_records(s->spool) : 0;
}
