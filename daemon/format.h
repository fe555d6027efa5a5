/*
 * format.h: formatters are pure functions from an event to the bytes of one
 * record (no syslog header, no framing, no trailing newline).  Each lives in
 * format_<name>.c and exports one const struct format_ops.
 */
#ifndef AMPSTREAM_FORMAT_H
#define AMPSTREAM_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct buf;
struct amp_event;
struct corr_info;

/* What the record needs beyond the event itself. */
struct format_ctx {
	const char	*stream;	/* stream name */
	const char	*cloud;		/* cloud name or NULL */
	const char	*console_url;	/* link to the event in the AMP console, or NULL */
	int64_t		 received_ms;	/* when ampstream received it, epoch ms */
	int		 default_severity;	/* CEF severity for events without one (LEEF: at least 1) */
	size_t		 max_len;	/* the record must fit in this many bytes */
	const struct corr_info *corr;	/* correlation of this event, or NULL */
	const char	*file_console_url;	/* file trajectory link, or NULL */
	/* ev->group_guids[i]'s name, NULL when not known (yet); or NULL */
	const char *const *group_names;
	const char	*group_guids_text;	/* "g1,g2", or NULL */
	const char	*group_names_text;	/* the known names "a,b", or NULL */
	const char	*policy;	/* the computer's policy name, or NULL */
	const char	*isolation;	/* its isolation status, or NULL */
	const struct conf_fields *fields;	/* the sink's static fields */
};

struct conf_fields;

struct format_ops {
	const char	*name;
	/*
	 * Append the record to out.  Returns 0, or -1 if it cannot be made to
	 * fit ctx->max_len (values are truncated first, never the line).
	 */
	int		(*format)(const struct amp_event *, const struct format_ctx *,
			    struct buf *out);
};

extern const struct format_ops format_cef_ops;
extern const struct format_ops format_json_ops;
extern const struct format_ops format_leef_ops;

const struct format_ops	*format_lookup(const char *name);

#endif
