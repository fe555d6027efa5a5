/*
 * stream.h: one AMQP consumer per configured event stream (rabbitmq-c),
 * driven by the shared libevent loop.
 *
 * Each message is handed up with its delivery (ack.h).  The stream owns the
 * deliveries and their acks: whoever makes records of a message holds its
 * delivery once per record and releases it when the record is accepted (or
 * not); once every hold is released the stream acks the message, batching
 * the acks of one loop turn.  Each connection has a generation: an ack for
 * a delivery of an earlier connection is dropped, since delivery tags
 * restart at 1 on every channel and the broker has already requeued those
 * messages.
 */
#ifndef AMPSTREAM_STREAM_H
#define AMPSTREAM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct connector;
struct deadletter;
struct event_base;
struct stream_conf;
struct stream;
struct delivery;

/*
 * A message body (len bytes, at most the stream's max_message, not
 * NUL-terminated) and its delivery, held once for the callee, who must
 * release it.  body is valid during the call only.  A bigger body never
 * comes up: the stream writes it to its dead letters as it arrives.
 */
typedef void (*stream_msg_fn)(struct stream *, const char *body, size_t len,
    struct delivery *, void *arg);

enum stream_state {
	STREAM_CONNECTING,	/* a handshake is under way (or queued) */
	STREAM_CONSUMING,
	STREAM_BACKOFF,		/* waiting to try again */
	STREAM_STOPPED		/* closed: suspended, or stopping */
};

/*
 * ctr is the stream's row of counters (status.h SST_*), dl its dead-letter
 * store (for bodies over max_message), pool the connector that makes its
 * connections off the loop: all kept by the caller.
 */
struct stream	*stream_new(struct event_base *, struct connector *pool,
		    const struct stream_conf *, struct deadletter *dl,
		    uint64_t *ctr, stream_msg_fn, void *arg);
void		 stream_start(struct stream *);
/* Stop taking deliveries (for shutdown); acks still go out. */
void		 stream_pause(struct stream *);
/* Stop (on) or go on (off) reading deliveries; the connection stays. */
void		 stream_hold(struct stream *, bool on);
void		 stream_rebind(struct stream *, const struct stream_conf *,
		    void *arg);
/*
 * Close the connection (the broker requeues what is unacked), stay closed;
 * why, a static string, is the state status.json shows meanwhile.
 */
void		 stream_suspend(struct stream *, const char *why);
/* Reconnect after stream_suspend. */
void		 stream_resume(struct stream *);
bool		 stream_suspended(const struct stream *);
const char	*stream_suspended_why(const struct stream *);
bool		 stream_connected(const struct stream *);
/*
 * Was a message of this connection refused (not acked, as when the dead
 * letters could not take it)?  Only a new connection gets it again.
 */
bool		 stream_refused(const struct stream *);
enum stream_state stream_state(const struct stream *);
/* Why the last attempt or connection failed ("" if it did not). */
const char	*stream_last_error(const struct stream *);
/* When backing off: the next attempt, epoch ms. */
int64_t		 stream_next_attempt_ms(const struct stream *);
/* Failed attempts of one kind (enum connector_reason, connector.h). */
uint64_t	 stream_connect_failures(const struct stream *, int reason);
/* Send every ack that can be sent now. */
void		 stream_flush_acks(struct stream *);
/* True when no delivery is held. */
bool		 stream_idle(const struct stream *);
/* Close the connection for good; stream_free once nothing holds a delivery. */
void		 stream_close(struct stream *);
void		 stream_free(struct stream *);
const struct stream_conf *stream_conf(const struct stream *);
/* The stream's store of messages that are not events (deadletter.h). */
struct deadletter *stream_deadletter(const struct stream *);

#endif
