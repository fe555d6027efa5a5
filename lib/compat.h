/* compat.h: the few attributes and helpers glibc does not give us. */
#ifndef AMPSTREAM_COMPAT_H
#define AMPSTREAM_COMPAT_H

#include <stddef.h>

#ifndef __dead
#define __dead		__attribute__((__noreturn__))
#endif
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif
#define printflike(a, b) __attribute__((__format__(__printf__, a, b)))

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define AMPSTREAM_VERSION	"0.1.0"

/* Set *cause (when cause is not NULL) to a malloc'd message; OOM is fatal. */
void	cause_printf(char **cause, const char *fmt, ...) printflike(2, 3);

/* Copy src into dst of size dsize, always NUL-terminated; returns strlen(src). */
size_t	compat_strlcpy(char *dst, const char *src, size_t dsize);

#endif
