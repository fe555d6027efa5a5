/*
 * format_json.c: the event as received, on one line, plus an "ampstream"
 * object:
 *
 *	{...event...,"ampstream":{"stream":"s","cloud":"c"|null,
 *	    "console_url":"u"|null,"file_console_url":"u"|null,
 *	    "received_at":"2026-11-24T19:00:00.123Z",
 *	    "id_str":"1503580638684881251"|null,
 *	    "group_names":{"GUID":"name",...},		(names known)
 *	    "computer":{"policy":"p","isolation":"s"},	(when known)
 *	    "fields":{"tenant":"acme",...},		(the sink's)
 *	    "correlation":{"state":"matched",...},	(when correlated)
 *	    "truncated":true}}				(when cut)
 *
 * The body is copied byte for byte except for whitespace outside strings,
 * so numbers (ids above 2^53), key order and string escapes are unchanged.
 * A raw control character inside a string (json-c accepts it) is written as
 * \u00XX so the record stays one line of valid JSON.  If the event already
 * has an "ampstream" key it is kept and ours is added after it (a duplicate
 * key: most parsers, json-c and jq included, keep the last one, ours).
 *
 * A record longer than ctx->max_len is made to fit by cutting the longest
 * string values of the event and of the correlation's detection facts
 * (never keys, numbers, a "state", or the other ampstream members) to a
 * common cap, each cut value ending in "..." inside its quotes (fmt_kv.c
 * fmt_fit; never inside an escape or a UTF-8 sequence), and
 * "truncated":true is added; -1 only if even that does not fit.
 *
 * Correlation (when ctx->corr is not NULL and not CORR_NONE):
 *	{"state":"pending"|"uncorrelated"}
 *	{"state":"matched","detection_event_id":..,"detection_id":..,
 *	    "detected_at":"<RFC 3339>","detection":..,"file_name":..,
 *	    "file_path":..,"sha256":..,"hostname":..,"connector_guid":..,
 *	    "seconds_to_outcome":N,"outcome":"quarantined"|...}
 *	{"state":"unresolved", the same detection facts, "seconds_open":N}
 * where seconds_open counts from the detection's time to received_at;
 * empty facts are null.
 */
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "corr.h"
#include "dec.h"
#include "config.h"
#include "event.h"
#include "fmt_facts.h"
#include "fmt_kv.h"
#include "format.h"
#include "jscan.h"

#define JSON_META	"\"ampstream\":"
#define JSON_CORR	",\"correlation\":"
#define JSON_TRUNCATED	",\"truncated\":true"

/* A record in parts: the event, "ampstream" members, correlation. */
struct json_rec {
	struct buf	 body;		/* the minified event */
	struct buf	 meta;		/* {"stream":...,"id_str":... (open) */
	struct buf	 corr;		/* {"state":...} or empty */
	struct buf	 spans;		/* struct fmt_span[]: cuttable strings */
};

static int	json_format(const struct amp_event *, const struct format_ctx *,
		    struct buf *);
static size_t	json_len(const struct buf *, const struct buf *,
		    const struct buf *, bool);
static int	json_fit(struct json_rec *, size_t, struct buf *);
static int	json_emit(const struct buf *, const struct buf *,
		    const struct buf *, bool, struct buf *);
static int	json_cut(const struct buf *, const struct buf *, size_t,
		    struct buf *);
static int	json_minify(struct buf *, const char *, size_t);
static bool	json_space(char);
static void	json_spans(const struct buf *, struct buf *);
static bool	json_is_state(const struct buf *, const char *);
static size_t	json_unit(const unsigned char *);
static int	json_hex4(const unsigned char *);
static int	json_meta(struct buf *, const struct amp_event *,
		    const struct format_ctx *);
static int	json_groups(struct buf *, const struct amp_event *,
		    const struct format_ctx *);
