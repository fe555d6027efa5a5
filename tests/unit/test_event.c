/* test_event.c: placeholder until the module lands (filled in this issue). */
#include "unit.h"

Suite *
suite_event(void)
{
	return suite_create("event");
}
