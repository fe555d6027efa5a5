/* spool.c: a per-sink disk spool of framed records in append-only segments. */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crc32.h"
#include "log.h"
#include "spool.h"
#include "xmalloc.h"

/* Segment numbers count up from 1 and never get near this: a larger one
 * (a crafted head or file name) is not ours, and next_seq cannot wrap. */
#define SEQ_MAX		(UINT64_MAX / 2)
#define SPOOL_MAGIC	"ASR1"
#define WBUF_FLUSH	(256 * 1024)	/* flush the buffer beyond this */
#define RBUF_CHUNK	(64 * 1024)	/* read ahead this much */
#define SEG_NAME_SIZE	25		/* 20 digits, ".seg", NUL */
#define HEAD_FILE	"head"
#define HEAD_LEN	51		/* "SEQ OFFSET CRC\n", fixed width */

struct seg {
	uint64_t	 seq;
	uint64_t	 size;		/* valid bytes, buffered too */
};

/* A place in the spool: an index in segs and a byte offset in it. */
struct pos {
	size_t		 seg;
	uint64_t	 off;
};

enum rec_status {
	REC_OK,
	REC_END,
	REC_BAD,
	REC_IOERR,
};

struct spool {
	char		*dir;
	int		 dirfd;		/* flock'd while in use */
	int		 hfd;		/* the head file, or -1 */
	uint64_t	 max_bytes;
	uint64_t	 seg_max;
	struct seg	*segs;		/* oldest first */
	size_t		 nsegs;
	size_t		 segs_cap;
	uint64_t	 next_seq;
	uint64_t	 head_off;	/* first record left, in segs[0] */
	uint64_t	 nrec;		/* records not consumed */
	uint64_t	 bytes;		/* sum of the segment sizes */
	uint64_t	 pending;	/* records appended since the sync */
	uint64_t	 sync_seq;	/* tail at the last sync, or 0 */
	uint64_t	 sync_size;	/* and its size then */
	bool		 dir_dirty;	/* a segment was created since */
	int		 wfd;		/* the tail, -1 when sealed */
	struct buf	 wbuf;
	int		 rfd;		/* segment read, its cache: */
	uint64_t	 rseq;
	char		*rbuf;
	size_t		 rcap;
	size_t		 rlen;
	uint64_t	 rbase;
	struct pos	 cur;		/* where record cur_idx starts */
	uint64_t	 cur_idx;
	const char	*reason;	/* why the last record read was bad */
	struct spool_io	 io;
};

static void		 put_le32(char *, uint32_t);
static uint32_t		 get_le32(const char *);
static void		 close_fd(int *);
static void		 seg_name(char *, uint64_t);
static int		 seg_parse(const char *, uint64_t *);
static int		 cmp_u64(const void *, const void *);
static int		 seg_list(struct spool *, uint64_t **, size_t *);
static void		 seg_push(struct spool *, uint64_t, uint64_t);
static void		 seg_unlink(struct spool *, uint64_t);
static void		 seg_pop(struct spool *);
static int		 seg_truncate(struct spool *, uint64_t, uint64_t);
static int		 mkdir_sync(char *);
static int		 dir_open(struct spool *, char **);
static void		 head_read(struct spool *, uint64_t *, uint64_t *);
static void		 head_write(struct spool *, uint64_t, uint64_t);
static void		 head_move(struct spool *, const struct pos *);
static int		 rd_open(struct spool *, uint64_t);
static void		 rd_close(struct spool *);
static int		 rd_fill(struct spool *, uint64_t, size_t, size_t);
static int		 rd_fetch(struct spool *, uint64_t, uint64_t, size_t,
			    const char **);
static enum rec_status	 rec_bad(struct spool *, const char *);
static enum rec_status	 rec_read(struct spool *, const struct pos *,
			    const char **, uint32_t *);
static void		 rec_log(struct spool *, const struct pos *,
			    enum rec_status);