static int	json_fields(struct buf *, const struct conf_fields *);
static int	json_computer(struct buf *, const struct format_ctx *);
static int	json_corr(struct buf *, const struct format_ctx *);
static int	json_det(struct buf *, const struct corr_detection *);
static int	json_member(struct buf *, const char *, const char *);
static int	json_int(struct buf *, const char *, int64_t);
static int	json_key(struct buf *, const char *);
static int	json_str(struct buf *, const char *);
static int	json_ctl(struct buf *, unsigned char);
static int	json_time(struct buf *, int64_t);

const struct format_ops format_json_ops = {
	.name = "json",
	.format = json_format,
};

/* Append the one-line event with the "ampstream" object to out. */
static int
json_format(const struct amp_event *ev, const struct format_ctx *ctx,
    struct buf *out)
{
	struct json_rec	 r;
	size_t		 start = out->len, total;
	int		 rv = -1;

	buf_init(&r.body, 0);
	buf_init(&r.meta, 0);
	buf_init(&r.corr, 0);
	buf_init(&r.spans, 0);
	if (json_minify(&r.body, ev->body, ev->body_len) == -1 ||
	    r.body.len < 2 || r.body.data[r.body.len - 1] != '}' ||
	    json_meta(&r.meta, ev, ctx) == -1 || json_corr(&r.corr, ctx) == -1)
		goto done;
	total = json_len(&r.body, &r.meta, &r.corr, false);
	if (ctx->max_len == 0 || total <= ctx->max_len)
		rv = json_emit(&r.body, &r.meta, &r.corr, false, out);
	else
		rv = json_fit(&r, ctx->max_len, out);
done:
	if (rv == -1) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	buf_free(&r.body);
	buf_free(&r.meta);
	buf_free(&r.corr);
	buf_free(&r.spans);
	return rv;
}

/* Length of the record made of these parts. */
static size_t
json_len(const struct buf *body, const struct buf *meta,
    const struct buf *corr, bool truncated)
{
	size_t	 n = body->len - 1 + (body->len > 2) + strlen(JSON_META) +
	    meta->len + strlen("}}");

	if (corr->len > 0)
		n += strlen(JSON_CORR) + corr->len;
	return n + (truncated ? strlen(JSON_TRUNCATED) : 0);
}

/* Cut the longest string values of the event and correlation to fit. */
static int
json_fit(struct json_rec *r, size_t max_len, struct buf *out)
{
	const struct fmt_span *sp;
	struct buf	 body, corr;
	size_t		 i, n, fixed, cap;
	int		 rv = -1;

	json_spans(&r->body, &r->spans);
	json_spans(&r->corr, &r->spans);
	sp = (const void *)r->spans.data;
	n = r->spans.len / sizeof(*sp);
	fixed = json_len(&r->body, &r->meta, &r->corr, true);
	for (i = 0; i < n; i++)
		fixed -= sp[i].len;
	if (fmt_fit(sp, n, fixed, max_len, json_unit, &cap) == -1)
		return -1;
	buf_init(&body, 0);
	buf_init(&corr, 0);
	if (json_cut(&r->body, &r->spans, cap, &body) == 0 &&
	    json_cut(&r->corr, &r->spans, cap, &corr) == 0)
		rv = json_emit(&body, &r->meta, &corr, true, out);
	buf_free(&body);
	buf_free(&corr);
	return rv;
}

/* Append the record made of these parts to out. */
static int
json_emit(const struct buf *body, const struct buf *meta,
    const struct buf *corr, bool truncated, struct buf *out)
{
	int	 rv = 0;

	rv |= buf_append(out, body->data, body->len - 1);	/* reopen */
	if (body->len > 2)
		rv |= buf_putc(out, ',');
	rv |= buf_puts(out, JSON_META);
	rv |= buf_append(out, meta->data, meta->len);
	if (corr->len > 0) {
		rv |= buf_puts(out, JSON_CORR);
		rv |= buf_append(out, corr->data, corr->len);
	}
	if (truncated)
		rv |= buf_puts(out, JSON_TRUNCATED);
	rv |= buf_puts(out, "}}");
	return rv == 0 ? 0 : -1;
}

