/*
 * fuzz_event.c: an AMQP message body through event_read, correlation,
 * console links and record_make for every formatter, syslog header and
 * framing, at a generous and a tight max_record, as route.c does.  Every
 * record must fit max_record, hold no raw CR, LF or NUL (but the one LF of
 * LF framing), carry a right octet count, and decode with the strict test
 * decoders (tests/unit/rec_decode.c: CEF and LEEF) or json-c (JSON).
 *
 * The input is one message body.  When it has several lines, each line is
 * then also one message, in order, through the same correlation table, so
 * that a detection and its outcome can meet; at the end the table is
 * ticked past unresolved_alert and each alert (corr_alert_event) is
 * rendered too.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json.h>

#include "buf.h"
#include "config.h"
#include "console.h"
#include "corr.h"
#include "event.h"
#include "format.h"
#include "rec_decode.h"
#include "record.h"
#include "syslog.h"
#include "fuzz_util.h"

#define HOSTNAME	"fuzz-host"
#define AMQP_HOST	"export-streaming.eu.amp.cisco.com"
#define NFORMAT		3
#define NSTYLE		3
#define NFRAMING	2
#define NMAX		2

static char *const formats[NFORMAT] = { "cef", "json", "leef" };
static const size_t max_records[NMAX] = { 8192, 512 };
/* One sink's recipe for each format, style, framing and max_record. */
static struct record_recipe *recipes[NFORMAT][NSTYLE][NFRAMING][NMAX];
static int64_t	 tick_ms;	/* when the alerts are made */
static const struct corr_conf corr_conf = {
	.max_entries = 16,
	.ttl = 3600,
	.unresolved_alert = 60,
};

static void	 make_recipes(void);
static void	 make_recipe(struct sink_conf *, size_t, size_t, size_t,
		    size_t);
static void	 one_body(struct corr *, const char *, size_t, int64_t);
static void	 on_alert(const struct corr_detection *, void *);
static void	 render_all(const struct amp_event *, const struct corr_info *,
		    int64_t);
static void	 render_one(size_t, size_t, size_t, size_t,
		    const struct amp_event *, const struct format_ctx *);
static void	 check_framed(const char *, const char *, size_t, size_t,
		    enum framing, size_t, const struct amp_event *);
static void	 check_record(const char *, const char *, size_t,
		    const struct amp_event *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *nl;
	struct corr	*c;
	int64_t		 now = FZ_NOW_MS;

	if (recipes[0][0][0][0] == NULL)
		make_recipes();
	fz_quiet(1);
	c = corr_new(NULL, &corr_conf, on_alert, NULL);
	one_body(c, p, size, now);
	if (size > 0 && memchr(p, '\n', size) != NULL) {
		for (; p < end; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			one_body(c, p, (size_t)(nl - p), now += 1000);
		}
	}
	tick_ms = now + corr_conf.unresolved_alert * 1000LL;
	corr_tick(c, tick_ms);
	corr_free(c);
	fz_quiet(0);
	return 0;
}

/* The recipes of sinks with every format, style, framing and size. */
static void
make_recipes(void)
{
	/* Recipes keep pointers into their sink's configuration. */
	static struct conf_field tenant = { "tenant", "ad.tenant", "acme" };
	static struct sink_conf sc;
	size_t		 f, s, fr, m;

	memset(&sc, 0, sizeof(sc));
	sc.name = "fuzz";
	sc.fields.v = &tenant;
	sc.fields.n = 1;
	sc.facility = 16;
	sc.app_name = "ampstream";
	for (f = 0; f < NFORMAT; f++)
		for (s = 0; s < NSTYLE; s++)
			for (fr = 0; fr < NFRAMING; fr++)
				for (m = 0; m < NMAX; m++)
					make_recipe(&sc, f, s, fr, m);
}

static void
make_recipe(struct sink_conf *sc, size_t f, size_t s, size_t fr, size_t m)
{
	char	*cause = NULL;

	sc->format = formats[f];
	sc->syslog = (enum syslog_style)(SYSLOG_RFC5424 + s);
	sc->framing = (enum framing)(FRAMING_OCTET + fr);
	sc->max_record = max_records[m];
	sc->default_severity = max_records[m] > 512 ? 1 : 10;
	if ((recipes[f][s][fr][m] = record_recipe_new(sc, HOSTNAME,
	    &cause)) == NULL)
		fz_fail("record_recipe_new: %s", cause);
}

/* One message: read, correlated and rendered as route.c does. */
static void
one_body(struct corr *c, const char *body, size_t len, int64_t now)
{
	struct amp_event ev;
	struct corr_info info;
	const char	*reason = NULL;

	/* Its own block, sized exactly: ASan sees a write past it. */
	if (event_read(&ev, body, len, NULL, &reason) == -1) {
		FZ_CHECK(reason != NULL, "event_read: -1 without a reason");
		return;
	}
	FZ_CHECK(ev.event_type != NULL, "event_read: no event_type");
	corr_observe(c, &ev, 0, now, &info);
	render_all(&ev, &info, now);
	event_clear(&ev);
}

/* An unresolved detection: rendered as route.c's alert callback does. */
static void
on_alert(const struct corr_detection *det, void *arg __unused)
{
	struct amp_event ev;
	struct corr_info info;

	corr_alert_event(det, tick_ms, &ev);
	memset(&info, 0, sizeof(info));
	info.state = CORR_UNRESOLVED;
	info.det = det;
	render_all(&ev, &info, tick_ms);
	event_clear(&ev);
}

