/*
 * corr.c: the correlation table (see corr.h); its snapshot file is
 * corr_snap.c.
 *
 * One chained hash table (FNV-1a over the pair family and the detection_id,
 * power-of-two buckets, doubled to keep the load at most 1) and one TAILQ in
 * arrival order, which serves eviction, expiry and unresolved alerts oldest
 * first.  An entry is one malloc (corr_int.h).  The struct corr_detection a
 * caller sees is a view built on demand, its pointers into the entry (nine
 * pointers an entry would cost 72 bytes).  A matched entry leaves the table
 * but is kept (held) until the next call, for info->det.
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
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "clock.h"
#include "corr_int.h"
#include "event.h"
#include "log.h"
#include "xmalloc.h"

#define CORR_TICK_SEC		1
#define CORR_MIN_BUCKETS	64

/* The correlated event types. */
static const struct corr_type corr_types[] = {
	{ INT64_C(1090519054), FAM_THREAT, NULL },	/* Threat Detected */
	{ INT64_C(553648143), FAM_THREAT, "quarantined" },
	{ INT64_C(2164260880), FAM_THREAT, "quarantine failed" },
	{ INT64_C(553648147), FAM_RETRO, NULL },	/* Retrospective Det. */
	{ INT64_C(553648155), FAM_RETRO, "quarantined" },
	{ INT64_C(2164260893), FAM_RETRO, "quarantine failed" },
};

#define SF(f, max)	{ offsetof(struct corr_detection, f), max }
/* The string fields of a detection and their caps, in snapshot order. */
const struct corr_strfield corr_strfields[CORR_NSTR] = {
	SF(detection_id, CORR_ID_MAX), SF(event_id, CORR_FIELD_MAX),
	SF(detection, CORR_FIELD_MAX), SF(connector_guid, CORR_FIELD_MAX),
	SF(hostname, CORR_FIELD_MAX), SF(file_name, CORR_FIELD_MAX),
	SF(file_path, CORR_FIELD_MAX), SF(sha256, CORR_FIELD_MAX),
	SF(severity, CORR_FIELD_MAX),
};
#undef SF

static void	 corr_timer_cb(int, short, void *);
static enum corr_family corr_family_of(const struct corr_entry *);
static uint32_t	 corr_hash(enum corr_family, const char *);
static struct corr_entry *corr_find(const struct corr *, enum corr_family,
		    const char *);
static bool	 corr_keyable(const char *);
static size_t	 corr_malloc_size(size_t);
static size_t	 corr_alloc_size(const struct corr_entry *);
static const struct corr_detection *corr_view(struct corr_detection *,
		    const struct corr_entry *);
static void	 corr_link(struct corr *, struct corr_entry *);
static void	 corr_unlink(struct corr *, struct corr_entry *);
static void	 corr_drop(struct corr *, struct corr_entry *);
static void	 corr_grow(struct corr *);
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
static const char *corr_nonempty(const char *);
static struct json_object *corr_alert_json(const struct amp_event *,
		    int64_t);
static void	 corr_json_add(struct json_object *, const char *,
		    const char *);

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

/*
 * A reload rebuilt what alerts go through and may have moved the streams:
 * an entry of old stream i now belongs to map[i] (SIZE_MAX: stream gone,
 * its alert goes out on the first one).
 */
void
corr_rebind(struct corr *c, corr_alert_fn alert, void *arg,
    const size_t *map, size_t nmap)
{
	struct corr_entry *e;

	c->alert = alert;
	c->arg = arg;
	TAILQ_FOREACH(e, &c->ages, age)
		e->stream = e->stream < nmap ? map[e->stream] : SIZE_MAX;
	if (c->held != NULL)
		c->held->stream = c->held->stream < nmap ?
		    map[c->held->stream] : SIZE_MAX;
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
const struct corr_type *
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

/* The event_type_id of a stored detection. */
int64_t
corr_type_id(const struct corr_entry *e)
{
	return corr_types[e->type].id;
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

/* Whether a detection_id is short enough to be a key of the table. */
static bool
corr_keyable(const char *id)
{
	return strnlen(id, CORR_ID_MAX + 1) <= CORR_ID_MAX;
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
struct corr_entry *
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
void
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
void
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
void
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
	else if (corr_keyable(ev->detection_id))
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

	if (corr_keyable(ev->detection_id))
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

/*
 * The alert as an event.  It used to be built as JSON text and parsed back;
 * the fields are what that gave (an empty string was left out, so is NULL),
 * and the JSON, still the body the JSON formatter forwards, is made from
 * them.
 */
void
corr_alert_event(const struct corr_detection *det, int64_t now_ms,
    struct amp_event *ev)
{
	struct json_object	*o;
	const char		*body;

	memset(ev, 0, sizeof(*ev));
	ev->event_type = "Unresolved Detection";
	ev->event_type_id = 0;
	if (now_ms / 1000 > 0)
		ev->timestamp = now_ms / 1000;
	ev->detection = corr_nonempty(det->detection);
	ev->detection_id = corr_nonempty(det->detection_id);
	ev->connector_guid = corr_nonempty(det->connector_guid);
	ev->severity = corr_nonempty(det->severity);
	ev->hostname = corr_nonempty(det->hostname);
	ev->file_name = corr_nonempty(det->file_name);
	ev->file_path = corr_nonempty(det->file_path);
	ev->sha256 = corr_nonempty(det->sha256);
	o = corr_alert_json(ev, now_ms);
	body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (body == NULL)
		fatalx("%s: out of memory", __func__);
	ev->body = ev->mem = xstrdup(body);
	ev->body_len = strlen(ev->body);
	json_object_put(o);
}

static const char *
corr_nonempty(const char *s)
{
	return s[0] != '\0' ? s : NULL;
}

/* The alert event's JSON, its members in the order they always had. */
static struct json_object *
corr_alert_json(const struct amp_event *ev, int64_t now_ms)
{
	struct json_object	*o, *computer, *file, *identity;

	o = json_object_new_object();
	computer = json_object_new_object();
	file = json_object_new_object();
	identity = json_object_new_object();
	if (o == NULL || computer == NULL || file == NULL || identity == NULL)
		fatalx("%s: out of memory", __func__);
	corr_json_add(o, "event_type", ev->event_type);
	json_object_object_add(o, "event_type_id", json_object_new_int64(0));
	json_object_object_add(o, "timestamp",
	    json_object_new_int64(now_ms / 1000));
	corr_json_add(o, "detection", ev->detection);
	corr_json_add(o, "detection_id", ev->detection_id);
	corr_json_add(o, "connector_guid", ev->connector_guid);
	corr_json_add(o, "severity", ev->severity);
	corr_json_add(computer, "hostname", ev->hostname);
	corr_json_add(computer, "connector_guid", ev->connector_guid);
	corr_json_add(file, "file_name", ev->file_name);
	corr_json_add(file, "file_path", ev->file_path);
	corr_json_add(identity, "sha256", ev->sha256);
	json_object_object_add(file, "identity", identity);
	json_object_object_add(o, "computer", computer);
	json_object_object_add(o, "file", file);
	return o;
}

static void
corr_json_add(struct json_object *o, const char *key, const char *val)
{
	if (val != NULL)
		json_object_object_add(o, key, json_object_new_string(val));
}
