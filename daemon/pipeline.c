/*
 * pipeline.c: routes each AMQP message to its sinks and acknowledges it once
 * they all accepted it.  Malformed messages are dead-lettered and acked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <json.h>

#include "ack.h"
#include "buf.h"
#include "config.h"
#include "deadletter.h"
#include "event.h"
#include "format.h"
#include "console.h"
#include "corr.h"
#include "log.h"
#include "pipeline.h"
#include "sink.h"
#include "stream.h"
#include "syslog.h"
#include "utf8.h"

/* Per stream: its consumer, its acks, the sinks it feeds. */
struct route {
	struct pipeline		*p;
	const struct stream_conf *conf;
	const struct cloud_conf	*cloud;
	struct stream		*stream;
	struct ack_queue	*acks;
	time_t			 suspended_at;	/* monotonic s, while suspended */
	uint64_t		 acked;
	uint64_t		 deadlettered;
};

struct pipeline {
	struct event_base	*base;
	const struct config	*cfg;
	struct sink		**sinks;
	struct route		*routes;
	size_t			 nroutes;
	struct event		*ack_ev;
	struct event		*hold_ev;	/* checks for full spools */
	struct corr		*corr;
	char			 corr_path[1024];
	char			 hostname[256];
};

/* What travels with a record through a sink. */
struct sink_ref {
	struct route	*route;
	struct delivery	*d;
};

static void	pipeline_on_message(struct stream *, const struct stream_msg *,
		    void *);
static void	pipeline_on_lost(struct stream *, uint64_t, void *);
static void	pipeline_send_ack(void *, uint64_t, uint64_t, bool);
static void	pipeline_ack_cb(int, short, void *);
static void	pipeline_sink_done(void *, enum sink_result);
static void	pipeline_route_event(struct route *, const struct amp_event *,
		    struct delivery *, int64_t, const struct corr_info *);
static void	pipeline_on_alert(const struct corr_detection *, void *);
static char	*pipeline_alert_body(const struct corr_detection *, int64_t);
static void	pipeline_corr_open(struct pipeline *);
static char	*pipeline_render(struct pipeline *, const struct sink_conf *,
		    const struct amp_event *, struct format_ctx *, size_t *);
static int	pipeline_syslog_severity(const char *);
static void	pipeline_deadletter(struct route *, const char *, size_t,
		    const char *, struct delivery *, int64_t);
static void	pipeline_hold_cb(int, short, void *);
static const struct sink *pipeline_blocked_sink(const struct route *);
static void	pipeline_suspend(struct route *, const struct sink *);
static time_t	monotonic(void);
static void	add_str(json_object *, const char *, const char *);
static void	add_u64(json_object *, const char *, uint64_t);
static int64_t	now_ms(void);

struct pipeline *
pipeline_new(struct event_base *base, const struct config *cfg,
    struct sink **sinks)
{
	struct pipeline	*p;
	struct route	*r;
	size_t		 i;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->routes = calloc(cfg->nstreams, sizeof(*p->routes))) == NULL)
		fatal("%s", __func__);
	p->base = base;
	p->cfg = cfg;
	p->sinks = sinks;
	p->nroutes = cfg->nstreams;
	if (gethostname(p->hostname, sizeof(p->hostname)) == -1)
		strcpy(p->hostname, "-");
	p->ack_ev = event_new(base, -1, 0, pipeline_ack_cb, p);
	p->hold_ev = event_new(base, -1, EV_PERSIST, pipeline_hold_cb, p);
	pipeline_corr_open(p);
	for (i = 0; i < p->nroutes; i++) {
		r = &p->routes[i];
		r->p = p;
		r->conf = &cfg->streams[i];
		r->cloud = r->conf->cloud ? config_cloud(cfg, r->conf->cloud) :
		    NULL;
		r->acks = ack_queue_new(pipeline_send_ack, r);
		r->stream = stream_new(base, r->conf, pipeline_on_message,
		    pipeline_on_lost, r);
	}
	return p;
}

void
pipeline_start(struct pipeline *p)
{
	struct timeval	 tv = { 1, 0 };
	size_t	 i;

	event_add(p->hold_ev, &tv);
	for (i = 0; i < p->nroutes; i++)
		stream_start(p->routes[i].stream);
}

