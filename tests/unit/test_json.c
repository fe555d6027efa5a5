/* test_json.c: the JSON formatter (event as received + "ampstream"). */
#include <stdbool.h>
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

static const char *const fixtures[] = {
	"cloud_ioc_1.json", "cloud_ioc_2_command_line.json",
	"cloud_ioc_3_encoded_powershell.json", "cloud_ioc_4_macos.json",
	"dfc_threat_detected_1.json", "executed_malware_1.json",
	"exploit_prevention_1.json", "file_fetch_completed_1.json",
	"file_fetch_failed_1.json", "multiple_infected_files_1.json",
	"policy_update_1.json", "quarantine_failure_1.json",
	"retrospective_detection_1.json", "retrospective_quarantine_1.json",
	"retrospective_quarantine_attempt_failed_1.json",
	"threat_detected_1.json", "threat_detected_2_docs_pair.json",
	"threat_detected_3_stream_message.json",
	"threat_detected_4_quarantine_failed.json",
	"threat_detected_in_low_prevalence_executable_1.json",
	"threat_quarantined_1.json", "threat_quarantined_2_docs_pair.json",
};

static char *
slurp(const char *name, size_t *lenp)
{
	char	 path[256];
	FILE	*f;
	char	*p;
	long	 n;

	snprintf(path, sizeof(path), "../fixtures/events/%s", name);
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	ck_assert_ptr_nonnull(p = malloc((size_t)n));
	ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*lenp = (size_t)n;
	return p;
}

static struct format_ctx
ctx_default(void)
{
	struct format_ctx	 ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.stream = "siem-1";
	ctx.cloud = "eu";
	ctx.console_url = "https://console.eu.amp.cisco.com/x?id=1";
	ctx.received_ms = RECEIVED_MS;
	ctx.max_len = 65536;
	return ctx;
}

/* Format ev as JSON; the record must succeed, be one line and parse. */
static char *
fmt_json(const struct amp_event *ev, const struct format_ctx *ctx,
    struct json_object **op)
{
	struct buf	 out;
	char		*s;
	size_t		 len;

	buf_init(&out, 0);
	ck_assert_int_eq(format_json_ops.format(ev, ctx, &out), 0);
	s = buf_release(&out, &len);
	ck_assert_uint_eq(strlen(s), len);
	ck_assert_ptr_null(strpbrk(s, "\r\n"));
	ck_assert_msg((*op = json_tokener_parse(s)) != NULL, "%s", s);
	ck_assert(json_object_is_type(*op, json_type_object));
	return s;
}

/* The string member key of o (or NULL if null). */
static const char *
member(struct json_object *o, const char *key)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	return v == NULL ? NULL : json_object_get_string(v);
}

START_TEST(test_every_fixture)
{
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *meta, *root;
	struct amp_event		 ev;
	const char		*reason;
	char			*body, *s, *copy;
	size_t			 i, len;

	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		body = slurp(fixtures[i], &len);
		ck_assert_int_eq(event_parse(&ev, body, len, &reason), 0);
		s = fmt_json(&ev, &ctx, &o);
		if (memchr(body, '\n', len) == NULL)	/* compact: same bytes */
			ck_assert(strncmp(s, body, len - 1) == 0 &&
			    strncmp(s + len - 1, ",\"ampstream\":{", 14) == 0);
		ck_assert(json_object_object_get_ex(o, "ampstream", &meta));
		ck_assert_str_eq(member(meta, "id_str"), ev.id_str);
		json_object_object_del(o, "ampstream");
		copy = strndup(body, len);
		root = json_tokener_parse(copy);
		free(copy);
		ck_assert_msg(json_object_equal(o, root), "%s", fixtures[i]);
		json_object_put(root);
		json_object_put(o);
		free(s);
		event_clear(&ev);
		free(body);
	}
}
END_TEST

