/*
 * record.c: formatter + syslog header + framing, within max_record (see
 * record.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "event.h"
#include "format.h"
#include "record.h"
#include "syslog.h"
#include "xmalloc.h"

#define RECORD_SLACK	512	/* bytes a record may have beyond its event */

struct record_recipe {
	const struct format_ops	*fmt;
	struct syslog_hdr	 hdr;	/* severity and time set per record */
	enum framing		 framing;
	size_t			 max_record;
	int			 default_severity;
	char			*hostname;
	const struct conf_fields *fields;
};

static size_t	record_size_hint(const struct record_recipe *,
		    const struct amp_event *);

struct record_recipe *
record_recipe_new(const struct sink_conf *sc, const char *hostname,
    char **cause)
{
	struct record_recipe *r;
	const struct format_ops *fmt;

	if ((fmt = format_lookup(sc->format)) == NULL) {
		cause_printf(cause, "sink %s: format %s is not available in "
		    "this build", sc->name, sc->format);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->fmt = fmt;
	r->hostname = xstrdup(hostname);
	r->hdr.style = sc->syslog;
	r->hdr.facility = sc->facility;
	r->hdr.hostname = r->hostname;
	r->hdr.app_name = sc->app_name;
	r->framing = sc->framing;
	r->max_record = sc->max_record;
	r->default_severity = sc->default_severity;
	r->fields = &sc->fields;
	return r;
}

void
record_recipe_free(struct record_recipe *r)
{
	if (r == NULL)
		return;
	free(r->hostname);
	free(r);
}

char *
record_make(const struct record_recipe *r, const struct amp_event *ev,
    const struct format_ctx *in, size_t *lenp)
{
	struct format_ctx ctx = *in;
	struct syslog_hdr h = r->hdr;
	struct syslog_frame f;
	struct buf	 out;
	size_t		 hlen;
	char		*res = NULL;

	ctx.fields = r->fields;
	h.severity = record_syslog_severity(ev->severity);
	h.time_ms = ctx.received_ms;
	/*
	 * The record is written once, after its header, in one buffer,
	 * allocated once for most records: about the size of the event.
	 */
	buf_init(&out, 0);
	(void)buf_reserve(&out, record_size_hint(r, ev));
	if (syslog_open(&f, &h, r->framing, &out, &hlen) == -1)
		goto done;
	/* max_record bounds the line: a trailing LF counts too. */
	hlen += r->framing == FRAMING_LF;
	if (r->max_record != 0 && hlen >= r->max_record)
		goto done;
	ctx.default_severity = r->default_severity;
	/* 0: no limit (a file sink without max_record). */
	ctx.max_len = r->max_record == 0 ? 0 : r->max_record - hlen;
	if (r->fmt->format(ev, &ctx, &out) == 0 && syslog_close(&f, &out) == 0)
		res = buf_release(&out, lenp);
done:
	buf_free(&out);
	return res;
}

/*
 * A record is about the size of its event: a little smaller in CEF or
 * LEEF, the body and an "ampstream" member in JSON; never past max_record.
 */
static size_t
record_size_hint(const struct record_recipe *r, const struct amp_event *ev)
{
	size_t	 n = ev->body_len + RECORD_SLACK;

	if (r->max_record != 0 && n > r->max_record + 1)
		n = r->max_record + 1;
	return n;
}

/* AMP severity to syslog severity: Critical=crit ... none=info. */
int
record_syslog_severity(const char *sev)
{
	static const struct { const char *name; int level; } map[] = {
		{ "Critical", 2 }, { "High", 3 }, { "Medium", 4 }, { "Low", 5 },
	};
	size_t	 i;

	for (i = 0; sev != NULL && i < nitems(map); i++)
		if (strcasecmp(sev, map[i].name) == 0)
			return map[i].level;
	return 6;
}
