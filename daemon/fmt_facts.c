/*
 * fmt_facts.c: the facts of an event for the key=value formats (see
 * fmt_facts.h and docs/records.md).
 *
 * For a matched or unresolved correlation the detection fills in what the
 * event lacks (a "Threat Quarantined" carries only the SHA-256): detection
 * name, file name and path, SHA-256, host, connector, detection id and
 * severity.  The endpoint is always the destination side (dhost/dst), so
 * network_info.local_port is the destination port and the remote end the
 * source.
 */
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "compat.h"
#include "corr.h"
#include "config.h"
#include "dec.h"
#include "event.h"
#include "fmt_facts.h"
#include "fmt_kv.h"
#include "format.h"

static void	facts_host(struct fmt_facts *, const struct amp_event *,
		    const struct corr_detection *);
static void	facts_net(struct fmt_facts *, const struct amp_event *);
static void	facts_file(struct fmt_facts *, const struct amp_event *,
		    const struct corr_detection *);
static void	facts_kind(struct fmt_facts *, const struct amp_event *,
		    const struct format_ctx *, const struct corr_detection *);
static void	facts_corr(struct fmt_facts *, const struct format_ctx *,
		    const struct corr_detection *);
static void	facts_num(struct fmt_facts *, enum fmt_fact, int64_t);
static void	facts_time(struct fmt_facts *, enum fmt_fact, enum fmt_fact,
		    int64_t);
static const char *pick(const char *, const char *);
static const char *ip_only(const char *, int);
static const char *fmt_outcome(int64_t);
static const char *fmt_category(int64_t);
static bool	fmt_fact_variable(enum fmt_fact);
static int	severity_of(const char *);
static int	type_severity(int64_t);
static void	facts_rich(struct fmt_facts *, const struct amp_event *,
		    const struct format_ctx *);

/* Facts that never come from free event text: never truncated. */
static const bool fixed_facts[FACT_COUNT] = {
	[FACT_RT] = true, [FACT_DEVTIME] = true, [FACT_START] = true,
	[FACT_DETECTED_AT] = true, [FACT_EVENT_ID] = true, [FACT_IPV4] = true,
	[FACT_IPV6] = true, [FACT_IP] = true, [FACT_EXTERNAL_IP] = true,
	[FACT_EXTERNAL_IP_ANY] = true, [FACT_REMOTE_IP] = true,
	[FACT_REMOTE_IP_ANY] = true, [FACT_LOCAL_PORT] = true,
	[FACT_REMOTE_PORT] = true, [FACT_PARENT_PID] = true,
	[FACT_OUTCOME] = true, [FACT_CATEGORY] = true, [FACT_SEVERITY] = true,
	[FACT_CORR_STATE] = true, [FACT_DET_EVENT_ID] = true,
	[FACT_SECONDS_TO_OUTCOME] = true, [FACT_SECONDS_OPEN] = true,
	[FACT_ERROR_CODE] = true,
};

/* Compute every fact of ev (NULL where absent). */
void
fmt_facts(struct fmt_facts *f, const struct amp_event *ev,
    const struct format_ctx *ctx)
{
	const struct corr_detection *det = fmt_corr_det(ctx->corr);

	memset(f->v, 0, sizeof(f->v));
	facts_time(f, FACT_RT, FACT_DEVTIME, fmt_event_ms(ev, ctx));
	facts_host(f, ev, det);
	facts_net(f, ev);
	facts_file(f, ev, det);
	facts_kind(f, ev, ctx, det);
	facts_corr(f, ctx, det);
	if (det == NULL && ev->start_timestamp > 0 &&
	    ev->start_timestamp < INT64_MAX / 1000)
		facts_num(f, FACT_START, ev->start_timestamp * 1000);
	f->v[FACT_CONSOLE_URL] = ctx->console_url;
	f->v[FACT_FILE_CONSOLE_URL] = ctx->file_console_url;
	f->v[FACT_GROUP_GUIDS] = ctx->group_guids_text;
	f->v[FACT_GROUP_NAMES] = ctx->group_names_text;
	f->v[FACT_POLICY] = ctx->policy;
	f->v[FACT_ISOLATION] = ctx->isolation;
	facts_rich(f, ev, ctx);
}

