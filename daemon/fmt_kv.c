/*
 * fmt_kv.c: the (key, value) record shared by the CEF and LEEF formatters,
 * value encoding and the size fitting (see fmt_kv.h).
 *
 * Fitting: every variable (event-supplied) value is capped to one common
 * length; a binary search finds the largest cap that makes the record fit,
 * so the longest values are cut first and short ones are kept whole.  A cut
 * never splits an escape or a UTF-8 sequence and ends in "...".
 */
#include <string.h>

#include "buf.h"
#include "fmt_kv.h"

static void	fmt_trim(struct buf *, size_t);
static size_t	fmt_total(const struct fmt_span *, size_t, size_t, size_t,
		    fmt_unit_fn);
static size_t	fmt_kv_spans(const struct fmt_kv *, struct fmt_span *,
		    size_t *);
static int	fmt_kv_pair(const struct fmt_kv *, const struct fmt_pair *,
		    size_t, struct buf *);

void
fmt_kv_init(struct fmt_kv *kv, const struct fmt_dialect *d)
{
	memset(kv, 0, sizeof(*kv));
	kv->d = d;
	buf_init(&kv->hdr, 0);
}

void
fmt_kv_free(struct fmt_kv *kv)
{
	size_t	 i;

	for (i = 0; i < kv->n; i++)
		buf_free(&kv->pairs[i].val);
	buf_free(&kv->hdr);
	kv->n = 0;
}

/* Add key=value with its label unless the encoded value is empty. */
void
fmt_kv_add(struct fmt_kv *kv, const char *key, const char *label_key,
    const char *label, const char *value, bool variable)
{
	struct fmt_pair	*p;

	if (value == NULL || kv->n == FMT_KV_MAX)
		return;
	p = &kv->pairs[kv->n];
	buf_init(&p->val, 0);
	fmt_encode(&p->val, value, kv->d->value_char);
	if (p->val.len == 0) {
		buf_free(&p->val);
		return;
	}
	p->key = key;
	p->label_key = label_key;
	p->label = label;
	p->variable = variable;
	kv->n++;
}

/* Fit the pairs into max_len after the header and append the record. */
int
fmt_kv_emit(const struct fmt_kv *kv, size_t max_len, struct buf *out)
{
	struct fmt_span	 spans[FMT_KV_MAX];
	size_t		 i, n, fixed, cap, start = out->len;
	int		 rv = 0;

	fixed = kv->hdr.len + fmt_kv_spans(kv, spans, &n);
	if (fmt_fit(spans, n, fixed, max_len == 0 ? SIZE_MAX : max_len,
	    kv->d->unit, &cap) == -1)
		return -1;
	rv |= buf_append(out, kv->hdr.data, kv->hdr.len);
	for (i = 0; i < kv->n && rv == 0; i++) {
		if (i > 0)
			rv |= buf_putc(out, kv->d->sep);
		rv |= fmt_kv_pair(kv, &kv->pairs[i], cap, out);
	}
	if (rv != 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		return -1;
	}
	return 0;
}

/* Collect the variable values as spans; returns the length of the rest. */
static size_t
fmt_kv_spans(const struct fmt_kv *kv, struct fmt_span *spans, size_t *np)
{
	const struct fmt_pair	*p;
	size_t			 i, fixed = 0;

	*np = 0;
	for (i = 0; i < kv->n; i++) {
		p = &kv->pairs[i];
		fixed += (i > 0) + strlen(p->key) + 1;
		if (p->label_key != NULL)
			fixed += strlen(p->label_key) + 1 + strlen(p->label) + 1;
		if (!p->variable) {
			fixed += p->val.len;
			continue;
		}
		spans[*np].s = p->val.data;
		spans[(*np)++].len = p->val.len;
	}
	return fixed;
}

/* Append "[label_key=label<sep>]key=value", the value capped to cap. */
static int
fmt_kv_pair(const struct fmt_kv *kv, const struct fmt_pair *p, size_t cap,
    struct buf *out)
{
	size_t	 n = p->val.len;
	int	 rv = 0;

	if (p->label_key != NULL)
		rv |= buf_printf(out, "%s=%s%c", p->label_key, p->label,
		    kv->d->sep);
	rv |= buf_printf(out, "%s=", p->key);
	if (!p->variable || n <= cap)
		return rv | buf_append(out, p->val.data, n);
	n = fmt_cut(p->val.data, n, cap - strlen(FMT_ELLIPSIS), kv->d->unit);
	rv |= buf_append(out, p->val.data, n);
	return rv | buf_puts(out, FMT_ELLIPSIS);
}

/* Append s, each ASCII byte through fn, invalid UTF-8 as '?', trimmed. */
void
fmt_encode(struct buf *b, const char *s, fmt_char_fn fn)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 start = b->len, n;

	while (*p != '\0') {
		if ((n = fmt_utf8_len(p)) == 0) {
			buf_putc(b, '?');
			p++;
		} else if (n == 1)
			fn(b, *p++);
		else {
			buf_append(b, p, n);
			p += n;
		}
	}
	fmt_trim(b, start);
}

/* Remove spaces at both ends of the bytes appended since start (no
 * encoding ends in a space, so none is broken). */
static void
fmt_trim(struct buf *b, size_t start)
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
size_t
fmt_utf8_len(const unsigned char *p)
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

/* A UTF-8 character, or one invalid byte. */
size_t
fmt_unit_char(const unsigned char *p)
{
	size_t	 n = fmt_utf8_len(p);

	return n == 0 ? 1 : n;
}

/* The longest prefix of whole units of at most limit bytes. */
size_t
fmt_cut(const char *s, size_t len, size_t limit, fmt_unit_fn unit)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len) {
		n = unit(p + i);
		if (i + n > limit)
			break;
		i += n;
	}
	return i;
}

/* Length of s capped to cap bytes, "..." included when cut. */
size_t
fmt_capped_len(const char *s, size_t len, size_t cap, fmt_unit_fn unit)
{
	size_t	 el = strlen(FMT_ELLIPSIS);

	if (len <= cap)
		return len;
	return fmt_cut(s, len, cap - el, unit) + el;
}

/* Length of the whole text with every span capped to cap. */
static size_t
fmt_total(const struct fmt_span *sp, size_t n, size_t fixed, size_t cap,
    fmt_unit_fn unit)
{
	size_t	 i, len = fixed;

	for (i = 0; i < n; i++)
		len += fmt_capped_len(sp[i].s, sp[i].len, cap, unit);
	return len;
}

/* Binary search for the largest cap that fits budget. */
int
fmt_fit(const struct fmt_span *sp, size_t n, size_t fixed, size_t budget,
    fmt_unit_fn unit, size_t *capp)
{
	size_t	 lo = strlen(FMT_ELLIPSIS), hi = lo, mid, i;

	for (i = 0; i < n; i++)
		if (sp[i].len > hi)
			hi = sp[i].len;
	if (fmt_total(sp, n, fixed, hi, unit) <= budget) {
		*capp = hi;
		return 0;
	}
	if (fmt_total(sp, n, fixed, lo, unit) > budget)
		return -1;
	while (hi - lo > 1) {		/* total(lo) fits, total(hi) not */
		mid = lo + (hi - lo) / 2;
		if (fmt_total(sp, n, fixed, mid, unit) <= budget)
			lo = mid;
		else
			hi = mid;
	}
	*capp = lo;
	return 0;
}
