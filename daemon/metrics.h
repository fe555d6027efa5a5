/*
 * metrics.h: the HTTP endpoint for monitoring (libevent's evhttp), off
 * unless metrics.listen is set.  GET /metrics: the Prometheus text format;
 * /health: 200, or 503 with a JSON line per failing part; /status: the
 * JSON of status.json.  Answers are made from the counters (stats.h) in
 * the loop, in one call: no request waits on anything.
 *
 * Bounds against hostile clients: request headers 8 KiB, no body, GET and
 * HEAD only, metrics.timeout seconds to send a request or take an answer,
 * and metrics.max_clients connections that made requests at once (more are
 * answered 503 and closed).  Nothing secret is in any answer.
 */
#ifndef AMPSTREAM_METRICS_H
#define AMPSTREAM_METRICS_H

struct event_base;
struct metrics;
struct metrics_conf;
struct stats;

/* NULL and *cause NULL when off; NULL with *cause set on failure. */
struct metrics	*metrics_new(struct event_base *, const struct metrics_conf *,
		    struct stats *, char **cause);
void		 metrics_free(struct metrics *);
void		 metrics_rebind(struct metrics *, const struct metrics_conf *,
		    struct stats *);

#endif
