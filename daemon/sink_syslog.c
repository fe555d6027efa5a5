/*
 * sink_syslog.c: the local syslog daemon's socket (AF_UNIX datagrams,
 * path default /dev/log), one record per datagram, in the sink's syslog
 * style (RFC 3164 with the "ampstream:" tag unless configured otherwise).
 *
 * A record is accepted when send() succeeded: the local daemon has taken
 * it into its socket buffer.  When the socket is missing or nobody reads
 * it (ENOENT, ECONNREFUSED, ...), the sink is down and records stay pending
 * (not accepted, so their messages stay unacknowledged); we reconnect with
 * backoff, so a restarting syslog daemon loses nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "config.h"
#include "log.h"
#include "sink.h"
#include "sink_net.h"

struct syslog_sink {
	struct net	 net;
};

static int	syslog_open(struct sink *, char **);
static void	syslog_flush(struct sink *);
static void	syslog_close(struct sink *);
static void	syslog_write(struct net *);

const struct sink_ops sink_syslog_ops = {
	.name = "syslog",
	.open = syslog_open,
	.flush = syslog_flush,
	.close = syslog_close,
};

/* Nothing is read from the socket: no readable callback. */
static const struct net_ops syslog_net_ops = {
	.write = syslog_write,
};

static int
syslog_open(struct sink *s, char **cause)
{
	struct syslog_sink *l;
	struct sockaddr_un sun;

	if (strlen(s->conf->path) >= sizeof(sun.sun_path)) {
		if (asprintf(cause, "sink %s: path %s: longer than %zu bytes",
		    s->conf->name, s->conf->path, sizeof(sun.sun_path) - 1)
		    == -1)
			*cause = NULL;
		return -1;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("%s", __func__);
	net_init(&l->net, s, SOCK_DGRAM, s->conf->path, &syslog_net_ops, l);
	s->priv = l;
	net_start(&l->net);
	return 0;
}

static void
syslog_flush(struct sink *s)
{
	struct syslog_sink *l = s->priv;

	net_flush(&l->net);
}

/* Send pending records in order; stop at the first one not taken. */
static void
syslog_write(struct net *n)
{
	struct sink	*s = n->sink;
	struct sink_rec	*r;
	enum sink_result res;

	while ((r = TAILQ_FIRST(&s->pending)) != NULL) {
		res = SINK_OK;
		if (send(n->fd, r->data, r->len, 0) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				net_want_write(n);
				return;
			}
			if (errno != EMSGSIZE) {
				net_disconnect(n, strerror(errno));
				return;
			}
			log_warnx("sink %s: a %zu-byte record is too large for "
			    "%s (lower max_record)", s->conf->name, r->len,
			    s->conf->path);
			res = SINK_FATAL;
		}
		TAILQ_REMOVE(&s->pending, r, entry);
		s->npending--;
		sink_rec_finish(s, r, res);
		net_progress(n);
	}
}

static void
syslog_close(struct sink *s)
{
	struct syslog_sink *l = s->priv;

	if (l == NULL)
		return;
	net_close(&l->net);
	free(l);
	s->priv = NULL;
}
