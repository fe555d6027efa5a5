/*
 * ctl_list.c: ampstreamctl list and delete.
 *
 * A stream lists its event types as ids ("event_types") and its groups as
 * GUIDs ("group_guids"); absent or empty means all.  list resolves them to
 * names through /v1/event_types and /v1/groups (fetched only when needed).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api.h"
#include "compat.h"
#include "ctl.h"
#include "ctl_esc.h"
#include "log.h"

static int	 any_listed(struct json_object *, const char *);
static struct json_object *describe(struct json_object *, struct json_object *,
		    struct json_object *);
static struct json_object *named(struct json_object *, const char *,
		    struct json_object *, const char *);
static void	 add_str(struct json_object *, const char *,
		    struct json_object *, const char *);
static void	 print_stream(struct json_object *);
static void	 print_names(const char *, struct json_object *,
		    const char *, const char *);
static int	 remove_password(const struct ctl *, const char *, int);
static struct json_object *resolve_stream(const struct ctl *,
		    struct json_object *, const char *);

/* Every stream with its event types and groups by name. */
int
ctl_list(struct ctl *ctl, int argc, char **argv)
{
	struct json_object	*streams = NULL, *types = NULL, *groups = NULL;
	struct json_object	*out = NULL;
	int			 json, rv = CTL_API;
	size_t			 i;

	if (ctl_args_json(ctl, argc, argv, &json) == -1)
		return CTL_USAGE;
	if (ctl_fetch_streams(ctl, &streams) == -1 ||
	    (any_listed(streams, "event_types") &&
	    ctl_fetch_event_types(ctl, &types) == -1) ||
	    (any_listed(streams, "group_guids") &&
	    ctl_fetch_groups(ctl, &groups) == -1))
		goto out;
	if ((out = json_object_new_array()) == NULL)
		fatal("json_object_new_array");
	for (i = 0; i < json_object_array_length(streams); i++)
		json_object_array_add(out, describe(json_object_array_get_idx(
		    streams, i), types, groups));
	if (json)
		ctl_print_json(out);
	else if (json_object_array_length(out) == 0)
		printf("no event streams on %s\n", api_host(ctl->api));
	for (i = 0; !json && i < json_object_array_length(out); i++)
		print_stream(json_object_array_get_idx(out, i));
	rv = CTL_OK;
out:
	json_object_put(out);
	json_object_put(streams);
	json_object_put(types);
	json_object_put(groups);
	return rv;
}

/* Some stream lists key explicitly (not "all"). */
static int
any_listed(struct json_object *streams, const char *key)
{
	struct json_object	*v;
	size_t			 i;

	for (i = 0; i < json_object_array_length(streams); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(streams,
		    i), key, &v) && json_object_is_type(v, json_type_array) &&
		    json_object_array_length(v) > 0)
			return 1;
	return 0;
}

/*
 * {"id", "name", "all_event_types", "event_types": [{"id", "name"}],
 * "all_groups", "groups": [{"guid", "name"}], "amqp": {url, user, queue}}.
 */
static struct json_object *
describe(struct json_object *s, struct json_object *types,
    struct json_object *groups)
{
	struct json_object	*d = json_object_new_object(), *v, *creds, *a;
	char			*url;

	if (d == NULL)
		fatal("json_object_new_object");
	if (json_object_object_get_ex(s, "id", &v))
		json_object_object_add(d, "id", json_object_get(v));
	add_str(d, "name", s, "name");
	v = named(s, "event_types", types, "id");
	json_object_object_add(d, "all_event_types",
	    json_object_new_boolean(json_object_array_length(v) == 0));
	json_object_object_add(d, "event_types", v);
	v = named(s, "group_guids", groups, "guid");
	json_object_object_add(d, "all_groups",
	    json_object_new_boolean(json_object_array_length(v) == 0));
	json_object_object_add(d, "groups", v);
	if (!json_object_object_get_ex(s, "amqp_credentials", &creds) ||
	    !json_object_is_type(creds, json_type_object))
		return d;
	a = json_object_new_object();
	if ((url = ctl_amqp_url(creds)) != NULL)
		json_object_object_add(a, "url", json_object_new_string(url));
	free(url);
	add_str(a, "user", creds, "user_name");
	add_str(a, "queue", creds, "queue_name");
	json_object_object_add(d, "amqp", a);
	return d;
}

/* to[key] = from[fromkey] when that is a string. */
static void
add_str(struct json_object *to, const char *key, struct json_object *from,
    const char *fromkey)
{
	const char	*v;

	if ((v = ctl_str(from, fromkey)) != NULL)
		json_object_object_add(to, key, json_object_new_string(v));
}

/* The ids in s[key] as [{idkey: id, "name": name-or-null}]. */
static struct json_object *
named(struct json_object *s, const char *key, struct json_object *items,
    const char *idkey)
{
	struct json_object	*list, *out = json_object_new_array(), *o, *id;
	const char		*name;
	size_t			 i;

	if (out == NULL)
		fatal("json_object_new_array");
	if (!json_object_object_get_ex(s, key, &list) ||
	    !json_object_is_type(list, json_type_array))
		return out;
	for (i = 0; i < json_object_array_length(list); i++) {
		id = json_object_array_get_idx(list, i);
		if (ctl_idstr(id) == NULL)
			id = NULL;	/* not an id: shown as unknown */
		name = items ? ctl_name_of(items, idkey, ctl_idstr(id)) : NULL;
		o = json_object_new_object();
		json_object_object_add(o, idkey, json_object_get(id));
		json_object_object_add(o, "name",
		    name ? json_object_new_string(name) : NULL);
		json_object_array_add(out, o);
	}
	return out;
}