START_TEST(test_exact_numbers)
{
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *meta;
	struct amp_event		 ev;
	const char		*reason;
	char			*body, *s;
	size_t			 len;

	body = slurp("threat_detected_3_stream_message.json", &len);
	ck_assert_int_eq(event_parse(&ev, body, len, &reason), 0);
	s = fmt_json(&ev, &ctx, &o);
	ck_assert(strncmp(s, "{\"id\":1503580638684881251,", 26) == 0);
	ck_assert_str_eq(member(o, "event_type"), "Threat Detected");
	ck_assert(json_object_object_get_ex(o, "ampstream", &meta));
	ck_assert_str_eq(member(meta, "id_str"), "1503580638684881251");
	ck_assert_str_eq(member(meta, "stream"), "siem-1");
	ck_assert_str_eq(member(meta, "cloud"), "eu");
	ck_assert_str_eq(member(meta, "console_url"),
	    "https://console.eu.amp.cisco.com/x?id=1");
	ck_assert_str_eq(member(meta, "received_at"),
	    "2026-11-24T19:00:00.123Z");
	ck_assert_str_eq(s + strlen(s) - 2, "}}");
	json_object_put(o);
	free(s);
	event_clear(&ev);
	free(body);

	body = slurp("quarantine_failure_1.json", &len);
	ck_assert_int_eq(event_parse(&ev, body, len, &reason), 0);
	s = fmt_json(&ev, &ctx, &o);
	ck_assert_ptr_nonnull(strstr(s, ",\"event_type_id\":2164260880,"));
	ck_assert_ptr_nonnull(strstr(s, "\"error_code\":3221225524,"));
	json_object_put(o);
	free(s);
	event_clear(&ev);
	free(body);
}
END_TEST

START_TEST(test_pretty_to_one_line)
{
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *v, *meta;
	struct amp_event		 ev;
	const char		*reason;
	char			*body, *s;
	size_t			 len;

	body = slurp("threat_detected_2_docs_pair.json", &len);
	ck_assert_ptr_nonnull(memchr(body, '\n', len));
	ck_assert_int_eq(event_parse(&ev, body, len, &reason), 0);
	s = fmt_json(&ev, &ctx, &o);
	ck_assert(strncmp(s, "{\"id\":6533241145273614339,\"timestamp\":"
	    "1593079552,\"timestamp_nanoseconds\":619000000,", 70) == 0);
	ck_assert_ptr_nonnull(strstr(s, "\"file_path\":"
	    "\"\\\\\\\\?\\\\C:\\\\SqGGuYXyy.exe\""));
	ck_assert_ptr_nonnull(strstr(s, "\"detection\":\"W32.Overdrive.RET\","
	    "\"ampstream\":{\"stream\":\"siem-1\",\"cloud\":\"eu\","
	    "\"console_url\":\"https://console.eu.amp.cisco.com/x?id=1\","
	    "\"file_console_url\":null,\"received_at\":\"2026-11-24T19:00:00.123Z\","
	    "\"id_str\":\"6533241145273614339\"}}"));
	ck_assert(json_object_object_get_ex(o, "id", &v));
	ck_assert_str_eq(json_object_to_json_string(v), "6533241145273614339");
	ck_assert(json_object_object_get_ex(o, "ampstream", &meta));
	json_object_put(o);
	free(s);
	event_clear(&ev);
	free(body);
}
END_TEST

START_TEST(test_nulls_and_escapes)
{
	static const char body[] = " {\"event_type\" : \"a b\\\"c\\n\",\n"
	    "\t\"event_type_id\" : 1, \"x\":\"in\tside\nraw\", \"y\" : [ 1 ,"
	    " 2 ], \"z\":\"\\u00e9\\/\"} \n";
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *meta;
	struct amp_event		 ev;
	const char		*reason;
	char			*s;

	ck_assert_int_eq(event_parse(&ev, body, sizeof(body) - 1, &reason), 0);
	ctx.cloud = NULL;
	ctx.console_url = NULL;
	ctx.stream = "we\"ird\\\n\x01";
	ctx.received_ms = -1;
	s = fmt_json(&ev, &ctx, &o);
	ck_assert_str_eq(s, "{\"event_type\":\"a b\\\"c\\n\",\"event_type_id\":"
	    "1,\"x\":\"in\\u0009side\\u000araw\",\"y\":[1,2],"
	    "\"z\":\"\\u00e9\\/\",\"ampstream\":{\"stream\":"
	    "\"we\\\"ird\\\\\\n\\u0001\",\"cloud\":null,\"console_url\":null,"
	    "\"file_console_url\":null,\"received_at\":\"1969-12-31T23:59:59.999Z\",\"id_str\":null}}");
	ck_assert(json_object_object_get_ex(o, "ampstream", &meta));
	ck_assert_str_eq(member(meta, "stream"), ctx.stream);
	ck_assert_ptr_null(member(meta, "cloud"));
	ck_assert_str_eq(member(o, "x"), "in\tside\nraw");
	json_object_put(o);
	free(s);
	event_clear(&ev);
}
END_TEST

