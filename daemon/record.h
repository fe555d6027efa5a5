/*
 * record.h: one sink's way of turning an event into the bytes it sends.
 *
 * A recipe is resolved once per sink at start (formatter, syslog envelope,
 * framing, max_record, this host's name); record_make() is then a pure
 * function of the recipe, the event and what the router knows of it
 * (stream, links, correlation, arrival time).
 */
#ifndef AMPSTREAM_RECORD_H
#define AMPSTREAM_RECORD_H

#include <stddef.h>

struct amp_event;
struct format_ctx;
struct record_recipe;
struct sink_conf;

/* NULL with *cause set when the sink's format is unknown. */
/* sc must outlive the recipe (its fields are used, not copied). */
struct record_recipe *record_recipe_new(const struct sink_conf *,
		    const char *hostname, char **cause);
void		 record_recipe_free(struct record_recipe *);

/*
 * The record (formatted, in its syslog header and framing), malloc'd, its
 * length in *len; NULL when it cannot be made to fit max_record.  ctx's
 * default_severity and max_len are the recipe's: the caller's are ignored.
 */
char		*record_make(const struct record_recipe *,
		    const struct amp_event *, const struct format_ctx *,
		    size_t *len);

/* The syslog severity of an AMP severity: Critical 2 ... Low 5, else 6. */
int		 record_syslog_severity(const char *);

#endif