/* Copy src to dst with its spans capped to cap and marked "...". */
static int
json_cut(const struct buf *src, const struct buf *spans, size_t cap,
    struct buf *dst)
{
	const struct fmt_span *sp = (const void *)spans->data;
	const char	*p = src->data, *end;
	size_t		 i, n, el = strlen(FMT_ELLIPSIS);
	int		 rv = 0;

	if (p == NULL)		/* an empty part (NULL + 0 is undefined) */
		return 0;
	end = p + src->len;
	for (i = 0; i < spans->len / sizeof(*sp); i++) {
		if (sp[i].s < p || sp[i].s >= end)
			continue;		/* another part's */
		rv |= buf_append(dst, p, (size_t)(sp[i].s - p));
		p = sp[i].s + sp[i].len;
		n = sp[i].len;
		if (n > cap)
			n = fmt_cut(sp[i].s, n, cap - el, json_unit);
		rv |= buf_append(dst, sp[i].s, n);
		if (n < sp[i].len)
			rv |= buf_puts(dst, FMT_ELLIPSIS);
	}
	rv |= buf_append(dst, p, (size_t)(end - p));
	return rv == 0 ? 0 : -1;
}

/* Append the (valid) JSON text without whitespace outside strings, in
 * runs (a byte at a time cost more than the rest of the record). */
static int
json_minify(struct buf *out, const char *p, size_t len)
{
	size_t	 i = 0, j;
	int	 rv = 0;

	while (i < len && rv == 0) {
		if (json_space(p[i])) {
			i++;
			continue;
		}
		if (p[i] != '"') {
			for (j = i + 1; j < len && p[j] != '"' && !json_space(p[j]);
			    j++)
				;
			rv |= buf_append(out, p + i, j - i);
			i = j;
			continue;
		}
		/* A string, to its closing quote; raw controls as \u00XX. */
		for (j = i + 1; j < len; j++) {
			j = (size_t)(jscan_plain(p + j, p + len) - p);
			if (j == len || p[j] == '"')
				break;
			if (p[j] == '\\')
				j++;
			else {
				rv |= buf_append(out, p + i, j - i);
				rv |= json_ctl(out, (unsigned char)p[j]);
				i = j + 1;
			}
		}
		j = j < len ? j + 1 : len;
		rv |= buf_append(out, p + i, j - i);
		i = j;
	}
	return rv == 0 ? 0 : -1;
}

static bool
json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Collect the contents of the string values (not keys) of minified JSON,
 * except the correlation "state". */
static void
json_spans(const struct buf *body, struct buf *spans)
{
	struct fmt_span	 sp;
	const char	*p = body->data, *end;
	bool		 esc = false;

	if (p == NULL)		/* nothing there (NULL + 0 is undefined) */
		return;
	for (end = p + body->len; p < end; p++) {
		if (*p != '"')
			continue;
		sp.s = ++p;
		for (; p < end && (esc || *p != '"'); p++)
			esc = !esc && *p == '\\';
		sp.len = (size_t)(p - sp.s);
		if (p + 1 < end && p[1] != ':' && !json_is_state(body, sp.s))
			buf_append(spans, &sp, sizeof(sp));
	}
}

/* True if the string value starting at s is the value of a "state" key. */
static bool
json_is_state(const struct buf *b, const char *s)
{
	static const char	 key[] = "\"state\":\"";
	size_t			 kl = sizeof(key) - 1;

	return (size_t)(s - b->data) >= kl && memcmp(s - kl, key, kl) == 0;
}

