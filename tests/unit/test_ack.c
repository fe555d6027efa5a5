/* test_ack.c: placeholder until the module lands (filled in this issue). */
#include "unit.h"

Suite *
suite_ack(void)
{
	return suite_create("ack");
}
