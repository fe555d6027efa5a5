/* test_buf.c: the bounded buffer. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "dec.h"
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

/* Room reserved up front: the appends that fit it never move the bytes. */
START_TEST(test_reserve)
{
	struct buf	 b;
	char		*at;
	int		 i;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_reserve(&b, 5000), 0);
	ck_assert_uint_ge(b.cap, 5001);
	ck_assert_uint_eq(b.len, 0);
	at = b.data;
	for (i = 0; i < 500; i++)
		ck_assert_int_eq(buf_puts(&b, "0123456789"), 0);
	ck_assert_ptr_eq(b.data, at);
	ck_assert_uint_eq(b.len, 5000);
	buf_free(&b);
	buf_init(&b, 100);		/* never past the bound */
	ck_assert_int_eq(buf_reserve(&b, 101), -1);
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(buf_reserve(&b, 100), 0);
	buf_free(&b);
}
END_TEST

/* dec_i64 and dec_iso write what printf and strftime would. */
START_TEST(test_dec)
{
	static const int64_t v[] = { 0, 7, -7, 10, 99, 1000, -1000,
	    1610618799657LL, INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	static const int64_t t[] = { 0, 1, 951782400, 1610618799,
	    253402300799LL };
	char		 got[DEC_I64_SIZE], want[64], iso[DEC_ISO_LEN + 1];
	struct tm	 tm;
	time_t		 sec;
	size_t		 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(want, sizeof(want), "%" PRId64, v[i]);
		ck_assert_uint_eq(dec_i64(got, v[i]), strlen(want));
		ck_assert_str_eq(got, want);
	}
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sec = (time_t)t[i];
		ck_assert_ptr_nonnull(gmtime_r(&sec, &tm));
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + strlen(want), 8, ".%03d", (int)(i * 37));
		ck_assert_ptr_eq(dec_iso(iso, &tm, (int)(i * 37)),
		    iso + DEC_ISO_LEN);
		iso[DEC_ISO_LEN] = '\0';
		ck_assert_str_eq(iso, want);
	}
	tm.tm_year = 10000 - 1900;	/* five digits: the caller's printf */
	ck_assert_ptr_null(dec_iso(iso, &tm, 0));
	tm.tm_year = -1901;
	ck_assert_ptr_null(dec_iso(iso, &tm, 0));
}
END_TEST

/* clock_gmtime gives what gmtime_r gives, in every month and era. */
START_TEST(test_gmtime)
{
	static const int64_t t[] = { 0, -1, 59, 86399, 86400, -86400,
	    -86401, 951782400, 951868800, 4107456000LL, 4107542400LL,
	    1610618799, 253402300799LL, 253402300800LL, -62167219200LL,
	    -62167219201LL, 9223372036854775LL, -9223372036854775LL };
	struct tm	 got, want;
	time_t		 sec;
	int64_t		 s;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]) + 20000; i++) {
		/* the list, then days and odd seconds across 1600..2400 */
		s = i < sizeof(t) / sizeof(t[0]) ? t[i] :
		    -11676096000LL + (int64_t)(i * 1262304) + (int64_t)i % 86400;
		sec = (time_t)s;
		ck_assert_ptr_nonnull(gmtime_r(&sec, &want));
		clock_gmtime(s, &got);
		ck_assert_msg(got.tm_year == want.tm_year &&
		    got.tm_mon == want.tm_mon && got.tm_mday == want.tm_mday &&
		    got.tm_hour == want.tm_hour && got.tm_min == want.tm_min &&
		    got.tm_sec == want.tm_sec && got.tm_wday == want.tm_wday &&
		    got.tm_yday == want.tm_yday, "%" PRId64 ": %d-%d-%d %d:%d:%d "
		    "w%d y%d", s, got.tm_year, got.tm_mon, got.tm_mday,
		    got.tm_hour, got.tm_min, got.tm_sec, got.tm_wday,
		    got.tm_yday);
	}
}
END_TEST

Suite *
suite_buf(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_append_and_bound);
	tcase_add_test(tc, test_release);
	tcase_add_test(tc, test_reserve);
	tcase_add_test(tc, test_dec);
	tcase_add_test(tc, test_gmtime);
	suite_add_tcase(s, tc);
	return s;
}
