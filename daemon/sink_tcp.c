/*
 * sink_tcp.c: syslog over TCP (RFC 6587 framing is done before us).
 *
 * A record is accepted only when the peer's TCP has acknowledged its last
 * byte (sink_net.c: SIOCOUTQ against the bytes written on the connection).
 * On any connection loss the unconfirmed records go back to the head of the
 * queue and are written again after reconnecting (duplicates are possible,
 * loss is not).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "sink_net.h"

#define TCP_IOV_MAX		64

struct tcp_sink {
	struct net	 net;		/* first: this is the net's state */
	size_t		 head_off;	/* bytes of the pending head written */
};

static void	tcp_readable(struct net *);
static void	tcp_dropped(struct net *);
static void	tcp_write(struct net *);
static size_t	tcp_fill_iov(struct tcp_sink *, struct iovec *);
static void	tcp_advance(struct tcp_sink *, size_t);

static const struct net_kind tcp_kind = {
	.socktype = SOCK_STREAM,
	.size = sizeof(struct tcp_sink),
	.ops = {
		.readable = tcp_readable,
		.write = tcp_write,
		.dropped = tcp_dropped,
	},
};

const struct sink_ops sink_tcp_ops = NET_SINK_OPS("tcp", &tcp_kind);

/* Peers send nothing we need; reading only tells us when they go away. */
static void
tcp_readable(struct net *n)
{
	char		 buf[4096];
	ssize_t		 r;

	r = read(n->fd, buf, sizeof(buf));
	if (r > 0 || (r == -1 && (errno == EAGAIN || errno == EINTR)))
		return;
	net_disconnect(n, r == 0 ? "closed by peer" : strerror(errno));
}

static void
tcp_dropped(struct net *n)
{
	struct tcp_sink	*t = (struct tcp_sink *)n;

	t->head_off = 0;
}

/* Write as much of the pending queue as the socket takes. */
static void
tcp_write(struct net *net)
{
	struct tcp_sink	*t = (struct tcp_sink *)net;
	struct iovec	 iov[TCP_IOV_MAX];
	size_t		 cnt;
	ssize_t		 n;

	while ((cnt = tcp_fill_iov(t, iov)) > 0) {
		n = writev(net->fd, iov, cnt);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			net_want_write(net);
			break;
		}
		if (n == -1) {
			net_disconnect(net, strerror(errno));
			return;
		}
		tcp_advance(t, (size_t)n);
	}
	net_confirm(net);
}

static size_t
tcp_fill_iov(struct tcp_sink *t, struct iovec *iov)
{
	struct sink_rec	*r;
	size_t		 cnt = 0, off = t->head_off;

	for (r = sink_first(t->net.sink); r != NULL; r = sink_next(r)) {
		if (cnt == TCP_IOV_MAX)
			break;
		iov[cnt].iov_base = r->data + off;
		iov[cnt].iov_len = r->len - off;
		off = 0;
		cnt++;
	}
	return cnt;
}

/* Move fully written records from pending to unconfirmed. */
static void
tcp_advance(struct tcp_sink *t, size_t n)
{
	struct sink_rec	*r;

	t->net.written += n;
	n += t->head_off;
	while ((r = sink_first(t->net.sink)) != NULL &&
	    n >= r->len) {
		n -= r->len;
		net_sent(&t->net, t->net.written - n);
	}
	t->head_off = n;
}
