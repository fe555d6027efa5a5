/*
 * rec_decode.h: strict in-tree decoders of CEF and LEEF 2.0 records for the
 * tests (header fields + key/value pairs, unescaped per the specs), and an
 * oracle check of a decoded record against the expected event values.
 */
#ifndef AMPSTREAM_REC_DECODE_H
#define AMPSTREAM_REC_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "corr.h"

#define DEC_MAX_HDR	8
#define DEC_MAX_KV	96

struct buf;

struct dec_rec {
	char		*hdr[DEC_MAX_HDR];
	size_t		 nhdr;
	char		*key[DEC_MAX_KV];
	char		*val[DEC_MAX_KV];
	size_t		 n;
	const char	*err;		/* why decoding failed */
	bool		 cut;		/* near max_len: optional keys may go */
};

/* One expected key: the raw (unsanitised) value, NULL if absent. */
struct dec_want {
	const char	*key;
	const char	*raw;
	const char	*label_key;
	const char	*label;
	bool		 variable;	/* may come back cut, ending in "..." */
	bool		 optional;	/* may be left out of a record cut to fit */
};

/* Turn a raw value into what the format should carry (appended to out). */
typedef void	(*dec_sanitize_fn)(const char *, struct buf *);

/* Decode a record (no syslog header, no newline).  0, or -1 with r->err. */
int	 cef_decode(const char *, struct dec_rec *);
int	 leef_decode(const char *, struct dec_rec *);
void	 dec_free(struct dec_rec *);
const char *dec_get(const struct dec_rec *, const char *key);
/*
 * Check with Check's asserts that r holds exactly the wanted keys whose
 * sanitised value is not empty (plus their labels), each equal to it (or a
 * prefix of it plus "..." for a variable one).
 */
void	 dec_check(const struct dec_rec *, const struct dec_want *, size_t,
	    dec_sanitize_fn);
#include "event.h"

struct format_ctx;
struct format_ops;
struct json_object;

/* A test event and the body it was parsed from. */
struct tev {
	struct amp_event ev;
	char		*body;
};

/* tests/fixtures/events/<name> as a json-c object (the caller owns it). */
struct json_object *fixture_obj(const char *name);
/* Set the string at a dotted path ("computer.hostname"), creating objects;
 * value NULL removes the member. */
void	 set_str(struct json_object *, const char *path, const char *value,
	    size_t len);
/* Serialize o and parse it as a received event; o is released. */
void	 tev_from(struct tev *, struct json_object *);
void	 tev_free(struct tev *);

/*
 * Format ev with ops (cef or leef) under ctx, check the record fits
 * ctx->max_len, decode it, check its header and every key against the
 * oracle; returns the record (the caller frees it).
 */
char	*dec_roundtrip(const struct format_ops *, const struct amp_event *,
	    const struct format_ctx *);
/*
 * Round-trip every event of tests/fixtures/events/all.jsonl (alone and as
 * a matched outcome) and a set of hostile values through ops; each record
 * is appended to lines (if not NULL) with a newline.  Returns the count.
 */
size_t	 dec_roundtrip_fixtures(const struct format_ops *, struct buf *lines);
size_t	 dec_roundtrip_hostile(const struct format_ops *, struct buf *lines);
struct jscan_val;
/* Every value under v as "type@offset+length;" (offsets from base): two
 * walks of one text compare equal when they see the same values. */
void	 dec_jscan_dump(const char *base, const struct jscan_val *,
	    struct buf *);
/* A detection for correlation tests, filled with fixed values. */
void	 dec_detection(struct corr_detection *);

/* Storage for the numbers and times of an oracle. */
struct dec_nums {
	char		 s[16][40];
	size_t		 n;
};

/*
 * The oracle: every key CEF (leef false) or LEEF should carry for ev under
 * ctx, with the raw event value, written independently of the formatters
 * from docs/records.md.  Returns the number of entries written to w
 * (room for DEC_MAX_KV).
 */
size_t	 dec_wants(const struct amp_event *, const struct format_ctx *,
	    bool leef, struct dec_want *w, struct dec_nums *);

/* The sanitisers of the two formats' values and of a CEF header field. */
void	 dec_cef_value(const char *, struct buf *);
void	 dec_cef_header(const char *, struct buf *);
void	 dec_leef_value(const char *, struct buf *);

#endif
