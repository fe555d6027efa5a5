/*
 * test_record.c: record_make, the formatter in its syslog header and
 * framing within max_record, from a recipe resolved once per sink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <json.h>

#include "compat.h"
#include "config.h"
#include "event.h"
#include "format.h"
#include "rec_decode.h"
#include "record.h"
#include "unit.h"

#define RECEIVED_MS	1764010800123LL	/* 2025-11-24T19:00:00.123Z */

static struct sink_conf
conf_of(const char *format, enum syslog_style style, enum framing framing,
    size_t max_record)
{
	struct sink_conf sc;

	memset(&sc, 0, sizeof(sc));
	sc.name = "siem";
	sc.type = "tcp";
	sc.format = (char *)format;
	sc.syslog = style;
	sc.framing = framing;
	sc.max_record = max_record;
	sc.facility = 16;
	sc.app_name = "ampstream";
	sc.default_severity = 5;
	return sc;
}

static char *
make(const struct sink_conf *sc, const struct amp_event *ev, size_t *len)
{
	struct record_recipe *r;
	struct format_ctx ctx;
	char		*cause = NULL, *rec;

	r = record_recipe_new(sc, "host1", &cause);
	ck_assert_msg(r != NULL, "recipe: %s", cause ? cause : "?");
	memset(&ctx, 0, sizeof(ctx));
	ctx.stream = "s1";
	ctx.received_ms = RECEIVED_MS;
	ctx.console_url = "https://console.amp.cisco.com/x";
	ctx.max_len = 1;		/* the recipe's wins */
	ctx.default_severity = 9;	/* likewise */
	rec = record_make(r, ev, &ctx, len);
	record_recipe_free(r);
	return rec;
}

/* The CEF part of a record after its RFC 5424 header ("... - - - CEF:0|"). */
static char *
cef_part(const char *rec, size_t len)
{
	const char	*p = strstr(rec, "CEF:0|");

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_le((size_t)(p - rec), len);
	return strndup(p, len - (size_t)(p - rec));
}

/* "LEN SP MSG": LEN is exact and MSG (header + CEF) is within max_record. */
static size_t
check_octet(const char *rec, size_t len, size_t max_record)
{
	char		*end;
	unsigned long	 n = strtoul(rec, &end, 10);

	ck_assert_int_eq(*end, ' ');
	ck_assert_uint_eq(n, len - (size_t)(end + 1 - rec));
	ck_assert_uint_le(n, max_record);
	ck_assert_ptr_null(memchr(rec, '\n', len));
	return n;
}

START_TEST(test_record_cef_5424_octet_tight)
{
	struct tev	 t;
	struct dec_rec	 d;
	struct sink_conf sc = conf_of("cef", SYSLOG_RFC5424, FRAMING_OCTET,
	    8192);
	char		*rec, *cef;
	size_t		 len, full, n;

	tev_from(&t, fixture_obj("threat_detected_1.json"));
	rec = make(&sc, &t.ev, &len);
	ck_assert_ptr_nonnull(rec);
	full = check_octet(rec, len, sc.max_record);
	/* Medium: PRI 16 * 8 + 4. */
	ck_assert_ptr_nonnull(strstr(rec, " <132>1 2025-11-24T19:00:00.123Z "
	    "host1 ampstream - - - CEF:0|"));
	free(rec);

	/* Tight: 40 bytes under what the event wants; values are cut. */
	sc.max_record = full - 40;
	rec = make(&sc, &t.ev, &len);
	ck_assert_ptr_nonnull(rec);
	n = check_octet(rec, len, sc.max_record);
	ck_assert_uint_le(n, full - 40);
	cef = cef_part(rec, len);
	ck_assert_msg(cef_decode(cef, &d) == 0, "decode: %s", d.err);
	ck_assert_str_eq(d.hdr[1], "Cisco");
	dec_free(&d);
	free(cef);
	free(rec);

	/* No room even for the header: no record. */
	sc.max_record = 40;
	ck_assert_ptr_null(make(&sc, &t.ev, &len));
	tev_free(&t);
}
END_TEST

