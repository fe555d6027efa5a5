/*
 * event.c: read one AMP event (an AMQP message body) in one pass.
 *
 * The body is checked (size, NUL bytes; for event_read UTF-8 too) and
 * then by lib/jscan, strictly: anything but one JSON object with only
 * whitespace around it is refused.  The objects the daemon reads are then
 * walked once each, member by member, keeping the last member of each
 * wanted name (as json-c did with a repeated key).  A member of the wrong
 * type is treated as absent.  Numbers keep their exact digits: an id is
 * never rounded, saturated or wrapped.
 */
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "jscan.h"
#include "log.h"
#include "utf8.h"
#include "xmalloc.h"

/* Digits an id may have (uint64 needs 20); a longer one is dead-lettered. */
#define EVENT_ID_MAX	64
/* Bodies up to this size get a tape for their walk (4 bytes a byte). */
#define EVENT_TAPE_MAX	(256 * 1024)

/* A name wanted in an object, and where its value goes. */
struct want {
	const char		*key;
	size_t			 len;
	struct jscan_val	*val;
};
#define WANT(key, val)	{ key, sizeof(key) - 1, val }

/* The spans of every field, before they are copied out. */
struct spans {
	struct jscan_val	 event_type, event_type_id, id, timestamp, ns,
				 date, severity, detection, detection_id,
				 connector_guid, computer, file, ioc, error,
				 network, start, groups, tactics,
				 techniques, hunting;
	struct jscan_val	 c_guid, hostname, user, external_ip, links,
				 api_link, addrs;
	struct jscan_val	 ipv4, mac4, ipv6, mac6;
	struct jscan_val	 file_name, file_path, disposition, identity,
				 sha256, sha1, md5, parent, parent_name,
				 parent_pid, parent_identity, parent_sha256;
	struct jscan_val	 ioc_desc, err_desc, err_code;
	struct jscan_val	 os, parent_disp, parent_sha1, parent_md5,
				 archived, arch_identity, arch_sha256,
				 arch_disp, nfm, protocol, direction, dirty_url,
				 inc_id, inc_title, inc_summary, inc_remed,
				 th_tactics, th_techniques;
	struct jscan_val	 remote_ip, local_port, remote_port;
};

/* Where the copies go: ev->mem, never more than the body's length. */
struct arena {
	char	*p;
	size_t	 used;
	size_t	 size;
};

static int	 event_load(struct amp_event *, const char *, size_t, bool,
		    struct event_mem *, const char **);
static const char *body_check(const char *, size_t, bool);
static int	 event_walk(const char *, size_t, struct spans *,
		    struct jscan_tape *, const char **);
static void	 pick(const struct jscan_val *, const struct want *, size_t);
static void	 walk_nested(struct spans *);
static void	 walk_addresses(struct spans *);
static void	 walk_more(struct spans *);
static const char *join(struct arena *, const struct jscan_val *,
		    const char *);
static int	 addr_family(const struct jscan_val *);
static int	 event_numbers(struct amp_event *, const struct spans *,
		    struct arena *, const char **);
static int	 event_ids(struct amp_event *, const struct spans *,
		    struct arena *, const char **);
static void	 event_strings(struct amp_event *, const struct spans *,
		    struct arena *);
static void	 event_groups(struct amp_event *, const struct spans *,
		    struct arena *);
static void	 event_more(struct amp_event *, const struct spans *,
		    struct arena *);
static bool	 list_has(const char *, size_t, const char *);
static const char *str(struct arena *, const struct jscan_val *);
static const char *digits(struct arena *, const struct jscan_val *);
static bool	 port_get(const struct jscan_val *, int64_t *);

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

int
event_read(struct amp_event *ev, const char *body, size_t len,
    struct event_mem *m, const char **reason)
{
	return event_load(ev, body, len, true, m, reason);
}

int
event_parse(struct amp_event *ev, const char *body, size_t len,
    const char **reason)
{
	return event_load(ev, body, len, false, NULL, reason);
}

