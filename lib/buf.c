/* buf.c: bounded growable byte buffer. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for extra bytes plus a NUL; OOM is fatal everywhere in ampstream. */
int
buf_reserve(struct buf *b, size_t extra)
{
	size_t	 need, ncap;
	char	*p;

	if (extra > SIZE_MAX / 2 - b->len)
		return -1;
	need = b->len + extra;
	if (b->max != 0 && need > b->max)
		return -1;
	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 1024;	/* a record fits the first */
	while (ncap < need + 1)
		ncap *= 2;
	p = xreallocarray(b->data, ncap, 1);
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_append_grow(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 room;
	int	 n;

	/* Formatted once into the room there is; again only if it did not fit. */
	if (buf_reserve(b, 0) == -1)
		return -1;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= room && buf_reserve(b, (size_t)n) == 0) {
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
		room = (size_t)n + 1;
	}
	if (n < 0 || (size_t)n >= room ||
	    (b->max != 0 && b->len + (size_t)n > b->max)) {
		b->data[b->len] = '\0';	/* unchanged */
		return -1;
	}
	b->len += (size_t)n;
	return 0;
}

char *
buf_release(struct buf *b, size_t *lenp)
{
	char	*p = b->data;

	if (p == NULL)
		p = xstrdup("");
	if (lenp != NULL)
		*lenp = b->len;
	buf_init(b, b->max);
	return p;
}
