/*
 * rec_decode.c: strict CEF and LEEF 2.0 decoders for the tests.
 *
 * CEF: seven header fields split at unescaped '|' ("\\" and "\|" are the
 * only escapes), then key=value pairs; a key is [A-Za-z0-9_.]+ and starts
 * after a space, a value ends before " key=" with an unescaped '=', and
 * "\\ \= \r \n" are its only escapes: anything else (a raw '=' in a
 * value, "\t", "\|") is an error, as in liblognorm.  LEEF 2.0: six header
 * fields split at '|' (no escapes), the sixth the delimiter, then
 * attributes split at the delimiter, each split at its first '='.
 * Duplicate keys and raw control characters are errors in both.
 */
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "compat.h"
#include "corr.h"
#include "config.h"
#include "event.h"
#include "format.h"
#include "fmt_kv.h"
#include "jscan.h"
#include "rec_decode.h"
#include "unit.h"

static int	 dec_add(struct dec_rec *, const char *, size_t, struct buf *);
static int	 dec_fail(struct dec_rec *, const char *);
static const char *cef_hdr(const char *, struct dec_rec *);
static int	 cef_pairs(const char *, struct dec_rec *);
static size_t	 cef_key_len(const char *);
static const char *cef_value(const char *, struct buf *, const char **);
static int	 dec_leef_attr(struct dec_rec *, const char *, const char *);
static bool	 key_char(char);
static void	 want(struct dec_want *, size_t *, bool, const char *,
		    const char *, const char *, const char *, bool);
static const char *num(struct dec_nums *, int64_t);
static const char *devtime(struct dec_nums *, int64_t);
static const char *either(const char *, const char *);
static const char *ip_of(const char *, int);
static const char *family(int64_t);
static const char *outcome(int64_t);
static int64_t	 severity(const char *, int64_t, int, bool);
static void	 check_header(const struct format_ops *, const struct dec_rec *,
		    const struct amp_event *, const struct format_ctx *);
static struct format_ctx ctx_rt(void);
static void	 keep(struct buf *, const char *);

#define RT_RECEIVED_MS	1795546800123LL	/* 2026-11-24T19:00:00.123Z */
static void	 sanitize(const char *, struct buf *, bool, bool);

/* Decode a CEF record. */
int
cef_decode(const char *s, struct dec_rec *r)
{
	memset(r, 0, sizeof(*r));
	if (strncmp(s, "CEF:", 4) != 0)
		return dec_fail(r, "no CEF: prefix");
	if (strpbrk(s, "\r\n\t") != NULL)
		return dec_fail(r, "raw control character");
	if ((s = cef_hdr(s, r)) == NULL)
		return -1;
	return cef_pairs(s, r);
}

/* Split the seven header fields; returns the extension. */
static const char *
cef_hdr(const char *s, struct dec_rec *r)
{
	struct buf	 f;

	buf_init(&f, 0);
	for (; *s != '\0' && r->nhdr < 7; s++) {
		if (*s == '\\') {
			if (s[1] != '\\' && s[1] != '|') {
				dec_fail(r, "invalid escape in header");
				break;
			}
			buf_putc(&f, *++s);
		} else if (*s == '|') {
			r->hdr[r->nhdr++] = strdup(f.len ? f.data : "");
			buf_reset(&f);
		} else
			buf_putc(&f, *s);
	}
	buf_free(&f);
	if (r->err == NULL && r->nhdr < 7)
		dec_fail(r, "fewer than 7 header fields");
	return r->err == NULL ? s : NULL;
}

/* Decode the extension's key=value pairs. */
static int
cef_pairs(const char *s, struct dec_rec *r)
{
	struct buf	 v;
	size_t		 kl;
	const char	*key, *err = NULL;

	buf_init(&v, 0);
	while (*s != '\0' && err == NULL) {
		if ((kl = cef_key_len(s)) == 0) {
			err = "expected key=";
			break;
		}
		key = s;
		buf_reset(&v);
		if ((s = cef_value(s + kl + 1, &v, &err)) == NULL)
			break;
		if (dec_add(r, key, kl, &v) == -1)
			err = r->err;
		if (*s == ' ')
			s++;
	}
	buf_free(&v);
	return err == NULL ? 0 : dec_fail(r, err);
}

