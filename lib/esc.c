/* esc.c: peer text escaped for the log (see esc.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "esc.h"

static size_t	esc_copy(char *, size_t, const unsigned char *, size_t);
static size_t	esc_utf8(const unsigned char *, size_t);
static size_t	esc_one(const unsigned char *, size_t, char *);

char *
esc_peer(char *dst, size_t dsize, const void *src, size_t len)
{
	size_t	 o;
	int	 cut;

	if (dsize == 0)
		return dst;
	/* Too long: stop early enough for "..." after the last whole piece. */
	cut = esc_copy(NULL, SIZE_MAX, src, len) >= dsize && dsize > 3;
	o = esc_copy(dst, cut ? dsize - 3 : dsize, src, len);
	if (cut)
		memcpy(dst + o, "...", 4);
	return dst;
}

/* Copy escaped pieces while they fit room (NUL included); the length. */
static size_t
esc_copy(char *dst, size_t room, const unsigned char *s, size_t len)
{
	char	 piece[8];
	size_t	 i = 0, o = 0, used, n;

	while (i < len) {
		used = esc_one(s + i, len - i, piece);
		n = strlen(piece);
		if (o + n >= room)
			break;
		if (dst != NULL)
			memcpy(dst + o, piece, n);
		o += n;
		i += used;
	}
	if (dst != NULL)
		dst[o] = '\0';
	return o;
}

/* Escape the character at s into piece; returns the bytes it took. */
static size_t
esc_one(const unsigned char *s, size_t len, char *piece)
{
	size_t	 n;

	if (*s == '\\') {
		strcpy(piece, "\\\\");
		return 1;
	}
	if (*s >= 0x20 && *s < 0x7f) {
		piece[0] = (char)*s;
		piece[1] = '\0';
		return 1;
	}
	/* C1 controls are U+0080..U+009F: 0xc2 0x80..0x9f in UTF-8. */
	if (*s >= 0x80 && (n = esc_utf8(s, len)) > 0 &&
	    !(s[0] == 0xc2 && s[1] < 0xa0)) {
		memcpy(piece, s, n);
		piece[n] = '\0';
		return n;
	}
	snprintf(piece, 8, "\\x%02x", *s);
	return 1;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0. */
static size_t
esc_utf8(const unsigned char *s, size_t len)
{
	unsigned int	 cp;
	size_t		 n, i;

	if ((s[0] & 0xe0) == 0xc0) { n = 2; cp = s[0] & 0x1f; }
	else if ((s[0] & 0xf0) == 0xe0) { n = 3; cp = s[0] & 0x0f; }
	else if ((s[0] & 0xf8) == 0xf0) { n = 4; cp = s[0] & 0x07; }
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}
