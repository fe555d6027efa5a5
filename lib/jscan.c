/*
 * jscan.c: a strict JSON checker and a walker over checked text (jscan.h).
 *
 * The checker is a recursive descent bounded by JSCAN_MAX_DEPTH; string
 * bodies, most of an event's bytes, are crossed 16 bytes at a time (SSE2,
 * which every x86-64 has), else 8 (a word), and one byte at a time
 * at the end of a run.  The walker trusts checked text: to skip a value
 * it only needs to find quotes and brackets, or, with a tape the checker
 * filled, to look up where a string, object or array ends.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "jscan.h"

struct chk {
	const char	*p;
	const char	*end;
	int		 depth;
	struct jscan_tape *t;		/* or NULL */
};

#define ONES		0x0101010101010101ULL
#define HIGHS		0x8080808080808080ULL
/* Has the word a zero byte?  One below 0x20? */
#define HASZERO(w)	(((w) - ONES) & ~(w) & HIGHS)
#define HASCTL(w)	(((w) - ONES * 0x20) & ~(w) & HIGHS)

static int	 chk_value(struct chk *, struct jscan_val *);
static int	 chk_nest(struct chk *, char, bool);
static int	 chk_key(struct chk *);
static int	 chk_string(struct chk *);
static int	 chk_number(struct chk *);
static int	 chk_word(struct chk *, const char *, size_t);
static void	 chk_ws(struct chk *);
static const char *iter_next(const struct jscan_iter *);
static const char *walk_value(const char *, const char *,
		    struct jscan_val *, const struct jscan_tape *);
static const char *walk_string(const char *, const char *);
static const char *walk_nest(const char *, const char *);
static const char *skip_ws(const char *, const char *);
static int	 hex4(const char *);
static size_t	 put_utf8(char *, uint32_t);

int
jscan_value(const char *s, size_t len, struct jscan_val *v, size_t *used)
{
	return jscan_value_tape(s, len, v, used, NULL);
}

int
jscan_value_tape(const char *s, size_t len, struct jscan_val *v,
    size_t *used, struct jscan_tape *t)
{
	struct chk	 c = { s, s + len, 0, t };

	chk_ws(&c);
	if (chk_value(&c, v) == -1)
		return -1;
	chk_ws(&c);
	*used = (size_t)(c.p - s);
	return 0;
}

int
jscan_check(const char *s, size_t len, struct jscan_val *root)
{
	size_t	 used;

	return jscan_value(s, len, root, &used) == 0 && used == len ? 0 : -1;
}

static void
chk_ws(struct chk *c)
{
	c->p = skip_ws(c->p, c->end);
}

/* One value at c->p; its span goes to v (if v is not NULL). */
static int
chk_value(struct chk *c, struct jscan_val *v)
{
	const char		*start = c->p;
	enum jscan_type		 t;
	int			 rv;

	if (c->p == c->end || c->depth >= JSCAN_MAX_DEPTH)
		return -1;
	switch (*c->p) {
	case '{':
		t = JSCAN_OBJECT;
		rv = chk_nest(c, '}', true);
		break;
	case '[':
		t = JSCAN_ARRAY;
		rv = chk_nest(c, ']', false);
		break;
	case '"':
		t = JSCAN_STRING;
		rv = chk_string(c);
		break;
	case 't':
		t = JSCAN_TRUE;
		rv = chk_word(c, "true", 4);
		break;
	case 'f':
		t = JSCAN_FALSE;
		rv = chk_word(c, "false", 5);
		break;
	case 'n':
		t = JSCAN_NULL;
		rv = chk_word(c, "null", 4);
		break;
	default:
		t = JSCAN_NUMBER;
		rv = chk_number(c);
		break;
	}
	if (rv == 0 && v != NULL) {
		v->type = t;
		v->p = start;
		v->n = (size_t)(c->p - start);
		v->tape = c->t;
		if (t == JSCAN_STRING) {
			v->p++;
			v->n -= 2;
		}
	}
	return rv;
}

/* An object (keys) or an array, c->p at its opening bracket. */
static int
chk_nest(struct chk *c, char close, bool keys)
{
	const char	*open = c->p;

	c->depth++;
	c->p++;
	chk_ws(c);
	if (c->p < c->end && *c->p == close)
		goto done;
	for (;;) {
		if (keys && chk_key(c) == -1)
			return -1;
		if (chk_value(c, NULL) == -1)
			return -1;
		chk_ws(c);
		if (c->p == c->end)
			return -1;
		if (*c->p == close)
			break;
		if (*c->p++ != ',')
			return -1;
		chk_ws(c);
	}
done:
	c->p++;
	c->depth--;
	if (c->t != NULL)
		c->t->close[open - c->t->base] = (uint32_t)(c->p - c->t->base);
	return 0;
}