/* The block for an event: m's (grown to size if it may), or its own. */
static void
event_alloc(struct amp_event *ev, size_t size, struct event_mem *m)
{
	if (m == NULL || size > EVENT_MEM_KEEP) {
		ev->mem = xmalloc(size);
		return;
	}
	if (m->size < size) {
		free(m->p);
		m->p = xmalloc(size);
		m->size = size;
	}
	ev->mem = m->p;
	ev->mem_lent = true;
}

void
event_mem_free(struct event_mem *m)
{
	free(m->p);
	m->p = NULL;
	m->size = 0;
}

/* Check body (UTF-8 too if utf8) and read it into ev, or set *reason. */
static int
event_load(struct amp_event *ev, const char *body, size_t len, bool utf8,
    struct event_mem *m, const char **reason)
{
	struct spans	 sp;
	struct arena	 a;
	struct jscan_tape t;
	size_t		 tape;

	memset(ev, 0, sizeof(*ev));
	if ((*reason = body_check(body, len, utf8)) != NULL)
		return -1;
	/*
	 * One block: the tape of where values end (the walk steps over
	 * them), then the copies, which are of spans of the body, one NUL
	 * each: distinct spans but the lists, which copy some a second time.
	 */
	tape = len <= EVENT_TAPE_MAX ? len * sizeof(*t.close) : 0;
	a.size = 2 * len + 256;
	a.used = 0;
	event_alloc(ev, tape + a.size, m);
	a.p = (char *)ev->mem + tape;
	t.base = body;
	t.close = (uint32_t *)(void *)ev->mem;
	if (event_walk(body, len, &sp, tape > 0 ? &t : NULL, reason) == -1) {
		event_clear(ev);
		return -1;
	}
	ev->body = body;
	ev->body_len = len;
	if (event_numbers(ev, &sp, &a, reason) == -1 ||
	    event_ids(ev, &sp, &a, reason) == -1) {
		event_clear(ev);
		return -1;
	}
	event_strings(ev, &sp, &a);
	return 0;
}

void
event_clear(struct amp_event *ev)
{
	if (!ev->mem_lent)
		free(ev->mem);
	memset(ev, 0, sizeof(*ev));
}

/*
 * The reason a body cannot be an event before parsing it, or NULL.  JSON
 * is UTF-8 (RFC 8259); utf8_valid refuses NUL bytes too, so a message body
 * never gets "embedded NUL".
 */
static const char *
body_check(const char *body, size_t len, bool utf8)
{
	if (len == 0)
		return "empty body";
	if (utf8 && !utf8_valid(body, len))
		return "not valid UTF-8 (or holds NUL bytes)";
	if (!utf8 && memchr(body, '\0', len) != NULL)
		return "embedded NUL";
	return NULL;
}

/* Check the body and find the spans of every field. */
static int
event_walk(const char *body, size_t len, struct spans *sp,
    struct jscan_tape *t, const char **reason)
{
	struct jscan_val root;
	size_t		 used;
	const struct want top[] = {
		WANT("event_type", &sp->event_type),
		WANT("event_type_id", &sp->event_type_id),
		WANT("id", &sp->id),
		WANT("timestamp", &sp->timestamp),
		WANT("timestamp_nanoseconds", &sp->ns),
		WANT("date", &sp->date),
		WANT("severity", &sp->severity),
		WANT("detection", &sp->detection),
		WANT("detection_id", &sp->detection_id),
		WANT("connector_guid", &sp->connector_guid),
		WANT("computer", &sp->computer),
		WANT("file", &sp->file),
		WANT("cloud_ioc", &sp->ioc),
		WANT("error", &sp->error),
		WANT("network_info", &sp->network),
		WANT("start_timestamp", &sp->start),
		WANT("group_guids", &sp->groups),
		WANT("tactics", &sp->tactics),
		WANT("techniques", &sp->techniques),
		WANT("threat_hunting", &sp->hunting),
	};

