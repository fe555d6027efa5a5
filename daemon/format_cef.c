/*
 * format_cef.c: ArcSight CEF records (FINDINGS 1.1, SPEC 4).
 *
 *	CEF:0|Cisco|Secure Endpoint|<version>|<event_type_id>|<event_type>|<sev>|k=v ...
 *
 * Header fields escape '\' and '|', turn CR/LF into SP and drop other
 * control characters; extension values escape '\', '=', CR (\r) and LF (\n)
 * and drop other control characters.  Invalid UTF-8 bytes become '?'.
 * Values are trimmed; a key whose value is absent or empty is left out.
 * The extension is a small array of (key, escaped value) pairs: when the
 * record exceeds ctx->max_len, the longest event-supplied values are cut to
 * a common cap (at a character boundary, ending in "...") until it fits.
 * The Name header field is capped at 512 bytes, as the CEF guide asks.
 */
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "compat.h"
#include "event.h"
#include "format.h"

#define CEF_MAX_PAIRS	24
#define CEF_NAME_MAX	512
#define CEF_ELLIPSIS	"..."

struct cef_pair {
	const char	*key;
	const char	*label_key;	/* "cs1Label" ..., or NULL */
	const char	*label;
	bool		 variable;	/* from the event: may be truncated */
	struct buf	 val;		/* escaped, trimmed, never empty */
};

struct cef_rec {
	struct cef_pair	 pairs[CEF_MAX_PAIRS];
	size_t		 n;
	struct buf	 hdr;
};

static int	cef_format(const struct amp_event *, const struct format_ctx *,
		    struct buf *);
static int	cef_header(const struct amp_event *, const struct format_ctx *,
		    struct buf *);
static int	cef_severity(const struct amp_event *, const struct format_ctx *);
static void	cef_collect(const struct amp_event *, const struct format_ctx *,
		    struct cef_rec *);
static void	cef_collect_host(const struct amp_event *, const struct format_ctx *,
		    struct cef_rec *);
static void	cef_collect_file(const struct amp_event *, struct cef_rec *);
static void	cef_collect_custom(const struct amp_event *,
		    const struct format_ctx *, struct cef_rec *);
static void	cef_add(struct cef_rec *, const char *, const char *, bool);
static void	cef_add_label(struct cef_rec *, const char *, const char *,
		    const char *, const char *, bool);
static void	cef_add_num(struct cef_rec *, const char *, const char *,
		    const char *, int64_t);
static int64_t	cef_rt(const struct amp_event *, const struct format_ctx *);
static const char *cef_ipv4(const char *);
static const char *cef_outcome(const struct amp_event *);
static void	cef_escape(struct buf *, const char *, bool);
static void	cef_escape_char(struct buf *, unsigned char, bool);
static void	cef_trim(struct buf *, size_t);
static size_t	cef_utf8_len(const unsigned char *);
static size_t	cef_cut(const char *, size_t, size_t);
static size_t	cef_val_len(const struct cef_pair *, size_t);
static size_t	cef_ext_len(const struct cef_rec *, size_t);
static int	cef_fit(const struct cef_rec *, size_t, size_t *);
static int	cef_emit(const struct cef_rec *, size_t, struct buf *);
static int	cef_emit_pair(const struct cef_pair *, size_t, struct buf *);
static void	cef_free(struct cef_rec *);

const struct format_ops format_cef_ops = {
	.name = "cef",
	.format = cef_format,
};

/* Append the CEF record of ev to out, truncating values to fit max_len. */
static int
cef_format(const struct amp_event *ev, const struct format_ctx *ctx,
    struct buf *out)
{
	struct cef_rec	 r;
	size_t		 budget, cap;
	int		 rv = -1;

	memset(&r, 0, sizeof(r));
	buf_init(&r.hdr, 0);
	if (cef_header(ev, ctx, &r.hdr) == -1)
		goto done;
	cef_collect(ev, ctx, &r);
	budget = SIZE_MAX;
	if (ctx->max_len != 0) {
		if (r.hdr.len > ctx->max_len)
			goto done;
		budget = ctx->max_len - r.hdr.len;
	}
	if (cef_fit(&r, budget, &cap) == -1)
		goto done;
	rv = cef_emit(&r, cap, out);
done:
	cef_free(&r);
	return rv;
}

