/*
 * dec.h: decimal digits without printf, for the per-record hot path
 * (numbers, ISO 8601 times).  snprintf cost more than the rest of a syslog
 * header put together.
 */
#ifndef AMPSTREAM_DEC_H
#define AMPSTREAM_DEC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DEC_I64_SIZE	21	/* "-9223372036854775808" and a NUL */
#define DEC_ISO_LEN	23	/* "2026-12-05T17:37:17.123" */

/* Write v in decimal and a NUL to dst (DEC_I64_SIZE bytes); its length. */
size_t	dec_i64(char *dst, int64_t v);
/* Write v % 10^width as exactly width digits (zero-padded); dst + width. */
char	*dec_pad(char *dst, unsigned v, int width);
/* Write "yyyy-mm-ddThh:mm:ss.mmm" (DEC_ISO_LEN bytes, no NUL) of tm and ms;
 * dst + DEC_ISO_LEN, or NULL (nothing written) for a year outside 0..9999. */
char	*dec_iso(char *dst, const struct tm *, int ms);

#endif
