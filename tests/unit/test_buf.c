/* test_buf.c: the bounded buffer. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

START_TEST(test_append_and_bound)
{
	struct buf	 b;

	buf_init(&b, 8);
	ck_assert_int_eq(buf_puts(&b, "abcd"), 0);
	ck_assert_int_eq(buf_printf(&b, "%d", 123), 0);
	ck_assert_str_eq(b.data, "abcd123");
	ck_assert_int_eq(buf_puts(&b, "xy"), -1);	/* 9 > 8 */
	ck_assert_str_eq(b.data, "abcd123");
	ck_assert_int_eq(buf_putc(&b, 'z'), 0);
	ck_assert_uint_eq(b.len, 8);
	buf_free(&b);
}
END_TEST

START_TEST(test_release)
{
	struct buf	 b;
	size_t		 len;
	char		*p;

	buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_puts(&b, "0123456789"), 0);
	p = buf_release(&b, &len);
	ck_assert_uint_eq(len, 10000);
	ck_assert_uint_eq(strlen(p), 10000);
	ck_assert_ptr_null(b.data);
	free(p);
}
END_TEST

Suite *
suite_buf(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_append_and_bound);
	tcase_add_test(tc, test_release);
	suite_add_tcase(s, tc);
	return s;
}
