/* stats.c: the counters and what is made of them (see stats.h). */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <json.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "deadletter.h"
#include "corr.h"
#include "log.h"
#include "notify.h"
#include "sink.h"
#include "stats.h"
#include "stats_int.h"
#include "status.h"
#include "stream.h"
#include "xmalloc.h"

static void	stats_cb(int, short, void *);
static json_object *stats_json(struct stats *, bool);
static json_object *stats_stream_json(struct stats *, size_t);
static json_object *stats_sink_json(struct stats *, size_t);
static json_object *stats_corr_json(const struct corr *);
static void	stats_add_ctrs(json_object *, const struct status_counter *,
		    const uint64_t *, size_t);
static void	stats_log_row(const char *, const char *,
		    const struct status_counter *, const uint64_t *, size_t);

struct stats *
stats_new(struct event_base *base, const struct config *cfg)
{
	struct stats	*st;
	size_t		 i;

	st = xcalloc(1, sizeof(*st));
	st->cfg = cfg;
	st->stream = xcalloc(cfg->nstreams, sizeof(*st->stream));
	for (i = 0; i < cfg->nstreams; i++)
		st->stream[i] = xcalloc(STATS_STREAM_ROW, sizeof(uint64_t));
	st->sink = xcalloc(cfg->nsinks, sizeof(*st->sink));
	for (i = 0; i < cfg->nsinks; i++)
		st->sink[i] = xcalloc(STATS_SINK_ROW, sizeof(uint64_t));
	st->spool_since = xcalloc(cfg->nsinks, sizeof(*st->spool_since));
	st->started = time(NULL);
	if ((st->ev = event_new(base, -1, EV_PERSIST, stats_cb, st)) == NULL)
		fatalx("%s: event_new", __func__);
	return st;
}

uint64_t *
stats_stream_row(struct stats *st, size_t i)
{
	return st->stream[i];
}

uint64_t *
stats_sink_row(struct stats *st, size_t i)
{
	return st->sink[i];
}

/*
 * A reload keeps a part running: its counters come along (the part goes on
 * writing to the same row).  stream_from[j] is the old index of new stream
 * j, or STATS_NEW; the same for sinks.
 */
void
stats_take(struct stats *to, struct stats *from, const size_t *stream_from,
    const size_t *sink_from)
{
	size_t	 j, i;

	for (j = 0; j < to->cfg->nstreams; j++) {
		if ((i = stream_from[j]) == STATS_NEW)
			continue;
		free(to->stream[j]);
		to->stream[j] = from->stream[i];
		from->stream[i] = NULL;
	}
	for (j = 0; j < to->cfg->nsinks; j++) {
		if ((i = sink_from[j]) == STATS_NEW)
			continue;
		free(to->sink[j]);
		to->sink[j] = from->sink[i];
		from->sink[i] = NULL;
		to->spool_since[j] = from->spool_since[i];
	}
	to->started = from->started;
	to->logged = from->logged;
}

void
stats_start(struct stats *st, struct stream **streams, struct sink **sinks,
    const struct corr *corr, const struct groups *groups)
{
	struct timeval	 tv = { STATS_STATUS_SEC, 0 };

	st->streams = streams;
	st->sinks = sinks;
	st->corr = corr;
	st->groups = groups;
	event_add(st->ev, &tv);
}

/* Every STATS_STATUS_SEC: STATUS= for systemd, status.json for ampstreamctl. */
static void
stats_cb(int fd __unused, short ev __unused, void *arg)
{
	struct stats	*st = arg;
	json_object	*o = stats_json(st, false);
	struct buf	 b;

	log_repeat_flush(0);	/* the log's summaries of repeats are due */
	buf_init(&b, 0);
	status_line(o, &b);
	notify_status("%s", b.data);
	status_write(st->cfg->state_dir, o);
	if (time(NULL) - st->logged >= STATS_LOG_SEC) {
		log_info("status: %s", b.data);
		st->logged = time(NULL);
	}
	buf_free(&b);
	json_object_put(o);
}

