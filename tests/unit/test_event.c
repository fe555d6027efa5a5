/* test_event.c: parsing AMP events (every fixture, exact fields, refusals). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "compat.h"
#include "event.h"
#include "unit.h"

static const char *const fixtures[] = {
	"cloud_ioc_1.json",
	"cloud_ioc_2_command_line.json",
	"cloud_ioc_3_encoded_powershell.json",
	"cloud_ioc_4_macos.json",
	"dfc_threat_detected_1.json",
	"executed_malware_1.json",
	"exploit_prevention_1.json",
	"file_fetch_completed_1.json",
	"file_fetch_failed_1.json",
	"multiple_infected_files_1.json",
	"policy_update_1.json",
	"quarantine_failure_1.json",
	"retrospective_detection_1.json",
	"retrospective_quarantine_1.json",
	"retrospective_quarantine_attempt_failed_1.json",
	"threat_detected_1.json",
	"threat_detected_2_docs_pair.json",
	"threat_detected_3_stream_message.json",
	"threat_detected_4_quarantine_failed.json",
	"threat_detected_in_low_prevalence_executable_1.json",
	"threat_quarantined_1.json",
	"threat_quarantined_2_docs_pair.json",
};

/* Read a fixture into an exactly sized buffer (no NUL, so ASan sees
 * any read past len). */
