/*
 * stream.c: one AMQP 0-9-1 consumer (rabbitmq-c) inside the libevent loop.
 *
 * Connecting and logging in happen off the loop (connector.c), so a broker
 * that hangs never stops the other streams; once the connection is handed
 * over, its socket is watched by libevent and frames are read without
 * blocking.  rabbitmq-c (and OpenSSL) read ahead into their own buffers, so
 * fd readiness is not enough: every wake-up drains frames until the library
 * reports it would block.  A message arrives as three kinds of frames
 * (basic.deliver, a content header, body frames) that are assembled here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>
#include <event2/event.h>

#include "ack.h"
#include "backoff.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "connector.h"
#include "deadletter.h"
#include "esc.h"
#include "log.h"
#include "status.h"
#include "stream.h"
#include "xmalloc.h"

#define STREAM_CHANNEL		1
#define STREAM_DRAIN_MAX	512	/* frames per turn, then let others run */
#define STREAM_TICK_SEC		1	/* heartbeats are sent from here */
#define STREAM_BACKOFF_MIN_MS	1000
#define STREAM_BACKOFF_MAX_MS	10000	/* bounds the recovery after an outage */
#define STREAM_BACKOFF_PCT	150	/* each delay half again the last */
#define STREAM_ACK_EVERY_MAX	250	/* acks sent at once past this many */
#define STREAM_WHY_MAX		(ESC_SIZE(255) + 64)	/* a close reason */
#define STREAM_BACKLOG_SEC	30	/* passive queue.declare at most this often */

/* The message being assembled from its frames. */
struct inbound {
	bool		 active;
	bool		 have_header;
	bool		 redelivered;
	uint64_t	 tag;
	uint64_t	 size;
	uint64_t	 received;
	bool		 spill;		/* over max_message: to the dead letters */
	int64_t		 received_ms;
	struct buf	 body;
};

struct stream {
	const struct stream_conf *conf;
	struct event_base *base;
	amqp_connection_state_t conn;
	struct connector *pool;		/* not ours */
	struct conn_req	*req;		/* a handshake under way */
	enum stream_state state;
	char		 last_error[CONNECTOR_ERR_MAX];
	int64_t		 next_ms;	/* the next attempt (epoch ms) */
	uint64_t	 failures[CONN_R_MAX];	/* failed attempts, by reason */
	struct event	*rev;
	struct event	*drain_ev;
	struct event	*tick_ev;
	struct event	*retry_ev;
	struct event	*ack_ev;	/* send the acks, once a turn */
	struct ack_queue *acks;
	uint64_t	 gen;		/* connection generation */
	bool		 connected;
	bool		 paused;
	bool		 held;		/* not reading: a reload is under way */
	bool		 suspended;
	const char	*suspended_why;	/* a static string */
	struct backoff	 backoff;
	struct inbound	 in;
	struct deadletter *dl;		/* not ours */
	uint64_t	*ctr;		/* SST_* counters, not ours */
	stream_msg_fn	 msg_cb;
	void		*arg;
	time_t		 backlog_at;	/* last declare sent (monotonic) */
	uint64_t	 backlog_gen;	/* its generation, while unanswered */
};

static void	stream_opened(amqp_connection_state_t, uint32_t,
		    const char *, enum connector_reason, void *);
static void	stream_read_cb(int, short, void *);
static void	stream_tick_cb(int, short, void *);
static void	stream_retry_cb(int, short, void *);
static void	stream_drain(struct stream *);
static int	stream_frame(struct stream *, amqp_frame_t *);
static int	stream_method(struct stream *, amqp_frame_t *);
static void	stream_body(struct stream *, amqp_bytes_t);
static void	stream_deliver(struct stream *);
static void	stream_spill_begin(struct stream *);
static void	stream_spill_end(struct stream *);
static void	stream_body_shrink(struct stream *);
static void	stream_lost(struct stream *, const char *);
static void	stream_teardown(struct stream *, bool);
static void	stream_schedule(struct stream *);
static void	stream_send_ack(void *, uint64_t, uint64_t, bool);
static void	stream_ack_cb(int, short, void *);
static void	stream_kick(void *, size_t);
static void	stream_backlog_ask(struct stream *);