/* The last status.json, and the counters in the log ("stream s1: ..."). */
void
stats_finish(struct stats *st, bool stopped)
{
	json_object	*o;
	uint64_t	 corr[SCO_MAX];
	size_t		 i;

	if (st->streams == NULL)
		return;
	event_del(st->ev);
	o = stats_json(st, stopped);	/* also reads the gauges (in_spool) */
	status_write(st->cfg->state_dir, o);
	json_object_put(o);
	for (i = 0; i < st->cfg->nstreams; i++)
		stats_log_row("stream ", st->cfg->streams[i].name,
		    status_stream_ctrs, stats_stream_row(st, i), SST_MAX);
	stats_corr_row(st->corr, corr);
	stats_log_row("", STATUS_CORR, status_corr_ctrs, corr, SCO_MAX);
	for (i = 0; i < st->cfg->nsinks; i++)
		stats_log_row("sink ", st->cfg->sinks[i].name,
		    status_sink_ctrs, stats_sink_row(st, i), SSK_MAX);
}

/*
 * A reload stops the parts it does not keep (to[i] == STATS_NEW): their
 * last counters go to the log, as stats_finish does for all on a stop.
 */
void
stats_retire(struct stats *st, const size_t *stream_to, const size_t *sink_to)
{
	size_t	 i;

	event_del(st->ev);
	for (i = 0; i < st->cfg->nstreams; i++)
		if (stream_to[i] == STATS_NEW)
			stats_log_row("stream ", st->cfg->streams[i].name,
			    status_stream_ctrs, st->stream[i], SST_MAX);
	for (i = 0; i < st->cfg->nsinks; i++)
		if (sink_to[i] == STATS_NEW) {
			if (st->sinks != NULL)
				stats_sink_gauges(st, i);
			stats_log_row("sink ", st->cfg->sinks[i].name,
			    status_sink_ctrs, st->sink[i], SSK_MAX);
		}
}

/* "KIND NAME: key=value ..." in table order. */
static void
stats_log_row(const char *kind, const char *name,
    const struct status_counter *tab, const uint64_t *v, size_t n)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	buf_printf(&b, "%s%s:", kind, name);
	for (i = 0; i < n; i++)
		buf_printf(&b, " %s=%llu", tab[i].key,
		    (unsigned long long)v[i]);
	log_info("%s", b.data);
	buf_free(&b);
}

void
stats_free(struct stats *st)
{
	size_t	 i;

	if (st == NULL)
		return;
	event_free(st->ev);
	for (i = 0; i < st->cfg->nstreams; i++)
		free(st->stream[i]);
	for (i = 0; i < st->cfg->nsinks; i++)
		free(st->sink[i]);
	free(st->stream);
	free(st->sink);
	free(st->spool_since);
	free(st);
}

json_object *
stats_status(struct stats *st)
{
	return stats_json(st, false);
}

/* The daemon's counters as JSON (status.h); stopped on the way out. */
static json_object *
stats_json(struct stats *st, bool stopped)
{
	json_object	*o, *a;
	size_t		 i;

	o = json_object_new_object();
	a = json_object_new_array();
	for (i = 0; i < st->cfg->nstreams; i++)
		json_object_array_add(a, stats_stream_json(st, i));
	json_object_object_add(o, STATUS_STREAMS, a);
	json_object_object_add(o, STATUS_CORR, stats_corr_json(st->corr));
	a = json_object_new_array();
	for (i = 0; i < st->cfg->nsinks; i++)
		json_object_array_add(a, stats_sink_json(st, i));
	json_object_object_add(o, STATUS_SINKS, a);
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "updated",
	    json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(o, "interval",
	    json_object_new_int(STATS_STATUS_SEC));
	json_object_object_add(o, "stopped", json_object_new_boolean(stopped));
	json_object_object_add(o, "version",
	    json_object_new_string(AMPSTREAM_VERSION));
	return o;
}

static void
stats_add_ctrs(json_object *o, const struct status_counter *tab,
    const uint64_t *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		json_object_object_add(o, tab[i].key,
		    json_object_new_uint64(v[i]));
}

enum stats_sstate
stats_sstate(const struct stream *s)
{
	if (stream_suspended(s))
		return SS_SUSPENDED;
	switch (stream_state(s)) {
	case STREAM_CONSUMING:
		return SS_CONSUMING;
	case STREAM_CONNECTING:
		return SS_CONNECTING;
	case STREAM_BACKOFF:
		return SS_BACKOFF;
	default:
		return SS_STOPPED;
	}
}

/*
 * For people: status.json, STATUS= ("connected" is SPEC's word); a held
 * stream says what holds it (the hold told the stream when it closed it).
 */
