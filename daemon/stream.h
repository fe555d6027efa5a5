/*
 * stream.h: one AMQP consumer per configured event stream (rabbitmq-c),
 * driven by the shared libevent loop.
 *
 * Deliveries are handed to one callback.  Each connection has a generation
 * number: an ack for a delivery of an earlier connection is dropped, since
 * delivery tags restart at 1 on every channel and the broker has already
 * requeued those messages.
 */
#ifndef AMPSTREAM_STREAM_H
#define AMPSTREAM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct stream_conf;
struct stream;

struct stream_msg {
	uint64_t	 gen;		/* connection generation */
	uint64_t	 tag;		/* delivery tag */
	bool		 redelivered;
	bool		 truncated;	/* body longer than the bound, cut */
	const char	*body;
	size_t		 len;
};

struct stream_stats {
	uint64_t	 delivered;
	uint64_t	 acked;
	uint64_t	 redelivered;
	uint64_t	 deadlettered;	/* counted by the pipeline */
	uint64_t	 connects;
};

typedef void (*stream_msg_fn)(struct stream *, const struct stream_msg *,
    void *arg);
/* Called when a connection is lost: its unacked deliveries are void. */
typedef void (*stream_lost_fn)(struct stream *, uint64_t gen, void *arg);

struct stream	*stream_new(struct event_base *, const struct stream_conf *,
		    stream_msg_fn, stream_lost_fn, void *arg);
void		 stream_start(struct stream *);
/* Stop taking deliveries (for shutdown); acks still go out. */
void		 stream_pause(struct stream *);
/* Close the connection (the broker requeues what is unacked), stay closed. */
void		 stream_suspend(struct stream *);
/* Reconnect after stream_suspend. */
void		 stream_resume(struct stream *);
bool		 stream_suspended(const struct stream *);
void		 stream_ack(struct stream *, uint64_t gen, uint64_t tag,
		    bool multiple);
void		 stream_free(struct stream *);

const struct stream_conf *stream_conf(const struct stream *);
struct stream_stats	*stream_stats(struct stream *);
bool		 stream_connected(const struct stream *);
uint64_t	 stream_generation(const struct stream *);

#endif
