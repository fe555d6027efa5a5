/* utf8.c: UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "utf8.h"

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	unsigned int	 cp;
	int		 n, i;

	uint64_t	 w;

	while (p < end) {
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
