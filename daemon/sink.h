/*
 * sink.h: where records go.  A sink takes ready bytes (formatted and framed
 * elsewhere) and reports, per record, when it has *accepted* it: written and
 * fsync'd (file), or acknowledged by the peer's TCP (tcp).  Only then may the
 * AMQP message behind the record be acknowledged.
 *
 * A sink that can be down (tcp, tls, syslog) may have a disk spool: while it
 * is down, and until its spool is empty again, records are appended to the
 * spool and accepted once it is fsync'd (one fsync per batch), then replayed
 * in order when the sink is back and removed from the spool only once the
 * kind accepted them.  When the spool is full the records wait in memory,
 * holding their acks, so consumption stops (prefetch) instead of anything
 * dropping: the sink is "blocked".
 *
 * The struct is opaque: the kinds (sink_<kind>.c) see it through
 * sink_kind.h, everyone else through the functions below.
 */
#ifndef AMPSTREAM_SINK_H
#define AMPSTREAM_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct event_base;
struct evdns_base;
struct sink_conf;
struct sink;

enum sink_result {
	SINK_OK,		/* accepted: the message may be acked */
	SINK_FATAL,		/* can never be accepted (the caller dead-letters) */
	SINK_CANCELLED,		/* sink closed first: leave the message unacked */
};

typedef void (*sink_done_fn)(void *arg, enum sink_result);

/* Is there a sink kind of that name in this build? */
bool		 sink_type_known(const char *type);

/*
 * state_dir holds the sink's spool (state_dir/spool/NAME), if it has one.
 * ctr is the sink's row of counters (stats.h STATS_SINK_ROW), kept by the
 * caller.
 */
struct sink	*sink_new(struct event_base *, struct evdns_base *,
		    const struct sink_conf *, const char *state_dir,
		    uint64_t *ctr, char **cause);
/* Close; whatever was not accepted is finished as SINK_CANCELLED. */
void		 sink_free(struct sink *);
/* Reopen what the sink writes by path (a file sink after logrotate). */
void		 sink_reopen(struct sink *);
/* Queue a record (data is taken over); done is called exactly once. */
void		 sink_submit(struct sink *, char *data, size_t len,
		    sink_done_fn done, void *arg);

const struct sink_conf *sink_conf(const struct sink *);
void		 sink_rebind(struct sink *, const struct sink_conf *);
bool		 sink_up(const struct sink *);
bool		 sink_has_spool(const struct sink *);
/* Spool full or failing: true, and since when (monotonic seconds). */
bool		 sink_blocked(const struct sink *, time_t *since);
/* Give back the records waiting for a full spool (their messages stay unacked). */
void		 sink_drop_spooling(struct sink *);
/* Records in the spool now (0 without one). */
uint64_t	 sink_spool_records(const struct sink *);
uint64_t	 sink_spool_bytes(const struct sink *);

#endif