static char *
slurp(const char *name, size_t *lenp)
{
	char	 path[256];
	FILE	*f;
	char	*p;
	long	 n;

	snprintf(path, sizeof(path), "../fixtures/events/%s", name);
	ck_assert_msg((f = fopen(path, "rb")) != NULL, "open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	ck_assert_int_gt(n, 0);
	p = malloc((size_t)n);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*lenp = (size_t)n;
	return p;
}

/* event_read as the daemon calls it: one block lent to every event. */
static struct event_mem lent;

static int
read_lent(struct amp_event *ev, const char *body, size_t len,
    const char **reason)
{
	return event_read(ev, body, len, &lent, reason);
}

/* Parse a fixture, failing the test if it is refused. */
static char *
parse_fixture(struct amp_event *ev, const char *name)
{
	const char	*reason = NULL;
	size_t		 len;
	char		*body;

	body = slurp(name, &len);
	ck_assert_msg(event_parse(ev, body, len, &reason) == 0,
	    "%s: %s", name, reason);
	return body;
}

/* Parse a C string body; returns the result and the reason. */
static int
parse_str(struct amp_event *ev, const char *s, const char **reason)
{
	*reason = NULL;
	return event_parse(ev, s, strlen(s), reason);
}

START_TEST(test_every_fixture)
{
	struct amp_event	 ev;
	char		*body;
	size_t		 i;

	for (i = 0; i < nitems(fixtures); i++) {
		body = parse_fixture(&ev, fixtures[i]);
		ck_assert_ptr_nonnull(ev.event_type);
		ck_assert_int_gt(ev.event_type_id, 1000);
		ck_assert(ev.has_id);
		ck_assert_ptr_nonnull(ev.hostname);
		event_clear(&ev);
		ck_assert_ptr_null(ev.mem);
		free(body);
	}
}
END_TEST

/* SecureX Threat Hunting Incident: no id, incident fields, MITRE objects
 * at the top and in threat_hunting (the latter used when the top lacks). */
START_TEST(test_threat_hunting)
{
	struct amp_event	 ev;
	struct json_object	*o;
	const char		*reason, *s;
	char			*body;
	int			 pass;

	for (pass = 0; pass < 2; pass++) {
		body = parse_fixture(&ev, "threat_hunting_incident_1.json");
		if (pass == 1) {
			event_clear(&ev);
			ck_assert_ptr_nonnull(o = json_object_from_file(
			    "../fixtures/events/threat_hunting_incident_1.json"));
			json_object_object_del(o, "tactics");
			json_object_object_del(o, "techniques");
			s = json_object_to_json_string_ext(o,
			    JSON_C_TO_STRING_PLAIN);
			free(body);
			ck_assert_ptr_nonnull(body = strdup(s));
			json_object_put(o);
			ck_assert_msg(event_parse(&ev, body, strlen(body),
			    &reason) == 0, "%s", reason);
		}
		ck_assert(!ev.has_id);
		ck_assert_str_eq(ev.event_type, "SecureX Threat Hunting Incident");
		ck_assert_int_eq(ev.event_type_id, 1107296344);
		ck_assert_str_eq(ev.severity, "Critical");
		ck_assert_str_eq(ev.incident_id, "416");
		ck_assert_str_eq(ev.incident_title, "Valak Variant");
		ck_assert_ptr_nonnull(strstr(ev.incident_remediation,
		    "following:\r\n\r\n- Isolation"));
		ck_assert_str_eq(ev.tactics, "TA0005");
		ck_assert_str_eq(ev.techniques, "T1005,T1053,T1064");
		ck_assert_str_eq(ev.ips, "10.10.10.10");
		ck_assert_str_eq(ev.macs, "87:c2:d9:a2:8c:74");
		ck_assert_ptr_null(ev.group_guids[0]);
		event_clear(&ev);
		free(body);
	}
}
END_TEST

/* A real Threat Detected whose malware is inside an archive (macOS). */
START_TEST(test_archived_file)
{
	struct amp_event	 ev;
	char			*body;

	body = parse_fixture(&ev, "threat_detected_5_archived_file.json");
	ck_assert(!ev.has_id);
	ck_assert_str_eq(ev.disposition, "Blacklisted");
	ck_assert_str_eq(ev.file_name, "eicar_com.zip");
	ck_assert_str_eq(ev.archived_disposition, "Malicious");
	ck_assert_str_eq(ev.archived_sha256,
	    "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0");
	ck_assert_str_eq(ev.parent_name, "Safari");
	ck_assert_str_eq(ev.parent_disposition, "Unknown");
	ck_assert_int_eq(ev.parent_pid, 577);
	ck_assert_str_eq(ev.ips, "192.168.1.131");	/* empty ips left out */
	ck_assert_str_eq(ev.macs,
	    "xx:xx:xx:xx:xx:be,xx:xx:xx:xx:xx:01,xx:xx:xx:xx:11:22");
	ck_assert_uint_eq(ev.ngroups, 1);
	event_clear(&ev);
	free(body);
}
END_TEST

/* A body of exactly len bytes: an event whose detection is all 'd'. */
static char *
long_body(size_t len, const char *members, size_t *detlen)
{
	char	*body = malloc(len);
	size_t	 n;

	ck_assert_ptr_nonnull(body);
	n = (size_t)snprintf(body, len, "{\"event_type\":\"x\","
	    "\"event_type_id\":1,%s\"detection\":\"", members);
	memset(body + n, 'd', len - n - 2);
	memcpy(body + len - 2, "\"}", 2);
	*detlen = len - n - 2;
	return body;
}

static void
same_str(const char *what, const char *a, const char *b)
{
	ck_assert_msg((a == NULL) == (b == NULL) &&
	    (a == NULL || strcmp(a, b) == 0), "%s: \"%s\" vs \"%s\"", what,
	    a ? a : "(null)", b ? b : "(null)");
}

/*
 * The lent block: fixtures read through one block, growing and reused,
 * give what each read in its own block gives; an event past
 * EVENT_MEM_KEEP gets its own block, and the next one the lent block again.
 */
START_TEST(test_lent_block)
{
	struct event_mem	 m = { NULL, 0 };
	struct amp_event	 own, ev;
	const char	*reason = NULL;
	char		*body, *big;
	size_t		 i, k, len, n;

	for (k = 0; k < 2 * nitems(fixtures); k++) {
		i = k < nitems(fixtures) ? k : 2 * nitems(fixtures) - 1 - k;
		body = slurp(fixtures[i], &len);
		ck_assert_int_eq(event_parse(&own, body, len, &reason), 0);
		ck_assert_int_eq(event_read(&ev, body, len, &m, &reason), 0);
		ck_assert(ev.mem_lent && ev.mem == m.p);
		same_str("id", ev.id_str, own.id_str);
		same_str("event_type", ev.event_type, own.event_type);
		same_str("detection", ev.detection, own.detection);
		same_str("hostname", ev.hostname, own.hostname);
		same_str("file_path", ev.file_path, own.file_path);
		same_str("sha256", ev.sha256, own.sha256);
		same_str("ips", ev.ips, own.ips);
		same_str("tactics", ev.tactics, own.tactics);
		same_str("incident_title", ev.incident_title,
		    own.incident_title);
		event_clear(&ev);
		ck_assert_ptr_null(ev.mem);
		ck_assert_ptr_nonnull(m.p);	/* kept for the next */
		event_clear(&own);
		free(body);
	}
	len = EVENT_MEM_KEEP;
	big = long_body(len, "", &n);
	ck_assert_int_eq(event_read(&ev, big, len, &m, &reason), 0);
	ck_assert(!ev.mem_lent && ev.mem != m.p);
	ck_assert_uint_eq(strlen(ev.detection), n);
	ck_assert_uint_le(m.size, EVENT_MEM_KEEP);
	event_clear(&ev);
	ck_assert_int_eq(event_read(&ev, big, 64, &m, &reason), -1);
	ck_assert_ptr_null(ev.mem);
	free(big);
	event_mem_free(&m);
	ck_assert_ptr_null(m.p);
}
END_TEST

START_TEST(test_all_jsonl)
{
	struct amp_event	 ev;
	const char	*reason, *p, *nl, *end;
	char		*body;
	size_t		 len, n = 0;

	body = slurp("all.jsonl", &len);
	end = body + len;
	for (p = body; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p)
			continue;
		ck_assert_msg(event_parse(&ev, p, (size_t)(nl - p), &reason) ==
		    0, "line %zu: %s", n + 1, reason);
		ck_assert_ptr_nonnull(ev.event_type);
		event_clear(&ev);
		n++;
	}
	ck_assert_uint_eq(n, 22);
	free(body);
}
END_TEST

