/*
 * corr.c: the correlation table (see corr.h).
 *
 * One chained hash table (FNV-1a over the pair family and the detection_id,
 * power-of-two buckets, doubled to keep the load at most 1) and one TAILQ in
 * arrival order, which serves eviction, expiry and unresolved alerts oldest
 * first.  An entry is one malloc: struct corr_entry, then its strings
 * packed, each NUL-terminated, found by their offsets.  The struct
 * corr_detection a caller sees is a view built on demand, its pointers
 * into the entry (nine pointers an entry would cost 72 bytes).  A matched
 * entry leaves the table but is kept (held) until the next call, for
 * info->det.
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
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "corr.h"
#include "crc32.h"
#include "event.h"
#include "fsio.h"
#include "log.h"
#include "xmalloc.h"

#define CORR_TICK_SEC		1
#define CORR_MIN_BUCKETS	64
#define CORR_MAX_MS		INT64_C(253402300799999) /* 9999-12-31 */

#define SNAP_MAGIC		"AMPSCORR"
#define SNAP_VERSION		2
#define SNAP_HDR_SIZE		24
#define SNAP_FIXED_SIZE		36
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

#define SF(f, max)	{ offsetof(struct corr_detection, f), max }
/* The string fields of a detection and their caps, in snapshot order. */
static const struct corr_strfield {
	size_t		 off;
	size_t		 max;		/* bytes, without the NUL */
} corr_strfields[] = {
	SF(detection_id, CORR_ID_MAX), SF(event_id, CORR_FIELD_MAX),
	SF(detection, CORR_FIELD_MAX), SF(connector_guid, CORR_FIELD_MAX),
	SF(hostname, CORR_FIELD_MAX), SF(file_name, CORR_FIELD_MAX),
	SF(file_path, CORR_FIELD_MAX), SF(sha256, CORR_FIELD_MAX),
	SF(severity, CORR_FIELD_MAX),
};
#undef SF
#define CORR_NSTR	nitems(corr_strfields)
#define SNAP_REC_MIN	(SNAP_FIXED_SIZE + 2 * CORR_NSTR + 1)

/* The strings of a new entry: not NUL-terminated, len[i] bytes each. */
struct corr_strs {
	const char	*s[CORR_NSTR];
	size_t		 len[CORR_NSTR];
};

struct corr_entry {
	TAILQ_ENTRY(corr_entry) age;		/* arrival order */
	struct corr_entry *next;		/* hash chain */
	int64_t		 stored_ms;	/* arrival, epoch ms */
	int64_t		 detected_ms;
	size_t		 stream;
	uint32_t	 hash;
	uint16_t	 off[CORR_NSTR];	/* of each string in str */
	uint8_t		 type;		/* index in corr_types */
	bool		 alerted;
	char		 str[];		/* the strings, packed */
};

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
	size_t		 bytes;		/* the entries' malloc chunks */
	struct corr_entry *held;	/* the last match, out of the table */
	struct corr_detection view;	/* info->det */
};

static void	 corr_timer_cb(int, short, void *);
static const struct corr_type *corr_type_of(int64_t);
static enum corr_family corr_family_of(const struct corr_entry *);
static uint32_t	 corr_hash(enum corr_family, const char *);
static struct corr_entry *corr_find(const struct corr *, enum corr_family,
		    const char *);
static size_t	 corr_malloc_size(size_t);
static size_t	 corr_alloc_size(const struct corr_entry *);
static struct corr_entry *corr_entry_new(const struct corr_strs *,
		    const struct corr_type *);
static const struct corr_detection *corr_view(struct corr_detection *,
		    const struct corr_entry *);
static void	 corr_link(struct corr *, struct corr_entry *);
static void	 corr_unlink(struct corr *, struct corr_entry *);
static void	 corr_drop(struct corr *, struct corr_entry *);
static void	 corr_release(struct corr *);
static void	 corr_grow(struct corr *);
static void	 corr_insert(struct corr *, struct corr_entry *);
static void	 corr_clear(struct corr *);
static size_t	 corr_cut(const char *, size_t);
static int64_t	 corr_event_ms(const struct amp_event *, int64_t);
static struct corr_entry *corr_from_event(const struct amp_event *,
		    const struct corr_type *, size_t, int64_t);
static void	 corr_detected(struct corr *, const struct corr_type *,
		    const struct amp_event *, size_t, int64_t,
		    struct corr_info *);
