/* unit.c: runs every suite; Check prints the closing "N%: Checks: ..." line. */
#include <stdlib.h>

#include "unit.h"

static Suite *(*const suites[])(void) = {
	suite_buf,
	suite_config,
	suite_jscan,
	suite_event,
	suite_cef,
	suite_json,
	suite_leef,
	suite_console,
	suite_syslog,
	suite_ack,
	suite_spool,
	suite_corr,
	suite_status,
	suite_sink,
	suite_record,
	suite_route,
	suite_esc,
	suite_stream,
	suite_prom,
	suite_log,
	suite_reload,
	suite_ratelimit,
	suite_docs,
};

int
main(void)
{
	SRunner	*sr;
	size_t	 i;
	int	 failed;

	sr = srunner_create(suites[0]());
	for (i = 1; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