/* A member's key and its colon, and the space up to its value. */
static int
chk_key(struct chk *c)
{
	if (c->p == c->end || *c->p != '"' || chk_string(c) == -1)
		return -1;
	chk_ws(c);
	if (c->p == c->end || *c->p != ':')
		return -1;
	c->p++;
	chk_ws(c);
	return 0;
}

/* A string, c->p at its opening quote. */
static int
chk_string(struct chk *c)
{
	const unsigned char	*open = (const unsigned char *)c->p;
	const unsigned char	*p = open + 1;
	const unsigned char	*end = (const unsigned char *)c->end;

	for (;;) {
		p = (const unsigned char *)jscan_plain((const char *)p,
		    (const char *)end);
		if (p == end || *p == '\0')
			return -1;
		if (*p < 0x20) {		/* raw: let through as json-c does */
			p++;
			continue;
		}
		if (*p++ == '"')
			break;
		if (p == end)			/* after a backslash */
			return -1;
		switch (*p) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			p++;
			break;
		case 'u':
			if (end - p < 5 || hex4((const char *)p + 1) == -1)
				return -1;
			p += 5;
			break;
		default:
			return -1;
		}
	}
	c->p = (const char *)p;
	if (c->t != NULL)
		c->t->close[(const char *)open - c->t->base] =
		    (uint32_t)(c->p - c->t->base);
	return 0;
}

const char *
jscan_plain(const char *s, const char *end)
{
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*e = (const unsigned char *)end;
	uint64_t		 w;
#ifdef __SSE2__
	const __m128i	 quote = _mm_set1_epi8('"'), bsl = _mm_set1_epi8('\\'),
			 ctl = _mm_set1_epi8(0x1f);
	__m128i		 v;
	unsigned int	 m;

	for (; e - p >= 16; p += 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		m = (unsigned int)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bsl)),
		    _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v)));	/* v <= 0x1f */
		if (m != 0)
			return (const char *)p + __builtin_ctz(m);
	}