	memset(sp, 0, sizeof(*sp));
	if (jscan_value_tape(body, len, &root, &used, t) == -1)
		*reason = "not JSON";
	else if (root.type != JSCAN_OBJECT)
		*reason = "not a JSON object";
	else if (used != len)
		*reason = "trailing data after the JSON object";
	else {
		pick(&root, top, nitems(top));
		walk_nested(sp);
		return 0;
	}
	return -1;
}

/* A key holds an escape: short, so a loop beats a call to memchr. */
static inline bool
has_escape(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (p[i] == '\\')
			return true;
	return false;
}

/* One walk over object o: each wanted name gets its last member's value. */
static void
pick(const struct jscan_val *o, const struct want *w, size_t n)
{
	struct jscan_iter	 it;
	struct jscan_val	 k, v;
	char			 tmp[64];
	const char		*key;
	size_t			 i, len;

	if (o->type != JSCAN_OBJECT)
		return;
	jscan_open(&it, o);
	while (jscan_member(&it, &k, &v)) {
		key = k.p;
		len = k.n;
		if (has_escape(k.p, k.n)) {	/* rare: undo once */
			if (k.n >= sizeof(tmp))
				continue;	/* longer than any we want */
			len = jscan_str(&k, tmp);
			key = tmp;
		}
		for (i = 0; i < n; i++)
			if (w[i].len == len && memcmp(w[i].key, key, len) == 0) {
				*w[i].val = v;
				break;
			}
	}
}

/* The objects inside the event: computer, file, cloud_ioc, ... */
static void
walk_nested(struct spans *sp)
{
	const struct want computer[] = {
		WANT("connector_guid", &sp->c_guid),
		WANT("hostname", &sp->hostname),
		WANT("user", &sp->user),
		WANT("external_ip", &sp->external_ip),
		WANT("links", &sp->links),
		WANT("network_addresses", &sp->addrs),
		WANT("operating_system", &sp->os),
	};
	const struct want links[] = { WANT("computer", &sp->api_link) };
	const struct want file[] = {
		WANT("file_name", &sp->file_name),
		WANT("file_path", &sp->file_path),
		WANT("disposition", &sp->disposition),
		WANT("identity", &sp->identity),
		WANT("parent", &sp->parent),
		WANT("archived_file", &sp->archived),
	};
	const struct want identity[] = {
		WANT("sha256", &sp->sha256),
		WANT("sha1", &sp->sha1),
		WANT("md5", &sp->md5),
	};
	const struct want parent[] = {
		WANT("file_name", &sp->parent_name),
		WANT("process_id", &sp->parent_pid),
		WANT("identity", &sp->parent_identity),
		WANT("disposition", &sp->parent_disp),
	};
	const struct want parent_id[] = {
		WANT("sha256", &sp->parent_sha256),
		WANT("sha1", &sp->parent_sha1),
		WANT("md5", &sp->parent_md5),
	};
	const struct want ioc[] = { WANT("short_description", &sp->ioc_desc) };
	const struct want error[] = {
		WANT("description", &sp->err_desc),
		WANT("error_code", &sp->err_code),
	};
	const struct want network[] = {
		WANT("remote_ip", &sp->remote_ip),
		WANT("local_port", &sp->local_port),
		WANT("remote_port", &sp->remote_port),
		WANT("nfm", &sp->nfm),
		WANT("dirty_url", &sp->dirty_url),
	};

	pick(&sp->computer, computer, nitems(computer));
	pick(&sp->links, links, nitems(links));
	walk_addresses(sp);
	pick(&sp->file, file, nitems(file));
	pick(&sp->identity, identity, nitems(identity));
	pick(&sp->parent, parent, nitems(parent));
	pick(&sp->parent_identity, parent_id, nitems(parent_id));
	pick(&sp->ioc, ioc, nitems(ioc));
	pick(&sp->error, error, nitems(error));
	pick(&sp->network, network, nitems(network));
	walk_more(sp);
}

