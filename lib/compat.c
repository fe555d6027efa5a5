/* compat.c: helpers glibc 2.36 lacks. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "log.h"

size_t
compat_strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t	 len = strlen(src);

	if (dsize > 0) {
		size_t n = len < dsize - 1 ? len : dsize - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

void
cause_printf(char **cause, const char *fmt, ...)
{
	va_list	 ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		fatal("%s", __func__);
	va_end(ap);
}
