/*
 * format_json.c: the event as received, on one line, plus an "ampstream"
 * object:
 *
 *	{...event...,"ampstream":{"stream":"s","cloud":"c"|null,
 *	    "console_url":"u"|null,"received_at":"2026-11-24T19:00:00.123Z",
 *	    "id_str":"1503580638684881251"|null}}
 *
 * The body is copied byte for byte except for whitespace outside strings,
 * so numbers (ids above 2^53), key order and string escapes are unchanged.
 * A raw control character inside a string (json-c accepts it) is written as
 * \u00XX so the record stays one line of valid JSON.  If the event already
 * has an "ampstream" key it is kept and ours is added after it (a duplicate
 * key: most parsers, json-c and jq included, keep the last one, ours).
 * A record longer than ctx->max_len is refused; values are not truncated.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "buf.h"
#include "event.h"
#include "format.h"

static int	json_format(const struct amp_event *, const struct format_ctx *,
		    struct buf *);
static int	json_minify(struct buf *, const char *, size_t);
static int	json_string_byte(struct buf *, unsigned char, bool *, bool *);
static int	json_meta(struct buf *, const struct amp_event *,
		    const struct format_ctx *);
static int	json_str(struct buf *, const char *);
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
	size_t	 start = out->len;

	if (json_minify(out, ev->body, ev->body_len) == -1 ||
	    out->len - start < 2 || out->data[out->len - 1] != '}')
		goto fail;
	out->len--;			/* reopen the object */
	if (out->data[out->len - 1] != '{' && buf_putc(out, ',') == -1)
		goto fail;
	if (buf_puts(out, "\"ampstream\":") == -1 ||
	    json_meta(out, ev, ctx) == -1 || buf_putc(out, '}') == -1)
		goto fail;
	if (ctx->max_len != 0 && out->len - start > ctx->max_len)
		goto fail;
	return 0;
fail:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return -1;
}

/* Append the (valid) JSON text without whitespace outside strings. */
static int
json_minify(struct buf *out, const char *p, size_t len)
{
	bool		 in_str = false, esc = false;
	unsigned char	 c;
	size_t		 i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (in_str) {
			if (json_string_byte(out, c, &in_str, &esc) == -1)
				return -1;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c == '"')
			in_str = true;
		if (buf_putc(out, (char)c) == -1)
			return -1;
	}
	return 0;
}

/* Copy one byte inside a string, tracking its end and escapes. */
static int
json_string_byte(struct buf *out, unsigned char c, bool *in_str, bool *esc)
{
	if (*esc)
		*esc = false;
	else if (c == '\\')
		*esc = true;
	else if (c == '"')
		*in_str = false;
	else if (c < 0x20)
		return buf_printf(out, "\\u%04x", c);
	return buf_putc(out, (char)c);
}

/* Append the "ampstream" object. */
static int
json_meta(struct buf *out, const struct amp_event *ev,
    const struct format_ctx *ctx)
{
	if (buf_puts(out, "{\"stream\":") == -1 ||
	    json_str(out, ctx->stream) == -1 ||
	    buf_puts(out, ",\"cloud\":") == -1 ||
	    json_str(out, ctx->cloud) == -1 ||
	    buf_puts(out, ",\"console_url\":") == -1 ||
	    json_str(out, ctx->console_url) == -1 ||
	    buf_puts(out, ",\"received_at\":") == -1 ||
	    json_time(out, ctx->received_ms) == -1 ||
	    buf_puts(out, ",\"id_str\":") == -1 ||
	    json_str(out, ev->has_id ? ev->id_str : NULL) == -1)
		return -1;
	return buf_putc(out, '}');
}

/* Append s as a JSON string, or null. */
static int
json_str(struct buf *out, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	int			 rv = 0;

	if (s == NULL)
		return buf_puts(out, "null");
	rv |= buf_putc(out, '"');
	for (; *p != '\0' && rv == 0; p++) {
		if (*p == '"' || *p == '\\')
			rv |= buf_printf(out, "\\%c", *p);
		else if (*p == '\n')
			rv |= buf_puts(out, "\\n");
		else if (*p == '\r')
			rv |= buf_puts(out, "\\r");
		else if (*p == '\t')
			rv |= buf_puts(out, "\\t");
		else if (*p < 0x20)
			rv |= buf_printf(out, "\\u%04x", *p);
		else
			rv |= buf_putc(out, (char)*p);
	}
	rv |= buf_putc(out, '"');
	return rv == 0 ? 0 : -1;
}

/* Append epoch ms as a quoted RFC 3339 UTC time with milliseconds. */
static int
json_time(struct buf *out, int64_t ms)
{
	struct tm	 tm;
	time_t		 t;
	int64_t		 sec, frac;
	char		 s[64];

	sec = ms / 1000;
	frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return buf_puts(out, "null");
	return buf_printf(out, "\"%s.%03" PRId64 "Z\"", s, frac);
}
