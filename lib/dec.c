/* dec.c: decimal digits without printf (see dec.h). */
#include <string.h>

#include "dec.h"

size_t
dec_i64(char *dst, int64_t v)
{
	char		 tmp[DEC_I64_SIZE];
	uint64_t	 u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t		 n = 0, len;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	len = 0;
	if (v < 0)
		dst[len++] = '-';
	while (n > 0)
		dst[len++] = tmp[--n];
	dst[len] = '\0';
	return len;
}

char *
dec_pad(char *dst, unsigned v, int width)
{
	int	 i;

	for (i = width - 1; i >= 0; i--) {
		dst[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return dst + width;
}

char *
dec_iso(char *dst, const struct tm *tm, int ms)
{
	long	 year = (long)tm->tm_year + 1900;
	char	*p = dst;

	if (year < 0 || year > 9999)
		return NULL;
	p = dec_pad(p, (unsigned)year, 4);
	*p++ = '-';
	p = dec_pad(p, (unsigned)tm->tm_mon + 1, 2);
	*p++ = '-';
	p = dec_pad(p, (unsigned)tm->tm_mday, 2);
	*p++ = 'T';
	p = dec_pad(p, (unsigned)tm->tm_hour, 2);
	*p++ = ':';
	p = dec_pad(p, (unsigned)tm->tm_min, 2);
	*p++ = ':';
	p = dec_pad(p, (unsigned)tm->tm_sec, 2);
	*p++ = '.';
	return dec_pad(p, (unsigned)ms, 3);
}
