/* buf.h: a growable byte buffer with an upper bound, for records and frames. */
#ifndef AMPSTREAM_BUF_H
#define AMPSTREAM_BUF_H

#include <stddef.h>
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
/* These return 0, or -1 when the bound would be passed (the buffer is unchanged). */
int	buf_append(struct buf *, const void *, size_t);
int	buf_putc(struct buf *, char);
int	buf_puts(struct buf *, const char *);
int	buf_printf(struct buf *, const char *, ...) printflike(2, 3);
/* Room for extra more bytes now (one allocation instead of several). */
int	buf_reserve(struct buf *, size_t extra);
/* Hands the bytes to the caller (who frees them) and resets the buffer. */
char	*buf_release(struct buf *, size_t *lenp);

#endif