START_TEST(test_stream_message)
{
	struct amp_event	 ev;
	char		*body;

	body = parse_fixture(&ev, "threat_detected_3_stream_message.json");
	ck_assert(ev.has_id);
	ck_assert_str_eq(ev.id_str, "1503580638684881251");
	ck_assert_str_eq(ev.event_type, "Threat Detected");
	ck_assert_int_eq(ev.event_type_id, 1090519054);
	ck_assert_int_eq(ev.timestamp, 1503580638);
	ck_assert_int_eq(ev.timestamp_ns, 684881000);
	ck_assert_str_eq(ev.date, "2017-08-24T13:17:18+00:00");
	ck_assert_ptr_null(ev.severity);
	ck_assert_str_eq(ev.detection, "Eicar-Test-Signature");
	ck_assert_str_eq(ev.detection_id, "12605922338023111");
	ck_assert_str_eq(ev.connector_guid,
	    "d05a5933-880a-41ac-8bb4-949a9c8786c2");	/* from computer */
	ck_assert_str_eq(ev.hostname, "WACLARK-M-M0EV");
	ck_assert_str_eq(ev.user, "u");
	ck_assert_str_eq(ev.external_ip, "173.38.117.92");
	ck_assert_str_eq(ev.ipv4, "10.150.54.101");
	ck_assert_str_eq(ev.mac, "24:a0:74:f0:3b:7a");
	ck_assert_ptr_null(ev.ipv6);
	ck_assert_str_eq(ev.file_name, "pbhistory.plist");
	ck_assert_str_eq(ev.file_path, "/Users/waclark/Library/"
	    "Application Support/iTerm2/pbhistory.plist");
	ck_assert_str_eq(ev.sha256, "E2B523A215898D8839D220F97A64774C"
	    "84E517F5DE09A6992C847E03DF9A4A57");
	ck_assert_ptr_null(ev.sha1);
	ck_assert_str_eq(ev.disposition, "Unknown");
	ck_assert_str_eq(ev.parent_name, "iTerm2");
	ck_assert(ev.has_parent_pid);
	ck_assert_int_eq(ev.parent_pid, 35102);
	ck_assert_str_eq(ev.parent_sha256, "72ECBD137E3B3F876C72E81314E4CF"
	    "D093DBDB08BB05D5BB09636799CA038957");
	ck_assert_ptr_null(ev.description);
	ck_assert(!ev.has_error_code);
	ck_assert_str_eq(ev.api_link, "https://api.amp.cisco.com/v1/"
	    "computers/d05a5933-880a-41ac-8bb4-949a9c8786c2");
	ck_assert_ptr_eq(ev.body, body);
	event_clear(&ev);
	free(body);
}
END_TEST