/* Length of the key at s if "key=" follows, else 0. */
static size_t
cef_key_len(const char *s)
{
	size_t	 n = 0;

	while (key_char(s[n]))
		n++;
	return n > 0 && s[n] == '=' ? n : 0;
}

/* Unescape a value into v; returns where it ended (SP or NUL). */
static const char *
cef_value(const char *s, struct buf *v, const char **err)
{
	for (; *s != '\0'; s++) {
		if (*s == ' ' && cef_key_len(s + 1) > 0)
			return s;
		if (*s == '=') {
			*err = "unescaped = in value";
			return NULL;
		}
		if (*s != '\\') {
			buf_putc(v, *s);
			continue;
		}
		s++;
		if (*s == '\\' || *s == '=')
			buf_putc(v, *s);
		else if (*s == 'r' || *s == 'n')
			buf_putc(v, *s == 'r' ? '\r' : '\n');
		else {
			*err = "invalid escape in value";
			return NULL;
		}
	}
	return s;
}

/* Decode a LEEF 2.0 record. */
int
leef_decode(const char *s, struct dec_rec *r)
{
	const char	*p, *e;
	char		 delim;

	memset(r, 0, sizeof(*r));
	if (strncmp(s, "LEEF:2.0|", 9) != 0)
		return dec_fail(r, "no LEEF:2.0| prefix");
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return dec_fail(r, "raw control character");
	for (p = s; r->nhdr < 6 && (e = strchr(p, '|')) != NULL; p = e + 1)
		r->hdr[r->nhdr++] = strndup(p, (size_t)(e - p));
	if (r->nhdr < 6 || strlen(r->hdr[5]) != 1)
		return dec_fail(r, "bad LEEF header");
	delim = r->hdr[5][0];
	for (; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchrnul(p, delim);
		if (memchr(p, '=', (size_t)(e - p)) == NULL)
			return dec_fail(r, "attribute without =");
		if (dec_leef_attr(r, p, e) == -1)
			return -1;
	}
	return 0;
}

/* Add the attribute p..e ("key=value") of a LEEF record. */
static int
dec_leef_attr(struct dec_rec *r, const char *p, const char *e)
{
	const char	*eq = memchr(p, '=', (size_t)(e - p));
	const char	*k;
	struct buf	 v;
	int		 rv;

	for (k = p; k < eq; k++)
		if (!key_char(*k))
			return dec_fail(r, "bad attribute key");
	buf_init(&v, 0);
	buf_append(&v, eq + 1, (size_t)(e - eq - 1));
	rv = dec_add(r, p, (size_t)(eq - p), &v);
	buf_free(&v);
	return rv;
}

/* Append the pair (key of kl bytes, value v); duplicates are errors. */
static int
dec_add(struct dec_rec *r, const char *key, size_t kl, struct buf *v)
{
	char	*k;

	if (kl == 0 || r->n == DEC_MAX_KV)
		return dec_fail(r, "empty key or too many keys");
	k = strndup(key, kl);
	if (dec_get(r, k) != NULL) {
		free(k);
		return dec_fail(r, "duplicate key");
	}
	r->key[r->n] = k;
	r->val[r->n++] = strdup(v->len ? v->data : "");
	return 0;
}

static int
dec_fail(struct dec_rec *r, const char *why)
{
	if (r->err == NULL)
		r->err = why;
	return -1;
}

static bool
key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.';
}

void
dec_free(struct dec_rec *r)
{
	size_t	 i;

	for (i = 0; i < r->nhdr; i++)
		free(r->hdr[i]);
	for (i = 0; i < r->n; i++) {
		free(r->key[i]);
		free(r->val[i]);
	}
	memset(r, 0, sizeof(*r));
}

/* The value of key, or NULL. */
const char *
dec_get(const struct dec_rec *r, const char *key)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->key[i], key) == 0)
			return r->val[i];
	return NULL;
}