/* Tenancy, MITRE, every address, the other hashes, flows, incidents. */
static void
facts_rich(struct fmt_facts *f, const struct amp_event *ev,
    const struct format_ctx *ctx)
{
	f->v[FACT_STREAM] = ctx->stream;
	f->v[FACT_CLOUD] = ctx->cloud;
	f->v[FACT_TACTICS] = ev->tactics;
	f->v[FACT_TECHNIQUES] = ev->techniques;
	f->v[FACT_IPS] = ev->ips;
	f->v[FACT_MACS] = ev->macs;
	f->v[FACT_OS] = ev->os;
	f->v[FACT_SHA1] = ev->sha1;
	f->v[FACT_MD5] = ev->md5;
	f->v[FACT_PARENT_SHA1] = ev->parent_sha1;
	f->v[FACT_PARENT_MD5] = ev->parent_md5;
	f->v[FACT_PARENT_DISPOSITION] = ev->parent_disposition;
	f->v[FACT_ARCHIVED_SHA256] = ev->archived_sha256;
	f->v[FACT_ARCHIVED_DISPOSITION] = ev->archived_disposition;
	f->v[FACT_PROTOCOL] = ev->protocol;
	f->v[FACT_DIRECTION] = ev->direction;
	f->v[FACT_DIRTY_URL] = ev->dirty_url;
	f->v[FACT_INCIDENT_ID] = ev->incident_id;
	f->v[FACT_INCIDENT_TITLE] = ev->incident_title;
	f->v[FACT_INCIDENT_SUMMARY] = ev->incident_summary;
	f->v[FACT_INCIDENT_REMEDIATION] = ev->incident_remediation;
}

/* Ids and the endpoint. */
static void
facts_host(struct fmt_facts *f, const struct amp_event *ev,
    const struct corr_detection *det)
{
	f->v[FACT_EVENT_ID] = ev->has_id ? ev->id_str : NULL;
	f->v[FACT_CONNECTOR] = pick(ev->connector_guid,
	    det ? det->connector_guid : NULL);
	f->v[FACT_HOSTNAME] = pick(ev->hostname, det ? det->hostname : NULL);
	f->v[FACT_USER] = ev->user;
	f->v[FACT_IPV4] = ev->ipv4;
	f->v[FACT_IPV6] = ev->ipv6;
	f->v[FACT_IP] = ev->ipv4 != NULL ? ev->ipv4 : ev->ipv6;
	f->v[FACT_MAC] = ev->mac;
}

/* Addresses and ports (validated: typed keys are dropped when invalid). */
static void
facts_net(struct fmt_facts *f, const struct amp_event *ev)
{
	f->v[FACT_EXTERNAL_IP] = ip_only(ev->external_ip, AF_INET);
	f->v[FACT_EXTERNAL_IP_ANY] = f->v[FACT_EXTERNAL_IP] != NULL ?
	    f->v[FACT_EXTERNAL_IP] : ip_only(ev->external_ip, AF_INET6);
	f->v[FACT_REMOTE_IP] = ip_only(ev->remote_ip, AF_INET);
	f->v[FACT_REMOTE_IP_ANY] = f->v[FACT_REMOTE_IP] != NULL ?
	    f->v[FACT_REMOTE_IP] : ip_only(ev->remote_ip, AF_INET6);
	if (ev->has_local_port)
		facts_num(f, FACT_LOCAL_PORT, ev->local_port);
	if (ev->has_remote_port)
		facts_num(f, FACT_REMOTE_PORT, ev->remote_port);
}

/* The file and its parent process. */
static void
facts_file(struct fmt_facts *f, const struct amp_event *ev,
    const struct corr_detection *det)
{
	f->v[FACT_FILE_NAME] = pick(ev->file_name, det ? det->file_name : NULL);
	f->v[FACT_FILE_PATH] = pick(ev->file_path, det ? det->file_path : NULL);
	f->v[FACT_SHA256] = pick(ev->sha256, det ? det->sha256 : NULL);
	f->v[FACT_PARENT_NAME] = ev->parent_name;
	if (ev->has_parent_pid)
		facts_num(f, FACT_PARENT_PID, ev->parent_pid);
	f->v[FACT_PARENT_SHA256] = ev->parent_sha256;
}

/* What happened: type, family, outcome, detection, severity, error. */
static void
facts_kind(struct fmt_facts *f, const struct amp_event *ev,
    const struct format_ctx *ctx, const struct corr_detection *det)
{
	const char	*sev = pick(ev->severity, det ? det->severity : NULL);

	f->v[FACT_EVENT_TYPE] = ev->event_type;
	f->v[FACT_OUTCOME] = fmt_outcome(ev->event_type_id);
	f->v[FACT_CATEGORY] = fmt_category(ev->event_type_id);
	f->v[FACT_DESCRIPTION] = ev->description;
	f->v[FACT_DETECTION] = pick(ev->detection, det ? det->detection : NULL);
	f->v[FACT_DETECTION_ID] = pick(ev->detection_id,
	    det ? det->detection_id : NULL);
	f->v[FACT_DISPOSITION] = ev->disposition;
	/* The event's (or its detection's), its type's, the sink's. */
	if ((f->severity = severity_of(sev)) < 0 &&
	    (f->severity = type_severity(ev->event_type_id)) < 0)
		f->severity = ctx->default_severity < 0 ? 0 :
		    ctx->default_severity > 10 ? 10 : ctx->default_severity;
	facts_num(f, FACT_SEVERITY, f->severity < 1 ? 1 : f->severity);
	if (ev->has_error_code)
		facts_num(f, FACT_ERROR_CODE, ev->error_code);
}

