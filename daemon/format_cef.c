/*
 * format_cef.c: ArcSight CEF records (FINDINGS 1.1, SPEC 4).
 *
 *	CEF:0|Cisco|Secure Endpoint|<version>|<event_type_id>|<event_type>|<sev>|k=v ...
 *
 * Header fields escape '\' and '|', turn CR/LF into SP and drop other
 * control characters; extension values escape '\', '=', CR (\r) and LF (\n)
 * and drop other control characters.  Invalid UTF-8 bytes become '?'.
 * Values are trimmed; a key whose value is absent or empty is left out.
 * Only dictionary keys and labelled csN/cnN/c6aN/flexStringN keys are used
 * (the table below; docs/records.md).  When the record exceeds
 * ctx->max_len, the longest event-supplied values are cut to a common cap
 * (fmt_kv.c).  The Name header field is capped at 512 bytes, as the CEF
 * guide asks.
 */
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "compat.h"
#include "dec.h"
#include "event.h"
#include "fmt_facts.h"
#include "fmt_kv.h"
#include "format.h"

#define CEF_NAME_MAX	512

static int	cef_format(const struct amp_event *, const struct format_ctx *,
		    struct buf *);
static int	cef_header(const struct amp_event *, int, struct buf *);
static void	cef_header_char(struct buf *, unsigned char);
static void	cef_value_char(struct buf *, unsigned char);
static size_t	cef_unit(const unsigned char *);

const struct format_ops format_cef_ops = {
	.name = "cef",
	.format = cef_format,
};

/* Printable ASCII but '\\' and '=' (values), '\\' and '|' (header). */
static const bool cef_value_plain[256] = {
	[0x20 ... 0x3c] = true, [0x3e ... 0x5b] = true, [0x5d ... 0x7e] = true,
};
static const bool cef_header_plain[256] = {
	[0x20 ... 0x5b] = true, [0x5d ... 0x7b] = true, [0x7d ... 0x7e] = true,
};
static const struct fmt_charset cef_header_cs = {
	cef_header_plain, cef_header_char
};

static const struct fmt_dialect cef_dialect = {
	.sep = ' ',
	.value = { cef_value_plain, cef_value_char },
	.unit = cef_unit,
};

/* The extension, in output order. */
static const struct fmt_key cef_keys[] = {
	{ FACT_RT, "rt", NULL, NULL },
	{ FACT_START, "start", NULL, NULL },
	{ FACT_EVENT_ID, "externalId", NULL, NULL },
	{ FACT_CONNECTOR, "deviceExternalId", NULL, NULL },
	{ FACT_HOSTNAME, "dhost", NULL, NULL },
	{ FACT_USER, "duser", NULL, NULL },
	{ FACT_IPV4, "dst", NULL, NULL },
	{ FACT_MAC, "dmac", NULL, NULL },
	{ FACT_IPV6, "c6a1", "c6a1Label", "IPv6 Address" },
	{ FACT_EXTERNAL_IP, "destinationTranslatedAddress", NULL, NULL },
	{ FACT_LOCAL_PORT, "dpt", NULL, NULL },
	{ FACT_REMOTE_IP, "src", NULL, NULL },
	{ FACT_REMOTE_PORT, "spt", NULL, NULL },
	{ FACT_FILE_NAME, "fname", NULL, NULL },
	{ FACT_FILE_PATH, "filePath", NULL, NULL },
	{ FACT_SHA256, "fileHash", NULL, NULL },
	{ FACT_PARENT_NAME, "sproc", NULL, NULL },
	{ FACT_PARENT_PID, "spid", NULL, NULL },
	{ FACT_EVENT_TYPE, "act", NULL, NULL },
	{ FACT_OUTCOME, "outcome", NULL, NULL },
	{ FACT_CATEGORY, "cat", NULL, NULL },
	{ FACT_DESCRIPTION, "msg", NULL, NULL },
	{ FACT_DETECTION, "cs1", "cs1Label", "Detection" },
	{ FACT_DETECTION_ID, "cs2", "cs2Label", "Detection ID" },
	{ FACT_DISPOSITION, "cs3", "cs3Label", "Disposition" },
	{ FACT_CORR_STATE, "cs4", "cs4Label", "Correlation" },
	{ FACT_DET_EVENT_ID, "cs5", "cs5Label", "Detection Event ID" },
	{ FACT_CONSOLE_URL, "cs6", "cs6Label", "Console URL" },
	{ FACT_ERROR_CODE, "cn1", "cn1Label", "Error Code" },
	{ FACT_SECONDS_TO_OUTCOME, "cn2", "cn2Label", "Seconds To Outcome" },
	{ FACT_SECONDS_OPEN, "cn3", "cn3Label", "Seconds Open" },
	{ FACT_FILE_CONSOLE_URL, "flexString1", "flexString1Label",
	    "File Trajectory" },
	{ FACT_PARENT_SHA256, "flexString2", "flexString2Label",
	    "Parent SHA256" },
	{ FACT_DIRTY_URL, "request", NULL, NULL },
	{ FACT_PROTOCOL, "proto", NULL, NULL },
	/* No dictionary key fits and the slots are taken (docs/records.md). */
	{ FACT_STREAM, "ad.stream", NULL, NULL },
	{ FACT_CLOUD, "ad.cloud", NULL, NULL },
	{ FACT_GROUP_NAMES, "ad.groupNames", NULL, NULL },
	{ FACT_GROUP_GUIDS, "ad.groupGuids", NULL, NULL },
	{ FACT_POLICY, "ad.policy", NULL, NULL },
	{ FACT_ISOLATION, "ad.isolation", NULL, NULL },
	{ FACT_TACTICS, "ad.mitreTactics", NULL, NULL },
	{ FACT_TECHNIQUES, "ad.mitreTechniques", NULL, NULL },
	{ FACT_INCIDENT_ID, "ad.incidentId", NULL, NULL },
	{ FACT_INCIDENT_TITLE, "ad.incidentTitle", NULL, NULL },
	{ FACT_INCIDENT_SUMMARY, "ad.incidentSummary", NULL, NULL },
	{ FACT_INCIDENT_REMEDIATION, "ad.incidentRemediation", NULL, NULL },
	{ FACT_SHA1, "ad.fileSha1", NULL, NULL },
	{ FACT_MD5, "ad.fileMd5", NULL, NULL },
	{ FACT_PARENT_SHA1, "ad.parentSha1", NULL, NULL },
	{ FACT_PARENT_MD5, "ad.parentMd5", NULL, NULL },
	{ FACT_PARENT_DISPOSITION, "ad.parentDisposition", NULL, NULL },
	{ FACT_ARCHIVED_SHA256, "ad.archivedSha256", NULL, NULL },
	{ FACT_ARCHIVED_DISPOSITION, "ad.archivedDisposition", NULL, NULL },
	{ FACT_IPS, "ad.ips", NULL, NULL },
	{ FACT_MACS, "ad.macs", NULL, NULL },
	{ FACT_OS, "ad.os", NULL, NULL },
	{ FACT_DIRECTION, "ad.direction", NULL, NULL },
};

