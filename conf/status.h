/*
 * status.h: the daemon's counters as a JSON file, state_dir/status.json,
 * rewritten atomically with every STATUS= update; `ampstreamctl status`
 * reads it.  The same numbers as the STATUS= line, per stream and sink.
 */
#ifndef AMPSTREAM_STATUS_H
#define AMPSTREAM_STATUS_H

#include <stddef.h>

struct buf;
struct json_object;

/*
 * The counters, one table for the daemon that writes them and for
 * ampstreamctl that reads them: a counter is named here once.  Each part's
 * counters are an array indexed by these enums (stats.c in the daemon).
 */
enum status_stream_ctr {
	SST_DELIVERED, SST_ACKED, SST_REDELIVERED, SST_DEADLETTERED,
	SST_CONNECTS, SST_CONNECT_FAILURES, SST_DL_BYTES, SST_BACKLOG,
	SST_LAST_EVENT, SST_LAG_MS, SST_MAX
};
enum status_sink_ctr {
	SSK_SENT, SSK_FAILED, SSK_RESENT, SSK_SPOOLED, SSK_REPLAYED,
	SSK_IN_SPOOL, SSK_SPOOL_BYTES, SSK_SPOOL_AGE, SSK_MAX
};
enum status_corr_ctr {
	SCO_ENTRIES, SCO_STORED, SCO_MATCHED, SCO_UNMATCHED, SCO_EXPIRED,
	SCO_EVICTED, SCO_DUPLICATES, SCO_ALERTS, SCO_MAX
};

struct status_counter {
	const char	*key;		/* in status.json and the stop line */
	const char	*label;		/* for people: STATUS=, ampstreamctl */
};

extern const struct status_counter status_stream_ctrs[SST_MAX];
extern const struct status_counter status_sink_ctrs[SSK_MAX];
extern const struct status_counter status_corr_ctrs[SCO_MAX];

/*
 * Append the counters which[0..n) of object o (tab names them) to b, joined
 * by ", ": "12 delivered" (value_first) or "delivered 12".
 */
void	status_ctrs(struct buf *b, struct json_object *o,
	    const struct status_counter *tab, const int *which, size_t n,
	    int value_first);

/* The sections of status.json. */
#define STATUS_STREAMS		"streams"
#define STATUS_SINKS		"sinks"
#define STATUS_CORR		"correlation"

#define STATUS_FILE	"status.json"
#define STATUS_MAX	(1024 * 1024)	/* a bigger file is not ours */

/* Write o to state_dir/status.json (tmp + rename).  0, or -1 (logged). */
int	status_write(const char *state_dir, struct json_object *o);

/* The one-line STATUS= text of the same counters, appended to b. */
void	status_line(struct json_object *o, struct buf *b);

/* Read and parse state_dir/status.json: NULL with *cause set on failure. */
struct json_object *status_read(const char *state_dir, char **cause);

#endif
