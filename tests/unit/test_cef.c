/*
 * test_cef.c: the CEF formatter.  Every record a test produces is also fed
 * to liblognorm's strict CEF parser (tests/lib/cef-check.sh, lognormalizer)
 * and must parse; some values are compared after its unescaping.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "config.h"
#include "corr.h"
#include "event.h"
#include "fmt_kv.h"
#include "format.h"
#include "console.h"
#include "rec_decode.h"
#include "unit.h"

#define RECEIVED_MS	1795546800123LL	/* 2026-11-24T19:00:00.123Z */
#define DOCS_URL	"https://console.amp.cisco.com/computers/" \
			"0b4883d4-8ecf-4404-9453-13cba0ee7662/trajectory2" \
			"?id=6533241145273614339"

static struct buf	 lines;		/* records produced by the test */
static size_t		 nlines;

static void	 lines_reset(void);
static void	 lines_free(void);
static struct json_object *lines_check(void);
static const char *ext(struct json_object *, size_t, const char *);
static const char *hdr(struct json_object *, size_t, const char *);
static size_t	 next_count(struct json_object *, size_t);
static struct format_ctx ctx_default(void);
static char	*cef(const struct amp_event *, const struct format_ctx *);
static bool	 utf8_valid(const char *);

static void
lines_reset(void)
{
	buf_init(&lines, 0);
	nlines = 0;
}

static void
lines_free(void)
{
	buf_free(&lines);
	nlines = 0;
}

/* Pipe the collected records through cef-check.sh; return its parsed
 * output, one object per record (the test owns it). */
static struct json_object *
lines_check(void)
{
	char		 tmp[] = "/tmp/cefcheck.XXXXXX", cmd[128], line[65536];
	struct json_object *arr, *o;
	FILE		*p, *f;
	int		 fd, st;

	ck_assert_int_ge(fd = mkstemp(tmp), 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "sh ../lib/cef-check.sh > %s", tmp);
	ck_assert_ptr_nonnull(p = popen(cmd, "w"));
	if (lines.len > 0)
		ck_assert_uint_eq(fwrite(lines.data, 1, lines.len, p),
		    lines.len);
	st = pclose(p);
	ck_assert_ptr_nonnull(f = fopen(tmp, "r"));
	arr = json_object_new_array();
	while (fgets(line, sizeof(line), f) != NULL) {
		ck_assert_ptr_nonnull(o = json_tokener_parse(line));
		json_object_array_add(arr, o);
	}
	fclose(f);
	unlink(tmp);
	ck_assert_msg(st == 0, "cef-check.sh failed (status %d): %s", st,
	    json_object_to_json_string(arr));
	ck_assert_uint_eq(json_object_array_length(arr), nlines);
	lines_free();
	return arr;
}

