/*
 * hold.h: back-pressure.  A sink whose spool is full holds the acks of
 * every message it waits for.  Past the stream's hold_timeout (well under
 * the broker's consumer_timeout, 30 min by default) the stream gives its
 * messages back instead: it closes its connection, so the broker requeues
 * them, and stays away until the sink takes records again, or one
 * hold_timeout later to try again.  A full dead-letter store (a malformed
 * message that cannot be kept is never acked) holds the stream the same
 * way.
 */
#ifndef AMPSTREAM_HOLD_H
#define AMPSTREAM_HOLD_H

struct config;
struct event_base;
struct hold;
struct sink;
struct stream;

/* Watch the streams of cfg (streams[i] is cfg->streams[i]) and their sinks. */
struct hold	*hold_new(struct event_base *, const struct config *,
		    struct stream **, struct sink **);
void		 hold_free(struct hold *);

#endif