/* Append the CEF record of ev to out, truncating values to fit max_len. */
static int
cef_format(const struct amp_event *ev, const struct format_ctx *ctx,
    struct buf *out)
{
	struct fmt_facts f;
	struct fmt_kv	 kv;
	int		 rv = -1;

	fmt_facts(&f, ev, ctx);
	fmt_kv_init(&kv, &cef_dialect);
	if (cef_header(ev, f.severity, &kv.hdr) == -1)
		goto done;
	fmt_kv_add_fields(&kv, ctx->fields, false);
	fmt_kv_add_facts(&kv, &f, cef_keys, nitems(cef_keys));
	rv = fmt_kv_emit(&kv, ctx->max_len, out);
done:
	fmt_kv_free(&kv);
	return rv;
}

/* Build the seven header fields, each followed by '|'. */
static int
cef_header(const struct amp_event *ev, int sev, struct buf *h)
{
	char		 num[DEC_I64_SIZE];
	size_t		 name;
	int		 rv;

	rv = buf_puts(h, "CEF:0|Cisco|Secure Endpoint|");
	rv |= fmt_encode(h, AMPSTREAM_VERSION, &cef_header_cs);
	rv |= buf_putc(h, '|');
	rv |= buf_append(h, num, dec_i64(num, ev->event_type_id));
	rv |= buf_putc(h, '|');
	/* The name, encoded in place, then cut there if it is too long. */
	name = h->len;
	rv |= fmt_encode(h, ev->event_type, &cef_header_cs);
	if (rv == 0 && h->len == name)
		rv |= buf_puts(h, "unknown");
	if (rv == 0 && h->len - name > CEF_NAME_MAX) {
		h->len = name + fmt_cut(h->data + name, h->len - name,
		    CEF_NAME_MAX - strlen(FMT_ELLIPSIS), cef_unit);
		rv |= buf_puts(h, FMT_ELLIPSIS);
	}
	rv |= buf_putc(h, '|');
	rv |= buf_append(h, num, dec_i64(num, sev));
	rv |= buf_putc(h, '|');
	return rv;
}

/* One ASCII byte of a header field: '\' and '|' escaped, CR/LF as SP. */
static void
cef_header_char(struct buf *b, unsigned char c)
{
	if (c == '\\' || c == '|') {
		buf_putc(b, '\\');
		buf_putc(b, (char)c);
	} else if (c == '\r' || c == '\n')
		buf_putc(b, ' ');
	else if (c >= 0x20 && c != 0x7f)
		buf_putc(b, (char)c);
}

/* One ASCII byte of a value: '\' '=' CR LF escaped, other controls gone. */
static void
cef_value_char(struct buf *b, unsigned char c)
{
	if (c == '\\' || c == '=') {
		buf_putc(b, '\\');
		buf_putc(b, (char)c);
	} else if (c == '\r')
		buf_puts(b, "\\r");
	else if (c == '\n')
		buf_puts(b, "\\n");
	else if (c >= 0x20 && c != 0x7f)
		buf_putc(b, (char)c);
}

/* An escape ('\' and the next byte) or a character. */
static size_t
cef_unit(const unsigned char *p)
{
	return p[0] == '\\' ? 2 : fmt_unit_char(p);
}
