/* deadletter.c: each stream's store of messages that are not events. */
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json.h>
#include <openssl/evp.h>

#include "clock.h"
#include "deadletter.h"
#include "fsio.h"
#include "log.h"
#include "utf8.h"
#include "xmalloc.h"

#define B64_CHUNK	(48 * 1024)	/* input bytes encoded per write */
#define DL_RETRY_SEC	5		/* after a disk error, before trying again */

struct deadletter {
	char		*dir;		/* state_dir/deadletter */
	char		*name;		/* the stream's */
	char		*path;		/* dir/name.jsonl */
	uint64_t	 max_bytes;
	uint64_t	 rotate;	/* the current file's size before rotating */
	uint64_t	 held;		/* bytes in every file of the store */
	int		 fd;		/* the current file, or -1 */
	bool		 full;		/* refusing entries: no room, or broken */
	uint64_t	 need;		/* the size of the entry refused */
	time_t		 full_since;
	bool		 broken;	/* a disk error; not again before retry */
	time_t		 retry;
	/* The entry being written as it arrives. */
	bool		 open;
	bool		 failed;
	off_t		 start;		/* where it began in the file */
	unsigned char	 carry[2];	/* input bytes not encoded yet */
	size_t		 ncarry;
};

static char	*dl_header(const struct deadletter *, const char *, int64_t,
		    uint64_t);
static int	 dl_room(struct deadletter *, uint64_t);
static void	 dl_broken(struct deadletter *);
static int	 dl_open(struct deadletter *);
static int	 dl_rotate(struct deadletter *);
static uint64_t	 dl_count(const struct deadletter *);
static bool	 dl_is_ours(const struct deadletter *, const char *);
static int	 dl_put(struct deadletter *, const void *, size_t);
static int	 dl_sync(struct deadletter *);
static void	 dl_undo(struct deadletter *);
static json_object *dl_body(const char *, size_t, const char **);

struct deadletter *
deadletter_new(const char *state_dir, const char *stream, uint64_t max_bytes)
{
	struct deadletter	*dl = xcalloc(1, sizeof(*dl));

	xasprintf(&dl->dir, "%s/deadletter", state_dir);
	dl->name = xstrdup(stream);
	xasprintf(&dl->path, "%s/%s.jsonl", dl->dir, stream);
	dl->max_bytes = max_bytes;
	dl->rotate = max_bytes / 4 < DEADLETTER_ROTATE ? max_bytes / 4 :
	    DEADLETTER_ROTATE;
	dl->fd = -1;
	dl->held = dl_count(dl);
	return dl;
}

void
deadletter_free(struct deadletter *dl)
{
	if (dl == NULL)
		return;
	if (dl->open)
		deadletter_abort(dl);
	if (dl->fd != -1)
		close(dl->fd);
	free(dl->dir);
	free(dl->name);
	free(dl->path);
	free(dl);
}

int
deadletter_write(struct deadletter *dl, const char *body, size_t len,
    const char *reason, int64_t received_ms)
{
	json_object	*o, *b;
	const char	*key, *line;
	char		*head;
	size_t		 n;
	int		 rv = -1;

	if (dl->open)
		fatalx("%s: an entry is still open", __func__);
	head = dl_header(dl, reason, received_ms, len);
	o = json_tokener_parse(head);
	free(head);
	b = dl_body(body, len, &key);
	if (o == NULL || b == NULL)
		fatalx("%s: out of memory", __func__);
	json_object_object_add(o, key, b);
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	n = strlen(line);
	if (dl_room(dl, n + 1) == 0) {
		dl->open = true;	/* so that a failure is undone */
		if (dl_put(dl, line, n) == 0 && dl_put(dl, "\n", 1) == 0)
			rv = dl_sync(dl);
		else
			dl_undo(dl);
	}
	json_object_put(o);
	return rv;
}

int
deadletter_begin(struct deadletter *dl, const char *reason,
    int64_t received_ms, uint64_t len)
{
	char	*head;
	size_t	 n;
	int	 rv;

	if (dl->open)
		fatalx("%s: an entry is still open", __func__);
	head = dl_header(dl, reason, received_ms, len);
	n = strlen(head) - 1;			/* the closing brace goes */
	if (dl_room(dl, n + 17 + (len + 2) / 3 * 4 + 3) == -1) {
		free(head);
		return -1;
	}
	dl->open = true;
	dl->failed = false;
	dl->ncarry = 0;
	rv = dl_put(dl, head, n) == 0 && dl_put(dl, ",\"body_base64\":\"",
	    16) == 0 ? 0 : -1;
	free(head);
	if (rv == -1)
		dl_undo(dl);
	return rv;
}

