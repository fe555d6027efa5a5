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

struct config;
struct corr;
struct event_base;
struct sink;
struct stats;
struct stream;

#define STATS_STATUS_SEC	5	/* status.json and STATUS= */
#define STATS_LOG_SEC		300	/* the same as a log line */

struct stats	*stats_new(struct event_base *, const struct config *);
/* Row of counters (SST_* / SSK_*) for stream or sink i of the config. */
uint64_t	*stats_stream_row(struct stats *, size_t i);
uint64_t	*stats_sink_row(struct stats *, size_t i);
/* Start publishing; the parts are read, never changed. */
void		 stats_start(struct stats *, struct stream **, struct sink **,
		    const struct corr *);
/* Publish once more (stopped: the daemon is going away) and log the counters. */
void		 stats_finish(struct stats *, bool stopped);
void		 stats_free(struct stats *);

#endif
