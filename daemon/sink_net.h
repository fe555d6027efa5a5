/*
 * sink_net.h: the connection machinery the socket sinks share (tcp, tls,
 * udp, syslog): resolve (evdns) or a local AF_UNIX path, non-blocking
 * connect trying each address, reconnect with backoff and jitter, one state
 * machine logged at debug level, and, for stream sockets, the "accepted only
 * when the peer's TCP acknowledged it" bookkeeping (SIOCOUTQ).
 *
 * A kind is one small description, struct net_kind, and its sink_ops come
 * from NET_SINK_OPS: open, flush and close are the net module's.  The kind's
 * state starts with a struct net.  The net module owns the socket and its
 * read/write events; the kind only writes when the state is NET_READY, and
 * tells the net module how far the byte stream went (net_sent) so records
 * can be confirmed (net_confirm).
 */
#ifndef AMPSTREAM_SINK_NET_H
#define AMPSTREAM_SINK_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "backoff.h"
#include "sink_kind.h"

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

/* A socket sink kind. */
struct net_kind {
	int		 socktype;	/* SOCK_STREAM or SOCK_DGRAM */
	bool		 local;		/* AF_UNIX at the sink's path */
	size_t		 size;		/* the kind's state, struct net first */
	/* Optional: before the first connect (check, TLS context). */
	int		(*setup)(struct net *, char **cause);
	/* Optional: stop for good (say goodbye, free what setup made). */
	void		(*teardown)(struct net *);
	struct net_ops	 ops;
};

#define NET_SINK_OPS(nm, k) {						\
	.name = (nm), .open = net_sink_open, .flush = net_sink_flush,	\
	.close = net_sink_close, .arg = (k),				\
}

struct net {
	struct sink		*sink;
	const struct net_kind	*kind;
	char			*name;		/* the sink's (a copy) */
	int			 socktype;	/* SOCK_STREAM|DGRAM */
	char			*unix_path;	/* AF_UNIX peer, or NULL */
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
	struct backoff		 backoff;
};

int	net_sink_open(struct sink *, char **cause);
void	net_sink_flush(struct sink *);
void	net_sink_close(struct sink *);
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

#endif
