/*
 * status.h: the daemon's counters as a JSON file, state_dir/status.json,
 * rewritten atomically with every STATUS= update; `ampstreamctl status`
 * reads it.  The same numbers as the STATUS= line, per stream and sink.
 */
#ifndef AMPSTREAM_STATUS_H
#define AMPSTREAM_STATUS_H

#include <stddef.h>

struct buf;
struct json_object;

#define STATUS_FILE	"status.json"
#define STATUS_MAX	(1024 * 1024)	/* a bigger file is not ours */

/* Write o to state_dir/status.json (tmp + rename).  0, or -1 (logged). */
int	status_write(const char *state_dir, struct json_object *o);

/* The one-line STATUS= text of the same counters, appended to b. */
void	status_line(struct json_object *o, struct buf *b);

/* Read and parse state_dir/status.json: NULL with *cause set on failure. */
struct json_object *status_read(const char *state_dir, char **cause);

#endif
