/* unit.h: every Check suite of the unit-test binary, one per module. */
#ifndef AMPSTREAM_UNIT_H
#define AMPSTREAM_UNIT_H

#include <check.h>

Suite	*suite_buf(void);
Suite	*suite_config(void);
Suite	*suite_event(void);
Suite	*suite_jscan(void);
Suite	*suite_cef(void);
Suite	*suite_json(void);
Suite	*suite_leef(void);
Suite	*suite_console(void);
Suite	*suite_syslog(void);
Suite	*suite_ack(void);
Suite	*suite_spool(void);
Suite	*suite_corr(void);
Suite	*suite_status(void);
Suite	*suite_sink(void);
Suite	*suite_record(void);
Suite	*suite_route(void);
Suite	*suite_esc(void);
Suite	*suite_stream(void);
Suite	*suite_prom(void);
Suite	*suite_log(void);
Suite	*suite_reload(void);
Suite	*suite_ratelimit(void);
Suite	*suite_docs(void);

/* Path of a fixture under tests/fixtures (tests run from tests/unit). */
#define FIXTURE(p)	("../fixtures/" p)

#endif
