/*
 * stats.h: every counter of the daemon, and their one writer.
 *
 * The counters live here, one row per stream and per sink (status.h names
 * them); each part gets a pointer to its row when it is made and counts
 * into it.  Every STATUS_SEC the counters, with the parts' states, become
 * state_dir/status.json and the STATUS= line for systemd; on the way out,
 * the stop lines in the log.  All three are made from one JSON object.
 */
#ifndef AMPSTREAM_STATS_H
#define AMPSTREAM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prom.h"
#include "status.h"

struct config;
struct corr;
struct event_base;
struct sink;
struct stats;
struct stream;

#define STATS_STATUS_SEC	5	/* status.json and STATUS= */
#define STATS_LOG_SEC		300	/* the same as a log line */

/*
 * A row is its counters (status.h), then a histogram (prom.h): a stream's
 * event lag (received minus the event's own time), a sink's delivery
 * latency (submitted, i.e. received, to accepted).
 */
#define STATS_LAG		SST_MAX
#define STATS_STREAM_ROW	(SST_MAX + PROM_HIST_SLOTS)
#define STATS_LATENCY		SSK_MAX
#define STATS_SINK_ROW		(SSK_MAX + PROM_HIST_SLOTS)

struct stats	*stats_new(struct event_base *, const struct config *);
/* Row of counters (SST_* / SSK_*) for stream or sink i of the config. */
uint64_t	*stats_stream_row(struct stats *, size_t i);
uint64_t	*stats_sink_row(struct stats *, size_t i);
#define STATS_NEW	SIZE_MAX	/* stats_take: no old row */
void		 stats_take(struct stats *to, struct stats *from,
		    const size_t *stream_from, const size_t *sink_from);
/* Start publishing; the parts are read, never changed. */
struct groups;
void		 stats_start(struct stats *, struct stream **, struct sink **,
		    const struct corr *, const struct groups *);
/* Publish once more (stopped: the daemon is going away) and log the counters. */
void		 stats_finish(struct stats *, bool stopped);
void		 stats_retire(struct stats *, const size_t *stream_to,
		    const size_t *sink_to);
void		 stats_free(struct stats *);

struct buf;
struct json_object;
/* What status.json holds now (the gauges read afresh); caller puts it. */
struct json_object *stats_status(struct stats *);
/* Everything in the Prometheus text format (stats_prom.c). */
void		 stats_prom(struct stats *, struct buf *);
/* 200 and "{}" when healthy, else 503 and one JSON line per failing part. */
int		 stats_health(struct stats *, struct buf *);

#endif