struct stream *
stream_new(struct event_base *base, struct connector *pool,
    const struct stream_conf *conf, struct deadletter *dl, uint64_t *ctr,
    stream_msg_fn msg_cb, void *arg)
{
	struct stream	*st;

	st = xcalloc(1, sizeof(*st));
	st->conf = conf;
	st->base = base;
	st->pool = pool;
	st->state = STREAM_CONNECTING;
	st->ctr = ctr;
	st->msg_cb = msg_cb;
	st->arg = arg;
	st->backoff = (struct backoff)BACKOFF_INIT(STREAM_BACKOFF_MIN_MS,
	    STREAM_BACKOFF_MAX_MS, STREAM_BACKOFF_PCT);
	st->acks = ack_queue_new(conf->name, stream_send_ack, stream_kick, st);
	st->dl = dl;
	buf_init(&st->in.body, conf->max_message);
	st->drain_ev = event_new(base, -1, 0, stream_read_cb, st);
	st->tick_ev = event_new(base, -1, EV_PERSIST, stream_tick_cb, st);
	st->retry_ev = evtimer_new(base, stream_retry_cb, st);
	st->ack_ev = event_new(base, -1, 0, stream_ack_cb, st);
	if (st->drain_ev == NULL || st->tick_ev == NULL ||
	    st->retry_ev == NULL || st->ack_ev == NULL)
		fatalx("%s: event_new", __func__);
	return st;
}

void
stream_start(struct stream *st)
{
	struct timeval	 tv = { STREAM_TICK_SEC, 0 }, now = { 0, 0 };

	/* Connect from the loop, so READY=1 is not held up by a slow broker. */
	event_add(st->tick_ev, &tv);
	evtimer_add(st->retry_ev, &now);
}

static void
stream_retry_cb(int fd __unused, short ev __unused, void *arg)
{
	struct stream	*st = arg;

	if (st->paused || st->suspended || st->req != NULL || st->conn != NULL)
		return;
	st->state = STREAM_CONNECTING;
	st->req = connector_open(st->pool, st->conf, stream_opened, st);
}

/*
 * Reconnect later: backoff growing by half each time, full jitter.  The
 * loop's cached time may be a whole turn old: take the time afresh.
 */
static void
stream_schedule(struct stream *st)
{
	struct timeval	 tv;
	int		 ms;

	ms = backoff_next_full(&st->backoff, &tv);
	st->state = STREAM_BACKOFF;
	st->next_ms = clock_now_ms() + ms;
	log_info("stream %s: reconnecting in %d.%01d s", st->conf->name,
	    ms / 1000, (ms % 1000) / 100);
	event_base_update_cache_time(st->base);
	evtimer_add(st->retry_ev, &tv);
}

/* The connector's answer: a connection consuming, or why there is none. */
static void
stream_opened(amqp_connection_state_t conn, uint32_t ready, const char *error,
    enum connector_reason reason, void *arg)
{
	struct stream	*st = arg;

	st->req = NULL;
	if (conn == NULL) {
		st->ctr[SST_CONNECT_FAILURES]++;
		st->failures[reason]++;
		snprintf(st->last_error, sizeof(st->last_error), "%s", error);
		log_warnx("stream %s: %s", st->conf->name, error);
		if (!st->paused && !st->suspended)
			stream_schedule(st);
		return;
	}
	if (st->paused || st->suspended) {	/* no longer wanted */
		connector_close(st->pool, conn);
		return;
	}
	st->conn = conn;
	st->ctr[SST_BACKLOG] = ready;	/* the connector's passive declare */
	st->backlog_at = clock_mono_s();
	st->rev = event_new(st->base, amqp_get_sockfd(st->conn),
	    EV_READ | EV_PERSIST, stream_read_cb, st);
	if (!st->held)
		event_add(st->rev, NULL);
	st->connected = true;
	st->state = STREAM_CONSUMING;
	st->last_error[0] = '\0';
	st->ctr[SST_CONNECTS]++;
	log_state(LOG_LEVEL_INFO, "stream %s: consuming %s on %s:%d "
	    "(generation %llu, %u ready)", st->conf->name, st->conf->queue,
	    st->conf->host, st->conf->port, (unsigned long long)st->gen, ready);
	/* The handshake may have read deliveries ahead. */
	event_active(st->drain_ev, EV_TIMEOUT, 0);
}

static void
stream_read_cb(int fd __unused, short ev __unused, void *arg)
{
	stream_drain(arg);
}

/* Heartbeats are sent, and missed ones detected, inside the frame reader. */
static void
stream_tick_cb(int fd __unused, short ev __unused, void *arg)
{
	struct stream	*st = arg;

	if (st->connected)
		stream_drain(st);
	if (st->connected)
		stream_backlog_ask(st);
}

