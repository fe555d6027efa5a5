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
 *
 * The fsync runs on a helper thread, one per file sink: the loop writes a
 * batch (into the page cache: quick), hands its fsync over and goes on
 * with every other stream and sink; the batch is accepted when the helper
 * says the fsync is done.  Records that come meanwhile make the next batch,
 * so a slow disk makes batches bigger, not the loop slower.  The fd is
 * never closed under the helper: rotating and reopening wait for the batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
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

/* The helper: one fsync at a time, asked and answered under mtx. */
struct file_sync {
	pthread_t	 thread;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	int		 want;		/* the fd to fsync; -1: nothing asked */
	bool		 done;		/* answered: err is 0 or an errno */
	int		 err;
	bool		 quit;
	int		 pipe[2];	/* the helper wakes the loop */
};

struct file_sink {
	int		 fd;
	struct event	*retry_ev;
	struct event	*age_ev;	/* rotate_age, or NULL */
	struct event	*sync_ev;	/* the helper's answer came */
	struct event	*next_ev;	/* the next batch, after this turn */
	struct file_sync sync;
	struct sink_recq batch;		/* written, its fsync running */
	off_t		 start;		/* where the batch starts */
	bool		 syncing;
	bool		 rotate;	/* asked while syncing: after it */
	bool		 reopen;
};

static int	file_open(struct sink *, char **);
static void	file_flush(struct sink *);
static void	file_close(struct sink *);
static void	file_reopen(struct sink *);
static void	file_rotate(struct sink *);
static int	file_write_all(int, struct sink_rec *);
static void	file_failed(struct sink *);
static void	file_batch_done(struct sink *, int);
static int	file_sync_start(struct file_sink *, char **);
static void	file_sync_stop(struct file_sink *);
static void	*file_sync_main(void *);
static void	file_synced_cb(int, short, void *);
static void	file_flush_cb(int, short, void *);
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
	TAILQ_INIT(&f->batch);
	if (file_sync_start(f, cause) == -1) {
		close(f->fd);
		free(f);
		return -1;
	}
	f->sync_ev = event_new(sink_base(s), f->sync.pipe[0],
	    EV_READ | EV_PERSIST, file_synced_cb, s);
	f->retry_ev = evtimer_new(sink_base(s), file_flush_cb, s);
	f->next_ev = event_new(sink_base(s), -1, 0, file_flush_cb, s);
	if (sc->rotate_age > 0)
		f->age_ev = evtimer_new(sink_base(s), file_age_cb, s);
	if (f->sync_ev == NULL || f->next_ev == NULL ||
	    event_add(f->sync_ev, NULL) == -1)
		fatalx("%s: event_new", __func__);
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

	if (f->syncing)
		f->rotate = true;
	else if (lseek(f->fd, 0, SEEK_END) > 0)
		file_rotate(s);
	else
		file_age_arm(s);
}

static void
file_flush_cb(int fd __unused, short ev __unused, void *arg)
{
	file_flush(arg);
}

/* Write the whole pending queue, then have it fsynced: all or none. */
static void
file_flush(struct sink *s)
{
	struct file_sink *f = sink_priv(s);
	struct sink_rec	*r;

	if (f->syncing || sink_first(s) == NULL ||
	    evtimer_pending(f->retry_ev, NULL))
		return;
	if ((f->start = lseek(f->fd, 0, SEEK_END)) == -1 ||
	    file_write_all(f->fd, sink_first(s)) == -1) {
		file_failed(s);
		return;
	}
	while ((r = sink_take(s)) != NULL)
		TAILQ_INSERT_TAIL(&f->batch, r, entry);
	pthread_mutex_lock(&f->sync.mtx);
	f->sync.want = f->fd;
	pthread_cond_signal(&f->sync.cv);
	pthread_mutex_unlock(&f->sync.mtx);
	f->syncing = true;
}

/* A write or fsync failed (errno): cut the file back, retry later. */
static void
file_failed(struct sink *s)
{
	const struct sink_conf *sc = sink_conf(s);
	struct file_sink *f = sink_priv(s);
	struct timeval	 tv = { FILE_RETRY_SEC, 0 };

	log_warn("sink %s: %s", sc->name, sc->path);
	if (f->start != -1 && ftruncate(f->fd, f->start) == -1)
		log_warn("sink %s: truncate", sc->name);
	sink_count(s, SSK_FAILED);
	sink_set_up(s, false);
	evtimer_add(f->retry_ev, &tv);
}

