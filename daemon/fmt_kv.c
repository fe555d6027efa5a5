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

static int	fmt_kv_write(const struct fmt_kv *, struct buf *);
static int	fmt_kv_fit(const struct fmt_kv *, size_t, struct buf *,
		    size_t *);
static void	fmt_kv_undo(struct buf *, size_t);
static int	fmt_kv_label(const struct fmt_kv *, const struct fmt_pair *,
		    bool, struct buf *);
static int	fmt_kv_capped(const struct fmt_kv *, const struct fmt_pair *,
		    const struct buf *, size_t, struct buf *);
static int	fmt_trim(struct buf *, size_t);
static size_t	fmt_total(const struct fmt_span *, size_t, size_t, size_t,
		    fmt_unit_fn);

void
fmt_kv_init(struct fmt_kv *kv, const struct fmt_dialect *d)
{
	kv->d = d;
	kv->n = 0;
	kv->firm = 0;
	buf_init(&kv->hdr, 0);
}

void
fmt_kv_free(struct fmt_kv *kv)
{
	buf_free(&kv->hdr);
	kv->n = 0;
}

void
fmt_kv_optional(struct fmt_kv *kv)
{
	if (kv->firm == 0)
		kv->firm = kv->n;
}

void
fmt_kv_add(struct fmt_kv *kv, const char *key, const char *label_key,
    const char *label, const char *value, bool variable)
{
	struct fmt_pair	*p;

	if (value == NULL || *value == '\0' || kv->n == FMT_KV_MAX)
		return;
	p = &kv->pairs[kv->n++];
	p->key = key;
	p->label_key = label_key;
	p->label = label;
	p->variable = variable;
	p->value = value;
}

/*
 * Append the record to out within max_len bytes (0: no cap).  It is
 * written once, as it comes; only if that is too long is it written again
 * with the longest variable values cut.
 */
int
fmt_kv_emit(struct fmt_kv *kv, size_t max_len, struct buf *out)
{
	size_t	 start = out->len, cap;

	if (kv->firm == 0)
		kv->firm = kv->n;
	if (fmt_kv_write(kv, out) == 0 &&
	    (max_len == 0 || out->len - start <= max_len))
		return 0;
	fmt_kv_undo(out, start);
	if (max_len == 0)
		return -1;
	/*
	 * Values cut to a common cap; when that would leave them shorter
	 * than FMT_CAP_MIN, the optional pairs go first, the last first.
	 */
	for (;;) {
		if (fmt_kv_fit(kv, max_len, out, &cap) == 0 &&
		    (cap >= FMT_CAP_MIN || kv->n <= kv->firm))
			return 0;
		fmt_kv_undo(out, start);
		if (kv->n <= kv->firm)
			return -1;
		kv->n--;
	}
}

static void
fmt_kv_undo(struct buf *out, size_t start)
{
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
}

/* Header and every pair, values whole; a value empty once encoded goes. */
static int
fmt_kv_write(const struct fmt_kv *kv, struct buf *out)
{
	const struct fmt_pair	*p;
	size_t			 i, mark, val;
	bool			 first = true;

	if (buf_append(out, kv->hdr.data, kv->hdr.len) == -1)
		return -1;
	for (i = 0; i < kv->n; i++) {
		p = &kv->pairs[i];
		mark = out->len;
		if (fmt_kv_label(kv, p, first, out) == -1)
			return -1;
		val = out->len;
		if (fmt_encode(out, p->value, &kv->d->value) == -1)
			return -1;
		if (out->len == val)		/* nothing left: no pair */
			out->len = mark;
		else
			first = false;
		if (out->data != NULL)
			out->data[out->len] = '\0';
	}
	return 0;
}

/* "[sep][label_key=label<sep>]key=" */
static int
fmt_kv_label(const struct fmt_kv *kv, const struct fmt_pair *p, bool first,
    struct buf *out)
{
	int	 rv = 0;

