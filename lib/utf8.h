/* utf8.h: is a byte string valid UTF-8? */
#ifndef AMPSTREAM_UTF8_H
#define AMPSTREAM_UTF8_H

#include <stddef.h>

/* True when s[0..len) is valid UTF-8 and holds no NUL byte. */
int	utf8_valid(const char *s, size_t len);
/*
 * The length of the character at s (len bytes left) when it may be shown
 * as it is: printable ASCII, or 2 to 4 bytes of valid UTF-8 that are not a
 * C1 control (U+0080..U+009F); else 0 (a control, DEL, a bad byte).
 */
size_t	utf8_printable(const char *s, size_t len);

#endif
