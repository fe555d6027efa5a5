/* test_jscan.c: lib/jscan, the strict checker and the walker. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jscan.h"
#include "rec_decode.h"
#include "unit.h"
#include "utf8.h"

static int
check(const char *s)
{
	struct jscan_val	 v;

	return jscan_check(s, strlen(s), &v);
}

/* A string n containers deep: "[[...]]" or {"a":{"a":...}}. */
static char *
nest(size_t n, bool object)
{
	char	*s = malloc(n * 6 + 2), *p = s;
	size_t	 i;

	if (s == NULL)
		abort();
	for (i = 0; i < n; i++)
		p = stpcpy(p, object ? "{\"a\":" : "[");
	if (object)
		*p++ = '1';
	for (i = 0; i < n; i++)
		*p++ = object ? '}' : ']';
	*p = '\0';
	return s;
}

START_TEST(test_grammar)
{
	static const char *const good[] = {
		"{}", "[]", " {\"a\" : [1, -0, 0.5, -1e+9, 2E-3, true, false, "
		"null, \"\\u00e9\\\"\"] } \r\n", "\"x\"", "0", "-1.25e10",
		"\"raw\ttab\"", "[\"\\ud800\"]",
	};
	static const char *const bad[] = {
		"", " ", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[,1]",
		"{'a':1}", "{a:1}", "01", "-", "1.", ".5", "1e", "1e+", "+1",
		"NaN", "Infinity", "tru", "nulll", "\"\\x\"", "\"\\u12g4\"",
		"\"open", "[1]]", "{} {}", "[1] x", "\"a\\\"", "[\"\\u00\"]",
	};
	struct jscan_val	 v;
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(check(good[i]) == 0, "refused: %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(check(bad[i]) == -1, "accepted: %s", bad[i]);
	ck_assert_int_eq(jscan_check("[\"a\0b\"]", 7, &v), -1); /* raw NUL */
}
END_TEST

START_TEST(test_depth)
{
	char	*s;

	s = nest(JSCAN_MAX_DEPTH, false);	/* innermost empty */
	ck_assert_int_eq(check(s), 0);
	free(s);
	s = nest(JSCAN_MAX_DEPTH + 1, false);
	ck_assert_int_eq(check(s), -1);
	free(s);
	s = nest(JSCAN_MAX_DEPTH - 1, true);	/* 1 inside 31 objects */
	ck_assert_int_eq(check(s), 0);
	free(s);
	s = nest(JSCAN_MAX_DEPTH, true);
	ck_assert_int_eq(check(s), -1);
	free(s);
}
END_TEST

/* The walker sees each member once, with its exact span. */
START_TEST(test_walk)
{
	static const char s[] = "{ \"a\" : \"x\\\"}\\\\\" , \"b\":[1,{\"c\":"
	    "\"]\"}], \"n\": -12345678901234567890123 ,\"e\":{}}";
	struct jscan_val	 root, k, v, e;
	struct jscan_iter	 it, ia;
	char			 buf[64];
	int64_t			 i;
	int			 n = 0;

	ck_assert_int_eq(jscan_check(s, sizeof(s) - 1, &root), 0);
	ck_assert_int_eq(root.type, JSCAN_OBJECT);
	jscan_open(&it, &root);
	while (jscan_member(&it, &k, &v)) {
		n++;
		if (jscan_eq(&k, "a")) {
			ck_assert_int_eq(v.type, JSCAN_STRING);
			jscan_str(&v, buf);
			ck_assert_str_eq(buf, "x\"}\\");
		} else if (jscan_eq(&k, "b")) {
			ck_assert_int_eq(v.type, JSCAN_ARRAY);
			jscan_open(&ia, &v);
			ck_assert(jscan_elem(&ia, &e) && e.type == JSCAN_NUMBER);
			ck_assert(jscan_int(&e, &i) && i == 1);
			ck_assert(jscan_elem(&ia, &e) && e.type == JSCAN_OBJECT);
			ck_assert_uint_eq(e.n, 9);
			ck_assert(!jscan_elem(&ia, &e));
		} else if (jscan_eq(&k, "n")) {
			ck_assert(jscan_is_int(&v));
			ck_assert(!jscan_int(&v, &i));	/* past int64 */
			ck_assert_uint_eq(v.n, 24);
		} else {
			ck_assert(jscan_eq(&k, "e"));
			ck_assert_int_eq(v.type, JSCAN_OBJECT);
			jscan_open(&ia, &v);
			ck_assert(!jscan_member(&ia, &k, &e));
		}
	}
	ck_assert_int_eq(n, 4);
}
END_TEST

/* A walk with the checker's tape finds the same values as one without. */
START_TEST(test_tape)
{
	static const char *const docs[] = {
		"{ \"a\" : \"x\\\"}\\\\\" , \"b\":[1,{\"c\":\"]\"}], \"e\":{}}",
		"[[[[]]],{\"a\":[{},{\"b\":[1,2,{\"c\":\"}]\"}]}]} ,[ ] ]",
		"{\"k\\\"{\":{\"[\":[\"\\\\\",{}]}}",
	};
	struct jscan_tape	 t;
	struct jscan_val	 v;
	struct buf		 a, b;
	char			*s;
	size_t			 i, used;
	FILE			*f;
	char			 line[65536];

	buf_init(&a, 0);
	buf_init(&b, 0);
	ck_assert_ptr_nonnull(f = fopen(FIXTURE("events/all.jsonl"), "r"));
	for (i = 0; ; i++) {
		if (i < sizeof(docs) / sizeof(docs[0]))
			s = strdup(docs[i]);
		else if (fgets(line, sizeof(line), f) != NULL)
			s = strdup(line);
		else
			break;
		ck_assert_ptr_nonnull(s);
		ck_assert_ptr_nonnull(t.close = calloc(strlen(s) + 1,
		    sizeof(*t.close)));
		t.base = s;
		buf_reset(&a);
		buf_reset(&b);
		ck_assert_int_eq(jscan_value(s, strlen(s), &v, &used), 0);
		ck_assert_ptr_null(v.tape);
		dec_jscan_dump(s, &v, &a);
		ck_assert_int_eq(jscan_value_tape(s, strlen(s), &v, &used, &t),
		    0);
		ck_assert_ptr_eq(v.tape, &t);
		dec_jscan_dump(s, &v, &b);
		ck_assert_uint_gt(a.len, 0);
		ck_assert_str_eq(a.data, b.data);
		free(t.close);
		free(s);
	}
	ck_assert_uint_ge(i, 25);
	fclose(f);
	buf_free(&a);
	buf_free(&b);
}
END_TEST

/* Escapes undone; \u0000 left out; a lone surrogate is U+FFFD. */
START_TEST(test_unescape)
{
	static const char s[] = "\"a\\u0000b\\ud83d\\ude00\\ud800c\\/\\t\\u00e9\"";
	struct jscan_val	 v;
	char			 buf[sizeof(s)];
	size_t			 n;

	ck_assert_int_eq(jscan_check(s, sizeof(s) - 1, &v), 0);
	n = jscan_str(&v, buf);
	ck_assert_uint_eq(n, strlen(buf));
	ck_assert_str_eq(buf, "ab\xf0\x9f\x98\x80\xef\xbf\xbd" "c/\t\xc3\xa9");
	ck_assert(!jscan_eq(&v, "ab"));
}
END_TEST

START_TEST(test_ints)
{
	static const struct {
		const char	*s;
		bool		 ok;
		int64_t		 v;
	} c[] = {
		{ "9223372036854775807", true, INT64_MAX },
		{ "-9223372036854775808", true, INT64_MIN },
		{ "9223372036854775808", false, 0 },
		{ "-9223372036854775809", false, 0 },
		{ "18446744073709551616", false, 0 },
		{ "-0", true, 0 }, { "1.0", false, 0 }, { "1e2", false, 0 },
	};
	struct jscan_val	 v;
	int64_t			 i;
	size_t			 k;

	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		ck_assert_int_eq(jscan_check(c[k].s, strlen(c[k].s), &v), 0);
		ck_assert_msg(jscan_int(&v, &i) == c[k].ok, "%s", c[k].s);
		if (c[k].ok)
			ck_assert(i == c[k].v);
	}
}
END_TEST

