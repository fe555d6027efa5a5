/*
 * sink_net.h: the connection machinery the socket sinks share (tcp, tls,
 * udp, syslog): resolve (evdns) or a local AF_UNIX path, non-blocking
 * connect trying each address, reconnect with backoff and jitter, one state
 * machine logged at debug level, and, for stream sockets, the "accepted only
 * when the peer's TCP acknowledged it" bookkeeping (SIOCOUTQ).
 *
 * A kind embeds a struct net, fills in its net_ops and calls net_start().
 * The net module owns the socket and its read/write events; the kind only
 * writes when the state is NET_READY, and tells the net module how far the
 * byte stream went (net_sent) so records can be confirmed (net_confirm).
 */
#ifndef AMPSTREAM_SINK_NET_H
#define AMPSTREAM_SINK_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sink.h"

struct event;
struct evutil_addrinfo;
struct evdns_getaddrinfo_request;

enum net_state {
	NET_IDLE,		/* waiting to (re)connect */
	NET_RESOLVING,
	NET_CONNECTING,
	NET_HANDSHAKE,		/* connected, the kind's setup (TLS) */
	NET_READY,		/* records may be written */
};

struct net;

struct net_ops {
	/* Optional: connected; call net_ready() after a handshake. */
	void	(*connected)(struct net *);
	/* Optional: the socket is readable (watched once connected). */
	void	(*readable)(struct net *);
	/* Write what is pending: once ready, when writable, on net_flush(). */
	void	(*write)(struct net *);
	/* Optional: the socket is about to be closed; free what uses it. */
	void	(*dropped)(struct net *);
};

struct net {
	struct sink		*sink;
	const struct net_ops	*ops;
	void			*arg;		/* the kind's state */
	int			 socktype;	/* SOCK_STREAM|DGRAM */
	const char		*unix_path;	/* AF_UNIX peer, or NULL */
	char			 peer[300];	/* host:port or path */
	enum net_state		 state;
	int			 fd;
	struct event		*rev;
	struct event		*wev;
	struct event		*timer;		/* retry, timeouts */
	struct evdns_getaddrinfo_request *req;
	struct evutil_addrinfo	*ai_list;	/* this attempt's */
	struct evutil_addrinfo	*ai_next;	/* the next one to try */
	struct sink_recq	 unconfirmed;	/* written, not acked */
	uint64_t		 written;	/* bytes on this connection */
	uint64_t		 acked;
	time_t			 last_progress;
	int			 backoff_ms;
};

void	net_init(struct net *, struct sink *, int socktype,
	    const char *unix_path, const struct net_ops *, void *arg);
/* Resolve (or take the path) and connect; the result comes by callback. */
void	net_start(struct net *);
void	net_enter_state(struct net *, enum net_state);
/* The kind's handshake (if any) is done: the sink is up; writes pending. */
void	net_ready(struct net *);
/* The sink's flush: write pending records if the connection is ready. */
void	net_flush(struct net *);
void	net_want_write(struct net *);
/* Move the pending head, completely written, to unconfirmed at end. */
void	net_sent(struct net *, uint64_t end);
/* Accept the unconfirmed records the peer's TCP has acknowledged. */
void	net_confirm(struct net *);
/* Drop the connection, give back what is unconfirmed, retry later. */
void	net_disconnect(struct net *, const char *why);
/* Reset the backoff after a success that is not a stream confirmation. */
void	net_progress(struct net *);
/* Stop: unconfirmed records go back to pending, the socket is closed. */
void	net_close(struct net *);

#endif
