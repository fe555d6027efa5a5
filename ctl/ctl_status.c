/*
 * ctl_status.c: `ampstreamctl status`: the running daemon's counters, read
 * from state_dir/status.json, which the daemon rewrites every few seconds.
 * Needs no API access.  Exit 0 when the daemon runs, 3 when it does not (its
 * last counters are still shown, if any: no status.json means it never ran
 * here), 1 when the status cannot be read.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "ctl.h"
#include "ctl_esc.h"
#include "status.h"


static int	status_running(struct json_object *);
static void	status_print(struct json_object *, int);
static void	status_streams(struct json_object *);
static const char *status_stream_state(struct json_object *);
static void	status_stream_why(struct json_object *);
static void	status_sinks(struct json_object *);
static void	status_corr(struct json_object *);
static void	status_flow(struct json_object *);

/* No status.json at all: the daemon is not running (or never ran). */
static int
status_absent(const char *state_dir)
{
	char		 path[PATH_MAX];
	struct stat	 sb;

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, STATUS_FILE) >=
	    (int)sizeof(path))
		return 0;
	return stat(path, &sb) == -1 && errno == ENOENT;
}

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
		return status_absent(ctl->cfg->state_dir) ? CTL_NOT_RUNNING :
		    CTL_USAGE;
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

/* One part's line: prefix, then its counters which[0..n). */
static void
status_part(const char *prefix, struct json_object *o,
    const struct status_counter *tab, const int *which, size_t n,
    int value_first)
{
	struct buf	 b;

	buf_init(&b, 0);
	status_ctrs(&b, o, tab, which, n, value_first);
	printf("%s%s\n", prefix, b.data != NULL ? b.data : "");
	buf_free(&b);
}

static void
status_corr(struct json_object *o)
{
	static const int which[] = {
		SCO_ENTRIES, SCO_MATCHED, SCO_EXPIRED, SCO_EVICTED
	};
	struct json_object *c;

	if (json_object_object_get_ex(o, STATUS_CORR, &c))
		status_part("correlation: ", c, status_corr_ctrs, which,
		    nitems(which), 1);
}

static void
status_streams(struct json_object *o)
{
	static const int which[] = {
		SST_DELIVERED, SST_ACKED, SST_REDELIVERED, SST_DEADLETTERED,
		SST_DL_BYTES
	};
	struct json_object *a, *s;
	char		 prefix[512];
	size_t		 i;

	if (!json_object_object_get_ex(o, STATUS_STREAMS, &a))
		return;
	for (i = 0; i < json_object_array_length(a); i++) {
		s = json_object_array_get_idx(a, i);
		snprintf(prefix, sizeof(prefix), "stream %-16s %-12s ",
		    ctl_str(s, "name") ? esc(ctl_str(s, "name")) : "?",
		    status_stream_state(s));
		status_part(prefix, s, status_stream_ctrs, which,
		    nitems(which), 0);
		status_stream_why(s);
		status_flow(s);
	}
}

/* "connected", "connecting", "backing off", ... (older files: a flag). */
static const char *
status_stream_state(struct json_object *s)
{
	struct json_object *v;

	if (ctl_str(s, "state") != NULL)
		return esc(ctl_str(s, "state"));
	return json_object_object_get_ex(s, "connected", &v) &&
	    json_object_get_boolean(v) ? "connected" : "disconnected";
}

/* A stream that is not consuming: why, and when it tries again. */
static void
status_stream_why(struct json_object *s)
{
	int64_t		 next;
	long long	 in;

	if (ctl_str(s, "last_error") == NULL)
		return;
	printf("       last error: %s\n", esc(ctl_str(s, "last_error")));
	if (ctl_int(s, "next_attempt", &next) == 0) {
		in = (long long)(next - time(NULL));
		printf("       next attempt in %lld s\n", in > 0 ? in : 0);
	}
}

/* "  backlog 12, last event 2026-.. (3 s ago), lag 1.2 s" */
static void
status_flow(struct json_object *s)
{
	int64_t		 backlog = 0, last = 0, lag = 0;
	char		 when[64] = "none yet";
	struct tm	 tm;
	time_t		 t;

	ctl_int(s, "backlog", &backlog);
	ctl_int(s, "last_event", &last);
	ctl_int(s, "lag_ms", &lag);
	t = (time_t)last;
	if (last > 0 && localtime_r(&t, &tm) != NULL) {
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(when + strlen(when), sizeof(when) - strlen(when),
		    " (%lld s ago)", (long long)(time(NULL) - t));
	}
	printf("       backlog %lld, last event %s, its lag %lld.%01lld s\n",
	    (long long)backlog, when, (long long)(lag / 1000),
	    (long long)(lag % 1000 / 100));
}

static void
status_sinks(struct json_object *o)
{
	static const int which[] = {
		SSK_SENT, SSK_FAILED, SSK_SPOOLED, SSK_IN_SPOOL
	};
	struct json_object *a, *s, *v;
	const char	*state;
	char		 prefix[512];
	size_t		 i;

	if (!json_object_object_get_ex(o, STATUS_SINKS, &a))
		return;
	for (i = 0; i < json_object_array_length(a); i++) {
		s = json_object_array_get_idx(a, i);
		state = json_object_object_get_ex(s, "spool_full", &v) &&
		    json_object_get_boolean(v) ? "spool full" :
		    json_object_object_get_ex(s, "up", &v) &&
		    json_object_get_boolean(v) ? "up" : "down";
		snprintf(prefix, sizeof(prefix), "sink   %-16s %-12s ",
		    ctl_str(s, "name") ? ctl_str(s, "name") : "?", state);
		status_part(prefix, s, status_sink_ctrs, which, nitems(which),
		    0);
	}
}