static void
pipeline_on_message(struct stream *st __unused, const struct stream_msg *m,
    void *arg)
{
	struct route	*r = arg;
	struct delivery	*d;
	struct amp_event ev;
	struct corr_info info;
	const char	*reason;
	int64_t		 received = now_ms();

	d = ack_track(r->acks, m->gen, m->tag);
	/* JSON is UTF-8 (RFC 8259); json-c would let bad bytes through. */
	if (m->truncated)
		reason = "body too large";
	else if (!utf8_valid(m->body, m->len))
		reason = "not valid UTF-8 (or holds NUL bytes)";
	else if (event_parse(&ev, m->body, m->len, &reason) == 0) {
		corr_observe(r->p->corr, &ev, (size_t)(r - r->p->routes),
		    received, &info);
		pipeline_route_event(r, &ev, d, received, &info);
		event_clear(&ev);
		return;
	}
	pipeline_deadletter(r, m->body, m->len, reason, d, received);
}

/*
 * Format the event for every sink of the stream and hand the records over.
 * d is the AMQP delivery they hold, or NULL for ampstream's own alerts.
 */
static void
pipeline_route_event(struct route *r, const struct amp_event *ev,
    struct delivery *d, int64_t received, const struct corr_info *info)
{
	struct pipeline	*p = r->p;
	const struct sink_conf *sc;
	struct format_ctx ctx;
	struct sink_ref	*ref;
	struct buf	 base, url, furl;
	char		*rec;
	size_t		 i, len;

