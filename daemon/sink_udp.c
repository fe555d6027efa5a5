/*
 * sink_udp.c: syslog over UDP (RFC 5426), one record per datagram, on a
 * connected non-blocking socket.  The record comes without framing (no
 * trailing LF: the datagram is the message).
 *
 * UDP is best effort: there is no acknowledgement, so a record is accepted
 * as soon as send() took it.  An ICMP "port unreachable" (ECONNREFUSED on
 * a later send or read) is counted as failed and logged once per
 * transition, and the record is accepted anyway: holding records for a
 * receiver that may never answer would stop the stream for nothing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "sink_net.h"

#define UDP_QUIET_SEC	10	/* no ICMP error this long: peer back */

enum udp_send {
	UDP_SENT,		/* accepted (sent, or given up: best effort) */
	UDP_BLOCKED,		/* socket buffer full: wait for EV_WRITE */
	UDP_TOO_BIG,		/* can never fit a datagram */
	UDP_ERROR,		/* the socket is unusable: reconnect */
};

struct udp_sink {
	struct net	 net;		/* first: this is the net's state */
	bool		 refused;	/* ICMP errors, peer not back */
	time_t		 refused_at;
};

static void	udp_readable(struct net *);
static void	udp_write(struct net *);
static enum udp_send udp_send(struct udp_sink *, const struct sink_rec *);
static bool	udp_icmp_error(int);
static void	udp_refused(struct udp_sink *, int);
static void	udp_peer_ok(struct udp_sink *);

static const struct net_kind udp_kind = {
	.socktype = SOCK_DGRAM,
	.size = sizeof(struct udp_sink),
	.ops = {
		.readable = udp_readable,
		.write = udp_write,
	},
};

const struct sink_ops sink_udp_ops = NET_SINK_OPS("udp", &udp_kind);

/* Nothing is expected back; reading collects ICMP errors early. */
static void
udp_readable(struct net *n)
{
	char	 buf[512];
	ssize_t	 r;

	while ((r = recv(n->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0 ||
	    errno == EINTR)
		;
	if (udp_icmp_error(errno))
		udp_refused((struct udp_sink *)n, errno);
}

/* Send every pending record, one datagram each. */
static void
udp_write(struct net *n)
{
	struct udp_sink	*u = (struct udp_sink *)n;
	struct sink	*s = n->sink;
	struct sink_rec	*r;
	enum udp_send	 res;

	while ((r = sink_first(s)) != NULL) {
		if ((res = udp_send(u, r)) == UDP_BLOCKED) {
			net_want_write(n);
			return;
		}
		if (res == UDP_ERROR) {
			net_disconnect(n, strerror(errno));
			return;
		}
		if (res == UDP_TOO_BIG)
			log_warnx("sink %s: a %zu-byte record does not fit "
			    "a datagram (lower max_record)", n->name, r->len);
		sink_done_first(s, res == UDP_SENT ? SINK_OK : SINK_FATAL);
	}
	net_progress(n);
}

/*
 * A pending ICMP error is reported by the next send(), which then did not
 * send: try that datagram once more before giving up on it.
 */
static enum udp_send
udp_send(struct udp_sink *u, const struct sink_rec *r)
{
	int	 tries = 0;

	while (tries < 2) {
		if (send(u->net.fd, r->data, r->len, 0) != -1) {
			udp_peer_ok(u);
			return UDP_SENT;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return UDP_BLOCKED;
		if (errno == EMSGSIZE)
			return UDP_TOO_BIG;
		if (!udp_icmp_error(errno))
			return UDP_ERROR;
		udp_refused(u, errno);
		tries++;
	}
	return UDP_SENT;
}

/* Errors that only say an earlier datagram was not taken. */
static bool
udp_icmp_error(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH ||
	    err == ENETUNREACH || err == EHOSTDOWN;
}

static void
udp_refused(struct udp_sink *u, int err)
{
	struct sink	*s = u->net.sink;

	sink_count(s, SSK_FAILED);
	u->refused_at = time(NULL);
	if (u->refused)
		return;
	u->refused = true;
	log_warnx("sink %s: %s: %s (UDP is best effort: records are not "
	    "held back)", u->net.name, u->net.peer, strerror(err));
	sink_set_up(s, false);
}

static void
udp_peer_ok(struct udp_sink *u)
{
	if (!u->refused || time(NULL) - u->refused_at < UDP_QUIET_SEC)
		return;
	u->refused = false;
	sink_set_up(u->net.sink, true);
}
