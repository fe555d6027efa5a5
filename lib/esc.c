/* esc.c: peer text escaped for the log (see esc.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "esc.h"
#include "utf8.h"

static size_t	esc_copy(char *, size_t, const unsigned char *, size_t);
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
	if ((n = utf8_printable((const char *)s, len)) > 0) {
		memcpy(piece, s, n);
		piece[n] = '\0';
		return n;
	}
	snprintf(piece, 8, "\\x%02x", *s);
	return 1;
}