static void		 pos_advance(struct spool *, struct pos *, uint32_t);
static int		 walk(struct spool *, struct pos *, uint64_t);
static void		 cursor_reset(struct spool *);
static int		 scan(struct spool *, uint64_t, uint64_t *,
			    uint64_t *);
static int		 scan_cut(struct spool *, const struct pos *);
static int		 load_segment(struct spool *, uint64_t, uint64_t,
			    uint64_t, char **);
static int		 load(struct spool *, char **);
static uint64_t		 seg_limit(const struct spool *);
static int		 tail_open(struct spool *);
static int		 tail_roll(struct spool *);
static void		 tail_rewind(struct spool *);
static int		 wflush(struct spool *);
static void		 mark_synced(struct spool *);
static void		 rollback(struct spool *);
static int		 spool_fail(struct spool *, const char *);
static void		 spool_reset(struct spool *);
static void		 spool_free(struct spool *);
static void		 consumed(struct spool *, uint64_t,
			    const struct pos *);

static void
put_le32(char *p, uint32_t v)
{
	p[0] = (char)(v & 0xff);
	p[1] = (char)((v >> 8) & 0xff);
	p[2] = (char)((v >> 16) & 0xff);
	p[3] = (char)((v >> 24) & 0xff);
}

static uint32_t
get_le32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 |
	    (uint32_t)u[3] << 24;
}

static void
close_fd(int *fd)
{
	int	 saved_errno = errno;

	if (*fd != -1)
		close(*fd);
	*fd = -1;
	errno = saved_errno;
}

static void
seg_name(char *name, uint64_t seq)
{
	(void)snprintf(name, SEG_NAME_SIZE, "%020" PRIu64 ".seg", seq);
}

