/*
 * syslog.c: syslog header and transport framing around one record.
 *
 *	RFC 5424: <PRI>1 2026-11-24T19:00:00.123Z HOST APP - - - MSG
 *	RFC 3164: <PRI>Nov 24 19:00:00 HOST APP: MSG
 *	none:     MSG
 *
 * Times are UTC.  No BOM.  HOSTNAME and APP-NAME are cut to printable
 * US-ASCII without spaces (other bytes become '_'), at most 255 and 48
 * bytes (the 3164 tag: 32), "-" when empty.  Framing is RFC 6587 octet
 * counting ("LEN SP MSG", LEN counting header and record), a trailing LF,
 * or none (a datagram: RFC 5426, /dev/log); under LF framing and none any
 * raw CR or LF left in the record becomes a space.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "fmt_facts.h"
#include "syslog.h"

#define SYSLOG_HOST_MAX		255
#define SYSLOG_APP_MAX		48
#define SYSLOG_TAG_MAX		32	/* RFC 3164 4.1.3 */
#define SYSLOG_HDR_MAX		512

static size_t	syslog_header(const struct syslog_hdr *, char *, size_t);
static size_t	syslog_5424(const struct syslog_hdr *, char *, size_t);
static size_t	syslog_3164(const struct syslog_hdr *, char *, size_t);
static int	syslog_pri(const struct syslog_hdr *);
static void	syslog_time(int64_t, struct tm *, int *);
static void	syslog_name(char *, size_t, const char *);
static int	syslog_append_lf(struct buf *, const char *, size_t);

size_t
syslog_header_len(const struct syslog_hdr *h)
{
	char	 hdr[SYSLOG_HDR_MAX];

	return syslog_header(h, hdr, sizeof(hdr));
}

/* Append header, record and framing to out; out is unchanged on -1. */
int
syslog_frame(const struct syslog_hdr *h, enum framing framing,
    const char *rec, size_t len, struct buf *out)
{
	char	 hdr[SYSLOG_HDR_MAX];
	size_t	 hlen, start = out->len;

	hlen = syslog_header(h, hdr, sizeof(hdr));
	if (framing == FRAMING_OCTET) {
		if (buf_printf(out, "%zu ", hlen + len) == -1 ||
		    buf_append(out, hdr, hlen) == -1 ||
		    buf_append(out, rec, len) == -1)
			goto fail;
	} else {
		/* A datagram is the message: no LF after it. */
		if (buf_append(out, hdr, hlen) == -1 ||
		    syslog_append_lf(out, rec, len) == -1 ||
		    (framing == FRAMING_LF && buf_putc(out, '\n') == -1))
			goto fail;
	}
	return 0;
fail:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return -1;
}

/* Write the header for h into dst (NUL-terminated); returns its length. */
static size_t
syslog_header(const struct syslog_hdr *h, char *dst, size_t dsize)
{
	switch (h->style) {
	case SYSLOG_RFC5424:
		return syslog_5424(h, dst, dsize);
	case SYSLOG_RFC3164:
		return syslog_3164(h, dst, dsize);
	case SYSLOG_NONE:
	default:
		dst[0] = '\0';
		return 0;
	}
}

/* "<PRI>1 TIMESTAMP HOSTNAME APP-NAME - - - " */
static size_t
syslog_5424(const struct syslog_hdr *h, char *dst, size_t dsize)
{
	char		 host[SYSLOG_HOST_MAX + 1], app[SYSLOG_APP_MAX + 1];
	struct tm	 tm;
	int		 ms, n;

	syslog_time(h->time_ms, &tm, &ms);
	syslog_name(host, sizeof(host), h->hostname);
	syslog_name(app, sizeof(app), h->app_name);
	n = snprintf(dst, dsize,
	    "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s - - - ",
	    syslog_pri(h), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, ms, host, app);
	return n < 0 ? 0 : (size_t)n >= dsize ? dsize - 1 : (size_t)n;
}

/* "<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: " (day space-padded). */
static size_t
syslog_3164(const struct syslog_hdr *h, char *dst, size_t dsize)
{
	static const char	*const mon[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char			 host[SYSLOG_HOST_MAX + 1];
	char			 tag[SYSLOG_TAG_MAX + 1];
	struct tm		 tm;
	int			 ms, n;

	syslog_time(h->time_ms, &tm, &ms);
	syslog_name(host, sizeof(host), h->hostname);
	syslog_name(tag, sizeof(tag), h->app_name);
	n = snprintf(dst, dsize, "<%d>%s %2d %02d:%02d:%02d %s %s: ",
	    syslog_pri(h), mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, host, tag);
	return n < 0 ? 0 : (size_t)n >= dsize ? dsize - 1 : (size_t)n;
}

/* PRI = facility * 8 + severity, each clamped to its range. */
static int
syslog_pri(const struct syslog_hdr *h)
{
	int	 fac = h->facility, sev = h->severity;

	fac = fac < 0 ? 0 : fac > 23 ? 23 : fac;
	sev = sev < 0 ? 0 : sev > 7 ? 7 : sev;
	return fac * 8 + sev;
}

/* Split epoch ms into UTC broken-down time and ms (the epoch if out of
 * range). */
static void
syslog_time(int64_t ms, struct tm *tm, int *msp)
{
	if (fmt_gmtime(ms, tm, msp) == -1)
		fmt_gmtime(0, tm, msp);
}

/* Copy src as a header name: printable ASCII, no SP, "-" if empty. */
static void
syslog_name(char *dst, size_t dsize, const char *src)
{
	size_t	 i;

	for (i = 0; src != NULL && src[i] != '\0' && i + 1 < dsize; i++)
		dst[i] = src[i] > ' ' && src[i] < 0x7f ? src[i] : '_';
	if (i == 0)
		dst[i++] = '-';
	dst[i] = '\0';
}

/* Append the record with raw CR and LF turned into spaces. */
static int
syslog_append_lf(struct buf *out, const char *rec, size_t len)
{
	size_t	 i, j;

	for (i = 0; i <= len; i = j + 1) {
		for (j = i; j < len && rec[j] != '\r' && rec[j] != '\n'; j++)
			;
		if (buf_append(out, rec + i, j - i) == -1 ||
		    (j < len && buf_putc(out, ' ') == -1))
			return -1;
	}
	return 0;
}