START_TEST(test_existing_ampstream_key)
{
	static const char body[] = "{\"event_type\":\"t\",\"event_type_id\":1,"
	    "\"ampstream\":{\"x\":1}}";
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *meta, *v;
	struct amp_event		 ev;
	const char		*reason;
	char			*s;

	ck_assert_int_eq(event_parse(&ev, body, sizeof(body) - 1, &reason), 0);
	s = fmt_json(&ev, &ctx, &o);
	ck_assert(strncmp(s, body, sizeof(body) - 2) == 0);
	ck_assert_ptr_nonnull(strstr(s, "{\"x\":1},\"ampstream\":{\"stream\""));
	ck_assert(json_object_object_get_ex(o, "ampstream", &meta));
	ck_assert(json_object_object_get_ex(meta, "stream", &v));	/* ours */
	json_object_put(o);
	free(s);
	event_clear(&ev);
}
END_TEST

START_TEST(test_empty_object)
{
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o;
	struct amp_event		 ev;
	char			*s;

	memset(&ev, 0, sizeof(ev));
	ev.body = " { }";
	ev.body_len = 4;
	ctx.received_ms = 0;
	s = fmt_json(&ev, &ctx, &o);
	ck_assert_str_eq(s, "{\"ampstream\":{\"stream\":\"siem-1\","
	    "\"cloud\":\"eu\",\"console_url\":"
	    "\"https://console.eu.amp.cisco.com/x?id=1\","
	    "\"file_console_url\":null,\"received_at\":\"1970-01-01T00:00:00.000Z\",\"id_str\":null}}");
	json_object_put(o);
	free(s);
}
END_TEST

/* True if cut is orig with some strings cut to a prefix + "..." (keys,
 * numbers and structure the same); counts the cut strings in *ncut. */
static bool
json_like(struct json_object *orig, struct json_object *cut, size_t *ncut)
{
	const char	*a, *b;
	size_t		 i, bl;

	if (json_object_get_type(orig) != json_object_get_type(cut))
		return false;
	switch (json_object_get_type(orig)) {
	case json_type_object: {
		struct json_object *v;

		if (json_object_object_length(orig) !=
		    json_object_object_length(cut))
			return false;
		json_object_object_foreach(orig, k, ov) {
			if (!json_object_object_get_ex(cut, k, &v) ||
			    !json_like(ov, v, ncut))
				return false;
		}
		return true;
	}
	case json_type_array:
		if (json_object_array_length(orig) !=
		    json_object_array_length(cut))
			return false;
		for (i = 0; i < json_object_array_length(orig); i++)
			if (!json_like(json_object_array_get_idx(orig, i),
			    json_object_array_get_idx(cut, i), ncut))
				return false;
		return true;
	case json_type_string:
		a = json_object_get_string(orig);
		b = json_object_get_string(cut);
		if (strcmp(a, b) == 0)
			return true;
		bl = strlen(b);
		(*ncut)++;
		return bl >= 3 && strcmp(b + bl - 3, "...") == 0 &&
		    strncmp(a, b, bl - 3) == 0;
	default:
		return strcmp(json_object_to_json_string(orig),
		    json_object_to_json_string(cut)) == 0;
	}
}

