/* test_json.c: placeholder until the module lands (filled in this issue). */
#include "unit.h"

Suite *
suite_json(void)
{
	return suite_create("json");
}
