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
#include "sink_net.h"

static int	syslog_setup(struct net *, char **);
static void	syslog_write(struct net *);

/* Nothing is read from the socket: no readable callback. */
static const struct net_kind syslog_kind = {
	.socktype = SOCK_DGRAM,
	.local = true,
	.size = sizeof(struct net),
	.setup = syslog_setup,
	.ops = {
		.write = syslog_write,
	},
};

const struct sink_ops sink_syslog_ops = NET_SINK_OPS("syslog", &syslog_kind);

static int
syslog_setup(struct net *n, char **cause)
{
	struct sockaddr_un sun;

	if (strlen(n->unix_path) >= sizeof(sun.sun_path)) {
		cause_printf(cause, "sink %s: path %s: longer than %zu bytes",
		    n->name, n->unix_path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	return 0;
}

/* Send pending records in order; stop at the first one not taken. */
static void
syslog_write(struct net *n)
{
	struct sink	*s = n->sink;
	struct sink_rec	*r;
	enum sink_result res;

	while ((r = sink_first(s)) != NULL) {
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
			    "%s (lower max_record)", n->name, r->len,
			    n->unix_path);
			res = SINK_FATAL;
		}
		sink_done_first(s, res);
		net_progress(n);
	}
}
