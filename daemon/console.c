/* console.c: console base URLs and deep links for events (amp-api.md 9). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "event.h"
#include "console.h"

static int	console_api_host(const char *, const char **, size_t *);
static bool	console_host_ok(const char *, size_t);
static int	console_pct(struct buf *, const char *);
static int	console_append(struct buf *, const char *, const char *);
static int	console_amqp_base(const char *, struct buf *);
static bool	console_cisco_stream(const char *, size_t);
static void	console_undo(struct buf *, size_t);

#define STREAM_PREFIX	"export-streaming."
#define CISCO_DOMAIN	"amp.cisco.com"

/* Append the configured or the derived console base URL to out. */
int
console_base(const struct amp_event *ev, const char *configured,
    struct buf *out)
{
	const char	*host;
	size_t		 start = out->len, n;

	if (configured != NULL && *configured != '\0') {
		n = strlen(configured);
		while (n > 0 && configured[n - 1] == '/')
			n--;
		if (n == 0 || buf_append(out, configured, n) == -1)
			return -1;
		return 0;
	}
	if (ev->api_link == NULL ||
	    console_api_host(ev->api_link, &host, &n) == -1)
		return -1;
	if (buf_puts(out, "https://console.") == -1 ||
	    buf_append(out, host + 4, n - 4) == -1)
		goto fail;
	return 0;
fail:
	console_undo(out, start);
	return -1;
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

/* Find the host of an http(s) URL; it must be "api." plus a DNS name. */
static int
console_api_host(const char *url, const char **hostp, size_t *lenp)
{
	const char	*h;
	size_t		 n;

	if (strncmp(url, "https://", 8) == 0)
		h = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		h = url + 7;
	else
		return -1;
	n = strcspn(h, "/:?#");
	if (n <= 4 || strncasecmp(h, "api.", 4) != 0 || !console_host_ok(h, n))
		return -1;
	*hostp = h;
	*lenp = n;
	return 0;
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
	unsigned char		 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("._~-", c) != NULL) {
			if (buf_putc(out, (char)c) == -1)
				return -1;
		} else if (buf_putc(out, '%') == -1 ||
		    buf_putc(out, hex[c >> 4]) == -1 ||
		    buf_putc(out, hex[c & 15]) == -1)
			return -1;
	}
	return 0;
}
