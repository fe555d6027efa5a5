/* console.c: console base URLs and deep links for events (amp-api.md 9). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "compat.h"
#include "event.h"
#include "console.h"

static const char *console_known(const char *);
static bool	console_host_ok(const char *, size_t);
static int	console_pct(struct buf *, const char *);
static int	console_append(struct buf *, const char *, const char *);
static int	console_amqp_base(const char *, struct buf *);
static bool	console_cisco_stream(const char *, size_t);
static void	console_undo(struct buf *, size_t);

#define STREAM_PREFIX	"export-streaming."
#define CISCO_DOMAIN	"amp.cisco.com"

/*
 * The public clouds (amp-api.md 1.1).  An event's own API link may name a
 * console only when it is one of these: anything else in an event is data,
 * not a place to send the SOC's click.
 */
static const struct {
	const char	*api;
	const char	*console;
} console_clouds[] = {
	{ "api.amp.cisco.com", "https://console.amp.cisco.com" },
	{ "api.eu.amp.cisco.com", "https://console.eu.amp.cisco.com" },
	{ "api.apjc.amp.cisco.com", "https://console.apjc.amp.cisco.com" },
};

/* Append the configured or the derived console base URL to out. */
int
console_base(const struct amp_event *ev, const char *configured,
    struct buf *out)
{
	const char	*console;
	size_t		 n;

	if (configured != NULL && *configured != '\0') {
		n = strlen(configured);
		while (n > 0 && configured[n - 1] == '/')
			n--;
		if (n == 0 || buf_append(out, configured, n) == -1)
			return -1;
		return 0;
	}
	if (ev->api_link == NULL ||
	    (console = console_known(ev->api_link)) == NULL)
		return -1;
	return buf_puts(out, console);
}

/* Append the base from the configuration, the API link or the AMQP host. */
int
console_base_for(const struct amp_event *ev, const char *configured,
    const char *amqp_host, struct buf *out)
{
	if (console_base(ev, configured, out) == 0)
		return 0;
	return console_amqp_base(amqp_host, out);
}

/* Append the console of a Cisco stream host, or the private cloud's host. */
static int
console_amqp_base(const char *host, struct buf *out)
{
	size_t	 start = out->len, n, pl = strlen(STREAM_PREFIX);

	if (host == NULL || (n = strcspn(host, ":/")) == 0 ||
	    !console_host_ok(host, n))
		return -1;
	if (console_cisco_stream(host, n)) {
		if (buf_puts(out, "https://console.") == -1 ||
		    buf_append(out, host + pl, n - pl) == -1)
			goto fail;
	} else if (buf_puts(out, "https://") == -1 ||
	    buf_append(out, host, n) == -1)
		goto fail;
	return 0;
fail:
	console_undo(out, start);
	return -1;
}

/* True for "export-streaming.[<region>.]amp.cisco.com" (n bytes at h). */
static bool
console_cisco_stream(const char *h, size_t n)
{
	size_t	 pl = strlen(STREAM_PREFIX), dl = strlen(CISCO_DOMAIN);

	if (n < pl + dl || strncasecmp(h, STREAM_PREFIX, pl) != 0 ||
	    strncasecmp(h + n - dl, CISCO_DOMAIN, dl) != 0)
		return false;
	return n == pl + dl || h[n - dl - 1] == '.';
}

/* Append the file trajectory link of the event's SHA-256 under base. */
int
console_file_url(const struct amp_event *ev, const char *base,
    struct buf *out)
{
	size_t	 start = out->len;

	if (base == NULL || *base == '\0' || ev->sha256 == NULL ||
	    *ev->sha256 == '\0')
		return -1;
	if (buf_puts(out, base) == -1 ||
	    console_append(out, "/file/trajectory/", ev->sha256) == -1) {
		console_undo(out, start);
		return -1;
	}
	return 0;
}

/* Put out back to its first start bytes. */
static void
console_undo(struct buf *out, size_t start)
{
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
}

/* The console of a known cloud's API URL (https only), or NULL. */
static const char *
console_known(const char *url)
{
	const char	*h;
	size_t		 n, i;

	if (strncasecmp(url, "https://", 8) != 0)
		return NULL;
	h = url + 8;
	n = strcspn(h, "/:?#");
	for (i = 0; i < nitems(console_clouds); i++)
		if (strlen(console_clouds[i].api) == n &&
		    strncasecmp(h, console_clouds[i].api, n) == 0)
			return console_clouds[i].console;
	return NULL;
}

/* True if the n bytes at h are letters, digits, '.' and '-' only. */
static bool
console_host_ok(const char *h, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", h[i]) == NULL)
			return false;
	return true;
}

/* Append the console link of the event under base to out. */
int
console_url(const struct amp_event *ev, const char *base, struct buf *out)
{
	size_t	 start = out->len;
	char	 num[24];

	if (base == NULL || *base == '\0')
		return -1;
	if ((ev->connector_guid == NULL || *ev->connector_guid == '\0') &&
	    console_file_url(ev, base, out) == 0)
		return 0;
	if (buf_puts(out, base) == -1)
		goto fail;
	if (ev->connector_guid != NULL && *ev->connector_guid != '\0') {
		if (console_append(out, "/computers/", ev->connector_guid) == -1 ||
		    buf_puts(out, "/trajectory2") == -1 ||
		    (ev->has_id && console_append(out, "?id=", ev->id_str) == -1))
			goto fail;
	} else {
		snprintf(num, sizeof(num), "%lld", (long long)ev->event_type_id);
		if (console_append(out, "/dashboard?duration=720&event_type=",
		    num) == -1)
			goto fail;
	}
	return 0;
fail:
	console_undo(out, start);
	return -1;
}

/* Append the literal prefix and the percent-encoded value. */
static int
console_append(struct buf *out, const char *prefix, const char *value)
{
	if (buf_puts(out, prefix) == -1)
		return -1;
	return console_pct(out, value);
}

/* Append s percent-encoded: everything outside [A-Za-z0-9._~-]. */
static int
console_pct(struct buf *out, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 esc[3] = { '%', 0, 0 };
	unsigned char		 c;
	size_t			 run;

	while (*s != '\0') {
		/* The unreserved run first, in one copy. */
		for (run = 0; (c = (unsigned char)s[run]) != '\0' &&
		    ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
		    c == '-'); run++)
			;
		if (run > 0 && buf_append(out, s, run) == -1)
			return -1;
		if ((c = (unsigned char)s[run]) == '\0')
			break;
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if (buf_append(out, esc, 3) == -1)
			return -1;
		s += run + 1;
	}
	return 0;
}
