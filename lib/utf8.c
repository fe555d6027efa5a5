/* utf8.c: UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "utf8.h"

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

size_t
utf8_printable(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	if (*p < 0x80)
		return *p < 0x20 || *p == 0x7f ? 0 : 1;
	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if ((*p & 0xf0) == 0xe0)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > len || !utf8_valid(s, n))
		return 0;
	if (p[0] == 0xc2 && p[1] < 0xa0)
		return 0;	/* C1: U+0080..U+009F */
	return n;
}

int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	unsigned int	 cp;
	int		 n, i;

	uint64_t	 w;
#ifdef __SSE2__
	__m128i		 v;
#endif

	while (p < end) {
#ifdef __SSE2__
		/* Sixteen ASCII bytes, none of them NUL, at a time. */
		if (end - p >= 16) {
			v = _mm_loadu_si128((const __m128i *)(const void *)p);
			if ((_mm_movemask_epi8(v) | _mm_movemask_epi8(
			    _mm_cmpeq_epi8(v, _mm_setzero_si128()))) == 0) {
				p += 16;
				continue;
			}
		}
#endif
		/* Eight ASCII bytes, none of them NUL, at a time. */
		if (end - p >= 8) {
			memcpy(&w, p, 8);
			if (((w | ((w - ONES) & ~w)) & HIGHS) == 0) {
				p += 8;
				continue;
			}
		}
		if (*p == 0)
			return 0;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) { n = 1; cp = *p & 0x1f; }
		else if ((*p & 0xf0) == 0xe0) { n = 2; cp = *p & 0x0f; }
		else if ((*p & 0xf8) == 0xf0) { n = 3; cp = *p & 0x07; }
		else
			return 0;
		if (end - p <= n)
			return 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}