/* The archived file, network flow and threat hunting objects. */
static void
walk_more(struct spans *sp)
{
	const struct want archived[] = {
		WANT("identity", &sp->arch_identity),
		WANT("disposition", &sp->arch_disp),
	};
	const struct want arch_id[] = { WANT("sha256", &sp->arch_sha256) };
	const struct want nfm[] = {
		WANT("protocol", &sp->protocol),
		WANT("direction", &sp->direction),
	};
	const struct want hunting[] = {
		WANT("incident_id", &sp->inc_id),
		WANT("incident_title", &sp->inc_title),
		WANT("incident_summary", &sp->inc_summary),
		WANT("incident_remediation", &sp->inc_remed),
		WANT("tactics", &sp->th_tactics),
		WANT("techniques", &sp->th_techniques),
	};

	pick(&sp->archived, archived, nitems(archived));
	pick(&sp->arch_identity, arch_id, nitems(arch_id));
	pick(&sp->nfm, nfm, nitems(nfm));
	pick(&sp->hunting, hunting, nitems(hunting));
}

/*
 * network_addresses: the first IPv4 and the first IPv6 address, each with
 * the mac of its entry.
 */
static void
walk_addresses(struct spans *sp)
{
	struct jscan_iter	 it;
	struct jscan_val	 e, ip, mac;
	const struct want	 entry[] = { WANT("ip", &ip), WANT("mac", &mac) };

	if (sp->addrs.type != JSCAN_ARRAY)
		return;
	jscan_open(&it, &sp->addrs);
	while (jscan_elem(&it, &e)) {
		memset(&ip, 0, sizeof(ip));
		memset(&mac, 0, sizeof(mac));
		pick(&e, entry, nitems(entry));
		switch (addr_family(&ip)) {
		case AF_INET:
			if (sp->ipv4.type == JSCAN_NONE) {
				sp->ipv4 = ip;
				sp->mac4 = mac;
			}
			break;
		case AF_INET6:
			if (sp->ipv6.type == JSCAN_NONE) {
				sp->ipv6 = ip;
				sp->mac6 = mac;
			}
			break;
		}
	}
}

/* AF_INET or AF_INET6 if the string v is such an address, else 0. */
static int
addr_family(const struct jscan_val *v)
{
	char		 s[INET6_ADDRSTRLEN + 8];
	unsigned char	 a[16];

	if (v->type != JSCAN_STRING || v->n >= sizeof(s))
		return 0;
	jscan_str(v, s);
	if (inet_pton(AF_INET, s, a) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, a) == 1)
		return AF_INET6;
	return 0;
}

/* event_type_id (required, an int64), times and ports. */
static int
event_numbers(struct amp_event *ev, const struct spans *sp, struct arena *a,
    const char **reason)
{
	int64_t	 v;

	if ((ev->event_type = str(a, &sp->event_type)) == NULL)
		*reason = "no event_type";
	else if (sp->event_type_id.type == JSCAN_NONE ||
	    sp->event_type_id.type == JSCAN_NULL)
		*reason = "no event_type_id";
	else if (!jscan_is_int(&sp->event_type_id))
		*reason = "event_type_id not an integer";
	else if (!jscan_int(&sp->event_type_id, &ev->event_type_id))
		*reason = "event_type_id out of range";
	else {
		if (jscan_int(&sp->timestamp, &v) && v > 0)
			ev->timestamp = v;
		if (jscan_int(&sp->ns, &v) && v >= 0 && v <= 999999999)
			ev->timestamp_ns = v;
		if (jscan_int(&sp->start, &v) && v > 0)
			ev->start_timestamp = v;
		ev->has_parent_pid = jscan_int(&sp->parent_pid, &ev->parent_pid);
		ev->has_error_code = jscan_int(&sp->err_code, &ev->error_code);
		ev->has_local_port = port_get(&sp->local_port, &ev->local_port);
		ev->has_remote_port = port_get(&sp->remote_port,
		    &ev->remote_port);
		return 0;
	}
	return -1;
}