/*
 * The broker's backlog (messages ready in the queue): a passive
 * queue.declare sent without waiting; stream_method takes the declare-ok
 * from the frames like any other.  Not again while one is unanswered on
 * this connection.
 */
static void
stream_backlog_ask(struct stream *st)
{
	amqp_queue_declare_t req;
	time_t		 now = clock_mono_s();

	if (now - st->backlog_at < STREAM_BACKLOG_SEC ||
	    st->backlog_gen == st->gen + 1)
		return;
	memset(&req, 0, sizeof(req));
	req.queue = amqp_cstring_bytes(st->conf->queue);
	req.passive = 1;
	req.arguments = amqp_empty_table;
	st->backlog_at = now;
	if (amqp_send_method(st->conn, STREAM_CHANNEL,
	    AMQP_QUEUE_DECLARE_METHOD, &req) != AMQP_STATUS_OK) {
		stream_lost(st, "cannot send queue.declare");
		return;
	}
	st->backlog_gen = st->gen + 1;	/* 0 stays "none pending" */
}

/* Read frames until the library would block, within a budget per turn. */
static void
stream_drain(struct stream *st)
{
	struct timeval	 zero = { 0, 0 };
	amqp_frame_t	 frame;
	int		 i, status;

	if (st->held)
		return;
	for (i = 0; i < STREAM_DRAIN_MAX && st->connected; i++) {
		status = amqp_simple_wait_frame_noblock(st->conn, &frame, &zero);
		if (status == AMQP_STATUS_TIMEOUT)
			return;
		if (status != AMQP_STATUS_OK) {
			stream_lost(st, amqp_error_string2(status));
			return;
		}
		if (stream_frame(st, &frame) == -1)
			return;
		if (!st->in.active)
			amqp_maybe_release_buffers(st->conn);
	}
	if (st->connected)
		event_active(st->drain_ev, EV_TIMEOUT, 0);
}

static int
stream_frame(struct stream *st, amqp_frame_t *f)
{
	switch (f->frame_type) {
	case AMQP_FRAME_METHOD:
		return stream_method(st, f);
	case AMQP_FRAME_HEADER:
		if (!st->in.active || st->in.have_header)
			break;
		st->in.have_header = true;
		st->in.size = f->payload.properties.body_size;
		if (st->in.size > st->conf->max_message)
			stream_spill_begin(st);
		if (st->in.size == 0)
			stream_deliver(st);
		break;
	case AMQP_FRAME_BODY:
		if (st->in.active && st->in.have_header)
			stream_body(st, f->payload.body_fragment);
		break;
	}
	return 0;
}

static int
stream_method(struct stream *st, amqp_frame_t *f)
{
	amqp_basic_deliver_t *d;
	amqp_connection_close_t *cc;
	amqp_channel_close_t *ch;
	char		 why[STREAM_WHY_MAX];

	switch (f->payload.method.id) {
	case AMQP_BASIC_DELIVER_METHOD:
		d = f->payload.method.decoded;
		buf_reset(&st->in.body);
		st->in.active = true;
		st->in.have_header = false;
		st->in.tag = d->delivery_tag;
		st->in.redelivered = d->redelivered;
		st->in.size = st->in.received = 0;
		st->in.spill = false;
		st->in.received_ms = clock_now_ms();
		return 0;
	case AMQP_CONNECTION_CLOSE_METHOD:
		cc = f->payload.method.decoded;
		connector_close_str(why, sizeof(why), "connection",
		    cc->reply_code, cc->reply_text);
		break;
	case AMQP_CHANNEL_CLOSE_METHOD:
		ch = f->payload.method.decoded;
		connector_close_str(why, sizeof(why), "channel",
		    ch->reply_code, ch->reply_text);
		break;
	case AMQP_BASIC_CANCEL_METHOD:
		snprintf(why, sizeof(why), "broker cancelled the consumer");
		break;
	case AMQP_QUEUE_DECLARE_OK_METHOD:
		st->ctr[SST_BACKLOG] =
		    ((amqp_queue_declare_ok_t *)f->payload.method.decoded)->
		    message_count;
		st->backlog_gen = 0;
		return 0;
	case AMQP_CONNECTION_BLOCKED_METHOD:
		log_warnx("stream %s: broker blocked the connection",
		    st->conf->name);
		return 0;
	case AMQP_CONNECTION_UNBLOCKED_METHOD:
		log_info("stream %s: connection unblocked", st->conf->name);
		return 0;
	default:
		return 0;
	}
	stream_lost(st, why);
	return -1;
}