START_TEST(test_quarantine_failure)
{
	struct amp_event	 ev;
	char		*body;

	body = parse_fixture(&ev, "quarantine_failure_1.json");
	ck_assert_str_eq(ev.id_str, "6533241145273614000");
	ck_assert_int_eq(ev.event_type_id, 2164260880LL);
	ck_assert_str_eq(ev.event_type, "Quarantine Failure");
	ck_assert_str_eq(ev.detection_id, "6533241145273614337");
	ck_assert_ptr_null(ev.detection);
	ck_assert_str_eq(ev.severity, "Medium");
	ck_assert(ev.has_error_code);
	ck_assert_int_eq(ev.error_code, 3221225524LL);
	ck_assert_str_eq(ev.description, "Object name not found");
	ck_assert_str_eq(ev.connector_guid, "test_connector_guid");
	ck_assert_str_eq(ev.ipv4, "10.10.10.10");
	ck_assert_str_eq(ev.mac, "24:78:d8:fd:c4:75");
	ck_assert_str_eq(ev.sha256, "a78c29d1fa05c2b23d1dc9b75da8c053399143682"
	    "fe3779bc466f10e1a997850");
	ck_assert_ptr_null(ev.file_name);
	ck_assert(!ev.has_parent_pid);
	event_clear(&ev);
	free(body);
}
END_TEST

START_TEST(test_docs_pair_pretty)
{
	struct amp_event	 ev;
	char		*body;

	body = parse_fixture(&ev, "threat_detected_2_docs_pair.json");
	ck_assert_str_eq(ev.id_str, "6533241145273614339");
	ck_assert_str_eq(ev.detection_id, "6533241145273614338");
	ck_assert_str_eq(ev.detection, "W32.Overdrive.RET");
	ck_assert_str_eq(ev.user, "johndoe");
	ck_assert_str_eq(ev.ipv4, "50.88.43.2");
	ck_assert_str_eq(ev.mac, "87:9c:f8:c6:c9:cf");
	ck_assert_str_eq(ev.file_path, "\\\\?\\C:\\SqGGuYXyy.exe");
	ck_assert_str_eq(ev.sha1, "cf162622e29bca072d01b274fbbc3ceaacdd13c7");
	ck_assert_str_eq(ev.md5, "0fe5be3811a98ee6a9c997d3812d911a");
	ck_assert_int_eq(ev.parent_pid, 896);
	ck_assert_str_eq(ev.parent_name, "svchost.exe");
	event_clear(&ev);
	free(body);
}
END_TEST

START_TEST(test_other_fixtures)
{
	struct amp_event	 ev;
	char		*body;

	body = parse_fixture(&ev, "file_fetch_failed_1.json");
	ck_assert_int_eq(ev.event_type_id, 2164260910LL);
	ck_assert_int_eq(ev.error_code, 3240099848LL);
	ck_assert_str_eq(ev.id_str, "123578990");
	ck_assert_str_eq(ev.mac, "av:6b:fc:23:a1:29");
	event_clear(&ev);
	free(body);

	body = parse_fixture(&ev, "cloud_ioc_1.json");
	ck_assert_str_eq(ev.description, "W32.WScriptExecuteFakeExtension.ioc");
	ck_assert_ptr_null(ev.parent_name);
	ck_assert_str_eq(ev.parent_sha256, "0a8ce026714e03e72c619307bd598add5"
	    "f9b639cfd91437cb8d9c847bf9f6894");
	event_clear(&ev);
	free(body);

	body = parse_fixture(&ev, "executed_malware_1.json");
	ck_assert_str_eq(ev.id_str, "14930696955218");
	ck_assert_ptr_null(ev.detection_id);
	event_clear(&ev);
	free(body);
}
END_TEST

/* A literal with its length (it may hold a NUL). */
#define LIT(s)	(s), sizeof(s) - 1
#define BAD_UTF8	"not valid UTF-8 (or holds NUL bytes)"

