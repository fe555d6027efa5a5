/*
 * event.c: parse one AMP event (an AMQP message body) with json-c.
 *
 * The body is checked (size, NUL bytes; for event_read UTF-8 too, in the
 * one body_check) and tokenized over exactly len bytes in strict mode;
 * trailing garbage or anything but one JSON object is refused.  Every
 * optional field is looked up by type: a field of the wrong type is treated
 * as absent.  Integers are read as int64 (uint64 for an id above INT64_MAX),
 * never as int, which saturates at INT32_MAX.
 */
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "compat.h"
#include "event.h"
#include "log.h"
#include "utf8.h"
#include "xmalloc.h"

static struct json_object	*event_tokenize(const char *, size_t,
				    const char **);
static struct json_object	*event_json(const char *, size_t, size_t *,
				    const char **);
static int		 event_load(struct amp_event *, const char *, size_t,
			    bool, const char **);
static const char	*body_check(const char *, size_t, bool);
static bool		 all_space(const char *, size_t);
static struct json_object	*obj_get(struct json_object *, const char *,
				    enum json_type);
static const char	*str_get(struct json_object *, const char *);
static bool		 int_get(struct json_object *, const char *, int64_t *);
static int		 uint_text(struct json_object *, char *, size_t);
static int		 event_required(struct amp_event *, const char **);
static void		 event_id(struct amp_event *);
static void		 event_detection_id(struct amp_event *);
static void		 event_time(struct amp_event *);
static void		 event_computer(struct amp_event *, struct json_object *);
static void		 event_addresses(struct amp_event *, struct json_object *);
static void		 event_address(struct amp_event *, struct json_object *,
			    const char **, const char **);
static void		 event_file(struct amp_event *, struct json_object *);
static void		 event_description(struct amp_event *);
static void		 event_network(struct amp_event *, struct json_object *);
static bool		 port_get(struct json_object *, const char *, int64_t *);
static int		 addr_family(const char *);

int
event_read(struct amp_event *ev, const char *body, size_t len,
    const char **reason)
{
	return event_load(ev, body, len, true, reason);
}

int
event_parse(struct amp_event *ev, const char *body, size_t len,
    const char **reason)
{
	return event_load(ev, body, len, false, reason);
}

/* Check body (UTF-8 too if utf8) and parse it into ev, or set *reason. */
static int
event_load(struct amp_event *ev, const char *body, size_t len, bool utf8,
    const char **reason)
{
	struct json_object	*root;

	memset(ev, 0, sizeof(*ev));
	if ((*reason = body_check(body, len, utf8)) != NULL ||
	    (root = event_tokenize(body, len, reason)) == NULL)
		return -1;
	ev->root = root;
	ev->body = body;
	ev->body_len = len;
	if (event_required(ev, reason) == -1)
		goto fail;
	event_id(ev);
	event_detection_id(ev);
	event_time(ev);
	ev->date = str_get(root, "date");
	ev->severity = str_get(root, "severity");
	ev->detection = str_get(root, "detection");
	ev->connector_guid = str_get(root, "connector_guid");
	event_computer(ev, obj_get(root, "computer", json_type_object));
	event_file(ev, obj_get(root, "file", json_type_object));
	event_description(ev);
	event_network(ev, obj_get(root, "network_info", json_type_object));
	if (!int_get(root, "start_timestamp", &ev->start_timestamp) ||
	    ev->start_timestamp < 0)
		ev->start_timestamp = 0;
	return 0;
fail:
	event_clear(ev);
	return -1;
}

void
event_clear(struct amp_event *ev)
{
	if (ev->root != NULL)
		json_object_put(ev->root);
	memset(ev, 0, sizeof(*ev));
}

/* Tokenize exactly len checked bytes into one JSON object, or set *reason. */
static struct json_object *
event_tokenize(const char *body, size_t len, const char **reason)
{
	struct json_object	*o;
	size_t			 end;

	if ((o = event_json(body, len, &end, reason)) == NULL)
		return NULL;
	if (!json_object_is_type(o, json_type_object))
		*reason = "not a JSON object";
	else if (!all_space(body + end, len - end))
		*reason = "trailing data after the JSON object";
	else
		return o;
	json_object_put(o);
	return NULL;
}