static void	 corr_outcome(struct corr *, const struct corr_type *,
		    const struct amp_event *, int64_t, struct corr_info *);
static void	 corr_expire(struct corr *, int64_t);
static void	 corr_alerts(struct corr *, int64_t);
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

/* Create an empty table; with a base, a timer ticks each second. */
struct corr *
corr_new(struct event_base *base, const struct corr_conf *conf,
    corr_alert_fn alert, void *arg)
{
	struct corr	*c;
	struct timeval	 tv = { CORR_TICK_SEC, 0 };

	c = xcalloc(1, sizeof(*c));
	c->conf = *conf;
	if (c->conf.max_entries == 0)
		c->conf.max_entries = 1;
	if (c->conf.unresolved_alert > c->conf.ttl)
		c->conf.unresolved_alert = c->conf.ttl;
	c->alert = alert;
	c->arg = arg;
	TAILQ_INIT(&c->ages);
	c->nbuckets = CORR_MIN_BUCKETS;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
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
	corr_release(c);
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
	corr_tick(arg, clock_now_ms());
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
corr_family_of(const struct corr_entry *e)
{
	return corr_types[e->type].family;
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
		if (e->hash == h && corr_family_of(e) == family &&
		    strcmp(e->str, key) == 0)		/* detection_id */
			return e;
	return NULL;
}

/* What malloc takes for n bytes: glibc's chunk, header and rounding. */
static size_t
corr_malloc_size(size_t n)
{
	n = (n + sizeof(size_t) + 15) & ~(size_t)15;
	return n < 32 ? 32 : n;
}

/* What malloc took for entry e. */
static size_t
corr_alloc_size(const struct corr_entry *e)
{
	const char	*last = e->str + e->off[CORR_NSTR - 1];

	return corr_malloc_size(offsetof(struct corr_entry, str) +
	    e->off[CORR_NSTR - 1] + strlen(last) + 1);
}

/* A new entry of type t holding the strings v, packed; the rest zero. */
static struct corr_entry *
corr_entry_new(const struct corr_strs *v, const struct corr_type *t)
{
	struct corr_entry	*e;
	size_t			 i, n = 0;

	for (i = 0; i < CORR_NSTR; i++)
		n += v->len[i] + 1;
	e = xcalloc(1, offsetof(struct corr_entry, str) + n);
	e->type = (uint8_t)(t - corr_types);
	for (i = 0, n = 0; i < CORR_NSTR; i++) {
		e->off[i] = (uint16_t)n;	/* < 9 * (CORR_FIELD_MAX + 1) */
		memcpy(e->str + n, v->s[i], v->len[i]);
		e->str[n + v->len[i]] = '\0';
		n += v->len[i] + 1;
	}
	return e;
}

/* Fill d with the facts of e, its strings pointing into e; return d. */
static const struct corr_detection *
corr_view(struct corr_detection *d, const struct corr_entry *e)
{
	const char	**p;
	size_t		 i;

	for (i = 0; i < CORR_NSTR; i++) {
		p = (const char **)(void *)((char *)d + corr_strfields[i].off);
		*p = e->str + e->off[i];
	}
	d->detected_ms = e->detected_ms;
	d->event_type_id = corr_types[e->type].id;
	d->stream = e->stream;
	return d;
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
	c->bytes += corr_alloc_size(e);
}

/* Take e out of the table (not freed). */
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
	c->bytes -= corr_alloc_size(e);
}

/* Remove e from the table and free it. */
static void
corr_drop(struct corr *c, struct corr_entry *e)
{
	corr_unlink(c, e);
	free(e);
}

/* Free the last match's entry: the caller's info->det is done with. */
static void
corr_release(struct corr *c)
{
	free(c->held);
	c->held = NULL;
}

/* Double the buckets and rehash every entry. */
static void
corr_grow(struct corr *c)
{
	struct corr_entry	**nb, *e;
	size_t			 n = c->nbuckets * 2;

	nb = xcalloc(n, sizeof(*nb));
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
		corr_drop(c, TAILQ_FIRST(&c->ages));
		c->stats.evicted++;
	}
	e->hash = corr_hash(corr_family_of(e), e->str);
	corr_link(c, e);
}

/* Free every entry; the counters stay. */
static void
corr_clear(struct corr *c)
{
	struct corr_entry	*e;

	while ((e = TAILQ_FIRST(&c->ages)) != NULL)
		corr_drop(c, e);
}

