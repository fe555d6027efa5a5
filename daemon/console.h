/*
 * console.h: links from an event into the AMP / Secure Endpoint console
 * (amp-api.md section 9).  Pure functions, no I/O.
 */
#ifndef AMPSTREAM_CONSOLE_H
#define AMPSTREAM_CONSOLE_H

struct buf;
struct amp_event;

/*
 * Append the console base URL (no trailing '/') to out: the configured one
 * if not NULL or empty, else derived from the host of the event's API link
 * (computer.links.computer): "api.X" -> "https://console.X".  Returns 0, or
 * -1 if neither is usable (out unchanged).
 */
int	console_base(const struct amp_event *, const char *configured,
	    struct buf *out);
/*
 * Append the console URL of the event to out: the device trajectory at the
 * event when the connector is known, else the file trajectory of the
 * SHA-256, else the dashboard of the event type.  Returns 0 or -1.
 */
int	console_url(const struct amp_event *, const char *console_base,
	    struct buf *out);

#endif
