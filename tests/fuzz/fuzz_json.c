/*
 * fuzz_json.c: lib/jscan against json-c (strict), on the same bytes.
 *
 * The daemon reads events with jscan; json-c read them before, and the
 * JSON formatter and the tests still use it.  Both must give the same
 * verdict on every input (valid UTF-8 without NUL bytes: event_read
 * refuses the rest before either parser sees it), and, for an object,
 * the same members: each string member unescaped the same (json-c keeps
 * an escaped NUL, jscan drops it), each integer the same value when
 * int64 holds it.  Where jscan is knowingly stricter: see json_c_lax().
 * A walk with the checker's tape (the daemon's) sees every value a walk
 * without it sees, at the same place.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "jscan.h"
#include "rec_decode.h"
#include "utf8.h"
#include "fuzz_util.h"

static bool	 json_c_lax(const char *, size_t);
static struct json_object *jsonc(const char *, size_t, bool *);
static void	 same_members(const struct jscan_val *, struct json_object *);
static void	 same_string(const struct jscan_val *, struct json_object *);
static bool	 repeated_later(const struct jscan_iter *, const char *);
static void	 same_with_tape(const char *, size_t, const struct jscan_val *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*s = (const char *)data;
	struct jscan_val	 v;
	struct json_object	*o;
	bool			 ok_c, ok_j;

	if (size == 0 || !utf8_valid(s, size))
		return 0;
	o = jsonc(s, size, &ok_c);
	ok_j = jscan_check(s, size, &v) == 0;
	if (ok_c && !ok_j && json_c_lax(s, size)) {
		json_object_put(o);
		return 0;
	}
	FZ_CHECK(ok_c == ok_j, "verdicts differ: json-c %d, jscan %d", ok_c,
	    ok_j);
	if (ok_j)
		same_with_tape(s, size, &v);
	/* json-c cuts a key at an escaped NUL: "a\u0000b" is its "a". */
	if (ok_j && v.type == JSCAN_OBJECT && memmem(s, size, "\\u0000",
	    6) == NULL)
		same_members(&v, o);
	json_object_put(o);
	return 0;
}

/*
 * What json-c takes in strict mode but RFC 8259 (and jscan) does not: the
 * numbers NaN, Infinity, with a leading zero ("00", "-01") or a point
 * without a digit on both sides ("0.", "1.e5", "-.5"); an object key in
 * single quotes.  jscan is stricter there: such a body is dead-lettered as
 * "not JSON" (no AMP event is written so).  True if s holds one outside a
 * string.
 */
static bool
json_c_lax(const char *s, size_t n)
{
	size_t	 i;
	bool	 in_str = false;

#define DIG(c)	((c) >= '0' && (c) <= '9')
	for (i = 0; i < n; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = false;
			continue;
		}
		if (s[i] == '"')
			in_str = true;
		else if (s[i] == '\'' ||
		    (n - i >= 3 && memcmp(s + i, "NaN", 3) == 0) ||
		    (n - i >= 8 && memcmp(s + i, "Infinity", 8) == 0) ||
		    (s[i] == '.' && (i + 1 == n || !DIG(s[i + 1]) || i == 0 ||
		    !DIG(s[i - 1]))) ||
		    (s[i] == '0' && i + 1 < n && DIG(s[i + 1]) &&
		    (i == 0 || strchr("0123456789.eE+", s[i - 1]) == NULL)))
			return true;
	}
#undef DIG
	return false;
}

/* json-c's strict verdict on the whole input: one value, space after. */
static struct json_object *
jsonc(const char *s, size_t n, bool *ok)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 err;
	size_t			 end, i;

	if ((tok = json_tokener_new()) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_ALLOW_TRAILING_CHARS);
	o = json_tokener_parse_ex(tok, s, (int)n);
	end = json_tokener_get_parse_end(tok);
	if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue) {
		o = json_tokener_parse_ex(tok, "", 1);
		end = n;
	}
	err = json_tokener_get_error(tok);
	json_tokener_free(tok);
	*ok = err == json_tokener_success;
	for (i = end; *ok && i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			*ok = false;
	return o;
}

/* Each member jscan sees has the value json-c kept (the last of a name). */
static void
same_members(const struct jscan_val *obj, struct json_object *o)
{
	struct jscan_iter	 it;
	struct jscan_val	 k, v;
	struct json_object	*c;
	char			*key;
	int64_t			 i;

	FZ_CHECK(json_object_is_type(o, json_type_object), "not an object");
	jscan_open(&it, obj);
	while (jscan_member(&it, &k, &v)) {
		key = malloc(k.n + 1);
		jscan_str(&k, key);
		if (strlen(key) != k.n || memchr(k.p, '\\', k.n) != NULL) {
			free(key);	/* escaped keys: json-c keeps NULs */
			continue;
		}
		FZ_CHECK(json_object_object_get_ex(o, key, &c), "no %s", key);
		if (repeated_later(&it, key)) {
			free(key);	/* json-c keeps the last one */
			continue;
		}
		free(key);
		if (v.type == JSCAN_STRING && json_object_is_type(c,
		    json_type_string))
			same_string(&v, c);
		if (jscan_int(&v, &i) && json_object_is_type(c, json_type_int))
			FZ_CHECK(json_object_get_int64(c) == i, "int differs");
	}
}

/* Does a member after the iterator's place have this name? */
static bool
repeated_later(const struct jscan_iter *at, const char *key)
{
	struct jscan_iter	 it = *at;
	struct jscan_val	 k, v;

	while (jscan_member(&it, &k, &v))
		if (jscan_eq(&k, key))
			return true;
	return false;
}

static void
same_string(const struct jscan_val *v, struct json_object *c)
{
	const char	*s = json_object_get_string(c);
	size_t		 n = (size_t)json_object_get_string_len(c), i, j;
	char		*mine = malloc(v->n + 1), *theirs = malloc(n + 1);
	size_t		 len;

	if (mine == NULL || theirs == NULL)
		abort();
	for (i = j = 0; i < n; i++)
		if (s[i] != '\0')
			theirs[j++] = s[i];
	theirs[j] = '\0';
	len = jscan_str(v, mine);
	FZ_CHECK(len == j && memcmp(mine, theirs, j) == 0,
	    "string differs: \"%s\" vs \"%s\"", mine, theirs);
	free(mine);
	free(theirs);
}

static void
same_with_tape(const char *s, size_t size, const struct jscan_val *v)
{
	struct jscan_tape	 t;
	struct jscan_val	 tv;
	struct buf		 a, b;
	size_t			 used;

	t.base = s;
	if ((t.close = calloc(size, sizeof(*t.close))) == NULL)
		abort();
	FZ_CHECK(jscan_value_tape(s, size, &tv, &used, &t) == 0 &&
	    used == size, "the check with a tape differs");
	buf_init(&a, 0);
	buf_init(&b, 0);
	dec_jscan_dump(s, v, &a);
	dec_jscan_dump(s, &tv, &b);
	FZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
	    "the walk with a tape differs");
	buf_free(&a);
	buf_free(&b);
	free(t.close);
}