/* The correlation state and the detection's id, time and age. */
static void
facts_corr(struct fmt_facts *f, const struct format_ctx *ctx,
    const struct corr_detection *det)
{
	f->v[FACT_CORR_STATE] = fmt_corr_state(ctx->corr);
	if (det != NULL) {
		f->v[FACT_DET_EVENT_ID] = pick(det->event_id, NULL);
		facts_time(f, FACT_START, FACT_DETECTED_AT, det->detected_ms);
	}
	if (ctx->corr != NULL && ctx->corr->state == CORR_MATCHED)
		facts_num(f, FACT_SECONDS_TO_OUTCOME,
		    ctx->corr->seconds_to_outcome);
	if (ctx->corr != NULL && ctx->corr->state == CORR_UNRESOLVED)
		facts_num(f, FACT_SECONDS_OPEN, fmt_seconds_open(ctx->corr, ctx));
}

/* Set fact k to the decimal v. */
static void
facts_num(struct fmt_facts *f, enum fmt_fact k, int64_t v)
{
	dec_i64(f->text[k], v);
	f->v[k] = f->text[k];
}

/* Set ms (epoch ms) and its devTime form (fact dev). */
static void
facts_time(struct fmt_facts *f, enum fmt_fact ms, enum fmt_fact dev,
    int64_t v)
{
	facts_num(f, ms, v);
	if (fmt_time(f->text[dev], sizeof(f->text[dev]), v, "+0000") == 0)
		f->v[dev] = f->text[dev];
}

/* a unless it is absent or empty, else b (NULL if empty too). */
static const char *
pick(const char *a, const char *b)
{
	if (a != NULL && *a != '\0')
		return a;
	if (b != NULL && *b != '\0')
		return b;
	return a;
}

/* s if it is an address of family af, else NULL. */
static const char *
ip_only(const char *s, int af)
{
	unsigned char	 a[16];

	if (s == NULL || inet_pton(af, s, a) != 1)
		return NULL;
	return s;
}

/* Add the facts present to kv under the format's keys. */
void
fmt_kv_add_facts(struct fmt_kv *kv, const struct fmt_facts *f,
    const struct fmt_key *keys, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (keys[i].fact >= FACT_OPTIONAL_FIRST)	/* at the end */
			fmt_kv_optional(kv);
		fmt_kv_add(kv, keys[i].key, keys[i].label_key, keys[i].label,
		    f->v[keys[i].fact], fmt_fact_variable(keys[i].fact));
	}
}

void
fmt_kv_add_fields(struct fmt_kv *kv, const struct conf_fields *f, bool leef)
{
	size_t	 i;

	for (i = 0; f != NULL && i < f->n; i++)
		fmt_kv_add(kv, leef ? f->v[i].key : f->v[i].ad_key, NULL, NULL,
		    f->v[i].value, false);
}

/* True if the fact comes from free event text (it may be truncated). */
static bool
fmt_fact_variable(enum fmt_fact k)
{
	return k < FACT_COUNT && !fixed_facts[k];
}

/* The severity 0-10 of the AMP severity name, or -1. */
static int
severity_of(const char *name)
{
	static const struct {
		const char	*name;
		int		 sev;
	} map[] = {
		{ "Low", 3 }, { "Medium", 6 }, { "High", 8 }, { "Critical", 10 },
	};
	size_t	 i;

	for (i = 0; name != NULL && i < nitems(map); i++)
		if (strcasecmp(name, map[i].name) == 0)
			return map[i].sev;
	return -1;
}

/*
 * The severity of an event that carries none (older events, outcomes whose
 * detection is not known), by its type (docs/records.md): compromises High,
 * threats and failed quarantines Medium, successful quarantines and other
 * failures Low; -1 for the rest, which get the sink's default_severity.
 * The levels are the ones Cisco sets most often on each family.
 */
static int
type_severity(int64_t id)
{
	const char	*cat = fmt_category(id), *out = fmt_outcome(id);

	if (out != NULL)
		return strcmp(out, "failure") == 0 ? 6 : 3;
	if (strcmp(cat, "Compromise") == 0)
		return 8;
	if (strcmp(cat, "Threat") == 0)
		return 6;
	if (strcmp(cat, "Failure") == 0)
		return 3;
	return -1;
}