/* Check r against the wanted keys: exactly those, with their values. */
void
dec_check(const struct dec_rec *r, const struct dec_want *w, size_t n,
    dec_sanitize_fn fn)
{
	struct buf	 s;
	const char	*got;
	size_t		 i, keys = 0, gl;

	buf_init(&s, 0);
	for (i = 0; i < n; i++) {
		buf_reset(&s);
		if (w[i].raw != NULL)
			fn(w[i].raw, &s);
		got = dec_get(r, w[i].key);
		if (s.len == 0) {
			ck_assert_msg(got == NULL, "%s should be absent", w[i].key);
			continue;
		}
		if (got == NULL && w[i].optional && r->cut)
			continue;
		ck_assert_msg(got != NULL, "%s missing", w[i].key);
		gl = strlen(got);
		ck_assert_msg(strcmp(got, s.data) == 0 || (w[i].variable &&
		    gl >= 3 && strcmp(got + gl - 3, "...") == 0 &&
		    strncmp(got, s.data, gl - 3) == 0 && gl - 3 < s.len),
		    "%s: got '%.200s' want '%.200s'", w[i].key, got, s.data);
		keys++;
		if (w[i].label_key == NULL)
			continue;
		ck_assert_str_eq(dec_get(r, w[i].label_key), w[i].label);
		keys++;
	}
	buf_free(&s);
	ck_assert_uint_eq(r->n, keys);
}

void
dec_cef_value(const char *s, struct buf *out)
{
	sanitize(s, out, true, false);
}

void
dec_cef_header(const char *s, struct buf *out)
{
	sanitize(s, out, false, false);
}

void
dec_leef_value(const char *s, struct buf *out)
{
	sanitize(s, out, false, true);
}

/*
 * What a value becomes: invalid UTF-8 bytes '?'; CEF values keep CR/LF
 * and drop other controls, CEF headers turn CR/LF into SP and drop the
 * rest, LEEF turns every control into SP and '^' into '_'; then trimmed.
 */
static void
sanitize(const char *s, struct buf *out, bool keep_crlf, bool leef)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n, start = out->len, lead = 0;
	bool			 crlf;

	for (; *p != '\0'; p += n ? n : 1) {
		n = fmt_utf8_len(p);
		crlf = *p == '\r' || *p == '\n';
		if (n == 0)
			buf_putc(out, '?');
		else if (n > 1 || (*p >= 0x20 && *p != 0x7f && !(leef && *p == '^')))
			buf_append(out, p, n);
		else if (leef)
			buf_putc(out, *p == '^' ? '_' : ' ');
		else if (crlf)
			buf_putc(out, keep_crlf ? (char)*p : ' ');
	}
	while (out->len > start && out->data[out->len - 1] == ' ')
		out->len--;
	while (start + lead < out->len && out->data[start + lead] == ' ')
		lead++;
	if (lead > 0)
		memmove(out->data + start, out->data + start + lead,
		    out->len - start - lead);
	out->len -= lead;
	if (out->data != NULL)
		out->data[out->len] = '\0';
}

/* Add one expected key (cef or leef name; NULL: not in that format). */
static void
want(struct dec_want *w, size_t *n, bool leef, const char *cef,
    const char *label, const char *lkey, const char *raw, bool variable)
{
	static char	 labels[DEC_MAX_KV][32];
	const char	*key = leef ? lkey : cef;

	if (key == NULL || *n == DEC_MAX_KV)
		return;
	w[*n].key = key;
	w[*n].raw = raw;
	w[*n].variable = variable;
	w[*n].optional = false;
	w[*n].label = leef ? NULL : label;
	w[*n].label_key = NULL;
	if (w[*n].label != NULL) {
		snprintf(labels[*n], sizeof(labels[*n]), "%sLabel", key);
		w[*n].label_key = labels[*n];
	}
	(*n)++;
}