int
deadletter_more(struct deadletter *dl, const void *p, size_t len)
{
	const unsigned char	*in = p;
	unsigned char		 block[B64_CHUNK + 3], out[B64_CHUNK / 3 * 4 + 8];
	size_t			 n, k;

	if (!dl->open || dl->failed)
		return -1;
	while (len > 0) {
		memcpy(block, dl->carry, dl->ncarry);
		n = len < B64_CHUNK ? len : B64_CHUNK;
		memcpy(block + dl->ncarry, in, n);
		in += n;
		len -= n;
		n += dl->ncarry;
		k = n / 3 * 3;			/* whole groups only */
		dl->ncarry = n - k;
		memcpy(dl->carry, block + k, dl->ncarry);
		if (k > 0 && dl_put(dl, out, (size_t)EVP_EncodeBlock(out,
		    block, (int)k)) == -1)
			return -1;
	}
	return 0;
}

int
deadletter_end(struct deadletter *dl)
{
	unsigned char	 out[8];
	int		 n;

	if (!dl->open)
		return -1;
	if (!dl->failed && dl->ncarry > 0) {
		n = EVP_EncodeBlock(out, dl->carry, (int)dl->ncarry);
		(void)dl_put(dl, out, (size_t)n);
	}
	if (dl->failed || dl_put(dl, "\"}\n", 3) == -1) {
		dl_undo(dl);
		return -1;
	}
	return dl_sync(dl);
}

void
deadletter_abort(struct deadletter *dl)
{
	if (dl->open)
		dl_undo(dl);
}

uint64_t
deadletter_bytes(const struct deadletter *dl)
{
	return dl->held;
}

bool
deadletter_full(struct deadletter *dl, time_t *since)
{
	if (!dl->full)
		return false;
	if (dl->broken && clock_mono_s() < dl->retry)
		goto full;
	dl->held = dl_count(dl);
	if (dl->held + dl->need <= dl->max_bytes) {
		dl->full = false;
		if (dl->broken)
			log_state(LOG_LEVEL_INFO, "stream %s: trying the "
			    "dead-letter store again", dl->name);
		else
			log_state(LOG_LEVEL_INFO, "stream %s: the dead-letter "
			    "store has room again (%" PRIu64 " bytes held)",
			    dl->name, dl->held);
		dl->broken = false;
		return false;
	}
 full:
	if (since != NULL)
		*since = dl->full_since;
	return true;
}

/* The entry's first members, as a JSON object text (malloc'd). */
static char *
dl_header(const struct deadletter *dl, const char *reason, int64_t ms,
    uint64_t len)
{
	json_object	*o;
	char		 when[64], *s;
	time_t		 t = (time_t)(ms / 1000);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	(void)snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	if ((o = json_object_new_object()) == NULL)
		fatalx("%s: out of memory", __func__);
	json_object_object_add(o, "stream", json_object_new_string(dl->name));
	json_object_object_add(o, "received_at", json_object_new_string(when));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "size", json_object_new_uint64(len));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* Make the file ready for an entry of n bytes, or refuse it: full. */
static int
dl_room(struct deadletter *dl, uint64_t n)
{
	struct stat	 sb;

	if (dl->broken && clock_mono_s() < dl->retry)
		return -1;
	if (dl->held + n > dl->max_bytes)
		dl->held = dl_count(dl);	/* files may have gone */
	if (dl->held + n > dl->max_bytes) {
		if (!dl->full)
			log_state(LOG_LEVEL_WARN, "stream %s: the "
			    "dead-letter store is full "
			    "(%" PRIu64 " bytes held, deadletter_max_bytes "
			    "%" PRIu64 "): malformed messages stay in the "
			    "broker, unacked, until files are removed from "
			    "%s", dl->name, dl->held, dl->max_bytes, dl->dir);
		dl->full = true;
		dl->need = n;
		dl->full_since = clock_mono_s();
		return -1;
	}
	if (dl_open(dl) == -1)
		goto fail;
	if (fstat(dl->fd, &sb) == 0 && sb.st_size > 0 &&
	    (uint64_t)sb.st_size + n > dl->rotate && dl_rotate(dl) == -1)
		goto fail;
	if ((dl->start = lseek(dl->fd, 0, SEEK_END)) == -1) {
		log_warn("dead-letter: %s", dl->path);
		goto fail;
	}
	return 0;
 fail:
	dl_broken(dl);
	return -1;
}

/*
 * The disk refused an entry (logged): refuse entries for DL_RETRY_SEC, so
 * that the hold gives the messages back to the broker and a failing disk
 * is not tried again for every message.
 */
static void
dl_broken(struct deadletter *dl)
{
	if (!dl->full) {
		log_state(LOG_LEVEL_WARN, "stream %s: the dead-letter store "
		    "cannot be written (see above): malformed messages stay "
		    "in the broker, unacked; trying again in %d s", dl->name,
		    DL_RETRY_SEC);
		dl->full = true;
		dl->need = 0;
		dl->full_since = clock_mono_s();
	}
	dl->broken = true;
	dl->retry = clock_mono_s() + DL_RETRY_SEC;
}