static const char *
stats_stream_state(const struct stream *s)
{
	static const char *const text[SS_MAX] = {
		[SS_CONSUMING] = "connected", [SS_CONNECTING] = "connecting",
		[SS_BACKOFF] = "backing off", [SS_STOPPED] = "stopped"
	};
	enum stats_sstate k = stats_sstate(s);

	if (k == SS_SUSPENDED)
		return stream_suspended_why(s);
	return text[k];
}

static json_object *
stats_stream_json(struct stats *st, size_t i)
{
	struct stream	*s = st->streams[i];
	json_object	*o = json_object_new_object();
	uint64_t	*row = stats_stream_row(st, i);
	bool		 dl_full;

	json_object_object_add(o, "name",
	    json_object_new_string(st->cfg->streams[i].name));
	json_object_object_add(o, "connected",
	    json_object_new_boolean(stream_connected(s)));
	dl_full = deadletter_full(stream_deadletter(s), NULL);
	row[SST_DL_BYTES] = deadletter_bytes(stream_deadletter(s));
	json_object_object_add(o, "state", json_object_new_string(
	    stats_stream_state(s)));
	if (stream_last_error(s)[0] != '\0')
		json_object_object_add(o, "last_error",
		    json_object_new_string(stream_last_error(s)));
	if (stream_state(s) == STREAM_BACKOFF)
		json_object_object_add(o, "next_attempt", json_object_new_int64(
		    stream_next_attempt_ms(s) / 1000));
	json_object_object_add(o, "deadletter_full",
	    json_object_new_boolean(dl_full));
	stats_add_ctrs(o, status_stream_ctrs, row, SST_MAX);
	return o;
}

static json_object *
stats_sink_json(struct stats *st, size_t i)
{
	const struct sink *s = st->sinks[i];
	const struct sink_conf *sc = &st->cfg->sinks[i];
	json_object	*o = json_object_new_object();
	uint64_t	*row = stats_sink_row(st, i);

	stats_sink_gauges(st, i);
	json_object_object_add(o, "name", json_object_new_string(sc->name));
	json_object_object_add(o, "type", json_object_new_string(sc->type));
	json_object_object_add(o, "up", json_object_new_boolean(sink_up(s)));
	json_object_object_add(o, "spool",
	    json_object_new_boolean(sink_has_spool(s)));
	json_object_object_add(o, "spool_full",
	    json_object_new_boolean(sink_blocked(s, NULL)));
	stats_add_ctrs(o, status_sink_ctrs, row, SSK_MAX);
	return o;
}

static json_object *
stats_corr_json(const struct corr *c)
{
	json_object	*o = json_object_new_object();
	uint64_t	 v[SCO_MAX];

	stats_corr_row(c, v);
	stats_add_ctrs(o, status_corr_ctrs, v, SCO_MAX);
	return o;
}

/*
 * The spool's gauges.  Its age is counted from when it was last seen empty
 * (read at least every STATS_STATUS_SEC): the oldest record is at most that
 * old.
 */
void
stats_sink_gauges(struct stats *st, size_t i)
{
	uint64_t	*row = stats_sink_row(st, i);
	time_t		 now = clock_mono_s();

	row[SSK_IN_SPOOL] = sink_spool_records(st->sinks[i]);
	row[SSK_SPOOL_BYTES] = sink_spool_bytes(st->sinks[i]);
	if (row[SSK_IN_SPOOL] == 0)
		st->spool_since[i] = 0;
	else if (st->spool_since[i] == 0)
		st->spool_since[i] = now;
	row[SSK_SPOOL_AGE] = st->spool_since[i] != 0 ?
	    (uint64_t)(now - st->spool_since[i]) : 0;
}

/* The correlation's counters as a row, in the table's order. */
void
stats_corr_row(const struct corr *c, uint64_t *v)
{
	const struct corr_stats *cs = corr_stats(c);

	v[SCO_ENTRIES] = cs->entries;
	v[SCO_STORED] = cs->stored;
	v[SCO_MATCHED] = cs->matched;
	v[SCO_UNMATCHED] = cs->unmatched;
	v[SCO_EXPIRED] = cs->expired;
	v[SCO_EVICTED] = cs->evicted;
	v[SCO_DUPLICATES] = cs->duplicates;
	v[SCO_ALERTS] = cs->alerts;
}
