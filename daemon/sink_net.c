/*
 * sink_net.c: connection handling shared by the socket sinks.
 *
 * A stream record is accepted only when the peer's TCP has acknowledged its
 * last byte: write() succeeding proves nothing while the link is
 * partitioned.  The kind reports the byte offset just past each record it
 * finished writing (net_sent); we ask the kernel how many bytes are still
 * unacknowledged (SIOCOUTQ), and records whose end lies below the
 * acknowledged mark are done.  On any connection loss the unconfirmed
 * records go back to the head of the pending queue and are written again
 * after reconnecting (duplicates are possible, loss is not).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/sockios.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "backoff.h"
#include "config.h"
#include "log.h"
#include "sink_net.h"
#include "xmalloc.h"

#define NET_CONNECT_SEC		10	/* connect plus handshake */
/* The kernel gives up on unacknowledged data after NET_USER_TIMEOUT_MS; we
 * give up after NET_STALL_SEC without any acknowledgement. */
#define NET_USER_TIMEOUT_MS	30000
#define NET_STALL_SEC		60
#define NET_CONFIRM_USEC	2000	/* poll SIOCOUTQ this often */
#define NET_BACKOFF_MIN_MS	250
#define NET_BACKOFF_MAX_MS	30000
#define NET_BACKOFF_PCT		200	/* doubling */

static void	net_start(struct net *);
static void	net_close(struct net *);
static void	net_resolve(struct net *);
static void	net_resolved_cb(int, struct evutil_addrinfo *, void *);
static void	net_connect_unix(struct net *);
static void	net_try_next(struct net *, const char *);
static void	net_next_or_fail(struct net *, const char *);
static int	net_connect(struct net *, int, const struct sockaddr *,
		    socklen_t);
static void	net_setsockopts(struct net *);
static void	net_connected(struct net *);
static void	net_write_cb(int, short, void *);
static void	net_read_cb(int, short, void *);
static void	net_timer_cb(int, short, void *);
static void	net_schedule_reconnect(struct net *);
static void	net_requeue(struct net *, bool);
static int	net_collect_acked(struct net *);
static void	net_drop_fd(struct net *);
static void	net_free_ai(struct net *);

static const char *const net_state_names[] = {
	"idle", "resolving", "connecting", "handshake", "ready",
};

/*
 * The sink_ops of every socket kind: the kind's state (kind->size bytes,
 * starting with its struct net) is made here from its description.
 */
