/* buf.h: a growable byte buffer with an upper bound, for records and frames. */
#ifndef AMPSTREAM_BUF_H
#define AMPSTREAM_BUF_H

#include <stddef.h>
#include <string.h>

#include "compat.h"

struct buf {
	char	*data;		/* always NUL-terminated when len > 0 */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* 0: unbounded */
};

void	buf_init(struct buf *, size_t max);
void	buf_free(struct buf *);
void	buf_reset(struct buf *);
/*
 * These (and buf_append, buf_putc, buf_puts below) return 0, or -1 when the
 * bound would be passed (the buffer is unchanged).
 */
int	buf_printf(struct buf *, const char *, ...) printflike(2, 3);
/* Room for extra more bytes now (one allocation instead of several). */
int	buf_reserve(struct buf *, size_t extra);
/* Hands the bytes to the caller (who frees them) and resets the buffer. */
char	*buf_release(struct buf *, size_t *lenp);
/* buf_append when the room is not there yet: grow, or refuse. */
int	buf_append_grow(struct buf *, const void *, size_t);

/*
 * Inline, as a record is written in hundreds of small pieces: while there
 * is room (and the bound allows), a copy and no call.  Same return as above.
 */
static inline int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->cap - b->len <= n || (b->max != 0 && n > b->max - b->len))
		return buf_append_grow(b, p, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static inline int
buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

static inline int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

#endif