/* Extension value key of record i as liblognorm parsed it, or NULL. */
static const char *
ext(struct json_object *arr, size_t i, const char *key)
{
	struct json_object	*c, *e, *v;

	if (!json_object_object_get_ex(json_object_array_get_idx(arr, i),
	    "cef", &c) || !json_object_object_get_ex(c, "Extensions", &e) ||
	    !json_object_object_get_ex(e, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* Header field key (DeviceVendor, Name, ...) of record i. */
static const char *
hdr(struct json_object *arr, size_t i, const char *key)
{
	struct json_object	*c, *v;

	if (!json_object_object_get_ex(json_object_array_get_idx(arr, i),
	    "cef", &c) || !json_object_object_get_ex(c, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* Number of extension keys of record i. */
static size_t
next_count(struct json_object *arr, size_t i)
{
	struct json_object	*c, *e;

	if (!json_object_object_get_ex(json_object_array_get_idx(arr, i),
	    "cef", &c) || !json_object_object_get_ex(c, "Extensions", &e))
		return 0;
	return (size_t)json_object_object_length(e);
}

static struct format_ctx
ctx_default(void)
{
	struct format_ctx	 ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.stream = "s1";
	ctx.cloud = "nam";
	ctx.received_ms = RECEIVED_MS;
	ctx.default_severity = 1;
	ctx.max_len = 8192;
	return ctx;
}

/* Format ev (which must succeed and fit), collect and return the record. */
static char *
cef(const struct amp_event *ev, const struct format_ctx *ctx)
{
	struct buf	 out;
	char		*s;
	size_t		 len;

	buf_init(&out, 0);
	ck_assert_int_eq(format_cef_ops.format(ev, ctx, &out), 0);
	s = buf_release(&out, &len);
	ck_assert_uint_eq(strlen(s), len);
	if (ctx->max_len != 0)
		ck_assert_uint_le(len, ctx->max_len);
	ck_assert(strncmp(s, "CEF:0|Cisco|Secure Endpoint|", 28) == 0);
	ck_assert_ptr_null(strpbrk(s, "\r\n\t"));
	ck_assert(utf8_valid(s));
	buf_puts(&lines, s);
	buf_putc(&lines, '\n');
	nlines++;
	return s;
}

/* True if s is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static bool
utf8_valid(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned int		 cp, n, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 2, cp = *p & 0x1f;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 3, cp = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 4, cp = *p & 0x07;
		else
			return false;
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		    || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		p += n;
	}
	return true;
}

static const char docs_expected[] =
    "CEF:0|Cisco|Secure Endpoint|" AMPSTREAM_VERSION "|1090519054|"
    "Threat Detected|6|"
    "rt=1593079552619 externalId=6533241145273614339 "
    "deviceExternalId=0b4883d4-8ecf-4404-9453-13cba0ee7662 "
    "dhost=Demo_AMP_Threat_Quarantined duser=johndoe dst=50.88.43.2 "
    "dmac=87:9c:f8:c6:c9:cf destinationTranslatedAddress=163.32.98.150 "
    "fname=SqGGuYXyy.exe filePath=\\\\\\\\?\\\\C:\\\\SqGGuYXyy.exe "
    "fileHash=a78c29d1fa05c2b23d1dc9b75da8c053399143682fe3779bc466f10e1a997850 "
    "sproc=svchost.exe spid=896 act=Threat Detected cat=Threat "
    "cs1Label=Detection cs1=W32.Overdrive.RET "
    "cs2Label=Detection ID cs2=6533241145273614338 "
    "cs3Label=Disposition cs3=Malicious "
    "cs6Label=Console URL cs6=https://console.amp.cisco.com/computers/"
    "0b4883d4-8ecf-4404-9453-13cba0ee7662/trajectory2"
    "?id\\=6533241145273614339 flexString2Label=Parent SHA256 "
    "flexString2=121118a0f5e0e8c933efd28c9901e54e42792619a8a3a6d11e1f0025a7324bc2 "
    "ad.stream=s1 ad.cloud=nam ad.fileSha1=cf162622e29bca072d01b274fbbc3ceaacdd13c7 "
    "ad.fileMd5=0fe5be3811a98ee6a9c997d3812d911a "
    "ad.parentSha1=4af001b3c3816b860660cf2de2c0fd3c1dfb4878 "
    "ad.parentMd5=54a47f6b5e09a77e61649109c6a08866 ad.parentDisposition=Clean "
    "ad.ips=50.88.43.2 ad.macs=87:9c:f8:c6:c9:cf";

static const char qf_expected[] =
    "CEF:0|Cisco|Secure Endpoint|" AMPSTREAM_VERSION "|2164260880|"
    "Quarantine Failure|6|"
    "rt=1610618752525 externalId=6533241145273614000 "
    "deviceExternalId=test_connector_guid "
    "dhost=Demo_AMP_Threat_Quarantined dst=10.10.10.10 "
    "dmac=24:78:d8:fd:c4:75 destinationTranslatedAddress=81.2.69.144 "
    "fileHash=a78c29d1fa05c2b23d1dc9b75da8c053399143682fe3779bc466f10e1a997850 "
    "act=Quarantine Failure outcome=failure cat=Quarantine msg=Object name not found "
    "cs2Label=Detection ID cs2=6533241145273614337 "
    "cs3Label=Disposition cs3=Malicious "
    "cn1Label=Error Code cn1=3221225524 ad.stream=s1 ad.cloud=nam "
    "ad.ips=10.10.10.10 ad.macs=24:78:d8:fd:c4:75";

START_TEST(test_exact_fixture)
{
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*arr;
	struct tev		 t;
	char			*s;

	lines_reset();
	tev_from(&t, fixture_obj("threat_detected_2_docs_pair.json"));
	ctx.console_url = DOCS_URL;
	s = cef(&t.ev, &ctx);
	ck_assert_str_eq(s, docs_expected);
	free(s);
	tev_free(&t);
	tev_from(&t, fixture_obj("quarantine_failure_1.json"));
	ctx.console_url = NULL;
	s = cef(&t.ev, &ctx);
	ck_assert_str_eq(s, qf_expected);
	free(s);
	tev_free(&t);
	arr = lines_check();
	ck_assert_str_eq(hdr(arr, 0, "Name"), "Threat Detected");
	ck_assert_str_eq(hdr(arr, 0, "SignatureID"), "1090519054");
	ck_assert_str_eq(ext(arr, 0, "filePath"), "\\\\?\\C:\\SqGGuYXyy.exe");
	ck_assert_str_eq(ext(arr, 0, "cs6"), DOCS_URL);
	ck_assert_str_eq(ext(arr, 0, "rt"), "1593079552619");
	ck_assert_str_eq(ext(arr, 1, "cn1"), "3221225524");
	ck_assert_str_eq(ext(arr, 1, "msg"), "Object name not found");
	json_object_put(arr);
}
END_TEST

/*
 * Group GUIDs (the event's first EVENT_GROUPS_MAX) and the names the cache
 * knows, in all three formats; the decoders read them back (dec_wants).
 */
START_TEST(test_groups)
{
	static const char *const guids[] = { "g-audit", "g-unknown",
	    "g=servers", "4", "5", "6", "7", "8", "9" };
	const char	*names[EVENT_GROUPS_MAX] = { "Audit", NULL,
	    "Servers, EU=1" };
	struct format_ctx ctx = ctx_default();
	struct json_object *o, *a, *g, *v;
	struct tev	 t;
	struct buf	 out;
	size_t		 i;
	char		*s;

	o = fixture_obj("cloud_ioc_1.json");
	a = json_object_new_array();
	for (i = 0; i < nitems(guids); i++)
		json_object_array_add(a, json_object_new_string(guids[i]));
	json_object_object_add(o, "group_guids", a);
	tev_from(&t, o);
	ck_assert_uint_eq(t.ev.ngroups, EVENT_GROUPS_MAX);	/* 9th dropped */
	ck_assert_str_eq(t.ev.group_guids[2], "g=servers");
	ctx.group_names = names;
	ctx.group_guids_text = "g-audit,g-unknown,g=servers,4,5,6,7,8";
	ctx.group_names_text = "Audit,Servers, EU=1";
	s = dec_roundtrip(&format_cef_ops, &t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s, " ad.groupNames=Audit,Servers, EU\\=1 "));
	free(s);
	free(dec_roundtrip(&format_leef_ops, &t.ev, &ctx));
	buf_init(&out, 0);
	ck_assert_int_eq(format_json_ops.format(&t.ev, &ctx, &out), 0);
	ck_assert_ptr_nonnull(o = json_tokener_parse(out.data));
	ck_assert(json_object_object_get_ex(o, "ampstream", &a));
	ck_assert(json_object_object_get_ex(a, "group_names", &g));
	ck_assert_int_eq(json_object_object_length(g), 2);
	ck_assert(json_object_object_get_ex(g, "g=servers", &v));
	ck_assert_str_eq(json_object_get_string(v), "Servers, EU=1");
	ck_assert(!json_object_object_get_ex(g, "g-unknown", &v));
	json_object_put(o);
	/* no name known: no group_names member at all */
	names[0] = names[2] = NULL;
	ctx.group_names_text = NULL;
	buf_reset(&out);
	ck_assert_int_eq(format_json_ops.format(&t.ev, &ctx, &out), 0);
	ck_assert_ptr_null(strstr(out.data, "group_names"));
	ck_assert_ptr_nonnull(o = json_tokener_parse(out.data));
	json_object_put(o);
	free(dec_roundtrip(&format_cef_ops, &t.ev, &ctx));
	buf_free(&out);
	tev_free(&t);
}
END_TEST

/* The text fields of test_rich that the size sweep fills. */
static const char *const rich_paths[] = {
	"threat_hunting.incident_title", "threat_hunting.incident_summary",
	"threat_hunting.incident_remediation", "computer.operating_system",
	"file.parent.identity.sha1", "file.parent.identity.md5",
	"file.parent.disposition", "file.archived_file.identity.sha256",
	"file.archived_file.disposition", "network_info.dirty_url",
	"network_info.nfm.protocol", "network_info.nfm.direction",
	"computer.hostname", "file.identity.sha1",
};

/* Collect a CEF record for the liblognorm check, and free it. */
static void
keep_line(char *s)
{
	buf_puts(&lines, s);
	buf_puts(&lines, "\n");
	nlines++;
	free(s);
}

/*
 * The rich fields (docs/records.md): MITRE ids as strings and as objects,
 * every address (a repeated mac once, an overlong item and one with a
 * comma skipped), the parent's and the archived file's, the flow, a
 * threat hunting incident; read back in CEF and LEEF, then all at their
 * longest under max_record: the record fits and parses, optional keys go
 * before the others are cut short.
 */
START_TEST(test_rich)
{
	static const char body[] = "{\"id\":7,\"event_type\":"
	    "\"SecureX Threat Hunting Incident\",\"event_type_id\":1107296274,"
	    "\"tactics\":[\"TA0002\",{\"name\":\"Execution\",\"external_id\":"
	    "\"TA0002\"},{\"external_id\":\"TA0005\"},\"a,b\",\"\"],"
	    "\"techniques\":[{\"external_id\":\"T1204.003\",\"mitre_url\":"
	    "\"https://attack.mitre.org/techniques/T1204/003\"}],"
	    "\"threat_hunting\":{\"incident_id\":42,\"incident_title\":"
	    "\"Lateral movement\",\"incident_summary\":\"x=1\\ny\","
	    "\"incident_remediation\":\"Isolate the host\"},"
	    "\"computer\":{\"hostname\":\"h\",\"operating_system\":"
	    "\"Windows 10\",\"network_addresses\":[{\"ip\":\"10.0.0.1\","
	    "\"mac\":\"aa:bb\"},{\"ip\":\"fe80::1\",\"mac\":\"aa:bb\"},"
	    "{\"ip\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}]},"
	    "\"file\":{\"identity\":{\"sha256\":\"ab\",\"sha1\":\"s1\","
	    "\"md5\":\"m5\"},\"parent\":{\"disposition\":\"Clean\","
	    "\"identity\":{\"sha1\":\"ps1\",\"md5\":\"pm5\"}},"
	    "\"archived_file\":{\"disposition\":\"Malicious\",\"identity\":"
	    "{\"sha256\":\"cd\"}}},\"network_info\":{\"dirty_url\":"
	    "\"http://evil.example/a?b=c\",\"nfm\":{\"protocol\":\"TCP\","
	    "\"direction\":\"Outgoing connection from\"}}}";
	char		 longest[257];
	struct conf_field tf[] = { { "tenant", "ad.tenant", "acme" },
	    { "site", "ad.site", "eu=1" } };
	const struct conf_fields tenant = { tf, 2 };
	struct format_ctx ctx = ctx_default();
	struct json_object *o;
	struct buf	 big;
	struct tev	 t;
	const char	*reason;
	char		*s;
	size_t		 i;

	lines_reset();
	ck_assert_ptr_nonnull(t.body = strdup(body));
	ck_assert_msg(event_parse(&t.ev, t.body, strlen(t.body), &reason) ==
	    0, "%s", reason);
	ck_assert_str_eq(t.ev.tactics, "TA0002,TA0005");
	ck_assert_str_eq(t.ev.techniques, "T1204.003");
	ck_assert_str_eq(t.ev.ips, "10.0.0.1,fe80::1");
	ck_assert_str_eq(t.ev.macs, "aa:bb");
	ck_assert_str_eq(t.ev.incident_id, "42");
	ck_assert_str_eq(t.ev.archived_sha256, "cd");
	ck_assert_str_eq(t.ev.direction, "Outgoing connection from");
	ctx.fields = &tenant;
	s = dec_roundtrip(&format_cef_ops, &t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s, "|ad.tenant=acme ad.site=eu\\=1 rt="));
	ck_assert_ptr_nonnull(strstr(s, " request=http://evil.example/a?b\\=c "
	    "proto=TCP ad.stream=s1 ad.cloud=nam ad.mitreTactics=TA0002,TA0005 "
	    "ad.mitreTechniques=T1204.003 ad.incidentId=42 "
	    "ad.incidentTitle=Lateral movement ad.incidentSummary=x\\=1\\ny "));
	keep_line(s);
	s = dec_roundtrip(&format_leef_ops, &t.ev, &ctx);
	ck_assert_msg(strstr(s, "SSSZ^tenant=acme^site=eu=1^sev=") != NULL, "%s", s);
	free(s);
	buf_init(&big, 0);
	ck_assert_int_eq(format_json_ops.format(&t.ev, &ctx, &big), 0);
	ck_assert_ptr_nonnull(strstr(big.data,
	    ",\"fields\":{\"tenant\":\"acme\",\"site\":\"eu=1\"}"));
	ck_assert_ptr_nonnull(o = json_tokener_parse(big.data));
	json_object_put(o);
	buf_free(&big);
	tev_free(&t);
	/* every text field at 2 KiB: 1024 bytes at most, still parsed */
	o = json_tokener_parse(body);
	buf_init(&big, 0);
	while (big.len < 2048)
		buf_puts(&big, "long value ");
	for (i = 0; i < nitems(rich_paths); i++)
		set_str(o, rich_paths[i], big.data, big.len);
	tev_from(&t, o);
	/* the cache's values at their longest (GROUPS_NAME_MAX) */
	memset(longest, 'p', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	ctx.policy = ctx.isolation = longest;
	for (ctx.max_len = 8192; ctx.max_len >= 1024; ctx.max_len /= 2) {
		keep_line(dec_roundtrip(&format_cef_ops, &t.ev, &ctx));
		free(dec_roundtrip(&format_leef_ops, &t.ev, &ctx));
	}
	json_object_put(lines_check());
	buf_free(&big);
	tev_free(&t);
}
END_TEST

/* The computer's policy and isolation status (GET /v1/computers), when
 * the cache knows them: CEF ad.policy/ad.isolation, LEEF, JSON. */
START_TEST(test_computer)
{
	struct format_ctx ctx = ctx_default();
	struct json_object *o, *a, *c, *v;
	struct tev	 t;
	struct buf	 out;
	char		*s;
	int		 pass;

	tev_from(&t, fixture_obj("threat_detected_1.json"));
	ctx.policy = "Protect = Windows";
	ctx.isolation = "isolated";
	s = dec_roundtrip(&format_cef_ops, &t.ev, &ctx);
	ck_assert_msg(strstr(s, " ad.policy=Protect \\= Windows "
	    "ad.isolation=isolated") != NULL, "%s", s);
	free(s);
	s = dec_roundtrip(&format_leef_ops, &t.ev, &ctx);
	ck_assert_msg(strstr(s, "^policy=Protect = Windows^isolation=isolated")
	    != NULL, "%s", s);
	free(s);
	buf_init(&out, 0);
	for (pass = 0; pass < 3; pass++) {
		buf_reset(&out);
		ck_assert_int_eq(format_json_ops.format(&t.ev, &ctx, &out), 0);
		ck_assert_ptr_nonnull(o = json_tokener_parse(out.data));
		ck_assert(json_object_object_get_ex(o, "ampstream", &a));
		if (pass == 2)
			ck_assert(!json_object_object_get_ex(a, "computer", &c));
		else {
			ck_assert(json_object_object_get_ex(a, "computer", &c));
			ck_assert(json_object_object_get_ex(c, "policy", &v));
			ck_assert_str_eq(json_object_get_string(v),
			    "Protect = Windows");
			ck_assert(json_object_object_get_ex(c, "isolation",
			    &v));
			if (pass == 0)
				ck_assert_str_eq(json_object_get_string(v),
				    "isolated");
			else
				ck_assert_ptr_null(v);
		}
		json_object_put(o);
		if (pass == 0)
			ctx.isolation = NULL;
		else
			ctx.policy = NULL;
	}
	s = dec_roundtrip(&format_cef_ops, &t.ev, &ctx);
	ck_assert_ptr_null(strstr(s, "ad.policy"));
	free(s);
	buf_free(&out);
	tev_free(&t);
}
END_TEST

/*
 * A real SecureX Threat Hunting Incident (no id, no group, MITRE objects,
 * a multi-line remediation): every incident field in CEF, LEEF and JSON,
 * read back by the decoders, strict-parsed.
 */
START_TEST(test_threat_hunting)
{
	struct format_ctx ctx = ctx_default();
	struct json_object *arr, *o, *m;
	struct buf	 b;
	struct tev	 t;
	char		*s;

	lines_reset();
	tev_from(&t, fixture_obj("threat_hunting_incident_1.json"));
	keep_line(s = dec_roundtrip(&format_cef_ops, &t.ev, &ctx));
	free(dec_roundtrip(&format_leef_ops, &t.ev, &ctx));
	s = dec_roundtrip(&format_leef_ops, &t.ev, &ctx);
	ck_assert_msg(strstr(s, "^incidentId=416^incidentTitle=Valak Variant^")
	    != NULL, "%s", s);
	ck_assert_ptr_nonnull(strstr(s, "^mitreTactics=TA0005^"
	    "mitreTechniques=T1005,T1053,T1064^"));
	free(s);
	buf_init(&b, 0);
	ck_assert_int_eq(format_json_ops.format(&t.ev, &ctx, &b), 0);
	ck_assert_ptr_nonnull(o = json_tokener_parse(b.data));
	ck_assert(json_object_object_get_ex(o, "ampstream", &m));
	ck_assert(json_object_object_get_ex(m, "id_str", &m));
	ck_assert_ptr_null(m);
	ck_assert(json_object_object_get_ex(o, "threat_hunting", &m));
	json_object_put(o);
	buf_free(&b);
	tev_free(&t);
	arr = lines_check();
	ck_assert_str_eq(hdr(arr, 0, "Severity"), "10");
	ck_assert_str_eq(hdr(arr, 0, "SignatureID"), "1107296344");
	ck_assert_str_eq(ext(arr, 0, "cat"), "Compromise");
	ck_assert_str_eq(ext(arr, 0, "ad.incidentId"), "416");
	ck_assert_str_eq(ext(arr, 0, "ad.incidentTitle"), "Valak Variant");
	ck_assert_str_eq(ext(arr, 0, "ad.mitreTactics"), "TA0005");
	ck_assert_str_eq(ext(arr, 0, "ad.mitreTechniques"),
	    "T1005,T1053,T1064");
	ck_assert_str_eq(ext(arr, 0, "ad.ips"), "10.10.10.10");
	ck_assert_ptr_nonnull(strstr(ext(arr, 0, "ad.incidentRemediation"),
	    "following:\r\n\r\n- Isolation"));
	ck_assert_ptr_nonnull(strstr(ext(arr, 0, "ad.incidentSummary"),
	    "Valak malware variant."));
	json_object_put(arr);
}
END_TEST

START_TEST(test_every_fixture)
{
	static const char *const names[] = {
		"cloud_ioc_1.json", "cloud_ioc_2_command_line.json",
		"cloud_ioc_3_encoded_powershell.json", "cloud_ioc_4_macos.json",
		"dfc_threat_detected_1.json", "executed_malware_1.json",
		"exploit_prevention_1.json", "file_fetch_completed_1.json",
		"file_fetch_failed_1.json", "multiple_infected_files_1.json",
		"policy_update_1.json", "quarantine_failure_1.json",
		"retrospective_detection_1.json",
		"retrospective_quarantine_1.json",
		"retrospective_quarantine_attempt_failed_1.json",
		"threat_detected_1.json", "threat_detected_2_docs_pair.json",
		"threat_detected_3_stream_message.json",
		"threat_detected_4_quarantine_failed.json",
		"threat_detected_in_low_prevalence_executable_1.json",
		"threat_quarantined_1.json",
		"threat_quarantined_2_docs_pair.json",
	};
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*arr;
	struct tev		 t[sizeof(names) / sizeof(names[0])];
	char			 num[32];
	size_t			 i, n = sizeof(names) / sizeof(names[0]);

	lines_reset();
	ctx.console_url = "https://console.eu.amp.cisco.com/x?a=1&b=2";
	for (i = 0; i < n; i++) {
		tev_from(&t[i], fixture_obj(names[i]));
		free(cef(&t[i].ev, &ctx));
	}
	arr = lines_check();
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%lld",
		    (long long)t[i].ev.event_type_id);
		ck_assert_str_eq(hdr(arr, i, "SignatureID"), num);
		ck_assert_str_eq(hdr(arr, i, "Name"), t[i].ev.event_type);
		ck_assert_str_eq(ext(arr, i, "externalId"), t[i].ev.id_str);
		ck_assert_str_eq(ext(arr, i, "act"), t[i].ev.event_type);
		ck_assert_str_eq(ext(arr, i, "cs6"), ctx.console_url);
		if (t[i].ev.file_path != NULL)
			ck_assert_str_eq(ext(arr, i, "filePath"),
			    t[i].ev.file_path);
		if (t[i].ev.description != NULL)
			ck_assert_str_eq(ext(arr, i, "msg"),
			    t[i].ev.description);
		tev_free(&t[i]);
	}
	json_object_put(arr);
}
END_TEST

START_TEST(test_header_escape)
{
	static const char name[] = "  a|b\\c\r\nd\te\x1b\x7f\x01z|  ";
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *arr;
	struct tev		 t;
	char			*s;

	lines_reset();
	o = fixture_obj("policy_update_1.json");
	set_str(o, "event_type", name, sizeof(name) - 1);
	tev_from(&t, o);
	s = cef(&t.ev, &ctx);
	ck_assert_msg(strncmp(s, "CEF:0|Cisco|Secure Endpoint|"
	    AMPSTREAM_VERSION "|553648130|a\\|b\\\\c  dez\\||1|rt=",
	    strlen("CEF:0|Cisco|Secure Endpoint|" AMPSTREAM_VERSION
	    "|553648130|a\\|b\\\\c  dez\\||1|rt=")) == 0, "%s", s);
	/* act gets the value escaping of the same string. */
	ck_assert_ptr_nonnull(strstr(s, " act=a|b\\\\c\\r\\ndez|"));
	free(s);
	tev_free(&t);
	arr = lines_check();
	ck_assert_str_eq(hdr(arr, 0, "Name"), "a|b\\c  dez|");
	ck_assert_str_eq(ext(arr, 0, "act"), "a|b\\c\r\ndez|");
	json_object_put(arr);
}
END_TEST

START_TEST(test_value_escape)
{
	static const char msg[] = "a=b\\c\r\nd|e = f\\";
	static const char path[] = "\\\\?\\C:\\Users\\x=y\\a b.exe";
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *arr;
	struct tev		 t;
	char			*s;

	lines_reset();
	o = fixture_obj("cloud_ioc_1.json");
	set_str(o, "cloud_ioc.short_description", msg, sizeof(msg) - 1);
	set_str(o, "file.file_path", path, sizeof(path) - 1);
	tev_from(&t, o);
	s = cef(&t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s,
	    " msg=a\\=b\\\\c\\r\\nd|e \\= f\\\\ "));
	ck_assert_ptr_nonnull(strstr(s,
	    " filePath=\\\\\\\\?\\\\C:\\\\Users\\\\x\\=y\\\\a b.exe "));
	free(s);
	tev_free(&t);
	arr = lines_check();
	ck_assert_str_eq(ext(arr, 0, "msg"), msg);
	ck_assert_str_eq(ext(arr, 0, "filePath"), path);
	json_object_put(arr);
}
END_TEST

START_TEST(test_controls_removed)
{
	static const char host[] = "\th\to\x1bst\x07\x7f\x1f\0x \t";
	static const char user[] = "\x01\x02";
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *arr;
	struct tev		 t;
	char			*s;

	lines_reset();
	o = fixture_obj("threat_detected_1.json");
	set_str(o, "computer.hostname", host, sizeof(host) - 1);
	set_str(o, "computer.user", user, sizeof(user) - 1);
	tev_from(&t, o);
	s = cef(&t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s, " dhost=hostx "));
	ck_assert_ptr_null(strstr(s, "duser="));	/* empty: left out */
	for (const char *p = s; *p != '\0'; p++)
		ck_assert((unsigned char)*p >= 0x20 && *p != 0x7f);
	free(s);
	tev_free(&t);
	arr = lines_check();
	ck_assert_str_eq(ext(arr, 0, "dhost"), "hostx");
	json_object_put(arr);
}
END_TEST

/* liblognorm's tests/field_cef.sh negative inputs, as values. */
START_TEST(test_lognorm_negatives)
{
	static const struct {
		const char	*in;
		const char	*want;	/* NULL: key left out */
	} c[] = {
		{ "a\\|b", "a\\|b" },
		{ "tab\there", "tabhere" },
		{ "bad-key=1", "bad-key=1" },
		{ "", NULL },
		{ "   ", NULL },
		{ "x  ", "x" },
		{ "request=https://x/?a=1&b=2", "request=https://x/?a=1&b=2" },
		{ "\\t \\a \\e", "\\t \\a \\e" },
		{ "a b=c d=", "a b=c d=" },
	};
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *arr;
	struct tev		 t;
	size_t			 i, n = sizeof(c) / sizeof(c[0]);

	lines_reset();
	for (i = 0; i < n; i++) {
		o = fixture_obj("quarantine_failure_1.json");
		/* no cn1: msg is then close to the end of the record */
		set_str(o, "error.description", c[i].in, strlen(c[i].in));
		set_str(o, "error.error_code", NULL, 0);
		tev_from(&t, o);
		free(cef(&t.ev, &ctx));
		tev_free(&t);
	}
	arr = lines_check();
	for (i = 0; i < n; i++) {
		if (c[i].want == NULL)
			ck_assert_ptr_null(ext(arr, i, "msg"));
		else
			ck_assert_str_eq(ext(arr, i, "msg"), c[i].want);
		ck_assert_str_eq(ext(arr, i, "act"), "Quarantine Failure");
	}
	json_object_put(arr);
}
END_TEST

START_TEST(test_injection)
{
	static const char *const v[] = {
		"x CEF:0|Evil|Corp|1|2|Forged|10|act=Forged msg=pwned",
		"<13>1 2026-11-24T19:00:00.000Z evil app - - - CEF:0|a|b|c|d|"
		    "e|10|dst=6.6.6.6",
		" act=Forged\ncs1=evil\r\n<14>Nov 24 19:00:00 host app: x",
		"|||===\\\\\\",
	};
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *arr;
	struct tev		 t;
	size_t			 i, n = sizeof(v) / sizeof(v[0]), keys = 0;

	lines_reset();
	for (i = 0; i < n; i++) {
		o = fixture_obj("quarantine_failure_1.json");
		set_str(o, "error.description", v[i], strlen(v[i]));
		set_str(o, "computer.hostname", v[i], strlen(v[i]));
		tev_from(&t, o);
		free(cef(&t.ev, &ctx));
		tev_free(&t);
	}
	arr = lines_check();
	for (i = 0; i < n; i++) {
		if (i == 0)
			keys = next_count(arr, 0);
		ck_assert_uint_eq(next_count(arr, i), keys);
		ck_assert_str_eq(hdr(arr, i, "DeviceVendor"), "Cisco");
		ck_assert_str_eq(ext(arr, i, "act"), "Quarantine Failure");
		ck_assert_str_eq(ext(arr, i, "dst"), "10.10.10.10");
		ck_assert_str_eq(ext(arr, i, "cn1"), "3221225524");
		ck_assert_ptr_null(ext(arr, i, "cs1"));
	}
	ck_assert_str_eq(ext(arr, 0, "msg"), v[0]);
	ck_assert_str_eq(ext(arr, 2, "dhost"), "act=Forged\ncs1=evil\r\n"
	    "<14>Nov 24 19:00:00 host app: x");
	ck_assert_str_eq(ext(arr, 3, "msg"), v[3]);
	json_object_put(arr);
}
END_TEST

START_TEST(test_invalid_utf8)
{
	static const char host[] = "a\xff\xfe" "b\xc3\xa9" "c\xe2\x82" "d"
	    "\xc0\xaf" "e\xed\xa0\x80" "f\xf4\x90\x80\x80" "g\xf0\x9f\x98\x80";
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *arr;
	struct tev		 t;
	char			*s;

	lines_reset();
	o = fixture_obj("threat_detected_1.json");
	set_str(o, "computer.hostname", host, sizeof(host) - 1);
	set_str(o, "event_type", host, sizeof(host) - 1);
	tev_from(&t, o);
	s = cef(&t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s, " dhost=a??b\xc3\xa9" "c??d??e???"
	    "f????g\xf0\x9f\x98\x80 "));
	free(s);
	tev_free(&t);
	arr = lines_check();
	ck_assert_str_eq(hdr(arr, 0, "Name"), "a??b\xc3\xa9" "c??d??e???"
	    "f????g\xf0\x9f\x98\x80");
	json_object_put(arr);
}
END_TEST

