/*
 * sink_spool.c: the disk spool in front of a sink that is down (sink.h).
 * Records are appended and fsync'd a batch at a time, accepted once durable,
 * and replayed to the kind in order, a batch at a time, when it is up; a
 * replayed record leaves the spool only once the kind accepted it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "sink_int.h"
#include "spool.h"
#include "xmalloc.h"

#define SINK_REPLAY_BATCH	512	/* spool records in the kind's queue */
#define SINK_RETRY_SEC		1	/* retry a full or failing spool */

static void	sink_spool_write(struct sink *);
static size_t	sink_spool_append(struct sink *);
static void	sink_set_blocked(struct sink *, bool, const char *);
static void	sink_replay_fill(struct sink *);
static void	sink_replay_done(void *, enum sink_result);

int
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

/* Keep order: once anything is spooled, everything goes through the spool. */
bool
sink_should_spool(const struct sink *s)
{
	return s->spool != NULL && (!s->up || spool_records(s->spool) > 0 ||
	    !TAILQ_EMPTY(&s->spooling));
}

void
sink_spool_flush(struct sink *s)
{
	sink_spool_write(s);
	sink_replay_fill(s);
}

/* Append what waits, fsync once, and accept what the fsync made durable. */
static void
sink_spool_write(struct sink *s)
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
		s->ctr[SSK_SPOOLED]++;
		r->spooled = true;
		sink_finish(s, r, SINK_OK);
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
	s->blocked_since = clock_mono_s();
	if (blocked)
		log_state(LOG_LEVEL_WARN, "sink %s: %s (%llu records, "
		    "%llu bytes): holding "
		    "acknowledgements, consumption stops", s->conf->name, why,
		    (unsigned long long)spool_records(s->spool),
		    (unsigned long long)spool_bytes(s->spool));
	else
		log_state(LOG_LEVEL_INFO, "sink %s: spool accepts records "
		    "again", s->conf->name);
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
		r = xcalloc(1, sizeof(*r));
		r->data = xmalloc(len);
		memcpy(r->data, data, len);
		r->len = len;
		r->done = sink_replay_done;
		r->arg = s;
		r->replay = true;
		s->replaying++;
		TAILQ_INSERT_TAIL(&s->pending, r, entry);
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
	s->ctr[SSK_REPLAYED]++;
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
void
sink_pending_to_spool(struct sink *s)
{
	struct sink_rec	*r, *next;
	struct sink_recq  move;

	TAILQ_INIT(&move);
	for (r = TAILQ_FIRST(&s->pending); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		TAILQ_REMOVE(&s->pending, r, entry);
		if (r->replay)
			sink_finish(s, r, SINK_CANCELLED);
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
