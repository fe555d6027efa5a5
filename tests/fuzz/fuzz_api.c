/*
 * fuzz_api.c: the input as an AMP REST API answer, through what
 * ampstreamctl does with one (ctl/api.c api_answer: rate-limit headers,
 * body bound, JSON envelope, error bodies, the data list and the next page
 * link), then through the ctl helpers that read event stream, event type
 * and group objects (ctl.h: ctl_str, ctl_int, ctl_amqp_url, ctl_name_of,
 * ctl_match), and what is printed of them through esc.h (no control
 * character gets out; the JSON output parses back).
 *
 * Input: "HTTP/1.1 NNN ...", header lines and an empty line, then the body;
 * or, when it does not start with "HTTP/", the body of a 200 answer (so
 * that the fixtures, which are bodies, are seeds as they are).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "api.h"
#include "buf.h"
#include "ctl.h"
#include "ctl_esc.h"
#include "fuzz_util.h"
#include "utf8.h"

#define BASE_URL	"https://api.amp.cisco.com"

static struct api	*api;

static void	 split(const char *, size_t, long *, size_t *, const char **,
		    size_t *);
static void	 one_item(struct json_object *);
static void	 lookups(struct json_object *);
static void	 check_clean(const char *, size_t, const char *);
static void	 check_json_out(struct json_object *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct api_opts opts = { BASE_URL, "client", "key", NULL, 0,
	    NULL };
	struct json_object *env, *items, *v;
	const char	*in = (const char *)data, *body;
	char		*cause = NULL, *next;
	long		 status;
	size_t		 hlen, blen, i;
	int		 rv;

	fz_quiet(1);
	if (api == NULL && (api = api_new(&opts, &cause)) == NULL)
		fz_fail("api_new: %s", cause);
	split(in, size, &status, &hlen, &body, &blen);

	/* As api_get. */
	rv = api_answer(api, status, in, hlen, body, blen, &env, NULL, &next,
	    &cause);
	FZ_CHECK(rv == 0 || (cause != NULL && env == NULL),
	    "api_answer: -1 without a cause, or with an envelope");
	if (fz_verbose())
		fprintf(stderr, "HTTP %ld: %s\n", status, rv == 0 ? "ok" : cause);
	FZ_CHECK(rv == -1 || (status >= 200 && status <= 299),
	    "api_answer: HTTP %ld taken for success", status);
	if (rv == 0)
		check_json_out(env);
	else
		check_clean(cause, strlen(cause), "error message");
	free(cause);
	cause = NULL;
	if (rv == 0 && json_object_object_get_ex(env, "data", &v))
		one_item(v);
	json_object_put(env);
	(void)api_not_found(api);

	/* As one page of api_get_all. */
	items = json_object_new_array();
	rv = api_answer(api, status, in, hlen, body, blen, &env, items, &next,
	    &cause);
	FZ_CHECK(rv == 0 || (cause != NULL && env == NULL && next == NULL),
	    "api_answer (list): -1 without a cause, or with results");
	FZ_CHECK(next == NULL || (strncasecmp(next, "https://", 8) == 0 &&
	    strcmp(next, BASE_URL "/v1/event_streams") != 0),
	    "next page link taken: %s", next);
	if (fz_verbose())
		fprintf(stderr, "as a page: %s, %zu items, next %s\n",
		    rv == 0 ? "ok" : cause, json_object_array_length(items),
		    next ? next : "none");
	for (i = 0; i < json_object_array_length(items); i++)
		one_item(json_object_array_get_idx(items, i));
	lookups(items);
	free(next);
	free(cause);
	json_object_put(env);
	json_object_put(items);
	fz_quiet(0);
	return 0;
}

/* Status, header block (status line included) and body of the input. */
static void
split(const char *in, size_t size, long *status, size_t *hlen,
    const char **body, size_t *blen)
{
	const char	*end = in + size, *p, *sp;

	*status = 200;
	*hlen = 0;
	*body = in;
	*blen = size;
	if (size < 5 || memcmp(in, "HTTP/", 5) != 0)
		return;
	if ((sp = memchr(in, ' ', size)) != NULL) {
		for (*status = 0, p = sp + 1; p < end && p < sp + 4 &&
		    *p >= '0' && *p <= '9'; p++)
			*status = *status * 10 + (*p - '0');
	}
	/* The header block ends at the first empty line. */
	for (p = in; p < end; p++) {
		if (*p != '\n')
			continue;
		if (p + 1 < end && p[1] == '\n') {
			p += 2;
			break;
		}
		if (p + 2 < end && p[1] == '\r' && p[2] == '\n') {
			p += 3;
			break;
		}
	}
	*hlen = (size_t)(p - in);
	*body = p;
	*blen = (size_t)(end - p);
}

/* What the commands read from an item (a stream, event type or group). */
static void
one_item(struct json_object *o)
{
	struct json_object *creds;
	const char	*s;
	char		*url;
	int64_t		 id;

	if ((s = ctl_str(o, "name")) != NULL) {
		FZ_CHECK(strlen(s) < (size_t)INT32_MAX, "name");
		s = esc(s);
		check_clean(s, strlen(s), "esc(name)");
	}
	(void)ctl_int(o, "id", &id);
	(void)ctl_str(o, "guid");
	if (json_object_object_get_ex(o, "amqp_credentials", &creds) &&
	    (url = ctl_amqp_url(creds)) != NULL) {
		FZ_CHECK(strncmp(url, "amqps://", 8) == 0 ||
		    strncmp(url, "amqp://", 7) == 0, "ctl_amqp_url: %s", url);
		free(url);
	}
}

/* Looking names and ids up in a listing, as delete and create do. */
static void
lookups(struct json_object *items)
{
	struct ctl	 ctl;
	struct json_object *first;
	const char	*name;

	memset(&ctl, 0, sizeof(ctl));
	ctl.progname = "ampstreamctl";
	ctl.api = api;
	first = json_object_array_get_idx(items, 0);
	(void)ctl_name_of(items, "id", "1");
	(void)ctl_name_of(items, "guid", "b077d6bc-bbdf-42f7-8838-a06053fbd98a");
	(void)ctl_match(&ctl, items, "name", "id", "event stream",
	    (name = ctl_str(first, "name")) != NULL ? name : "Threat Detected");
	(void)ctl_match(&ctl, items, "name", "guid", "group", "Audit");
	(void)ctl_match(&ctl, items, "name", "id", "event type",
	    "threat detected");
}

/* Valid UTF-8, and no C0 (but LF), DEL or C1. */
static void
check_clean(const char *s, size_t len, const char *what)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	FZ_CHECK(utf8_valid(s, len), "%s: not UTF-8", what);
	for (i = 0; i < len; i++)
		FZ_CHECK((p[i] >= 0x20 || p[i] == '\n') && p[i] != 0x7f &&
		    !(p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
		    p[i + 1] < 0xa0), "%s: control byte 0x%02x at %zu", what,
		    p[i], i);
}

/* As --json prints an answer: clean, and it parses back. */
static void
check_json_out(struct json_object *v)
{
	struct json_object	*back;
	struct buf		 b;
	const char		*s;

	if (v == NULL)
		return;
	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	buf_init(&b, 0);
	esc_append(&b, s, strlen(s), ESC_JSON);
	FZ_CHECK(b.len > 0, "ESC_JSON: nothing out of %s", s);
	check_clean(b.data, b.len, "ESC_JSON");
	back = json_tokener_parse(b.data);
	FZ_CHECK(back != NULL, "ESC_JSON output does not parse: %s", b.data);
	json_object_put(back);
	buf_free(&b);
}
