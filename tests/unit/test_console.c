/* test_console.c: console base URLs (configured, API link, AMQP host) and
 * file trajectory links. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "console.h"
#include "event.h"
#include "rec_decode.h"
#include "unit.h"

#define EVH	"{\"event_type\":\"E\",\"event_type_id\":1,"
#define API(h)	"\"computer\":{\"links\":{\"computer\":\"https://" h \
		"/v1/computers/x\"}},"

START_TEST(test_base_for)
{
	static const struct {
		const char	*json;
		const char	*configured;
		const char	*amqp;
		const char	*want;	/* NULL: -1 */
	} c[] = {
		{ EVH API("api.eu.amp.cisco.com") "\"x\":1}",
		    "https://console.example/", "export-streaming.amp.cisco.com",
		    "https://console.example" },
		{ EVH API("api.apjc.amp.cisco.com") "\"x\":1}", NULL,
		    "export-streaming.eu.amp.cisco.com",
		    "https://console.apjc.amp.cisco.com" },
		{ EVH "\"x\":1}", NULL, "export-streaming.eu.amp.cisco.com",
		    "https://console.eu.amp.cisco.com" },
		{ EVH "\"x\":1}", "", "export-streaming.apjc.amp.cisco.com",
		    "https://console.apjc.amp.cisco.com" },
		{ EVH "\"x\":1}", NULL, "EXPORT-STREAMING.amp.cisco.com",
		    "https://console.amp.cisco.com" },
		{ EVH "\"x\":1}", NULL, "amp.private.example",
		    "https://amp.private.example" },
		{ EVH "\"x\":1}", NULL, "export-streaming.evilamp.cisco.com",
		    "https://export-streaming.evilamp.cisco.com" },
		{ EVH "\"x\":1}", NULL, "amp.private.example:5671",
		    "https://amp.private.example" },
		/* the event names its own host: never taken */
		{ EVH API("api.evil.example") "\"x\":1}", NULL,
		    "export-streaming.eu.amp.cisco.com",
		    "https://console.eu.amp.cisco.com" },
		{ EVH API("api.amp.cisco.com.evil.example") "\"x\":1}", NULL,
		    "amp.private.example", "https://amp.private.example" },
		{ EVH API("api.amp.cisco.com@evil.example") "\"x\":1}", NULL,
		    "export-streaming.amp.cisco.com",
		    "https://console.amp.cisco.com" },
		{ EVH API("api.evil.example") "\"x\":1}", NULL, NULL, NULL },
		{ EVH "\"computer\":{\"links\":{\"computer\":"
		    "\"http://api.eu.amp.cisco.com/v1/x\"}},\"x\":1}", NULL,
		    NULL, NULL },
		/* a known cloud's API host, any case: its canonical console */
		{ EVH API("API.EU.amp.cisco.COM") "\"x\":1}", NULL, NULL,
		    "https://console.eu.amp.cisco.com" },
		{ EVH API("api.amp.cisco.com:443") "\"x\":1}", NULL, NULL,
		    "https://console.amp.cisco.com" },
		{ EVH "\"x\":1}", NULL, "bad host", NULL },
		{ EVH "\"x\":1}", NULL, "", NULL },
		{ EVH "\"x\":1}", NULL, NULL, NULL },
	};
	struct buf	 out;
	struct tev	 t;
	size_t		 i;
	int		 rv;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		tev_from(&t, json_tokener_parse(c[i].json));
		buf_init(&out, 0);
		buf_puts(&out, "x");
		rv = console_base_for(&t.ev, c[i].configured, c[i].amqp, &out);
		if (c[i].want == NULL) {
			ck_assert_msg(rv == -1, "case %zu", i);
			ck_assert_str_eq(out.data, "x");
		} else {
			ck_assert_msg(rv == 0, "case %zu", i);
			ck_assert_str_eq(out.data + 1, c[i].want);
		}
		buf_free(&out);
		tev_free(&t);
	}
}
END_TEST

START_TEST(test_file_url)
{
	struct buf	 out;
	struct tev	 t;

	tev_from(&t, json_tokener_parse(EVH "\"connector_guid\":\"g\","
	    "\"file\":{\"identity\":{\"sha256\":\"AB 12/\"}}}"));
	buf_init(&out, 0);
	ck_assert_int_eq(console_file_url(&t.ev, "https://c.example", &out), 0);
	ck_assert_str_eq(out.data, "https://c.example/file/trajectory/AB%2012%2F");
	buf_reset(&out);
	ck_assert_int_eq(console_file_url(&t.ev, "", &out), -1);
	ck_assert_int_eq(console_file_url(&t.ev, NULL, &out), -1);
	ck_assert_uint_eq(out.len, 0);
	/* the event link stays the computer trajectory */
	ck_assert_int_eq(console_url(&t.ev, "https://c.example", &out), 0);
	ck_assert_str_eq(out.data, "https://c.example/computers/g/trajectory2");
	buf_free(&out);
	tev_free(&t);
	tev_from(&t, json_tokener_parse(EVH "\"file\":{\"file_name\":\"x\"}}"));
	buf_init(&out, 0);
	ck_assert_int_eq(console_file_url(&t.ev, "https://c.example", &out), -1);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
	tev_free(&t);
}
END_TEST

Suite *
suite_console(void)
{
	Suite	*s = suite_create("console");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_base_for);
	tcase_add_test(tc, test_file_url);
	suite_add_tcase(s, tc);
	return s;
}