/*
 * A body up to max_message is kept in memory (a broker sending more than
 * the header announced is cut there: the event check refuses it); a
 * bigger one goes to the dead letters as it arrives.
 */
static void
stream_body(struct stream *st, amqp_bytes_t frag)
{
	size_t	 room = st->in.body.max - st->in.body.len;
	size_t	 n = frag.len < room ? frag.len : room;

	if (st->in.spill)
		(void)deadletter_more(st->dl, frag.bytes, frag.len);
	else
		buf_append(&st->in.body, frag.bytes, n);
	st->in.received += frag.len;
	if (st->in.received >= st->in.size)
		stream_deliver(st);
}

/*
 * Hand the message up with its delivery, which starts with one hold for the
 * callee.  A body over max_message was written to the dead letters.
 */
static void
stream_deliver(struct stream *st)
{
	struct delivery	*d;

	st->in.active = false;
	st->ctr[SST_DELIVERED]++;
	if (st->in.redelivered)
		st->ctr[SST_REDELIVERED]++;
	if (st->in.spill) {
		stream_spill_end(st);
		return;
	}
	if (st->paused)		/* never acked: the broker requeues it */
		return;
	d = ack_track(st->acks, st->gen, st->in.tag);
	st->msg_cb(st, st->in.body.data != NULL ? st->in.body.data : "",
	    st->in.body.len, d, st->arg);
	stream_body_shrink(st);
}

static void
stream_spill_begin(struct stream *st)
{
	st->in.spill = true;
	if (deadletter_begin(st->dl, "body larger than max_message",
	    st->in.received_ms, st->in.size) == -1)
		log_warnx("stream %s: a message of %llu bytes (max_message "
		    "%zu) cannot be dead-lettered: it is not acked",
		    st->conf->name, (unsigned long long)st->in.size,
		    st->conf->max_message);
}

/* The whole body is on disk: ack it; else it stays in the broker. */
static void
stream_spill_end(struct stream *st)
{
	struct delivery	*d;
	bool		 ok;

	if (st->paused) {
		deadletter_abort(st->dl);
		return;
	}
	if ((ok = deadletter_end(st->dl) == 0)) {
		st->ctr[SST_DEADLETTERED]++;
		log_warnx("stream %s: message dead-lettered: body of %llu "
		    "bytes larger than max_message (%zu)", st->conf->name,
		    (unsigned long long)st->in.size, st->conf->max_message);
	}
	d = ack_track(st->acks, st->gen, st->in.tag);
	ack_release(d, ok);
}

/* A big message's buffer is not kept for the small ones after it. */
static void
stream_body_shrink(struct stream *st)
{
	size_t	 max = st->in.body.max;

	if (st->in.body.cap > 1024 * 1024) {
		buf_free(&st->in.body);
		buf_init(&st->in.body, max);
	} else
		buf_reset(&st->in.body);
}

/*
 * A delivery was released: send the acks once this loop turn ends, or now
 * once a quarter of the prefetch window (at most 250) waits for them, so
 * that the broker never runs out of credit during a long turn.
 */
static void
stream_kick(void *arg, size_t released)
{
	struct stream	*st = arg;
	size_t		 every = (size_t)st->conf->prefetch / 4;

	if (every > STREAM_ACK_EVERY_MAX)
		every = STREAM_ACK_EVERY_MAX;
	if (released >= every && st->connected)
		stream_flush_acks(st);
	else
		event_active(st->ack_ev, EV_TIMEOUT, 0);
}

static void
stream_ack_cb(int fd __unused, short ev __unused, void *arg)
{
	stream_flush_acks(arg);
}

/* Send every ack that can be sent now. */
void
stream_flush_acks(struct stream *st)
{
	if (st->connected)
		st->ctr[SST_ACKED] += ack_flush(st->acks, st->gen);
}

bool
stream_idle(const struct stream *st)
{
	return ack_held(st->acks) == 0;
}

/* The ack queue's sender; one of an older connection is void. */
static void
stream_send_ack(void *arg, uint64_t gen, uint64_t tag, bool multiple)
{
	struct stream	*st = arg;
	int	 status;

	if (!st->connected || gen != st->gen) {
		log_debug("%s: stream %s: dropping ack %llu of generation %llu",
		    __func__, st->conf->name, (unsigned long long)tag,
		    (unsigned long long)gen);
		return;
	}
	status = amqp_basic_ack(st->conn, STREAM_CHANNEL, tag, multiple);
	if (status != AMQP_STATUS_OK)
		stream_lost(st, amqp_error_string2(status));
}