/* Console links as route.c makes them, then every record. */
static void
render_all(const struct amp_event *ev, const struct corr_info *info,
    int64_t now)
{
	struct format_ctx ctx;
	struct buf	 base, url, furl;
	size_t		 f, s, fr, m;

	buf_init(&base, 0);
	buf_init(&url, 0);
	buf_init(&furl, 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.stream = "s1";
	ctx.cloud = "eu";
	ctx.received_ms = now;
	ctx.corr = info;
	if (console_base_for(ev, NULL, AMQP_HOST, &base) == 0) {
		if (console_url(ev, base.data, &url) == 0)
			ctx.console_url = url.data;
		if (console_file_url(ev, base.data, &furl) == 0)
			ctx.file_console_url = furl.data;
	}
	for (f = 0; f < NFORMAT; f++)
		for (s = 0; s < NSTYLE; s++)
			for (fr = 0; fr < NFRAMING; fr++)
				for (m = 0; m < NMAX; m++)
					render_one(f, s, fr, m, ev, &ctx);
	buf_free(&base);
	buf_free(&url);
	buf_free(&furl);
}

/* One record for one sink configuration (its recipe), checked. */
static void
render_one(size_t f, size_t s, size_t fr, size_t m,
    const struct amp_event *ev, const struct format_ctx *ctx)
{
	struct syslog_hdr h;
	size_t		 len, max_record = max_records[m];
	char		*out;

	memset(&h, 0, sizeof(h));
	h.style = (enum syslog_style)(SYSLOG_RFC5424 + s);
	h.facility = 16;
	h.severity = record_syslog_severity(ev->severity);
	h.hostname = HOSTNAME;
	h.app_name = "ampstream";
	h.time_ms = ctx->received_ms;
	out = record_make(recipes[f][s][fr][m], ev, ctx, &len);
	/* 8192 bytes hold any event: the formatters cut values to fit. */
	FZ_CHECK(out != NULL || max_record < 8192,
	    "%s: the record does not fit max_record %zu", formats[f],
	    max_record);
	if (out == NULL)
		return;
	check_framed(formats[f], out, len, syslog_header_len(&h),
	    (enum framing)(FRAMING_OCTET + fr), max_record, ev);
	free(out);
}

/* Framing, size and bytes of one framed record, then the record itself. */
static void
check_framed(const char *fmt, const char *out, size_t len, size_t hlen,
    enum framing framing, size_t max_record, const struct amp_event *ev)
{
	const char	*msg = out;
	size_t		 mlen = len, i, count = 0;

	if (framing == FRAMING_OCTET) {
		for (i = 0; i < len && out[i] >= '0' && out[i] <= '9'; i++)
			count = count * 10 + (size_t)(out[i] - '0');
		FZ_CHECK(i > 0 && i < len && out[i] == ' ' && out[0] != '0',
		    "%s: bad octet count: %.40s", fmt, out);
		msg = out + i + 1;
		mlen = len - i - 1;
		FZ_CHECK(count == mlen, "%s: octet count %zu, message %zu bytes",
		    fmt, count, mlen);
		FZ_CHECK(mlen <= max_record, "%s: %zu bytes over max_record %zu",
		    fmt, mlen, max_record);
	} else {
		FZ_CHECK(len > 0 && out[len - 1] == '\n',
		    "%s: LF framing without the LF", fmt);
		FZ_CHECK(len <= max_record, "%s: %zu bytes over max_record %zu",
		    fmt, len, max_record);
		mlen--;
	}
	for (i = 0; i < mlen; i++)
		FZ_CHECK(msg[i] != '\r' && msg[i] != '\n' && msg[i] != '\0',
		    "%s: raw byte 0x%02x at %zu of: %.*s", fmt,
		    (unsigned char)msg[i], i, (int)mlen, msg);
	FZ_CHECK(hlen <= mlen, "%s: shorter than its header", fmt);
	check_record(fmt, msg + hlen, mlen - hlen, ev);
}

/* The record decodes: CEF and LEEF strictly, JSON as one object. */
static void
check_record(const char *fmt, const char *rec, size_t len,
    const struct amp_event *ev)
{
	struct json_tokener *tok;
	struct json_object *o;
	struct dec_rec	 r;
	char		*s, id[24];
	int		 rv;

	if ((s = strndup(rec, len)) == NULL)
		fz_fail("strndup");
	if (strcmp(fmt, "json") == 0) {
		if ((tok = json_tokener_new()) == NULL)
			fz_fail("json_tokener_new");
		o = json_tokener_parse_ex(tok, s, (int)len);
		FZ_CHECK(o != NULL && json_object_is_type(o, json_type_object) &&
		    json_tokener_get_parse_end(tok) == len,
		    "json: not one JSON object: %s", s);
		json_object_put(o);
		json_tokener_free(tok);
		free(s);
		return;
	}
	snprintf(id, sizeof(id), "%" PRId64, ev->event_type_id);
	if (strcmp(fmt, "cef") == 0) {
		rv = cef_decode(s, &r);
		FZ_CHECK(rv == 0, "cef: %s: %s", r.err, s);
		FZ_CHECK(r.nhdr == 7 && strcmp(r.hdr[0], "CEF:0") == 0 &&
		    strcmp(r.hdr[4], id) == 0, "cef: bad header: %s", s);
	} else {
		rv = leef_decode(s, &r);
		FZ_CHECK(rv == 0, "leef: %s: %s", r.err, s);
		FZ_CHECK(r.nhdr == 6 && strcmp(r.hdr[0], "LEEF:2.0") == 0 &&
		    strcmp(r.hdr[4], id) == 0, "leef: bad header: %s", s);
	}
	dec_free(&r);
	free(s);
}
