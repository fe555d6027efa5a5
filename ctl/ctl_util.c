/*
 * ctl_util.c: what the ampstreamctl subcommands share: fetching the
 * listings, reading JSON members, and resolving names with close matches.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "api.h"
#include "buf.h"
#include "compat.h"
#include "ctl.h"
#include "ctl_esc.h"
#include "log.h"
#include "strdist.h"
#include "xmalloc.h"

#define MATCH_SHOW	5	/* close matches listed */

struct near {
	const char	*name;
	size_t		 dist;
};

static int	 fetch(struct ctl *, const char *, const char *,
		    struct json_object **);
static int	 check_items(const struct ctl *, const char *,
		    struct json_object *, const char *);
static int	 check_member(const struct ctl *, const char *, size_t,
		    struct json_object *, const char *);
static int	 find(struct json_object *, const char *, int, const char *,
		    int (*)(const char *, const char *), struct json_object **);
static void	 ambiguous(const struct ctl *, struct json_object *,
		    const char *, const char *, const char *, const char *);
static void	 suggest(const struct ctl *, struct json_object *,
		    const char *, const char *, const char *);
static size_t	 collect_near(struct json_object *, const char *,
		    const char *, struct near *);
static int	 is_near(const char *, const char *, size_t *);
static int	 near_cmp(const void *, const void *);
static const char *list_command(const char *);

