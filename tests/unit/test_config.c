/* test_config.c: placeholder until the module lands (filled in this issue). */
#include "unit.h"

Suite *
suite_config(void)
{
	return suite_create("config");
}
