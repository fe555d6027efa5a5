/*
 * sink_tcp.c: syslog over TCP (RFC 6587 framing is done before us).
 *
 * A record is accepted only when the peer's TCP has acknowledged its last
 * byte: write() succeeding proves nothing while the link is partitioned.  We
 * count the bytes written on the connection and ask the kernel how many are
 * still unacknowledged (SIOCOUTQ); records whose end offset lies below the
 * acknowledged mark are done.  On any connection loss the unconfirmed records
 * go back to the head of the queue and are written again after reconnecting
 * (duplicates are possible, loss is not).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/sockios.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "config.h"
#include "log.h"
#include "sink.h"

#define TCP_IOV_MAX		64
#define TCP_CONNECT_SEC		10
#define TCP_USER_TIMEOUT_MS	30000	/* kernel gives up on unacked data */
#define TCP_STALL_SEC		60	/* we give up if nothing is acked */
#define TCP_CONFIRM_USEC	2000	/* poll SIOCOUTQ this often */
#define TCP_BACKOFF_MIN_MS	250
#define TCP_BACKOFF_MAX_MS	30000

enum tcp_state {
	TCP_IDLE,		/* waiting to (re)connect */
	TCP_RESOLVING,
	TCP_CONNECTING,
	TCP_CONNECTED,
};

struct tcp_sink {
	struct sink	*sink;
	enum tcp_state	 state;
	int		 fd;
	struct event	*rev;
	struct event	*wev;		/* write space, or connect done */
	struct event	*timer;		/* reconnect, or SIOCOUTQ poll */
	struct evdns_getaddrinfo_request *req;
	struct sink_recq unconfirmed;	/* written, not yet acked by the peer */
	size_t		 head_off;	/* bytes of the pending head written */
	uint64_t	 written;	/* bytes written on this connection */
	uint64_t	 acked;
	time_t		 last_progress;
	int		 backoff_ms;
};

static int	tcp_open(struct sink *, char **);
static void	tcp_flush(struct sink *);
static void	tcp_close(struct sink *);
static void	tcp_enter_state(struct tcp_sink *, enum tcp_state);
static void	tcp_resolve(struct tcp_sink *);
static void	tcp_resolved_cb(int, struct evutil_addrinfo *, void *);
static int	tcp_connect(struct tcp_sink *, struct evutil_addrinfo *);
static void	tcp_connected(struct tcp_sink *);
static void	tcp_write_cb(int, short, void *);
static void	tcp_read_cb(int, short, void *);
static void	tcp_timer_cb(int, short, void *);
static void	tcp_write(struct tcp_sink *);
static size_t	tcp_fill_iov(struct tcp_sink *, struct iovec *);
static void	tcp_advance(struct tcp_sink *, size_t);
static void	tcp_confirm(struct tcp_sink *);
static void	tcp_disconnect(struct tcp_sink *, const char *);
static void	tcp_schedule_reconnect(struct tcp_sink *);
static void	tcp_drop_fd(struct tcp_sink *);

const struct sink_ops sink_tcp_ops = {
	.name = "tcp",
	.open = tcp_open,
	.flush = tcp_flush,
	.close = tcp_close,
};

static const char *const tcp_state_names[] = {
	"idle", "resolving", "connecting", "connected",
};

static int
tcp_open(struct sink *s, char **cause __unused)
{
	struct tcp_sink	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("%s", __func__);
	t->sink = s;
	t->fd = -1;
	TAILQ_INIT(&t->unconfirmed);
	t->timer = evtimer_new(s->base, tcp_timer_cb, t);
	s->priv = t;
	tcp_resolve(t);
	return 0;
}

static void
tcp_enter_state(struct tcp_sink *t, enum tcp_state st)
{
	log_debug("%s: sink %s: %s -> %s", __func__, t->sink->conf->name,
	    tcp_state_names[t->state], tcp_state_names[st]);
	t->state = st;
}

static void
tcp_resolve(struct tcp_sink *t)
{
	struct evutil_addrinfo hints;
	char		 port[16];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(port, sizeof(port), "%d", t->sink->conf->port);
	tcp_enter_state(t, TCP_RESOLVING);
	/* The callback may run before this returns (numeric hosts). */
	t->req = evdns_getaddrinfo(t->sink->dns, t->sink->conf->host, port,
	    &hints, tcp_resolved_cb, t);
}