/* A value of n copies of unit. */
static char *
repeat(const char *unit, size_t n)
{
	size_t	 ul = strlen(unit), i;
	char	*s;

	ck_assert_ptr_nonnull(s = malloc(ul * n + 1));
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

/* Format the fixture with hostile long values under several caps. */
START_TEST(test_size_cap)
{
	static const char *const units[] = { "A", "=", "\xc3\xa9", "\\",
	    "\n", "\xe2\x82\xac=", "a\r" };
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *arr;
	struct tev		 t;
	char			*big, *path, *s;
	size_t			 u, max, i = 0;
	const char		*m;

	lines_reset();
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		big = repeat(units[u], 10240 / strlen(units[u]));
		path = repeat(units[u], 3000 / strlen(units[u]));
		o = fixture_obj("threat_detected_2_docs_pair.json");
		set_str(o, "detection", big, strlen(big));
		set_str(o, "file.file_path", path, strlen(path));
		tev_from(&t, o);
		for (max = 1024; max <= 8192; max += 1792) {
			ctx.max_len = max;
			s = cef(&t.ev, &ctx);
			ck_assert_uint_ge(strlen(s), max - 8);
			free(s);
		}
		tev_free(&t);
		free(big);
		free(path);
	}
	arr = lines_check();
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		for (max = 1024; max <= 8192; max += 1792, i++) {
			m = ext(arr, i, "cs1");
			ck_assert_ptr_nonnull(m);
			ck_assert_uint_gt(strlen(m), 3);
			ck_assert_str_eq(m + strlen(m) - 3, "...");
			ck_assert_str_eq(ext(arr, i, "externalId"),
			    "6533241145273614339");
			ck_assert_str_eq(ext(arr, i, "cs2"),
			    "6533241145273614338");
			ck_assert_str_eq(ext(arr, i, "rt"), "1593079552619");
		}
	}
	json_object_put(arr);
}
END_TEST

