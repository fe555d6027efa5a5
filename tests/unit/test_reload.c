/*
 * test_reload.c: which running parts a reload keeps (reload_plan, and the
 * config_*_same comparisons under it).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "reload.h"
#include "unit.h"

static char	 dir[] = "/tmp/ampstream-reload.XXXXXX";

struct parts;
static struct config *load_x(const struct parts *, const char *, char **);

/* The parts of a config, each a format with %s for the test dir. */
struct parts {
	const char	*top;		/* before the sections */
	const char	*streams;
	const char	*sinks;
};

static const struct parts base = {
	"state_dir = \"%s/state\";\n",
	"  { name = \"a\"; url = \"amqp://127.0.0.1:5672/\"; user = \"u\";\n"
	"    password_file = \"%s/pw\"; queue = \"qa\"; sinks = [ \"siem\", \"arch\" ]; },\n"
	"  { name = \"b\"; url = \"amqp://127.0.0.1:5672/\"; user = \"u\";\n"
	"    password_file = \"%s/pw\"; queue = \"qb\"; sinks = [ \"siem\" ]; }\n",
	"  { name = \"siem\"; type = \"tls\"; host = \"127.0.0.1\"; port = 6514;\n"
	"    ca_file = \"%s/ca.pem\"; },\n"
	"  { name = \"arch\"; type = \"file\"; path = \"%s/events.jsonl\"; }\n",
};

static void
put(const char *name, const char *content)
{
	char	 path[256];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs(content, fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(chmod(path, 0600), 0);
}

/* Every %s in fmt is the test dir. */
static void
expand(FILE *fp, const char *fmt)
{
	const char	*p;

	for (p = fmt; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 's') {
			fputs(dir, fp);
			p++;
		} else
			fputc(*p, fp);
	}
}

/* Write the config of pt (and extra); load it, errors in *errs. */
static struct config *
load_try(const struct parts *pt, char **errs)
{
	return load_x(pt, NULL, errs);
}

static struct config *
load(const struct parts *pt, const char *extra)
{
	struct config	*c;
	char		*errs = NULL;

	c = load_x(pt, extra, &errs);
	ck_assert_msg(c != NULL, "%s", errs != NULL ? errs : "");
	return c;
}

static struct config *
load_x(const struct parts *pt, const char *extra, char **errs)
{
	char		 path[256];
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/ampstream.conf", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	expand(fp, pt->top);
	fputs("streams = (\n", fp);
	expand(fp, pt->streams);
	fputs(");\nsinks = (\n", fp);
	expand(fp, pt->sinks);
	fprintf(fp, ");\n%s", extra != NULL ? extra : "");
	ck_assert_int_eq(fclose(fp), 0);
	return config_load(path, errs);
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	put("pw", "secret\n");
	put("ca.pem", "not parsed by config_load\n");
}

static void
teardown(void)
{
	char	 cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/ampstream-reload.XXXXXX");
}

/* Nothing changed (even where it is written): everything is kept. */
START_TEST(test_same)
{
	struct parts	 moved = base;
	struct config	*a, *b;
	struct reload_plan *p;

	a = load(&base, NULL);
	/* the same parts, sinks in the other order, after blank lines */
	moved.top = "\n\n# moved\nstate_dir = \"%s/state\";\n";
	moved.sinks = "  { name = \"arch\"; type = \"file\"; path = \"%s/events.jsonl\"; },\n"
	    "  { name = \"siem\"; type = \"tls\"; host = \"127.0.0.1\"; port = 6514;\n"
	    "    ca_file = \"%s/ca.pem\"; }\n";
	b = load(&moved, NULL);
	p = reload_plan_new(a, b);
	ck_assert(!p->full);
	ck_assert_uint_eq(p->kept_streams, 2);
	ck_assert_uint_eq(p->kept_sinks, 2);
	ck_assert_uint_eq(p->stream_from[0], 0);
	ck_assert_uint_eq(p->stream_from[1], 1);
	ck_assert_uint_eq(p->sink_from[0], 1);	/* arch was second */
	ck_assert_uint_eq(p->sink_from[1], 0);
	ck_assert_uint_eq(p->sink_to[0], 1);
	ck_assert_uint_eq(p->sink_to[1], 0);
	ck_assert(p->corr_same);
	ck_assert(p->metrics_same);
	reload_plan_free(p);
	config_free(a);
	config_free(b);
}
END_TEST