/* Format ev under every max_len from full down; check each record. */
static void
sweep(const struct amp_event *ev, struct format_ctx *ctx, size_t step)
{
	struct json_object	*o, *meta, *v, *root;
	struct buf		 out;
	size_t			 full, max, ncut;
	char			*copy;
	bool			 failed = false;
	char			*s;

	ctx->max_len = 0;
	s = fmt_json(ev, ctx, &o);
	full = strlen(s);
	json_object_put(o);
	free(s);
	buf_init(&out, 0);
	buf_puts(&out, "prefix");
	for (max = full; max > 50; max -= max > step ? step : max) {
		ctx->max_len = max;
		if (format_json_ops.format(ev, ctx, &out) == -1) {
			ck_assert_str_eq(out.data, "prefix");
			failed = true;
			continue;
		}
		ck_assert_msg(!failed, "fits at %zu but not above", max);
		buf_reset(&out);
		buf_puts(&out, "prefix");
		s = fmt_json(ev, ctx, &o);
		ck_assert_uint_le(strlen(s), max);
		ck_assert(json_object_object_get_ex(o, "ampstream", &meta));
		ck_assert_int_eq(json_object_object_get_ex(meta, "truncated",
		    &v), max < full);
		json_object_object_del(o, "ampstream");
		ncut = 0;
		copy = strndup(ev->body, ev->body_len);
		root = json_tokener_parse(copy);
		ck_assert_msg(json_like(root, o, &ncut), "%s", s);
		json_object_put(root);
		free(copy);
		ck_assert(max == full || ncut > 0);
		json_object_put(o);
		free(s);
	}
	ck_assert(failed);
	buf_free(&out);
}

START_TEST(test_size_cap)
{
	struct format_ctx	 ctx = ctx_default();
	struct amp_event	 ev;
	struct buf		 out;
	const char		*reason;
	char			*body;
	size_t			 len;

	body = slurp("threat_detected_3_stream_message.json", &len);
	ck_assert_int_eq(event_parse(&ev, body, len, &reason), 0);
	sweep(&ev, &ctx, 7);
	buf_init(&out, 100);		/* the buffer's own bound */
	ctx.max_len = 0;
	ck_assert_int_eq(format_json_ops.format(&ev, &ctx, &out), -1);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
	event_clear(&ev);
	free(body);
}
END_TEST

/* Long strings full of escapes, multibyte characters and surrogate pairs
 * are cut between units; ids stay exact. */
START_TEST(test_size_cap_hostile)
{
	static const char *const units[] = { "\\u00e9", "\\ud83d\\ude00",
	    "\\\"", "\xc3\xa9", "\xf0\x9f\x98\x80", "a\\n", "\\\\" };
	struct format_ctx	 ctx = ctx_default();
	struct amp_event	 ev;
	struct buf		 b;
	const char		*reason;
	size_t			 u, i;

	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		buf_init(&b, 0);
		buf_puts(&b, "{\"id\":6533241145273614339,\"event_type\":\"");
		for (i = 0; i < 3000 / strlen(units[u]); i++)
			buf_puts(&b, units[u]);
		buf_puts(&b, "\",\"event_type_id\":2164260880,\"x\":[\"");
		for (i = 0; i < 1000 / strlen(units[u]); i++)
			buf_puts(&b, units[u]);
		buf_puts(&b, "\",12.50,true,null],\"error\":{\"error_code\":"
		    "3221225524}}");
		ck_assert_msg(event_parse(&ev, b.data, b.len, &reason) == 0,
		    "%s", reason);
		sweep(&ev, &ctx, 97);
		event_clear(&ev);
		buf_free(&b);
	}
}
END_TEST