/* Every max_len from the smallest that fits up: fits exactly, parses. */
START_TEST(test_size_sweep)
{
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *arr;
	struct buf		 out;
	struct tev		 t;
	char			*big, *s;
	size_t			 max, full, first = 0;

	lines_reset();
	big = repeat("x=\xc3\xa9\\", 300);
	o = fixture_obj("cloud_ioc_3_encoded_powershell.json");
	set_str(o, "cloud_ioc.short_description", big, strlen(big));
	tev_from(&t, o);
	ctx.max_len = 0;		/* unbounded */
	s = cef(&t.ev, &ctx);
	full = strlen(s);
	free(s);
	buf_init(&out, 0);
	buf_puts(&out, "keep");
	for (max = 200; max <= full + 2; max += 7) {
		ctx.max_len = max;
		if (format_cef_ops.format(&t.ev, &ctx, &out) == -1) {
			ck_assert_int_eq(first, 0);
			ck_assert_str_eq(out.data, "keep");	/* unchanged */
			continue;
		}
		if (first == 0)
			first = max;
		buf_reset(&out);
		buf_puts(&out, "keep");
		s = cef(&t.ev, &ctx);
		ck_assert_uint_le(strlen(s), max);
		if (max >= full)
			ck_assert_uint_eq(strlen(s), full);
		free(s);
	}
	ck_assert_uint_gt(first, 0);
	buf_free(&out);
	tev_free(&t);
	free(big);
	json_object_put(arr = lines_check());
}
END_TEST

