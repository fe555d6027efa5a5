/*
 * sink.h: where records go.  A sink takes ready bytes (formatted and framed
 * elsewhere) and reports, per record, when it has *accepted* it: written and
 * fsync'd (file), or acknowledged by the peer's TCP (tcp).  Only then may the
 * AMQP message behind the record be acknowledged.
 *
 * A sink that can be down (tcp, tls, syslog) has a disk spool: while it is
 * down, and until its spool is empty again, records are appended to the spool
 * and accepted once it is fsync'd (one fsync per batch), then replayed in
 * order when the sink is back and removed from the spool only once the kind
 * accepted them.  When the spool is full the records wait in memory, holding
 * their acks, so consumption stops (prefetch) instead of anything dropping.
 *
 * Each kind lives in sink_<kind>.c and exports one const struct sink_ops.
 */
#ifndef AMPSTREAM_SINK_H
#define AMPSTREAM_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

struct event_base;
struct evdns_base;
struct spool;
struct sink_conf;
struct sink;

enum sink_result {
	SINK_OK,		/* accepted: the message may be acked */
	SINK_FATAL,		/* can never be accepted (the caller dead-letters) */
	SINK_CANCELLED,		/* sink closed first: leave the message unacked */
};

typedef void (*sink_done_fn)(void *arg, enum sink_result);

/* One record on its way through a sink. */
struct sink_rec {
	TAILQ_ENTRY(sink_rec) entry;
	char		*data;		/* owned */
	size_t		 len;
	uint64_t	 end;		/* tcp, tls: stream offset past it */
	sink_done_fn	 done;
	void		*arg;
	bool		 replay;	/* read back from the spool */
	bool		 spooled;	/* accepted by the spool, not the peer */
};
TAILQ_HEAD(sink_recq, sink_rec);

struct sink_stats {
	uint64_t	 sent;		/* records accepted by the peer directly */
	uint64_t	 failed;	/* write errors, refused connections */
	uint64_t	 resent;	/* records written again after a reconnect */
	uint64_t	 spooled;	/* records accepted into the disk spool */
	uint64_t	 replayed;	/* spooled records delivered later */
};

struct sink_ops {
	const char	*name;
	int		(*open)(struct sink *, char **cause);
	/* Write what is pending; called once per loop turn after submits. */
	void		(*flush)(struct sink *);
	/* Stop; sink_free then cancels what is still pending. */
	void		(*close)(struct sink *);
};

struct sink {
	const struct sink_conf	*conf;
	const struct sink_ops	*ops;
	struct event_base	*base;
	struct evdns_base	*dns;
	void			*priv;		/* the kind's own state */
	struct sink_recq	 pending;	/* submitted, not yet written */
	size_t			 npending;
	size_t			 ninflight;	/* submitted, not yet accepted */
	bool			 up;
	struct sink_stats	 stats;
	struct event		*flush_ev;
	struct spool		*spool;		/* NULL: this sink never spools */
	struct sink_recq	 spooling;	/* to append at the next flush */
	uint64_t		 replaying;	/* spool records handed to the kind */
	bool			 blocked;	/* spool full or failing */
	time_t			 blocked_since;	/* monotonic seconds */
	struct event		*retry_ev;	/* retry a blocked spool */
};

extern const struct sink_ops sink_syslog_ops;
extern const struct sink_ops sink_udp_ops;
extern const struct sink_ops sink_tcp_ops;
extern const struct sink_ops sink_tls_ops;
extern const struct sink_ops sink_file_ops;

const struct sink_ops	*sink_lookup(const char *type);

/* state_dir holds the sink's spool (state_dir/spool/NAME), if it has one. */
struct sink	*sink_new(struct event_base *, struct evdns_base *,
		    const struct sink_conf *, const char *state_dir,
		    char **cause);
void		 sink_free(struct sink *);
/* Queue a record (data is taken over); done is called exactly once. */
void		 sink_submit(struct sink *, char *data, size_t len,
		    sink_done_fn done, void *arg);
/* For the kinds: finish a record (unlinked by the caller) and free it. */
void		 sink_rec_finish(struct sink *, struct sink_rec *,
		    enum sink_result);
void		 sink_set_up(struct sink *, bool up);
/* Give back the records waiting for a full spool (their messages stay unacked). */
void		 sink_drop_spooling(struct sink *);
/* Records in the spool now (0 without one). */
uint64_t	 sink_spool_records(const struct sink *);

#endif