	buf_init(&base, 0);
	buf_init(&url, 0);
	buf_init(&furl, 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.stream = r->conf->name;
	ctx.cloud = r->cloud ? r->cloud->name : NULL;
	ctx.received_ms = received;
	ctx.corr = info;
	if (console_base_for(ev, r->cloud ? r->cloud->console_url : NULL,
	    r->conf->host, &base) == 0) {
		if (console_url(ev, base.data, &url) == 0)
			ctx.console_url = url.data;
		if (console_file_url(ev, base.data, &furl) == 0)
			ctx.file_console_url = furl.data;
	}
	for (i = 0; i < r->conf->nsinks; i++) {
		sc = &p->cfg->sinks[r->conf->sinks[i]];
		ctx.default_severity = sc->default_severity;
		if ((rec = pipeline_render(p, sc, ev, &ctx, &len)) == NULL) {
			log_warnx("stream %s: event %s does not fit sink %s "
			    "(max_record %zu)", r->conf->name, ev->id_str,
			    sc->name, sc->max_record);
			continue;
		}
		if ((ref = malloc(sizeof(*ref))) == NULL)
			fatal("%s", __func__);
		ref->route = r;
		ref->d = d;
		if (d != NULL)
			ack_hold(d);
		sink_submit(p->sinks[r->conf->sinks[i]], rec, len,
		    pipeline_sink_done, ref);
	}
	if (d != NULL)
		ack_release(d, true);
	buf_free(&base);
	buf_free(&url);
	buf_free(&furl);
	event_active(p->ack_ev, EV_TIMEOUT, 0);
}

/* Formatted record in its syslog header and framing, or NULL. */
static char *
pipeline_render(struct pipeline *p, const struct sink_conf *sc,
    const struct amp_event *ev, struct format_ctx *ctx, size_t *lenp)
{
	const struct format_ops *fmt = format_lookup(sc->format);
	struct syslog_hdr h;
	struct buf	 rec, out;
	size_t		 hlen;
	char		*res = NULL;

	h.style = sc->syslog;
	h.facility = sc->facility;
	h.severity = pipeline_syslog_severity(ev->severity);
	h.hostname = p->hostname;
	h.app_name = sc->app_name;
	h.time_ms = ctx->received_ms;
	/* A trailing LF travels in the same datagram (udp): count it too. */
	hlen = syslog_header_len(&h) + (sc->framing == FRAMING_LF);
	buf_init(&rec, 0);
	buf_init(&out, 0);
	if (fmt == NULL || hlen >= sc->max_record)
		goto done;
	ctx->max_len = sc->max_record - hlen;
	if (fmt->format(ev, ctx, &rec) == -1 ||
	    syslog_frame(&h, sc->framing, rec.data, rec.len, &out) == -1)
		goto done;
	res = buf_release(&out, lenp);
done:
	buf_free(&rec);
	buf_free(&out);
	return res;
}

/* AMP severity to syslog severity: Critical=crit ... none=info. */
static int
pipeline_syslog_severity(const char *sev)
{
	static const struct { const char *name; int level; } map[] = {
		{ "Critical", 2 }, { "High", 3 }, { "Medium", 4 }, { "Low", 5 },
	};
	size_t	 i;

	for (i = 0; sev != NULL && i < nitems(map); i++)
		if (strcasecmp(sev, map[i].name) == 0)
			return map[i].level;
	return 6;
}

static void
pipeline_sink_done(void *arg, enum sink_result res)
{
	struct sink_ref	*ref = arg;

	if (ref->d == NULL) {
		free(ref);
		return;
	}
	/* FATAL: this sink can never take it; do not hold the message. */
	if (res == SINK_FATAL)
		log_warnx("stream %s: a record was refused for good by a sink "
		    "(see above); the message is acked for its other sinks",
		    ref->route->conf->name);
	ack_release(ref->d, res != SINK_CANCELLED);
	if (res != SINK_CANCELLED)
		event_active(ref->route->p->ack_ev, EV_TIMEOUT, 0);
	free(ref);
}

/* Keep the message on disk and ack it; if that fails, never ack it. */
static void
pipeline_deadletter(struct route *r, const char *body, size_t len,
    const char *reason, struct delivery *d, int64_t received)
{
	int	 ok;

	ok = deadletter_write(r->p->cfg->state_dir, r->conf->name, body, len,
	    reason, received) == 0;
	if (ok) {
		r->deadlettered++;
		log_warnx("stream %s: message dead-lettered: %s", r->conf->name,
		    reason);
	}
	ack_release(d, ok);
	event_active(r->p->ack_ev, EV_TIMEOUT, 0);
}

static void
pipeline_on_lost(struct stream *st __unused, uint64_t gen __unused,
    void *arg)
{
	struct route	*r = arg;

	/* The next flush frees what is finished of the lost generation. */
	event_active(r->p->ack_ev, EV_TIMEOUT, 0);
}

static void
pipeline_send_ack(void *arg, uint64_t gen, uint64_t tag, bool multiple)
{
	struct route	*r = arg;

	stream_ack(r->stream, gen, tag, multiple);
}

static void
pipeline_ack_cb(int fd __unused, short ev __unused, void *arg)
{
	pipeline_flush_acks(arg);
}

void
pipeline_flush_acks(struct pipeline *p)
{
	struct route	*r;
	size_t		 i;

	for (i = 0; i < p->nroutes; i++) {
		r = &p->routes[i];
		if (stream_connected(r->stream))
			r->acked += ack_flush(r->acks,
			    stream_generation(r->stream));
	}
}

void
pipeline_pause(struct pipeline *p)
{
	size_t	 i;

	for (i = 0; i < p->nroutes; i++)
		stream_pause(p->routes[i].stream);
}

bool
pipeline_idle(const struct pipeline *p)
{
	size_t	 i;

	for (i = 0; i < p->nroutes; i++)
		if (ack_held(p->routes[i].acks) > 0)
			return false;
	return true;
}

void
pipeline_close_streams(struct pipeline *p)
{
	size_t	 i;

	for (i = 0; i < p->nroutes; i++) {
		stream_free(p->routes[i].stream);
		p->routes[i].stream = NULL;
	}
}

void
pipeline_free(struct pipeline *p)
{
	size_t	 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nroutes; i++) {
		stream_free(p->routes[i].stream);
		ack_queue_free(p->routes[i].acks);
	}
	if (p->corr_path[0] != '\0' && corr_save(p->corr, p->corr_path) == -1)
		log_warnx("correlation: cannot save %s", p->corr_path);
	corr_free(p->corr);
	event_free(p->ack_ev);
	event_free(p->hold_ev);
	free(p->routes);
	free(p);
}