static const struct {
	const char	*body;
	size_t		 len;		/* 0: strlen */
	const char	*reason;
} bad[] = {
	{ "", 0, "empty body" },
	{ "not json at all", 0, "not JSON" },
	{ "[{\"event_type\":\"x\",\"event_type_id\":1}]", 0,
	    "not a JSON object" },
	{ "12", 0, "not a JSON object" },
	{ "\"a string\"", 0, "not a JSON object" },
	{ "null", 0, "not a JSON object" },
	{ "{\"event_type\":\"x\",\"event_type_id\":1", 0, "not JSON" },
	{ "{\"event_type\":\"x\",", 0, "not JSON" },
	{ "{\"event_type_id\":1}", 0, "no event_type" },
	{ "{\"event_type\":7,\"event_type_id\":1}", 0, "no event_type" },
	{ "{\"event_type\":\"x\"}", 0, "no event_type_id" },
	{ "{\"event_type\":\"x\",\"event_type_id\":null}", 0,
	    "no event_type_id" },
	{ "{\"event_type\":\"x\",\"event_type_id\":\"1090519054\"}", 0,
	    "event_type_id not an integer" },
	{ "{\"event_type\":\"x\",\"event_type_id\":1.5}", 0,
	    "event_type_id not an integer" },
	{ LIT("{\"event_type\":\"x\",\"event_type_id\":1\0}"), "embedded NUL" },
	{ LIT("{\"event_type\":\"x\0\",\"event_type_id\":1}"), "embedded NUL" },
	{ LIT("\0"), "embedded NUL" },
	{ "\xef\xbb\xbf", 0, "not JSON" },		/* a BOM is UTF-8 */
	{ "{\"event_type\":\"x\",\"event_type_id\":1}x", 0,
	    "trailing data after the JSON object" },
	{ "{\"event_type\":\"x\",\"event_type_id\":1}{}", 0,
	    "trailing data after the JSON object" },
	{ "{'event_type':'x','event_type_id':1}", 0, "not JSON" },
	{ "{\"event_type\":\"x\",\"event_type_id\":1,}", 0, "not JSON" },
	/* Never a saturated number: refused, kept whole in the dead letters. */
	{ "{\"event_type\":\"x\",\"event_type_id\":9223372036854775808}", 0,
	    "event_type_id out of range" },
	{ "{\"event_type\":\"x\",\"event_type_id\":-9223372036854775809}", 0,
	    "event_type_id out of range" },
	{ "{\"event_type\":\"x\",\"event_type_id\":1,\"id\":"
	    "12345678901234567890123456789012345678901234567890123456789012345}",
	    0, "id longer than 64 digits" },
	{ "{\"event_type\":\"x\",\"event_type_id\":1,\"id\":"
	    "\"12345678901234567890123456789012345678901234567890123456789012345"
	    "\"}", 0, "id longer than 64 digits" },
	/* json-c took these; RFC 8259 does not (tests/fuzz/fuzz_json.c). */
	{ "{\"event_type\":\"x\",\"event_type_id\":1,\"a\":NaN}", 0,
	    "not JSON" },
	{ "{\"event_type\":\"x\",\"event_type_id\":01}", 0, "not JSON" },
	{ "{\"event_type\":\"x\",\"event_type_id\":1,'a':1}", 0, "not JSON" },
	{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 0,
	    "not JSON" },				/* 33 deep */
};

/* Check that parse refuses body with reason want. */
static void
refused(int (*parse)(struct amp_event *, const char *, size_t,
    const char **), const char *body, size_t len, const char *want)
{
	struct amp_event	 ev;
	const char		*reason = NULL;

	ck_assert_msg(parse(&ev, body, len, &reason) == -1, "%.*s accepted",
	    (int)len, body);
	ck_assert_msg(reason != NULL && strcmp(reason, want) == 0,
	    "%.*s: reason \"%s\", want \"%s\"", (int)len, body,
	    reason ? reason : "(null)", want);
	ck_assert_ptr_null(ev.mem);
}

/* The same reasons from event_read, but a NUL byte is not UTF-8 there. */
START_TEST(test_malformed)
{
	const char	*want;
	size_t		 i, len;

	for (i = 0; i < nitems(bad); i++) {
		len = bad[i].len ? bad[i].len : strlen(bad[i].body);
		refused(event_parse, bad[i].body, len, bad[i].reason);
		want = strcmp(bad[i].reason, "embedded NUL") == 0 ? BAD_UTF8 :
		    bad[i].reason;
		refused(read_lent, bad[i].body, len, want);
	}
}
END_TEST

