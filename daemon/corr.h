/*
 * corr.h: correlation of "Threat Detected" with its outcome ("Threat
 * Quarantined" / "Quarantine Failure", and "Retrospective Detection" with
 * "Retrospective Quarantine" / "... Attempt Failed") by the string field
 * detection_id, in one bounded in-memory table shared by all streams.
 *
 * Nothing waits: every event is forwarded on arrival.  A detection is stored;
 * an outcome that finds its detection is forwarded as one combined record
 * carrying both events' facts; an outcome that finds none is forwarded
 * marked uncorrelated.  Entries expire after ttl seconds; when the table is
 * full the oldest entry is evicted.  With unresolved_alert set, a detection
 * still without outcome after that many seconds produces one alert.
 */
#ifndef AMPSTREAM_CORR_H
#define AMPSTREAM_CORR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct amp_event;
struct corr;
struct corr_conf;
struct event_base;

enum corr_state {
	CORR_NONE,		/* not a correlated event type */
	CORR_PENDING,		/* a detection, now waiting for its outcome */
	CORR_MATCHED,		/* an outcome joined to its detection */
	CORR_UNCORRELATED,	/* an outcome whose detection is unknown */
	CORR_UNRESOLVED,	/* the alert for a detection without outcome */
};

/*
 * The facts kept of a detection.  The strings are never NULL ("" when
 * absent), NUL-terminated and at most CORR_FIELD_MAX bytes (cut at a UTF-8
 * boundary; detection_id at most CORR_ID_MAX, a longer one is not keyed).
 * The struct is a view the module fills: its strings point into the
 * stored entry (one allocation: fixed part, then the strings packed).
 */
#define CORR_FIELD_MAX	4095	/* bytes of a string, without its NUL */
#define CORR_ID_MAX	31	/* bytes of a detection_id that is keyed */

struct corr_detection {
	const char	*detection_id;
	const char	*event_id;		/* the Threat Detected's id */
	int64_t		 detected_ms;		/* its timestamp, epoch ms */
	int64_t		 event_type_id;
	const char	*detection;		/* detection name */
	const char	*connector_guid;
	const char	*hostname;
	const char	*file_name;
	const char	*file_path;
	const char	*sha256;
	const char	*severity;
	size_t		 stream;		/* index of the stream it came on */
};

/* What a formatter needs to know about an event's correlation. */
struct corr_info {
	enum corr_state	 state;
	/* For MATCHED and UNRESOLVED: the detection. */
	const struct corr_detection *det;
	int64_t		 seconds_to_outcome;	/* MATCHED */
	const char	*outcome;		/* MATCHED: "quarantined" | "quarantine failed" */
};

struct corr_stats {
	uint64_t	 stored;
	uint64_t	 matched;
	uint64_t	 expired;
	uint64_t	 evicted;
	uint64_t	 unmatched;	/* outcomes with no detection */
	uint64_t	 duplicates;	/* a detection seen again (redelivery) */
	uint64_t	 alerts;	/* unresolved alerts emitted */
	size_t		 entries;	/* now in the table */
};

/*
 * Called once for each detection that reached unresolved_alert without
 * outcome; the entry stays (its outcome may still match within ttl).  The
 * detection is valid during the call only.  The callback must not call
 * corr_observe, corr_load or corr_free.
 */
typedef void (*corr_alert_fn)(const struct corr_detection *, void *arg);
/*
 * Fill ev with the alert for det raised at now_ms: event_type "Unresolved
 * Detection", event_type_id 0 (ampstream's own), timestamp now_ms / 1000,
 * and the detection's facts, an empty one absent (NULL), its strings those
 * of det; ev->body is the same event as AMP-shaped JSON, for the JSON
 * formatter.  It is what parsing that JSON would give.  Valid while det is;
 * event_clear frees it.
 */
void		 corr_alert_event(const struct corr_detection *,
		    int64_t now_ms, struct amp_event *);

/*
 * With a NULL event_base there is no timer: the caller calls corr_tick.
 * Times (now_ms) are epoch ms of the wall clock (CLOCK_REALTIME), the clock
 * the timer uses; ages, ttl and unresolved_alert count from arrival.
 */
struct corr	*corr_new(struct event_base *, const struct corr_conf *,
		    corr_alert_fn, void *arg);
void		 corr_free(struct corr *);
void		 corr_rebind(struct corr *, corr_alert_fn, void *arg,
		    const size_t *map, size_t nmap);
/*
 * Classify ev (which arrived on stream index `stream` at now_ms) and update
 * the table; fills *info.  info->det (its strings in a stored entry, or for
 * CORR_MATCHED in the entry just taken out of the table) stays valid until
 * the next corr_observe, corr_tick, corr_load or corr_free.  An outcome
 * arriving before its detection is CORR_UNCORRELATED (nothing waits); that
 * detection, arriving later, is
 * stored as CORR_PENDING as usual.  A redelivered detection (same event id)
 * is CORR_PENDING again but not stored twice.
 */
void		 corr_observe(struct corr *, const struct amp_event *,
		    size_t stream, int64_t now_ms, struct corr_info *info);
/* Expire and alert now (the module's timer calls this too). */
void		 corr_tick(struct corr *, int64_t now_ms);
const struct corr_stats *corr_stats(const struct corr *);
/*
 * Save the table to path (atomically, mode 0600), or load it back into a
 * fresh table (bounded, checked): a missing file returns 0, a bad one is
 * logged and ignored (-1, the table empty and usable).
 */
int		 corr_save(const struct corr *, const char *path);
int		 corr_load(struct corr *, const char *path, int64_t now_ms);
/*
 * Bytes of memory one stored detection takes on average now: its one
 * allocation (entry and strings) as malloc rounds it, with malloc's header,
 * and two hash-bucket slots (the load stays between 0.5 and 1).  With no
 * entries, the figure for a detection with empty strings.
 */
size_t		 corr_entry_size(const struct corr *);

#endif
