/* test_esc.c: peer text escaped for the log (lib/esc.c). */
#include <string.h>

#include "compat.h"
#include "esc.h"
#include "unit.h"

START_TEST(test_esc_table)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*want;
	} c[] = {
		{ "plain text", 10, "plain text" },
		/* a newline and a priority prefix: a forged journal line */
		{ "x\n<3>forged", 11, "x\\x0a<3>forged" },
		{ "a\r\tb\x1b[31m", 9, "a\\x0d\\x09b\\x1b[31m" },
		{ "nul\0in", 6, "nul\\x00in" },
		{ "del\x7f", 4, "del\\x7f" },
		{ "back\\slash", 10, "back\\\\slash" },
		/* C1 (NEL U+0085, CSI U+009B) escaped; U+00A0 and up kept */
		{ "\xc2\x85\xc2\x9b\xc2\xa0\xc3\xa9", 8,
		  "\\xc2\\x85\\xc2\\x9b\xc2\xa0\xc3\xa9" },
		{ "\xe2\x82\xac \xf0\x9f\x90\x87", 8,
		  "\xe2\x82\xac \xf0\x9f\x90\x87" },
		/* invalid UTF-8: lone bytes, overlong, surrogate, truncated */
		{ "\xff\xfe", 2, "\\xff\\xfe" },
		{ "\xc0\x8a", 2, "\\xc0\\x8a" },
		{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" },
		{ "ok\xe2\x82", 4, "ok\\xe2\\x82" },
		{ "\x80x", 2, "\\x80x" },
		{ "", 0, "" },
	};
	char	 out[128];
	size_t	 i;

	for (i = 0; i < nitems(c); i++)
		ck_assert_msg(strcmp(esc_peer(out, sizeof(out), c[i].in,
		    c[i].len), c[i].want) == 0, "case %zu: %s", i, out);
}
END_TEST

/* Too small: whole escapes only, "..." at the end, always terminated. */
START_TEST(test_esc_bounds)
{
	char	 out[ESC_SIZE(4)], small[9];

	ck_assert_str_eq(esc_peer(out, sizeof(out), "\n\n\n\n", 4),
	    "\\x0a\\x0a\\x0a\\x0a");
	ck_assert_str_eq(esc_peer(small, sizeof(small), "\n\n\n\n", 4),
	    "\\x0a...");
	ck_assert_str_eq(esc_peer(small, sizeof(small), "abcdefgh", 8),
	    "abcdefgh");
	ck_assert_str_eq(esc_peer(small, sizeof(small), "abcdefghi", 9),
	    "abcde...");
	ck_assert_str_eq(esc_peer(small, sizeof(small), "ab\xe2\x82\xac"
	    "cdefg", 10), "ab\xe2\x82\xac...");
	ck_assert_str_eq(esc_peer(small, 1, "abc", 3), "");
	ck_assert_str_eq(esc_peer(small, 3, "abc", 3), "ab");
}
END_TEST

Suite *
suite_esc(void)
{
	Suite	*s = suite_create("esc");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_esc_table);
	tcase_add_test(tc, test_esc_bounds);
	suite_add_tcase(s, tc);
	return s;
}