/* Run the strict tokenizer over len bytes; *endp is where the value ends. */
static struct json_object *
event_json(const char *body, size_t len, size_t *endp, const char **reason)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 err;

	if ((tok = json_tokener_new()) == NULL)
		fatal("%s", __func__);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_ALLOW_TRAILING_CHARS);
	o = json_tokener_parse_ex(tok, body, (int)len);
	*endp = json_tokener_get_parse_end(tok);
	if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue) {
		o = json_tokener_parse_ex(tok, "", 1);	/* end of input */
		*endp = len;
	}
	err = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (o == NULL)		/* a bare "null" parses to NULL */
		*reason = err == json_tokener_success ? "not a JSON object" :
		    "not JSON";
	return o;
}

/*
 * The reason a body cannot be an event before parsing it, or NULL.  Longer
 * than EVENT_MAX_BODY is what the stream hands over of a longer body.  JSON
 * is UTF-8 (RFC 8259) and json-c would let bad bytes through; utf8_valid
 * refuses NUL bytes too, so a message body never gets "embedded NUL".
 */
static const char *
body_check(const char *body, size_t len, bool utf8)
{
	if (len > EVENT_MAX_BODY)
		return "body too large";
	if (len == 0)
		return "empty body";
	if (utf8 && !utf8_valid(body, len))
		return "not valid UTF-8 (or holds NUL bytes)";
	if (memchr(body, '\0', len) != NULL)
		return "embedded NUL";
	return NULL;
}

/* True if the n bytes at p are JSON whitespace only. */
static bool
all_space(const char *p, size_t n)
{
	for (; n > 0; p++, n--)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return false;
	return true;
}

/* The member key of o if it has type t, else NULL. */
static struct json_object *
obj_get(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

/*
 * The string member key of o, or NULL.  A string with an escaped NUL
 * ("\u0000") is replaced in the tree by a copy without NULs, so the C
 * string the event points to holds all of it.
 */
static const char *
str_get(struct json_object *o, const char *key)
{
	struct json_object	*v;
	const char		*s;
	char			*t;
	size_t			 i, j, n;

	if ((v = obj_get(o, key, json_type_string)) == NULL)
		return NULL;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (strlen(s) == n)
		return s;
	t = xmalloc(n + 1);
	for (i = j = 0; i < n; i++)
		if (s[i] != '\0')
			t[j++] = s[i];
	t[j] = '\0';
	json_object_set_string(v, t);
	free(t);
	return json_object_get_string(v);
}

/* Read the integer member key of o as int64; false if absent or not an int. */
static bool
int_get(struct json_object *o, const char *key, int64_t *vp)
{
	struct json_object	*v;

	if ((v = obj_get(o, key, json_type_int)) == NULL)
		return false;
	*vp = json_object_get_int64(v);
	return true;
}

/* Write the exact decimal text of an integer object (int64 or uint64). */
static int
uint_text(struct json_object *v, char *dst, size_t dsize)
{
	int64_t		 i = json_object_get_int64(v);
	uint64_t	 u;
	int		 n;

	if (i == INT64_MAX && (u = json_object_get_uint64(v)) > INT64_MAX)
		n = snprintf(dst, dsize, "%" PRIu64, u);
	else
		n = snprintf(dst, dsize, "%" PRId64, i);
	return n < 0 || (size_t)n >= dsize ? -1 : 0;
}

/* Check and read event_type and event_type_id. */
static int
event_required(struct amp_event *ev, const char **reason)
{
	struct json_object	*v;

	if ((ev->event_type = str_get(ev->root, "event_type")) == NULL) {
		*reason = "no event_type";
		return -1;
	}
	if (!json_object_object_get_ex(ev->root, "event_type_id", &v) ||
	    v == NULL) {
		*reason = "no event_type_id";
		return -1;
	}
	if (!json_object_is_type(v, json_type_int)) {
		*reason = "event_type_id not an integer";
		return -1;
	}
	ev->event_type_id = json_object_get_int64(v);
	return 0;
}

/* Read the event id (an integer, possibly above INT64_MAX) as exact text. */
static void
event_id(struct amp_event *ev)
{
	struct json_object	*v;

	if ((v = obj_get(ev->root, "id", json_type_int)) == NULL)
		return;
	if (uint_text(v, ev->id_str, sizeof(ev->id_str)) == 0)
		ev->has_id = true;
}

/* Read detection_id, a string; an integer is converted exactly. */
static void
event_detection_id(struct amp_event *ev)
{
	struct json_object	*v;

	if ((ev->detection_id = str_get(ev->root, "detection_id")) != NULL)
		return;
	if ((v = obj_get(ev->root, "detection_id", json_type_int)) == NULL)
		return;
	if (uint_text(v, ev->detection_id_buf,
	    sizeof(ev->detection_id_buf)) == 0)
		ev->detection_id = ev->detection_id_buf;
}

/* Read timestamp and timestamp_nanoseconds (out-of-range parts are 0). */
static void
event_time(struct amp_event *ev)
{
	int64_t	 v;

	if (int_get(ev->root, "timestamp", &v) && v > 0)
		ev->timestamp = v;
	if (int_get(ev->root, "timestamp_nanoseconds", &v) && v >= 0 &&
	    v <= 999999999)
		ev->timestamp_ns = v;
}

/* Read the computer object. */
static void
event_computer(struct amp_event *ev, struct json_object *c)
{
	struct json_object	*links;

	if (c == NULL)
		return;
	if (ev->connector_guid == NULL)
		ev->connector_guid = str_get(c, "connector_guid");
	ev->hostname = str_get(c, "hostname");
	ev->user = str_get(c, "user");
	ev->external_ip = str_get(c, "external_ip");
	links = obj_get(c, "links", json_type_object);
	ev->api_link = str_get(links, "computer");
	event_addresses(ev, obj_get(c, "network_addresses", json_type_array));
}

/* Pick the first IPv4 and the first IPv6 address of network_addresses,
 * and the mac that goes with the one used (IPv4 if any). */
static void
event_addresses(struct amp_event *ev, struct json_object *a)
{
	const char	*mac4 = NULL, *mac6 = NULL;
	size_t		 i, n;

	n = a == NULL ? 0 : json_object_array_length(a);
	for (i = 0; i < n; i++)
		event_address(ev, json_object_array_get_idx(a, i), &mac4,
		    &mac6);
	ev->mac = ev->ipv4 != NULL ? mac4 : mac6;
}

/* Take one {ip, mac} entry if it is the first of its family. */
static void
event_address(struct amp_event *ev, struct json_object *e, const char **mac4,
    const char **mac6)
{
	const char	*ip;

	if (!json_object_is_type(e, json_type_object) ||
	    (ip = str_get(e, "ip")) == NULL)
		return;
	switch (addr_family(ip)) {
	case AF_INET:
		if (ev->ipv4 == NULL) {
			ev->ipv4 = ip;
			*mac4 = str_get(e, "mac");
		}
		break;
	case AF_INET6:
		if (ev->ipv6 == NULL) {
			ev->ipv6 = ip;
			*mac6 = str_get(e, "mac");
		}
		break;
	}
}

/* AF_INET or AF_INET6 if s is such an address, else 0. */
static int
addr_family(const char *s)
{
	unsigned char	 a[16];

	if (inet_pton(AF_INET, s, a) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, a) == 1)
		return AF_INET6;
	return 0;
}

