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
#include "log.h"
#include "status.h"

const struct status_counter status_stream_ctrs[SST_MAX] = {
	[SST_DELIVERED] = { "delivered", "delivered" },
	[SST_ACKED] = { "acked", "acked" },
	[SST_REDELIVERED] = { "redelivered", "redelivered" },
	[SST_DEADLETTERED] = { "deadlettered", "dead-lettered" },
	[SST_CONNECTS] = { "connects", "connects" },
};
const struct status_counter status_sink_ctrs[SSK_MAX] = {
	[SSK_SENT] = { "sent", "sent" },
	[SSK_FAILED] = { "failed", "failed" },
	[SSK_RESENT] = { "resent", "resent" },
	[SSK_SPOOLED] = { "spooled", "spooled" },
	[SSK_REPLAYED] = { "replayed", "replayed" },
	[SSK_IN_SPOOL] = { "in_spool", "in spool" },
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

int
status_write(const char *state_dir, struct json_object *o)
{
	char		 tmp[PATH_MAX], path[PATH_MAX];
	const char	*text;
	size_t		 len;
	int		 fd, rv = -1;

	if (status_path(tmp, sizeof(tmp), state_dir, ".tmp") == -1 ||
	    status_path(path, sizeof(path), state_dir, "") == -1)
		return -1;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1)
		goto done;
	if (write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1)
		rv = 0;
	if (close(fd) == -1)
		rv = -1;
	if (rv == 0 && rename(tmp, path) == -1)
		rv = -1;
done:
	if (rv == -1)
		log_debug("%s: %s: %s", __func__, path, strerror(errno));
	return rv;
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
status_line(struct json_object *o, struct buf *b)
{
	struct json_object *a, *e, *c;
	size_t		 i;

	if (json_object_object_get_ex(o, "streams", &a))
		for (i = 0; i < json_object_array_length(a); i++) {
			e = json_object_array_get_idx(a, i);
			buf_printf(b, "%s%s: %s, %llu delivered, %llu acked, "
			    "%llu redelivered, %llu dead-lettered",
			    i ? "; " : "", str(e, "name"), str(e, "state"),
			    num(e, "delivered"), num(e, "acked"),
			    num(e, "redelivered"), num(e, "deadlettered"));
		}
	if (json_object_object_get_ex(o, "correlation", &c))
		buf_printf(b, "; correlation: %llu pending, %llu matched, "
		    "%llu unmatched, %llu expired, %llu evicted, %llu alerts",
		    num(c, "entries"), num(c, "matched"), num(c, "unmatched"),
		    num(c, "expired"), num(c, "evicted"), num(c, "alerts"));
	if (!json_object_object_get_ex(o, "sinks", &a))
		return;
	for (i = 0; i < json_object_array_length(a); i++) {
		e = json_object_array_get_idx(a, i);
		buf_printf(b, "; sink %s: %s, %llu sent, %llu failed",
		    str(e, "name"), flag(e, "spool_full") ? "spool full" :
		    flag(e, "up") ? "up" : "down", num(e, "sent"),
		    num(e, "failed"));
		if (flag(e, "spool"))
			buf_printf(b, ", %llu spooled, %llu in spool",
			    num(e, "spooled"), num(e, "in_spool"));
	}
}
