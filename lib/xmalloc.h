/*
 * xmalloc.h: allocation that cannot fail.  Out of memory is fatal (logged,
 * exit), as in tmux and the OpenBSD daemons: a forwarder that cannot
 * allocate cannot keep its promises, and every caller stays short.
 */
#ifndef AMPSTREAM_XMALLOC_H
#define AMPSTREAM_XMALLOC_H

#include <stddef.h>

#include "compat.h"

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* NULL in, NULL out. */
char	*xstrdup_or_null(const char *);
void	 xasprintf(char **, const char *, ...) printflike(2, 3);

#endif
