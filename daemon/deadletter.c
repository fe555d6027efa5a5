/* deadletter.c: append malformed messages to a per-stream JSON-lines file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json.h>
#include <openssl/evp.h>

#include "deadletter.h"
#include "log.h"
#include "utf8.h"
#include "xmalloc.h"

static json_object	*deadletter_body(const char *, size_t, const char **);
static int		 deadletter_append(const char *, const char *, size_t);

int
deadletter_write(const char *state_dir, const char *stream, const char *body,
    size_t len, const char *reason, int64_t received_ms)
{
	char		 dir[PATH_MAX], path[PATH_MAX], when[64];
	json_object	*o;
	const char	*key, *line;
	time_t		 t = (time_t)(received_ms / 1000);
	struct tm	 tm;
	int		 rv;

	if (snprintf(dir, sizeof(dir), "%s/deadletter", state_dir) >=
	    (int)sizeof(dir) || snprintf(path, sizeof(path), "%s/%s.jsonl",
	    dir, stream) >= (int)sizeof(path)) {
		log_warnx("dead-letter: path too long under %s", state_dir);
		return -1;
	}
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		log_warn("dead-letter: mkdir %s", dir);
		return -1;
	}
	gmtime_r(&t, &tm);
	(void)snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(received_ms % 1000));
	o = json_object_new_object();
	json_object_object_add(o, "stream", json_object_new_string(stream));
	json_object_object_add(o, "received_at", json_object_new_string(when));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object *b = deadletter_body(body, len, &key);
	json_object_object_add(o, key, b);
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	rv = deadletter_append(path, line, strlen(line));
	json_object_put(o);
	return rv;
}

/* The body as a JSON string, or base64 when it is not clean UTF-8. */
static json_object *
deadletter_body(const char *body, size_t len, const char **key)
{
	json_object	*s;
	unsigned char	*b64;
	size_t		 n = 4 * ((len + 2) / 3) + 1;

	if (utf8_valid(body, len)) {
		*key = "body";
		return json_object_new_string_len(body, (int)len);
	}
	*key = "body_base64";
	b64 = xmalloc(n);
	EVP_EncodeBlock(b64, (const unsigned char *)body, (int)len);
	s = json_object_new_string((char *)b64);
	free(b64);
	return s;
}

static int
deadletter_append(const char *path, const char *line, size_t len)
{
	int	 fd, rv = -1;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1) {
		log_warn("dead-letter: %s", path);
		return -1;
	}
	if (write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) == -1)
		log_warn("dead-letter: write %s", path);
	else
		rv = 0;
	close(fd);
	return rv;
}
