/*
 * corr_snap.c: the correlation table's snapshot file (corr_save/corr_load,
 * see corr.h), all integers little-endian:
 *	header	"AMPSCORR", u32 version (2), u32 strings per record (9),
 *		u64 count
 *	records	count times: i64 stored_ms, i64 detected_ms, i64
 *		event_type_id, u64 stream, u32 flags (1: alert fired), then
 *		each string field of struct corr_detection in corr_strfields
 *		order as u16 length and that many bytes (no NUL, at most the
 *		field's cap)
 *	trailer	u32 CRC-32 (IEEE) of header and records
 * Records are oldest first, so a bounded load keeps the newest.  Any other
 * version (1 had fixed-size strings) is refused.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corr_int.h"
#include "crc32.h"
#include "fsio.h"
#include "log.h"
#include "xmalloc.h"

#define SNAP_MAGIC		"AMPSCORR"
#define SNAP_VERSION		2
#define SNAP_HDR_SIZE		24
#define SNAP_FIXED_SIZE		36
#define SNAP_ALERTED		0x1u
#define SNAP_REC_MIN		(SNAP_FIXED_SIZE + 2 * CORR_NSTR + 1)

/* One snapshot record as read, before it becomes an entry. */
struct snap_rec {
	int64_t		 stored_ms;
	int64_t		 detected_ms;
	int64_t		 event_type_id;
	uint64_t	 stream;
	uint32_t	 flags;
	struct corr_strs v;
};

/* A snapshot being read: the bytes left before the trailer, the CRC. */
struct snap_in {
	FILE		*f;
	const char	*path;
	uint64_t	 left;
	uint32_t	 crc;
	char		*buf;		/* CORR_NSTR * CORR_FIELD_MAX bytes */
};

static void	 put_u16(unsigned char *, uint16_t);
static void	 put_u32(unsigned char *, uint32_t);
static void	 put_u64(unsigned char *, uint64_t);
static uint32_t	 get_u32(const unsigned char *);
static uint64_t	 get_u64(const unsigned char *);
static int	 snap_out(FILE *, const void *, size_t, uint32_t *);
static int	 snap_put_entry(FILE *, const struct corr_entry *,
		    uint32_t *);
static int	 snap_write(FILE *, void *);
static int	 snap_in(struct snap_in *, void *, size_t);
static int	 snap_header(struct snap_in *, uint64_t *);
static int	 snap_read_strs(struct snap_in *, struct corr_strs *);
static int	 snap_read_rec(struct snap_in *, struct snap_rec *);
static int	 snap_check(const struct snap_rec *);
static int	 snap_records(struct corr *, struct snap_in *, uint64_t,
		    int64_t);
static void	 snap_keep(struct corr *, const struct snap_rec *, bool,
		    int64_t);
static int	 snap_trailer(struct snap_in *);

