/*
 * esc.h: text a peer sent (a broker's close reason, a server's string),
 * made safe to log: one line, nothing that forges a journal priority or
 * drives a terminal.
 */
#ifndef AMPSTREAM_ESC_H
#define AMPSTREAM_ESC_H

#include <stddef.h>

/* Room for len peer bytes escaped (each at most "\xHH"), plus NUL. */
#define ESC_SIZE(len)	((len) * 4 + 1)

/*
 * Copy src[0..len) to dst as printable text and return dst: C0 controls,
 * DEL, C1 controls (U+0080..U+009F) and every byte that is not part of a
 * valid UTF-8 sequence become "\xHH", a backslash "\\"; valid printable
 * UTF-8 is kept.  dst is always NUL-terminated (dsize > 0); if it is too
 * small the copy stops at a whole escape or character and ends in "...".
 */
char	*esc_peer(char *dst, size_t dsize, const void *src, size_t len);

#endif
