/* strdist.h: edit distance, for "did you mean" hints. */
#ifndef AMPSTREAM_STRDIST_H
#define AMPSTREAM_STRDIST_H

#include <stdbool.h>
#include <stddef.h>

#define STRDIST_MAX_LEN	256	/* bytes of each string compared */

/*
 * Levenshtein distance between the first STRDIST_MAX_LEN bytes of a and b,
 * ignoring ASCII case when icase is true.
 */
size_t	strdist(const char *a, const char *b, bool icase);

#endif