START_TEST(test_severity)
{
	/* An event's own severity wins; without one, its type's (docs/
	 * records.md); else the sink's default_severity, clamped. */
	static const struct {
		const char	*file;
		const char	*sev;
		int		 def;
		const char	*want;
	} c[] = {
		{ "threat_quarantined_1.json", "Low", 1, "3" },
		{ "threat_quarantined_1.json", "Medium", 1, "6" },
		{ "threat_quarantined_1.json", "High", 1, "8" },
		{ "threat_quarantined_1.json", "Critical", 1, "10" },
		{ "threat_quarantined_1.json", "critical", 1, "10" },
		{ "threat_quarantined_1.json", NULL, 1, "3" },
		{ "threat_quarantined_1.json", "Bogus", 9, "3" },
		{ "quarantine_failure_1.json", NULL, 1, "6" },
		{ "threat_detected_1.json", NULL, 1, "6" },
		{ "executed_malware_1.json", NULL, 1, "8" },
		{ "file_fetch_failed_1.json", NULL, 9, "3" },
		{ "policy_update_1.json", NULL, 1, "1" },
		{ "policy_update_1.json", "Bogus", 4, "4" },
		{ "file_fetch_completed_1.json", NULL, 42, "10" },
		{ "policy_update_1.json", NULL, -3, "0" },
	};
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *arr;
	struct tev		 t;
	size_t			 i, n = sizeof(c) / sizeof(c[0]);

	lines_reset();
	for (i = 0; i < n; i++) {
		o = fixture_obj(c[i].file);
		set_str(o, "severity", c[i].sev,
		    c[i].sev ? strlen(c[i].sev) : 0);
		tev_from(&t, o);
		ctx.default_severity = c[i].def;
		free(cef(&t.ev, &ctx));
		tev_free(&t);
	}
	arr = lines_check();
	for (i = 0; i < n; i++)
		ck_assert_msg(strcmp(hdr(arr, i, "Severity"), c[i].want) == 0,
		    "%s severity %s default %d: %s, want %s", c[i].file,
		    c[i].sev ? c[i].sev : "(none)", c[i].def,
		    hdr(arr, i, "Severity"), c[i].want);
	json_object_put(arr);
}
END_TEST