void
pipeline_log_stats(const struct pipeline *p)
{
	const struct corr_stats *cs;
	const struct route *r;
	struct stream_stats *s;
	size_t		 i;

	for (i = 0; i < p->nroutes; i++) {
		r = &p->routes[i];
		if (r->stream == NULL)
			continue;
		s = stream_stats(r->stream);
		log_info("stream %s: delivered=%llu acked=%llu redelivered=%llu "
		    "deadlettered=%llu", r->conf->name,
		    (unsigned long long)s->delivered,
		    (unsigned long long)r->acked,
		    (unsigned long long)s->redelivered,
		    (unsigned long long)r->deadlettered);
	}
	cs = corr_stats(p->corr);
	log_info("correlation: entries=%zu stored=%llu matched=%llu "
	    "unmatched=%llu expired=%llu evicted=%llu duplicates=%llu "
	    "alerts=%llu", cs->entries, (unsigned long long)cs->stored,
	    (unsigned long long)cs->matched, (unsigned long long)cs->unmatched,
	    (unsigned long long)cs->expired, (unsigned long long)cs->evicted,
	    (unsigned long long)cs->duplicates, (unsigned long long)cs->alerts);
}

static void
add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

json_object *
pipeline_status_json(const struct pipeline *p)
{
	const struct corr_stats *cs = corr_stats(p->corr);
	const struct route *r;
	struct stream_stats *st;
	json_object	*o, *streams, *s, *c;
	size_t		 i;

	o = json_object_new_object();
	streams = json_object_new_array();
	for (i = 0; i < p->nroutes; i++) {
		r = &p->routes[i];
		st = stream_stats(r->stream);
		s = json_object_new_object();
		add_str(s, "name", r->conf->name);
		json_object_object_add(s, "connected",
		    json_object_new_boolean(stream_connected(r->stream)));
		add_str(s, "state", stream_connected(r->stream) ? "connected" :
		    stream_suspended(r->stream) ? "suspended (sink full)" :
		    "disconnected");
		add_u64(s, "delivered", st->delivered);
		add_u64(s, "acked", r->acked);
		add_u64(s, "redelivered", st->redelivered);
		add_u64(s, "deadlettered", r->deadlettered);
		add_u64(s, "connects", st->connects);
		json_object_array_add(streams, s);
	}
	json_object_object_add(o, "streams", streams);
	c = json_object_new_object();
	add_u64(c, "entries", cs->entries);
	add_u64(c, "stored", cs->stored);
	add_u64(c, "matched", cs->matched);
	add_u64(c, "unmatched", cs->unmatched);
	add_u64(c, "expired", cs->expired);
	add_u64(c, "evicted", cs->evicted);
	add_u64(c, "duplicates", cs->duplicates);
	add_u64(c, "alerts", cs->alerts);
	json_object_object_add(o, "correlation", c);
	return o;
}

/*
 * A sink whose spool is full holds the acks of every message it waits for.
 * Past the stream's hold_timeout (well under the broker's consumer_timeout,
 * 30 min by default) the stream gives its messages back instead: it closes
 * its connection, so the broker requeues them, and stays away until the
 * sink takes records again, or one hold_timeout later to try again.
 */
static void
pipeline_hold_cb(int fd __unused, short ev __unused, void *arg)
{
	struct pipeline	*p = arg;
	const struct sink *s;
	struct route	*r;
	time_t		 now = monotonic();
	size_t		 i;

	for (i = 0; i < p->nroutes; i++) {
		r = &p->routes[i];
		s = pipeline_blocked_sink(r);
		if (stream_suspended(r->stream)) {
			if (s == NULL ||
			    now - r->suspended_at >= r->conf->hold_timeout) {
				log_info("stream %s: resuming", r->conf->name);
				stream_resume(r->stream);
			}
		} else if (s != NULL && stream_connected(r->stream) &&
		    now - s->blocked_since >= r->conf->hold_timeout)
			pipeline_suspend(r, s);
	}
}

