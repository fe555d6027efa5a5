/* test_syslog.c: placeholder until the module lands (filled in this issue). */
#include "unit.h"

Suite *
suite_syslog(void)
{
	return suite_create("syslog");
}