/* Build the seven header fields, each followed by '|'. */
static int
cef_header(const struct amp_event *ev, const struct format_ctx *ctx,
    struct buf *h)
{
	struct buf	 name;
	size_t		 n;
	int		 rv;

	buf_init(&name, 0);
	cef_escape(&name, ev->event_type, true);
	if (name.len == 0)
		buf_puts(&name, "unknown");
	if (name.len > CEF_NAME_MAX) {
		n = cef_cut(name.data, name.len,
		    CEF_NAME_MAX - strlen(CEF_ELLIPSIS));
		name.len = n;
		buf_puts(&name, CEF_ELLIPSIS);
	}
	buf_puts(h, "CEF:0|Cisco|Secure Endpoint|");
	cef_escape(h, AMPSTREAM_VERSION, true);
	rv = buf_printf(h, "|%" PRId64 "|%s|%d|", ev->event_type_id,
	    name.data, cef_severity(ev, ctx));
	buf_free(&name);
	return rv;
}

/* The CEF severity (0-10) of the AMP severity name. */
static int
cef_severity(const struct amp_event *ev, const struct format_ctx *ctx)
{
	static const struct {
		const char	*name;
		int		 sev;
	} map[] = {
		{ "Low", 3 }, { "Medium", 6 }, { "High", 8 }, { "Critical", 10 },
	};
	size_t	 i;

	for (i = 0; ev->severity != NULL && i < nitems(map); i++)
		if (strcasecmp(ev->severity, map[i].name) == 0)
			return map[i].sev;
	if (ctx->default_severity < 0)
		return 0;
	return ctx->default_severity > 10 ? 10 : ctx->default_severity;
}

/* Collect the extension pairs in their output order. */
static void
cef_collect(const struct amp_event *ev, const struct format_ctx *ctx,
    struct cef_rec *r)
{
	cef_collect_host(ev, ctx, r);
	cef_collect_file(ev, r);
	cef_add(r, "act", ev->event_type, true);
	cef_add(r, "outcome", cef_outcome(ev), false);
	cef_add(r, "msg", ev->description, true);
	cef_collect_custom(ev, ctx, r);
}

/* Time, ids and the host the event is about. */
static void
cef_collect_host(const struct amp_event *ev, const struct format_ctx *ctx,
    struct cef_rec *r)
{
	cef_add_num(r, "rt", NULL, NULL, cef_rt(ev, ctx));
	cef_add(r, "externalId", ev->has_id ? ev->id_str : NULL, false);
	cef_add(r, "deviceExternalId", ev->connector_guid, true);
	cef_add(r, "dhost", ev->hostname, true);
	cef_add(r, "duser", ev->user, true);
	cef_add(r, "dst", ev->ipv4, false);
	cef_add(r, "dmac", ev->mac, true);
	cef_add_label(r, "c6a1", "c6a1Label", "IPv6 Address", ev->ipv6, false);
	cef_add(r, "destinationTranslatedAddress", cef_ipv4(ev->external_ip),
	    false);
}

/* The file and its parent process. */
static void
cef_collect_file(const struct amp_event *ev, struct cef_rec *r)
{
	cef_add(r, "fname", ev->file_name, true);
	cef_add(r, "filePath", ev->file_path, true);
	cef_add(r, "fileHash", ev->sha256, true);
	cef_add(r, "sproc", ev->parent_name, true);
	if (ev->has_parent_pid)
		cef_add_num(r, "spid", NULL, NULL, ev->parent_pid);
}