/*
 * Strings and UTF-8 are crossed 16 or 8 bytes at a time, then byte by
 * byte: a stop byte or a bad sequence at any place of a run of any length
 * (across those boundaries) gives the byte-by-byte verdict.
 */
START_TEST(test_runs)
{
	struct jscan_val v, e;
	struct jscan_iter it;
	char		 s[64], out[64];
	size_t		 len, pos, n;

	for (len = 1; len <= 40; len++)
		for (pos = 0; pos < len; pos++) {
			/* ["aaa\naaa"]: an escape anywhere */
			memset(s, 0, sizeof(s));
			s[0] = '[';
			s[1] = '"';
			memset(s + 2, 'a', len + 1);
			s[2 + pos] = '\\';
			s[3 + pos] = 'n';
			strcpy(s + 3 + len, "\"]");
			n = strlen(s);
			ck_assert_int_eq(jscan_check(s, n, &v), 0);
			jscan_open(&it, &v);
			ck_assert(jscan_elem(&it, &e));
			ck_assert_uint_eq(jscan_str(&e, out), len);
			ck_assert_int_eq(out[pos], '\n');
			/* a bad escape, then a raw NUL, at the same place */
			s[3 + pos] = 'q';
			ck_assert_int_eq(jscan_check(s, n, &v), -1);
			s[2 + pos] = '\0';
			s[3 + pos] = 'a';
			ck_assert_int_eq(jscan_check(s, n, &v), -1);
			/* a raw control byte there is let through */
			s[2 + pos] = '\x01';
			ck_assert_int_eq(jscan_check(s, n, &v), 0);
			/* UTF-8: a good pair, a lone continuation, a NUL */
			memset(s, 'a', len + 1);
			s[pos] = (char)0xc3;
			s[pos + 1] = (char)0xa9;
			ck_assert(utf8_valid(s, len + 1));
			s[pos + 1] = 'a';
			s[pos] = (char)0x80;
			ck_assert(!utf8_valid(s, len + 1));
			s[pos] = '\0';
			ck_assert(!utf8_valid(s, len + 1));
			s[pos] = 'a';
			ck_assert(utf8_valid(s, len + 1));
		}
}
END_TEST

