/* metrics.c: the monitoring endpoint on evhttp (see metrics.h). */
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <json.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "stats.h"
#include "xmalloc.h"

#define METRICS_HEADERS_MAX	8192
#define METRICS_BODY_MAX	0	/* a GET has none */
#define METRICS_CONNS_MAX	256	/* accepted at once, requests or not */
#define METRICS_CACHE_MS	1000	/* an answer is reused this long */
#define METRICS_PROM_TYPE	"text/plain; version=0.0.4; charset=utf-8"
/*
 * A budget of connections and requests: METRICS_RATE a second, in bursts
 * of up to METRICS_BURST.  A request costs the loop ~0.3 ms (accept, parse,
 * answer, close: mostly system calls), so however many clients hammer the
 * endpoint it takes well under 1 % of a core from the events.  Out of
 * budget the listener pauses: new clients wait in the kernel's accept
 * queue, costing nothing; a further request on an open connection gets 429
 * and the connection is closed.
 */
#define METRICS_RATE		10	/* per second */
#define METRICS_BURST		20

/*
 * Every connection, from its accept: one that has not sent a whole request
 * within the timeout is shut down (evhttp's own timeout restarts with each
 * byte, which a slowloris client sends just often enough).  We hold a
 * reference on its bufferevent, so it stays valid until we let it go.
 */
struct mconn {
	struct bufferevent	*bev;
	time_t			 since;		/* monotonic */
	bool			 asked;		/* a request came whole */
	unsigned		 requests;	/* the first was paid at accept */
};

/*
 * The last answer of each path, reused for METRICS_CACHE_MS: a crowd of
 * scrapers costs a copy each, not a walk of every counter and /proc.
 */
struct manswer {
	const char	*path;
	const char	*type;
	int		 code;
	int64_t		 made_ms;	/* wall clock; 0: never */
	struct buf	 body;
};

enum { ANS_METRICS, ANS_HEALTH, ANS_STATUS, ANS_MAX };

struct metrics {
	struct evhttp		*http;
	struct manswer		 ans[ANS_MAX];
	struct event		*sweep_ev;
	struct mconn		*mc;		/* METRICS_CONNS_MAX */
	size_t			 nmc;
	struct stats		*stats;
	const struct metrics_conf *conf;
	struct evhttp_connection **conns;	/* max_clients, counted */
	struct evconnlistener	*listener;	/* paused out of budget */
	struct event		*refill_ev;
	int64_t			 budget_ms;	/* when the budget was counted */
	double			 budget;	/* requests that may come now */
};

static void	metrics_cb(struct evhttp_request *, void *);
static struct bufferevent *metrics_bev(struct event_base *, void *);
static void	metrics_sweep(int, short, void *);
static int	metrics_admit(struct metrics *, struct evhttp_request *);
static void	metrics_closed(struct evhttp_connection *, void *);
static void	metrics_reply(struct evhttp_request *, int, const char *,
		    const char *, size_t);
static bool	metrics_spend(struct metrics *);
static void	metrics_refill(int, short, void *);

struct metrics *
metrics_new(struct event_base *base, const struct metrics_conf *conf,
    struct stats *stats, char **cause)
{
	struct metrics	*m;
	struct timeval	 sweep_tv = { 1, 0 };
	struct evhttp_bound_socket *bound;
	char		 host[256];
	int		 i, port;

