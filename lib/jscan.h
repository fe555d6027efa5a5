/*
 * jscan.h: a strict JSON checker, and a walker over checked text.
 *
 * jscan_check() reads a text once, builds no tree and allocates nothing.
 * The walker then visits only the members a caller asks for, as spans of
 * the text: a number keeps its exact digits, a string is unescaped only
 * when asked.  The walker assumes text that jscan_check() accepted.
 */
#ifndef AMPSTREAM_JSCAN_H
#define AMPSTREAM_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * No value may have JSCAN_MAX_DEPTH arrays and objects around it: 32
 * nested arrays pass only if the innermost is empty (json-c's limit).
 */
#define JSCAN_MAX_DEPTH	32

enum jscan_type {
	JSCAN_NONE,
	JSCAN_OBJECT,
	JSCAN_ARRAY,
	JSCAN_STRING,
	JSCAN_NUMBER,
	JSCAN_TRUE,
	JSCAN_FALSE,
	JSCAN_NULL,
};

/*
 * Where the strings, objects and arrays of a checked text end, so that the
 * walker steps over a value without reading it again: close[i] is the
 * offset just past the quote or bracket that closes the one opening at
 * offset i of base (only the entries of opening ones are written).
 */
struct jscan_tape {
	const char	*base;
	uint32_t	*close;		/* room for one entry per byte */
};

/*
 * One value, as a span of the text: for a string, what lies between the
 * quotes (escapes not undone); for the others, the value's own bytes.
 */
struct jscan_val {
	enum jscan_type	 type;
	const char	*p;
	size_t		 n;
	const struct jscan_tape *tape;	/* of its text, or NULL */
};

struct jscan_iter {
	const char	*p;
	const char	*end;
	const struct jscan_tape *tape;
};

/*
 * Check that s[0..len) starts with one JSON value (RFC 8259), after
 * optional whitespace, nested less than JSCAN_MAX_DEPTH deep.  Raw control
 * characters inside strings are let through as json-c lets them (but
 * NUL), and bytes above 0x7f are not checked: check the UTF-8 first.
 * Returns 0 with *v set and *used the bytes read (the value and the
 * whitespace around it), or -1.
 */
int	jscan_value(const char *s, size_t len, struct jscan_val *v,
	    size_t *used);
/* jscan_value, filling t (base s, room for len entries, len < 4 GiB). */
int	jscan_value_tape(const char *s, size_t len, struct jscan_val *v,
	    size_t *used, struct jscan_tape *t);
/* jscan_value, and nothing but whitespace after the value. */
int	jscan_check(const char *s, size_t len, struct jscan_val *root);

/* Walk the members of an object, or the elements of an array. */
void	jscan_open(struct jscan_iter *, const struct jscan_val *);
bool	jscan_member(struct jscan_iter *, struct jscan_val *key,
	    struct jscan_val *val);
bool	jscan_elem(struct jscan_iter *, struct jscan_val *);

/* Is this string value (an object key, say) equal to the C string s? */
bool	jscan_eq(const struct jscan_val *, const char *s);
/*
 * Write a string value unescaped to dst, which has room for v->n + 1
 * bytes, NUL-terminated; an escaped NUL ("\u0000") is left out, a lone
 * surrogate becomes U+FFFD.  Returns the length written.
 */
size_t	jscan_str(const struct jscan_val *, char *dst);
/* An integer number (no fraction, no exponent) that int64_t holds. */
bool	jscan_int(const struct jscan_val *, int64_t *);
/* True if the value is an integer number: digits with an optional '-'. */
bool	jscan_is_int(const struct jscan_val *);
/* The first byte from p on that a JSON string cannot hold as it is ('"',
 * '\\' or a control byte below 0x20, NUL too), or end. */
const char *jscan_plain(const char *p, const char *end);

#endif