/* The length of s cut to at most max bytes, at a UTF-8 boundary. */
static size_t
corr_cut(const char *s, size_t max)
{
	size_t	 n;

	if ((n = strnlen(s, max + 1)) > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return n;
}

/* The event's timestamp in epoch ms; now_ms if it has none (or a wild one). */
static int64_t
corr_event_ms(const struct amp_event *ev, int64_t now_ms)
{
	if (ev->timestamp <= 0 || ev->timestamp > CORR_MAX_MS / 1000 - 1)
		return now_ms;
	return ev->timestamp * 1000 + ev->timestamp_ns / 1000000;
}

/* A new entry keeping the facts of detection ev. */
static struct corr_entry *
corr_from_event(const struct amp_event *ev, const struct corr_type *t,
    size_t stream, int64_t now_ms)
{
	const char		*src[] = {
		ev->detection_id, ev->has_id ? ev->id_str : "", ev->detection,
		ev->connector_guid, ev->hostname, ev->file_name, ev->file_path,
		ev->sha256, ev->severity,
	};
	struct corr_strs	 v;
	struct corr_entry	*e;
	size_t			 i;

	_Static_assert(nitems(src) == CORR_NSTR, "corr_strfields order");
	for (i = 0; i < CORR_NSTR; i++) {
		v.s[i] = src[i] != NULL ? src[i] : "";
		v.len[i] = corr_cut(v.s[i], corr_strfields[i].max);
	}
	e = corr_entry_new(&v, t);
	e->stored_ms = now_ms;
	e->detected_ms = corr_event_ms(ev, now_ms);
	e->stream = stream;
	return e;
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
	corr_release(c);
	corr_expire(c, now_ms);
	if ((t = corr_type_of(ev->event_type_id)) == NULL ||
	    ev->detection_id == NULL || ev->detection_id[0] == '\0')
		return;
	if (t->outcome != NULL)
		corr_outcome(c, t, ev, now_ms, info);
	else if (strnlen(ev->detection_id, CORR_ID_MAX + 1) <= CORR_ID_MAX)
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
		if (strcmp(e->str + e->off[1], id) == 0) {	/* event_id */
			c->stats.duplicates++;
			info->det = corr_view(&c->view, e);
			return;
		}
		corr_drop(c, e);
	}
	e = corr_from_event(ev, t, stream, now_ms);
	corr_insert(c, e);
	c->stats.stored++;
	info->det = corr_view(&c->view, e);
}

/* Join an outcome to its stored detection, which leaves the table. */
static void
corr_outcome(struct corr *c, const struct corr_type *t,
    const struct amp_event *ev, int64_t now_ms, struct corr_info *info)
{
	struct corr_entry	*e = NULL;
	int64_t			 d;

	if (strnlen(ev->detection_id, CORR_ID_MAX + 1) <= CORR_ID_MAX)
		e = corr_find(c, t->family, ev->detection_id);
	if (e == NULL) {
		c->stats.unmatched++;
		info->state = CORR_UNCORRELATED;
		return;
	}
	corr_unlink(c, e);
	c->held = e;
	c->stats.matched++;
	d = (corr_event_ms(ev, now_ms) - e->detected_ms) / 1000;
	info->state = CORR_MATCHED;
	info->det = corr_view(&c->view, e);
	info->seconds_to_outcome = d > 0 ? d : 0;
	info->outcome = t->outcome;
}

void
corr_tick(struct corr *c, int64_t now_ms)
{
	corr_release(c);
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
		corr_drop(c, e);
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
	struct corr_detection	 det;
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
			c->alert(corr_view(&det, e), c->arg);
		}
		c->unalerted = TAILQ_NEXT(e, age);
	}
}

const struct corr_stats *
corr_stats(const struct corr *c)
{
	return &c->stats;
}

/* Average malloc chunk of the entries now, and two bucket slots. */
size_t
corr_entry_size(const struct corr *c)
{
	size_t	 n;

	if (c->stats.entries == 0)
		n = corr_malloc_size(offsetof(struct corr_entry, str) +
		    CORR_NSTR);
	else
		n = c->bytes / c->stats.entries;
	return n + 2 * sizeof(struct corr_entry *);
}

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
	put_u64(fix + 16, (uint64_t)corr_types[e->type].id);
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

	if (fstat(fileno(r->f), &st) == -1 ||
	    st.st_size < SNAP_HDR_SIZE + 4) {
		log_warnx("correlation snapshot %s: truncated", r->path);
		return -1;
	}
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
