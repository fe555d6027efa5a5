/*
 * corr.c: the correlation table (see corr.h).
 *
 * One chained hash table (FNV-1a over the pair family and the detection_id,
 * power-of-two buckets, doubled to keep the load at most 1) and one TAILQ in
 * arrival order, which serves eviction, expiry and unresolved alerts oldest
 * first.  An entry is one malloc: struct corr_entry, fixed size.
 *
 * Ages are arrival times: the now_ms the caller passes (epoch ms, the clock
 * the timer reads, CLOCK_REALTIME), not event timestamps, which are old
 * whenever a queue is drained late.  Event timestamps only give
 * detected_ms and seconds_to_outcome.
 *
 * Arrival order: an outcome that arrives before its detection finds nothing,
 * is reported CORR_UNCORRELATED and counted unmatched; nothing waits for it.
 * The detection arriving later is stored as pending as usual (its outcome has
 * gone by, so it expires or raises its unresolved alert).
 *
 * Snapshot (corr_save/corr_load), all integers little-endian:
 *	header	"AMPSCORR", u32 version (1), u32 record size, u64 count
 *	records	count times: i64 stored_ms, i64 detected_ms, i64
 *		event_type_id, u64 stream, u32 flags (1: alert fired), then
 *		each string field of struct corr_detection at its full size
 *	trailer	u32 CRC-32 (IEEE) of header and records
 * Records are oldest first, so a bounded load keeps the newest.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "corr.h"
#include "event.h"
#include "log.h"

#define CORR_TICK_SEC		1
#define CORR_MIN_BUCKETS	64
#define CORR_MAX_MS		INT64_C(253402300799999) /* 9999-12-31 */

#define SNAP_MAGIC		"AMPSCORR"
#define SNAP_VERSION		1
#define SNAP_HDR_SIZE		24
#define SNAP_FIXED_SIZE		36
#define SNAP_REC_MAX	(SNAP_FIXED_SIZE + sizeof(struct corr_detection))
#define SNAP_ALERTED		0x1u

enum corr_family {
	FAM_THREAT,
	FAM_RETRO,
};

/* The correlated event types: per family one detection and two outcomes. */
static const struct corr_type {
	int64_t		 id;
	enum corr_family family;
	const char	*outcome;	/* NULL: the detection */
} corr_types[] = {
	{ INT64_C(1090519054), FAM_THREAT, NULL },	/* Threat Detected */
	{ INT64_C(553648143), FAM_THREAT, "quarantined" },
	{ INT64_C(2164260880), FAM_THREAT, "quarantine failed" },
	{ INT64_C(553648147), FAM_RETRO, NULL },	/* Retrospective Det. */
	{ INT64_C(553648155), FAM_RETRO, "quarantined" },
	{ INT64_C(2164260893), FAM_RETRO, "quarantine failed" },
};

#define SF(f)	{ offsetof(struct corr_detection, f), \
		    sizeof(((struct corr_detection *)NULL)->f) }
/* The string fields of a detection, in snapshot order. */
static const struct corr_strfield {
	size_t		 off;
	size_t		 size;
} corr_strfields[] = {
	SF(detection_id), SF(event_id), SF(detection), SF(connector_guid),
	SF(hostname), SF(file_name), SF(file_path), SF(sha256), SF(severity),
};
#undef SF

struct corr_entry {
	TAILQ_ENTRY(corr_entry) age;		/* arrival order */
	struct corr_entry *next;		/* hash chain */
	int64_t		 stored_ms;	/* arrival, epoch ms */
	uint32_t	 hash;
	bool		 alerted;
	struct corr_detection det;
};

TAILQ_HEAD(corr_list, corr_entry);

struct corr {
	struct corr_entry **buckets;
	size_t		 nbuckets;		/* a power of two */
	struct corr_list ages;
	struct corr_entry *unalerted;	/* all before it have alerted */
	struct event	*timer;
	struct corr_conf conf;
	corr_alert_fn	 alert;
	void		*arg;
	struct corr_stats stats;
	struct corr_detection last;	/* the last match's detection */
};