/* Read the file object with its identity and parent. */
static void
event_file(struct amp_event *ev, struct json_object *f)
{
	struct json_object	*id, *p;

	if (f == NULL)
		return;
	ev->file_name = str_get(f, "file_name");
	ev->file_path = str_get(f, "file_path");
	ev->disposition = str_get(f, "disposition");
	id = obj_get(f, "identity", json_type_object);
	ev->sha256 = str_get(id, "sha256");
	ev->sha1 = str_get(id, "sha1");
	ev->md5 = str_get(id, "md5");
	if ((p = obj_get(f, "parent", json_type_object)) == NULL)
		return;
	ev->parent_name = str_get(p, "file_name");
	ev->has_parent_pid = int_get(p, "process_id", &ev->parent_pid);
	id = obj_get(p, "identity", json_type_object);
	ev->parent_sha256 = str_get(id, "sha256");
}

/* Read the description (cloud_ioc first, then error) and the error code. */
static void
event_description(struct amp_event *ev)
{
	struct json_object	*ioc, *err;

	ioc = obj_get(ev->root, "cloud_ioc", json_type_object);
	err = obj_get(ev->root, "error", json_type_object);
	ev->description = str_get(ioc, "short_description");
	if (ev->description == NULL)
		ev->description = str_get(err, "description");
	ev->has_error_code = int_get(err, "error_code", &ev->error_code);
}

/* Read network_info: the remote address and both ports (0..65535). */
static void
event_network(struct amp_event *ev, struct json_object *n)
{
	if (n == NULL)
		return;
	ev->remote_ip = str_get(n, "remote_ip");
	ev->has_local_port = port_get(n, "local_port", &ev->local_port);
	ev->has_remote_port = port_get(n, "remote_port", &ev->remote_port);
}

/* Read an integer member that is a valid port number. */
static bool
port_get(struct json_object *o, const char *key, int64_t *vp)
{
	return int_get(o, key, vp) && *vp >= 0 && *vp <= 65535;
}