/*
 * One key of stream b: b is replaced, a is kept.  A stream's list of sinks
 * is the router's: changing it keeps the stream.
 */
START_TEST(test_stream_changed)
{
	struct parts	 ch = base;
	struct config	*a, *b;
	struct reload_plan *p;

	a = load(&base, NULL);
	ch.streams =
	    "  { name = \"a\"; url = \"amqp://127.0.0.1:5672/\"; user = \"u\";\n"
	    "    password_file = \"%s/pw\"; queue = \"qa\"; sinks = [ \"siem\" ]; },\n"
	    "  { name = \"b\"; url = \"amqp://127.0.0.1:5672/\"; user = \"u\";\n"
	    "    password_file = \"%s/pw\"; queue = \"qb\"; prefetch = 500; "
	    "sinks = [ \"siem\" ]; }\n";
	b = load(&ch, NULL);
	p = reload_plan_new(a, b);
	ck_assert_uint_eq(p->kept_streams, 1);
	ck_assert_uint_eq(p->stream_from[0], 0);
	ck_assert_uint_eq(p->stream_from[1], RELOAD_NONE);
	ck_assert_uint_eq(p->stream_to[1], RELOAD_NONE);
	ck_assert_uint_eq(p->kept_sinks, 2);
	reload_plan_free(p);
	config_free(b);

	/* the password file's content changed: the stream logs in anew */
	put("pw", "rotated\n");
	b = load(&base, NULL);
	p = reload_plan_new(a, b);
	ck_assert_uint_eq(p->kept_streams, 0);
	ck_assert_uint_eq(p->kept_sinks, 2);
	reload_plan_free(p);
	config_free(b);
	config_free(a);
}
END_TEST

/* A CA file renewed in place, with the same name: the TLS sink is new. */
START_TEST(test_file_renewed)
{
	struct config	*a, *b;
	struct reload_plan *p;
	struct timespec	 ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char		 path[256];

	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	a = load(&base, NULL);
	ts[1].tv_sec += 60;
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	b = load(&base, NULL);
	p = reload_plan_new(a, b);
	ck_assert_uint_eq(p->kept_streams, 2);
	ck_assert_uint_eq(p->kept_sinks, 1);
	ck_assert_uint_eq(p->sink_from[0], RELOAD_NONE);	/* siem */
	ck_assert_uint_eq(p->sink_from[1], 1);
	reload_plan_free(p);
	config_free(b);
	config_free(a);
}
END_TEST

/* state_dir: everything restarts; correlation and metrics keys: theirs. */
START_TEST(test_global)
{
	struct parts	 ch = base;
	struct config	*a, *b;
	struct reload_plan *p;

	a = load(&base, NULL);
	ch.top = "state_dir = \"%s/state2\";\n";
	b = load(&ch, NULL);
	p = reload_plan_new(a, b);
	ck_assert(p->full);
	ck_assert_uint_eq(p->kept_streams, 0);
	ck_assert_uint_eq(p->kept_sinks, 0);
	ck_assert_uint_eq(p->stream_to[0], RELOAD_NONE);
	ck_assert_uint_eq(p->sink_to[1], RELOAD_NONE);
	reload_plan_free(p);
	config_free(b);

	b = load(&base, "correlation = { ttl = 3600; };\n"
	    "metrics = { listen = \"127.0.0.1:9469\"; };\n");
	p = reload_plan_new(a, b);
	ck_assert(!p->full);
	ck_assert(!p->corr_same);
	ck_assert(!p->metrics_same);
	ck_assert_uint_eq(p->kept_streams, 2);
	ck_assert_uint_eq(p->kept_sinks, 2);
	reload_plan_free(p);
	config_free(b);
	config_free(a);
}
END_TEST

/*
 * A sink's static fields: parsed, refused with file:line: key when wrong,
 * and a change replaces the sink.
 */
