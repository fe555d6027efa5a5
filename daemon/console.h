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
 * if not NULL or empty, else the console of the event's API link
 * (computer.links.computer) when, and only when, its host is a public
 * cloud's API host (api.amp.cisco.com, api.eu.amp.cisco.com,
 * api.apjc.amp.cisco.com -> https://console.<same>): a link is never taken
 * to any other host an event names.  Returns 0, or -1 if neither is usable
 * (out unchanged).
 */
int	console_base(const struct amp_event *, const char *configured,
	    struct buf *out);
/*
 * Like console_base, then, when neither the configured URL nor the event's
 * API link gives one, from the AMQP host of the stream:
 * "export-streaming.<region>amp.cisco.com" -> "https://console.<region>
 * amp.cisco.com"; any other host (a private cloud) -> "https://<host>".
 * Returns 0, or -1 (out unchanged).
 */
int	console_base_for(const struct amp_event *, const char *configured,
	    const char *amqp_host, struct buf *out);
/*
 * Append the file trajectory link "<base>/file/trajectory/<sha256>" of the
 * event's file to out.  Returns 0, or -1 if the event has no SHA-256 or
 * base is NULL or empty (out unchanged).
 */
int	console_file_url(const struct amp_event *, const char *console_base,
	    struct buf *out);
/*
 * Append the console URL of the event to out: the device trajectory at the
 * event when the connector is known, else the file trajectory of the
 * SHA-256, else the dashboard of the event type.  Returns 0 or -1.
 */
int	console_url(const struct amp_event *, const char *console_base,
	    struct buf *out);

#endif