static void	 corr_timer_cb(int, short, void *);
static int64_t	 corr_now_ms(void);
static const struct corr_type *corr_type_of(int64_t);
static enum corr_family corr_family_of(const struct corr_detection *);
static uint32_t	 corr_hash(enum corr_family, const char *);
static struct corr_entry *corr_find(const struct corr *, enum corr_family,
		    const char *);
static void	 corr_link(struct corr *, struct corr_entry *);
static void	 corr_unlink(struct corr *, struct corr_entry *);
static void	 corr_grow(struct corr *);
static void	 corr_insert(struct corr *, struct corr_entry *);
static void	 corr_clear(struct corr *);
static void	 corr_copy(char *, size_t, const char *);
static int64_t	 corr_event_ms(const struct amp_event *, int64_t);
static void	 corr_fill(struct corr_detection *, const struct amp_event *,
		    size_t, int64_t);
static void	 corr_detected(struct corr *, const struct corr_type *,
		    const struct amp_event *, size_t, int64_t,
		    struct corr_info *);
static void	 corr_outcome(struct corr *, const struct corr_type *,
		    const struct amp_event *, int64_t, struct corr_info *);
static void	 corr_expire(struct corr *, int64_t);
static void	 corr_alerts(struct corr *, int64_t);
static uint32_t	 crc32_update(uint32_t, const void *, size_t);
static void	 put_u32(unsigned char *, uint32_t);
static void	 put_u64(unsigned char *, uint64_t);
static uint32_t	 get_u32(const unsigned char *);
static uint64_t	 get_u64(const unsigned char *);
static size_t	 snap_rec_size(void);
static void	 snap_encode(const struct corr_entry *, unsigned char *);
static int	 snap_decode(const unsigned char *, struct corr_entry *,
		    int64_t);
static int	 snap_write(const struct corr *, FILE *);
static int	 snap_save_tmp(const struct corr *, const char *);
static void	 snap_sync_dir(const char *);
static int	 snap_header(FILE *, const char *, uint64_t *, uint32_t *);
static int	 snap_records(struct corr *, FILE *, const char *, uint64_t,
		    int64_t, uint32_t *);
static void	 snap_keep(struct corr *, struct corr_entry *, bool,
		    int64_t);
static int	 snap_trailer(FILE *, const char *, uint32_t);

/* Create an empty table; with a base, a timer ticks each second. */
struct corr *
corr_new(struct event_base *base, const struct corr_conf *conf,
    corr_alert_fn alert, void *arg)
{
	struct corr	*c;
	struct timeval	 tv = { CORR_TICK_SEC, 0 };

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("%s", __func__);
	c->conf = *conf;
	if (c->conf.max_entries == 0)
		c->conf.max_entries = 1;
	if (c->conf.unresolved_alert > c->conf.ttl)
		c->conf.unresolved_alert = c->conf.ttl;
	c->alert = alert;
	c->arg = arg;
	TAILQ_INIT(&c->ages);
	c->nbuckets = CORR_MIN_BUCKETS;
	if ((c->buckets = calloc(c->nbuckets, sizeof(*c->buckets))) == NULL)
		fatal("%s", __func__);
	if (base != NULL) {
		c->timer = event_new(base, -1, EV_PERSIST, corr_timer_cb, c);
		if (c->timer == NULL || event_add(c->timer, &tv) == -1)
			fatalx("%s: timer", __func__);
	}
	return c;
}

void
corr_free(struct corr *c)
{
	if (c == NULL)
		return;
	if (c->timer != NULL)
		event_free(c->timer);
	corr_clear(c);
	free(c->buckets);
	free(c);
}

/* The timer: expire and alert by the wall clock. */
static void
corr_timer_cb(int fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	corr_tick(arg, corr_now_ms());
}