/* Event time in epoch ms, else the time ampstream received it. */
int64_t
fmt_event_ms(const struct amp_event *ev, const struct format_ctx *ctx)
{
	if (ev->timestamp <= 0 || ev->timestamp > INT64_MAX / 1000 - 1)
		return ctx->received_ms;
	return ev->timestamp * 1000 + ev->timestamp_ns / 1000000;
}

/* "success" or "failure" for quarantine results, else NULL. */
static const char *
fmt_outcome(int64_t type_id)
{
	switch (type_id) {
	case 553648143:		/* Threat Quarantined */
	case 553648155:		/* Cloud Recall Quarantine Successful */
		return "success";
	case 2164260880:	/* Quarantine Failure */
	case 2164260893:	/* Cloud Recall Quarantine Attempt Failed */
	case 2181038130:	/* Quarantine Request Failed to be Delivered */
		return "failure";
	default:
		return NULL;
	}
}

/*
 * The static family of an event type: the quarantine and threat types by
 * id, else by the class in the id's top byte (amp-api.md 10: 0x21/0x22
 * activity, 0x41 threat, 0x42 compromise, 0x81/0x82 failure; bit 0x100000
 * scan).
 */
static const char *
fmt_category(int64_t id)
{
	static const struct {
		int64_t		 id;
		const char	*cat;
	} known[] = {
		{ 553648143, "Quarantine" }, { 553648149, "Quarantine" },
		{ 553648150, "Quarantine" }, { 553648154, "Quarantine" },
		{ 553648155, "Quarantine" }, { 570425394, "Quarantine" },
		{ 2164260880, "Quarantine" }, { 2164260884, "Quarantine" },
		{ 2164260892, "Quarantine" }, { 2164260893, "Quarantine" },
		{ 2181038130, "Quarantine" }, { 553648147, "Threat" },
		{ 553648168, "Threat" }, { 553648199, "Threat" },
	};
	size_t	 i;

	for (i = 0; i < nitems(known); i++)
		if (known[i].id == id)
			return known[i].cat;
	if (id >= 1003 && id <= 1005)
		return "Account";
	switch ((id >> 24) & 0xff) {
	case 0x41:
		return "Threat";
	case 0x42:
		return "Compromise";
	case 0x21: case 0x22: case 0x81: case 0x82:
		if (id & 0x00100000)
			return "Scan";
		return (id >> 24) >= 0x81 ? "Failure" : "Activity";
	default:
		return "Other";
	}
}

/* The name of the correlation state, or NULL for none. */
const char *
fmt_corr_state(const struct corr_info *c)
{
	if (c == NULL)
		return NULL;
	switch (c->state) {
	case CORR_PENDING:
		return "pending";
	case CORR_MATCHED:
		return "matched";
	case CORR_UNCORRELATED:
		return "uncorrelated";
	case CORR_UNRESOLVED:
		return "unresolved";
	default:
		return NULL;
	}
}

/* The detection behind a matched or unresolved correlation, or NULL. */
const struct corr_detection *
fmt_corr_det(const struct corr_info *c)
{
	if (c == NULL || (c->state != CORR_MATCHED &&
	    c->state != CORR_UNRESOLVED))
		return NULL;
	return c->det;
}

/* Whole seconds from the detection's time to the record's, never < 0. */
int64_t
fmt_seconds_open(const struct corr_info *c, const struct format_ctx *ctx)
{
	const struct corr_detection *det = fmt_corr_det(c);

	if (det == NULL || ctx->received_ms <= det->detected_ms)
		return 0;
	return (ctx->received_ms - det->detected_ms) / 1000;
}

/* Split epoch ms into UTC broken-down time and milliseconds. */
void
fmt_gmtime(int64_t ms, struct tm *tm, int *msp)
{
	int64_t	 sec = ms / 1000, frac = ms % 1000;

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	*msp = (int)frac;
	clock_gmtime(sec, tm);
}

/* Write ms as "yyyy-mm-ddThh:mm:ss.mmm" + zone into s. */
int
fmt_time(char *s, size_t size, int64_t ms, const char *zone)
{
	struct tm	 tm;
	size_t		 n;
	int		 frac;

	fmt_gmtime(ms, &tm, &frac);
	if (size > DEC_ISO_LEN + strlen(zone) && dec_iso(s, &tm, frac) != NULL) {
		memcpy(s + DEC_ISO_LEN, zone, strlen(zone) + 1);
		return 0;
	}
	if ((n = strftime(s, size, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
		return -1;
	if (snprintf(s + n, size - n, ".%03d%s", frac, zone) >=
	    (int)(size - n))
		return -1;
	return 0;
}
