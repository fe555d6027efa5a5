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
#include "dec.h"
#include "fmt_facts.h"
#include "syslog.h"

#define SYSLOG_HOST_MAX		255
#define SYSLOG_APP_MAX		48
#define SYSLOG_TAG_MAX		32	/* RFC 3164 4.1.3 */
#define SYSLOG_HDR_MAX		512
#define SYSLOG_OCTET_ROOM	21	/* "%zu " of any size_t */

static size_t	syslog_header(const struct syslog_hdr *, char *, size_t);
static size_t	syslog_5424(const struct syslog_hdr *, char *, size_t);
static size_t	syslog_3164(const struct syslog_hdr *, char *, size_t);
static int	syslog_pri(const struct syslog_hdr *);
static void	syslog_name(char *, size_t, const char *);
static void	syslog_no_lf(char *, size_t);

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
	struct syslog_frame	 f;
	size_t			 hlen;

	if (syslog_open(&f, h, framing, out, &hlen) == -1)
		return -1;
	if (buf_append(out, rec, len) == -1) {
		out->len = f.start;
		if (out->data != NULL)
			out->data[f.start] = '\0';
		return -1;
	}
	return syslog_close(&f, out);
}

/* Room for "LEN " (octet counting: filled in by close), then the header. */
int
syslog_open(struct syslog_frame *f, const struct syslog_hdr *h,
    enum framing framing, struct buf *out, size_t *hlenp)
{
	char	 hdr[SYSLOG_HDR_MAX];

	f->start = out->len;
	f->framing = framing;
	*hlenp = syslog_header(h, hdr, sizeof(hdr));
	static const char room[SYSLOG_OCTET_ROOM];

	if ((framing == FRAMING_OCTET && buf_append(out, room,
	    sizeof(room)) == -1) || buf_append(out, hdr, *hlenp) == -1) {
		out->len = f->start;
		if (out->data != NULL)
			out->data[f->start] = '\0';
		return -1;
	}
	f->body = out->len - *hlenp;
	return 0;
}

/*
 * Octet counting: the count goes right before the header and the message
 * is moved back over the room left.  Otherwise raw CR and LF become spaces
 * (a datagram is the message: no LF after it).  out is unchanged on -1.
 */
int
syslog_close(const struct syslog_frame *f, struct buf *out)
{
	char	 num[DEC_I64_SIZE + 1];
	size_t	 n, len = out->len - f->body;

	if (f->framing == FRAMING_OCTET) {
		n = dec_i64(num, (int64_t)len);
		num[n++] = ' ';
		memcpy(out->data + f->start, num, n);
		memmove(out->data + f->start + n, out->data + f->body, len);
		out->len = f->start + n + len;
		out->data[out->len] = '\0';
		return 0;
	}
	syslog_no_lf(out->data + f->body, len);
	if (f->framing == FRAMING_LF && buf_putc(out, '\n') == -1) {
		out->len = f->start;
		out->data[f->start] = '\0';
		return -1;
	}
	return 0;
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

/* "<PRI>1 TIMESTAMP HOSTNAME APP-NAME - - - ", without printf (hot path). */
static size_t
syslog_5424(const struct syslog_hdr *h, char *dst, size_t dsize)
{
	char		 host[SYSLOG_HOST_MAX + 1], app[SYSLOG_APP_MAX + 1];
	char		 pri[DEC_I64_SIZE], *p = dst;
	struct tm	 tm;
	size_t		 hl, al, pl;
	int		 ms, n;

	fmt_gmtime(h->time_ms, &tm, &ms);
	syslog_name(host, sizeof(host), h->hostname);
	syslog_name(app, sizeof(app), h->app_name);
	pl = dec_i64(pri, syslog_pri(h));
	hl = strlen(host);
	al = strlen(app);
	/* A year of five digits takes the printf below. */
	if (dsize > pl + hl + al + DEC_ISO_LEN + 16) {
		*p++ = '<';
		memcpy(p, pri, pl);
		p += pl;
		memcpy(p, ">1 ", 3);
		if ((p = dec_iso(p + 3, &tm, ms)) == NULL)
			goto slow;
		*p++ = 'Z';
		*p++ = ' ';
		memcpy(p, host, hl);
		p += hl;
		*p++ = ' ';
		memcpy(p, app, al);
		p += al;
		memcpy(p, " - - - ", 8);
		return (size_t)(p + 7 - dst);
	}
slow:
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

	fmt_gmtime(h->time_ms, &tm, &ms);
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

/* Turn raw CR and LF into spaces (the formats never write any). */
static void
syslog_no_lf(char *s, size_t len)
{
	char	*p, *end = s + len;

	for (p = s; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		*p = ' ';
	for (p = s; (p = memchr(p, '\r', (size_t)(end - p))) != NULL; p++)
		*p = ' ';
}