START_TEST(test_addresses_time)
{
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *arr;
	struct tev		 t;
	char			*s;

	lines_reset();
	tev_from(&t, json_tokener_parse("{\"event_type\":\"E\","
	    "\"event_type_id\":1,\"computer\":{\"external_ip\":\"2001:db8::9\","
	    "\"network_addresses\":[{\"ip\":\"fe80::1\",\"mac\":\"aa:bb\"}]},"
	    "\"file\":{\"identity\":{\"sha256\":\"ab\"}}}"));
	s = cef(&t.ev, &ctx);
	ck_assert_str_eq(s, "CEF:0|Cisco|Secure Endpoint|" AMPSTREAM_VERSION
	    "|1|E|1|rt=1795546800123 dmac=aa:bb c6a1Label=IPv6 Address "
	    "c6a1=fe80::1 fileHash=ab act=E cat=Other ad.stream=s1 ad.cloud=nam "
	    "ad.ips=fe80::1 ad.macs=aa:bb");
	free(s);
	tev_free(&t);
	o = json_tokener_parse("{\"event_type\":\"E\",\"event_type_id\":1,"
	    "\"timestamp\":1,\"timestamp_nanoseconds\":999999999,"
	    "\"computer\":{\"external_ip\":\"not an ip\"}}");
	tev_from(&t, o);
	s = cef(&t.ev, &ctx);
	ck_assert_str_eq(s, "CEF:0|Cisco|Secure Endpoint|" AMPSTREAM_VERSION
	    "|1|E|1|rt=1999 act=E cat=Other ad.stream=s1 ad.cloud=nam");
	free(s);
	tev_free(&t);
	arr = lines_check();
	ck_assert_str_eq(ext(arr, 0, "c6a1"), "fe80::1");
	json_object_put(arr);
}
END_TEST

