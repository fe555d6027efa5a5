/*
 * fmt_kv.h: what the key=value formatters (CEF, LEEF) share: a record as a
 * header plus an ordered list of (key, value) pairs, the encoding of a
 * value (UTF-8 checked, trimmed; plain bytes copied in runs, the others
 * through a per-dialect callback), and fitting a record into a size cap by
 * cutting the longest values to a common cap, marked with "...".  A record
 * is written in one pass; only one that does not fit is encoded again,
 * value by value, to be cut.  The fitting (fmt_fit) is also used by the
 * JSON formatter for its string values.  Pure functions.
 */
#ifndef AMPSTREAM_FMT_KV_H
#define AMPSTREAM_FMT_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define FMT_KV_MAX	64
#define FMT_CAP_MIN	128	/* values cut shorter: optional pairs go first */
#define FMT_ELLIPSIS	"..."

/* Append one ASCII byte (< 0x80) of a value, escaped, replaced or dropped. */
typedef void	(*fmt_char_fn)(struct buf *, unsigned char);
/* Bytes of the unit (escape or character) that starts at p, at least 1. */
typedef size_t	(*fmt_unit_fn)(const unsigned char *p);

/*
 * How a field's bytes are written: plain[c] is true for the ASCII bytes
 * copied as they are (never NUL, nor a byte from 0x80: one lookup a byte
 * tells a run's end); the other ASCII bytes go through fn (escaped,
 * replaced or dropped).  Bytes from 0x80 are UTF-8, checked.
 */
struct fmt_charset {
	const bool	*plain;		/* [256] */
	fmt_char_fn	 fn;
};

struct fmt_dialect {
	char		 sep;		/* between pairs */
	struct fmt_charset value;	/* how a value is encoded */
	fmt_unit_fn	 unit;		/* where an encoded value may be cut */
};

struct fmt_pair {
	const char	*key;
	const char	*label_key;	/* "cs1Label" ..., or NULL */
	const char	*label;
	bool		 variable;	/* from the event: may be truncated */
	const char	*value;		/* as the event has it */
};

struct fmt_kv {
	const struct fmt_dialect *d;
	struct buf	 hdr;		/* the header, as it is emitted */
	struct fmt_pair	 pairs[FMT_KV_MAX];
	size_t		 n;
	size_t		 firm;		/* pairs before it are never dropped */
};

/* A piece of text that may be cut (JSON string values). */
struct fmt_span {
	const char	*s;
	size_t		 len;
};

void	fmt_kv_init(struct fmt_kv *, const struct fmt_dialect *);
void	fmt_kv_free(struct fmt_kv *);
/* Add key=value (label_key=label first if not NULL); an absent value, or
 * one empty once encoded, is left out.  value must live until emitted. */
void	fmt_kv_add(struct fmt_kv *, const char *key, const char *label_key,
	    const char *label, const char *value, bool variable);
/* Append header and pairs to out within max_len bytes (0: no cap), cutting
 * the longest variable values first.  Returns 0, or -1 (out unchanged). */
int	fmt_kv_emit(struct fmt_kv *, size_t max_len, struct buf *out);
/* The pairs added from now on may be dropped to fit, the last first. */
void	fmt_kv_optional(struct fmt_kv *);

/* Append s encoded (invalid UTF-8 bytes become '?'), then trim spaces. */
int	fmt_encode(struct buf *, const char *, const struct fmt_charset *);
/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
size_t	fmt_utf8_len(const unsigned char *);
/* A unit is a UTF-8 character (an invalid byte alone). */
size_t	fmt_unit_char(const unsigned char *);
/* The longest prefix of s (len bytes) of at most limit bytes made of whole
 * units. */
size_t	fmt_cut(const char *s, size_t len, size_t limit, fmt_unit_fn);
/* Length of s once capped to cap bytes ("..." included if cut). */
size_t	fmt_capped_len(const char *s, size_t len, size_t cap, fmt_unit_fn);
/*
 * The largest cap with fixed + the capped spans <= budget, in *capp (the
 * longest span when nothing needs cutting).  Returns 0, or -1 if even the
 * smallest cap does not fit.
 */
int	fmt_fit(const struct fmt_span *, size_t n, size_t fixed, size_t budget,
	    fmt_unit_fn, size_t *capp);

#endif