/* Bad UTF-8 is refused by event_read only (its reason is the pipeline's). */
START_TEST(test_not_utf8)
{
	static const char *const body[] = {
		"{\"event_type\":\"\xff\",\"event_type_id\":1}",
		"{\"event_type\":\"\xc0\x80\",\"event_type_id\":1}",
		"{\"event_type\":\"\xed\xa0\x80\",\"event_type_id\":1}",
		"{\"event_type\":\"\xf4\x90\x80\x80\",\"event_type_id\":1}",
		"{\"event_type\":\"\xe2\x82\",\"event_type_id\":1}",
	};
	struct amp_event	 ev;
	const char		*reason;
	size_t			 i;

	for (i = 0; i < nitems(body); i++) {
		refused(read_lent, body[i], strlen(body[i]), BAD_UTF8);
		ck_assert_int_eq(parse_str(&ev, body[i], &reason), 0);
		event_clear(&ev);
	}
	refused(read_lent, LIT("{\"event_type\":\"x\",\"event_type_id\":1}"
	    "\xc3"), BAD_UTF8);				/* cut short */
	ck_assert_int_eq(read_lent(&ev, LIT("{\"event_type\":\"\xc3\xa9\xf0"
	    "\x9f\x98\x80\",\"event_type_id\":1}"), &reason), 0);
	ck_assert_str_eq(ev.event_type, "\xc3\xa9\xf0\x9f\x98\x80");
	event_clear(&ev);
}
END_TEST

/*
 * A body over the old 1 MiB limit is an event like any other (the stream
 * keeps bodies over max_message away): its long values stay whole here.
 */
START_TEST(test_huge_body)
{
	struct amp_event	 ev;
	const char	*reason = NULL;
	char		*body;
	size_t		 len = 3 * 1024 * 1024, n;

	body = long_body(len, "\"id\":7,", &n);
	ck_assert_int_eq(read_lent(&ev, body, len, &reason), 0);
	ck_assert_uint_eq(strlen(ev.detection), n);
	ck_assert_str_eq(ev.id_str, "7");
	event_clear(&ev);
	body[len - 3] = '\xc3';		/* cut inside a character */
	refused(read_lent, body, len, BAD_UTF8);
	free(body);
}
END_TEST

START_TEST(test_trailing_space_ok)
{
	struct amp_event	 ev;
	const char	*reason;

	ck_assert_int_eq(parse_str(&ev, "  {\"event_type\":\"x\","
	    "\"event_type_id\":1}\r\n ", &reason), 0);
	ck_assert(!ev.has_id);
	ck_assert_ptr_null(ev.detection_id);
	event_clear(&ev);
}
END_TEST

/* Ids are exact decimal text, up to UINT64_MAX. */
START_TEST(test_big_ids)
{
	static const char *const ids[] = {
		"18446744073709551615", "9223372036854775808",
		"9223372036854775807", "-5",
	};
	struct amp_event	 ev;
	const char	*reason;
	char		 body[128];
	size_t		 i;

	for (i = 0; i < nitems(ids); i++) {
		snprintf(body, sizeof(body), "{\"id\":%s,\"event_type\":\"x\","
		    "\"event_type_id\":4294967295}", ids[i]);
		ck_assert_int_eq(parse_str(&ev, body, &reason), 0);
		ck_assert_str_eq(ev.id_str, ids[i]);
		ck_assert_int_eq(ev.event_type_id, 4294967295LL);
		event_clear(&ev);
	}
}
END_TEST

/*
 * An id is its exact digits whatever their number: as a string of digits,
 * or a number past UINT64_MAX (not saturated to 18446744073709551615).
 */