#endif
	for (; e - p >= 8; p += 8) {
		memcpy(&w, p, 8);
		if (HASCTL(w) | HASZERO(w ^ (ONES * '"')) |
		    HASZERO(w ^ (ONES * '\\')))
			break;
	}
	while (p < e && *p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	return (const char *)p;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
chk_number(struct chk *c)
{
	const char	*p = c->p, *end = c->end;

#define DIGIT(q)	((q) < end && *(q) >= '0' && *(q) <= '9')
	if (p < end && *p == '-')
		p++;
	if (!DIGIT(p))
		return -1;
	if (*p++ != '0')
		while (DIGIT(p))
			p++;
	if (p < end && *p == '.') {
		p++;
		if (!DIGIT(p))
			return -1;
		while (DIGIT(p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!DIGIT(p))
			return -1;
		while (DIGIT(p))
			p++;
	}
#undef DIGIT
	c->p = p;
	return 0;
}

static int
chk_word(struct chk *c, const char *w, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	return p;
}

/* The value of 4 hex digits at p, or -1. */
static int
hex4(const char *p)
{
	int	 i, v = 0, d;

	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			d = p[i] - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* The walker: text is known to be valid from here on. */

void
jscan_open(struct jscan_iter *it, const struct jscan_val *v)
{
	if (v == NULL || (v->type != JSCAN_OBJECT && v->type != JSCAN_ARRAY)) {
		it->p = it->end = NULL;
		it->tape = NULL;
		return;
	}
	it->tape = v->tape;
	it->p = v->p + 1;
	it->end = v->p + v->n - 1;	/* the closing bracket */
}

bool
jscan_member(struct jscan_iter *it, struct jscan_val *key,
    struct jscan_val *val)
{
	const char	*p;

	if ((p = iter_next(it)) == NULL)
		return false;
	p = walk_value(p, it->end, key, it->tape);
	p = skip_ws(p, it->end) + 1;		/* the ':' */
	it->p = walk_value(skip_ws(p, it->end), it->end, val, it->tape);
	return true;
}

bool
jscan_elem(struct jscan_iter *it, struct jscan_val *val)
{
	const char	*p;

	if ((p = iter_next(it)) == NULL)
		return false;
	it->p = walk_value(p, it->end, val, it->tape);
	return true;
}

/* Where the next member or element starts, past a comma; NULL at the end. */
static const char *
iter_next(const struct jscan_iter *it)
{
	const char	*p;

	if (it->p == NULL)
		return NULL;
	p = skip_ws(it->p, it->end);
	if (p < it->end && *p == ',')
		p = skip_ws(p + 1, it->end);
	return p < it->end ? p : NULL;
}

/* Fill v with the value at p; return where it ends. */
static const char *
walk_value(const char *p, const char *end, struct jscan_val *v,
    const struct jscan_tape *t)
{
	const char	*q;

	v->p = p;
	v->tape = t;
	switch (*p) {
	case '"':
		q = t != NULL ? t->base + t->close[p - t->base] :
		    walk_string(p, end);
		v->type = JSCAN_STRING;
		v->p = p + 1;
		v->n = (size_t)(q - p) - 2;
		return q;
	case '{':
	case '[':
		v->type = *p == '{' ? JSCAN_OBJECT : JSCAN_ARRAY;
		q = t != NULL ? t->base + t->close[p - t->base] :
		    walk_nest(p, end);
		break;
	case 't':
		v->type = JSCAN_TRUE;
		q = p + 4;
		break;
	case 'f':
		v->type = JSCAN_FALSE;
		q = p + 5;
		break;
	case 'n':
		v->type = JSCAN_NULL;
		q = p + 4;
		break;
	default:
		v->type = JSCAN_NUMBER;
		for (q = p; q < end && *q != ',' && *q != ']' && *q != '}' &&
		    *q != ' ' && *q != '\n' && *q != '\r' && *q != '\t'; q++)
			;
		break;
	}
	v->n = (size_t)(q - p);
	return q;
}

/*
 * Past the closing quote of the string opening at p.  memchr is quick on
 * long strings; a quote after an odd run of backslashes is escaped.
 */
static const char *
walk_string(const char *p, const char *end)
{
	const char	*q, *b;

	for (p++;; p = q + 1) {
		if ((q = memchr(p, '"', (size_t)(end - p))) == NULL)
			return end;		/* not checked text */
		for (b = q; b[-1] == '\\'; b--)
			;
		if ((q - b) % 2 == 0)
			return q + 1;
	}
}

/* Past the bracket closing the object or array opening at p. */
static const char *
walk_nest(const char *p, const char *end)
{
	size_t	 depth = 0;

	while (p < end) {
		switch (*p) {
		case '"':
			p = walk_string(p, end);
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0)
				return p + 1;
			break;
		}
		p++;
	}
	return end;
}

bool
jscan_eq(const struct jscan_val *v, const char *s)
{
	char	 tmp[128];
	size_t	 n;

	if (v->type != JSCAN_STRING)
		return false;
	if (memchr(v->p, '\\', v->n) == NULL)
		return strncmp(s, v->p, v->n) == 0 && s[v->n] == '\0';
	if (v->n >= sizeof(tmp))
		return false;	/* no key we look for is that long */
	n = jscan_str(v, tmp);
	return n == strlen(s) && memcmp(tmp, s, n) == 0;
}

size_t
jscan_str(const struct jscan_val *v, char *dst)
{
	const char	*p = v->p, *end = v->p + v->n, *bs;
	char		*d = dst;
	uint32_t	 cp, lo;

	while (p < end) {
		if ((bs = memchr(p, '\\', (size_t)(end - p))) == NULL)
			bs = end;
		memcpy(d, p, (size_t)(bs - p));
		d += bs - p;
		if ((p = bs) == end)
			break;
		switch (p[1]) {
		case 'b': *d++ = '\b'; p += 2; continue;
		case 'f': *d++ = '\f'; p += 2; continue;
		case 'n': *d++ = '\n'; p += 2; continue;
		case 'r': *d++ = '\r'; p += 2; continue;
		case 't': *d++ = '\t'; p += 2; continue;
		case 'u': break;
		default: *d++ = p[1]; p += 2; continue;
		}
		cp = (uint32_t)hex4(p + 2);
		p += 6;
		if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' &&
		    p[1] == 'u' && (lo = (uint32_t)hex4(p + 2)) >= 0xdc00 &&
		    lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		} else if (cp >= 0xd800 && cp <= 0xdfff)
			cp = 0xfffd;
		if (cp != 0)
			d += put_utf8(d, cp);
	}
	*d = '\0';
	return (size_t)(d - dst);
}

/* Encode cp; never longer than the escape it came from (6 or 12 bytes). */
static size_t
put_utf8(char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | cp >> 6);
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | cp >> 12);
		d[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | cp >> 18);
	d[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	d[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

bool
jscan_is_int(const struct jscan_val *v)
{
	return v->type == JSCAN_NUMBER &&
	    memchr(v->p, '.', v->n) == NULL &&
	    memchr(v->p, 'e', v->n) == NULL && memchr(v->p, 'E', v->n) == NULL;
}

bool
jscan_int(const struct jscan_val *v, int64_t *out)
{
	const char	*p, *end;
	bool		 neg = false;
	uint64_t	 u = 0, lim;

	if (!jscan_is_int(v))
		return false;
	p = v->p;
	end = p + v->n;
	if (*p == '-') {
		neg = true;
		p++;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end; p++) {
		if (u > (lim - (uint64_t)(*p - '0')) / 10)
			return false;
		u = u * 10 + (uint64_t)(*p - '0');
	}
	*out = neg ? (int64_t)(0 - u) : (int64_t)u;
	return true;
}
