/*
 * test_docs.c: the worked examples of docs/records.md are what the
 * formatters write.  Each example is a marker line
 *
 *	<!-- example FORMAT FIXTURE [after DETECTION-FIXTURE] -->
 *
 * followed by a fenced block holding the one-line record of the fixture
 * event as received (stream s1, cloud nam, received at EXAMPLE_MS, the
 * console the event's API links name), correlated with the detection fixture when one is
 * named.  The header's version reads <version>.  A changed record fails
 * here with the record to paste into the document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "compat.h"
#include "config.h"
#include "console.h"
#include "corr.h"
#include "event.h"
#include "format.h"
#include "rec_decode.h"
#include "unit.h"

#define DOCS		"../../docs/records.md"
#define EXAMPLE_MS	1610620000000LL	/* 2021-01-14T10:26:40Z */
#define EXAMPLE_HOST	"export-streaming.amp.cisco.com"

static char	*example(const char *fmt, const char *file, const char *after);
static char	*version_out(struct buf *);
static void	 load(struct tev *, const char *);

START_TEST(test_examples)
{
	char	*doc, *p, *end, *rec, fmt[16], file[128], after[128];
	size_t	 len, n = 0, bad = 0;
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(DOCS, "r"));
	ck_assert(fseek(f, 0, SEEK_END) == 0);
	len = (size_t)ftell(f);
	rewind(f);
	ck_assert_ptr_nonnull(doc = calloc(1, len + 1));
	ck_assert_uint_eq(fread(doc, 1, len, f), len);
	fclose(f);
	for (p = doc; (p = strstr(p, "<!-- example ")) != NULL; p = end) {
		after[0] = '\0';
		ck_assert_msg(sscanf(p, "<!-- example %15s %127s after %127s",
		    fmt, file, after) >= 2, "bad marker at %.40s", p);
		if (strcmp(after, "-->") == 0)
			after[0] = '\0';
		ck_assert_ptr_nonnull(p = strstr(p, "\n```\n"));
		p += 5;
		ck_assert_ptr_nonnull(end = strstr(p, "\n```"));
		*end++ = '\0';
		rec = example(fmt, file, after[0] ? after : NULL);
		if (strcmp(p, rec) != 0) {
			fprintf(stderr, "docs/records.md: example %s %s is now:"
			    "\n%s\nthe document has:\n%s\n", fmt, file, rec, p);
			bad++;
		}
		free(rec);
		n++;
	}
	free(doc);
	ck_assert_uint_ge(n, 8);
	ck_assert_msg(bad == 0, "%zu of %zu examples differ (see above)", bad,
	    n);
}
END_TEST

/* The record of fixture file in format fmt, correlated after a detection. */
static char *
example(const char *fmt, const char *file, const char *after)
{
	static const struct format_ops *const ops[] = {
		&format_cef_ops, &format_leef_ops, &format_json_ops,
	};
	struct corr_conf	 cc = { 100, 3600, 0 };
	struct format_ctx	 ctx;
	struct corr_info	 info;
	struct corr		*c;
	struct tev		 t, d;
	struct buf		 base, url, furl, out;
	size_t			 i;

	memset(&ctx, 0, sizeof(ctx));
	ctx.stream = "s1";
	ctx.cloud = "nam";
	ctx.received_ms = EXAMPLE_MS;
	ctx.default_severity = 1;
	ctx.max_len = 8192;
	buf_init(&base, 0);
	buf_init(&url, 0);
	buf_init(&furl, 0);
	buf_init(&out, 0);
	load(&t, file);
	c = corr_new(NULL, &cc, NULL, NULL);
	if (after != NULL) {
		load(&d, after);
		corr_observe(c, &d.ev, 0, EXAMPLE_MS - 1000, &info);
		ck_assert_int_eq(info.state, CORR_PENDING);
		tev_free(&d);
		corr_observe(c, &t.ev, 0, EXAMPLE_MS, &info);
		ck_assert_int_eq(info.state, CORR_MATCHED);
		ctx.corr = &info;
	}
	ck_assert_int_eq(console_base_for(&t.ev, NULL, EXAMPLE_HOST, &base),
	    0);
	if (console_url(&t.ev, base.data, &url) == 0)
		ctx.console_url = url.data;
	if (console_file_url(&t.ev, base.data, &furl) == 0)
		ctx.file_console_url = furl.data;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(ops[i]->name, fmt) == 0)
			break;
	ck_assert_msg(i < sizeof(ops) / sizeof(ops[0]), "format %s", fmt);
	ck_assert_int_eq(ops[i]->format(&t.ev, &ctx, &out), 0);
	corr_free(c);
	tev_free(&t);
	buf_free(&base);
	buf_free(&url);
	buf_free(&furl);
	return version_out(&out);
}

/* The fixture's bytes as received (tev_from would re-serialise them). */
static void
load(struct tev *t, const char *file)
{
	char		 path[256];
	const char	*reason = NULL;
	size_t		 len;
	FILE		*f;

	snprintf(path, sizeof(path), "../fixtures/events/%s", file);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(t->body = calloc(1, 65536));
	len = fread(t->body, 1, 65535, f);
	fclose(f);
	while (len > 0 && t->body[len - 1] == '\n')
		t->body[--len] = '\0';
	ck_assert_msg(event_parse(&t->ev, t->body, len, &reason) == 0,
	    "%s: %s", file, reason);
}

/* |AMPSTREAM_VERSION| in a header reads |<version>| in the document. */
static char *
version_out(struct buf *out)
{
	struct buf	 b;
	char		 v[64], *p;

	buf_init(&b, 0);
	snprintf(v, sizeof(v), "|%s|", AMPSTREAM_VERSION);
	if ((p = strstr(out->data, v)) != NULL) {
		buf_append(&b, out->data, (size_t)(p - out->data));
		buf_puts(&b, "|<version>|");
		buf_puts(&b, p + strlen(v));
	} else
		buf_puts(&b, out->data);
	buf_free(out);
	return b.data;
}

Suite *
suite_docs(void)
{
	Suite	*s = suite_create("docs");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_examples);
	suite_add_tcase(s, tc);
	return s;
}
