/* test_leef.c: the LEEF 2.0 formatter, through the in-tree decoder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "corr.h"
#include "event.h"
#include "format.h"
#include "rec_decode.h"
#include "unit.h"

#define RECEIVED_MS	1795546800123LL	/* 2026-11-24T19:00:00.123Z */

static struct format_ctx ctx_default(void);
static char	*leef(const struct amp_event *, const struct format_ctx *);

static struct format_ctx
ctx_default(void)
{
	struct format_ctx	 ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.stream = "s1";
	ctx.received_ms = RECEIVED_MS;
	ctx.default_severity = 1;
	ctx.max_len = 8192;
	return ctx;
}

/* Format (must succeed) and round-trip through the decoder. */
static char *
leef(const struct amp_event *ev, const struct format_ctx *ctx)
{
	return dec_roundtrip(&format_leef_ops, ev, ctx);
}

static const char qf_expected[] =
    "LEEF:2.0|Cisco|Secure Endpoint|" AMPSTREAM_VERSION "|2164260880|^|"
    "devTime=2021-01-14T10:05:52.525+0000^"
    "devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ^sev=6^cat=Quarantine Failure^"
    "eventCategory=Quarantine^externalId=6533241145273614000^"
    "deviceExternalId=test_connector_guid^"
    "identHostName=Demo_AMP_Threat_Quarantined^dst=10.10.10.10^"
    "dstMAC=24:78:d8:fd:c4:75^externalIp=81.2.69.144^"
    "fileHash=a78c29d1fa05c2b23d1dc9b75da8c053399143682fe3779bc466f10e1a997850^"
    "outcome=failure^msg=Object name not found^"
    "detectionId=6533241145273614337^disposition=Malicious^"
    "errorCode=3221225524^stream=s1^ips=10.10.10.10^macs=24:78:d8:fd:c4:75";

START_TEST(test_exact_fixture)
{
	struct format_ctx	 ctx = ctx_default();
	struct tev		 t;
	char			*s;

	tev_from(&t, fixture_obj("quarantine_failure_1.json"));
	s = leef(&t.ev, &ctx);
	ck_assert_str_eq(s, qf_expected);
	free(s);
	tev_free(&t);
}
END_TEST

START_TEST(test_every_fixture)
{
	ck_assert_uint_ge(dec_roundtrip_fixtures(&format_leef_ops, NULL), 44);
}
END_TEST

START_TEST(test_hostile)
{
	ck_assert_uint_gt(dec_roundtrip_hostile(&format_leef_ops, NULL), 50);
}
END_TEST

/* The delimiter and controls are replaced, '=' and '\' kept. */
START_TEST(test_replacements)
{
	static const char v[] = " a^b\tc\r\nd=e\\f|g\x01\x7f ";
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o;
	struct tev		 t;
	char			*s;

	o = fixture_obj("quarantine_failure_1.json");
	set_str(o, "error.description", v, sizeof(v) - 1);
	tev_from(&t, o);
	s = leef(&t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s, "^msg=a_b c  d=e\\f|g^"));
	free(s);
	tev_free(&t);
}
END_TEST

/* Network events: the endpoint is the destination. */
START_TEST(test_ports)
{
	struct format_ctx	 ctx = ctx_default();
	struct tev		 t;
	char			*s;

	tev_from(&t, fixture_obj("dfc_threat_detected_1.json"));
	s = leef(&t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s, "^dstPort=55810^src=67.43.156.12^"
	    "srcPort=443^"));
	free(s);
	tev_free(&t);
}
END_TEST

START_TEST(test_correlation)
{
	struct format_ctx	 ctx = ctx_default();
	struct corr_detection	 det;
	struct corr_info	 ci = { CORR_MATCHED, &det, 7, "quarantined" };
	struct tev		 t;
	char			*s;

	dec_detection(&det);
	tev_from(&t, fixture_obj("threat_quarantined_2_docs_pair.json"));
	ctx.corr = &ci;
	s = leef(&t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s, "^detection=W32.Overdrive.RET^"));
	ck_assert_ptr_nonnull(strstr(s, "^correlation=matched^"
	    "detectionEventId=6533241145273614339^"
	    "detectedAt=2020-06-25T10:05:52.619+0000^secondsToOutcome=7"));
	free(s);
	ci.state = CORR_UNRESOLVED;
	ctx.received_ms = det.detected_ms + 3600 * 1000 + 999;
	s = leef(&t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s, "^correlation=unresolved^"));
	ck_assert_ptr_nonnull(strstr(s, "^secondsOpen=3600"));
	ck_assert_ptr_null(strstr(s, "secondsToOutcome"));
	free(s);
	ci.state = CORR_PENDING;
	s = leef(&t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s, "^correlation=pending"));
	ck_assert_ptr_null(strstr(s, "detectionEventId"));
	free(s);
	ci.state = CORR_NONE;
	s = leef(&t.ev, &ctx);
	ck_assert_ptr_null(strstr(s, "correlation="));
	free(s);
	tev_free(&t);
}
END_TEST

/* Every max_len from the smallest that fits up; -1 leaves out alone. */
START_TEST(test_size_sweep)
{
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o;
	struct buf		 out;
	struct tev		 t;
	char			 big[3000], *s;
	size_t			 max, first = 0;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	o = fixture_obj("cloud_ioc_1.json");
	set_str(o, "cloud_ioc.short_description", big, strlen(big));
	tev_from(&t, o);
	buf_init(&out, 0);
	buf_puts(&out, "keep");
	for (max = 100; max <= 4000; max += 13) {
		ctx.max_len = max;
		if (format_leef_ops.format(&t.ev, &ctx, &out) == -1) {
			ck_assert_uint_eq(first, 0);
			ck_assert_str_eq(out.data, "keep");
			continue;
		}
		if (first == 0)
			first = max;
		buf_reset(&out);
		buf_puts(&out, "keep");
		free(s = leef(&t.ev, &ctx));
	}
	ck_assert_uint_gt(first, 0);
	buf_free(&out);
	tev_free(&t);
}
END_TEST

Suite *
suite_leef(void)
{
	Suite	*s = suite_create("leef");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_exact_fixture);
	tcase_add_test(tc, test_every_fixture);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_replacements);
	tcase_add_test(tc, test_ports);
	tcase_add_test(tc, test_correlation);
	tcase_add_test(tc, test_size_sweep);
	suite_add_tcase(s, tc);
	return s;
}