static void
put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	int	 i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put_u64(unsigned char *p, uint64_t v)
{
	put_u32(p, (uint32_t)v);
	put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get_u64(const unsigned char *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* Write n bytes to f and add them to the CRC. */
static int
snap_out(FILE *f, const void *p, size_t n, uint32_t *crc)
{
	*crc = crc32_update(*crc, p, n);
	return n == 0 || fwrite(p, n, 1, f) == 1 ? 0 : -1;
}

/* Write e's record: the fixed part, then each string length-prefixed. */
static int
snap_put_entry(FILE *f, const struct corr_entry *e, uint32_t *crc)
{
	unsigned char	 fix[SNAP_FIXED_SIZE], len[2];
	const char	*s;
	size_t		 i, n;

	put_u64(fix, (uint64_t)e->stored_ms);
	put_u64(fix + 8, (uint64_t)e->detected_ms);
	put_u64(fix + 16, (uint64_t)corr_type_id(e));
	put_u64(fix + 24, (uint64_t)e->stream);
	put_u32(fix + 32, e->alerted ? SNAP_ALERTED : 0);
	if (snap_out(f, fix, sizeof(fix), crc) == -1)
		return -1;
	for (i = 0; i < CORR_NSTR; i++) {
		s = e->str + e->off[i];
		n = strlen(s);			/* <= its cap, by corr_cut */
		put_u16(len, (uint16_t)n);
		if (snap_out(f, len, sizeof(len), crc) == -1 ||
		    snap_out(f, s, n, crc) == -1)
			return -1;
	}
	return 0;
}

/* Write header, records (oldest first) and CRC trailer to f. */
static int
snap_write(FILE *f, void *arg)
{
	const struct corr	*c = arg;
	unsigned char		 hdr[SNAP_HDR_SIZE], tr[4];
	const struct corr_entry	*e;
	uint32_t		 crc = 0;

	memcpy(hdr, SNAP_MAGIC, 8);
	put_u32(hdr + 8, SNAP_VERSION);
	put_u32(hdr + 12, CORR_NSTR);
	put_u64(hdr + 16, c->stats.entries);
	if (snap_out(f, hdr, sizeof(hdr), &crc) == -1)
		return -1;
	TAILQ_FOREACH(e, &c->ages, age)
		if (snap_put_entry(f, e, &crc) == -1)
			return -1;
	put_u32(tr, crc);
	return fwrite(tr, sizeof(tr), 1, f) == 1 ? 0 : -1;
}

/* Save the table to path atomically: path.tmp, fsync, rename. */
int
corr_save(const struct corr *c, const char *path)
{
	if (fsio_replace(path, 0600, true, snap_write, (void *)c) == -1) {
		log_warn("%s: %s", __func__, path);
		return -1;
	}
	return 0;
}

/* Read n of the bytes left before the trailer into p, adding to the CRC. */
static int
snap_in(struct snap_in *r, void *p, size_t n)
{
	if (n > r->left || (n > 0 && fread(p, n, 1, r->f) != 1))
		return -1;
	r->left -= n;
	r->crc = crc32_update(r->crc, p, n);
	return 0;
}

/* Read and check the header; the count must fit in the file's size. */
static int
snap_header(struct snap_in *r, uint64_t *count)
{
	unsigned char	 hdr[SNAP_HDR_SIZE];
	struct stat	 st;

	r->left = 0;			/* no size: reads as truncated */
	if (fstat(fileno(r->f), &st) == 0 && st.st_size >= 4)
		r->left = (uint64_t)st.st_size - 4;
	if (snap_in(r, hdr, sizeof(hdr)) == -1) {
		log_warnx("correlation snapshot %s: truncated", r->path);
		return -1;
	}
	if (memcmp(hdr, SNAP_MAGIC, 8) != 0 ||
	    get_u32(hdr + 8) != SNAP_VERSION ||
	    get_u32(hdr + 12) != CORR_NSTR) {
		log_warnx("correlation snapshot %s: not a version %d snapshot",
		    r->path, SNAP_VERSION);
		return -1;
	}
	*count = get_u64(hdr + 16);
	if (*count > r->left / SNAP_REC_MIN) {
		log_warnx("correlation snapshot %s: size does not match its "
		    "%llu records", r->path, (unsigned long long)*count);
		return -1;
	}
	return 0;
}

/* Read the strings of a record into r->buf: capped, no NUL inside. */
static int
snap_read_strs(struct snap_in *r, struct corr_strs *v)
{
	unsigned char	 len[2];
	char		*p = r->buf;
	size_t		 i, n;

	for (i = 0; i < CORR_NSTR; i++) {
		if (snap_in(r, len, sizeof(len)) == -1)
			return -1;
		n = (size_t)len[0] | (size_t)len[1] << 8;
		if (n > corr_strfields[i].max || snap_in(r, p, n) == -1 ||
		    memchr(p, '\0', n) != NULL)
			return -1;
		v->s[i] = p;
		v->len[i] = n;
		p += n;
	}
	return v->len[0] == 0 ? -1 : 0;		/* no detection_id */
}

/* Read one record. */
static int
snap_read_rec(struct snap_in *r, struct snap_rec *rec)
{
	unsigned char	 fix[SNAP_FIXED_SIZE];

	if (snap_in(r, fix, sizeof(fix)) == -1)
		return -1;
	rec->stored_ms = (int64_t)get_u64(fix);
	rec->detected_ms = (int64_t)get_u64(fix + 8);
	rec->event_type_id = (int64_t)get_u64(fix + 16);
	rec->stream = get_u64(fix + 24);
	rec->flags = get_u32(fix + 32);
	if (snap_check(rec) == -1)
		return -1;
	return snap_read_strs(r, &rec->v);
}

/* Check a record's numbers: a known detection type, sane times. */
static int
snap_check(const struct snap_rec *rec)
{
	const struct corr_type	*t = corr_type_of(rec->event_type_id);

	if ((rec->flags & ~SNAP_ALERTED) != 0 || t == NULL ||
	    t->outcome != NULL ||
	    rec->stored_ms <= 0 || rec->stored_ms > CORR_MAX_MS ||
	    rec->detected_ms < 0 || rec->detected_ms > CORR_MAX_MS)
		return -1;
	return 0;
}

/*
 * Read count records and keep the newest max_entries not past ttl; the
 * older ones are counted evicted, those past ttl expired.  The records must
 * take up the file up to the trailer exactly.
 */
static int
snap_records(struct corr *c, struct snap_in *r, uint64_t count,
    int64_t now_ms)
{
	struct snap_rec	 rec;
	uint64_t	 i, skip;

	skip = count > c->conf.max_entries ? count - c->conf.max_entries : 0;
	for (i = 0; i < count; i++) {
		if (snap_read_rec(r, &rec) == -1) {
			log_warnx("correlation snapshot %s: bad record %llu",
			    r->path, (unsigned long long)i);
			return -1;
		}
		snap_keep(c, &rec, i < skip, now_ms);
	}
	if (r->left != 0) {
		log_warnx("correlation snapshot %s: size does not match its "
		    "%llu records", r->path, (unsigned long long)count);
		return -1;
	}
	return 0;
}

/*
 * Store a loaded record, or count it dropped (over the bound or past ttl).
 * A stored_ms in the future becomes now_ms.
 */
static void
snap_keep(struct corr *c, const struct snap_rec *rec, bool over,
    int64_t now_ms)
{
	struct corr_entry	*e;
	int64_t			 stored_ms = rec->stored_ms;

	if (stored_ms > now_ms)
		stored_ms = now_ms;
	if (over)
		c->stats.evicted++;
	else if (now_ms - stored_ms >= (int64_t)c->conf.ttl * 1000)
		c->stats.expired++;
	else {
		e = corr_entry_new(&rec->v, corr_type_of(rec->event_type_id));
		e->stored_ms = stored_ms;
		e->alerted = (rec->flags & SNAP_ALERTED) != 0;
		e->detected_ms = rec->detected_ms;
		e->stream = (size_t)rec->stream;
		corr_insert(c, e);
	}
}

/* Check the CRC trailer. */
static int
snap_trailer(struct snap_in *r)
{
	unsigned char	 tr[4];

	if (fread(tr, sizeof(tr), 1, r->f) != 1 || get_u32(tr) != r->crc) {
		log_warnx("correlation snapshot %s: checksum mismatch",
		    r->path);
		return -1;
	}
	return 0;
}

/*
 * Load a snapshot into a fresh table.  A missing file is no error; a bad one
 * is logged and ignored (-1, the table left empty, the counters as before).
 */
int
corr_load(struct corr *c, const char *path, int64_t now_ms)
{
	struct corr_stats	 before = c->stats;
	struct snap_in		 r;
	uint64_t		 count;

	corr_release(c);
	memset(&r, 0, sizeof(r));
	r.path = path;
	if ((r.f = fopen(path, "rbe")) == NULL) {
		if (errno == ENOENT)
			return 0;
		log_warn("correlation snapshot %s", path);
		return -1;
	}
	r.buf = xmalloc(CORR_NSTR * CORR_FIELD_MAX);
	if (snap_header(&r, &count) == -1 ||
	    snap_records(c, &r, count, now_ms) == -1 ||
	    snap_trailer(&r) == -1)
		goto fail;
	free(r.buf);
	fclose(r.f);
	return 0;
fail:
	free(r.buf);
	fclose(r.f);
	corr_clear(c);
	c->stats = before;
	c->stats.entries = 0;
	return -1;
}
