/*
 * sink_file.c: appends one record per line to a file.  A flush writes every
 * pending record and then fsyncs once: only after the fsync are the records
 * accepted.  On a write error the file is cut back to where the batch
 * started, so a retry never leaves half a line behind.
 *
 * Rotation happens between batches, after the fsync: past rotate_bytes, or
 * rotate_age after the file was started (a timer: an idle file rotates
 * too), the file becomes path.1 (path.1 becomes path.2 ..., path.N goes)
 * and a new one is opened, so no accepted record is ever in a file being
 * moved.
 * SIGUSR1 (sink_reopen) reopens the path, for logrotate's "create".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "sink_kind.h"
#include "xmalloc.h"

#define FILE_RETRY_SEC	1
#define FILE_IOV_MAX	64

struct file_sink {
	int		 fd;
	struct event	*retry_ev;
	struct event	*age_ev;	/* rotate_age, or NULL */
};

static int	file_open(struct sink *, char **);
static void	file_flush(struct sink *);
static void	file_close(struct sink *);
static void	file_reopen(struct sink *);
static void	file_rotate(struct sink *);
static int	file_write_all(int, struct sink_rec *);
static void	file_retry_cb(int, short, void *);
static void	file_age_cb(int, short, void *);
static void	file_age_arm(struct sink *);

const struct sink_ops sink_file_ops = {
	.name = "file",
	.open = file_open,
	.flush = file_flush,
	.close = file_close,
	.reopen = file_reopen,
};

static int
file_open(struct sink *s, char **cause)
{
	const struct sink_conf *sc = sink_conf(s);
	struct file_sink *f;

	f = xcalloc(1, sizeof(*f));
	f->fd = open(sc->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (f->fd == -1) {
		cause_printf(cause, "sink %s: %s: %s", sc->name, sc->path,
		    strerror(errno));
		free(f);
		return -1;
	}
	f->retry_ev = evtimer_new(sink_base(s), file_retry_cb, s);
	if (sc->rotate_age > 0)
		f->age_ev = evtimer_new(sink_base(s), file_age_cb, s);
	sink_set_priv(s, f);
	sink_set_up(s, true);
	file_age_arm(s);
	return 0;
}

/* rotate_age from now (the file was started, or restarted with us). */
static void
file_age_arm(struct sink *s)
{
	struct file_sink *f = sink_priv(s);
	struct timeval	 tv = { sink_conf(s)->rotate_age, 0 };

	if (f->age_ev != NULL)
		evtimer_add(f->age_ev, &tv);
}

/*
 * The timer runs between batches (a flush writes and fsyncs in one turn):
 * an empty file stays, and its age starts again.
 */
static void
file_age_cb(int fd __unused, short ev __unused, void *arg)
{
	struct sink	*s = arg;
	struct file_sink *f = sink_priv(s);

	if (lseek(f->fd, 0, SEEK_END) > 0)
		file_rotate(s);
	else
		file_age_arm(s);
}

static void
file_retry_cb(int fd __unused, short ev __unused, void *arg)
{
	file_flush(arg);
}

/* Write the whole pending queue, then fsync; accept all or none. */
static void
file_flush(struct sink *s)
{
	const struct sink_conf *sc = sink_conf(s);
	struct file_sink *f = sink_priv(s);
	struct timeval	 tv = { FILE_RETRY_SEC, 0 };
	off_t		 start;

	if (sink_first(s) == NULL || evtimer_pending(f->retry_ev, NULL))
		return;
	if ((start = lseek(f->fd, 0, SEEK_END)) == -1 ||
	    file_write_all(f->fd, sink_first(s)) == -1 || fsync(f->fd) == -1) {
		log_warn("sink %s: %s", sc->name, sc->path);
		if (start != -1 && ftruncate(f->fd, start) == -1)
			log_warn("sink %s: truncate", sc->name);
		sink_count(s, SSK_FAILED);
		sink_set_up(s, false);
		evtimer_add(f->retry_ev, &tv);
		return;
	}
	sink_set_up(s, true);
	while (sink_first(s) != NULL)
		sink_done_first(s, SINK_OK);
	if (sc->rotate_bytes > 0 && lseek(f->fd, 0, SEEK_END) >=
	    (off_t)sc->rotate_bytes)
		file_rotate(s);
}

/* path.N-1 -> path.N ... path -> path.1, then a new path. */
static void
file_rotate(struct sink *s)
{
	const struct sink_conf *sc = sink_conf(s);
	char		 from[PATH_MAX], to[PATH_MAX];
	int		 i;

	for (i = sc->rotate_keep; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", sc->path);
		else
			snprintf(from, sizeof(from), "%s.%d", sc->path, i - 1);
		snprintf(to, sizeof(to), "%s.%d", sc->path, i);
		if (rename(from, to) == -1 && errno != ENOENT) {
			log_warn("sink %s: rotate %s", sc->name, from);
			file_age_arm(s);	/* try again later */
			return;		/* go on appending to the same file */
		}
	}
	log_info("sink %s: rotated %s", sc->name, sc->path);
	file_reopen(s);
	file_age_arm(s);
}

/* Open the path again; until that works the sink is down and retries. */
static void
file_reopen(struct sink *s)
{
	const struct sink_conf *sc = sink_conf(s);
	struct file_sink *f = sink_priv(s);
	int		 fd;

	fd = open(sc->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1) {
		log_warn("sink %s: reopen %s", sc->name, sc->path);
		return;		/* keep writing to the file we have */
	}
	close(f->fd);
	f->fd = fd;
}

/* writev r and the records after it in groups, coping with short writes. */
static int
file_write_all(int fd, struct sink_rec *r)
{
	struct iovec	 iov[FILE_IOV_MAX];
	ssize_t		 n;
	int		 cnt, i;

	while (r != NULL) {
		for (cnt = 0; r != NULL && cnt < FILE_IOV_MAX;
		    r = sink_next(r), cnt++) {
			iov[cnt].iov_base = r->data;
			iov[cnt].iov_len = r->len;
		}
		for (i = 0; i < cnt; ) {
			if ((n = writev(fd, iov + i, cnt - i)) == -1) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			for (; i < cnt && (size_t)n >= iov[i].iov_len; i++)
				n -= iov[i].iov_len;
			if (i < cnt) {
				iov[i].iov_base = (char *)iov[i].iov_base + n;
				iov[i].iov_len -= n;
			}
		}
	}
	return 0;
}

static void
file_close(struct sink *s)
{
	struct file_sink *f = sink_priv(s);

	if (f == NULL)
		return;
	if (f->fd != -1)
		close(f->fd);
	event_free(f->retry_ev);
	if (f->age_ev != NULL)
		event_free(f->age_ev);
	free(f);
	sink_set_priv(s, NULL);
}
