/*
 * syslog.h: wraps a formatted record in a syslog header (RFC 5424, RFC 3164
 * with the "ampstream:" tag, or none) and a transport framing (RFC 6587
 * octet counting, LF, or none for datagrams).  Pure functions, no I/O.
 */
#ifndef AMPSTREAM_SYSLOG_H
#define AMPSTREAM_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct buf;

struct syslog_hdr {
	enum syslog_style style;
	int		 facility;	/* 0..23 */
	int		 severity;	/* syslog severity 0..7 */
	const char	*hostname;	/* this machine */
	const char	*app_name;	/* "ampstream" */
	int64_t		 time_ms;	/* epoch ms for TIMESTAMP */
};

/* Bytes the header will take (for the record budget). */
size_t	syslog_header_len(const struct syslog_hdr *);
/* Append header + record + framing to out.  Returns 0 or -1 (bound passed). */
int	syslog_frame(const struct syslog_hdr *, enum framing,
	    const char *rec, size_t len, struct buf *out);

/*
 * The same in place, for a record written straight into out: open appends
 * room for the octet count and the header (its length in *hlenp), the
 * caller appends the record, close frames it.  start is out->len before
 * open.  Both return 0 or -1 (bound passed).
 */
struct syslog_frame {
	size_t		 start;
	size_t		 body;		/* where the record begins */
	enum framing	 framing;
};
int	syslog_open(struct syslog_frame *, const struct syslog_hdr *,
	    enum framing, struct buf *out, size_t *hlenp);
int	syslog_close(const struct syslog_frame *, struct buf *out);

#endif
