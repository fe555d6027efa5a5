/*
 * fmt_facts.h: the facts of one event that the CEF and LEEF records carry,
 * computed once (with the correlated detection filling in what an outcome
 * event lacks) and named per format by a table of keys.  Also the small
 * helpers the JSON formatter shares: correlation state names and times.
 * See docs/records.md for the mapping.  Pure functions.
 */
#ifndef AMPSTREAM_FMT_FACTS_H
#define AMPSTREAM_FMT_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct amp_event;
struct corr_detection;
struct corr_info;
struct tm;
struct format_ctx;
struct fmt_kv;

enum fmt_fact {
	FACT_RT,		/* event time, epoch ms */
	FACT_DEVTIME,		/* event time, yyyy-MM-dd'T'HH:mm:ss.SSS+0000 */
	FACT_START,		/* detection time (correlated) or start_timestamp, ms */
	FACT_DETECTED_AT,	/* detection time (correlated), devTime form */
	FACT_EVENT_ID,
	FACT_CONNECTOR,
	FACT_HOSTNAME,
	FACT_USER,
	FACT_IPV4,
	FACT_IPV6,
	FACT_IP,		/* IPv4, else IPv6 */
	FACT_MAC,
	FACT_EXTERNAL_IP,	/* only if IPv4 */
	FACT_EXTERNAL_IP_ANY,
	FACT_REMOTE_IP,		/* network_info.remote_ip, only if IPv4 */
	FACT_REMOTE_IP_ANY,
	FACT_LOCAL_PORT,
	FACT_REMOTE_PORT,
	FACT_FILE_NAME,
	FACT_FILE_PATH,
	FACT_SHA256,
	FACT_PARENT_NAME,
	FACT_PARENT_PID,
	FACT_PARENT_SHA256,
	FACT_EVENT_TYPE,
	FACT_OUTCOME,		/* success | failure */
	FACT_CATEGORY,		/* the event type family */
	FACT_DESCRIPTION,
	FACT_DETECTION,
	FACT_DETECTION_ID,
	FACT_DISPOSITION,
	FACT_SEVERITY,		/* 1..10, for LEEF sev */
	FACT_CORR_STATE,
	FACT_DET_EVENT_ID,	/* the Threat Detected's event id */
	FACT_SECONDS_TO_OUTCOME,
	FACT_SECONDS_OPEN,
	FACT_ERROR_CODE,
	FACT_CONSOLE_URL,
	FACT_FILE_CONSOLE_URL,
	/*
	 * From here on the facts are optional: a record too long for
	 * max_record loses them (the last in its key table first) before its
	 * values are cut short (docs/records.md).
	 */
	FACT_GROUP_GUIDS,	/* "g1,g2" */
	FACT_GROUP_NAMES,	/* the names known of them, "a,b" */
	FACT_POLICY,		/* the computer's policy (GET /v1/computers) */
	FACT_ISOLATION,		/* its isolation status */
	FACT_STREAM,		/* the stream's name (tenancy) */
	FACT_CLOUD,		/* the cloud's name */
	FACT_TACTICS,		/* MITRE ATT&CK ids, "TA0002,TA0005" */
	FACT_TECHNIQUES,
	FACT_IPS,		/* every address of the computer */
	FACT_MACS,
	FACT_OS,
	FACT_SHA1,
	FACT_MD5,
	FACT_PARENT_SHA1,
	FACT_PARENT_MD5,
	FACT_PARENT_DISPOSITION,
	FACT_ARCHIVED_SHA256,	/* the file inside an archive */
	FACT_ARCHIVED_DISPOSITION,
	FACT_PROTOCOL,		/* network_info.nfm */
	FACT_DIRECTION,
	FACT_DIRTY_URL,
	FACT_INCIDENT_ID,	/* SecureX Threat Hunting */
	FACT_INCIDENT_TITLE,
	FACT_INCIDENT_SUMMARY,
	FACT_INCIDENT_REMEDIATION,
	FACT_COUNT
};
#define FACT_OPTIONAL_FIRST	FACT_GROUP_GUIDS

struct fmt_facts {
	const char	*v[FACT_COUNT];		/* NULL: absent */
	char		 text[FACT_COUNT][32];	/* numbers and times */
	int		 severity;		/* 0..10, for the CEF header */
};

/* How one format names a fact: key, and a label for csN/cnN keys. */
struct fmt_key {
	enum fmt_fact	 fact;
	const char	*key;
	const char	*label_key;
	const char	*label;
};

void	fmt_facts(struct fmt_facts *, const struct amp_event *,
	    const struct format_ctx *);
/* Add the facts present, named by keys[0..n), to kv. */
struct conf_fields;
/* The sink's static fields, first (never cut or dropped): ad.KEY or KEY. */
void	fmt_kv_add_fields(struct fmt_kv *, const struct conf_fields *,
	    bool leef);
void	fmt_kv_add_facts(struct fmt_kv *, const struct fmt_facts *,
	    const struct fmt_key *, size_t n);
/* Event time in epoch ms, else the time ampstream received it. */
int64_t	fmt_event_ms(const struct amp_event *, const struct format_ctx *);
/* "pending", "matched", "uncorrelated", "unresolved", or NULL. */
const char *fmt_corr_state(const struct corr_info *);
/* The detection of a matched or unresolved correlation, or NULL. */
const struct corr_detection *fmt_corr_det(const struct corr_info *);
/* Seconds from the detection to received_ms (unresolved records), >= 0. */
int64_t	fmt_seconds_open(const struct corr_info *, const struct format_ctx *);
/* Split epoch ms into UTC time and milliseconds. */
void	fmt_gmtime(int64_t ms, struct tm *, int *msp);
/* Write epoch ms as yyyy-mm-ddThh:mm:ss.mmm followed by zone; 0 or -1. */
int	fmt_time(char *, size_t, int64_t ms, const char *zone);

#endif
