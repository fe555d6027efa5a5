/* status.c: the daemon's counters in state_dir/status.json (see status.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json.h>

#include "buf.h"
#include "fsio.h"
#include "log.h"
#include "status.h"

const struct status_counter status_stream_ctrs[SST_MAX] = {
	[SST_DELIVERED] = { "delivered", "delivered" },
	[SST_ACKED] = { "acked", "acked" },
	[SST_REDELIVERED] = { "redelivered", "redelivered" },
	[SST_DEADLETTERED] = { "deadlettered", "dead-lettered" },
	[SST_CONNECTS] = { "connects", "connects" },
	[SST_CONNECT_FAILURES] = { "connect_failures", "failed connects" },
	[SST_DL_BYTES] = { "deadletter_bytes", "dead-letter bytes held" },
	[SST_BACKLOG] = { "backlog", "ready in the queue" },
	[SST_LAST_EVENT] = { "last_event", "last event (unix time)" },
	[SST_LAG_MS] = { "lag_ms", "last event's lag (ms)" },
};
const struct status_counter status_sink_ctrs[SSK_MAX] = {
	[SSK_SENT] = { "sent", "sent" },
	[SSK_FAILED] = { "failed", "failed" },
	[SSK_RESENT] = { "resent", "resent" },
	[SSK_SPOOLED] = { "spooled", "spooled" },
	[SSK_REPLAYED] = { "replayed", "replayed" },
	[SSK_IN_SPOOL] = { "in_spool", "in spool" },
	[SSK_SPOOL_BYTES] = { "spool_bytes", "spool bytes" },
	[SSK_SPOOL_AGE] = { "spool_age", "spooling for (s)" },
};
const struct status_counter status_corr_ctrs[SCO_MAX] = {
	[SCO_ENTRIES] = { "entries", "pending" },
	[SCO_STORED] = { "stored", "stored" },
	[SCO_MATCHED] = { "matched", "matched" },
	[SCO_UNMATCHED] = { "unmatched", "unmatched" },
	[SCO_EXPIRED] = { "expired", "expired" },
	[SCO_EVICTED] = { "evicted", "evicted" },
	[SCO_DUPLICATES] = { "duplicates", "duplicates" },
	[SCO_ALERTS] = { "alerts", "alerts" },
};

static int	status_path(char *, size_t, const char *, const char *);
static unsigned long long num(struct json_object *, const char *);
static const char *str(struct json_object *, const char *);
static int	flag(struct json_object *, const char *);

static int
status_path(char *buf, size_t len, const char *dir, const char *suffix)
{
	return snprintf(buf, len, "%s/%s%s", dir, STATUS_FILE, suffix) <
	    (int)len ? 0 : -1;
}

static int
status_put(FILE *f, void *arg)
{
	return fprintf(f, "%s\n", (const char *)arg) < 0 ? -1 : 0;
}

/* Replaced whole (readers see the old file or the new), not fsync'd. */
int
status_write(const char *state_dir, struct json_object *o)
{
	char	 path[PATH_MAX];

	if (status_path(path, sizeof(path), state_dir, "") == -1)
		return -1;
	if (fsio_replace(path, 0640, false, status_put,
	    (void *)json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN)) == -1) {
		log_debug("%s: %s: %s", __func__, path, strerror(errno));
		return -1;
	}
	return 0;
}

struct json_object *
status_read(const char *state_dir, char **cause)
{
	char		 path[PATH_MAX];
	char		*text = NULL;
	struct json_object *o = NULL;
	ssize_t		 n;
	int		 fd = -1;

	*cause = NULL;
	if (status_path(path, sizeof(path), state_dir, "") == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (text = malloc(STATUS_MAX + 1)) == NULL ||
	    (n = read(fd, text, STATUS_MAX + 1)) == -1) {
		cause_printf(cause, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (n > STATUS_MAX) {
		cause_printf(cause, "%s: larger than %d bytes", path,
		    STATUS_MAX);
		goto done;
	}
	text[n] = '\0';
	if ((o = json_tokener_parse(text)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
		cause_printf(cause, "%s: not a status file", path);
	}
done:
	if (fd != -1)
		close(fd);
	free(text);
	return o;
}

static unsigned long long
num(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	    (unsigned long long)json_object_get_uint64(v) : 0;
}

static const char *
str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	    json_object_get_string(v) : "?";
}

static int
flag(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) &&
	    json_object_get_boolean(v);
}

void
status_ctrs(struct buf *b, struct json_object *o,
    const struct status_counter *tab, const int *which, size_t n,
    int value_first)
{
	const struct status_counter *c;
	size_t		 i;

	for (i = 0; i < n; i++) {
		c = &tab[which[i]];
		if (value_first)
			buf_printf(b, "%s%llu %s", i ? ", " : "",
			    num(o, c->key), c->label);
		else
			buf_printf(b, "%s%s %llu", i ? ", " : "", c->label,
			    num(o, c->key));
	}
}

void
status_line(struct json_object *o, struct buf *b)
{
	static const int st[] = {
		SST_DELIVERED, SST_ACKED, SST_REDELIVERED, SST_DEADLETTERED
	};
	static const int co[] = {
		SCO_ENTRIES, SCO_MATCHED, SCO_UNMATCHED, SCO_EXPIRED,
		SCO_EVICTED, SCO_ALERTS
	};
	static const int sk[] = { SSK_SENT, SSK_FAILED };
	static const int sp[] = { SSK_SPOOLED, SSK_IN_SPOOL };
	struct json_object *a, *e, *c;
	size_t		 i;

	if (json_object_object_get_ex(o, STATUS_STREAMS, &a))
		for (i = 0; i < json_object_array_length(a); i++) {
			e = json_object_array_get_idx(a, i);
			buf_printf(b, "%s%s: %s, ", i ? "; " : "",
			    str(e, "name"), str(e, "state"));
			status_ctrs(b, e, status_stream_ctrs, st, nitems(st),
			    1);
		}
	if (json_object_object_get_ex(o, STATUS_CORR, &c)) {
		buf_printf(b, "; %s: ", STATUS_CORR);
		status_ctrs(b, c, status_corr_ctrs, co, nitems(co), 1);
	}
	if (!json_object_object_get_ex(o, STATUS_SINKS, &a))
		return;
	for (i = 0; i < json_object_array_length(a); i++) {
		e = json_object_array_get_idx(a, i);
		buf_printf(b, "; sink %s: %s, ", str(e, "name"),
		    flag(e, "spool_full") ? "spool full" :
		    flag(e, "up") ? "up" : "down");
		status_ctrs(b, e, status_sink_ctrs, sk, nitems(sk), 1);
		if (flag(e, "spool")) {
			buf_printf(b, ", ");
			status_ctrs(b, e, status_sink_ctrs, sp, nitems(sp), 1);
		}
	}
}