static void
tcp_resolved_cb(int err, struct evutil_addrinfo *ai, void *arg)
{
	struct tcp_sink	*t = arg;
	struct evutil_addrinfo *a;

	if (err == EVUTIL_EAI_CANCEL)	/* t may be gone already */
		return;
	t->req = NULL;
	if (err != 0) {
		log_warnx("sink %s: %s: %s", t->sink->conf->name,
		    t->sink->conf->host, evutil_gai_strerror(err));
		tcp_schedule_reconnect(t);
		return;
	}
	for (a = ai; a != NULL; a = a->ai_next)
		if (tcp_connect(t, a) == 0)
			break;
	evutil_freeaddrinfo(ai);
	if (a == NULL)
		tcp_schedule_reconnect(t);
}

/* Start a non-blocking connect; completion is reported by the write event. */
static int
tcp_connect(struct tcp_sink *t, struct evutil_addrinfo *a)
{
	struct timeval	 tv = { TCP_CONNECT_SEC, 0 };
	int		 one = 1, uto = TCP_USER_TIMEOUT_MS;

	t->fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (t->fd == -1)
		return -1;
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(t->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(t->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
	if (connect(t->fd, a->ai_addr, a->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		log_warn("sink %s: connect %s:%d", t->sink->conf->name,
		    t->sink->conf->host, t->sink->conf->port);
		tcp_drop_fd(t);
		return -1;
	}
	t->rev = event_new(t->sink->base, t->fd, EV_READ | EV_PERSIST,
	    tcp_read_cb, t);
	t->wev = event_new(t->sink->base, t->fd, EV_WRITE, tcp_write_cb, t);
	tcp_enter_state(t, TCP_CONNECTING);
	event_add(t->wev, &tv);
	return 0;
}

static void
tcp_write_cb(int fd, short what, void *arg)
{
	struct tcp_sink	*t = arg;
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	if (t->state == TCP_CONNECTED) {
		tcp_write(t);
		return;
	}
	if (what & EV_TIMEOUT) {
		tcp_disconnect(t, "connect timed out");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		errno = err;
		tcp_disconnect(t, strerror(err));
		return;
	}
	tcp_connected(t);
}

static void
tcp_connected(struct tcp_sink *t)
{
	tcp_enter_state(t, TCP_CONNECTED);
	log_info("sink %s: connected to %s:%d", t->sink->conf->name,
	    t->sink->conf->host, t->sink->conf->port);
	t->written = t->acked = 0;
	t->last_progress = time(NULL);
	event_add(t->rev, NULL);
	sink_set_up(t->sink, true);
	tcp_write(t);
}

/* Peers send nothing we need; reading only tells us when they go away. */
static void
tcp_read_cb(int fd, short what __unused, void *arg)
{
	struct tcp_sink	*t = arg;
	char		 buf[4096];
	ssize_t		 n;

	n = read(fd, buf, sizeof(buf));
	if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EINTR)))
		return;
	tcp_disconnect(t, n == 0 ? "closed by peer" : strerror(errno));
}

static void
tcp_flush(struct sink *s)
{
	struct tcp_sink	*t = s->priv;

	if (t->state == TCP_CONNECTED)
		tcp_write(t);
}

/* Write as much of the pending queue as the socket takes. */
static void
tcp_write(struct tcp_sink *t)
{
	struct iovec	 iov[TCP_IOV_MAX];
	size_t		 cnt;
	ssize_t		 n;

	while ((cnt = tcp_fill_iov(t, iov)) > 0) {
		n = writev(t->fd, iov, cnt);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			event_add(t->wev, NULL);
			break;
		}
		if (n == -1) {
			tcp_disconnect(t, strerror(errno));
			return;
		}
		tcp_advance(t, (size_t)n);
	}
	tcp_confirm(t);
}