/* The oracle (see rec_decode.h). */
size_t
dec_wants(const struct amp_event *ev, const struct format_ctx *ctx,
    bool leef, struct dec_want *w, struct dec_nums *nb)
{
	const struct corr_info	*c = ctx->corr;
	const struct corr_detection *d = NULL;
	const char	*state = NULL;
	int64_t		 ms = ctx->received_ms, start = 0;
	size_t		 n = 0, first;

	if (c != NULL && (c->state == CORR_MATCHED ||
	    c->state == CORR_UNRESOLVED))
		d = c->det;
	if (c != NULL && c->state != CORR_NONE)
		state = (const char *[]){ NULL, "pending", "matched",
		    "uncorrelated", "unresolved" }[c->state];
	if (ev->timestamp > 0)
		ms = ev->timestamp * 1000 + ev->timestamp_ns / 1000000;
	if (d != NULL)
		start = d->detected_ms;
	else if (ev->start_timestamp > 0)
		start = ev->start_timestamp * 1000;
	want(w, &n, leef, "rt", NULL, NULL, num(nb, ms), false);
	want(w, &n, leef, NULL, NULL, "devTime", devtime(nb, ms), false);
	want(w, &n, leef, NULL, NULL, "devTimeFormat",
	    "yyyy-MM-dd'T'HH:mm:ss.SSSZ", false);
	want(w, &n, leef, NULL, NULL, "sev", num(nb, severity(either(
	    ev->severity, d ? d->severity : NULL), ev->event_type_id,
	    ctx->default_severity, true)), false);
	want(w, &n, leef, "start", NULL, NULL, start ? num(nb, start) : NULL,
	    false);
	want(w, &n, leef, "externalId", NULL, "externalId",
	    ev->has_id ? ev->id_str : NULL, false);
	want(w, &n, leef, "deviceExternalId", NULL, "deviceExternalId",
	    either(ev->connector_guid, d ? d->connector_guid : NULL), true);
	want(w, &n, leef, "dhost", NULL, "identHostName",
	    either(ev->hostname, d ? d->hostname : NULL), true);
	want(w, &n, leef, "duser", NULL, "usrName", ev->user, true);
	want(w, &n, leef, "dst", NULL, "dst",
	    leef ? either(ev->ipv4, ev->ipv6) : ev->ipv4, false);
	want(w, &n, leef, "dmac", NULL, "dstMAC", ev->mac, true);
	want(w, &n, leef, "c6a1", "IPv6 Address", NULL, ev->ipv6, false);
	want(w, &n, leef, "destinationTranslatedAddress", NULL, "externalIp",
	    leef ? either(ip_of(ev->external_ip, AF_INET),
	    ip_of(ev->external_ip, AF_INET6)) :
	    ip_of(ev->external_ip, AF_INET), false);
	want(w, &n, leef, "dpt", NULL, "dstPort",
	    ev->has_local_port ? num(nb, ev->local_port) : NULL, false);
	want(w, &n, leef, "src", NULL, "src", leef ?
	    either(ip_of(ev->remote_ip, AF_INET), ip_of(ev->remote_ip,
	    AF_INET6)) : ip_of(ev->remote_ip, AF_INET), false);
	want(w, &n, leef, "spt", NULL, "srcPort",
	    ev->has_remote_port ? num(nb, ev->remote_port) : NULL, false);
	want(w, &n, leef, "fname", NULL, "fileName",
	    either(ev->file_name, d ? d->file_name : NULL), true);
	want(w, &n, leef, "filePath", NULL, "filePath",
	    either(ev->file_path, d ? d->file_path : NULL), true);
	want(w, &n, leef, "fileHash", NULL, "fileHash",
	    either(ev->sha256, d ? d->sha256 : NULL), true);
	want(w, &n, leef, "sproc", NULL, "parentProcess", ev->parent_name,
	    true);
	want(w, &n, leef, "spid", NULL, "parentPid",
	    ev->has_parent_pid ? num(nb, ev->parent_pid) : NULL, false);
	want(w, &n, leef, "flexString2", "Parent SHA256", "parentFileHash",
	    ev->parent_sha256, true);
	want(w, &n, leef, "act", NULL, "cat", ev->event_type, true);
	want(w, &n, leef, "cat", NULL, "eventCategory",
	    family(ev->event_type_id), false);
	want(w, &n, leef, "outcome", NULL, "outcome",
	    outcome(ev->event_type_id), false);
	want(w, &n, leef, "msg", NULL, "msg", ev->description, true);
	want(w, &n, leef, "cs1", "Detection", "detection",
	    either(ev->detection, d ? d->detection : NULL), true);
	want(w, &n, leef, "cs2", "Detection ID", "detectionId",
	    either(ev->detection_id, d ? d->detection_id : NULL), true);
	want(w, &n, leef, "cs3", "Disposition", "disposition",
	    ev->disposition, true);
	want(w, &n, leef, "cs4", "Correlation", "correlation", state, false);
	want(w, &n, leef, "cs5", "Detection Event ID", "detectionEventId",
	    d ? d->event_id : NULL, false);
	want(w, &n, leef, NULL, NULL, "detectedAt",
	    d ? devtime(nb, d->detected_ms) : NULL, false);
	want(w, &n, leef, "cn2", "Seconds To Outcome", "secondsToOutcome",
	    c && c->state == CORR_MATCHED ? num(nb, c->seconds_to_outcome) :
	    NULL, false);
	want(w, &n, leef, "cn3", "Seconds Open", "secondsOpen",
	    c && c->state == CORR_UNRESOLVED && d ? num(nb,
	    (ctx->received_ms - d->detected_ms) / 1000) : NULL, false);
	want(w, &n, leef, "cs6", "Console URL", "consoleUrl",
	    ctx->console_url, true);
	want(w, &n, leef, "flexString1", "File Trajectory", "fileConsoleUrl",
	    ctx->file_console_url, true);
	want(w, &n, leef, "cn1", "Error Code", "errorCode",
	    ev->has_error_code ? num(nb, ev->error_code) : NULL, false);
	for (first = 0; ctx->fields != NULL && first < ctx->fields->n; first++)
		want(w, &n, leef, ctx->fields->v[first].ad_key, NULL,
		    ctx->fields->v[first].key, ctx->fields->v[first].value,
		    false);
	first = n;
	want(w, &n, leef, "request", NULL, "url", ev->dirty_url, true);
	want(w, &n, leef, "proto", NULL, "proto", ev->protocol, true);
	want(w, &n, leef, "ad.stream", NULL, "stream", ctx->stream, false);
	want(w, &n, leef, "ad.cloud", NULL, "cloud", ctx->cloud, false);
	want(w, &n, leef, "ad.mitreTactics", NULL, "mitreTactics",
	    ev->tactics, true);
	want(w, &n, leef, "ad.mitreTechniques", NULL, "mitreTechniques",
	    ev->techniques, true);
	want(w, &n, leef, "ad.incidentId", NULL, "incidentId",
	    ev->incident_id, true);
	want(w, &n, leef, "ad.incidentTitle", NULL, "incidentTitle",
	    ev->incident_title, true);
	want(w, &n, leef, "ad.incidentSummary", NULL, "incidentSummary",
	    ev->incident_summary, true);
	want(w, &n, leef, "ad.incidentRemediation", NULL,
	    "incidentRemediation", ev->incident_remediation, true);
	want(w, &n, leef, "ad.fileSha1", NULL, "fileSha1", ev->sha1, true);
	want(w, &n, leef, "ad.fileMd5", NULL, "fileMd5", ev->md5, true);
	want(w, &n, leef, "ad.parentSha1", NULL, "parentSha1",
	    ev->parent_sha1, true);
	want(w, &n, leef, "ad.parentMd5", NULL, "parentMd5", ev->parent_md5,
	    true);
	want(w, &n, leef, "ad.parentDisposition", NULL, "parentDisposition",
	    ev->parent_disposition, true);
	want(w, &n, leef, "ad.archivedSha256", NULL, "archivedSha256",
	    ev->archived_sha256, true);
	want(w, &n, leef, "ad.archivedDisposition", NULL,
	    "archivedDisposition", ev->archived_disposition, true);
	want(w, &n, leef, "ad.ips", NULL, "ips", ev->ips, true);
	want(w, &n, leef, "ad.macs", NULL, "macs", ev->macs, true);
	want(w, &n, leef, "ad.os", NULL, "os", ev->os, true);
	want(w, &n, leef, "ad.direction", NULL, "direction", ev->direction,
	    true);
	want(w, &n, leef, "ad.groupNames", NULL, "groupNames",
	    ctx->group_names_text, true);
	want(w, &n, leef, "ad.groupGuids", NULL, "groupGuids",
	    ctx->group_guids_text, true);
	want(w, &n, leef, "ad.policy", NULL, "policy", ctx->policy, true);
	want(w, &n, leef, "ad.isolation", NULL, "isolation", ctx->isolation,
	    true);
	for (; first < n; first++)	/* dropped first when cut */
		w[first].optional = true;
	return n;
}

