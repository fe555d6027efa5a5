/* strdist.c: Levenshtein distance over one row (see strdist.h). */
#include <ctype.h>
#include <string.h>

#include "strdist.h"

static bool
same(char x, char y, bool icase)
{
	return icase ? tolower((unsigned char)x) == tolower((unsigned char)y) :
	    x == y;
}

size_t
strdist(const char *a, const char *b, bool icase)
{
	size_t	 row[STRDIST_MAX_LEN + 1], la, lb, i, j, diag, up;

	la = strnlen(a, STRDIST_MAX_LEN);
	lb = strnlen(b, STRDIST_MAX_LEN);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + !same(a[i - 1], b[j - 1], icase);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}