/* The labelled custom strings and numbers. */
static void
cef_collect_custom(const struct amp_event *ev, const struct format_ctx *ctx,
    struct cef_rec *r)
{
	cef_add_label(r, "cs1", "cs1Label", "Detection", ev->detection, true);
	cef_add_label(r, "cs2", "cs2Label", "Detection ID", ev->detection_id,
	    true);
	cef_add_label(r, "cs3", "cs3Label", "Disposition", ev->disposition,
	    true);
	cef_add_label(r, "cs6", "cs6Label", "Console URL", ctx->console_url,
	    true);
	if (ev->has_error_code)
		cef_add_num(r, "cn1", "cn1Label", "Error Code", ev->error_code);
}

/* Add key=value unless value is absent or empty once escaped. */
static void
cef_add(struct cef_rec *r, const char *key, const char *value, bool variable)
{
	cef_add_label(r, key, NULL, NULL, value, variable);
}

/* Add key=value with its label pair (label_key=label) before it. */
static void
cef_add_label(struct cef_rec *r, const char *key, const char *label_key,
    const char *label, const char *value, bool variable)
{
	struct cef_pair	*p;

	if (value == NULL || r->n == CEF_MAX_PAIRS)
		return;
	p = &r->pairs[r->n];
	buf_init(&p->val, 0);
	cef_escape(&p->val, value, false);
	if (p->val.len == 0) {
		buf_free(&p->val);
		return;
	}
	p->key = key;
	p->label_key = label_key;
	p->label = label;
	p->variable = variable;
	r->n++;
}

/* Add a decimal number (never truncated). */
static void
cef_add_num(struct cef_rec *r, const char *key, const char *label_key,
    const char *label, int64_t v)
{
	char	 num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	cef_add_label(r, key, label_key, label, num, false);
}

/* Event time in epoch ms, else the time ampstream received it. */
static int64_t
cef_rt(const struct amp_event *ev, const struct format_ctx *ctx)
{
	if (ev->timestamp <= 0 || ev->timestamp > INT64_MAX / 1000 - 1)
		return ctx->received_ms;
	return ev->timestamp * 1000 + ev->timestamp_ns / 1000000;
}

/* s if it is an IPv4 address, else NULL. */
static const char *
cef_ipv4(const char *s)
{
	unsigned char	 a[4];

	if (s == NULL || inet_pton(AF_INET, s, a) != 1)
		return NULL;
	return s;
}

/* "success" or "failure" for quarantine results, else NULL. */
static const char *
cef_outcome(const struct amp_event *ev)
{
	switch (ev->event_type_id) {
	case 553648143:		/* Threat Quarantined */
	case 553648155:		/* Cloud Recall Quarantine Successful */
		return "success";
	case 2164260880:	/* Quarantine Failure */
	case 2164260893:	/* Cloud Recall Quarantine Attempt Failed */
		return "failure";
	default:
		return NULL;
	}
}

/* Append s escaped as a header field or as an extension value, trimmed. */
static void
cef_escape(struct buf *b, const char *s, bool header)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 start = b->len, n;

	while (*p != '\0') {
		if ((n = cef_utf8_len(p)) == 0) {
			buf_putc(b, '?');
			p++;
		} else if (n == 1)
			cef_escape_char(b, *p++, header);
		else {
			buf_append(b, p, n);
			p += n;
		}
	}
	cef_trim(b, start);
}

/* Append one ASCII character, escaped or dropped as CEF requires. */
static void
cef_escape_char(struct buf *b, unsigned char c, bool header)
{
	if (c == '\\')
		buf_puts(b, "\\\\");
	else if (header && c == '|')
		buf_puts(b, "\\|");
	else if (!header && c == '=')
		buf_puts(b, "\\=");
	else if (c == '\r' || c == '\n') {
		if (header)
			buf_putc(b, ' ');
		else
			buf_puts(b, c == '\r' ? "\\r" : "\\n");
	} else if (c >= 0x20 && c != 0x7f)
		buf_putc(b, (char)c);
}

/* Remove spaces at both ends of the bytes appended since start (an escape
 * never ends in a space, so none is broken). */