static const char *
num(struct dec_nums *nb, int64_t v)
{
	ck_assert_uint_lt(nb->n, 16);
	snprintf(nb->s[nb->n], sizeof(nb->s[0]), "%" PRId64, v);
	return nb->s[nb->n++];
}

/* v (epoch ms) as LEEF devTime: 2021-01-14T10:06:39.657+0000. */
static const char *
devtime(struct dec_nums *nb, int64_t v)
{
	time_t		 t = (time_t)(v / 1000);
	struct tm	 tm;
	char		 s[32];

	ck_assert_uint_lt(nb->n, 16);
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(nb->s[nb->n], sizeof(nb->s[0]), "%.24s.%03d+0000", s,
	    (int)(v % 1000));
	return nb->s[nb->n++];
}

/* a if not NULL or empty, else b. */
static const char *
either(const char *a, const char *b)
{
	return a != NULL && *a != '\0' ? a : b;
}

static const char *
ip_of(const char *s, int af)
{
	unsigned char	 a[16];

	return s != NULL && inet_pton(af, s, a) == 1 ? s : NULL;
}

/* The families of the fixture event types (docs/records.md). */
static const char *
family(int64_t id)
{
	static const struct { int64_t id; const char *f; } t[] = {
		{ 1090519054, "Threat" }, { 1090519084, "Threat" },
		{ 1090519103, "Threat" }, { 553648147, "Threat" },
		{ 1107296258, "Compromise" }, { 1107296272, "Compromise" },
		{ 1107296274, "Compromise" }, { 1107296278, "Compromise" },
		{ 2164260880, "Quarantine" }, { 2164260893, "Quarantine" },
		{ 553648143, "Quarantine" }, { 553648155, "Quarantine" },
		{ 2164260910, "Failure" }, { 553648130, "Activity" },
		{ 553648173, "Activity" }, { 554696714, "Scan" },
		{ 2165309453, "Scan" }, { 1003, "Account" },
		{ 1107296344, "Compromise" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].id == id)
			return t[i].f;
	return "Other";
}

