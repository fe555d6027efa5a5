/* test_prom.c: the Prometheus text format writer and its histograms. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "prom.h"
#include "unit.h"

START_TEST(test_family_and_samples)
{
	struct buf	 b, l;

	buf_init(&b, 0);
	buf_init(&l, 0);
	prom_label(&l, "stream", "s\"1\\\n");
	prom_label(&l, "cloud", "eu");
	prom_family(&b, "ampstream_x_total", "counter", "a \\ help\nline");
	prom_sample_u64(&b, "ampstream_x_total", l.data, 18446744073709551615ULL);
	prom_sample(&b, "ampstream_y", NULL, 1.5);
	ck_assert_str_eq(b.data,
	    "# HELP ampstream_x_total a \\\\ help\\nline\n"
	    "# TYPE ampstream_x_total counter\n"
	    "ampstream_x_total{stream=\"s\\\"1\\\\\\n\",cloud=\"eu\"} "
	    "18446744073709551615\n"
	    "ampstream_y 1.5\n");
	buf_free(&b);
	buf_free(&l);
}
END_TEST

START_TEST(test_hist)
{
	uint64_t	 h[PROM_HIST_SLOTS] = { 0 };
	struct buf	 b;

	prom_hist_observe(h, -3);	/* clock skew: 0 */
	prom_hist_observe(h, 5);	/* on a bound: that bucket */
	prom_hist_observe(h, 6);
	prom_hist_observe(h, 7200000);	/* over the last: +Inf only */
	ck_assert_uint_eq(h[0], 2);
	ck_assert_uint_eq(h[1], 1);
	ck_assert_uint_eq(h[PROM_HIST_COUNT], 4);
	ck_assert_uint_eq(h[PROM_HIST_SUM], 7200011);
	buf_init(&b, 0);
	prom_hist(&b, "a_seconds", "sink=\"k\"", h);
	ck_assert_ptr_nonnull(strstr(b.data,
	    "a_seconds_bucket{sink=\"k\",le=\"0.005\"} 2\n"
	    "a_seconds_bucket{sink=\"k\",le=\"0.01\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(b.data,
	    "a_seconds_bucket{sink=\"k\",le=\"3600\"} 3\n"
	    "a_seconds_bucket{sink=\"k\",le=\"+Inf\"} 4\n"
	    "a_seconds_sum{sink=\"k\"} 7200.011\n"
	    "a_seconds_count{sink=\"k\"} 4\n"));
	buf_reset(&b);
	prom_hist(&b, "b_seconds", NULL, h);
	ck_assert_ptr_nonnull(strstr(b.data, "b_seconds_bucket{le=\"+Inf\"} 4\n"
	    "b_seconds_sum 7200.011\nb_seconds_count 4\n"));
	buf_free(&b);
}
END_TEST

Suite *
suite_prom(void)
{
	Suite	*s = suite_create("prom");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_family_and_samples);
	tcase_add_test(tc, test_hist);
	suite_add_tcase(s, tc);
	return s;
}