static void
cef_trim(struct buf *b, size_t start)
{
	size_t	 lead = 0;

	while (b->len > start && b->data[b->len - 1] == ' ')
		b->len--;
	while (start + lead < b->len && b->data[start + lead] == ' ')
		lead++;
	if (lead > 0)
		memmove(b->data + start, b->data + start + lead,
		    b->len - start - lead);
	b->len -= lead;
	if (b->data != NULL)
		b->data[b->len] = '\0';
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
static size_t
cef_utf8_len(const unsigned char *p)
{
	uint32_t	 cp;
	size_t		 n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* also stops at NUL */
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/*
 * The longest prefix of the escaped s (len bytes) that is at most limit
 * bytes and ends neither inside an escape nor inside a UTF-8 sequence.
 */
static size_t
cef_cut(const char *s, size_t len, size_t limit)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len) {
		if (p[i] == '\\')
			n = 2;
		else if ((n = cef_utf8_len(p + i)) == 0)
			n = 1;
		if (i + n > limit)
			break;
		i += n;
	}
	return i;
}

/* Length of a value once capped to cap bytes (with "..." if cut). */
static size_t
cef_val_len(const struct cef_pair *p, size_t cap)
{
	size_t	 el = strlen(CEF_ELLIPSIS);

	if (!p->variable || p->val.len <= cap)
		return p->val.len;
	return cef_cut(p->val.data, p->val.len, cap - el) + el;
}

/* Length of the extension with every variable value capped to cap. */
static size_t
cef_ext_len(const struct cef_rec *r, size_t cap)
{
	const struct cef_pair	*p;
	size_t			 i, len = 0;

	for (i = 0; i < r->n; i++) {
		p = &r->pairs[i];
		len += (i > 0) + strlen(p->key) + 1 + cef_val_len(p, cap);
		if (p->label_key != NULL)
			len += strlen(p->label_key) + 1 + strlen(p->label) + 1;
	}
	return len;
}

/* Find the largest value cap that makes the extension fit budget. */
static int
cef_fit(const struct cef_rec *r, size_t budget, size_t *capp)
{
	size_t	 lo = strlen(CEF_ELLIPSIS), hi = lo, mid, i;

	for (i = 0; i < r->n; i++)
		if (r->pairs[i].variable && r->pairs[i].val.len > hi)
			hi = r->pairs[i].val.len;
	if (cef_ext_len(r, hi) <= budget) {
		*capp = hi;
		return 0;
	}
	if (cef_ext_len(r, lo) > budget)
		return -1;
	while (hi - lo > 1) {		/* ext_len(lo) fits, ext_len(hi) not */
		mid = lo + (hi - lo) / 2;
		if (cef_ext_len(r, mid) <= budget)
			lo = mid;
		else
			hi = mid;
	}
	*capp = lo;
	return 0;
}

/* Append header and pairs, values capped to cap, to out. */
static int
cef_emit(const struct cef_rec *r, size_t cap, struct buf *out)
{
	size_t	 i, start = out->len;
	int	 rv = 0;

	rv |= buf_append(out, r->hdr.data, r->hdr.len);
	for (i = 0; i < r->n && rv == 0; i++) {
		if (i > 0)
			rv |= buf_putc(out, ' ');
		rv |= cef_emit_pair(&r->pairs[i], cap, out);
	}
	if (rv != 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		return -1;
	}
	return 0;
}

/* Append "[label_key=label ]key=value", the value capped to cap. */
static int
cef_emit_pair(const struct cef_pair *p, size_t cap, struct buf *out)
{
	size_t	 n;
	int	 rv = 0;

	if (p->label_key != NULL)
		rv |= buf_printf(out, "%s=%s ", p->label_key, p->label);
	rv |= buf_printf(out, "%s=", p->key);
	n = cef_val_len(p, cap);
	if (n == p->val.len)
		return rv | buf_append(out, p->val.data, n);
	n -= strlen(CEF_ELLIPSIS);
	rv |= buf_append(out, p->val.data, n);
	return rv | buf_puts(out, CEF_ELLIPSIS);
}

/* Free the buffers of a record. */
static void
cef_free(struct cef_rec *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		buf_free(&r->pairs[i].val);
	buf_free(&r->hdr);
}