static size_t
tcp_fill_iov(struct tcp_sink *t, struct iovec *iov)
{
	struct sink_rec	*r;
	size_t		 cnt = 0, off = t->head_off;

	TAILQ_FOREACH(r, &t->sink->pending, entry) {
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
	struct sink	*s = t->sink;
	struct sink_rec	*r;

	t->written += n;
	n += t->head_off;
	while ((r = TAILQ_FIRST(&s->pending)) != NULL && n >= r->len) {
		n -= r->len;
		TAILQ_REMOVE(&s->pending, r, entry);
		s->npending--;
		r->end = t->written - n;
		TAILQ_INSERT_TAIL(&t->unconfirmed, r, entry);
	}
	t->head_off = n;
}

/* Accept the records the peer's TCP has acknowledged; poll for the rest. */
static void
tcp_confirm(struct tcp_sink *t)
{
	struct timeval	 tv = { 0, TCP_CONFIRM_USEC };
	struct sink_rec	*r;
	int		 outq;

	if (TAILQ_EMPTY(&t->unconfirmed) || t->state != TCP_CONNECTED)
		return;
	if (ioctl(t->fd, SIOCOUTQ, &outq) == -1) {
		tcp_disconnect(t, strerror(errno));
		return;
	}
	if ((uint64_t)outq <= t->written && t->written - outq > t->acked) {
		t->acked = t->written - (uint64_t)outq;
		t->last_progress = time(NULL);
	}
	while ((r = TAILQ_FIRST(&t->unconfirmed)) != NULL &&
	    r->end <= t->acked) {
		TAILQ_REMOVE(&t->unconfirmed, r, entry);
		sink_rec_finish(t->sink, r, SINK_OK);
	}
	if (!TAILQ_EMPTY(&t->unconfirmed)) {
		if (time(NULL) - t->last_progress > TCP_STALL_SEC)
			tcp_disconnect(t, "peer acknowledges nothing");
		else if (!evtimer_pending(t->timer, NULL))
			evtimer_add(t->timer, &tv);
	} else
		t->backoff_ms = 0;
}

static void
tcp_timer_cb(int fd __unused, short what __unused, void *arg)
{
	struct tcp_sink	*t = arg;

	if (t->state == TCP_CONNECTED)
		tcp_confirm(t);
	else if (t->state == TCP_IDLE)
		tcp_resolve(t);
}

/* Give back what the peer did not confirm, and try again later. */
static void
tcp_disconnect(struct tcp_sink *t, const char *why)
{
	struct sink	*s = t->sink;
	struct sink_rec	*r;

	if (t->state == TCP_CONNECTED)
		log_warnx("sink %s: connection to %s:%d lost: %s", s->conf->name,
		    s->conf->host, s->conf->port, why);
	else
		log_warnx("sink %s: cannot connect to %s:%d: %s", s->conf->name,
		    s->conf->host, s->conf->port, why);
	s->stats.failed++;
	while ((r = TAILQ_LAST(&t->unconfirmed, sink_recq)) != NULL) {
		TAILQ_REMOVE(&t->unconfirmed, r, entry);
		TAILQ_INSERT_HEAD(&s->pending, r, entry);
		s->npending++;
		s->stats.resent++;
	}
	t->head_off = 0;
	tcp_drop_fd(t);
	sink_set_up(s, false);
	tcp_schedule_reconnect(t);
}

static void
tcp_schedule_reconnect(struct tcp_sink *t)
{
	struct timeval	 tv;
	int		 ms;

	t->backoff_ms = t->backoff_ms == 0 ? TCP_BACKOFF_MIN_MS :
	    t->backoff_ms * 2;
	if (t->backoff_ms > TCP_BACKOFF_MAX_MS)
		t->backoff_ms = TCP_BACKOFF_MAX_MS;
	/* Jitter of +-25%, so many daemons do not reconnect in step. */
	ms = t->backoff_ms - t->backoff_ms / 4 +
	    (int)(arc4random_uniform((uint32_t)t->backoff_ms / 2 + 1));
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	tcp_enter_state(t, TCP_IDLE);
	evtimer_del(t->timer);
	evtimer_add(t->timer, &tv);
}

static void
tcp_drop_fd(struct tcp_sink *t)
{
	if (t->rev != NULL)
		event_free(t->rev);
	if (t->wev != NULL)
		event_free(t->wev);
	t->rev = t->wev = NULL;
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	evtimer_del(t->timer);
}

/* Unconfirmed records go back to pending, where sink_free cancels them. */
static void
tcp_close(struct sink *s)
{
	struct tcp_sink	*t = s->priv;
	struct sink_rec	*r;

	if (t == NULL)
		return;
	if (t->req != NULL)
		evdns_getaddrinfo_cancel(t->req);
	while ((r = TAILQ_LAST(&t->unconfirmed, sink_recq)) != NULL) {
		TAILQ_REMOVE(&t->unconfirmed, r, entry);
		TAILQ_INSERT_HEAD(&s->pending, r, entry);
		s->npending++;
	}
	tcp_drop_fd(t);
	event_free(t->timer);
	free(t);
	s->priv = NULL;
}