START_TEST(test_fields)
{
	struct parts	 ch = base;
	struct config	*a, *b;
	struct reload_plan *p;
	char		 path[256], *errs = NULL;

	ch.sinks = "  { name = \"siem\"; type = \"tls\"; host = \"127.0.0.1\"; "
	    "port = 6514;\n    ca_file = \"%s/ca.pem\";\n"
	    "    fields = { tenant = \"acme\"; site = \"eu-1\"; }; },\n"
	    "  { name = \"arch\"; type = \"file\"; path = \"%s/events.jsonl\"; }\n";
	a = load(&ch, NULL);
	ck_assert_uint_eq(a->sinks[0].fields.n, 2);
	ck_assert_str_eq(a->sinks[0].fields.v[1].key, "site");
	ck_assert_str_eq(a->sinks[0].fields.v[1].ad_key, "ad.site");
	ck_assert_str_eq(a->sinks[0].fields.v[0].value, "acme");
	b = load(&ch, NULL);
	p = reload_plan_new(a, b);
	ck_assert_uint_eq(p->kept_sinks, 2);
	reload_plan_free(p);
	config_free(b);
	b = load(&base, NULL);		/* no fields */
	p = reload_plan_new(a, b);
	ck_assert_uint_eq(p->kept_sinks, 1);
	ck_assert_uint_eq(p->sink_from[0], RELOAD_NONE);
	reload_plan_free(p);
	config_free(b);
	config_free(a);

	ch.sinks = "  { name = \"siem\"; type = \"file\"; path = \"%s/x\";\n"
	    "    fields = { Tenant = \"a\"; cat = \"b\"; n = 3; e = \"\"; }; }\n";
	snprintf(path, sizeof(path), "%s/ampstream.conf", dir);
	(void)load_try(&ch, &errs);
	ck_assert_ptr_nonnull(errs);
	ck_assert_msg(strstr(errs, "ampstream.conf:10: sinks.[0].fields.Tenant: a field "
	    "name is a lower-case letter") != NULL, "%s", errs);
	ck_assert_msg(strstr(errs, "sinks.[0].fields.cat: a name the records use "
	    "already") != NULL, "%s", errs);
	ck_assert_msg(strstr(errs, "sinks.[0].fields.n:") != NULL, "%s", errs);
	ck_assert_msg(strstr(errs, "sinks.[0].fields.e: empty") != NULL, "%s", errs);
	free(errs);
}
END_TEST

/* Removed and added parts; a renamed one is both. */
START_TEST(test_added_removed)
{
	struct parts	 ch = base;
	struct config	*a, *b;
	struct reload_plan *p;

	a = load(&base, NULL);
	ch.streams =
	    "  { name = \"c\"; url = \"amqp://127.0.0.1:5672/\"; user = \"u\";\n"
	    "    password_file = \"%s/pw\"; queue = \"qc\"; sinks = [ \"siem\" ]; },\n"
	    "  { name = \"a\"; url = \"amqp://127.0.0.1:5672/\"; user = \"u\";\n"
	    "    password_file = \"%s/pw\"; queue = \"qa\"; sinks = [ \"siem\" ]; }\n";
	ch.sinks = "  { name = \"siem\"; type = \"tls\"; host = \"127.0.0.1\"; "
	    "port = 6514;\n    ca_file = \"%s/ca.pem\"; }\n";
	b = load(&ch, NULL);
	p = reload_plan_new(a, b);
	ck_assert_uint_eq(p->stream_from[0], RELOAD_NONE);	/* c: new */
	ck_assert_uint_eq(p->stream_from[1], 0);		/* a */
	ck_assert_uint_eq(p->stream_to[0], 1);
	ck_assert_uint_eq(p->stream_to[1], RELOAD_NONE);	/* b: gone */
	ck_assert_uint_eq(p->sink_to[1], RELOAD_NONE);		/* arch: gone */
	ck_assert_uint_eq(p->nold_streams, 2);
	reload_plan_free(p);
	config_free(b);
	config_free(a);
}
END_TEST

Suite *
suite_reload(void)
{
	Suite	*s = suite_create("reload");
	TCase	*tc = tcase_create("plan");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_same);
	tcase_add_test(tc, test_stream_changed);
	tcase_add_test(tc, test_file_renewed);
	tcase_add_test(tc, test_global);
	tcase_add_test(tc, test_added_removed);
	tcase_add_test(tc, test_fields);
	suite_add_tcase(s, tc);
	return s;
}
