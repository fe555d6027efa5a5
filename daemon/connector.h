/*
 * connector.h: AMQP connection set-up and close, off the loop.
 *
 * rabbitmq-c's handshake is blocking (resolve, connect, TLS, login,
 * channel, qos, passive declare, consume: each step bounded by a timeout),
 * so a broker that drops SYNs or stalls mid-handshake would stop every
 * other stream.  A small pool of threads does it instead and hands a ready
 * connection to the loop; after that, frames and acks stay in the loop.  A
 * connection belongs to exactly one thread at a time: the pool's until the
 * callback, the stream's after it, the pool's again once given to
 * connector_close.
 *
 * The pool bounds how many handshakes run at once (max_handshakes), so a
 * thousand streams coming back after a broker restart queue here instead
 * of stampeding the broker.  A cancelled or abandoned handshake is never
 * waited for: its thread frees the connection when the call returns.
 * All TLS connections of a pool share one trust store per ca_file.
 */
#ifndef AMPSTREAM_CONNECTOR_H
#define AMPSTREAM_CONNECTOR_H

#include <stdint.h>

#include <amqp.h>

struct event_base;
struct stream_conf;
struct connector;
struct conn_req;

#define CONNECTOR_ERR_MAX	2048

/* Why a handshake failed, for counting (the text says more). */
enum connector_reason {
	CONN_R_CONFIG,		/* the stream's ca_file cannot be loaded */
	CONN_R_CONNECT,		/* resolve, TCP: refused, unreachable, timeout */
	CONN_R_TLS,		/* handshake, peer or name verification */
	CONN_R_LOGIN,		/* AMQP start/tune/open: refused, no answer */
	CONN_R_QUEUE,		/* channel, declare, qos, consume */
	CONN_R_MAX
};
/* "config", "connect", "tls", "login", "queue" */
extern const char *const connector_reasons[CONN_R_MAX];

/*
 * In the loop: conn is ready and consuming (error NULL), or NULL with
 * error saying what failed (peer text escaped) and reason its kind.
 * ready is the queue's message count at declare time.
 */
typedef void (*connector_fn)(amqp_connection_state_t conn, uint32_t ready,
    const char *error, enum connector_reason reason, void *arg);

struct connector *connector_new(struct event_base *, int nthreads);
/*
 * Stop: queued handshakes are dropped, running ones abandoned.  Waits at
 * most wait_ms for queued graceful closes, then returns.
 */
void		 connector_free(struct connector *, int wait_ms);

/* Start a handshake; conf is copied. fn is called once, unless cancelled. */
struct conn_req	*connector_open(struct connector *, const struct stream_conf *,
		    connector_fn, void *arg);
/* Never call back; a connection that comes of it is closed by the pool. */
void		 connector_cancel(struct conn_req *);
/* "broker closed the connection: 320 TEXT", the broker's text escaped. */
void		 connector_close_str(char *, size_t, const char *what,
		    uint16_t code, amqp_bytes_t text);
/* Close conn gracefully (connection.close, close-ok) off the loop, free it. */
void		 connector_close(struct connector *, amqp_connection_state_t);

#endif
