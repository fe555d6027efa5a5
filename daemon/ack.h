/*
 * ack.h: which AMQP deliveries may be acknowledged, and when.  Each stream
 * keeps one queue of its deliveries; the router holds and releases them.
 *
 * A delivery is tracked from its arrival; every sink record made from it
 * holds it, and it is done when all holds are released.  ack_flush() then
 * sends as few acks as possible: one `multiple` ack over the longest run of
 * done deliveries at the head (only valid when every earlier delivery is
 * done), and single acks for done ones behind a delivery still in flight.
 * A delivery released as not accepted is never acked: it stays in the list
 * as a barrier until its connection is gone, and the broker redelivers it.
 */
#ifndef AMPSTREAM_ACK_H
#define AMPSTREAM_ACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ack_queue;
struct delivery;

typedef void (*ack_send_fn)(void *arg, uint64_t gen, uint64_t tag,
    bool multiple);
/*
 * A delivery's last hold was released: flush soon, or at once if enough
 * are waiting (released: deliveries released since the last flush).  kick
 * may be NULL.
 */
typedef void (*ack_kick_fn)(void *arg, size_t released);

/* name: the stream's, for logs. */
struct ack_queue *ack_queue_new(const char *name, ack_send_fn, ack_kick_fn,
		    void *arg);
void		 ack_queue_free(struct ack_queue *);
/* Track a delivery; it starts with one hold, for the caller. */
struct delivery	*ack_track(struct ack_queue *, uint64_t gen, uint64_t tag);
void		 ack_hold(struct delivery *);
/* Drop one hold; accepted false marks the delivery never to be acked. */
void		 ack_release(struct delivery *, bool accepted);
const char	*ack_name(const struct delivery *);
/* Send what can be sent for connection gen; returns deliveries acked. */
size_t		 ack_flush(struct ack_queue *, uint64_t gen);
/* Deliveries somebody still holds. */
size_t		 ack_held(const struct ack_queue *);
/* Does connection gen have a delivery released as not accepted? */
bool		 ack_refused(const struct ack_queue *, uint64_t gen);

#endif
