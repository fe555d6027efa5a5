/*
 * route.c: message -> event -> correlation -> one record per outlet ->
 * sinks; the sinks' verdicts go straight to the stream's delivery (see
 * route.h).  Malformed messages are dead-lettered, then acked.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "console.h"
#include "corr.h"
#include "deadletter.h"
#include "event.h"
#include "format.h"
#include "groups.h"
#include "log.h"
#include "prom.h"
#include "record.h"
#include "route.h"
#include "sink.h"
#include "stats.h"
#include "status.h"
#include "stream.h"
#include "xmalloc.h"

struct outlet {
	struct sink		*sink;
	const struct record_recipe *recipe;
};

/* One stream's way out. */
struct lane {
	struct route		*route;
	size_t			 index;
	const struct stream_conf *conf;
	const struct cloud_conf	*cloud;
	struct outlet		*outlets;
	size_t			 noutlets;
	uint64_t		*ctr;		/* the stream's SST_* row */
	struct deadletter	*dl;
	struct buf		 base, url, furl;	/* links, reused */
	struct buf		 gguids, gnames;	/* group texts, reused */
};

struct route {
	const struct config	*cfg;
	struct lane		*lanes;
	size_t			 nlanes;
	struct corr		*corr;
	struct groups		*groups;	/* NULL: no names */
	struct event_mem	 evmem;		/* lent to each event read */
};

static void	route_event(struct lane *, const struct amp_event *,
		    struct delivery *, int64_t, const struct corr_info *);
static void	route_links(struct lane *, const struct amp_event *,
		    struct format_ctx *);
static void	route_groups(struct lane *, const struct amp_event *,
		    struct format_ctx *, const char **);
static void	route_record_done(void *, enum sink_result);
static void	route_lag(struct lane *, const struct amp_event *, int64_t);
static void	route_deadletter(struct lane *, const char *, size_t,
		    const char *, struct delivery *, int64_t);

struct route *
route_new(const struct config *cfg, struct sink **sinks,
    struct record_recipe **recipes, struct deadletter **dls,
    struct stats *stats)
{
	const struct stream_conf *sc;
	struct route	*r;
	struct lane	*l;
	size_t		 i, k;

	r = xcalloc(1, sizeof(*r));
	r->cfg = cfg;
	r->nlanes = cfg->nstreams;
	r->lanes = xcalloc(r->nlanes, sizeof(*r->lanes));
	for (i = 0; i < r->nlanes; i++) {
		l = &r->lanes[i];
		sc = &cfg->streams[i];
		l->route = r;
		l->index = i;
		l->conf = sc;
		l->cloud = sc->cloud ? config_cloud(cfg, sc->cloud) : NULL;
		l->ctr = stats_stream_row(stats, i);
		l->dl = dls[i];
		buf_init(&l->base, 0);
		buf_init(&l->url, 0);
		buf_init(&l->furl, 0);
		buf_init(&l->gguids, 0);
		buf_init(&l->gnames, 0);
		l->noutlets = sc->nsinks;
		l->outlets = xcalloc(sc->nsinks, sizeof(*l->outlets));
		for (k = 0; k < sc->nsinks; k++) {
			l->outlets[k].sink = sinks[sc->sinks[k]];
			l->outlets[k].recipe = recipes[sc->sinks[k]];
		}
	}
	return r;
}

void
route_free(struct route *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nlanes; i++) {
		free(r->lanes[i].outlets);
		buf_free(&r->lanes[i].base);
		buf_free(&r->lanes[i].url);
		buf_free(&r->lanes[i].furl);
		buf_free(&r->lanes[i].gguids);
		buf_free(&r->lanes[i].gnames);
	}
	free(r->lanes);
	event_mem_free(&r->evmem);
	free(r);
}

void
route_set_corr(struct route *r, struct corr *corr)
{
	r->corr = corr;
}

void
route_set_groups(struct route *r, struct groups *groups)
{
	r->groups = groups;
}

void *
route_lane(struct route *r, size_t stream)
{
	return &r->lanes[stream];
}

void
route_message(struct stream *st __unused, const char *body, size_t len,
    struct delivery *d, void *arg)
{
	struct lane	*l = arg;
	struct amp_event ev;
	struct corr_info info;
	const char	*reason;
	int64_t		 received = clock_now_ms();

	if (event_read(&ev, body, len, &l->route->evmem, &reason) == 0) {
		route_lag(l, &ev, received);
		corr_observe(l->route->corr, &ev, l->index, received, &info);
		route_event(l, &ev, d, received, &info);
		event_clear(&ev);
		return;
	}
	route_deadletter(l, body, len, reason, d, received);
}

/* When the event came and how late (its own time; clock skew counts 0). */
static void
route_lag(struct lane *l, const struct amp_event *ev, int64_t received)
{
	int64_t	 lag;

	l->ctr[SST_LAST_EVENT] = (uint64_t)(received / 1000);
	if (ev->timestamp <= 0)
		return;
	lag = received - (ev->timestamp * 1000 + ev->timestamp_ns / 1000000);
	if (lag < 0)
		lag = 0;
	l->ctr[SST_LAG_MS] = (uint64_t)lag;
	prom_hist_observe(l->ctr + STATS_LAG, lag);
}