/* The wall clock in epoch ms, the clock callers pass as now_ms. */
static int64_t
corr_now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The table entry of a correlated event type, or NULL. */
static const struct corr_type *
corr_type_of(int64_t id)
{
	size_t	 i;

	for (i = 0; i < nitems(corr_types); i++)
		if (corr_types[i].id == id)
			return &corr_types[i];
	return NULL;
}

/* The pair family of a stored detection. */
static enum corr_family
corr_family_of(const struct corr_detection *det)
{
	const struct corr_type	*t = corr_type_of(det->event_type_id);

	return t != NULL ? t->family : FAM_THREAT;
}

/* FNV-1a over the family byte and the detection_id. */
static uint32_t
corr_hash(enum corr_family family, const char *key)
{
	uint32_t	 h = 2166136261u;

	h = (h ^ (uint32_t)family) * 16777619u;
	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h;
}

/* The entry of detection_id key in family, or NULL. */
static struct corr_entry *
corr_find(const struct corr *c, enum corr_family family, const char *key)
{
	uint32_t		 h = corr_hash(family, key);
	struct corr_entry	*e;

	e = c->buckets[h & (c->nbuckets - 1)];
	for (; e != NULL; e = e->next)
		if (e->hash == h && corr_family_of(&e->det) == family &&
		    strcmp(e->det.detection_id, key) == 0)
			return e;
	return NULL;
}

/* Add e (hash set) to its bucket and the tail of the age list. */
static void
corr_link(struct corr *c, struct corr_entry *e)
{
	struct corr_entry	**b;

	if (c->stats.entries >= c->nbuckets)
		corr_grow(c);
	b = &c->buckets[e->hash & (c->nbuckets - 1)];
	e->next = *b;
	*b = e;
	TAILQ_INSERT_TAIL(&c->ages, e, age);
	if (c->unalerted == NULL && !e->alerted)
		c->unalerted = e;
	c->stats.entries++;
}

/* Remove e from the table and free it. */
static void
corr_unlink(struct corr *c, struct corr_entry *e)
{
	struct corr_entry	**p;

	p = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*p != e)
		p = &(*p)->next;
	*p = e->next;
	if (c->unalerted == e)
		c->unalerted = TAILQ_NEXT(e, age);
	TAILQ_REMOVE(&c->ages, e, age);
	c->stats.entries--;
	free(e);
}

/* Double the buckets and rehash every entry. */
static void
corr_grow(struct corr *c)
{
	struct corr_entry	**nb, *e;
	size_t			 n = c->nbuckets * 2;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		fatal("%s", __func__);
	TAILQ_FOREACH(e, &c->ages, age) {
		e->next = nb[e->hash & (n - 1)];
		nb[e->hash & (n - 1)] = e;
	}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
}

/* Store e, evicting the oldest entry while the table is full. */
static void
corr_insert(struct corr *c, struct corr_entry *e)
{
	while (c->stats.entries >= c->conf.max_entries) {
		corr_unlink(c, TAILQ_FIRST(&c->ages));
		c->stats.evicted++;
	}
	e->hash = corr_hash(corr_family_of(&e->det), e->det.detection_id);
	corr_link(c, e);
}

/* Free every entry; the counters stay. */
static void
corr_clear(struct corr *c)
{
	struct corr_entry	*e;

	while ((e = TAILQ_FIRST(&c->ages)) != NULL)
		corr_unlink(c, e);
}