/* True (1) when name is a segment's, with its sequence number in *seq. */
static int
seg_parse(const char *name, uint64_t *seq)
{
	char	*end;

	if (strlen(name) != SEG_NAME_SIZE - 1 ||
	    strspn(name, "0123456789") != 20 || strcmp(name + 20, ".seg") != 0)
		return 0;
	*seq = strtoull(name, &end, 10);
	return *seq != 0 && *seq < SEQ_MAX && end == name + 20;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The sequence numbers of the segment files, sorted. */
static int
seg_list(struct spool *sp, uint64_t **seqs, size_t *n)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 cap = 0;
	int		 fd;

	*seqs = NULL;
	*n = 0;
	if ((fd = dup(sp->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		close_fd(&fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*seqs = xreallocarray(*seqs, cap, sizeof(**seqs));
		}
		*n += seg_parse(de->d_name, &(*seqs)[*n]);
	}
	closedir(d);
	qsort(*seqs, *n, sizeof(**seqs), cmp_u64);
	return 0;
}

/* Appends a segment to the list (grown as needed). */
static void
seg_push(struct spool *sp, uint64_t seq, uint64_t size)
{
	size_t	 cap;

	if (sp->nsegs == sp->segs_cap) {
		cap = sp->segs_cap ? sp->segs_cap * 2 : 8;
		sp->segs = xreallocarray(sp->segs, cap, sizeof(*sp->segs));
		sp->segs_cap = cap;
	}
	sp->segs[sp->nsegs].seq = seq;
	sp->segs[sp->nsegs].size = size;
	sp->nsegs++;
}

/* Removes a segment file, closing the reader on it first. */
static void
seg_unlink(struct spool *sp, uint64_t seq)
{
	char	 name[SEG_NAME_SIZE];

	if (sp->rfd != -1 && sp->rseq == seq)
		rd_close(sp);
	seg_name(name, seq);
	if (unlinkat(sp->dirfd, name, 0) == -1 && errno != ENOENT)
		log_warn("spool %s: unlink %s", sp->dir, name);
}

/* Removes the newest segment, file and all. */
static void
seg_pop(struct spool *sp)
{
	struct seg	*t = &sp->segs[sp->nsegs - 1];

	close_fd(&sp->wfd);
	seg_unlink(sp, t->seq);
	sp->bytes -= t->size;
	sp->nsegs--;
}

/* Cuts segment seq at size and makes that durable. */
static int
seg_truncate(struct spool *sp, uint64_t seq, uint64_t size)
{
	char	 name[SEG_NAME_SIZE];
	int	 fd, rv = -1;

	rd_close(sp);
	seg_name(name, seq);
	if ((fd = openat(sp->dirfd, name, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (ftruncate(fd, (off_t)size) == 0 && fsync(fd) == 0)
		rv = 0;
	close_fd(&fd);
	return rv;
}

/* mkdir 0700 that also fsyncs the parent when it created the directory. */
static int
mkdir_sync(char *path)
{
	char	*slash;
	int	 fd;

	if (mkdir(path, 0700) == -1)
		return errno == EEXIST ? 0 : -1;
	if ((slash = strrchr(path, '/')) == NULL)
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else {
		*slash = '\0';
		fd = open(slash == path ? "/" : path,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		*slash = '/';
	}
	if (fd != -1 && fsync(fd) == -1)
		log_warn("spool: fsync parent of %s", path);
	close_fd(&fd);
	return 0;
}

/* Creates the spool directory (and its parents), opens and locks it. */
static int
dir_open(struct spool *sp, char **cause)
{
	char	*path, *p;

	path = xstrdup(sp->dir);
	for (p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir_sync(path) == -1)
			break;
		*p = '/';
	}
	if (p != NULL || mkdir_sync(path) == -1) {
		cause_printf(cause, "spool %s: mkdir %s: %s", sp->dir, path,
		    strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	sp->dirfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd == -1 || flock(sp->dirfd, LOCK_EX | LOCK_NB) == -1) {
		cause_printf(cause, "spool %s: %s", sp->dir, errno == EWOULDBLOCK ?
		    "in use by another process" : strerror(errno));
		return -1;
	}
	return 0;
}

/* Where replay starts, from the head file; 0 0 when there is none. */
static void
head_read(struct spool *sp, uint64_t *seq, uint64_t *off)
{
	char	 b[HEAD_LEN + 1], *end;

	*seq = *off = 0;
	sp->hfd = openat(sp->dirfd, HEAD_FILE, O_RDWR | O_CLOEXEC);
	if (sp->hfd == -1)
		return;
	if (pread(sp->hfd, b, HEAD_LEN, 0) != HEAD_LEN)
		goto bad;
	b[HEAD_LEN] = '\0';
	*seq = strtoull(b, &end, 10);
	/* Segment numbers stay far below 2^64: a larger one is not ours. */
	if (end != b + 20 || *end != ' ' || *seq >= SEQ_MAX)
		goto bad;
	*off = strtoull(end + 1, &end, 10);
	if (end == b + 41 && strtoul(end, NULL, 16) == crc32_update(0, b, 41))
		return;
bad:
	log_warnx("spool %s: head file unreadable, replaying everything",
	    sp->dir);
	*seq = *off = 0;
}

/*
 * Overwrites the head file in place: one pwrite, no fsync (losing it only
 * replays); its CRC catches a torn write.
 */
static void
head_write(struct spool *sp, uint64_t seq, uint64_t off)
{
	char	 b[HEAD_LEN + 1];

	(void)snprintf(b, sizeof(b), "%020" PRIu64 " %020" PRIu64, seq, off);
	(void)snprintf(b + 41, sizeof(b) - 41, " %08" PRIx32 "\n",
	    crc32_update(0, b, 41));
	if (sp->hfd == -1)
		sp->hfd = openat(sp->dirfd, HEAD_FILE, O_RDWR | O_CREAT |
		    O_CLOEXEC, 0600);
	if (sp->hfd == -1 || pwrite(sp->hfd, b, HEAD_LEN, 0) != HEAD_LEN)
		log_warn("spool %s: head file", sp->dir);
}

/* Makes p the head: records the new head, then drops the segments before it. */
static void
head_move(struct spool *sp, const struct pos *p)
{
	size_t	 k;

	head_write(sp, sp->segs[p->seg].seq, p->off);
	for (k = 0; k < p->seg; k++) {
		seg_unlink(sp, sp->segs[k].seq);
		sp->bytes -= sp->segs[k].size;
	}
	memmove(sp->segs, sp->segs + p->seg,
	    (sp->nsegs - p->seg) * sizeof(*sp->segs));
	sp->nsegs -= p->seg;
	sp->head_off = p->off;
}

/* Opens segment seq for reading, unless it is the one open already. */
static int
rd_open(struct spool *sp, uint64_t seq)
{
	char	 name[SEG_NAME_SIZE];

	if (sp->rfd != -1 && sp->rseq == seq)
		return 0;
	rd_close(sp);
	seg_name(name, seq);
	if ((sp->rfd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	sp->rseq = seq;
	return 0;
}

static void
rd_close(struct spool *sp)
{
	close_fd(&sp->rfd);
	sp->rlen = 0;
}

/* Reads up to want bytes at off into the cache; -1 when not even n came. */
static int
rd_fill(struct spool *sp, uint64_t off, size_t want, size_t n)
{
	ssize_t	 r = 0;

	if (want > sp->rcap) {
		sp->rbuf = xreallocarray(sp->rbuf, want, 1);
		sp->rcap = want;
	}
	sp->rbase = off;
	for (sp->rlen = 0; sp->rlen < want; sp->rlen += (size_t)r) {
		r = pread(sp->rfd, sp->rbuf + sp->rlen, want - sp->rlen,
		    (off_t)(off + sp->rlen));
		if (r == -1 && errno == EINTR)
			r = 0;
		else if (r <= 0)
			break;
	}
	if (sp->rlen >= n)
		return 0;
	if (r == 0)
		errno = EIO;	/* the file is shorter than it was */
	sp->rlen = 0;
	return -1;
}

/* Points *p at bytes [off, off + n) of segment seq, read ahead in a cache. */
static int
rd_fetch(struct spool *sp, uint64_t seq, uint64_t off, size_t n,
    const char **p)
{
	if (rd_open(sp, seq) == -1)
		return -1;
	if (off < sp->rbase || off + n > sp->rbase + sp->rlen) {
		if (rd_fill(sp, off, n > RBUF_CHUNK ? n : RBUF_CHUNK, n) == -1)
			return -1;
	}
	*p = sp->rbuf + (off - sp->rbase);
	return 0;
}

static enum rec_status
rec_bad(struct spool *sp, const char *reason)
{
	sp->reason = reason;
	return REC_BAD;
}

/*
 * Checks the record at p and returns its length; with data, reads it and
 * checks its CRC too.  Lengths are bounded before anything is read.
 */
static enum rec_status
rec_read(struct spool *sp, const struct pos *p, const char **data,
    uint32_t *len)
{
	const struct seg *s = &sp->segs[p->seg];
	const char	*h;

	if (p->off == s->size)
		return REC_END;
	if (s->size - p->off < SPOOL_HEADER_LEN)
		return rec_bad(sp, "short header");
	if (rd_fetch(sp, s->seq, p->off, SPOOL_HEADER_LEN, &h) == -1)
		return REC_IOERR;
	if (memcmp(h, SPOOL_MAGIC, 4) != 0)
		return rec_bad(sp, "bad magic");
	if ((*len = get_le32(h + 4)) > SPOOL_RECORD_MAX)
		return rec_bad(sp, "length over the limit");
	if (*len > s->size - p->off - SPOOL_HEADER_LEN)
		return rec_bad(sp, "short record");
	if (data == NULL)
		return REC_OK;
	if (rd_fetch(sp, s->seq, p->off, SPOOL_HEADER_LEN + *len, &h) == -1)
		return REC_IOERR;
	*data = h + SPOOL_HEADER_LEN;
	if (crc32_update(0, *data, *len) != get_le32(h + 8))
		return rec_bad(sp, "CRC mismatch");
	return REC_OK;
}

/* Logs why the record at p could not be read. */
static void
rec_log(struct spool *sp, const struct pos *p, enum rec_status rs)
{
	uint64_t	 seq = sp->segs[p->seg].seq;

	if (rs == REC_IOERR)
		log_warn("spool %s: read segment %" PRIu64 " at %" PRIu64,
		    sp->dir, seq, p->off);
	else
		log_warnx("spool %s: segment %" PRIu64 ": %s at offset %"
		    PRIu64, sp->dir, seq, rs == REC_END ? "unexpected end" :
		    sp->reason, p->off);
}

/* Moves p past a record of len bytes, into the next segment at the end. */
static void
pos_advance(struct spool *sp, struct pos *p, uint32_t len)
{
	p->off += SPOOL_HEADER_LEN + (uint64_t)len;
	if (p->off == sp->segs[p->seg].size && p->seg + 1 < sp->nsegs) {
		p->seg++;
		p->off = 0;
	}
}

/* Moves p over n records, reading their headers only. */
static int
walk(struct spool *sp, struct pos *p, uint64_t n)
{
	enum rec_status	 rs;
	uint32_t	 len;

	for (; n > 0; n--) {
		if ((rs = rec_read(sp, p, NULL, &len)) != REC_OK) {
			rec_log(sp, p, rs);
			return -1;
		}
		pos_advance(sp, p, len);
	}
	return 0;
}

/* The read cursor back at the head. */
static void
cursor_reset(struct spool *sp)
{
	sp->cur.seg = 0;
	sp->cur.off = sp->head_off;
	sp->cur_idx = 0;
}

/*
 * Checks every record of the newest segment (pushed, with its file size),
 * cutting it at the first bad one; counts its records, and those before
 * mark (UINT64_MAX when mark is not a record boundary).
 */
static int
scan(struct spool *sp, uint64_t mark, uint64_t *nrec, uint64_t *before)
{
	struct pos	 p = { sp->nsegs - 1, 0 };
	enum rec_status	 rs;
	const char	*data;
	uint32_t	 len;

	*nrec = 0;
	*before = UINT64_MAX;
	for (;;) {
		if (p.off == mark)
			*before = *nrec;
		if ((rs = rec_read(sp, &p, &data, &len)) != REC_OK)
			break;
		p.off += SPOOL_HEADER_LEN + (uint64_t)len;
		(*nrec)++;
	}
	if (rs == REC_IOERR)
		return -1;
	return rs == REC_BAD ? scan_cut(sp, &p) : 0;
}

/* Logs the bad record at p and truncates its segment there. */
static int
scan_cut(struct spool *sp, const struct pos *p)
{
	struct seg	*s = &sp->segs[p->seg];

	log_warnx("spool %s: segment %" PRIu64 ": %s at offset %" PRIu64
	    ", truncated (%" PRIu64 " bytes dropped)", sp->dir, s->seq,
	    sp->reason, p->off, s->size - p->off);
	s->size = p->off;
	return seg_truncate(sp, s->seq, s->size);
}

/*
 * Adds segment seq to the spool after checking it (see scan); an empty or
 * consumed segment is removed; hoff is the head offset when seq is hseq.
 */
static int
load_segment(struct spool *sp, uint64_t seq, uint64_t hseq, uint64_t hoff,
    char **cause)
{
	struct stat	 st;
	uint64_t	 n, before, size;

	if (rd_open(sp, seq) == -1 || fstat(sp->rfd, &st) == -1)
		goto fail;
	seg_push(sp, seq, (uint64_t)st.st_size);
	if (scan(sp, seq == hseq ? hoff : UINT64_MAX, &n, &before) == -1)
		goto fail;
	sp->bytes += (size = sp->segs[sp->nsegs - 1].size);
	if (n == 0 || (seq == hseq && hoff >= size))
		seg_pop(sp);
	else if (seq == hseq && before == UINT64_MAX) {
		log_warnx("spool %s: head offset %" PRIu64 " is not a record "
		    "boundary; replaying segment %" PRIu64, sp->dir, hoff, seq);
		sp->nrec += n;
	} else if (seq == hseq) {
		sp->head_off = hoff;
		sp->nrec += n - before;
	} else
		sp->nrec += n;
	return 0;
fail:
	cause_printf(cause, "spool %s: segment %" PRIu64 ": %s", sp->dir, seq,
	    strerror(errno));
	return -1;
}

/* Rebuilds the spool from its directory. */
static int
load(struct spool *sp, char **cause)
{
	uint64_t	*seqs, hseq, hoff;
	size_t		 n, i;
	int		 rv = -1;

	if (seg_list(sp, &seqs, &n) == -1) {
		cause_printf(cause, "spool %s: %s", sp->dir, strerror(errno));
		return -1;
	}
	head_read(sp, &hseq, &hoff);
	sp->next_seq = (n > 0 && seqs[n - 1] > hseq ? seqs[n - 1] : hseq) + 1;
	for (i = 0; i < n; i++) {
		if (seqs[i] < hseq)
			seg_unlink(sp, seqs[i]);
		else if (load_segment(sp, seqs[i], hseq, hoff, cause) == -1)
			goto out;
	}
	if (sp->nsegs == 0)
		spool_reset(sp);
	else if (tail_open(sp) == -1) {
		cause_printf(cause, "spool %s: %s", sp->dir, strerror(errno));
		goto out;
	}
	mark_synced(sp);
	cursor_reset(sp);
	rv = 0;
out:
	free(seqs);
	return rv;
}

struct spool *
spool_open(const char *dir, uint64_t max_bytes, char **cause)
{
	struct spool	*sp;

	sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	sp->dirfd = sp->hfd = sp->wfd = sp->rfd = -1;
	sp->max_bytes = max_bytes;
	sp->seg_max = SPOOL_SEGMENT_SIZE;
	buf_init(&sp->wbuf, 0);
	spool_set_io(sp, NULL);
	if (dir_open(sp, cause) == -1 || load(sp, cause) == -1) {
		spool_free(sp);
		return NULL;
	}
	if (sp->nrec > 0)
		log_info("spool %s: %" PRIu64 " records (%" PRIu64 " bytes) "
		    "to replay", sp->dir, sp->nrec, sp->bytes);
	return sp;
}

static void
spool_free(struct spool *sp)
{
	close_fd(&sp->wfd);
	close_fd(&sp->hfd);
	rd_close(sp);
	close_fd(&sp->dirfd);
	buf_free(&sp->wbuf);
	free(sp->rbuf);
	free(sp->segs);
	free(sp->dir);
	free(sp);
}

void
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	(void)spool_sync(sp);
	spool_free(sp);
}

void
spool_set_segment_size(struct spool *sp, uint64_t size)
{
	sp->seg_max = size;
}

void
spool_set_io(struct spool *sp, const struct spool_io *io)
{
	sp->io.write = io != NULL && io->write != NULL ? io->write : write;
	sp->io.fsync = io != NULL && io->fsync != NULL ? io->fsync : fsync;
}

uint64_t
spool_records(const struct spool *sp)
{
	return sp->nrec;
}

uint64_t
spool_bytes(const struct spool *sp)
{
	return sp->bytes;
}

/*
 * Segment size: at most a quarter of max_bytes, so that the consumed part
 * of the oldest segment (on disk until it is all consumed) stays small.
 */
static uint64_t
seg_limit(const struct spool *sp)
{
	if (sp->max_bytes != 0 && sp->seg_max > sp->max_bytes / 4)
		return sp->max_bytes / 4;
	return sp->seg_max;
}

/* Opens the newest segment for appending. */
static int
tail_open(struct spool *sp)
{
	char	 name[SEG_NAME_SIZE];

	seg_name(name, sp->segs[sp->nsegs - 1].seq);
	sp->wfd = openat(sp->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
	return sp->wfd == -1 ? -1 : 0;
}

/* Writes out and fsyncs the tail, then starts a new segment. */
static int
tail_roll(struct spool *sp)
{
	char	 name[SEG_NAME_SIZE];
	int	 fd;

	if (sp->wfd != -1) {
		if (wflush(sp) == -1 ||
		    (sp->pending > 0 && sp->io.fsync(sp->wfd) == -1))
			return -1;
		close_fd(&sp->wfd);
	}
	seg_name(name, sp->next_seq);
	fd = openat(sp->dirfd, name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	seg_push(sp, sp->next_seq++, 0);
	sp->wfd = fd;
	sp->dir_dirty = true;
	return 0;
}

/* Cuts the tail back to its size at the last sync; seals it if that fails. */
static void
tail_rewind(struct spool *sp)
{
	struct seg	*t = &sp->segs[sp->nsegs - 1];

	t->size = sp->sync_size;
	if ((sp->wfd == -1 && tail_open(sp) == -1) ||
	    ftruncate(sp->wfd, (off_t)t->size) == -1) {
		log_warn("spool %s: truncate segment %" PRIu64, sp->dir,
		    t->seq);
		close_fd(&sp->wfd);	/* next append: new segment */
	}
}

/* Frames a record into the write buffer, in a new segment if need be. */
int
spool_append(struct spool *sp, const void *data, size_t len)
{
	char		 h[SPOOL_HEADER_LEN];
	uint64_t	 framed = SPOOL_HEADER_LEN + (uint64_t)len;
	struct seg	*t;

	if (len > SPOOL_RECORD_MAX)
		return SPOOL_TOOBIG;
	if (sp->max_bytes != 0 && sp->bytes + framed > sp->max_bytes)
		return SPOOL_FULL;
	t = sp->nsegs > 0 ? &sp->segs[sp->nsegs - 1] : NULL;
	if ((t == NULL || sp->wfd == -1 ||
	    (t->size > 0 && t->size + framed > seg_limit(sp))) &&
	    tail_roll(sp) == -1)
		return spool_fail(sp, "new segment");
	memcpy(h, SPOOL_MAGIC, 4);
	put_le32(h + 4, (uint32_t)len);
	put_le32(h + 8, crc32_update(0, data, len));
	if (buf_append(&sp->wbuf, h, sizeof(h)) == -1 ||
	    buf_append(&sp->wbuf, data, len) == -1)
		fatalx("%s: buffer", __func__);
	sp->segs[sp->nsegs - 1].size += framed;
	sp->bytes += framed;
	sp->nrec++;
	sp->pending++;
	if (sp->wbuf.len >= WBUF_FLUSH && wflush(sp) == -1)
		return spool_fail(sp, "write");
	return SPOOL_OK;
}

/* Writes the buffered records to the tail (a partial write is undone later). */
static int
wflush(struct spool *sp)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < sp->wbuf.len) {
		n = sp->io.write(sp->wfd, sp->wbuf.data + off,
		    sp->wbuf.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)n;
	}
	buf_reset(&sp->wbuf);
	return 0;
}

/* Everything appended so far is durable: remember the tail's size. */
static void
mark_synced(struct spool *sp)
{
	sp->pending = 0;
	sp->sync_seq = sp->nsegs > 0 ? sp->segs[sp->nsegs - 1].seq : 0;
	sp->sync_size = sp->nsegs > 0 ? sp->segs[sp->nsegs - 1].size : 0;
}

/* Writes the buffer, fsyncs the tail (and the directory if it changed). */
int
spool_sync(struct spool *sp)
{
	if (sp->pending == 0 && !sp->dir_dirty)
		return SPOOL_OK;
	if (sp->wfd != -1 && (wflush(sp) == -1 || sp->io.fsync(sp->wfd) == -1))
		return spool_fail(sp, "sync");
	if (sp->dir_dirty && sp->io.fsync(sp->dirfd) == -1)
		return spool_fail(sp, "fsync directory");
	sp->dir_dirty = false;
	mark_synced(sp);
	return SPOOL_OK;
}

/* Forgets every record appended since the last successful sync, on disk too. */
static void
rollback(struct spool *sp)
{
	size_t	 i;

	buf_reset(&sp->wbuf);
	rd_close(sp);
	while (sp->nsegs > 0 && sp->segs[sp->nsegs - 1].seq > sp->sync_seq)
		seg_pop(sp);
	sp->nrec -= sp->pending;
	sp->pending = 0;
	if (sp->nsegs > 0)
		tail_rewind(sp);
	for (sp->bytes = 0, i = 0; i < sp->nsegs; i++)
		sp->bytes += sp->segs[i].size;
	cursor_reset(sp);
	if (sp->nrec == 0)
		spool_reset(sp);
}

/* Logs a failed write or fsync (errno), rolls back, returns SPOOL_ERROR. */
static int
spool_fail(struct spool *sp, const char *what)
{
	log_warn("spool %s: %s (dropping %" PRIu64 " unsynced records)",
	    sp->dir, what, sp->pending);
	rollback(sp);
	return SPOOL_ERROR;
}

/* Removes every segment and the head file: the spool is empty. */
static void
spool_reset(struct spool *sp)
{
	struct seg	*t;

	buf_reset(&sp->wbuf);
	close_fd(&sp->wfd);
	rd_close(sp);
	if (sp->nsegs > 0) {
		t = &sp->segs[sp->nsegs - 1];
		head_write(sp, t->seq, t->size); /* a crash replays none */
	}
	for (; sp->nsegs > 0; sp->nsegs--)
		seg_unlink(sp, sp->segs[sp->nsegs - 1].seq);
	close_fd(&sp->hfd);
	if (unlinkat(sp->dirfd, HEAD_FILE, 0) == -1 && errno != ENOENT)
		log_warn("spool %s: unlink head", sp->dir);
	sp->head_off = sp->nrec = sp->bytes = 0;
	mark_synced(sp);
	cursor_reset(sp);
}

/* Reads record i, walking forward from the cursor (or from the head). */
int
spool_peek(struct spool *sp, uint64_t i, const void **data, size_t *len)
{
	enum rec_status	 rs;
	const char	*p;
	uint32_t	 n;

	if (i >= sp->nrec)
		return SPOOL_EMPTY;
	if (sp->wbuf.len > 0 && wflush(sp) == -1)
		return spool_fail(sp, "write");
	if (i < sp->cur_idx)
		cursor_reset(sp);
	if (walk(sp, &sp->cur, i - sp->cur_idx) == -1) {
		cursor_reset(sp);
		return SPOOL_ERROR;
	}
	sp->cur_idx = i;
	if ((rs = rec_read(sp, &sp->cur, &p, &n)) != REC_OK) {
		rec_log(sp, &sp->cur, rs);
		return SPOOL_ERROR;
	}
	*data = p;
	*len = n;
	return SPOOL_OK;
}

/* Drops the first n records: the head moves to where record n starts. */
int
spool_consume(struct spool *sp, uint64_t n)
{
	struct pos	 p = sp->cur;
	uint64_t	 k = n - sp->cur_idx;

	if (n > sp->nrec)
		fatalx("%s: %" PRIu64 " of %" PRIu64, __func__, n, sp->nrec);
	if (n == 0)
		return SPOOL_OK;
	if (sp->wbuf.len > 0 && wflush(sp) == -1)
		return spool_fail(sp, "write");
	if (n == sp->nrec) {
		spool_reset(sp);
		return SPOOL_OK;
	}
	if (n < sp->cur_idx) {
		p.seg = 0;
		p.off = sp->head_off;
		k = n;
	}
	if (walk(sp, &p, k) == -1)
		return SPOOL_ERROR;
	consumed(sp, n, &p);
	return SPOOL_OK;
}

/* The first n records, up to p, are gone: counts, cursor and head follow. */
static void
consumed(struct spool *sp, uint64_t n, const struct pos *p)
{
	uint64_t	 synced = sp->nrec - sp->pending;

	if (n > synced)
		sp->pending -= n - synced;
	sp->nrec -= n;
	sp->cur.seg -= p->seg;
	sp->cur_idx = n <= sp->cur_idx ? sp->cur_idx - n : 0;
	head_move(sp, p);
	if (sp->cur_idx == 0)
		cursor_reset(sp);
}