/* Open NAME.jsonl; again if it was moved or removed under us. */
static int
dl_open(struct deadletter *dl)
{
	struct stat	 a, b;

	if (dl->fd != -1 && (stat(dl->path, &a) == -1 ||
	    fstat(dl->fd, &b) == -1 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev)) {
		close(dl->fd);
		dl->fd = -1;
	}
	if (dl->fd != -1)
		return 0;
	if (mkdir(dl->dir, 0750) == -1 && errno != EEXIST) {
		log_warn("dead-letter: mkdir %s", dl->dir);
		return -1;
	}
	dl->fd = open(dl->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (dl->fd == -1) {
		log_warn("dead-letter: %s", dl->path);
		return -1;
	}
	return 0;
}

/* The current file becomes NAME-YYYYmmddTHHMMSSZ[-N].jsonl. */
static int
dl_rotate(struct deadletter *dl)
{
	char		 stamp[32], *to = NULL;
	time_t		 now = time(NULL);
	struct tm	 tm;
	int		 i, rv;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < 1000; i++) {
		free(to);
		if (i == 0)
			xasprintf(&to, "%s/%s-%s.jsonl", dl->dir, dl->name,
			    stamp);
		else
			xasprintf(&to, "%s/%s-%s-%d.jsonl", dl->dir, dl->name,
			    stamp, i);
		if (access(to, F_OK) == -1 && errno == ENOENT)
			break;
	}
	close(dl->fd);
	dl->fd = -1;
	/* ENOENT: an admin moved it away since dl_open looked; a new one. */
	if ((rv = rename(dl->path, to)) == -1 && errno != ENOENT) {
		log_warn("dead-letter: rename %s", dl->path);
		free(to);
		return -1;
	}
	if (rv == 0)
		log_info("stream %s: dead letters rotated to %s", dl->name,
		    to);
	free(to);
	(void)fsio_sync_dir(dl->dir);
	return dl_open(dl);
}

/* Bytes in NAME.jsonl and every NAME-<stamp>.jsonl. */
static uint64_t
dl_count(const struct deadletter *dl)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 sb;
	uint64_t	 n = 0;

	if ((d = opendir(dl->dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (dl_is_ours(dl, e->d_name) &&
		    fstatat(dirfd(d), e->d_name, &sb, 0) == 0 &&
		    S_ISREG(sb.st_mode))
			n += (uint64_t)sb.st_size;
	closedir(d);
	return n;
}

/* NAME.jsonl, or NAME-YYYYmmddTHHMMSSZ[-N].jsonl (not another stream's). */
static bool
dl_is_ours(const struct deadletter *dl, const char *f)
{
	size_t	 n = strlen(dl->name), i;

	if (strncmp(f, dl->name, n) != 0)
		return false;
	f += n;
	if (strcmp(f, ".jsonl") == 0)
		return true;
	if (*f++ != '-')
		return false;
	for (i = 0; i < 16; i++)
		if (i == 8 ? f[i] != 'T' : i == 15 ? f[i] != 'Z' :
		    (f[i] < '0' || f[i] > '9'))
			return false;
	f += 16;
	if (*f == '-')
		for (f++; *f >= '0' && *f <= '9'; f++)
			;
	return strcmp(f, ".jsonl") == 0;
}

static int
dl_put(struct deadletter *dl, const void *p, size_t n)
{
	const char	*s = p;
	ssize_t		 w;

	while (!dl->failed && n > 0) {
		if ((w = write(dl->fd, s, n)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("dead-letter: write %s", dl->path);
			dl->failed = true;
			dl_broken(dl);
			break;
		}
		s += w;
		n -= (size_t)w;
		dl->held += (uint64_t)w;
	}
	return dl->failed ? -1 : 0;
}

static int
dl_sync(struct deadletter *dl)
{
	if (fsync(dl->fd) == -1) {
		log_warn("dead-letter: fsync %s", dl->path);
		dl_undo(dl);
		dl_broken(dl);
		return -1;
	}
	dl->open = false;
	return 0;
}

/* Take the open entry back out of the file. */
static void
dl_undo(struct deadletter *dl)
{
	off_t	 end;

	if ((end = lseek(dl->fd, 0, SEEK_END)) != -1 && end > dl->start) {
		if (ftruncate(dl->fd, dl->start) == -1)
			log_warn("dead-letter: truncate %s", dl->path);
		else
			dl->held -= (uint64_t)(end - dl->start);
	}
	dl->open = false;
	dl->failed = false;
}

/* The body as a JSON string, or base64 when it is not clean UTF-8. */
static json_object *
dl_body(const char *body, size_t len, const char **key)
{
	json_object	*s;
	unsigned char	*b64;

	if (utf8_valid(body, len)) {
		*key = "body";
		return json_object_new_string_len(body, (int)len);
	}
	*key = "body_base64";
	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock(b64, (const unsigned char *)body, (int)len);
	s = json_object_new_string((char *)b64);
	free(b64);
	return s;
}