int
net_sink_open(struct sink *s, char **cause)
{
	const struct net_kind *k = sink_kind_arg(s);
	const struct sink_conf *sc = sink_conf(s);
	struct net	*n;

	n = xcalloc(1, k->size);
	n->sink = s;
	n->kind = k;
	n->name = xstrdup(sc->name);
	n->socktype = k->socktype;
	n->unix_path = k->local ? xstrdup(sc->path) : NULL;
	n->fd = -1;
	n->backoff = (struct backoff)BACKOFF_INIT(NET_BACKOFF_MIN_MS,
	    NET_BACKOFF_MAX_MS, NET_BACKOFF_PCT);
	if (n->unix_path != NULL)
		snprintf(n->peer, sizeof(n->peer), "%s", n->unix_path);
	else
		snprintf(n->peer, sizeof(n->peer), "%s:%d", sc->host, sc->port);
	TAILQ_INIT(&n->unconfirmed);
	if (k->setup != NULL && k->setup(n, cause) == -1) {
		free(n->name);
		free(n->unix_path);
		free(n);
		return -1;
	}
	if ((n->timer = evtimer_new(sink_base(s), net_timer_cb, n)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	sink_set_priv(s, n);
	net_start(n);
	return 0;
}

void
net_sink_flush(struct sink *s)
{
	net_flush(sink_priv(s));
}

/* Unconfirmed records go back to pending, where sink_free cancels them. */
void
net_sink_close(struct sink *s)
{
	struct net	*n = sink_priv(s);

	if (n == NULL)
		return;
	if (n->kind->teardown != NULL)
		n->kind->teardown(n);
	net_close(n);
	free(n->name);
	free(n->unix_path);
	free(n);
	sink_set_priv(s, NULL);
}

/* Every state change goes through here, so the debug log tells the story. */
void
net_enter_state(struct net *n, enum net_state st)
{
	log_debug("%s: sink %s: %s -> %s", __func__, n->name,
	    net_state_names[n->state], net_state_names[st]);
	n->state = st;
}

/* Resolve (or take the path) and connect; the result comes by callback. */
static void
net_start(struct net *n)
{
	if (n->unix_path != NULL)
		net_connect_unix(n);
	else
		net_resolve(n);
}

/* Look the host up (asynchronously, unless it is numeric). */
static void
net_resolve(struct net *n)
{
	struct evutil_addrinfo hints;
	char		 port[16];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = n->socktype;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(port, sizeof(port), "%d", sink_conf(n->sink)->port);
	net_enter_state(n, NET_RESOLVING);
	/* The callback may run before this returns (numeric hosts). */
	n->req = evdns_getaddrinfo(sink_dns(n->sink), sink_conf(n->sink)->host,
	    port, &hints, net_resolved_cb, n);
}

/* Try the addresses in the order the resolver gave them. */
static void
net_resolved_cb(int err, struct evutil_addrinfo *ai, void *arg)
{
	struct net	*n = arg;

	if (err == EVUTIL_EAI_CANCEL)	/* n may be gone already */
		return;
	n->req = NULL;
	if (err != 0) {
		net_disconnect(n, evutil_gai_strerror(err));
		return;
	}
	n->ai_list = n->ai_next = ai;
	net_try_next(n, "no address");
}

/* Connect to the local socket at unix_path (immediate for datagrams). */
static void
net_connect_unix(struct net *n)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(n->unix_path) >= sizeof(sun.sun_path)) {
		net_disconnect(n, "path too long");
		return;
	}
	memcpy(sun.sun_path, n->unix_path, strlen(n->unix_path));
	if (net_connect(n, AF_UNIX, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1)
		net_disconnect(n, strerror(errno));
}

/* Connect to the next resolved address; fail once all were tried. */
static void
net_try_next(struct net *n, const char *why)
{
	struct evutil_addrinfo *a;

	while ((a = n->ai_next) != NULL) {
		n->ai_next = a->ai_next;
		if (net_connect(n, a->ai_family, a->ai_addr,
		    (socklen_t)a->ai_addrlen) == 0)
			return;
		why = strerror(errno);
	}
	net_disconnect(n, why);
}

/* Start a non-blocking connect; completion is reported by the write event. */
static int
net_connect(struct net *n, int family, const struct sockaddr *sa,
    socklen_t len)
{
	struct timeval	 tv = { NET_CONNECT_SEC, 0 };
	int		 saved;

	n->fd = socket(family, n->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd == -1)
		return -1;
	if (family != AF_UNIX && n->socktype == SOCK_STREAM)
		net_setsockopts(n);
	n->wev = event_new(sink_base(n->sink), n->fd, EV_WRITE, net_write_cb,
	    n);
	if (connect(n->fd, sa, len) == 0) {
		net_connected(n);
		return 0;
	}
	if (errno != EINPROGRESS) {
		saved = errno;
		net_drop_fd(n);
		errno = saved;
		return -1;
	}
	net_enter_state(n, NET_CONNECTING);
	event_add(n->wev, NULL);
	evtimer_add(n->timer, &tv);
	return 0;
}

static void
net_setsockopts(struct net *n)
{
	int	 one = 1, uto = NET_USER_TIMEOUT_MS;

	setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(n->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(n->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
}

/* The socket is connected: watch it, and let the kind take over. */
static void
net_connected(struct net *n)
{
	struct timeval	 tv = { NET_CONNECT_SEC, 0 };

	net_free_ai(n);
	n->written = n->acked = 0;
	n->last_progress = time(NULL);
	if (n->kind->ops.readable != NULL) {
		n->rev = event_new(sink_base(n->sink), n->fd,
		    EV_READ | EV_PERSIST, net_read_cb, n);
		event_add(n->rev, NULL);
	}
	if (n->kind->ops.connected == NULL) {
		net_ready(n);
		return;
	}
	net_enter_state(n, NET_HANDSHAKE);
	if (!evtimer_pending(n->timer, NULL))
		evtimer_add(n->timer, &tv);
	n->kind->ops.connected(n);
}

void
net_ready(struct net *n)
{
	evtimer_del(n->timer);
	net_enter_state(n, NET_READY);
	log_state(LOG_LEVEL_INFO, "sink %s: connected to %s", n->name,
	    n->peer);
	sink_set_up(n->sink, true);
	n->kind->ops.write(n);
}

void
net_flush(struct net *n)
{
	if (n->state == NET_READY)
		n->kind->ops.write(n);
}

void
net_want_write(struct net *n)
{
	if (n->wev != NULL)
		event_add(n->wev, NULL);
}

/* Writable: either the connect finished (or failed), or the kind may write. */
static void
net_write_cb(int fd, short what __unused, void *arg)
{
	struct net	*n = arg;
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	if (n->state != NET_CONNECTING) {
		n->kind->ops.write(n);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		evtimer_del(n->timer);
		net_connected(n);
	} else
		net_next_or_fail(n, strerror(err));
}

/* A connect failed late: try the next address, or give up for now. */
static void
net_next_or_fail(struct net *n, const char *why)
{
	if (n->ai_next == NULL) {
		net_disconnect(n, why);
		return;
	}
	log_debug("%s: sink %s: %s, trying the next address", __func__,
	    n->name, why);
	net_drop_fd(n);
	net_try_next(n, why);
}

static void
net_read_cb(int fd __unused, short what __unused, void *arg)
{
	struct net	*n = arg;

	n->kind->ops.readable(n);
}

/* One timer, by state: reconnect, connect/handshake timeout, SIOCOUTQ poll. */
static void
net_timer_cb(int fd __unused, short what __unused, void *arg)
{
	struct net	*n = arg;

	switch (n->state) {
	case NET_IDLE:
		net_start(n);
		break;
	case NET_CONNECTING:
		net_next_or_fail(n, "connect timed out");
		break;
	case NET_HANDSHAKE:
		net_disconnect(n, "handshake timed out");
		break;
	case NET_READY:
		net_confirm(n);
		break;
	case NET_RESOLVING:
		break;
	}
}

/* The pending head is completely written: it waits for the peer's ack. */
void
net_sent(struct net *n, uint64_t end)
{
	struct sink_rec	*r = sink_take(n->sink);

	r->end = end;
	TAILQ_INSERT_TAIL(&n->unconfirmed, r, entry);
}

/*
 * Accept the records the peer's TCP has acknowledged (SIOCOUTQ counts the
 * bytes it has not; it stays exact after a reset).  Any progress resets the
 * reconnect backoff, so a peer that drops connections every few hundred
 * records is reconnected to at once, not after a growing delay.
 */
static int
net_collect_acked(struct net *n)
{
	struct sink_rec	*r;
	int		 outq;

	if (ioctl(n->fd, SIOCOUTQ, &outq) == -1)
		return -1;
	if ((uint64_t)outq <= n->written && n->written - outq > n->acked) {
		n->acked = n->written - (uint64_t)outq;
		n->last_progress = time(NULL);
		net_progress(n);
	}
	while ((r = TAILQ_FIRST(&n->unconfirmed)) != NULL &&
	    r->end <= n->acked) {
		TAILQ_REMOVE(&n->unconfirmed, r, entry);
		sink_finish(n->sink, r, SINK_OK);
	}
	return 0;
}

/* Accept what the peer acknowledged; poll for the rest. */
void
net_confirm(struct net *n)
{
	struct timeval	 tv = { 0, NET_CONFIRM_USEC };

	if (TAILQ_EMPTY(&n->unconfirmed) || n->state != NET_READY)
		return;
	if (net_collect_acked(n) == -1) {
		net_disconnect(n, strerror(errno));
		return;
	}
	if (TAILQ_EMPTY(&n->unconfirmed))
		return;
	if (time(NULL) - n->last_progress > NET_STALL_SEC)
		net_disconnect(n, "peer acknowledges nothing");
	else if (!evtimer_pending(n->timer, NULL))
		evtimer_add(n->timer, &tv);
}

void
net_progress(struct net *n)
{
	backoff_reset(&n->backoff);
}

/* Give back what the peer did not confirm, and try again later. */
void
net_disconnect(struct net *n, const char *why)
{
	struct sink	*s = n->sink;

	/* What the peer acknowledged before the loss is delivered: no resend. */
	if (n->state == NET_READY && n->fd != -1)
		(void)net_collect_acked(n);
	if (n->state == NET_READY)
		log_state(LOG_LEVEL_WARN, "sink %s: connection to %s lost: %s",
		    n->name,
		    n->peer, why);
	else
		log_warnx("sink %s: cannot connect to %s: %s", n->name,
		    n->peer, why);
	sink_count(s, SSK_FAILED);
	net_requeue(n, true);
	net_free_ai(n);
	net_drop_fd(n);
	sink_set_up(s, false);
	net_schedule_reconnect(n);
}

/* Wait for the next attempt: doubling from 0.25 s up to 30 s, with jitter. */
static void
net_schedule_reconnect(struct net *n)
{
	struct timeval	 tv;

	backoff_next(&n->backoff, &tv);
	net_enter_state(n, NET_IDLE);
	evtimer_del(n->timer);
	evtimer_add(n->timer, &tv);
}

/* Unconfirmed records go back to the head of pending, in order. */
static void
net_requeue(struct net *n, bool resend)
{
	struct sink	*s = n->sink;
	struct sink_rec	*r;

	while ((r = TAILQ_LAST(&n->unconfirmed, sink_recq)) != NULL) {
		TAILQ_REMOVE(&n->unconfirmed, r, entry);
		sink_putback(s, r);
		if (resend)
			sink_count(s, SSK_RESENT);
	}
}

/* Close the socket and its events, after the kind freed what used it. */
static void
net_drop_fd(struct net *n)
{
	if (n->fd != -1 && n->kind->ops.dropped != NULL)
		n->kind->ops.dropped(n);
	if (n->rev != NULL)
		event_free(n->rev);
	if (n->wev != NULL)
		event_free(n->wev);
	n->rev = n->wev = NULL;
	if (n->fd != -1)
		close(n->fd);
	n->fd = -1;
	evtimer_del(n->timer);
}

static void
net_free_ai(struct net *n)
{
	if (n->ai_list != NULL)
		evutil_freeaddrinfo(n->ai_list);
	n->ai_list = n->ai_next = NULL;
}

/* Stop: unconfirmed records go back to pending, the socket is closed. */
static void
net_close(struct net *n)
{
	if (n->req != NULL)
		evdns_getaddrinfo_cancel(n->req);
	n->req = NULL;
	net_requeue(n, false);
	net_free_ai(n);
	net_drop_fd(n);
	event_free(n->timer);
	n->timer = NULL;
}
