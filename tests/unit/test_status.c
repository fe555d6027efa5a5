/* test_status.c: the STATUS= line made from status.json's counters. */
#include <string.h>

#include <check.h>
#include <json.h>

#include "buf.h"
#include "status.h"
#include "unit.h"

static const char *status_json =
    "{\"streams\":[{\"name\":\"s1\",\"state\":\"connected\",\"delivered\":22,"
    "\"acked\":21,\"redelivered\":1,\"deadlettered\":2,\"connects\":3},"
    "{\"name\":\"s2\",\"state\":\"disconnected\",\"delivered\":0}],"
    "\"correlation\":{\"entries\":5,\"stored\":6,\"matched\":7,"
    "\"unmatched\":8,\"expired\":9,\"evicted\":10,\"duplicates\":11,"
    "\"alerts\":12},"
    "\"sinks\":[{\"name\":\"siem\",\"up\":true,\"spool\":true,"
    "\"spool_full\":false,\"sent\":20,\"failed\":1,\"spooled\":4,"
    "\"in_spool\":3},{\"name\":\"f\",\"up\":false,\"spool\":false,"
    "\"sent\":1,\"failed\":0},{\"name\":\"t\",\"up\":true,\"spool\":true,"
    "\"spool_full\":true,\"sent\":0,\"failed\":0,\"spooled\":9,"
    "\"in_spool\":9}]}";

START_TEST(test_status_line)
{
	json_object	*o = json_tokener_parse(status_json);
	struct buf	 b;

	ck_assert_ptr_nonnull(o);
	buf_init(&b, 0);
	status_line(o, &b);
	ck_assert_str_eq(b.data,
	    "s1: connected, 22 delivered, 21 acked, 1 redelivered, "
	    "2 dead-lettered; s2: disconnected, 0 delivered, 0 acked, "
	    "0 redelivered, 0 dead-lettered; correlation: 5 pending, "
	    "7 matched, 8 unmatched, 9 expired, 10 evicted, 12 alerts; "
	    "sink siem: up, 20 sent, 1 failed, 4 spooled, 3 in spool; "
	    "sink f: down, 1 sent, 0 failed; "
	    "sink t: spool full, 0 sent, 0 failed, 9 spooled, 9 in spool");
	buf_free(&b);
	json_object_put(o);
}
END_TEST

/* Every counter has a distinct key and a label. */
START_TEST(test_status_tables)
{
	const struct status_counter *tabs[] = {
		status_stream_ctrs, status_sink_ctrs, status_corr_ctrs
	};
	const size_t	 n[] = { SST_MAX, SSK_MAX, SCO_MAX };
	size_t		 t, i, j;

	for (t = 0; t < 3; t++)
		for (i = 0; i < n[t]; i++) {
			ck_assert_ptr_nonnull(tabs[t][i].key);
			ck_assert_ptr_nonnull(tabs[t][i].label);
			for (j = 0; j < i; j++)
				ck_assert_str_ne(tabs[t][i].key,
				    tabs[t][j].key);
		}
}
END_TEST

Suite *
suite_status(void)
{
	Suite	*s = suite_create("status");
	TCase	*tc = tcase_create("status");

	tcase_add_test(tc, test_status_line);
	tcase_add_test(tc, test_status_tables);
	suite_add_tcase(s, tc);
	return s;
}