void
ctl_err(const struct ctl *ctl, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "%s: ", ctl->progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* api_get_all(path), printing the error; every item checked. */
static int
fetch(struct ctl *ctl, const char *path, const char *idkey,
    struct json_object **items)
{
	char	*cause = NULL;

	if (api_get_all(ctl->api, path, items, &cause) == -1) {
		ctl_err(ctl, "%s", cause);
		free(cause);
		return -1;
	}
	if (check_items(ctl, path, *items, idkey) == -1) {
		json_object_put(*items);
		*items = NULL;
		return -1;
	}
	return 0;
}

/*
 * Every item must be an object with its id (idkey) and a string "name": the
 * commands match, print and send them back.  An item that breaks this makes
 * the whole listing an error rather than a guess (--all would silently
 * leave an event type out, list would show a stream it cannot name).
 */
static int
check_items(const struct ctl *ctl, const char *path, struct json_object *items,
    const char *idkey)
{
	struct json_object	*it;
	size_t			 i;

	for (i = 0; i < json_object_array_length(items); i++) {
		it = json_object_array_get_idx(items, i);
		if (!json_object_is_type(it, json_type_object)) {
			ctl_err(ctl, "GET %s: item %zu of the answer is not an "
			    "object (%s); the API's answer is malformed", path,
			    i + 1, json_type_to_name(json_object_get_type(it)));
			return -1;
		}
		if (check_member(ctl, path, i, it, idkey) == -1 ||
		    check_member(ctl, path, i, it, "name") == -1)
			return -1;
	}
	return 0;
}

/* "id": an integer (or decimal string); "guid", "name": a string. */
static int
check_member(const struct ctl *ctl, const char *path, size_t i,
    struct json_object *it, const char *key)
{
	struct json_object	*v;
	int64_t			 n;
	int			 isid = strcmp(key, "id") == 0;

	if (isid ? ctl_int(it, key, &n) == 0 : ctl_str(it, key) != NULL)
		return 0;
	if (!json_object_object_get_ex(it, key, &v))
		ctl_err(ctl, "GET %s: item %zu of the answer has no \"%s\"; "
		    "the API's answer is malformed", path, i + 1, key);
	else
		ctl_err(ctl, "GET %s: item %zu of the answer has a \"%s\" of "
		    "type %s, not %s; the API's answer is malformed", path,
		    i + 1, key, json_type_to_name(json_object_get_type(v)),
		    isid ? "an integer" : "a string");
	return -1;
}

int
ctl_fetch_event_types(struct ctl *ctl, struct json_object **items)
{
	return fetch(ctl, "/v1/event_types", "id", items);
}

int
ctl_fetch_groups(struct ctl *ctl, struct json_object **items)
{
	/* limit is documented for /v1/groups; 500 is the largest page. */
	return fetch(ctl, "/v1/groups?limit=500", "guid", items);
}

int
ctl_fetch_streams(struct ctl *ctl, struct json_object **items)
{
	return fetch(ctl, "/v1/event_streams", "id", items);
}

const char *
ctl_str(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
ctl_int(struct json_object *o, const char *key, int64_t *out)
{
	struct json_object	*v;
	const char		*s;
	char			*end;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return -1;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	errno = 0;
	*out = strtoll(s, &end, 10);
	return (end == s || *end != '\0' || errno != 0) ? -1 : 0;
}

const char *
ctl_idstr(struct json_object *v)
{
	if (json_object_is_type(v, json_type_string) ||
	    json_object_is_type(v, json_type_int))
		return json_object_get_string(v);
	return NULL;
}

const char *
ctl_name_of(struct json_object *items, const char *idkey, const char *id)
{
	struct json_object	*it;
	const char		*v;
	size_t			 i;

	if (id == NULL)
		return NULL;
	for (i = 0; i < json_object_array_length(items); i++) {
		it = json_object_array_get_idx(items, i);
		v = ctl_idstr(json_object_object_get(it, idkey));
		if (v != NULL && strcmp(v, id) == 0)
			return ctl_str(it, "name");
	}
	return NULL;
}

struct json_object *
ctl_match(const struct ctl *ctl, struct json_object *items,
    const char *namekey, const char *idkey, const char *what, const char *name)
{
	struct json_object	*hit = NULL;
	int			 n;

	if ((n = find(items, namekey, 0, name, strcmp, &hit)) == 1)
		return hit;
	if (n == 0 && (n = find(items, namekey, 0, name, strcasecmp, &hit)) ==
	    1)
		return hit;
	if (n == 0 && find(items, idkey, 1, name, strcasecmp, &hit) == 1)
		return hit;
	if (n > 1)
		ambiguous(ctl, items, namekey, idkey, what, name);
	else
		suggest(ctl, items, namekey, what, name);
	return NULL;
}

/*
 * How many items have key (an id when isid, else a string) equal to want
 * (by cmp); *hit is the first.  A member of another type is no match.
 */
static int
find(struct json_object *items, const char *key, int isid, const char *want,
    int (*cmp)(const char *, const char *), struct json_object **hit)
{
	struct json_object	*it;
	const char		*v;
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < json_object_array_length(items); i++) {
		it = json_object_array_get_idx(items, i);
		v = isid ? ctl_idstr(json_object_object_get(it, key)) :
		    ctl_str(it, key);
		if (v == NULL || cmp(v, want) != 0)
			continue;
		if (n++ == 0)
			*hit = it;
	}
	return n;
}

/* Several items carry the name: list their ids. */
static void
ambiguous(const struct ctl *ctl, struct json_object *items,
    const char *namekey, const char *idkey, const char *what, const char *name)
{
	struct json_object	*it;
	const char		*n, *id;
	size_t			 i;

	ctl_err(ctl, "%s name \"%s\" is ambiguous; give one of these %ss "
	    "instead:", what, name, idkey);
	for (i = 0; i < json_object_array_length(items); i++) {
		it = json_object_array_get_idx(items, i);
		if ((n = ctl_str(it, namekey)) == NULL ||
		    strcasecmp(n, name) != 0)
			continue;
		id = ctl_idstr(json_object_object_get(it, idkey));
		fprintf(stderr, "  %s  %s\n", id ? esc(id) : "?", esc(n));
	}
}

/* No item carries the name: list the close ones. */
static void
suggest(const struct ctl *ctl, struct json_object *items,
    const char *namekey, const char *what, const char *name)
{
	struct near	*near;
	size_t		 i, n;

	near = xcalloc(json_object_array_length(items) + 1, sizeof(*near));
	n = collect_near(items, namekey, name, near);
	if (n == 0) {
		ctl_err(ctl, "unknown %s \"%s\" (no close match; see "
		    "\"%s %s\")", what, name, ctl->progname, list_command(what));
		goto out;
	}
	qsort(near, n, sizeof(*near), near_cmp);
	ctl_err(ctl, "unknown %s \"%s\"; close matches:", what, name);
	for (i = 0; i < n && i < MATCH_SHOW; i++)
		fprintf(stderr, "  \"%s\"\n", esc(near[i].name));
out:
	free(near);
}

static size_t
collect_near(struct json_object *items, const char *namekey,
    const char *name, struct near *near)
{
	const char	*n;
	size_t		 i, count = 0;

	for (i = 0; i < json_object_array_length(items); i++) {
		n = ctl_str(json_object_array_get_idx(items, i), namekey);
		if (n != NULL && is_near(name, n, &near[count].dist))
			near[count++].name = n;
	}
	return count;
}

/*
 * Close: one contains the other (ignoring case, at least 3 characters), or
 * the edit distance is at most a third of the name's length (at least 2).
 */
static int
is_near(const char *want, const char *have, size_t *dist)
{
	size_t	 wl = strlen(want), limit = wl / 3 < 2 ? 2 : wl / 3;

	*dist = strdist(want, have, true);
	if (*dist <= limit)
		return 1;
	return wl >= 3 && strlen(have) >= 3 && (strcasestr(have, want) != NULL
	    || strcasestr(want, have) != NULL);
}

static int
near_cmp(const void *a, const void *b)
{
	const struct near	*x = a, *y = b;

	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The subcommand that lists what. */
static const char *
list_command(const char *what)
{
	if (strcmp(what, "event type") == 0)
		return "event-types";
	if (strcmp(what, "group") == 0)
		return "groups";
	return "list";
}

int
ctl_args_json(const struct ctl *ctl, int argc, char **argv, int *json)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,	NULL,	'j' },
		{ NULL,		0,		NULL,	0 }
	};
	int	 ch;

	*json = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+j", longopts, NULL)) != -1) {
		if (ch != 'j')
			return -1;
		*json = 1;
	}
	if (optind != argc) {
		ctl_err(ctl, "%s: unexpected argument \"%s\"", argv[0],
		    argv[optind]);
		return -1;
	}
	return 0;
}

