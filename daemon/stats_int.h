/*
 * stats_int.h: struct stats itself, shared by stats.c (status.json, the
 * STATUS= line) and stats_prom.c (the Prometheus text, /health).  Nobody
 * else includes it.
 */
#ifndef AMPSTREAM_STATS_INT_H
#define AMPSTREAM_STATS_INT_H

#include <time.h>

struct stats {
	const struct config	*cfg;
	uint64_t		**stream;	/* a row per stream: a reload */
	uint64_t		**sink;		/* passes them on (stats_take) */
	time_t			*spool_since;	/* per sink, monotonic; 0: empty */
	struct stream		**streams;
	struct sink		**sinks;
	const struct corr	*corr;
	const struct groups	*groups;	/* NULL: no cloud asked */
	struct event		*ev;
	time_t			 logged;
	time_t			 started;	/* wall clock */
};

/* Refresh sink i's spool gauges in its row. */
void	stats_sink_gauges(struct stats *, size_t i);
/* The correlation's counters (SCO_*) into v. */
void	stats_corr_row(const struct corr *, uint64_t *v);
/* A stream's state as the counters show it (suspension included). */
enum stats_sstate {
	SS_CONSUMING, SS_CONNECTING, SS_BACKOFF, SS_SUSPENDED, SS_STOPPED,
	SS_MAX
};
enum stats_sstate stats_sstate(const struct stream *);
/* Its metrics label: "consuming", "connecting", "backing_off", ... */
const char *stats_stream_label(struct stats *, size_t i);

#endif