/* jscan_plain finds each stop byte at every place of runs up to 40
 * bytes, and lets bytes from 0x80 and 0x20..0x7e (but '"', '\\') pass. */
START_TEST(test_plain)
{
	static const unsigned char stops[] = { '"', '\\', 0x00, 0x01, 0x0a,
	    0x1f };
	unsigned char	 s[48];
	size_t		 len, pos, i;
	const char	*b = (const char *)s;

	for (len = 1; len <= 40; len++) {
		for (i = 0; i < len; i++)	/* plain bytes of every kind */
			s[i] = (unsigned char)(i % 3 == 0 ? 0x20 + i :
			    i % 3 == 1 ? 0x80 + i : 0x7e);
		ck_assert_ptr_eq(jscan_plain(b, b + len), b + len);
		for (pos = 0; pos < len; pos++)
			for (i = 0; i < sizeof(stops); i++) {
				unsigned char	 keep = s[pos];

				s[pos] = stops[i];
				ck_assert_ptr_eq(jscan_plain(b, b + len),
				    b + pos);
				/* a stop past end is not looked at */
				ck_assert_ptr_eq(jscan_plain(b, b + pos),
				    b + pos);
				s[pos] = keep;
			}
	}
}
END_TEST

Suite *
suite_jscan(void)
{
	Suite	*s = suite_create("jscan");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_grammar);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_walk);
	tcase_add_test(tc, test_tape);
	tcase_add_test(tc, test_unescape);
	tcase_add_test(tc, test_ints);
	tcase_add_test(tc, test_runs);
	tcase_add_test(tc, test_plain);
	suite_add_tcase(s, tc);
	return s;
}