/*
 * The event id: an integer, or a string of digits, kept as its exact
 * digits; longer than EVENT_ID_MAX it is refused rather than cut.
 * detection_id: a string, or an integer's exact digits.
 */
static int
event_ids(struct amp_event *ev, const struct spans *sp, struct arena *a,
    const char **reason)
{
	const struct jscan_val	*id = &sp->id;
	size_t			 i;

	if (id->type == JSCAN_STRING) {
		for (i = 0; i < id->n && id->p[i] >= '0' && id->p[i] <= '9'; i++)
			;
		if (i == 0 || i < id->n)
			id = NULL;		/* not an id: as if absent */
	} else if (!jscan_is_int(id))
		id = NULL;
	if (id != NULL && id->n > EVENT_ID_MAX) {
		*reason = "id longer than 64 digits";
		return -1;
	}
	if (id != NULL) {
		ev->id_str = digits(a, id);
		ev->has_id = true;
	}
	if ((ev->detection_id = str(a, &sp->detection_id)) == NULL &&
	    jscan_is_int(&sp->detection_id))
		ev->detection_id = digits(a, &sp->detection_id);
	return 0;
}

static void
event_strings(struct amp_event *ev, const struct spans *sp, struct arena *a)
{
	ev->date = str(a, &sp->date);
	ev->severity = str(a, &sp->severity);
	ev->detection = str(a, &sp->detection);
	if ((ev->connector_guid = str(a, &sp->connector_guid)) == NULL)
		ev->connector_guid = str(a, &sp->c_guid);
	ev->hostname = str(a, &sp->hostname);
	ev->user = str(a, &sp->user);
	ev->external_ip = str(a, &sp->external_ip);
	ev->api_link = str(a, &sp->api_link);
	ev->ipv4 = str(a, &sp->ipv4);
	ev->ipv6 = str(a, &sp->ipv6);
	ev->mac = str(a, ev->ipv4 != NULL ? &sp->mac4 : &sp->mac6);
	ev->file_name = str(a, &sp->file_name);
	ev->file_path = str(a, &sp->file_path);
	ev->disposition = str(a, &sp->disposition);
	ev->sha256 = str(a, &sp->sha256);
	ev->sha1 = str(a, &sp->sha1);
	ev->md5 = str(a, &sp->md5);
	ev->parent_name = str(a, &sp->parent_name);
	ev->parent_sha256 = str(a, &sp->parent_sha256);
	if ((ev->description = str(a, &sp->ioc_desc)) == NULL)
		ev->description = str(a, &sp->err_desc);
	ev->remote_ip = str(a, &sp->remote_ip);
	event_groups(ev, sp, a);
	event_more(ev, sp, a);
}

static void
event_more(struct amp_event *ev, const struct spans *sp, struct arena *a)
{
	/* A hunting incident has them at the top and in threat_hunting. */
	if ((ev->tactics = join(a, &sp->tactics, "external_id")) == NULL)
		ev->tactics = join(a, &sp->th_tactics, "external_id");
	if ((ev->techniques = join(a, &sp->techniques, "external_id")) == NULL)
		ev->techniques = join(a, &sp->th_techniques, "external_id");
	ev->ips = join(a, &sp->addrs, "ip");
	ev->macs = join(a, &sp->addrs, "mac");
	ev->parent_sha1 = str(a, &sp->parent_sha1);
	ev->parent_md5 = str(a, &sp->parent_md5);
	ev->parent_disposition = str(a, &sp->parent_disp);
	ev->archived_sha256 = str(a, &sp->arch_sha256);
	ev->archived_disposition = str(a, &sp->arch_disp);
	ev->os = str(a, &sp->os);
	ev->protocol = str(a, &sp->protocol);
	ev->direction = str(a, &sp->direction);
	ev->dirty_url = str(a, &sp->dirty_url);
	ev->incident_id = sp->inc_id.type == JSCAN_STRING ? str(a, &sp->inc_id) :
	    jscan_is_int(&sp->inc_id) ? digits(a, &sp->inc_id) : NULL;
	ev->incident_title = str(a, &sp->inc_title);
	ev->incident_summary = str(a, &sp->inc_summary);
	ev->incident_remediation = str(a, &sp->inc_remed);
}