static void
print_stream(struct json_object *d)
{
	struct json_object	*a;
	const char		*url, *id;

	id = ctl_idstr(json_object_object_get(d, "id"));
	printf("%s  %s\n", id ? esc(id) : "?", esc(ctl_str(d, "name")));
	print_names("event types", json_object_object_get(d, "event_types"),
	    "id", "unknown event type");
	print_names("groups", json_object_object_get(d, "groups"), "guid",
	    "unknown group");
	if (!json_object_object_get_ex(d, "amqp", &a))
		return;
	url = ctl_str(a, "url");
	printf("  amqp: %s  user %s  queue %s\n", url ? esc(url) : "?",
	    ctl_str(a, "user") ? esc(ctl_str(a, "user")) : "?",
	    ctl_str(a, "queue") ? esc(ctl_str(a, "queue")) : "?");
}

/* "  event types: all", or a count and one name per line. */
static void
print_names(const char *what, struct json_object *list, const char *idkey,
    const char *unknown)
{
	struct json_object	*o;
	const char		*name, *id;
	size_t			 i, n = json_object_array_length(list);

	if (n == 0) {
		printf("  %s: all\n", what);
		return;
	}
	printf("  %s (%zu):\n", what, n);
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(list, i);
		id = ctl_idstr(json_object_object_get(o, idkey));
		if ((name = ctl_str(o, "name")) != NULL)
			printf("    %s\n", esc(name));
		else
			printf("    (%s %s)\n", unknown, id ? esc(id) : "?");
	}
}

/* Delete a stream given by id or by name, then what create wrote for it. */
int
ctl_delete(struct ctl *ctl, int argc, char **argv)
{
	struct json_object	*streams = NULL, *s, *env = NULL;
	char			 path[64], *cause = NULL;
	const char		*arg;
	int64_t			 id;
	int			 rv = CTL_API, yes;

	yes = argc == 3 && (strcmp(argv[1], "--yes") == 0 ||
	    strcmp(argv[1], "-y") == 0);
	if (argc != 2 + yes) {
		ctl_err(ctl, "usage: delete [--yes] ID|NAME");
		return CTL_USAGE;
	}
	arg = argv[1 + yes];
	if (ctl_fetch_streams(ctl, &streams) == -1)
		return CTL_API;
	if ((s = resolve_stream(ctl, streams, arg)) == NULL ||
	    ctl_int(s, "id", &id) == -1) {
		rv = CTL_USAGE;
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/event_streams/%" PRId64, id);
	if (api_delete(ctl->api, path, &env, &cause) == -1) {
		ctl_err(ctl, "%s%s", cause, api_not_found(ctl->api) ?
		    " (the stream is already gone)" : "");
		goto out;
	}
	printf("deleted event stream %" PRId64 " \"%s\" on %s\n", id,
	    esc(ctl_str(s, "name")), api_host(ctl->api));
	rv = CTL_OK;
	if (ctl_str(s, "name") != NULL)
		rv = remove_password(ctl, ctl_str(s, "name"), yes);
out:
	free(cause);
	json_object_put(env);
	json_object_put(streams);
	return rv;
}

/*
 * The password file create wrote by default, now useless: removed with
 * --yes or when the user at the terminal says so; else kept and named.
 */
static int
remove_password(const struct ctl *ctl, const char *name, int yes)
{
	struct stat	 st;
	char		*path = ctl_password_path(ctl, name), line[16];
	int		 rv = CTL_OK;

	if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
		goto out;
	if (!yes && isatty(STDIN_FILENO)) {
		fprintf(stderr, "remove its password file %s? [y/N] ", path);
		yes = fgets(line, sizeof(line), stdin) != NULL &&
		    (line[0] == 'y' || line[0] == 'Y');
	}
	if (!yes)
		printf("kept its password file %s (remove it, or delete with "
		    "--yes)\n", path);
	else if (unlink(path) == -1) {
		ctl_err(ctl, "remove %s: %s", path, strerror(errno));
		rv = CTL_USAGE;
	} else
		printf("removed its password file %s\n", path);
out:
	free(path);
	return rv;
}

/* An id (all digits) that exists, else a name (see ctl_match). */
static struct json_object *
resolve_stream(const struct ctl *ctl, struct json_object *streams,
    const char *arg)
{
	struct json_object	*s;
	int64_t			 id, sid;
	char			*end;
	size_t			 i;

	id = strtoll(arg, &end, 10);
	if (isdigit((unsigned char)*arg) && *end == '\0') {
		for (i = 0; i < json_object_array_length(streams); i++) {
			s = json_object_array_get_idx(streams, i);
			if (ctl_int(s, "id", &sid) == 0 && sid == id)
				return s;
		}
	}
	return ctl_match(ctl, streams, "name", "id", "event stream", arg);
}
