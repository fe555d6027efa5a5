/*
 * sink_udp.c: syslog over UDP (RFC 5426), one record per datagram, on a
 * connected non-blocking socket.  The record is sent exactly as framed
 * before us (with framing "lf" its trailing LF is part of the datagram).
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
#include "sink.h"
#include "sink_net.h"

#define UDP_QUIET_SEC	10	/* no ICMP error this long: peer back */

enum udp_send {
	UDP_SENT,		/* accepted (sent, or given up: best effort) */
	UDP_BLOCKED,		/* socket buffer full: wait for EV_WRITE */
	UDP_TOO_BIG,		/* can never fit a datagram */
	UDP_ERROR,		/* the socket is unusable: reconnect */
};

struct udp_sink {
	struct net	 net;
	bool		 refused;	/* ICMP errors, peer not back */
	time_t		 refused_at;
};

static int	udp_open(struct sink *, char **);
static void	udp_flush(struct sink *);
static void	udp_close(struct sink *);
static void	udp_readable(struct net *);
static void	udp_write(struct net *);
static enum udp_send udp_send(struct udp_sink *, const struct sink_rec *);
static bool	udp_icmp_error(int);
static void	udp_refused(struct udp_sink *, int);
static void	udp_peer_ok(struct udp_sink *);

const struct sink_ops sink_udp_ops = {
	.name = "udp",
	.open = udp_open,
	.flush = udp_flush,
	.close = udp_close,
};

static const struct net_ops udp_net_ops = {
	.readable = udp_readable,
	.write = udp_write,
};

static int
udp_open(struct sink *s, char **cause __unused)
{
	struct udp_sink	*u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		fatal("%s", __func__);
	net_init(&u->net, s, SOCK_DGRAM, NULL, &udp_net_ops, u);
	s->priv = u;
	net_start(&u->net);
	return 0;
}

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
		udp_refused(n->arg, errno);
}

static void
udp_flush(struct sink *s)
{
	struct udp_sink	*u = s->priv;

	net_flush(&u->net);
}

/* Send every pending record, one datagram each. */
static void
udp_write(struct net *n)
{
	struct udp_sink	*u = n->arg;
	struct sink	*s = n->sink;
	struct sink_rec	*r;
	enum udp_send	 res;

	while ((r = TAILQ_FIRST(&s->pending)) != NULL) {
		if ((res = udp_send(u, r)) == UDP_BLOCKED) {
			net_want_write(n);
			return;
		}
		if (res == UDP_ERROR) {
			net_disconnect(n, strerror(errno));
			return;
		}
		TAILQ_REMOVE(&s->pending, r, entry);
		s->npending--;
		if (res == UDP_TOO_BIG)
			log_warnx("sink %s: a %zu-byte record does not fit "
			    "a datagram (lower max_record)", s->conf->name,
			    r->len);
		sink_rec_finish(s, r, res == UDP_SENT ? SINK_OK : SINK_FATAL);
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

	s->stats.failed++;
	u->refused_at = time(NULL);
	if (u->refused)
		return;
	u->refused = true;
	log_warnx("sink %s: %s: %s (UDP is best effort: records are not "
	    "held back)", s->conf->name, u->net.peer, strerror(err));
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

static void
udp_close(struct sink *s)
{
	struct udp_sink	*u = s->priv;

	if (u == NULL)
		return;
	net_close(&u->net);
	free(u);
	s->priv = NULL;
}
