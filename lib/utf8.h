/* utf8.h: is a byte string valid UTF-8? */
#ifndef AMPSTREAM_UTF8_H
#define AMPSTREAM_UTF8_H

#include <stddef.h>

/* True when s[0..len) is valid UTF-8 and holds no NUL byte. */
int	utf8_valid(const char *s, size_t len);

#endif