	*cause = NULL;
	if (conf->listen == NULL)
		return NULL;
	if (config_listen_split(conf->listen, host, sizeof(host), &port) ==
	    -1) {
		cause_printf(cause, "metrics: listen %s: not HOST:PORT",
		    conf->listen);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->stats = stats;
	m->conf = conf;
	m->conns = xcalloc(conf->max_clients, sizeof(*m->conns));
	m->ans[ANS_METRICS].path = "/metrics";
	m->ans[ANS_METRICS].type = METRICS_PROM_TYPE;
	m->ans[ANS_HEALTH].path = "/health";
	m->ans[ANS_HEALTH].type = "application/json";
	m->ans[ANS_STATUS].path = "/status";
	m->ans[ANS_STATUS].type = "application/json";
	for (i = 0; i < ANS_MAX; i++)
		buf_init(&m->ans[i].body, 0);
	if ((m->http = evhttp_new(base)) == NULL)
		fatalx("%s: evhttp_new", __func__);
	evhttp_set_max_headers_size(m->http, METRICS_HEADERS_MAX);
	evhttp_set_max_body_size(m->http, METRICS_BODY_MAX);
	evhttp_set_timeout(m->http, conf->timeout);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(m->http, metrics_cb, m);
	evhttp_set_bevcb(m->http, metrics_bev, m);
	m->mc = xcalloc(METRICS_CONNS_MAX, sizeof(*m->mc));
	if ((m->sweep_ev = event_new(base, -1, EV_PERSIST, metrics_sweep, m)) ==
	    NULL)
		fatalx("%s: event_new", __func__);
	event_add(m->sweep_ev, &sweep_tv);
	if ((m->refill_ev = evtimer_new(base, metrics_refill, m)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	m->budget = METRICS_BURST;
	m->budget_ms = clock_mono_ms();
	if ((bound = evhttp_bind_socket_with_handle(m->http, host,
	    (ev_uint16_t)port)) == NULL) {
		cause_printf(cause, "metrics: cannot listen on %s: %s",
		    conf->listen, strerror(errno));
		metrics_free(m);
		return NULL;
	}
	m->listener = evhttp_bound_socket_get_listener(bound);
	log_info("metrics: listening on %s", conf->listen);
	return m;
}

void
metrics_free(struct metrics *m)
{
	int	 i;

	if (m == NULL)
		return;
	if (m->http != NULL)
		evhttp_free(m->http);	/* frees its connections */
	m->conf = NULL;
	metrics_sweep(-1, 0, m);	/* lets every reference go */
	if (m->sweep_ev != NULL)
		event_free(m->sweep_ev);
	if (m->refill_ev != NULL)
		event_free(m->refill_ev);
	for (i = 0; i < ANS_MAX; i++)
		buf_free(&m->ans[i].body);
	free(m->mc);
	free(m->conns);
	free(m);
}

/* A new connection: tracked, or shut at once when too many are open. */
static struct bufferevent *
metrics_bev(struct event_base *base, void *arg)
{
	struct metrics	*m = arg;
	struct bufferevent *bev;

	if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL)
		return NULL;
	(void)metrics_spend(m);	/* accepted: its first request is paid */
	bufferevent_incref(bev);
	if (m->nmc < METRICS_CONNS_MAX) {
		m->mc[m->nmc].bev = bev;
		m->mc[m->nmc].since = clock_mono_s();
		m->mc[m->nmc].asked = false;
		m->mc[m->nmc].requests = 0;
		m->nmc++;
	} else {
		/*
		 * Full: slot 0 goes untracked (evhttp still times it out)
		 * and this one is shut in the next sweep, once evhttp gave
		 * it its fd.
		 */
		bufferevent_decref(m->mc[0].bev);
		m->mc[0].bev = bev;
		m->mc[0].since = 0;
		m->mc[0].asked = false;
		m->mc[0].requests = 0;
	}
	return bev;
}

/*
 * Every second: let go of the connections evhttp freed, shut those that never sent a whole request in time.  With
 * m->conf NULL (metrics_free), let go of all.
 */
static void
metrics_sweep(int fd __unused, short ev __unused, void *arg)
{
	struct metrics	*m = arg;
	struct mconn	*c;
	bufferevent_event_cb evcb;
	time_t		 now = clock_mono_s();
	size_t		 i = 0;

	while (i < m->nmc) {
		c = &m->mc[i];
		/* evhttp keeps its error callback set until it frees. */
		bufferevent_getcb(c->bev, NULL, NULL, &evcb, NULL);
		if (m->conf == NULL || evcb == NULL) {
			bufferevent_decref(c->bev);
			*c = m->mc[--m->nmc];
			continue;
		}
		if (!c->asked && now - c->since >= m->conf->timeout &&
		    bufferevent_getfd(c->bev) != -1)
			shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
		i++;
	}
}

/*
 * A connection's first request counts it until it closes: at most
 * max_clients at once, the rest are turned away (-1).  Its later requests
 * (keep-alive) spend from the budget; -2 when it is out.
 */
static int
metrics_admit(struct metrics *m, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	int	 i, free_slot = -1;

	if (evcon == NULL)
		return -1;
	for (i = 0; i < (int)m->nmc; i++)
		if (m->mc[i].bev == evhttp_connection_get_bufferevent(evcon)) {
			m->mc[i].asked = true;
			/* a request after the first on one connection */
			if (m->mc[i].requests++ > 0 && !metrics_spend(m))
				return -2;
		}
	for (i = 0; i < m->conf->max_clients; i++) {
		if (m->conns[i] == evcon)
			return 0;
		if (m->conns[i] == NULL && free_slot == -1)
			free_slot = i;
	}
	if (free_slot == -1)
		return -1;
	m->conns[free_slot] = evcon;
	evhttp_connection_set_closecb(evcon, metrics_closed, m);
	return 0;
}

static void
metrics_closed(struct evhttp_connection *evcon, void *arg)
{
	struct metrics	*m = arg;
	int		 i;

	for (i = 0; i < m->conf->max_clients; i++)
		if (m->conns[i] == evcon)
			m->conns[i] = NULL;
}

/* A reload kept the endpoint (same keys): the new config and counters. */
void
metrics_rebind(struct metrics *m, const struct metrics_conf *conf,
    struct stats *stats)
{
	int	 i;

	if (m == NULL)
		return;
	m->conf = conf;
	m->stats = stats;
	for (i = 0; i < ANS_MAX; i++)
		m->ans[i].made_ms = 0;	/* not from the old parts */
}

/* Make answer a afresh from the counters. */
static void
metrics_make(struct metrics *m, struct manswer *a, int which)
{
	json_object	*o;

	buf_reset(&a->body);
	a->code = 200;
	switch (which) {
	case ANS_METRICS:
		stats_prom(m->stats, &a->body);
		break;
	case ANS_HEALTH:
		a->code = stats_health(m->stats, &a->body);
		break;
	case ANS_STATUS:
		o = stats_status(m->stats);
		buf_printf(&a->body, "%s\n", json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		break;
	}
	a->made_ms = clock_now_ms();
}

static void
metrics_cb(struct evhttp_request *req, void *arg)
{
	struct metrics	*m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char	*path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct manswer	*a;
	int64_t		 now = clock_now_ms();
	int		 i;

	switch (metrics_admit(m, req)) {
	case -1:
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		metrics_reply(req, 503, "text/plain", "too many clients\n", 17);
		return;
	case -2:
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
		metrics_reply(req, 429, "text/plain", "too many requests\n",
		    18);
		return;
	}
	for (i = 0; i < ANS_MAX; i++)
		if (path != NULL && strcmp(path, m->ans[i].path) == 0)
			break;
	if (i == ANS_MAX) {
		metrics_reply(req, 404, "text/plain",
		    "try /metrics, /health or /status\n", 33);
		return;
	}
	a = &m->ans[i];
	if (a->made_ms == 0 || now - a->made_ms >= METRICS_CACHE_MS ||
	    now < a->made_ms)
		metrics_make(m, a, i);
	metrics_reply(req, a->code, a->type, a->body.data != NULL ?
	    a->body.data : "", a->body.len);
}

static void
metrics_reply(struct evhttp_request *req, int code, const char *type,
    const char *body, size_t len)
{
	struct evbuffer	*out = evbuffer_new();
	const char	*reason = code == 200 ? "OK" : code == 404 ?
			    "Not Found" : code == 429 ? "Too Many Requests" :
			    "Service Unavailable";

	if (out == NULL)
		fatalx("%s: evbuffer_new", __func__);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", type);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

/*
 * Take one request from the budget (refilled at METRICS_RATE a second);
 * when it runs out, stop accepting until it has one again.
 */
static bool
metrics_spend(struct metrics *m)
{
	struct timeval	 tv;
	int64_t		 now = clock_mono_ms(), wait_ms;
	bool		 ok;

	m->budget += (double)(now - m->budget_ms) * METRICS_RATE / 1000;
	if (m->budget > METRICS_BURST)
		m->budget = METRICS_BURST;
	m->budget_ms = now;
	if ((ok = m->budget >= 1))
		m->budget -= 1;
	if (m->budget < 1 && m->listener != NULL &&
	    !evtimer_pending(m->refill_ev, NULL)) {
		evconnlistener_disable(m->listener);
		wait_ms = (int64_t)((1 - m->budget) * 1000 / METRICS_RATE) + 1;
		tv.tv_sec = wait_ms / 1000;
		tv.tv_usec = (wait_ms % 1000) * 1000;
		evtimer_add(m->refill_ev, &tv);
	}
	return ok;
}

static void
metrics_refill(int fd __unused, short ev __unused, void *arg)
{
	struct metrics	*m = arg;

	if (m->listener != NULL)
		evconnlistener_enable(m->listener);
}