/* Copy src into dst (size > 0), cut at a UTF-8 boundary if too long. */
static void
corr_copy(char *dst, size_t size, const char *src)
{
	size_t	 n;

	if (src == NULL)
		src = "";
	if ((n = strlen(src)) >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The event's timestamp in epoch ms; now_ms if it has none (or a wild one). */
static int64_t
corr_event_ms(const struct amp_event *ev, int64_t now_ms)
{
	if (ev->timestamp <= 0 || ev->timestamp > CORR_MAX_MS / 1000 - 1)
		return now_ms;
	return ev->timestamp * 1000 + ev->timestamp_ns / 1000000;
}

/* Keep the facts of detection ev. */
static void
corr_fill(struct corr_detection *det, const struct amp_event *ev,
    size_t stream, int64_t now_ms)
{
	memset(det, 0, sizeof(*det));
	corr_copy(det->detection_id, sizeof(det->detection_id),
	    ev->detection_id);
	corr_copy(det->event_id, sizeof(det->event_id),
	    ev->has_id ? ev->id_str : "");
	det->detected_ms = corr_event_ms(ev, now_ms);
	det->event_type_id = ev->event_type_id;
	corr_copy(det->detection, sizeof(det->detection), ev->detection);
	corr_copy(det->connector_guid, sizeof(det->connector_guid),
	    ev->connector_guid);
	corr_copy(det->hostname, sizeof(det->hostname), ev->hostname);
	corr_copy(det->file_name, sizeof(det->file_name), ev->file_name);
	corr_copy(det->file_path, sizeof(det->file_path), ev->file_path);
	corr_copy(det->sha256, sizeof(det->sha256), ev->sha256);
	corr_copy(det->severity, sizeof(det->severity), ev->severity);
	det->stream = stream;
}

/*
 * Classify ev and update the table.  A detection_id too long for the table
 * cannot be keyed: such a detection is CORR_NONE, such an outcome
 * CORR_UNCORRELATED.
 */
void
corr_observe(struct corr *c, const struct amp_event *ev, size_t stream,
    int64_t now_ms, struct corr_info *info)
{
	const struct corr_type	*t;

	memset(info, 0, sizeof(*info));
	info->state = CORR_NONE;
	corr_expire(c, now_ms);
	if ((t = corr_type_of(ev->event_type_id)) == NULL ||
	    ev->detection_id == NULL || ev->detection_id[0] == '\0')
		return;
	if (t->outcome != NULL)
		corr_outcome(c, t, ev, now_ms, info);
	else if (strlen(ev->detection_id) < sizeof(c->last.detection_id))
		corr_detected(c, t, ev, stream, now_ms, info);
}

/* Store a detection; a redelivery is counted, a newer one replaces the old. */
static void
corr_detected(struct corr *c, const struct corr_type *t,
    const struct amp_event *ev, size_t stream, int64_t now_ms,
    struct corr_info *info)
{
	struct corr_entry	*e;
	const char		*id = ev->has_id ? ev->id_str : "";

	info->state = CORR_PENDING;
	if ((e = corr_find(c, t->family, ev->detection_id)) != NULL) {
		if (strcmp(e->det.event_id, id) == 0) {
			c->stats.duplicates++;
			info->det = &e->det;
			return;
		}
		corr_unlink(c, e);
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		fatal("%s", __func__);
	corr_fill(&e->det, ev, stream, now_ms);
	e->stored_ms = now_ms;
	corr_insert(c, e);
	c->stats.stored++;
	info->det = &e->det;
}

/* Join an outcome to its stored detection, which leaves the table. */
static void
corr_outcome(struct corr *c, const struct corr_type *t,
    const struct amp_event *ev, int64_t now_ms, struct corr_info *info)
{
	struct corr_entry	*e = NULL;
	int64_t			 d;

	if (strlen(ev->detection_id) < sizeof(c->last.detection_id))
		e = corr_find(c, t->family, ev->detection_id);
	if (e == NULL) {
		c->stats.unmatched++;
		info->state = CORR_UNCORRELATED;
		return;
	}
	c->last = e->det;
	corr_unlink(c, e);
	c->stats.matched++;
	d = (corr_event_ms(ev, now_ms) - c->last.detected_ms) / 1000;
	info->state = CORR_MATCHED;
	info->det = &c->last;
	info->seconds_to_outcome = d > 0 ? d : 0;
	info->outcome = t->outcome;
}

void
corr_tick(struct corr *c, int64_t now_ms)
{
	corr_alerts(c, now_ms);
	corr_expire(c, now_ms);
}

/*
 * Drop the entries that arrived ttl or more ago, oldest first, but none that
 * still owes its unresolved alert (corr_tick alerts before it expires).
 */
static void
corr_expire(struct corr *c, int64_t now_ms)
{
	struct corr_entry	*e;
	int64_t			 ttl_ms = (int64_t)c->conf.ttl * 1000;
	bool			 alerts;

	alerts = c->conf.unresolved_alert > 0 && c->alert != NULL;
	while ((e = TAILQ_FIRST(&c->ages)) != NULL &&
	    now_ms - e->stored_ms >= ttl_ms && (e->alerted || !alerts)) {
		corr_unlink(c, e);
		c->stats.expired++;
	}
}

/*
 * Alert once for each entry older than unresolved_alert, scanning from the
 * first one not alerted yet and stopping at the first too young.  The
 * callback must not call corr_observe, corr_load or corr_free.
 */
static void
corr_alerts(struct corr *c, int64_t now_ms)
{
	struct corr_entry	*e;
	int64_t			 age_ms;

	age_ms = (int64_t)c->conf.unresolved_alert * 1000;
	if (age_ms <= 0 || c->alert == NULL)
		return;
	while ((e = c->unalerted) != NULL) {
		if (!e->alerted) {
			if (now_ms - e->stored_ms < age_ms)
				break;
			e->alerted = true;
			c->stats.alerts++;
			c->alert(&e->det, c->arg);
		}
		c->unalerted = TAILQ_NEXT(e, age);
	}
}

const struct corr_stats *
corr_stats(const struct corr *c)
{
	return &c->stats;
}

/* Bytes one entry takes: the entry and up to two bucket slots (load 0.5..1). */
size_t
corr_entry_size(void)
{
	return sizeof(struct corr_entry) + 2 * sizeof(struct corr_entry *);
}

/* CRC-32 (IEEE 802.3, reflected), table built on first use. */
static uint32_t
crc32_update(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t		 table[256];
	const unsigned char	*p = buf;
	uint32_t		 v;
	int			 i, k;

	if (table[1] == 0) {
		for (i = 0; i < 256; i++) {
			for (v = (uint32_t)i, k = 0; k < 8; k++)
				v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
	}
	crc = ~crc;
	while (len-- > 0)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
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

/* The size of one snapshot record. */
static size_t
snap_rec_size(void)
{
	size_t	 i, n = SNAP_FIXED_SIZE;

	for (i = 0; i < nitems(corr_strfields); i++)
		n += corr_strfields[i].size;
	return n;
}

/* Encode e into rec (snap_rec_size() bytes), strings zero-padded. */
static void
snap_encode(const struct corr_entry *e, unsigned char *rec)
{
	const char	*s;
	size_t		 i, off = SNAP_FIXED_SIZE;

	memset(rec, 0, snap_rec_size());
	put_u64(rec, (uint64_t)e->stored_ms);
	put_u64(rec + 8, (uint64_t)e->det.detected_ms);
	put_u64(rec + 16, (uint64_t)e->det.event_type_id);
	put_u64(rec + 24, (uint64_t)e->det.stream);
	put_u32(rec + 32, e->alerted ? SNAP_ALERTED : 0);
	for (i = 0; i < nitems(corr_strfields); i++) {
		s = (const char *)&e->det + corr_strfields[i].off;
		memcpy(rec + off, s, strnlen(s, corr_strfields[i].size));
		off += corr_strfields[i].size;
	}
}

/* Decode and check a record; a stored_ms in the future becomes now_ms. */
static int
snap_decode(const unsigned char *rec, struct corr_entry *e, int64_t now_ms)
{
	const struct corr_type	*t;
	uint32_t		 flags = get_u32(rec + 32);
	size_t			 i, off = SNAP_FIXED_SIZE;

	memset(e, 0, sizeof(*e));
	e->stored_ms = (int64_t)get_u64(rec);
	e->det.detected_ms = (int64_t)get_u64(rec + 8);
	e->det.event_type_id = (int64_t)get_u64(rec + 16);
	e->det.stream = (size_t)get_u64(rec + 24);
	e->alerted = (flags & SNAP_ALERTED) != 0;
	t = corr_type_of(e->det.event_type_id);
	if ((flags & ~SNAP_ALERTED) != 0 || t == NULL || t->outcome != NULL ||
	    e->stored_ms <= 0 || e->stored_ms > CORR_MAX_MS ||
	    e->det.detected_ms < 0 || e->det.detected_ms > CORR_MAX_MS)
		return -1;
	for (i = 0; i < nitems(corr_strfields); i++) {
		if (memchr(rec + off, '\0', corr_strfields[i].size) == NULL)
			return -1;
		memcpy((char *)&e->det + corr_strfields[i].off, rec + off,
		    corr_strfields[i].size);
		off += corr_strfields[i].size;
	}
	if (e->stored_ms > now_ms)
		e->stored_ms = now_ms;
	return e->det.detection_id[0] == '\0' ? -1 : 0;
}

/* Write header, records (oldest first) and CRC trailer to f. */
static int
snap_write(const struct corr *c, FILE *f)
{
	unsigned char		 hdr[SNAP_HDR_SIZE], tr[4];
	unsigned char		 rec[SNAP_REC_MAX];
	const struct corr_entry	*e;
	uint32_t		 crc;
	size_t			 rs = snap_rec_size();

	memcpy(hdr, SNAP_MAGIC, 8);
	put_u32(hdr + 8, SNAP_VERSION);
	put_u32(hdr + 12, (uint32_t)rs);
	put_u64(hdr + 16, c->stats.entries);
	crc = crc32_update(0, hdr, sizeof(hdr));
	if (fwrite(hdr, sizeof(hdr), 1, f) != 1)
		return -1;
	TAILQ_FOREACH(e, &c->ages, age) {
		snap_encode(e, rec);
		crc = crc32_update(crc, rec, rs);
		if (fwrite(rec, rs, 1, f) != 1)
			return -1;
	}
	put_u32(tr, crc);
	return fwrite(tr, sizeof(tr), 1, f) == 1 ? 0 : -1;
}

/* Write the snapshot to tmp (mode 0600) and fsync it. */
static int
snap_save_tmp(const struct corr *c, const char *tmp)
{
	FILE	*f = NULL;
	int	 fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || fchmod(fd, 0600) == -1)
		goto fail;
	if ((f = fdopen(fd, "w")) == NULL)
		goto fail;
	fd = -1;
	if (snap_write(c, f) == -1 || fflush(f) == EOF ||
	    fsync(fileno(f)) == -1)
		goto fail;
	if (fclose(f) == EOF)
		return -1;
	return 0;
fail:
	saved = errno;
	if (f != NULL)
		fclose(f);
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

/* Make the rename durable: fsync the directory holding path (best effort). */
static void
snap_sync_dir(const char *path)
{
	char		 dir[PATH_MAX] = ".";
	const char	*slash = strrchr(path, '/');
	size_t		 n;
	int		 fd;

	if (slash != NULL) {
		if ((n = (size_t)(slash - path)) == 0)
			n = 1;			/* the root */
		if (n >= sizeof(dir))
			return;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

/* Save the table to path atomically: path.tmp, fsync, rename. */
int
corr_save(const struct corr *c, const char *path)
{
	char	 tmp[PATH_MAX];
	int	 saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		log_warnx("%s: %s: path too long", __func__, path);
		return -1;
	}
	if (snap_save_tmp(c, tmp) == -1 || rename(tmp, path) == -1)
		goto fail;
	snap_sync_dir(path);
	return 0;
fail:
	saved = errno;
	(void)unlink(tmp);
	errno = saved;
	log_warn("%s: %s", __func__, path);
	return -1;
}

/* Read and check the header; the file size must match the count exactly. */
static int
snap_header(FILE *f, const char *path, uint64_t *count, uint32_t *crc)
{
	unsigned char	 hdr[SNAP_HDR_SIZE];
	struct stat	 st;
	uint64_t	 rs = snap_rec_size(), body;

	if (fstat(fileno(f), &st) == -1 || st.st_size < SNAP_HDR_SIZE + 4 ||
	    fread(hdr, sizeof(hdr), 1, f) != 1) {
		log_warnx("correlation snapshot %s: truncated", path);
		return -1;
	}
	if (memcmp(hdr, SNAP_MAGIC, 8) != 0 ||
	    get_u32(hdr + 8) != SNAP_VERSION || get_u32(hdr + 12) != rs) {
		log_warnx("correlation snapshot %s: not a version %d snapshot",
		    path, SNAP_VERSION);
		return -1;
	}
	*count = get_u64(hdr + 16);
	body = (uint64_t)st.st_size - SNAP_HDR_SIZE - 4;
	if (*count > body / rs || *count * rs != body) {
		log_warnx("correlation snapshot %s: size does not match its "
		    "%llu records", path, (unsigned long long)*count);
		return -1;
	}
	*crc = crc32_update(0, hdr, sizeof(hdr));
	return 0;
}

/*
 * Read count records and keep the newest max_entries not past ttl; the
 * older ones are counted evicted, those past ttl expired.
 */
static int
snap_records(struct corr *c, FILE *f, const char *path, uint64_t count,
    int64_t now_ms, uint32_t *crc)
{
	unsigned char		 rec[SNAP_REC_MAX];
	struct corr_entry	*e;
	size_t			 rs = snap_rec_size();
	uint64_t		 i, skip;

	skip = count > c->conf.max_entries ? count - c->conf.max_entries : 0;
	for (i = 0; i < count; i++) {
		if (fread(rec, rs, 1, f) != 1)
			goto fail;
		*crc = crc32_update(*crc, rec, rs);
		if ((e = malloc(sizeof(*e))) == NULL)
			fatal("%s", __func__);
		if (snap_decode(rec, e, now_ms) == -1) {
			free(e);
			goto fail;
		}
		snap_keep(c, e, i < skip, now_ms);
	}
	return 0;
fail:
	log_warnx("correlation snapshot %s: bad record %llu", path,
	    (unsigned long long)i);
	return -1;
}

/* Store a loaded entry, or drop it (over the bound or past ttl). */
static void
snap_keep(struct corr *c, struct corr_entry *e, bool over, int64_t now_ms)
{
	if (over)
		c->stats.evicted++;
	else if (now_ms - e->stored_ms >= (int64_t)c->conf.ttl * 1000)
		c->stats.expired++;
	else {
		corr_insert(c, e);
		return;
	}
	free(e);
}

/* Check the CRC trailer. */
static int
snap_trailer(FILE *f, const char *path, uint32_t crc)
{
	unsigned char	 tr[4];

	if (fread(tr, sizeof(tr), 1, f) != 1 || get_u32(tr) != crc) {
		log_warnx("correlation snapshot %s: checksum mismatch", path);
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
	FILE			*f;
	uint64_t		 count;
	uint32_t		 crc;

	if ((f = fopen(path, "rbe")) == NULL) {
		if (errno == ENOENT)
			return 0;
		log_warn("correlation snapshot %s", path);
		return -1;
	}
	if (snap_header(f, path, &count, &crc) == -1 ||
	    snap_records(c, f, path, count, now_ms, &crc) == -1 ||
	    snap_trailer(f, path, crc) == -1)
		goto fail;
	fclose(f);
	return 0;
fail:
	fclose(f);
	corr_clear(c);
	c->stats = before;
	c->stats.entries = 0;
	return -1;
}
