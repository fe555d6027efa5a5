/*
 * format_leef.c: IBM QRadar LEEF 2.0 records (FINDINGS 1.3, SPEC 4).
 *
 *	LEEF:2.0|Cisco|Secure Endpoint|<version>|<event_type_id>|^|k=v^k=v...
 *
 * The IBM guide defines no escape, so nothing is escaped; instead, inside
 * a value the delimiter '^' becomes '_' and CR, LF, TAB, the other C0
 * controls and DEL become SP (then the value is trimmed); in a header
 * field '|' becomes '_' and controls SP.  Invalid UTF-8 bytes become '?'.
 * '=' and '\' stay literal (a parser splits an attribute at its first '=').
 * The keys are LEEF's predefined ones where one fits (devTime, sev, cat,
 * usrName, identHostName, dst, dstMAC, src, srcPort, dstPort), else
 * readable camelCase names (docs/records.md).  Values are truncated to
 * ctx->max_len like CEF's (fmt_kv.c).
 */
#include <inttypes.h>
#include <stdbool.h>

#include "buf.h"
#include "compat.h"
#include "event.h"
#include "fmt_facts.h"
#include "fmt_kv.h"
#include "format.h"

#define LEEF_DELIM		'^'
#define LEEF_TIME_FORMAT	"yyyy-MM-dd'T'HH:mm:ss.SSSZ"

static int	leef_format(const struct amp_event *, const struct format_ctx *,
		    struct buf *);
static void	leef_header_char(struct buf *, unsigned char);
static void	leef_value_char(struct buf *, unsigned char);

const struct format_ops format_leef_ops = {
	.name = "leef",
	.format = leef_format,
};

/* Printable ASCII but the delimiter '^' (values) and '|' (header). */
_Static_assert(LEEF_DELIM == 0x5e, "leef_value_plain must leave it out");
static const bool leef_value_plain[256] = {
	[0x20 ... 0x5d] = true, [0x5f ... 0x7e] = true,
};
static const bool leef_header_plain[256] = {
	[0x20 ... 0x7b] = true, [0x7d ... 0x7e] = true,
};
static const struct fmt_charset leef_header_cs = {
	leef_header_plain, leef_header_char
};

static const struct fmt_dialect leef_dialect = {
	.sep = LEEF_DELIM,
	.value = { leef_value_plain, leef_value_char },
	.unit = fmt_unit_char,
};

