/* test_cef.c: placeholder until the module lands (filled in this issue). */
#include "unit.h"

Suite *
suite_cef(void)
{
	return suite_create("cef");
}