START_TEST(test_exact_ids)
{
	static const struct {
		const char	*json;		/* the id member's value */
		const char	*id;		/* NULL: no id */
	} c[] = {
		{ "\"1503580638684881251\"", "1503580638684881251" },
		{ "\"18446744073709551616\"", "18446744073709551616" },
		{ "18446744073709551616", "18446744073709551616" },
		{ "99999999999999999999999999999", "99999999999999999999999999999" },
		{ "-9223372036854775809", "-9223372036854775809" },
		{ "\"0042\"", "0042" },
		{ "\"\"", NULL }, { "\"12a\"", NULL }, { "\"-5\"", NULL },
		{ "\" 5\"", NULL }, { "1.0", NULL }, { "1e3", NULL },
		{ "true", NULL }, { "null", NULL }, { "[1]", NULL },
		{ "1234567890123456789012345678901234567890123456789012345678901234",
		    "1234567890123456789012345678901234567890123456789012345678901234" },
	};
	struct amp_event	 ev;
	const char	*reason;
	char		 body[256];
	size_t		 i;

	for (i = 0; i < nitems(c); i++) {
		snprintf(body, sizeof(body), "{\"event_type\":\"x\","
		    "\"event_type_id\":1,\"id\":%s}", c[i].json);
		ck_assert_msg(parse_str(&ev, body, &reason) == 0, "%s: %s",
		    body, reason);
		if (c[i].id == NULL)
			ck_assert_msg(!ev.has_id, "%s", body);
		else {
			ck_assert_msg(ev.has_id, "%s", body);
			ck_assert_str_eq(ev.id_str, c[i].id);
		}
		event_clear(&ev);
	}
	ck_assert_int_eq(parse_str(&ev, "{\"event_type\":\"x\","
	    "\"event_type_id\":1,\"detection_id\":98765432109876543210987}",
	    &reason), 0);
	ck_assert_str_eq(ev.detection_id, "98765432109876543210987");
	event_clear(&ev);
	ck_assert_int_eq(parse_str(&ev, "{\"event_type\":\"x\","
	    "\"event_type_id\":-9223372036854775808}", &reason), 0);
	ck_assert(ev.event_type_id == INT64_MIN);
	event_clear(&ev);
}
END_TEST

/* A repeated name: the last one counts (as json-c had it). */
START_TEST(test_repeated_names)
{
	struct amp_event	 ev;
	const char	*reason;

	ck_assert_int_eq(parse_str(&ev, "{\"event_type\":\"a\",\"id\":1,"
	    "\"computer\":{\"hostname\":\"h1\"},\"event_type\":\"b\","
	    "\"event_type_id\":1,\"computer\":{\"user\":\"u\"},\"id\":"
	    "\"2\",\"severity\":\"High\",\"severity\":3}", &reason), 0);
	ck_assert_str_eq(ev.event_type, "b");
	ck_assert_str_eq(ev.id_str, "2");
	ck_assert_ptr_null(ev.hostname);
	ck_assert_str_eq(ev.user, "u");
	ck_assert_ptr_null(ev.severity);
	event_clear(&ev);
}
END_TEST

START_TEST(test_detection_id_number)
{
	struct amp_event	 ev;
	const char	*reason;

	ck_assert_int_eq(parse_str(&ev, "{\"event_type\":\"x\","
	    "\"event_type_id\":1,\"detection_id\":6533241145273614338}",
	    &reason), 0);
	ck_assert_str_eq(ev.detection_id, "6533241145273614338");
	event_clear(&ev);
	ck_assert_int_eq(parse_str(&ev, "{\"event_type\":\"x\","
	    "\"event_type_id\":1,\"detection_id\":12345678901234567890}",
	    &reason), 0);
	ck_assert_str_eq(ev.detection_id, "12345678901234567890");
	event_clear(&ev);
	ck_assert_int_eq(parse_str(&ev, "{\"event_type\":\"x\","
	    "\"event_type_id\":1,\"detection_id\":1.5}", &reason), 0);
	ck_assert_ptr_null(ev.detection_id);
	event_clear(&ev);
}
END_TEST