START_TEST(test_record_cef_3164_lf)
{
	struct tev	 t;
	struct sink_conf sc = conf_of("cef", SYSLOG_RFC3164, FRAMING_LF, 8192);
	char		*rec;
	size_t		 len, full;

	tev_from(&t, fixture_obj("threat_quarantined_1.json"));
	rec = make(&sc, &t.ev, &len);
	ck_assert_ptr_nonnull(rec);
	full = len;
	ck_assert_int_eq(rec[len - 1], '\n');
	ck_assert_ptr_eq(memchr(rec, '\n', len), rec + len - 1);
	ck_assert_int_eq(strncmp(rec, "<13", 3), 0);	/* local0 + 3..6 */
	ck_assert_ptr_nonnull(strstr(rec, " host1 ampstream: CEF:0|"));
	free(rec);
	/* The LF counts: a max_record of exactly the record's length fits. */
	sc.max_record = full;
	rec = make(&sc, &t.ev, &len);
	ck_assert_ptr_nonnull(rec);
	ck_assert_uint_le(len, full);
	free(rec);
	tev_free(&t);
}
END_TEST

START_TEST(test_record_json_bare)
{
	struct tev	 t;
	struct sink_conf sc = conf_of("json", SYSLOG_NONE, FRAMING_LF, 65536);
	json_object	*o, *v;
	char		*rec;
	size_t		 len;

	tev_from(&t, fixture_obj("threat_detected_1.json"));
	rec = make(&sc, &t.ev, &len);
	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(rec[0], '{');
	ck_assert_int_eq(rec[len - 1], '\n');
	rec[len - 1] = '\0';
	o = json_tokener_parse(rec);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "event_type", &v));
	ck_assert_str_eq(json_object_get_string(v), t.ev.event_type);
	json_object_put(o);
	free(rec);
	tev_free(&t);
}
END_TEST

START_TEST(test_record_leef)
{
	struct tev	 t;
	struct dec_rec	 d;
	struct sink_conf sc = conf_of("leef", SYSLOG_NONE, FRAMING_OCTET,
	    8192);
	char		*rec, *sp, *msg;
	size_t		 len;

	tev_from(&t, fixture_obj("threat_detected_1.json"));
	rec = make(&sc, &t.ev, &len);
	ck_assert_ptr_nonnull(rec);
	check_octet(rec, len, sc.max_record);
	sp = strchr(rec, ' ');
	msg = strndup(sp + 1, len - (size_t)(sp + 1 - rec));
	ck_assert_int_eq(strncmp(msg, "LEEF:2.0|", 9), 0);
	ck_assert_msg(leef_decode(msg, &d) == 0, "decode: %s", d.err);
	dec_free(&d);
	free(msg);
	free(rec);
	tev_free(&t);
}
END_TEST

/* PRI = facility 16 * 8 + the AMP severity's syslog severity. */
START_TEST(test_record_severity)
{
	static const struct { const char *sev; const char *pri; } cases[] = {
		{ "Critical", "<130>" }, { "High", "<131>" },
		{ "Medium", "<132>" }, { "Low", "<133>" }, { NULL, "<134>" },
		{ "bogus", "<134>" },
	};
	struct tev	 t;
	struct sink_conf sc = conf_of("cef", SYSLOG_RFC5424, FRAMING_LF, 8192);
	json_object	*o;
	char		*rec;
	size_t		 i, len;

	for (i = 0; i < nitems(cases); i++) {
		o = fixture_obj("threat_detected_1.json");
		set_str(o, "severity", cases[i].sev,
		    cases[i].sev ? strlen(cases[i].sev) : 0);
		tev_from(&t, o);
		rec = make(&sc, &t.ev, &len);
		ck_assert_ptr_nonnull(rec);
		ck_assert_msg(strncmp(rec, cases[i].pri, strlen(cases[i].pri))
		    == 0, "%s: %.8s", cases[i].sev ? cases[i].sev : "none",
		    rec);
		free(rec);
		tev_free(&t);
	}
}
END_TEST