static const char *
outcome(int64_t id)
{
	if (id == 553648143 || id == 553648155)
		return "success";
	if (id == 2164260880 || id == 2164260893 || id == 2181038130)
		return "failure";
	return NULL;
}

/* Low/Medium/High/Critical -> 3/6/8/10, else by the family of type id
 * (docs/records.md), else the default in 0..10 (LEEF: at least 1). */
static int64_t
severity(const char *name, int64_t id, int def, bool leef)
{
	const char	*f = family(id), *o = outcome(id);
	int64_t		 v = def < 0 ? 0 : def > 10 ? 10 : def;

	if (o != NULL)
		v = strcmp(o, "success") == 0 ? 3 : 6;
	else if (strcmp(f, "Compromise") == 0)
		v = 8;
	else if (strcmp(f, "Threat") == 0)
		v = 6;
	else if (strcmp(f, "Failure") == 0)
		v = 3;
	if (name != NULL && strcasecmp(name, "low") == 0)
		v = 3;
	else if (name != NULL && strcasecmp(name, "medium") == 0)
		v = 6;
	else if (name != NULL && strcasecmp(name, "high") == 0)
		v = 8;
	else if (name != NULL && strcasecmp(name, "critical") == 0)
		v = 10;
	return leef && v < 1 ? 1 : v;
}

struct json_object *
fixture_obj(const char *name)
{
	char			 path[256];
	struct json_object	*o;

	snprintf(path, sizeof(path), "../fixtures/events/%s", name);
	ck_assert_ptr_nonnull(o = json_object_from_file(path));
	return o;
}