START_TEST(test_name_cap_and_fail)
{
	struct format_ctx	 ctx = ctx_default();
	struct json_object	*o, *arr;
	struct buf		 out;
	struct tev		 t;
	char			*big, *s;
	const char		*name;

	lines_reset();
	big = repeat("|", 2000);
	o = fixture_obj("policy_update_1.json");
	set_str(o, "event_type", big, strlen(big));
	tev_from(&t, o);
	s = cef(&t.ev, &ctx);
	free(s);
	arr = lines_check();
	name = hdr(arr, 0, "Name");
	ck_assert_uint_eq(strlen(name), 254 + 3);	/* 254 "\|" + ... */
	ck_assert_str_eq(name + 254, "...");
	json_object_put(arr);
	buf_init(&out, 0);
	buf_puts(&out, "x");
	ctx.max_len = 100;		/* the header alone is longer */
	ck_assert_int_eq(format_cef_ops.format(&t.ev, &ctx, &out), -1);
	ck_assert_str_eq(out.data, "x");
	buf_free(&out);
	tev_free(&t);
	free(big);
}
END_TEST

/* Every fixture and hostile value: decoded back to exactly the expected
 * keys and values, and accepted by liblognorm. */
START_TEST(test_roundtrip)
{
	struct json_object	*arr;

	lines_reset();
	nlines += dec_roundtrip_fixtures(&format_cef_ops, &lines);
	nlines += dec_roundtrip_hostile(&format_cef_ops, &lines);
	ck_assert_uint_gt(nlines, 100);
	arr = lines_check();
	json_object_put(arr);
}
END_TEST

START_TEST(test_correlation)
{
	struct format_ctx	 ctx = ctx_default();
	struct corr_detection	 det;
	struct corr_info	 ci = { CORR_MATCHED, &det, 3, "quarantined" };
	struct json_object	*arr;
	struct tev		 t;
	char			*s;

	lines_reset();
	dec_detection(&det);
	tev_from(&t, fixture_obj("threat_quarantined_2_docs_pair.json"));
	ctx.corr = &ci;
	ctx.file_console_url = "https://console.amp.cisco.com/file/"
	    "trajectory/a78c";
	s = cef(&t.ev, &ctx);
	ck_assert_msg(strstr(s, "|Threat Quarantined|6|rt=") != NULL, "%s", s);
	ck_assert_ptr_nonnull(strstr(s, " start=1593079552619 "));
	ck_assert_ptr_nonnull(strstr(s, " fname=SqGGuYXyy.exe filePath="
	    "\\\\\\\\?\\\\C:\\\\SqGGuYXyy.exe fileHash="));
	ck_assert_ptr_nonnull(strstr(s, " outcome=success cat=Quarantine "
	    "cs1Label=Detection cs1=W32.Overdrive.RET "));
	ck_assert_ptr_nonnull(strstr(s, " cs4Label=Correlation cs4=matched "
	    "cs5Label=Detection Event ID cs5=6533241145273614339 "));
	ck_assert_ptr_nonnull(strstr(s, " cn2Label=Seconds To Outcome cn2=3 "
	    "flexString1Label=File Trajectory flexString1=https://console."
	    "amp.cisco.com/file/trajectory/a78c"));
	free(s);
	ci.state = CORR_UNRESOLVED;
	ctx.received_ms = det.detected_ms + 61000;
	s = cef(&t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s, " cs4Label=Correlation cs4=unresolved "));
	ck_assert_ptr_nonnull(strstr(s, " cn3Label=Seconds Open cn3=61 "));
	ck_assert_ptr_null(strstr(s, "cn2"));
	free(s);
	ci.state = CORR_UNCORRELATED;
	s = cef(&t.ev, &ctx);
	ck_assert_ptr_nonnull(strstr(s, " cs4=uncorrelated "));
	ck_assert_ptr_null(strstr(s, "cs1="));
	ck_assert_ptr_null(strstr(s, "start="));
	free(s);
	tev_free(&t);
	arr = lines_check();
	ck_assert_str_eq(ext(arr, 0, "cs4"), "matched");
	ck_assert_str_eq(ext(arr, 0, "cs1"), "W32.Overdrive.RET");
	ck_assert_str_eq(ext(arr, 0, "dhost"), "Demo_AMP_Threat_Quarantined");
	ck_assert_str_eq(ext(arr, 1, "cn3"), "61");
	json_object_put(arr);
}
END_TEST

START_TEST(test_category)
{
	static const struct {
		long long	 id;
		const char	*cat;
	} c[] = {
		{ 1090519054, "Threat" }, { 553648147, "Threat" },
		{ 553648143, "Quarantine" }, { 2181038130, "Quarantine" },
		{ 1107296274, "Compromise" }, { 2164260866, "Failure" },
		{ 554696714, "Scan" }, { 2165309453, "Scan" },
		{ 553648130, "Activity" }, { 570425396, "Activity" },
		{ 1004, "Account" }, { 7, "Other" },
	};
	struct format_ctx	 ctx = ctx_default();
	struct tev		 t;
	char			 json[128], want[64], *s;
	size_t			 i;

	lines_reset();
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(json, sizeof(json), "{\"event_type\":\"E\","
		    "\"event_type_id\":%lld}", c[i].id);
		tev_from(&t, json_tokener_parse(json));
		s = cef(&t.ev, &ctx);
		snprintf(want, sizeof(want), " cat=%s", c[i].cat);
		ck_assert_msg(strstr(s, want) != NULL, "%s", s);
		free(s);
		tev_free(&t);
	}
	json_object_put(lines_check());
}
END_TEST

