/*
 * ctl_status.c: `ampstreamctl status`: the running daemon's counters, read
 * from state_dir/status.json, which the daemon rewrites every few seconds.
 * Needs no API access.  Exit 0 when the daemon runs, 3 when it does not (its
 * last counters are still shown), 1 when there is no status to read.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "ctl.h"
#include "status.h"

#define CTL_NOT_RUNNING	3

static int	status_running(struct json_object *);
static void	status_print(struct json_object *, int);
static void	status_streams(struct json_object *);
static void	status_sinks(struct json_object *);
static void	status_corr(struct json_object *);

int
ctl_status(struct ctl *ctl, int argc, char **argv)
{
	struct json_object *o;
	char		*cause = NULL;
	int		 json = 0, running;

	if (ctl_args_json(ctl, argc, argv, &json) == -1)
		return CTL_USAGE;
	if ((o = status_read(ctl->cfg->state_dir, &cause)) == NULL) {
		ctl_err(ctl, "no daemon status (%s); is ampstream running with "
		    "this configuration?", cause ? cause : "unreadable");
		free(cause);
		return CTL_USAGE;
	}
	running = status_running(o);
	if (json)
		ctl_print_json(o);
	else
		status_print(o, running);
	json_object_put(o);
	return running ? CTL_OK : CTL_NOT_RUNNING;
}

/* Running: not stopped, its pid alive, and updated within three intervals. */
static int
status_running(struct json_object *o)
{
	int64_t		 pid = 0, updated = 0, interval = 5;
	struct json_object *v;

	if (json_object_object_get_ex(o, "stopped", &v) &&
	    json_object_get_boolean(v))
		return 0;
	if (ctl_int(o, "pid", &pid) == -1 || ctl_int(o, "updated", &updated) ==
	    -1 || pid <= 0)
		return 0;
	ctl_int(o, "interval", &interval);
	if (kill((pid_t)pid, 0) == -1 && errno != EPERM)
		return 0;
	return time(NULL) - updated <= 3 * interval + 1;
}

static void
status_print(struct json_object *o, int running)
{
	int64_t		 pid = 0, updated = 0;
	char		 when[64] = "?";
	struct tm	 tm;
	time_t		 t;

	ctl_int(o, "pid", &pid);
	ctl_int(o, "updated", &updated);
	t = (time_t)updated;
	if (localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("ampstream %s (pid %lld), counters of %s\n",
	    running ? "running" : "NOT running", (long long)pid, when);
	status_streams(o);
	status_sinks(o);
	status_corr(o);
}

static void
status_corr(struct json_object *o)
{
	struct json_object *c;
	int64_t		 entries = 0, matched = 0, expired = 0, evicted = 0;

	if (!json_object_object_get_ex(o, "correlation", &c))
		return;
	ctl_int(c, "entries", &entries);
	ctl_int(c, "matched", &matched);
	ctl_int(c, "expired", &expired);
	ctl_int(c, "evicted", &evicted);
	printf("correlation: %lld pending, %lld matched, %lld expired, "
	    "%lld evicted\n", (long long)entries, (long long)matched,
	    (long long)expired, (long long)evicted);
}

static void
status_streams(struct json_object *o)
{
	struct json_object *a, *s, *v;
	int64_t		 d, ack, re, dl;
	size_t		 i;

	if (!json_object_object_get_ex(o, "streams", &a))
		return;
	for (i = 0; i < json_object_array_length(a); i++) {
		s = json_object_array_get_idx(a, i);
		d = ack = re = dl = 0;
		ctl_int(s, "delivered", &d);
		ctl_int(s, "acked", &ack);
		ctl_int(s, "redelivered", &re);
		ctl_int(s, "deadlettered", &dl);
		printf("stream %-16s %-12s delivered %lld, acked %lld, "
		    "redelivered %lld, dead-lettered %lld\n",
		    ctl_str(s, "name") ? ctl_str(s, "name") : "?",
		    json_object_object_get_ex(s, "connected", &v) &&
		    json_object_get_boolean(v) ? "connected" : "disconnected",
		    (long long)d, (long long)ack, (long long)re, (long long)dl);
	}
}

static void
status_sinks(struct json_object *o)
{
	struct json_object *a, *s, *v;
	int64_t		 sent, failed, spooled, in_spool;
	const char	*state;
	size_t		 i;

	if (!json_object_object_get_ex(o, "sinks", &a))
		return;
	for (i = 0; i < json_object_array_length(a); i++) {
		s = json_object_array_get_idx(a, i);
		sent = failed = spooled = in_spool = 0;
		ctl_int(s, "sent", &sent);
		ctl_int(s, "failed", &failed);
		ctl_int(s, "spooled", &spooled);
		ctl_int(s, "in_spool", &in_spool);
		state = json_object_object_get_ex(s, "spool_full", &v) &&
		    json_object_get_boolean(v) ? "spool full" :
		    json_object_object_get_ex(s, "up", &v) &&
		    json_object_get_boolean(v) ? "up" : "down";
		printf("sink   %-16s %-12s sent %lld, failed %lld, spooled "
		    "%lld, in spool %lld\n",
		    ctl_str(s, "name") ? ctl_str(s, "name") : "?", state,
		    (long long)sent, (long long)failed, (long long)spooled,
		    (long long)in_spool);
	}
}