/*
 * One record per outlet, each holding the delivery d until its sink took it
 * (d is NULL for ampstream's own alerts: nothing to ack).
 */
static void
route_event(struct lane *l, const struct amp_event *ev, struct delivery *d,
    int64_t received, const struct corr_info *info)
{
	const struct outlet *o;
	struct format_ctx ctx;
	const char	*names[EVENT_GROUPS_MAX];
	char		*rec;
	size_t		 i, len;

	memset(&ctx, 0, sizeof(ctx));
	ctx.stream = l->conf->name;
	ctx.cloud = l->cloud ? l->cloud->name : NULL;
	ctx.received_ms = received;
	ctx.corr = info;
	route_links(l, ev, &ctx);
	route_groups(l, ev, &ctx, names);
	groups_computer(l->route->groups, l->cloud, ev->connector_guid,
	    &ctx.policy, &ctx.isolation);
	for (i = 0; i < l->noutlets; i++) {
		o = &l->outlets[i];
		if ((rec = record_make(o->recipe, ev, &ctx, &len)) == NULL) {
			log_warnx("stream %s: event %s does not fit sink %s "
			    "(max_record %zu)", l->conf->name,
			    ev->has_id ? ev->id_str : "without id",
			    sink_conf(o->sink)->name,
			    sink_conf(o->sink)->max_record);
			continue;
		}
		if (d != NULL)
			ack_hold(d);
		sink_submit(o->sink, rec, len, route_record_done, d);
	}
	if (d != NULL)
		ack_release(d, true);
}

/* The event's console links, for every record made of it. */
static void
route_links(struct lane *l, const struct amp_event *ev,
    struct format_ctx *ctx)
{
	buf_reset(&l->base);
	buf_reset(&l->url);
	buf_reset(&l->furl);
	if (console_base_for(ev, l->cloud ? l->cloud->console_url : NULL,
	    l->conf->host, &l->base) == -1)
		return;
	if (console_url(ev, l->base.data, &l->url) == 0)
		ctx->console_url = l->url.data;
	if (console_file_url(ev, l->base.data, &l->furl) == 0)
		ctx->file_console_url = l->furl.data;
}

/*
 * The event's groups: GUIDs and the names the cache knows (asking never
 * waits: an unknown one goes out as its GUID alone).
 */
static void
route_groups(struct lane *l, const struct amp_event *ev,
    struct format_ctx *ctx, const char **names)
{
	size_t	 i;

	if (ev->ngroups == 0)
		return;
	buf_reset(&l->gguids);
	buf_reset(&l->gnames);
	for (i = 0; i < ev->ngroups; i++) {
		names[i] = groups_name(l->route->groups, l->cloud,
		    ev->group_guids[i]);
		if (i > 0)
			buf_puts(&l->gguids, ",");
		buf_puts(&l->gguids, ev->group_guids[i]);
		if (names[i] == NULL)
			continue;
		if (l->gnames.len > 0)
			buf_puts(&l->gnames, ",");
		buf_puts(&l->gnames, names[i]);
	}
	ctx->group_names = names;
	ctx->group_guids_text = l->gguids.data;
	ctx->group_names_text = l->gnames.len > 0 ? l->gnames.data : NULL;
}

/* A sink's verdict on one record goes straight to the message's delivery. */
static void
route_record_done(void *arg, enum sink_result res)
{
	struct delivery	*d = arg;

	if (d == NULL)
		return;
	/* FATAL: this sink can never take it; do not hold the message. */
	if (res == SINK_FATAL)
		log_warnx("stream %s: a record was refused for good by a sink "
		    "(see above); the message is acked for its other sinks",
		    ack_name(d));
	ack_release(d, res != SINK_CANCELLED);
}

/* Keep the message on disk and ack it; if that fails, never ack it. */
static void
route_deadletter(struct lane *l, const char *body, size_t len,
    const char *reason, struct delivery *d, int64_t received)
{
	int	 ok;

	ok = deadletter_write(l->dl, body, len, reason, received) == 0;
	if (ok) {
		l->ctr[SST_DEADLETTERED]++;
		log_warnx("stream %s: message dead-lettered: %s", l->conf->name,
		    reason);
	}
	ack_release(d, ok);
}

/*
 * A detection had no outcome for unresolved_alert seconds: one record saying
 * so, on the stream it came from.  No AMQP message waits for it.
 */
void
route_alert(const struct corr_detection *det, void *arg)
{
	struct route	*r = arg;
	struct amp_event ev;
	struct corr_info info;
	int64_t		 now = clock_now_ms();
	size_t		 i = det->stream < r->nlanes ? det->stream : 0;

	if (r->nlanes == 0)
		return;
	corr_alert_event(det, now, &ev);
	memset(&info, 0, sizeof(info));
	info.state = CORR_UNRESOLVED;
	info.det = det;
	route_event(&r->lanes[i], &ev, NULL, now, &info);
	event_clear(&ev);
}