/*
 * A big event (a 12 KiB Threat Hunting Incident's worth of text): a sink
 * with max_record 0 (a file sink without max_record) cuts nothing, in JSON
 * and in CEF; with a max_record set it cuts.
 */
static void
big_event(struct tev *t, char *big, size_t n)
{
	json_object	*o = fixture_obj("threat_detected_1.json");
	size_t		 i;

	for (i = 0; i < n - 1; i++)
		big[i] = "abcdefghij klmnopqrstuvwxyz."[i % 28];
	big[n - 1] = '\0';
	set_str(o, "threat_hunting.incident_remediation", big, n - 1);
	set_str(o, "file.file_name", big, n - 1);
	tev_from(t, o);
}

START_TEST(test_record_uncapped)
{
	static const char *const fmts[] = { "json", "cef" };
	struct sink_conf sc;
	struct tev	 t;
	char		 big[12288], *rec;
	size_t		 i, len;

	big_event(&t, big, sizeof(big));
	ck_assert_uint_gt(strlen(t.body), 12288);
	for (i = 0; i < nitems(fmts); i++) {
		sc = conf_of(fmts[i], SYSLOG_NONE, FRAMING_LF, 0);
		ck_assert_ptr_nonnull(rec = make(&sc, &t.ev, &len));
		ck_assert_msg(strstr(rec, big) != NULL, "%s: cut", fmts[i]);
		ck_assert_ptr_null(strstr(rec, "\"truncated\""));
		ck_assert_int_eq(rec[len - 1], '\n');
		free(rec);
		sc.max_record = 8192;
		ck_assert_ptr_nonnull(rec = make(&sc, &t.ev, &len));
		ck_assert_uint_le(len, 8192);
		ck_assert_ptr_null(strstr(rec, big));
		free(rec);
	}
	tev_free(&t);
}
END_TEST

/* A datagram (udp, syslog) is the message: no LF after it. */
START_TEST(test_record_datagram)
{
	struct tev	 t;
	struct sink_conf sc = conf_of("cef", SYSLOG_RFC5424, FRAMING_NONE,
	    2048);
	char		*rec;
	size_t		 len;

	tev_from(&t, fixture_obj("threat_detected_1.json"));
	ck_assert_ptr_nonnull(rec = make(&sc, &t.ev, &len));
	ck_assert_uint_le(len, 2048);
	ck_assert_int_eq(strncmp(rec, "<", 1), 0);
	ck_assert_ptr_null(memchr(rec, '\n', len));
	ck_assert_int_ne(rec[len - 1], '\n');
	free(rec);
	tev_free(&t);
}
END_TEST

START_TEST(test_record_unknown_format)
{
	struct sink_conf sc = conf_of("xml", SYSLOG_NONE, FRAMING_LF, 8192);
	char		*cause = NULL;

	ck_assert_ptr_null(record_recipe_new(&sc, "host1", &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "siem"));
	ck_assert_ptr_nonnull(strstr(cause, "xml"));
	free(cause);
}
END_TEST

Suite *
suite_record(void)
{
	Suite	*s = suite_create("record");
	TCase	*tc = tcase_create("record");

	tcase_add_test(tc, test_record_cef_5424_octet_tight);
	tcase_add_test(tc, test_record_cef_3164_lf);
	tcase_add_test(tc, test_record_json_bare);
	tcase_add_test(tc, test_record_leef);
	tcase_add_test(tc, test_record_severity);
	tcase_add_test(tc, test_record_unknown_format);
	tcase_add_test(tc, test_record_uncapped);
	tcase_add_test(tc, test_record_datagram);
	suite_add_tcase(s, tc);
	return s;
}
