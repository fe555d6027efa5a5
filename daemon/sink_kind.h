/*
 * sink_kind.h: what a sink kind (sink_<kind>.c) sees of a sink: its ops
 * table, its configuration and loop, and the verbs on its queue of pending
 * records.  The kind takes records from the head in order and finishes each
 * exactly once; nothing else of struct sink is its business.
 */
#ifndef AMPSTREAM_SINK_KIND_H
#define AMPSTREAM_SINK_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "sink.h"
#include "status.h"

/* One record on its way through a sink. */
struct sink_rec {
	TAILQ_ENTRY(sink_rec) entry;	/* the kind's, once taken */
	char		*data;		/* owned */
	size_t		 len;
	uint64_t	 end;		/* tcp, tls: stream offset past it */
	sink_done_fn	 done;
	void		*arg;
	bool		 replay;	/* read back from the spool */
	bool		 spooled;	/* accepted by the spool, not the peer */
	int64_t		 submitted_ms;	/* wall clock, for the latency */
};
TAILQ_HEAD(sink_recq, sink_rec);

struct sink_ops {
	const char	*name;
	int		(*open)(struct sink *, char **cause);
	/* Write what is pending; called once per loop turn after submits. */
	void		(*flush)(struct sink *);
	/* Stop, giving back what is not accepted (sink_putback). */
	void		(*close)(struct sink *);
	/* Reopen files by their path (SIGUSR1); NULL: nothing to reopen. */
	void		(*reopen)(struct sink *);
	const void	*arg;		/* the kind's description, if any */
};

extern const struct sink_ops sink_syslog_ops;
extern const struct sink_ops sink_udp_ops;
extern const struct sink_ops sink_tcp_ops;
extern const struct sink_ops sink_tls_ops;
extern const struct sink_ops sink_file_ops;

/* A sink of a kind outside the table (tests); otherwise as sink_new. */
struct sink	*sink_new_kind(const struct sink_ops *, struct event_base *,
		    struct evdns_base *, const struct sink_conf *,
		    const char *state_dir, uint64_t *ctr, char **cause);

struct event_base *sink_base(const struct sink *);
struct evdns_base *sink_dns(const struct sink *);
const void	*sink_kind_arg(const struct sink *);
void		*sink_priv(const struct sink *);
void		 sink_set_priv(struct sink *, void *);

/* The oldest pending record (NULL: none), and the one after r. */
struct sink_rec	*sink_first(struct sink *);
struct sink_rec	*sink_next(struct sink_rec *);
/* Unlink the oldest pending record and hand it to the kind. */
struct sink_rec	*sink_take(struct sink *);
/* Take the oldest pending record and finish it at once. */
void		 sink_done_first(struct sink *, enum sink_result);
/* Finish a record the kind took: counted, done called, freed. */
void		 sink_finish(struct sink *, struct sink_rec *,
		    enum sink_result);
/* Give a taken record back: it becomes the oldest pending one. */
void		 sink_putback(struct sink *, struct sink_rec *);
/* Up or down (logged on change); a down sink spools, if it can. */
void		 sink_set_up(struct sink *, bool up);
void		 sink_count(struct sink *, enum status_sink_ctr);

#endif