static const struct sink *
pipeline_blocked_sink(const struct route *r)
{
	const struct sink *s;
	size_t		 i;

	for (i = 0; i < r->conf->nsinks; i++) {
		s = r->p->sinks[r->conf->sinks[i]];
		if (s->blocked)
			return s;
	}
	return NULL;
}

static void
pipeline_suspend(struct route *r, const struct sink *blocked)
{
	size_t	 i;

	log_warnx("stream %s: sink %s has not taken records for %d s (spool "
	    "full); closing the connection so the broker requeues the "
	    "messages, until the sink takes records again", r->conf->name,
	    blocked->conf->name, r->conf->hold_timeout);
	r->suspended_at = monotonic();
	stream_suspend(r->stream);
	for (i = 0; i < r->conf->nsinks; i++)
		if (r->p->sinks[r->conf->sinks[i]]->blocked)
			sink_drop_spooling(r->p->sinks[r->conf->sinks[i]]);
	event_active(r->p->ack_ev, EV_TIMEOUT, 0);
}

static time_t
monotonic(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The correlation table, with what the last run saved in state_dir. */
static void
pipeline_corr_open(struct pipeline *p)
{
	p->corr = corr_new(p->base, &p->cfg->correlation, pipeline_on_alert,
	    p);
	if (snprintf(p->corr_path, sizeof(p->corr_path), "%s/correlation.db",
	    p->cfg->state_dir) >= (int)sizeof(p->corr_path)) {
		log_warnx("correlation: state_dir too long, no snapshot");
		p->corr_path[0] = '\0';
		return;
	}
	if (corr_load(p->corr, p->corr_path, now_ms()) == 0)
		log_debug("%s: %zu detections loaded", __func__,
		    corr_stats(p->corr)->entries);
}

/*
 * A detection had no outcome for unresolved_alert seconds: send one record
 * saying so, built like an AMP event so every formatter handles it.  It is
 * ampstream's own record: no AMQP message waits for it.
 */
static void
pipeline_on_alert(const struct corr_detection *det, void *arg)
{
	struct pipeline	*p = arg;
	struct amp_event ev;
	struct corr_info info;
	const char	*reason;
	char		*body;
	int64_t		 now = now_ms();
	size_t		 i = det->stream < p->nroutes ? det->stream : 0;

	if (p->nroutes == 0)
		return;
	body = pipeline_alert_body(det, now);
	if (event_parse(&ev, body, strlen(body), &reason) == -1) {
		log_warnx("correlation: alert for %s: %s", det->detection_id,
		    reason);
		free(body);
		return;
	}
	memset(&info, 0, sizeof(info));
	info.state = CORR_UNRESOLVED;
	info.det = det;
	pipeline_route_event(&p->routes[i], &ev, NULL, now, &info);
	event_clear(&ev);
	free(body);
}

static void
add_str(json_object *o, const char *key, const char *val)
{
	if (val != NULL && *val != '\0')
		json_object_object_add(o, key, json_object_new_string(val));
}

/* The alert as AMP-shaped JSON: event_type_id 0 is ampstream's own. */
static char *
pipeline_alert_body(const struct corr_detection *det, int64_t now)
{
	json_object	*o, *computer, *file, *identity;
	char		*body;

	o = json_object_new_object();
	computer = json_object_new_object();
	file = json_object_new_object();
	identity = json_object_new_object();
	add_str(o, "event_type", "Unresolved Detection");
	json_object_object_add(o, "event_type_id", json_object_new_int64(0));
	json_object_object_add(o, "timestamp",
	    json_object_new_int64(now / 1000));
	add_str(o, "detection", det->detection);
	add_str(o, "detection_id", det->detection_id);
	add_str(o, "connector_guid", det->connector_guid);
	add_str(o, "severity", det->severity);
	add_str(computer, "hostname", det->hostname);
	add_str(computer, "connector_guid", det->connector_guid);
	add_str(file, "file_name", det->file_name);
	add_str(file, "file_path", det->file_path);
	add_str(identity, "sha256", det->sha256);
	json_object_object_add(file, "identity", identity);
	json_object_object_add(o, "computer", computer);
	json_object_object_add(o, "file", file);
	if ((body = strdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))) == NULL)
		fatal("%s", __func__);
	json_object_put(o);
	return body;
}

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
