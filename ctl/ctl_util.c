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
#include "compat.h"
#include "ctl.h"
#include "log.h"
#include "strdist.h"
#include "xmalloc.h"

#define MATCH_SHOW	5	/* close matches listed */

struct near {
	const char	*name;
	size_t		 dist;
};

static int	 fetch(struct ctl *, const char *, struct json_object **);
static int	 find(struct json_object *, const char *, const char *,
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

/* api_get_all(path), printing the error. */
static int
fetch(struct ctl *ctl, const char *path, struct json_object **items)
{
	char	*cause = NULL;

	if (api_get_all(ctl->api, path, items, &cause) == -1) {
		ctl_err(ctl, "%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

int
ctl_fetch_event_types(struct ctl *ctl, struct json_object **items)
{
	return fetch(ctl, "/v1/event_types", items);
}

int
ctl_fetch_groups(struct ctl *ctl, struct json_object **items)
{
	/* limit is documented for /v1/groups; 500 is the largest page. */
	return fetch(ctl, "/v1/groups?limit=500", items);
}

int
ctl_fetch_streams(struct ctl *ctl, struct json_object **items)
{
	return fetch(ctl, "/v1/event_streams", items);
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
ctl_name_of(struct json_object *items, const char *idkey, const char *id)
{
	struct json_object	*it, *v;
	size_t			 i;

	for (i = 0; i < json_object_array_length(items); i++) {
		it = json_object_array_get_idx(items, i);
		if (json_object_object_get_ex(it, idkey, &v) &&
		    strcmp(json_object_get_string(v), id) == 0)
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

	if ((n = find(items, namekey, name, strcmp, &hit)) == 1)
		return hit;
	if (n == 0 && (n = find(items, namekey, name, strcasecmp, &hit)) == 1)
		return hit;
	if (n == 0 && find(items, idkey, name, strcasecmp, &hit) == 1)
		return hit;
	if (n > 1)
		ambiguous(ctl, items, namekey, idkey, what, name);
	else
		suggest(ctl, items, namekey, what, name);
	return NULL;
}

/* How many items have key equal to want (by cmp); *hit is the first. */
static int
find(struct json_object *items, const char *key, const char *want,
    int (*cmp)(const char *, const char *), struct json_object **hit)
{
	struct json_object	*it, *v;
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < json_object_array_length(items); i++) {
		it = json_object_array_get_idx(items, i);
		if (!json_object_object_get_ex(it, key, &v) ||
		    cmp(json_object_get_string(v), want) != 0)
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
	const char		*n;
	size_t			 i;

	ctl_err(ctl, "%s name \"%s\" is ambiguous; give one of these %ss "
	    "instead:", what, name, idkey);
	for (i = 0; i < json_object_array_length(items); i++) {
		it = json_object_array_get_idx(items, i);
		if ((n = ctl_str(it, namekey)) != NULL &&
		    strcasecmp(n, name) == 0)
			fprintf(stderr, "  %s  %s\n", json_object_get_string(
			    json_object_object_get(it, idkey)), n);
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
		fprintf(stderr, "  \"%s\"\n", near[i].name);
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

/* Print v as pretty JSON on stdout. */
void
ctl_print_json(struct json_object *v)
{
	printf("%s\n", json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
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
