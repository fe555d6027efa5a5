/* format.c: the table of record formatters (format_<name>.c) and its lookup. */
#include <stddef.h>
#include <string.h>

#include "format.h"

static const struct format_ops *const formats[] = {
	&format_cef_ops,
	&format_json_ops,
	&format_leef_ops,
	NULL,
};

/* The formatter called name, or NULL. */
const struct format_ops *
format_lookup(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return NULL;
	for (i = 0; formats[i] != NULL; i++)
		if (strcmp(formats[i]->name, name) == 0)
			return formats[i];
	return NULL;
}