/* The connection is gone: its deliveries are void, reconnect later. */
static void
stream_lost(struct stream *st, const char *why)
{
	snprintf(st->last_error, sizeof(st->last_error), "connection lost: %s",
	    why);
	log_state(LOG_LEVEL_WARN, "stream %s: connection to %s:%d lost: %s",
	    st->conf->name, st->conf->host, st->conf->port, why);
	stream_teardown(st, false);
	/* The next flush frees what is finished of the lost generation. */
	event_active(st->ack_ev, EV_TIMEOUT, 0);
	if (!st->paused && !st->suspended)
		stream_schedule(st);
}

/*
 * Let go of the connection: graceful hands it to the connector to close
 * (connection.close, close-ok) off the loop.  A handshake under way is
 * cancelled.
 */
static void
stream_teardown(struct stream *st, bool graceful)
{
	if (st->req != NULL)
		connector_cancel(st->req);
	st->req = NULL;
	if (st->rev != NULL)
		event_free(st->rev);
	st->rev = NULL;
	event_del(st->drain_ev);
	if (st->connected) {
		st->gen++;
		if (st->ctr[SST_DELIVERED] > 0)
			backoff_reset(&st->backoff);
	}
	if (st->in.active && st->in.spill)	/* it will come again */
		deadletter_abort(st->dl);
	st->in.active = false;
	if (st->conn != NULL && graceful && st->connected)
		connector_close(st->pool, st->conn);
	else if (st->conn != NULL)
		amqp_destroy_connection(st->conn);
	st->connected = false;
	st->conn = NULL;
	st->state = STREAM_STOPPED;
}

void
stream_pause(struct stream *st)
{
	st->paused = true;
	evtimer_del(st->retry_ev);
}

/*
 * A reload: stop reading (what the broker sends waits in the socket and
 * the queue; the connection, its acks and deliveries stay), and go on.
 */
void
stream_hold(struct stream *st, bool on)
{
	if (st->held == on)
		return;
	st->held = on;
	if (st->rev == NULL)
		return;
	if (on)
		event_del(st->rev);
	else {
		event_add(st->rev, NULL);
		event_active(st->drain_ev, EV_TIMEOUT, 0);
	}
}

/* A reload kept this stream: its equal configuration, its new lane. */
void
stream_rebind(struct stream *st, const struct stream_conf *conf, void *arg)
{
	st->conf = conf;
	st->arg = arg;
}

void
stream_suspend(struct stream *st, const char *why)
{
	if (st->suspended)
		return;
	st->suspended = true;
	st->suspended_why = why;
	evtimer_del(st->retry_ev);
	stream_teardown(st, true);
}

void
stream_resume(struct stream *st)
{
	struct timeval	 now = { 0, 0 };

	if (!st->suspended)
		return;
	st->suspended = false;
	backoff_reset(&st->backoff);
	if (!st->paused)
		evtimer_add(st->retry_ev, &now);
}

bool
stream_suspended(const struct stream *st)
{
	return st->suspended;
}

const char *
stream_suspended_why(const struct stream *st)
{
	return st->suspended ? st->suspended_why : NULL;
}

/* Close the connection for good (the broker requeues what is unacked). */
void
stream_close(struct stream *st)
{
	st->paused = true;
	evtimer_del(st->retry_ev);
	stream_teardown(st, true);
}

/* After every record holding a delivery was finished (sinks freed). */
void
stream_free(struct stream *st)
{
	if (st == NULL)
		return;
	stream_teardown(st, true);
	ack_queue_free(st->acks);
	event_free(st->drain_ev);
	event_free(st->tick_ev);
	event_free(st->retry_ev);
	event_free(st->ack_ev);
	buf_free(&st->in.body);
	free(st);
}

struct deadletter *
stream_deadletter(const struct stream *st)
{
	return st->dl;
}

const struct stream_conf *
stream_conf(const struct stream *st)
{
	return st->conf;
}

bool
stream_connected(const struct stream *st)
{
	return st->connected;
}

bool
stream_refused(const struct stream *st)
{
	return st->connected && ack_refused(st->acks, st->gen);
}

enum stream_state
stream_state(const struct stream *st)
{
	return st->state;
}

const char *
stream_last_error(const struct stream *st)
{
	return st->last_error;
}

int64_t
stream_next_attempt_ms(const struct stream *st)
{
	return st->next_ms;
}

uint64_t
stream_connect_failures(const struct stream *st, int reason)
{
	return reason >= 0 && reason < CONN_R_MAX ? st->failures[reason] : 0;
}