/*
 * The strings of array v (or the member key of its objects: MITRE ids come
 * as "TA0002" or as {"name":..,"external_id":"TA0002",..}), the first
 * EVENT_LIST_MAX of at most EVENT_ITEM_MAX bytes, without repeats,
 * comma-separated; NULL when there is none.
 */
static const char *
join(struct arena *a, const struct jscan_val *v, const char *key)
{
	struct jscan_iter	 it;
	struct jscan_val	 e, m;
	const struct want	 w[] = { { key, strlen(key), &m } };
	const char		*item, *out = NULL;
	size_t			 n = 0, start = a->used;

	if (v->type != JSCAN_ARRAY)
		return NULL;
	jscan_open(&it, v);
	while (n < EVENT_LIST_MAX && jscan_elem(&it, &e)) {
		memset(&m, 0, sizeof(m));
		if (e.type == JSCAN_OBJECT)
			pick(&e, w, 1);
		else
			m = e;
		if (m.type != JSCAN_STRING || m.n > EVENT_ITEM_MAX ||
		    (item = str(a, &m)) == NULL)
			continue;
		if (*item == '\0' || strchr(item, ',') != NULL ||
		    list_has(a->p + start, item - a->p - start, item)) {
			a->used = (size_t)(item - a->p);	/* drop it */
			continue;
		}
		if (n++ > 0)
			((char *)item)[-1] = ',';	/* join to the one before */
		else
			out = item;
	}
	return out;
}

/* Whether the comma-separated list at p (len bytes) has item. */
static bool
list_has(const char *p, size_t len, const char *item)
{
	size_t	 il = strlen(item);
	const char *end = p + len, *c;

	while (p < end) {
		c = memchr(p, ',', (size_t)(end - p));
		if (c == NULL)
			c = memchr(p, '\0', (size_t)(end - p));
		if (c == NULL)
			c = end;
		if ((size_t)(c - p) == il && memcmp(p, item, il) == 0)
			return true;
		p = c + 1;
	}
	return false;
}

/* The first EVENT_GROUPS_MAX strings of group_guids (others are skipped). */
static void
event_groups(struct amp_event *ev, const struct spans *sp, struct arena *a)
{
	struct jscan_iter	 it;
	struct jscan_val	 e;

	if (sp->groups.type != JSCAN_ARRAY)
		return;
	jscan_open(&it, &sp->groups);
	while (ev->ngroups < EVENT_GROUPS_MAX && jscan_elem(&it, &e))
		if (e.type == JSCAN_STRING)
			ev->group_guids[ev->ngroups++] = str(a, &e);
}

/* A copy of the string v, unescaped, or NULL if v is not a string. */
static const char *
str(struct arena *a, const struct jscan_val *v)
{
	char	*s;

	if (v->type != JSCAN_STRING)
		return NULL;
	if (a->size - a->used < v->n + 1)
		fatalx("%s: event copies overflow", __func__);
	s = a->p + a->used;
	a->used += jscan_str(v, s) + 1;
	return s;
}

/* A copy of v's digits (v is an integer number or a string of digits). */
static const char *
digits(struct arena *a, const struct jscan_val *v)
{
	char	*s;

	if (a->size - a->used < v->n + 1)
		fatalx("%s: event copies overflow", __func__);
	s = a->p + a->used;
	memcpy(s, v->p, v->n);
	s[v->n] = '\0';
	a->used += v->n + 1;
	return s;
}

/* An integer member that is a valid port number. */
static bool
port_get(const struct jscan_val *v, int64_t *out)
{
	return jscan_int(v, out) && *out >= 0 && *out <= 65535;
}