/* Print v as pretty JSON on stdout, what json-c leaves raw escaped. */
void
ctl_print_json(struct json_object *v)
{
	const char	*s;
	struct buf	 b;

	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	buf_init(&b, 0);
	esc_append(&b, s, strlen(s), ESC_JSON);
	printf("%s\n", b.data != NULL ? b.data : "");
	buf_free(&b);
}

/*
 * amqps://HOST:PORT/ from a stream's amqp_credentials.  proto is "https" in
 * the API (AMQP over TLS); only another value gives amqp://.  NULL when the
 * host or port is missing or malformed.
 */
char *
ctl_amqp_url(struct json_object *creds)
{
	const char	*host = ctl_str(creds, "host");
	const char	*proto = ctl_str(creds, "proto");
	int		 tls, v6;
	int64_t		 port;
	char		*url;

	if (host == NULL || *host == '\0' ||
	    host[strspn(host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:")] != '\0')
		return NULL;
	tls = proto == NULL || strcasecmp(proto, "https") == 0 ||
	    strcasecmp(proto, "amqps") == 0;
	if (ctl_int(creds, "port", &port) == -1)
		port = tls ? 443 : 5672;
	if (port < 1 || port > 65535)
		return NULL;
	v6 = strchr(host, ':') != NULL;
	xasprintf(&url, "%s://%s%s%s:%" PRId64 "/", tls ? "amqps" : "amqp",
	    v6 ? "[" : "", host, v6 ? "]" : "", port);
	return url;
}