/* A JSON escape (a surrogate pair as one), or a character. */
static size_t
json_unit(const unsigned char *p)
{
	int	 hi, lo;

	if (p[0] != '\\')
		return fmt_unit_char(p);
	if (p[1] != 'u')
		return 2;
	hi = json_hex4(p + 2);
	if (hi >= 0xd800 && hi <= 0xdbff && p[6] == '\\' && p[7] == 'u' &&
	    (lo = json_hex4(p + 8)) >= 0xdc00 && lo <= 0xdfff)
		return 12;
	return 6;
}

/* The value of four hex digits at p, or -1. */
static int
json_hex4(const unsigned char *p)
{
	int	 v = 0, i, d;

	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
			d = (p[i] | 0x20) - 'a' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Append the "ampstream" object's members, without its closing brace. */
static int
json_meta(struct buf *out, const struct amp_event *ev,
    const struct format_ctx *ctx)
{
	int	 rv = 0;

	rv |= buf_puts(out, "{\"stream\":");
	rv |= json_str(out, ctx->stream);
	rv |= json_member(out, "cloud", ctx->cloud);
	rv |= json_member(out, "console_url", ctx->console_url);
	rv |= json_member(out, "file_console_url", ctx->file_console_url);
	rv |= buf_puts(out, ",\"received_at\":");
	rv |= json_time(out, ctx->received_ms);
	rv |= json_member(out, "id_str", ev->has_id ? ev->id_str : NULL);
	rv |= json_groups(out, ev, ctx);
	rv |= json_computer(out, ctx);
	rv |= json_fields(out, ctx->fields);
	return rv == 0 ? 0 : -1;
}

/* ,"fields":{"tenant":"acme",...}: the sink's static fields. */
static int
json_fields(struct buf *out, const struct conf_fields *f)
{
	size_t	 i;
	int	 rv = 0;

	if (f == NULL || f->n == 0)
		return 0;
	for (i = 0; i < f->n; i++) {
		rv |= buf_puts(out, i == 0 ? ",\"fields\":{" : ",");
		rv |= json_str(out, f->v[i].key);
		rv |= buf_puts(out, ":");
		rv |= json_str(out, f->v[i].value);
	}
	rv |= buf_puts(out, "}");
	return rv;
}

/* ,"group_names":{"guid":"name",...}: the names known, when any is. */
static int
json_groups(struct buf *out, const struct amp_event *ev,
    const struct format_ctx *ctx)
{
	const char	*sep = ",\"group_names\":{";
	size_t		 i;
	int		 rv = 0;

	for (i = 0; ctx->group_names != NULL && i < ev->ngroups; i++) {
		if (ctx->group_names[i] == NULL)
			continue;
		rv |= buf_puts(out, sep);
		rv |= json_str(out, ev->group_guids[i]);
		rv |= buf_puts(out, ":");
		rv |= json_str(out, ctx->group_names[i]);
		sep = ",";
	}
	if (*sep == ',' && sep[1] == '\0')
		rv |= buf_puts(out, "}");
	return rv;
}

/* ,"computer":{"policy":..,"isolation":..}: what the cloud says of it. */
static int
json_computer(struct buf *out, const struct format_ctx *ctx)
{
	int	 rv = 0;

	if (ctx->policy == NULL && ctx->isolation == NULL)
		return 0;
	rv |= buf_puts(out, ",\"computer\":{\"policy\":");
	rv |= ctx->policy ? json_str(out, ctx->policy) : buf_puts(out, "null");
	rv |= buf_puts(out, ",\"isolation\":");
	rv |= ctx->isolation ? json_str(out, ctx->isolation) :
	    buf_puts(out, "null");
	rv |= buf_puts(out, "}");
	return rv;
}

/* Append the correlation object, or nothing if there is none. */
static int
json_corr(struct buf *out, const struct format_ctx *ctx)
{
	const struct corr_info	*c = ctx->corr;
	const char		*state = fmt_corr_state(c);
	int			 rv = 0;

	if (state == NULL)
		return 0;
	rv |= buf_puts(out, "{\"state\":");
	rv |= json_str(out, state);
	if (fmt_corr_det(c) != NULL)
		rv |= json_det(out, c->det);
	if (c->state == CORR_MATCHED) {
		rv |= json_int(out, "seconds_to_outcome",
		    c->seconds_to_outcome);
		rv |= json_member(out, "outcome", c->outcome);
	} else if (c->state == CORR_UNRESOLVED)
		rv |= json_int(out, "seconds_open", fmt_seconds_open(c, ctx));
	rv |= buf_putc(out, '}');
	return rv == 0 ? 0 : -1;
}

/* Append the facts of the detection (empty strings as null). */
static int
json_det(struct buf *out, const struct corr_detection *d)
{
	int	 rv = 0;

	rv |= json_member(out, "detection_event_id", d->event_id);
	rv |= json_member(out, "detection_id", d->detection_id);
	rv |= buf_puts(out, ",\"detected_at\":");
	rv |= json_time(out, d->detected_ms);
	rv |= json_member(out, "detection", d->detection);
	rv |= json_member(out, "file_name", d->file_name);
	rv |= json_member(out, "file_path", d->file_path);
	rv |= json_member(out, "sha256", d->sha256);
	rv |= json_member(out, "hostname", d->hostname);
	rv |= json_member(out, "connector_guid", d->connector_guid);
	return rv == 0 ? 0 : -1;
}

/* Append ,"key":value with value a string, or null if NULL or empty. */
static int
json_member(struct buf *out, const char *key, const char *value)
{
	if (json_key(out, key) == -1)
		return -1;
	return json_str(out, value != NULL && *value != '\0' ? value : NULL);
}

/* Append ,"key":v. */
static int
json_int(struct buf *out, const char *key, int64_t v)
{
	char	 num[DEC_I64_SIZE];

	if (json_key(out, key) == -1)
		return -1;
	return buf_append(out, num, dec_i64(num, v));
}

/* Append ,"key": (key needs no escape). */
static int
json_key(struct buf *out, const char *key)
{
	int	 rv;

	rv = buf_puts(out, ",\"") | buf_puts(out, key) | buf_puts(out, "\":");
	return rv == 0 ? 0 : -1;
}

/* Append s as a JSON string, or null; clean runs in one copy. */
static int
json_str(struct buf *out, const char *s)
{
	const char	*p = s, *end, *run;
	int		 rv = 0;

	if (s == NULL)
		return buf_puts(out, "null");
	end = s + strlen(s);
	rv |= buf_putc(out, '"');
	while (p < end && rv == 0) {
		run = jscan_plain(p, end);
		rv |= buf_append(out, p, (size_t)(run - p));
		if ((p = run) == end)
			break;
		if (*p == '"' || *p == '\\') {
			rv |= buf_putc(out, '\\');
			rv |= buf_putc(out, *p);
		} else if (*p == '\n')
			rv |= buf_puts(out, "\\n");
		else if (*p == '\r')
			rv |= buf_puts(out, "\\r");
		else if (*p == '\t')
			rv |= buf_puts(out, "\\t");
		else
			rv |= json_ctl(out, (unsigned char)*p);
		p++;
	}
	rv |= buf_putc(out, '"');
	return rv == 0 ? 0 : -1;
}

/* Append a control byte as \u00XX. */
static int
json_ctl(struct buf *out, unsigned char c)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 u[6] = { '\\', 'u', '0', '0' };

	u[4] = hex[c >> 4];
	u[5] = hex[c & 0xf];
	return buf_append(out, u, sizeof(u));
}

/* Append epoch ms as a quoted RFC 3339 UTC time with milliseconds. */
static int
json_time(struct buf *out, int64_t ms)
{
	char	 s[64];

	if (fmt_time(s, sizeof(s), ms, "Z") == -1)
		return buf_puts(out, "null");
	return buf_putc(out, '"') | buf_puts(out, s) | buf_putc(out, '"');
}