/* The helper answered: the batch is accepted, or goes back to pending. */
static void
file_synced_cb(int fd, short ev __unused, void *arg)
{
	struct sink	*s = arg;
	struct file_sink *f = sink_priv(s);
	char		 drain[64];
	bool		 done;
	int		 err;

	while (read(fd, drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&f->sync.mtx);
	done = f->sync.done;
	err = f->sync.err;
	f->sync.done = false;
	pthread_mutex_unlock(&f->sync.mtx);
	if (!done || !f->syncing)
		return;
	file_batch_done(s, err);
	if (f->reopen)
		file_reopen(s);
	if (f->rotate || (err == 0 && sink_conf(s)->rotate_bytes > 0 &&
	    lseek(f->fd, 0, SEEK_END) >= (off_t)sink_conf(s)->rotate_bytes))
		file_rotate(s);
	/* What came meanwhile, once this turn's deliveries are in too. */
	event_active(f->next_ev, EV_TIMEOUT, 0);
}

/* Finish the batch by the fsync's answer (0 or an errno). */
static void
file_batch_done(struct sink *s, int err)
{
	struct file_sink *f = sink_priv(s);
	struct sink_rec	*r;

	f->syncing = false;
	if (err != 0) {
		while ((r = TAILQ_LAST(&f->batch, sink_recq)) != NULL) {
			TAILQ_REMOVE(&f->batch, r, entry);
			sink_putback(s, r);	/* in order, at the head */
		}
		errno = err;
		file_failed(s);
		return;
	}
	sink_set_up(s, true);
	while ((r = TAILQ_FIRST(&f->batch)) != NULL) {
		TAILQ_REMOVE(&f->batch, r, entry);
		sink_finish(s, r, SINK_OK);
	}
}

static int
file_sync_start(struct file_sink *f, char **cause)
{
	struct file_sync *y = &f->sync;
	sigset_t	 all, old;

	y->want = -1;
	if (pipe2(y->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		cause_printf(cause, "pipe: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_init(&y->mtx, NULL);
	pthread_cond_init(&y->cv, NULL);
	/* Signals are the loop's: the helper starts with all blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	errno = pthread_create(&y->thread, NULL, file_sync_main, y);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (errno != 0)
		fatal("%s: pthread_create", __func__);
	return 0;
}

/* Let the helper finish what it was asked, then end it. */
static void
file_sync_stop(struct file_sink *f)
{
	struct file_sync *y = &f->sync;

	pthread_mutex_lock(&y->mtx);
	y->quit = true;
	pthread_cond_signal(&y->cv);
	pthread_mutex_unlock(&y->mtx);
	pthread_join(y->thread, NULL);
	pthread_mutex_destroy(&y->mtx);
	pthread_cond_destroy(&y->cv);
	close(y->pipe[0]);
	close(y->pipe[1]);
}

static void *
file_sync_main(void *arg)
{
	struct file_sync *y = arg;
	ssize_t		 n;
	int		 fd, rv;

	pthread_mutex_lock(&y->mtx);
	for (;;) {
		while (y->want == -1 && !y->quit)
			pthread_cond_wait(&y->cv, &y->mtx);
		if (y->want == -1)
			break;			/* quit, nothing asked */
		fd = y->want;
		pthread_mutex_unlock(&y->mtx);
		while ((rv = fsync(fd)) == -1 && errno == EINTR)
			;
		pthread_mutex_lock(&y->mtx);
		y->err = rv == -1 ? errno : 0;
		y->want = -1;
		y->done = true;
		n = write(y->pipe[1], "", 1);	/* full: the loop knows */
		(void)n;
	}
	pthread_mutex_unlock(&y->mtx);
	return NULL;
}

/* path.N-1 -> path.N ... path -> path.1, then a new path. */
static void
file_rotate(struct sink *s)
{
	const struct sink_conf *sc = sink_conf(s);
	struct file_sink *f = sink_priv(s);
	char		 from[PATH_MAX], to[PATH_MAX];
	int		 i;

	f->rotate = false;
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

	if (f->syncing) {		/* not under the helper's fsync */
		f->reopen = true;
		return;
	}
	f->reopen = false;
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
	/* A batch being fsynced: wait for the disk, then finish it. */
	event_free(f->sync_ev);
	file_sync_stop(f);
	if (f->syncing)
		file_batch_done(s, f->sync.done ? f->sync.err : EIO);
	if (f->fd != -1)
		close(f->fd);
	event_free(f->next_ev);
	event_free(f->retry_ev);
	if (f->age_ev != NULL)
		event_free(f->age_ev);
	free(f);
	sink_set_priv(s, NULL);
}
