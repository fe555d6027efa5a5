/* test_syslog.c: syslog headers (5424, 3164, none) and framing. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "syslog.h"
#include "unit.h"

#define T_MS		1795546800123LL	/* 2026-11-24T19:00:00.123Z */
#define REC		"CEF:0|Cisco|x|1|2|n|3|msg=a"
#define H5424		"<108>1 2026-11-24T19:00:00.123Z host1 ampstream - - - "
#define H3164		"<108>Nov 24 19:00:00 host1 ampstream: "

static struct syslog_hdr
hdr(enum syslog_style style)
{
	struct syslog_hdr	 h;

	h.style = style;
	h.facility = 13;
	h.severity = 4;
	h.hostname = "host1";
	h.app_name = "ampstream";
	h.time_ms = T_MS;
	return h;
}

/* Frame rec under h and compare with want (exact bytes). */
static void
expect(const struct syslog_hdr *h, enum framing fr, const char *rec,
    const char *want)
{
	struct buf	 out;

	buf_init(&out, 0);
	ck_assert_int_eq(syslog_frame(h, fr, rec, strlen(rec), &out), 0);
	ck_assert_uint_eq(out.len, strlen(want));
	ck_assert_str_eq(out.data, want);
	buf_free(&out);
}

START_TEST(test_styles_and_framing)
{
	struct syslog_hdr	 h;
	char			 want[512];

	h = hdr(SYSLOG_RFC5424);
	ck_assert_uint_eq(syslog_header_len(&h), strlen(H5424));
	snprintf(want, sizeof(want), "%zu %s", strlen(H5424 REC), H5424 REC);
	ck_assert_str_eq(want, "81 " H5424 REC);
	expect(&h, FRAMING_OCTET, REC, want);
	expect(&h, FRAMING_LF, REC, H5424 REC "\n");
	expect(&h, FRAMING_NONE, REC, H5424 REC);	/* a datagram */

	h = hdr(SYSLOG_RFC3164);
	ck_assert_uint_eq(syslog_header_len(&h), strlen(H3164));
	snprintf(want, sizeof(want), "%zu %s", strlen(H3164 REC), H3164 REC);
	ck_assert_str_eq(want, "65 " H3164 REC);
	expect(&h, FRAMING_OCTET, REC, want);
	expect(&h, FRAMING_LF, REC, H3164 REC "\n");
	expect(&h, FRAMING_NONE, REC, H3164 REC);

	h = hdr(SYSLOG_NONE);
	ck_assert_uint_eq(syslog_header_len(&h), 0);
	expect(&h, FRAMING_OCTET, REC, "27 " REC);
	expect(&h, FRAMING_LF, REC, REC "\n");
	expect(&h, FRAMING_NONE, REC, REC);
	expect(&h, FRAMING_NONE, "a\nb\r", "a b ");	/* still one line */
}
END_TEST

START_TEST(test_time_and_pri)
{
	struct syslog_hdr	 h = hdr(SYSLOG_RFC3164);

	h.time_ms = 1793818800000LL;	/* 2026-11-04T19:00:00Z: day padded */
	h.facility = 1;
	h.severity = 6;
	expect(&h, FRAMING_LF, "m", "<14>Nov  4 19:00:00 host1 ampstream: m\n");
	h.style = SYSLOG_RFC5424;
	h.time_ms = -1;
	h.facility = 99;		/* clamped to 23 */
	h.severity = -2;		/* clamped to 0 */
	expect(&h, FRAMING_LF, "m",
	    "<184>1 1969-12-31T23:59:59.999Z host1 ampstream - - - m\n");
	h.time_ms = 5;
	h.facility = 0;
	h.severity = 0;
	expect(&h, FRAMING_LF, "m",
	    "<0>1 1970-01-01T00:00:00.005Z host1 ampstream - - - m\n");
	h.time_ms = 253402300800007LL;	/* year 10000: five digits */
	expect(&h, FRAMING_LF, "m",
	    "<0>1 10000-01-01T00:00:00.007Z host1 ampstream - - - m\n");
}
END_TEST

START_TEST(test_names_sanitised)
{
	struct syslog_hdr	 h = hdr(SYSLOG_RFC5424);
	char			 host[301], want[600];

	h.hostname = "my host\x01\xc3\xbc";
	h.app_name = "";
	expect(&h, FRAMING_LF, "m",
	    "<108>1 2026-11-24T19:00:00.123Z my_host___ - - - - m\n");
	h.hostname = NULL;
	h.app_name = NULL;
	expect(&h, FRAMING_LF, "m",
	    "<108>1 2026-11-24T19:00:00.123Z - - - - - m\n");
	memset(host, 'h', 300);
	host[300] = '\0';
	h.hostname = host;
	h.app_name = "a-very-long-application-name-that-goes-on-and-on-and-on";
	snprintf(want, sizeof(want), "<108>1 2026-11-24T19:00:00.123Z %.255s "
	    "%.48s - - - m\n", host, h.app_name);
	expect(&h, FRAMING_LF, "m", want);
	ck_assert_uint_eq(syslog_header_len(&h), strlen(want) - 2);
	h.style = SYSLOG_RFC3164;
	snprintf(want, sizeof(want), "<108>Nov 24 19:00:00 %.255s %.32s: m\n",
	    host, h.app_name);
	expect(&h, FRAMING_LF, "m", want);
	ck_assert_uint_eq(syslog_header_len(&h), strlen(want) - 2);
}
END_TEST

START_TEST(test_lf_guard)
{
	struct syslog_hdr	 h = hdr(SYSLOG_NONE);
	struct buf		 out;
	static const char	 rec[] = "a\nb\r\nc\0d";

	/* LF framing never lets a raw CR/LF through; octet framing keeps all. */
	buf_init(&out, 0);
	ck_assert_int_eq(syslog_frame(&h, FRAMING_LF, rec, sizeof(rec) - 1,
	    &out), 0);
	ck_assert_uint_eq(out.len, sizeof(rec));
	ck_assert(memcmp(out.data, "a b  c\0d\n", out.len) == 0);
	buf_reset(&out);
	ck_assert_int_eq(syslog_frame(&h, FRAMING_OCTET, rec, sizeof(rec) - 1,
	    &out), 0);
	ck_assert(memcmp(out.data, "8 a\nb\r\nc\0d", out.len) == 0);
	buf_free(&out);
}
END_TEST

START_TEST(test_bound)
{
	struct syslog_hdr	 h = hdr(SYSLOG_RFC5424);
	struct buf		 out;

	buf_init(&out, strlen(H5424 REC) + 2);
	buf_puts(&out, "xy");
	ck_assert_int_eq(syslog_frame(&h, FRAMING_OCTET, REC, strlen(REC),
	    &out), -1);
	ck_assert_str_eq(out.data, "xy");
	ck_assert_int_eq(syslog_frame(&h, FRAMING_LF, REC, strlen(REC),
	    &out), -1);
	ck_assert_str_eq(out.data, "xy");
	buf_reset(&out);
	ck_assert_int_eq(syslog_frame(&h, FRAMING_LF, REC, strlen(REC),
	    &out), 0);
	buf_free(&out);
}
END_TEST

Suite *
suite_syslog(void)
{
	Suite	*s = suite_create("syslog");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_styles_and_framing);
	tcase_add_test(tc, test_time_and_pri);
	tcase_add_test(tc, test_names_sanitised);
	tcase_add_test(tc, test_lf_guard);
	tcase_add_test(tc, test_bound);
	suite_add_tcase(s, tc);
	return s;
}