	if (!first)
		rv |= buf_putc(out, kv->d->sep);
	if (p->label_key != NULL) {
		rv |= buf_puts(out, p->label_key);
		rv |= buf_putc(out, '=');
		rv |= buf_puts(out, p->label);
		rv |= buf_putc(out, kv->d->sep);
	}
	rv |= buf_puts(out, p->key);
	return rv | buf_putc(out, '=');
}

/*
 * The record does not fit: encode each value apart, find the largest
 * common cap for the variable ones (fmt_fit) and write it again.
 */
static int
fmt_kv_fit(const struct fmt_kv *kv, size_t max_len, struct buf *out,
    size_t *capp)
{
	struct buf	 val[FMT_KV_MAX], label;
	struct fmt_span	 spans[FMT_KV_MAX];
	size_t		 i, n = 0, fixed = kv->hdr.len, cap = 0;
	bool		 first = true;
	int		 rv = 0;

	buf_init(&label, 0);
	for (i = 0; i < kv->n; i++) {
		buf_init(&val[i], 0);
		(void)fmt_encode(&val[i], kv->pairs[i].value, &kv->d->value);
		if (val[i].len == 0)
			continue;
		buf_reset(&label);
		(void)fmt_kv_label(kv, &kv->pairs[i], first, &label);
		first = false;
		fixed += label.len;
		if (!kv->pairs[i].variable)
			fixed += val[i].len;
		else {
			spans[n].s = val[i].data;
			spans[n++].len = val[i].len;
		}
	}
	if ((rv = fmt_fit(spans, n, fixed, max_len, kv->d->unit, &cap)) == 0)
		rv = buf_append(out, kv->hdr.data, kv->hdr.len);
	*capp = cap;
	for (i = 0, first = true; i < kv->n && rv == 0; i++) {
		if (val[i].len == 0)
			continue;
		rv = fmt_kv_label(kv, &kv->pairs[i], first, out);
		rv |= fmt_kv_capped(kv, &kv->pairs[i], &val[i], cap, out);
		first = false;
	}
	for (i = 0; i < kv->n; i++)
		buf_free(&val[i]);
	buf_free(&label);
	return rv;
}

/* An encoded value, cut to cap if it is variable and longer. */
static int
fmt_kv_capped(const struct fmt_kv *kv, const struct fmt_pair *p,
    const struct buf *v, size_t cap, struct buf *out)
{
	size_t	 n = v->len;

	if (!p->variable || n <= cap)
		return buf_append(out, v->data, n);
	n = fmt_cut(v->data, n, cap - strlen(FMT_ELLIPSIS), kv->d->unit);
	return buf_append(out, v->data, n) | buf_puts(out, FMT_ELLIPSIS);
}

/*
 * Append s: runs of plain bytes copied at once, other ASCII bytes through
 * the charset's fn, UTF-8 checked (an invalid byte becomes '?'); then
 * trim spaces at both ends of what was appended.
 */
int
fmt_encode(struct buf *b, const char *s, const struct fmt_charset *cs)
{
	const unsigned char	*p = (const unsigned char *)s, *run;
	size_t			 start = b->len, n;
	int			 rv = 0;

	while (*p != '\0' && rv == 0) {
		for (run = p; cs->plain[*p]; p++)	/* stops at NUL */
			;
		if (p > run)
			rv |= buf_append(b, run, (size_t)(p - run));
		if (*p == '\0')
			break;
		if (*p < 0x80)
			cs->fn(b, *p++);
		else if ((n = fmt_utf8_len(p)) == 0) {
			rv |= buf_putc(b, '?');
			p++;
		} else {
			rv |= buf_append(b, p, n);
			p += n;
		}
	}
	return rv | fmt_trim(b, start);
}

/* Remove spaces at both ends of the bytes appended since start (no
 * encoding ends in a space, so none is broken). */
static int
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
	return 0;
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
