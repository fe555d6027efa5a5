/*
 * sink_int.h: struct sink itself, shared by sink.c (the queue, the table)
 * and sink_spool.c (the disk spool in front of a down sink).  Nobody else
 * includes it.
 */
#ifndef AMPSTREAM_SINK_INT_H
#define AMPSTREAM_SINK_INT_H

#include "sink_kind.h"

struct spool;

struct sink {
	const struct sink_conf	*conf;
	const struct sink_ops	*ops;
	struct event_base	*base;
	struct evdns_base	*dns;
	void			*priv;		/* the kind's own state */
	uint64_t		*ctr;		/* SSK_* counters, not ours */
	struct sink_recq	 pending;	/* submitted, not yet taken */
	bool			 up;
	struct event		*flush_ev;
	struct spool		*spool;		/* NULL: this sink never spools */
	struct sink_recq	 spooling;	/* to append at the next flush */
	uint64_t		 replaying;	/* spool records handed to the kind */
	bool			 blocked;	/* spool full or failing */
	time_t			 blocked_since;	/* monotonic seconds */
	struct event		*retry_ev;	/* retry a blocked spool */
};

/* sink_spool.c */
int		 sink_spool_open(struct sink *, const char *state_dir,
		    char **cause);
bool		 sink_should_spool(const struct sink *);
/* Before the kind's flush: spool what waits, then refill from the spool. */
void		 sink_spool_flush(struct sink *);
/* The sink went down: what is pending is spooled instead. */
void		 sink_pending_to_spool(struct sink *);
/* sink.c */
void		 sink_cancel_queue(struct sink *, struct sink_recq *);

#endif