void
set_str(struct json_object *o, const char *path, const char *value,
    size_t len)
{
	char			 key[64];
	const char		*dot;
	struct json_object	*sub;

	while ((dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		if (!json_object_object_get_ex(o, key, &sub)) {
			sub = json_object_new_object();
			json_object_object_add(o, key, sub);
		}
		o = sub;
		path = dot + 1;
	}
	if (value == NULL)
		json_object_object_del(o, path);
	else
		json_object_object_add(o, path,
		    json_object_new_string_len(value, (int)len));
}

void
tev_from(struct tev *t, struct json_object *o)
{
	const char	*s, *reason = NULL;

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ck_assert_ptr_nonnull(t->body = strdup(s));
	json_object_put(o);
	ck_assert_msg(event_parse(&t->ev, t->body, strlen(t->body),
	    &reason) == 0, "%s", reason);
}

void
tev_free(struct tev *t)
{
	event_clear(&t->ev);
	free(t->body);
}

/* Format, bound, decode and check one record against the oracle. */
char *
dec_roundtrip(const struct format_ops *ops, const struct amp_event *ev,
    const struct format_ctx *ctx)
{
	struct dec_want	 w[DEC_MAX_KV];
	struct dec_nums	 nb;
	struct dec_rec	 r;
	struct buf	 out;
	bool		 leef = strcmp(ops->name, "leef") == 0;
	size_t		 n;
	char		*s;

	buf_init(&out, 0);
	ck_assert_int_eq(ops->format(ev, ctx, &out), 0);
	s = buf_release(&out, &n);
	ck_assert_uint_eq(strlen(s), n);
	if (ctx->max_len != 0)
		ck_assert_uint_le(n, ctx->max_len);
	ck_assert_msg((leef ? leef_decode(s, &r) : cef_decode(s, &r)) == 0,
	    "%s: %.300s", r.err, s);
	check_header(ops, &r, ev, ctx);
	r.cut = ctx->max_len != 0 && n + 512 > ctx->max_len;
	memset(&nb, 0, sizeof(nb));
	n = dec_wants(ev, ctx, leef, w, &nb);
	dec_check(&r, w, n, leef ? dec_leef_value : dec_cef_value);
	dec_free(&r);
	return s;
}

/* The header fields: exactly 7 (CEF) or 6 (LEEF), each as expected. */
static void
check_header(const struct format_ops *ops, const struct dec_rec *r,
    const struct amp_event *ev, const struct format_ctx *ctx)
{
	struct buf	 name;
	char		 id[24];
	bool		 leef = strcmp(ops->name, "leef") == 0;

	snprintf(id, sizeof(id), "%" PRId64, ev->event_type_id);
	ck_assert_uint_eq(r->nhdr, leef ? 6 : 7);
	ck_assert_str_eq(r->hdr[0], leef ? "LEEF:2.0" : "CEF:0");
	ck_assert_str_eq(r->hdr[1], "Cisco");
	ck_assert_str_eq(r->hdr[2], "Secure Endpoint");
	ck_assert_str_eq(r->hdr[3], AMPSTREAM_VERSION);
	ck_assert_str_eq(r->hdr[4], id);
	if (leef) {
		ck_assert_str_eq(r->hdr[5], "^");
		return;
	}
	buf_init(&name, 0);
	dec_cef_header(ev->event_type, &name);
	if (name.len == 0)
		buf_puts(&name, "unknown");
	ck_assert(strcmp(r->hdr[5], name.data) == 0 || (strlen(r->hdr[5]) <=
	    512 && strncmp(r->hdr[5], name.data, strlen(r->hdr[5]) - 3) == 0));
	buf_free(&name);
	snprintf(id, sizeof(id), "%" PRId64, severity(either(ev->severity,
	    ctx->corr && (ctx->corr->state == CORR_MATCHED ||
	    ctx->corr->state == CORR_UNRESOLVED) ? ctx->corr->det->severity :
	    NULL), ev->event_type_id, ctx->default_severity, false));
	ck_assert_str_eq(r->hdr[6], id);
}

static struct format_ctx
ctx_rt(void)
{
	struct format_ctx	 ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.stream = "s1";
	ctx.cloud = "nam";
	ctx.console_url = "https://console.amp.cisco.com/computers/g/"
	    "trajectory2?id=1";
	ctx.file_console_url = "https://console.amp.cisco.com/file/"
	    "trajectory/ab";
	ctx.received_ms = RT_RECEIVED_MS;
	ctx.default_severity = 1;
	ctx.max_len = 8192;
	return ctx;
}

/* Append s and a newline to lines if lines is not NULL. */
static void
keep(struct buf *lines, const char *s)
{
	if (lines == NULL)
		return;
	buf_puts(lines, s);
	buf_putc(lines, '\n');
}

void
dec_detection(struct corr_detection *d)
{
	memset(d, 0, sizeof(*d));
	d->detection_id = "6533241145273614338";
	d->event_id = "6533241145273614339";
	d->detected_ms = 1593079552619LL;
	d->event_type_id = 1090519054;
	d->detection = "W32.Overdrive.RET";
	d->connector_guid = "g-1";
	d->hostname = "Demo_Host";
	d->file_name = "SqGGuYXyy.exe";
	d->file_path = "\\\\?\\C:\\SqGGuYXyy.exe";
	d->sha256 = "a78c29d1fa05c2b23d1dc9b75da8c053399143682fe3779bc466f10e1a997850";
	d->severity = "High";
}

/* Every line of all.jsonl and of the fixtures kept out of it, alone and
 * as a matched outcome. */
size_t
dec_roundtrip_fixtures(const struct format_ops *ops, struct buf *lines)
{
	static const char *const files[] = {
		"../fixtures/events/all.jsonl",
		"../fixtures/events/threat_hunting_incident_1.json",
		"../fixtures/events/threat_detected_5_archived_file.json",
	};
	struct format_ctx	 ctx = ctx_rt();
	struct corr_detection	 det;
	struct corr_info	 ci = { CORR_MATCHED, &det, 42, "quarantined" };
	struct tev		 t;
	char			 line[65536], *s;
	FILE			*f;
	size_t			 i, n = 0;

	dec_detection(&det);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		ck_assert_ptr_nonnull(f = fopen(files[i], "r"));
		while (fgets(line, sizeof(line), f) != NULL) {
			tev_from(&t, json_tokener_parse(line));
			ctx.corr = NULL;
			keep(lines, s = dec_roundtrip(ops, &t.ev, &ctx));
			free(s);
			ctx.corr = &ci;
			keep(lines, s = dec_roundtrip(ops, &t.ev, &ctx));
			free(s);
			tev_free(&t);
			n += 2;
		}
		fclose(f);
	}
	ck_assert_uint_ge(n, 48);
	return n;
}