START_TEST(test_wrong_types)
{
	struct amp_event	 ev;
	const char	*reason;

	ck_assert_int_eq(parse_str(&ev, "{\"id\":\"123\",\"event_type\":\"x\","
	    "\"event_type_id\":1,\"timestamp\":\"now\",\"severity\":3,"
	    "\"timestamp_nanoseconds\":-4,\"detection\":[1],"
	    "\"connector_guid\":{},\"computer\":\"pc\",\"file\":[],"
	    "\"error\":{\"error_code\":\"x\",\"description\":5},"
	    "\"cloud_ioc\":7}", &reason), 0);
	ck_assert(ev.has_id);		/* a string of digits is an id */
	ck_assert_str_eq(ev.id_str, "123");
	ck_assert_int_eq(ev.timestamp, 0);
	ck_assert_int_eq(ev.timestamp_ns, 0);
	ck_assert_ptr_null(ev.severity);
	ck_assert_ptr_null(ev.detection);
	ck_assert_ptr_null(ev.connector_guid);
	ck_assert_ptr_null(ev.hostname);
	ck_assert_ptr_null(ev.file_name);
	ck_assert(!ev.has_error_code);
	ck_assert_ptr_null(ev.description);
	event_clear(&ev);
	ck_assert_int_eq(parse_str(&ev, "{\"event_type\":\"x\","
	    "\"event_type_id\":1,\"computer\":{\"hostname\":1,"
	    "\"links\":[],\"network_addresses\":{\"ip\":\"1.2.3.4\"}},"
	    "\"file\":{\"identity\":\"x\",\"parent\":{\"process_id\":\"9\","
	    "\"identity\":{\"sha256\":null}}}}", &reason), 0);
	ck_assert_ptr_null(ev.hostname);
	ck_assert_ptr_null(ev.api_link);
	ck_assert_ptr_null(ev.ipv4);
	ck_assert_ptr_null(ev.sha256);
	ck_assert(!ev.has_parent_pid);
	ck_assert_ptr_null(ev.parent_sha256);
	event_clear(&ev);
}
END_TEST

START_TEST(test_addresses)
{
	struct amp_event	 ev;
	const char	*reason;

	ck_assert_int_eq(parse_str(&ev, "{\"event_type\":\"x\","
	    "\"event_type_id\":1,\"computer\":{\"network_addresses\":["
	    "5,{\"ip\":\"\",\"mac\":\"m0\"},{\"ip\":\"fe80::1\",\"mac\":\"m6\"},"
	    "{\"ip\":\"bogus\",\"mac\":\"mb\"},{\"ip\":\"10.0.0.1\","
	    "\"mac\":\"m4\"},{\"ip\":\"10.0.0.2\",\"mac\":\"m5\"}]}}",
	    &reason), 0);
	ck_assert_str_eq(ev.ipv4, "10.0.0.1");
	ck_assert_str_eq(ev.ipv6, "fe80::1");
	ck_assert_str_eq(ev.mac, "m4");
	event_clear(&ev);
	ck_assert_int_eq(parse_str(&ev, "{\"event_type\":\"x\","
	    "\"event_type_id\":1,\"computer\":{\"network_addresses\":["
	    "{\"ip\":\"2001:db8::2\",\"mac\":\"m6\"}]}}", &reason), 0);
	ck_assert_ptr_null(ev.ipv4);
	ck_assert_str_eq(ev.ipv6, "2001:db8::2");
	ck_assert_str_eq(ev.mac, "m6");
	event_clear(&ev);
}
END_TEST

START_TEST(test_escaped_nul)
{
	struct amp_event	 ev;
	const char	*reason;

	ck_assert_int_eq(parse_str(&ev, "{\"event_type\":\"a\\u0000b\","
	    "\"event_type_id\":1,\"computer\":{\"hostname\":"
	    "\"h\\u0000\\u0000ost\"}}", &reason), 0);
	ck_assert_str_eq(ev.event_type, "ab");
	ck_assert_str_eq(ev.hostname, "host");
	event_clear(&ev);
}
END_TEST

Suite *
suite_event(void)
{
	Suite	*s = suite_create("event");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_every_fixture);
	tcase_add_test(tc, test_all_jsonl);
	tcase_add_test(tc, test_threat_hunting);
	tcase_add_test(tc, test_archived_file);
	tcase_add_test(tc, test_stream_message);
	tcase_add_test(tc, test_quarantine_failure);
	tcase_add_test(tc, test_docs_pair_pretty);
	tcase_add_test(tc, test_other_fixtures);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_not_utf8);
	tcase_add_test(tc, test_huge_body);
	tcase_add_test(tc, test_trailing_space_ok);
	tcase_add_test(tc, test_big_ids);
	tcase_add_test(tc, test_exact_ids);
	tcase_add_test(tc, test_repeated_names);
	tcase_add_test(tc, test_detection_id_number);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_escaped_nul);
	tcase_add_test(tc, test_lent_block);
	suite_add_tcase(s, tc);
	return s;
}
