/* hold.c: give messages back while a sink's spool stays full (see hold.h). */
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "deadletter.h"
#include "hold.h"
#include "log.h"
#include "sink.h"
#include "stream.h"
#include "xmalloc.h"

#define HOLD_CHECK_SEC	1

struct hold {
	const struct config	*cfg;
	struct stream		**streams;
	struct sink		**sinks;
	time_t			*suspended_at;	/* per stream, monotonic s */
	struct event		*ev;
};

static void	hold_cb(int, short, void *);
static struct sink *hold_blocked_sink(struct hold *, size_t, time_t *);
static void	hold_suspend(struct hold *, size_t, struct sink *);
static void	hold_suspend_dl(struct hold *, size_t);
static void	hold_redeliver(struct hold *, size_t);

struct hold *
hold_new(struct event_base *base, const struct config *cfg,
    struct stream **streams, struct sink **sinks)
{
	struct timeval	 tv = { HOLD_CHECK_SEC, 0 };
	struct hold	*h;
	size_t		 i;

	h = xcalloc(1, sizeof(*h));
	h->cfg = cfg;
	h->streams = streams;
	h->sinks = sinks;
	h->suspended_at = xcalloc(cfg->nstreams, sizeof(*h->suspended_at));
	for (i = 0; i < cfg->nstreams; i++)	/* kept suspended by a reload */
		if (streams[i] != NULL && stream_suspended(streams[i]))
			h->suspended_at[i] = clock_mono_s();
	if ((h->ev = event_new(base, -1, EV_PERSIST, hold_cb, h)) == NULL)
		fatalx("%s: event_new", __func__);
	event_add(h->ev, &tv);
	return h;
}

void
hold_free(struct hold *h)
{
	if (h == NULL)
		return;
	event_free(h->ev);
	free(h->suspended_at);
	free(h);
}

static void
hold_cb(int fd __unused, short ev __unused, void *arg)
{
	struct hold	*h = arg;
	const struct stream_conf *sc;
	struct stream	*st;
	struct sink	*s;
	time_t		 now = clock_mono_s(), since, dl_since;
	size_t		 i;
	bool		 dl_full;

	for (i = 0; i < h->cfg->nstreams; i++) {
		st = h->streams[i];
		sc = &h->cfg->streams[i];
		s = hold_blocked_sink(h, i, &since);
		dl_full = deadletter_full(stream_deadletter(st), &dl_since);
		if (s == NULL && !dl_full && stream_refused(st))
			hold_redeliver(h, i);
		if (stream_suspended(st)) {
			if ((s == NULL && !dl_full) ||
			    now - h->suspended_at[i] >= sc->hold_timeout) {
				log_state(LOG_LEVEL_INFO, "stream %s: resuming",
				    sc->name);
				stream_resume(st);
			}
		} else if (s != NULL && stream_connected(st) &&
		    now - since >= sc->hold_timeout)
			hold_suspend(h, i, s);
		else if (dl_full && stream_connected(st) &&
		    now - dl_since >= sc->hold_timeout)
			hold_suspend_dl(h, i);
	}
}

/* The first blocked sink of stream i, and since when it is blocked. */
static struct sink *
hold_blocked_sink(struct hold *h, size_t i, time_t *since)
{
	const struct stream_conf *sc = &h->cfg->streams[i];
	struct sink	*s;
	size_t		 k;

	for (k = 0; k < sc->nsinks; k++) {
		s = h->sinks[sc->sinks[k]];
		if (sink_blocked(s, since))
			return s;
	}
	return NULL;
}

static void
hold_suspend(struct hold *h, size_t i, struct sink *blocked)
{
	const struct stream_conf *sc = &h->cfg->streams[i];
	struct sink	*s;
	size_t		 k;

	log_state(LOG_LEVEL_WARN, "stream %s: sink %s has not taken records "
	    "for %d s (spool "
	    "full); closing the connection so the broker requeues the "
	    "messages, until the sink takes records again", sc->name,
	    sink_conf(blocked)->name, sc->hold_timeout);
	h->suspended_at[i] = clock_mono_s();
	stream_suspend(h->streams[i], "suspended (sink full)");
	for (k = 0; k < sc->nsinks; k++) {
		s = h->sinks[sc->sinks[k]];
		if (sink_blocked(s, NULL))
			sink_drop_spooling(s);
	}
}

/*
 * Messages refused on this connection (the dead letters could not take
 * them) wait unacked, and the store takes entries again: a new connection
 * gets them again.  Asked of the stream every tick, not of a change in the
 * store's state, which the status writer may have seen first.
 */
static void
hold_redeliver(struct hold *h, size_t i)
{
	struct stream	*st = h->streams[i];

	log_state(LOG_LEVEL_INFO, "stream %s: reconnecting, so that the "
	    "broker sends again "
	    "what the dead-letter store refused", h->cfg->streams[i].name);
	stream_suspend(st, "suspended (reconnecting)");
	stream_resume(st);
}

/* A malformed message cannot be kept: give the stream's messages back. */
static void
hold_suspend_dl(struct hold *h, size_t i)
{
	const struct stream_conf *sc = &h->cfg->streams[i];

	log_state(LOG_LEVEL_WARN, "stream %s: the dead-letter store has been "
	    "full (or failing) for %d s; "
	    "closing the connection so the broker requeues the messages, "
	    "until it takes entries again", sc->name, sc->hold_timeout);
	h->suspended_at[i] = clock_mono_s();
	stream_suspend(h->streams[i], "suspended (dead letters full)");
}