START_TEST(test_correlation)
{
	struct format_ctx	 ctx = ctx_default();
	struct corr_detection	 det;
	struct corr_info	 ci = { CORR_MATCHED, &det, 12, "quarantined" };
	struct json_object	*o, *meta, *c;
	struct amp_event	 ev;
	const char		*reason;
	char			*body, *s;
	size_t			 len;

	dec_detection(&det);
	det.hostname = "";
	body = slurp("threat_quarantined_2_docs_pair.json", &len);
	ck_assert_int_eq(event_parse(&ev, body, len, &reason), 0);
	ctx.corr = &ci;
	ctx.file_console_url = "https://console.eu.amp.cisco.com/file/"
	    "trajectory/ab";
	s = fmt_json(&ev, &ctx, &o);
	ck_assert_ptr_nonnull(strstr(s, ",\"file_console_url\":\"https://"
	    "console.eu.amp.cisco.com/file/trajectory/ab\","));
	ck_assert_ptr_nonnull(strstr(s, ",\"correlation\":{\"state\":"
	    "\"matched\",\"detection_event_id\":\"6533241145273614339\","
	    "\"detection_id\":\"6533241145273614338\",\"detected_at\":"
	    "\"2020-06-25T10:05:52.619Z\",\"detection\":\"W32.Overdrive.RET\","
	    "\"file_name\":\"SqGGuYXyy.exe\",\"file_path\":"
	    "\"\\\\\\\\?\\\\C:\\\\SqGGuYXyy.exe\",\"sha256\":\"a78c29d1fa05c2b2"
	    "3d1dc9b75da8c053399143682fe3779bc466f10e1a997850\","
	    "\"hostname\":null,\"connector_guid\":\"g-1\","
	    "\"seconds_to_outcome\":12,\"outcome\":\"quarantined\"}}}"));
	json_object_put(o);
	free(s);
	ci.state = CORR_UNRESOLVED;
	ctx.received_ms = det.detected_ms + 7200500;
	s = fmt_json(&ev, &ctx, &o);
	ck_assert(json_object_object_get_ex(o, "ampstream", &meta));
	ck_assert(json_object_object_get_ex(meta, "correlation", &c));
	ck_assert_str_eq(member(c, "state"), "unresolved");
	ck_assert_str_eq(member(c, "seconds_open"), "7200");
	ck_assert_str_eq(member(c, "file_name"), "SqGGuYXyy.exe");
	ck_assert(!json_object_object_get_ex(c, "seconds_to_outcome", NULL));
	json_object_put(o);
	free(s);
	ci.state = CORR_PENDING;
	s = fmt_json(&ev, &ctx, &o);
	ck_assert_ptr_nonnull(strstr(s, ",\"correlation\":{\"state\":"
	    "\"pending\"}}}"));
	json_object_put(o);
	free(s);
	ci.state = CORR_UNCORRELATED;
	s = fmt_json(&ev, &ctx, &o);
	ck_assert_ptr_nonnull(strstr(s, "{\"state\":\"uncorrelated\"}}}"));
	json_object_put(o);
	free(s);
	ci.state = CORR_NONE;
	s = fmt_json(&ev, &ctx, &o);
	ck_assert_ptr_null(strstr(s, "correlation"));
	json_object_put(o);
	free(s);
	event_clear(&ev);
	free(body);
}
END_TEST

/* A long detection fact is cut like the event's strings, never state. */
START_TEST(test_correlation_cut)
{
	struct format_ctx	 ctx = ctx_default();
	struct corr_detection	 det;
	struct corr_info	 ci = { CORR_MATCHED, &det, 1, "quarantined" };
	struct json_object	*o, *meta, *c;
	struct amp_event	 ev;
	const char		*reason;
	char			*body, *s, path[4096];
	size_t			 len;

	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	dec_detection(&det);
	det.file_path = path;
	body = slurp("threat_quarantined_2_docs_pair.json", &len);
	ck_assert_int_eq(event_parse(&ev, body, len, &reason), 0);
	ctx.corr = &ci;
	ctx.max_len = 2048;
	s = fmt_json(&ev, &ctx, &o);
	ck_assert_uint_le(strlen(s), 2048);
	ck_assert(json_object_object_get_ex(o, "ampstream", &meta));
	ck_assert(json_object_object_get_ex(meta, "correlation", &c));
	ck_assert_str_eq(member(c, "state"), "matched");
	ck_assert_str_eq(member(c, "file_path") + strlen(member(c,
	    "file_path")) - 3, "...");
	ck_assert_str_eq(member(meta, "truncated"), "true");
	json_object_put(o);
	free(s);
	event_clear(&ev);
	free(body);
}
END_TEST

Suite *
suite_json(void)
{
	Suite	*s = suite_create("json");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_every_fixture);
	tcase_add_test(tc, test_exact_numbers);
	tcase_add_test(tc, test_pretty_to_one_line);
	tcase_add_test(tc, test_nulls_and_escapes);
	tcase_add_test(tc, test_existing_ampstream_key);
	tcase_add_test(tc, test_empty_object);
	tcase_add_test(tc, test_size_cap);
	tcase_add_test(tc, test_size_cap_hostile);
	tcase_add_test(tc, test_correlation);
	tcase_add_test(tc, test_correlation_cut);
	suite_add_tcase(s, tc);
	return s;
}