/* Values that try to break out of a field, a record or a size cap. */
static const struct {
	const char	*s;
	size_t		 len;
} hostile[] = {
#define H(x)	{ x, sizeof(x) - 1 }
	H("a|b|c"), H("a=b c=d"), H("C:\\dir\\x \\"), H("up^caret^"),
	H("cr\rlf\nboth\r\n"), H("tab\there"), H("nul\0inside"),
	H("bad\xff\xfeutf8\xc3"), H("\xe2\x82\xac=\xf0\x9f\x98\x80"),
	H(" x CEF:0|Evil|Corp|1|2|Forged|10|act=Forged msg=pwned"),
	H("LEEF:2.0|Evil|Corp|1|2|^|cat=Forged^sev=10"),
	H("<13>1 2026-11-24T19:00:00.000Z evil app - - - CEF:0|a|b|c|d|e|10|"),
	H("\\r\\n\\= \\| ^ ="), H("   "), H(""),
#undef H
};

/* The event fields the hostile values go into. */
static const char *const hostile_paths[] = {
	"event_type", "detection", "detection_id", "connector_guid",
	"computer.hostname", "computer.user", "file.file_name",
	"file.file_path", "file.identity.sha256", "file.disposition",
	"file.parent.file_name", "cloud_ioc.short_description",
};

/* One hostile value (or a 10 KiB string of it) in every field. */
static size_t
hostile_one(const struct format_ops *ops, const char *v, size_t len,
    struct buf *lines)
{
	struct format_ctx	 ctx = ctx_rt();
	struct json_object	*o;
	struct tev		 t;
	size_t			 i, n = 0;
	char			*s;

	o = fixture_obj("threat_detected_2_docs_pair.json");
	for (i = 0; i < nitems(hostile_paths); i++)
		set_str(o, hostile_paths[i], v, len);
	tev_from(&t, o);
	for (ctx.max_len = 8192; ctx.max_len >= 1024; ctx.max_len /= 2) {
		keep(lines, s = dec_roundtrip(ops, &t.ev, &ctx));
		free(s);
		n++;
	}
	tev_free(&t);
	return n;
}

/* Every hostile value, as is and repeated to 10 KiB. */
size_t
dec_roundtrip_hostile(const struct format_ops *ops, struct buf *lines)
{
	struct buf	 big;
	size_t		 i, n = 0;

	for (i = 0; i < nitems(hostile); i++) {
		n += hostile_one(ops, hostile[i].s, hostile[i].len, lines);
		if (hostile[i].len == 0)
			continue;
		buf_init(&big, 0);
		while (big.len < 10240)
			buf_append(&big, hostile[i].s, hostile[i].len);
		n += hostile_one(ops, big.data, big.len, lines);
		buf_free(&big);
	}
	return n;
}

void
dec_jscan_dump(const char *base, const struct jscan_val *v, struct buf *b)
{
	struct jscan_iter	 it;
	struct jscan_val	 k, e;

	buf_printf(b, "%d@%td+%zu;", (int)v->type, v->p - base, v->n);
	jscan_open(&it, v);
	if (v->type == JSCAN_OBJECT)
		while (jscan_member(&it, &k, &e)) {
			dec_jscan_dump(base, &k, b);
			dec_jscan_dump(base, &e, b);
		}
	else if (v->type == JSCAN_ARRAY)
		while (jscan_elem(&it, &e))
			dec_jscan_dump(base, &e, b);
}
