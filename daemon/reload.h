/*
 * reload.h: what a SIGHUP changes.  The plan pairs each part of the new
 * configuration with the running part it may keep: a stream or a sink of
 * the same name whose every key (and the files it names) is unchanged
 * keeps running, with its connection and its counters.  The others are
 * removed, added, or replaced (changed).  A change to what every part
 * depends on (state_dir, max_handshakes) rebuilds everything.
 */
#ifndef AMPSTREAM_RELOAD_H
#define AMPSTREAM_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

#define RELOAD_NONE	SIZE_MAX	/* no counterpart */

struct reload_plan {
	size_t	*stream_from;	/* new stream j: old index, or RELOAD_NONE */
	size_t	*stream_to;	/* old stream i: new index, or RELOAD_NONE */
	size_t	*sink_from;
	size_t	*sink_to;
	size_t	 nold_streams;	/* stream_to's length */
	size_t	 kept_streams, kept_sinks;
	bool	 full;		/* nothing can be kept */
	bool	 corr_same;	/* keep the correlation table as it is */
	bool	 metrics_same;	/* keep the endpoint (and its socket) */
};

struct reload_plan *reload_plan_new(const struct config *old,
		    const struct config *new);
void		 reload_plan_free(struct reload_plan *);
/* One line for the log: "kept 3 streams and 2 sinks; added ...". */
void		 reload_plan_log(const struct reload_plan *,
		    const struct config *old, const struct config *new);

#endif