/* The attributes after devTimeFormat, in output order. */
static const struct fmt_key leef_keys[] = {
	{ FACT_SEVERITY, "sev", NULL, NULL },
	{ FACT_EVENT_TYPE, "cat", NULL, NULL },
	{ FACT_CATEGORY, "eventCategory", NULL, NULL },
	{ FACT_EVENT_ID, "externalId", NULL, NULL },
	{ FACT_CONNECTOR, "deviceExternalId", NULL, NULL },
	{ FACT_HOSTNAME, "identHostName", NULL, NULL },
	{ FACT_USER, "usrName", NULL, NULL },
	{ FACT_IP, "dst", NULL, NULL },
	{ FACT_MAC, "dstMAC", NULL, NULL },
	{ FACT_EXTERNAL_IP_ANY, "externalIp", NULL, NULL },
	{ FACT_LOCAL_PORT, "dstPort", NULL, NULL },
	{ FACT_REMOTE_IP_ANY, "src", NULL, NULL },
	{ FACT_REMOTE_PORT, "srcPort", NULL, NULL },
	{ FACT_FILE_NAME, "fileName", NULL, NULL },
	{ FACT_FILE_PATH, "filePath", NULL, NULL },
	{ FACT_SHA256, "fileHash", NULL, NULL },
	{ FACT_PARENT_NAME, "parentProcess", NULL, NULL },
	{ FACT_PARENT_PID, "parentPid", NULL, NULL },
	{ FACT_PARENT_SHA256, "parentFileHash", NULL, NULL },
	{ FACT_OUTCOME, "outcome", NULL, NULL },
	{ FACT_DESCRIPTION, "msg", NULL, NULL },
	{ FACT_DETECTION, "detection", NULL, NULL },
	{ FACT_DETECTION_ID, "detectionId", NULL, NULL },
	{ FACT_DISPOSITION, "disposition", NULL, NULL },
	{ FACT_CORR_STATE, "correlation", NULL, NULL },
	{ FACT_DET_EVENT_ID, "detectionEventId", NULL, NULL },
	{ FACT_DETECTED_AT, "detectedAt", NULL, NULL },
	{ FACT_SECONDS_TO_OUTCOME, "secondsToOutcome", NULL, NULL },
	{ FACT_SECONDS_OPEN, "secondsOpen", NULL, NULL },
	{ FACT_ERROR_CODE, "errorCode", NULL, NULL },
	{ FACT_CONSOLE_URL, "consoleUrl", NULL, NULL },
	{ FACT_FILE_CONSOLE_URL, "fileConsoleUrl", NULL, NULL },
	{ FACT_DIRTY_URL, "url", NULL, NULL },
	{ FACT_PROTOCOL, "proto", NULL, NULL },
	{ FACT_STREAM, "stream", NULL, NULL },
	{ FACT_CLOUD, "cloud", NULL, NULL },
	{ FACT_GROUP_NAMES, "groupNames", NULL, NULL },
	{ FACT_GROUP_GUIDS, "groupGuids", NULL, NULL },
	{ FACT_POLICY, "policy", NULL, NULL },
	{ FACT_ISOLATION, "isolation", NULL, NULL },
	{ FACT_TACTICS, "mitreTactics", NULL, NULL },
	{ FACT_TECHNIQUES, "mitreTechniques", NULL, NULL },
	{ FACT_INCIDENT_ID, "incidentId", NULL, NULL },
	{ FACT_INCIDENT_TITLE, "incidentTitle", NULL, NULL },
	{ FACT_INCIDENT_SUMMARY, "incidentSummary", NULL, NULL },
	{ FACT_INCIDENT_REMEDIATION, "incidentRemediation", NULL, NULL },
	{ FACT_SHA1, "fileSha1", NULL, NULL },
	{ FACT_MD5, "fileMd5", NULL, NULL },
	{ FACT_PARENT_SHA1, "parentSha1", NULL, NULL },
	{ FACT_PARENT_MD5, "parentMd5", NULL, NULL },
	{ FACT_PARENT_DISPOSITION, "parentDisposition", NULL, NULL },
	{ FACT_ARCHIVED_SHA256, "archivedSha256", NULL, NULL },
	{ FACT_ARCHIVED_DISPOSITION, "archivedDisposition", NULL, NULL },
	{ FACT_IPS, "ips", NULL, NULL },
	{ FACT_MACS, "macs", NULL, NULL },
	{ FACT_OS, "os", NULL, NULL },
	{ FACT_DIRECTION, "direction", NULL, NULL },
};

/* Append the LEEF record of ev to out, truncating values to fit max_len. */
static int
leef_format(const struct amp_event *ev, const struct format_ctx *ctx,
    struct buf *out)
{
	struct fmt_facts f;
	struct fmt_kv	 kv;
	int		 rv = -1;

	fmt_facts(&f, ev, ctx);
	fmt_kv_init(&kv, &leef_dialect);
	buf_puts(&kv.hdr, "LEEF:2.0|Cisco|Secure Endpoint|");
	(void)fmt_encode(&kv.hdr, AMPSTREAM_VERSION, &leef_header_cs);
	if (buf_printf(&kv.hdr, "|%" PRId64 "|%c|", ev->event_type_id,
	    LEEF_DELIM) == -1)
		goto done;
	fmt_kv_add(&kv, "devTime", NULL, NULL, f.v[FACT_DEVTIME], false);
	if (f.v[FACT_DEVTIME] != NULL)
		fmt_kv_add(&kv, "devTimeFormat", NULL, NULL, LEEF_TIME_FORMAT,
		    false);
	fmt_kv_add_fields(&kv, ctx->fields, true);
	fmt_kv_add_facts(&kv, &f, leef_keys, nitems(leef_keys));
	rv = fmt_kv_emit(&kv, ctx->max_len, out);
done:
	fmt_kv_free(&kv);
	return rv;
}

/* One ASCII byte of a header field: '|' as '_', controls as SP. */
static void
leef_header_char(struct buf *b, unsigned char c)
{
	if (c == '|')
		buf_putc(b, '_');
	else if (c < 0x20 || c == 0x7f)
		buf_putc(b, ' ');
	else
		buf_putc(b, (char)c);
}

/* One ASCII byte of a value: the delimiter as '_', controls as SP. */
static void
leef_value_char(struct buf *b, unsigned char c)
{
	if (c == LEEF_DELIM)
		buf_putc(b, '_');
	else if (c < 0x20 || c == 0x7f)
		buf_putc(b, ' ');
	else
		buf_putc(b, (char)c);
}