START_TEST(test_lookup)
{
	ck_assert_ptr_eq(format_lookup("cef"), &format_cef_ops);
	ck_assert_ptr_eq(format_lookup("json"), &format_json_ops);
	ck_assert_ptr_eq(format_lookup("leef"), &format_leef_ops);
	ck_assert_ptr_null(format_lookup("LEEF"));
	ck_assert_ptr_null(format_lookup(NULL));
}
END_TEST

/* Console base and deep link (link.c; cs6 carries the result). */
static char *
link_of(const char *json, const char *configured)
{
	struct tev	 t;
	struct buf	 base, url;
	char		*s = NULL;

	buf_init(&base, 0);
	buf_init(&url, 0);
	tev_from(&t, json_tokener_parse(json));
	if (console_base(&t.ev, configured, &base) == 0) {
		ck_assert_int_eq(console_url(&t.ev, base.data, &url), 0);
		s = buf_release(&url, NULL);
	} else
		ck_assert_uint_eq(base.len, 0);
	buf_free(&base);
	buf_free(&url);
	tev_free(&t);
	return s;
}

#define EV_HEAD	"{\"event_type\":\"E\",\"event_type_id\":1090519054,"
#define LINKS(h) "\"computer\":{\"links\":{\"computer\":\"https://" h \
		"/v1/computers/x\"}}"

START_TEST(test_link)
{
	static const struct {
		const char	*json;
		const char	*configured;
		const char	*want;
	} c[] = {
		{ EV_HEAD "\"id\":12,\"connector_guid\":\"g-1\","
		    LINKS("api.eu.amp.cisco.com") "}", NULL,
		    "https://console.eu.amp.cisco.com/computers/g-1/trajectory2"
		    "?id=12" },
		{ EV_HEAD "\"connector_guid\":\"g 1/&x\","
		    LINKS("api.apjc.amp.cisco.com") "}", NULL,
		    "https://console.apjc.amp.cisco.com/computers/g%201%2F%26x/"
		    "trajectory2" },
		{ EV_HEAD "\"file\":{\"identity\":{\"sha256\":\"AB12\"}},"
		    LINKS("api.amp.cisco.com") "}", NULL,
		    "https://console.amp.cisco.com/file/trajectory/AB12" },
		/* not a public cloud: the event does not choose the console */
		{ EV_HEAD LINKS("api.private.example:8443") "}", NULL, NULL },
		{ EV_HEAD "\"id\":12,\"connector_guid\":\"g\"}",
		    "https://console.example/", "https://console.example/"
		    "computers/g/trajectory2?id=12" },
		{ EV_HEAD LINKS("api.amp.cisco.com") "}", "",
		    "https://console.amp.cisco.com/dashboard?duration=720"
		    "&event_type=1090519054" },
		{ EV_HEAD LINKS("amp.cisco.com") "}", NULL, NULL },
		{ EV_HEAD LINKS("api.x y") "}", NULL, NULL },
		{ EV_HEAD "\"computer\":{\"links\":{\"computer\":"
		    "\"ftp://api.x/\"}}}", NULL, NULL },
		{ EV_HEAD "\"id\":1}", NULL, NULL },
	};
	size_t	 i;
	char	*s;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		s = link_of(c[i].json, c[i].configured);
		if (c[i].want == NULL)
			ck_assert_msg(s == NULL, "case %zu: %s", i, s);
		else
			ck_assert_msg(s != NULL && strcmp(s, c[i].want) == 0,
			    "case %zu: %s", i, s ? s : "(null)");
		free(s);
	}
}
END_TEST

/* A test charset: plain but '\\' and '=', the others as <xx>. */
static void
hex_char(struct buf *b, unsigned char c)
{
	char	 t[8];

	snprintf(t, sizeof(t), "<%02x>", c);
	buf_puts(b, t);
}

/*
 * fmt_encode's run search stops at every byte that is not plain, at every
 * place of values up to 40 bytes: the escaped ones, controls, DEL, a good
 * and a bad UTF-8 sequence.
 */
START_TEST(test_encode_runs)
{
	static const bool plain[256] = {
		[0x20 ... 0x3c] = true, [0x3e ... 0x5b] = true,
		[0x5d ... 0x7e] = true,
	};
	static const struct fmt_charset cs = { plain, hex_char };
	static const struct {
		const char	*in;
		const char	*out;
	} odd[] = {
		{ "\\", "<5c>" }, { "=", "<3d>" }, { "\n", "<0a>" },
		{ "\x01", "<01>" }, { "\x1f", "<1f>" }, { "\x7f", "<7f>" },
		{ "\xc3\xa9", "\xc3\xa9" }, { "\xff", "?" }, { "\xc3", "?" },
	};
	char		 in[64], want[128];
	struct buf	 b;
	size_t		 len, pos, i;

	buf_init(&b, 0);
	for (len = 1; len <= 40; len++)
		for (pos = 0; pos < len; pos++)
			for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
				memset(in, 'a', len);
				in[len] = '\0';
				memcpy(in + pos, odd[i].in, strlen(odd[i].in));
				in[len + strlen(odd[i].in) - 1] = '\0';
				snprintf(want, sizeof(want), "%.*s%s%s", (int)pos,
				    in, odd[i].out,
				    in + pos + strlen(odd[i].in));
				buf_reset(&b);
				ck_assert_int_eq(fmt_encode(&b, in, &cs), 0);
				ck_assert_str_eq(b.data, want);
			}
	/* printable ASCII but the stops, and UTF-8, pass whole */
	buf_reset(&b);
	ck_assert_int_eq(fmt_encode(&b, "x !~<>|^\"{}\xe2\x82\xac 0123456789abcdef",
	    &cs), 0);
	ck_assert_str_eq(b.data, "x !~<>|^\"{}\xe2\x82\xac 0123456789abcdef");
	buf_free(&b);
}
END_TEST

Suite *
suite_cef(void)
{
	Suite	*s = suite_create("cef");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_exact_fixture);
	tcase_add_test(tc, test_every_fixture);
	tcase_add_test(tc, test_header_escape);
	tcase_add_test(tc, test_value_escape);
	tcase_add_test(tc, test_encode_runs);
	tcase_add_test(tc, test_controls_removed);
	tcase_add_test(tc, test_lognorm_negatives);
	tcase_add_test(tc, test_injection);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_size_cap);
	tcase_add_test(tc, test_size_sweep);
	tcase_add_test(tc, test_severity);
	tcase_add_test(tc, test_addresses_time);
	tcase_add_test(tc, test_name_cap_and_fail);
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_correlation);
	tcase_add_test(tc, test_category);
	suite_add_tcase(s, tc);
	tc = tcase_create("link");
	tcase_add_test(tc, test_link);
	tcase_add_test(tc, test_groups);
	tcase_add_test(tc, test_rich);
	tcase_add_test(tc, test_threat_hunting);
	tcase_add_test(tc, test_computer);
	suite_add_tcase(s, tc);
	return s;
}
