/* test_config.c: config loading and checking, and secret files. */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "preflight.h"
#include "secret.h"
#include "unit.h"

#define CONF(p)		FIXTURE("config/" p)

static const char *const fixture_secrets[] = {
	CONF("secrets/na.api_key"),
	CONF("secrets/eu.api_key"),
	CONF("secrets/stream.password"),
	CONF("secrets/client.key"),
};

/* Where the credentials of full.conf live during the tests. */
static char	 creddir[64];

static char	*write_file(const char *, const char *, const char *, mode_t);
static int	 rm_one(const char *, const struct stat *, int, struct FTW *);
static void	 rm_rf(const char *);
static char	*make_tmpdir(void);
static void	 setup(void);
static void	 teardown(void);
static char	*expected(const char *, const char *);
static char	*include_conf(const char *, const char *);

/* Create dir/name holding content with mode; returns the path. */
static char *
write_file(const char *dir, const char *name, const char *content,
    mode_t mode)
{
	char	*path;
	FILE	*fp;

	ck_assert_int_ne(asprintf(&path, "%s/%s", dir, name), -1);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_eq(fputs(content, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

static int
rm_one(const char *path, __unused const struct stat *st, __unused int flag,
    __unused struct FTW *ftw)
{
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static char *
make_tmpdir(void)
{
	char	*dir;

	ck_assert_ptr_nonnull(dir = strdup("/tmp/ampstream-test.XXXXXX"));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

/* Git does not keep modes: make the fixture secrets private. */
static void
setup(void)
{
	size_t	 i;
	char	*p;

	for (i = 0; i < nitems(fixture_secrets); i++)
		chmod(fixture_secrets[i], 0600);
	snprintf(creddir, sizeof(creddir), "/tmp/ampstream-cred.XXXXXX");
	if (mkdtemp(creddir) == NULL)
		abort();
	p = write_file(creddir, "private-api-key", "private-key\n", 0400);
	free(p);
	p = write_file(creddir, "local-password", "local-pw", 0400);
	free(p);
	setenv("CREDENTIALS_DIRECTORY", creddir, 1);
}

static void
teardown(void)
{
	rm_rf(creddir);
	unsetenv("CREDENTIALS_DIRECTORY");
}

/* "LINE: msg\nLINE: msg" -> "FILE:LINE: msg\nFILE:LINE: msg\n". */
static char *
expected(const char *file, const char *lines)
{
	struct buf	 b;
	const char	*p, *nl;

	buf_init(&b, 0);
	for (p = lines; *p != '\0'; p = nl + (*nl == '\n')) {
		nl = p + strcspn(p, "\n");
		buf_printf(&b, "%s:%.*s\n", file, (int)(nl - p), p);
	}
	return buf_release(&b, NULL);
}

START_TEST(test_full)
{
	struct config		*c;
	const struct cloud_conf	*cl;
	struct stream_conf	*st;
	struct sink_conf	*sk;
	char			*errs;

	c = config_load(CONF("full.conf"), &errs);
	ck_assert_msg(c != NULL, "%s", errs);
	ck_assert_ptr_null(errs);
	ck_assert_str_eq(c->path, CONF("full.conf"));
	ck_assert_str_eq(c->state_dir, "/tmp/ampstream-state");
	ck_assert_int_eq(c->log_level, LOG_LEVEL_DEBUG);

	ck_assert_uint_eq(c->nclouds, 3);
	cl = &c->clouds[0];
	ck_assert_str_eq(cl->name, "na");
	ck_assert_str_eq(cl->api_url, "https://api.amp.cisco.com");
	ck_assert_str_eq(cl->api_host, "api.amp.cisco.com");
	ck_assert_str_eq(cl->console_url, "https://console.amp.cisco.com");
	ck_assert_str_eq(cl->client_id, "0123456789abcdef0123");
	ck_assert_str_eq(cl->api_key, "na-api-key-0123456789");
	ck_assert_ptr_null(cl->ca_file);
	ck_assert(cl->group_names && cl->computer_details);	/* defaults */
	ck_assert_int_eq(cl->line, 6);
	cl = config_cloud(c, "eu");
	ck_assert_ptr_eq(cl, &c->clouds[1]);
	ck_assert_str_eq(cl->api_host, "api.eu.amp.cisco.com");
	ck_assert_str_eq(cl->console_url, "https://console.eu.amp.cisco.com");
	ck_assert_str_eq(cl->api_key, "eu-api-key");
	ck_assert_str_eq(cl->ca_file, "../fixtures/config/client.pem");
	ck_assert(cl->group_names && !cl->computer_details);
	cl = config_cloud(c, "private");
	ck_assert_str_eq(cl->api_url, "https://amp.private.example:8443");
	ck_assert_str_eq(cl->api_host, "amp.private.example");
	ck_assert_str_eq(cl->console_url, "https://amp.private.example:8443");
	ck_assert_str_eq(cl->api_key, "private-key");
	ck_assert_ptr_null(config_cloud(c, "mars"));

	ck_assert_uint_eq(c->nstreams, 2);
	st = &c->streams[0];
	ck_assert_str_eq(st->name, "na-all");
	ck_assert_str_eq(st->cloud, "eu");
	ck_assert_str_eq(st->url,
	    "amqps://export-streaming.amp.cisco.com:443/");
	ck_assert(st->tls);
	ck_assert_str_eq(st->host, "export-streaming.amp.cisco.com");
	ck_assert_int_eq(st->port, 443);
	ck_assert_str_eq(st->vhost, "/");
	ck_assert_str_eq(st->user, "stream-user");
	ck_assert_str_eq(st->password, "s3cret-password");
	ck_assert_str_eq(st->queue, "event_stream_12345");
	ck_assert_str_eq(st->ca_file, "../fixtures/config/client.pem");
	ck_assert_int_eq(st->prefetch, 1000);
	ck_assert_int_eq(st->heartbeat, 0);
	ck_assert(!st->insecure_plaintext);
	ck_assert_uint_eq(st->nsinks, 2);
	ck_assert_uint_eq(st->sinks[0], 1);	/* archive */
	ck_assert_uint_eq(st->sinks[1], 0);	/* siem */
	ck_assert_int_eq(st->line, 26);
	st = &c->streams[1];
	ck_assert_str_eq(st->name, "local_test.1");
	ck_assert_ptr_null(st->cloud);		/* three clouds: no default */
	ck_assert(!st->tls);
	ck_assert_str_eq(st->host, "127.0.0.1");
	ck_assert_int_eq(st->port, 5673);
	ck_assert_str_eq(st->vhost, "vh");
	ck_assert_str_eq(st->password, "local-pw");
	ck_assert_int_eq(st->prefetch, 1000);
	ck_assert_int_eq(st->heartbeat, 30);
	ck_assert_uint_eq(st->nsinks, 6);	/* every sink */
	for (size_t i = 0; i < 6; i++)
		ck_assert_uint_eq(st->sinks[i], i);

	ck_assert_uint_eq(c->nsinks, 6);
	sk = &c->sinks[0];
	ck_assert_str_eq(sk->name, "siem");
	ck_assert_str_eq(sk->type, "tls");
	ck_assert_str_eq(sk->format, "leef");
	ck_assert_str_eq(sk->host, "siem.example.net");
	ck_assert_int_eq(sk->port, 6514);
	ck_assert_ptr_null(sk->path);
	ck_assert_int_eq(sk->syslog, SYSLOG_RFC3164);
	ck_assert_int_eq(sk->framing, FRAMING_LF);
	ck_assert_uint_eq(sk->max_record, 480);
	ck_assert_int_eq(sk->facility, 4);
	ck_assert_str_eq(sk->app_name, "amp-test");
	ck_assert_int_eq(sk->default_severity, 10);
	ck_assert_str_eq(sk->ca_file, "../fixtures/config/client.pem");
	ck_assert_str_eq(sk->cert_file, "../fixtures/config/client.pem");
	ck_assert_str_eq(sk->key_file,
	    "../fixtures/config/secrets/client.key");
	ck_assert_int_eq(sk->line, 47);
	sk = &c->sinks[1];
	ck_assert_str_eq(sk->type, "file");
	ck_assert_str_eq(sk->format, "json");
	ck_assert_str_eq(sk->path, "/tmp/events.jsonl");
	ck_assert_int_eq(sk->syslog, SYSLOG_NONE);
	ck_assert_int_eq(sk->framing, FRAMING_LF);
	ck_assert_uint_eq(sk->max_record, 0);	/* a file cuts nothing */
	sk = &c->sinks[2];
	ck_assert_str_eq(sk->type, "udp");
	ck_assert_str_eq(sk->host, "::1");
	ck_assert_int_eq(sk->facility, 23);
	ck_assert_int_eq(sk->syslog, SYSLOG_RFC5424);
	ck_assert_int_eq(sk->framing, FRAMING_NONE);	/* a datagram */
	ck_assert_uint_eq(sk->max_record, 2048);
	sk = &c->sinks[3];
	ck_assert_int_eq(sk->framing, FRAMING_OCTET);
	ck_assert_uint_eq(sk->max_record, 1048576);
	sk = &c->sinks[4];
	ck_assert_str_eq(sk->type, "syslog");
	ck_assert_str_eq(sk->path, "/dev/log");
	ck_assert_int_eq(sk->syslog, SYSLOG_RFC3164);
	ck_assert_int_eq(sk->framing, FRAMING_NONE);
	ck_assert_uint_eq(sk->max_record, 8192);
	sk = &c->sinks[5];
	ck_assert_str_eq(sk->type, "file");
	ck_assert_uint_eq(sk->max_record, 4096);	/* set: it cuts */

	ck_assert_uint_eq(c->correlation.max_entries, 10);
	ck_assert_int_eq(c->correlation.ttl, 3600);
	ck_assert_int_eq(c->correlation.unresolved_alert, 600);
	config_free(c);
}
END_TEST

START_TEST(test_defaults)
{
	struct config		*c;
	struct stream_conf	*st;
	struct sink_conf	*sk;
	char			*errs;

	c = config_load(CONF("minimal.conf"), &errs);
	ck_assert_msg(c != NULL, "%s", errs);
	ck_assert_str_eq(c->state_dir, "/var/lib/ampstream");
	ck_assert_int_eq(c->log_level, LOG_LEVEL_INFO);
	ck_assert_str_eq(c->clouds[0].console_url,
	    "https://console.amp.cisco.com");
	ck_assert_ptr_null(c->clouds[0].ca_file);
	st = &c->streams[0];
	ck_assert_str_eq(st->cloud, "na");	/* the only cloud */
	ck_assert(st->tls);
	ck_assert_int_eq(st->port, 5671);
	ck_assert_str_eq(st->vhost, "/");
	ck_assert_int_eq(st->prefetch, 1000);
	ck_assert_int_eq(st->heartbeat, 30);
	ck_assert_uint_eq(st->max_message, 16 << 20);
	ck_assert_uint_eq(st->deadletter_max_bytes, 1 << 30);
	ck_assert(!st->insecure_plaintext);
	ck_assert_ptr_null(st->ca_file);
	ck_assert_uint_eq(st->nsinks, 1);
	sk = &c->sinks[0];
	ck_assert_str_eq(sk->format, "cef");
	ck_assert_int_eq(sk->syslog, SYSLOG_RFC5424);
	ck_assert_int_eq(sk->framing, FRAMING_OCTET);
	ck_assert_uint_eq(sk->max_record, 8192);
	ck_assert_int_eq(sk->facility, 16);
	ck_assert_str_eq(sk->app_name, "ampstream");
	ck_assert_int_eq(sk->default_severity, 1);
	ck_assert_uint_eq(c->correlation.max_entries, 100000);
	ck_assert_int_eq(c->correlation.ttl, 86400);
	ck_assert_int_eq(c->correlation.unresolved_alert, 0);
	config_free(c);
}
END_TEST

/* Each bad fixture and every line it must produce (without "FILE:"). */
static const struct {
	const char	*file;
	const char	*errors;
} bad[] = {
	{ "missing_queue.conf", "6: streams.[0].queue: missing" },
	{ "sink_without_type.conf",
	  "3: sinks.[0].name: missing\n"
	  "3: sinks.[0].type: missing" },
	{ "sink_type_line.conf", "5: sinks.[1].type: missing" },
	{ "framing_datagram.conf",
	  "5: sinks.[0].framing: not used by type \"udp\" (a datagram is one "
	  "record, sent without framing)\n"
	  "6: sinks.[1].framing: not used by type \"syslog\" (a datagram is "
	  "one record, sent without framing)" },
	{ "unknown_key.conf",
	  "13: log_levl: unknown key (did you mean log_level?)\n"
	  "10: streams.[0].prefetc: unknown key (did you mean prefetch?)" },
	{ "wrong_type.conf",
	  "4: sinks.[0].port: expected an integer, got a string\n"
	  "10: streams.[0].insecure_plaintext: expected a boolean, got a "
	  "string\n"
	  "13: correlation: expected a group, got a list" },
	{ "range.conf",
	  "16: max_handshakes: 0 is out of range 1..256\n"
	  "5: sinks.[0].max_record: 100 is out of range 480..1048576\n"
	  "5: sinks.[0].facility: 24 is out of range 0..23\n"
	  "5: sinks.[0].default_severity: 11 is out of range 0..10\n"
	  "6: sinks.[0].rotate_keep: not used by type \"tcp\"\n"
	  "12: streams.[0].prefetch: 0 is out of range 1..65535\n"
	  "12: streams.[0].heartbeat: 601 is out of range 0..600\n"
	  "15: correlation.max_entries: 10000001 is out of range "
	  "1..10000000\n"
	  "15: correlation.ttl: 0 is out of range 1..2592000" },
	{ "bad_enum.conf",
	  "14: log_level: \"verbose\" is not one of error, warn, info, debug\n"
	  "5: sinks.[0].format: \"xml\" is not one of cef, json, leef\n"
	  "5: sinks.[0].facility: unknown facility \"local9\" (a number "
	  "0..23, or kern, user, ..., local0 .. local7)" },
	{ "dup_names.conf",
	  "5: sinks.[1].name: duplicate name \"siem\" (first at line 4)\n"
	  "13: streams.[1].name: duplicate name \"s1\" (first at line 7)" },
	{ "unknown_sink.conf",
	  "11: streams.[0].sinks.[1]: unknown sink \"nope\"" },
	{ "unknown_cloud.conf",
	  "11: streams.[0].cloud: unknown cloud \"mars\"" },
	{ "both_secrets.conf",
	  "4: clouds.[0].api_key_credential: give only one of api_key_file "
	  "and api_key_credential" },
	{ "inline_password.conf",
	  "11: streams.[0].password: unknown key (secrets are never inline: "
	  "use password_file or password_credential)" },
	{ "url_creds.conf",
	  "7: streams.[0].url: credentials in the URL are not allowed (use "
	  "user and password_file)" },
	{ "plaintext.conf",
	  "7: streams.[0].url: amqp:// (plaintext) to non-loopback host "
	  "\"broker.example.net\" refused: use amqps://, or set "
	  "insecure_plaintext = true" },
	{ "bad_scheme.conf",
	  "7: streams.[0].url: scheme must be amqp:// or amqps://" },
	{ "syntax.conf", "8: syntax error" },
	{ "metrics_bad.conf",
	  "13: metrics.listen: must be HOST:PORT or [IPV6]:PORT (port "
	  "1-65535)\n"
	  "14: metrics.max_clients: 0 is out of range 1..1024" },
	{ "deadletter_small.conf",
	  "11: streams.[0].deadletter_max_bytes: 4194304 is too small for "
	  "max_message 8388608: at least 11250344 (a body above max_message "
	  "is kept in base64)" },
	{ "multi.conf",
	  "2: state_dir: must be an absolute path\n"
	  "4: clouds.[0].api_key_file: missing (or api_key_credential)\n"
	  "5: clouds.[0].api_url: must start with https://\n"
	  "10: sinks.[0].host: not used by type \"file\"\n"
	  "10: sinks.[0].path: missing\n"
	  "11: sinks.[1].app_name: must be printable ASCII without spaces\n"
	  "11: sinks.[1].cert_file: missing (cert_file and key_file go "
	  "together)\n"
	  "13: sinks.[2].host: missing\n"
	  "13: sinks.[2].port: missing\n"
	  "16: streams.[0].name: must not start with '.'\n"
	  "19: streams.[0].password_credential: credential \"../x\": not a "
	  "plain name\n"
	  "20: streams.[0].queue: empty\n"
	  "23: streams.[1]: expected a group, got a string\n"
	  "24: correlation.unresolved_alert: 120 is longer than ttl (60)" },
	{ "multi2.conf",
	  "3: clouds.[0].name: empty\n"
	  "5: clouds.[0].client_id: expected a string, got an integer\n"
	  "4: clouds.[0].api_url: credentials in the URL are not allowed\n"
	  "10: sinks.[0].type: \"smtp\" is not one of syslog, udp, tcp, tls, "
	  "file\n"
	  "11: sinks.[1].key_file: not used by type \"udp\"\n"
	  "15: streams.[0].password_file: ../fixtures/config/secrets/"
	  "missing.password: No such file or directory\n"
	  "20: streams.[1].sinks: empty\n"
	  "18: streams.[1].url: no host name\n"
	  "23: correlation.tll: unknown key (did you mean ttl?)\n"
	  "16: streams.[0].sinks.[1]: sink \"b\" listed twice" },
};

START_TEST(test_errors)
{
	struct config	*c;
	char		*path, *errs, *want;

	ck_assert_int_ne(asprintf(&path, CONF("%s"), bad[_i].file), -1);
	c = config_load(path, &errs);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(errs);
	want = expected(path, bad[_i].errors);
	ck_assert_str_eq(errs, want);
	ck_assert_ptr_null(strstr(errs, "hunter2"));	/* never a secret */
	free(want);
	free(errs);
	free(path);
}
END_TEST

START_TEST(test_listen_split)
{
	char	 h[64];
	int	 port;
	struct config *c;
	char	*errs;

	ck_assert_int_eq(config_listen_split("127.0.0.1:9469", h, sizeof(h),
	    &port), 0);
	ck_assert_str_eq(h, "127.0.0.1");
	ck_assert_int_eq(port, 9469);
	ck_assert_int_eq(config_listen_split("[::1]:80", h, sizeof(h), &port),
	    0);
	ck_assert_str_eq(h, "::1");
	ck_assert_int_eq(port, 80);
	ck_assert_int_eq(config_listen_split("localhost:1", h, sizeof(h),
	    &port), 0);
	ck_assert_int_eq(config_listen_split("::1:80", h, sizeof(h), &port),
	    -1);		/* IPv6 without brackets */
	ck_assert_int_eq(config_listen_split("[::1]80", h, sizeof(h), &port),
	    -1);
	ck_assert_int_eq(config_listen_split(":80", h, sizeof(h), &port), -1);
	ck_assert_int_eq(config_listen_split("h:0", h, sizeof(h), &port), -1);
	ck_assert_int_eq(config_listen_split("h:65536", h, sizeof(h), &port),
	    -1);
	ck_assert_int_eq(config_listen_split("h:80x", h, sizeof(h), &port),
	    -1);
	ck_assert_int_eq(config_listen_split("h:", h, sizeof(h), &port), -1);
	/* Off by default. */
	c = config_load(CONF("minimal.conf"), &errs);
	ck_assert_msg(c != NULL, "%s", errs);
	ck_assert_ptr_null(c->metrics.listen);
	ck_assert_int_eq(c->metrics.max_clients, 16);
	ck_assert_int_eq(c->metrics.timeout, 10);
	config_free(c);
}
END_TEST

START_TEST(test_plaintext_allowed)
{
	struct config	*c;
	char		*errs;
	int		 level = log_getlevel();

	log_setlevel(LOG_LEVEL_ERROR);		/* it warns, as it should */
	c = config_load(CONF("plaintext_ok.conf"), &errs);
	log_setlevel(level);
	ck_assert_msg(c != NULL, "%s", errs);
	ck_assert(!c->streams[0].tls);
	ck_assert(c->streams[0].insecure_plaintext);
	ck_assert_str_eq(c->streams[0].host, "broker.example.net");
	ck_assert_int_eq(c->streams[0].port, 5672);
	config_free(c);
}
END_TEST

START_TEST(test_missing_file)
{
	char	*errs;

	ck_assert_ptr_null(config_load("/nonexistent/x.conf", &errs));
	ck_assert_str_eq(errs, "/nonexistent/x.conf:0: No such file or "
	    "directory\n");
	free(errs);
}
END_TEST

START_TEST(test_world_writable)
{
	char	*dir, *path, *errs, *want;
	FILE	*in;
	char	 text[2048];
	size_t	 n;

	ck_assert_ptr_nonnull(in = fopen(CONF("minimal.conf"), "r"));
	n = fread(text, 1, sizeof(text) - 1, in);
	text[n] = '\0';
	fclose(in);
	dir = make_tmpdir();
	path = write_file(dir, "ww.conf", text, 0666);
	ck_assert_ptr_null(config_load(path, &errs));
	ck_assert_int_ne(asprintf(&want, "%s:0: world-writable config "
	    "refused: %s (owner uid %u, mode 0666)\n", path, path,
	    (unsigned)geteuid()), -1);
	ck_assert_str_eq(errs, want);
	free(want);
	free(errs);
	chmod(path, 0640);
	config_free(config_load(path, &errs));
	ck_assert_ptr_null(errs);
	rm_rf(dir);
	free(path);
	free(dir);
}
END_TEST

/* The shipped example loads once its secret files exist. */
START_TEST(test_example)
{
	struct config	*c;
	char		*dir, *cmd, *path, *errs;

	dir = make_tmpdir();
	ck_assert_int_ne(asprintf(&path, "%s/ampstream.conf", dir), -1);
	ck_assert_int_ne(asprintf(&cmd, "sed 's|/etc/ampstream/|%s/|' "
	    "../../conf/ampstream.conf > %s", dir, path), -1);
	ck_assert_int_eq(system(cmd), 0);
	free(write_file(dir, "na.api_key", "example-key\n", 0600));
	free(write_file(dir, "na-all.password", "example-pw\n", 0600));
	c = config_load(path, &errs);
	ck_assert_msg(c != NULL, "%s", errs);
	ck_assert_uint_eq(c->nclouds, 1);
	ck_assert_str_eq(c->clouds[0].api_key, "example-key");
	ck_assert_uint_eq(c->nstreams, 1);
	ck_assert_str_eq(c->streams[0].host,
	    "export-streaming.amp.cisco.com");
	ck_assert_int_eq(c->streams[0].port, 443);
	ck_assert(c->streams[0].tls);
	ck_assert_str_eq(c->streams[0].password, "example-pw");
	ck_assert_uint_eq(c->nsinks, 2);
	ck_assert_str_eq(c->sinks[0].type, "tcp");
	ck_assert_str_eq(c->sinks[0].format, "cef");
	ck_assert_str_eq(c->sinks[1].type, "file");
	ck_assert_str_eq(c->sinks[1].format, "json");
	ck_assert_uint_eq(c->streams[0].nsinks, 2);
	config_free(c);
	rm_rf(dir);
	free(cmd);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_secret_modes)
{
	char	*dir, *path, *s, *cause, *want;

	dir = make_tmpdir();
	path = write_file(dir, "key", "topsecret\r\n", 0644);
	ck_assert_ptr_null(secret_read_file(path, &cause));
	ck_assert_int_ne(asprintf(&want, "%s: bad ownership or permissions "
	    "(owner uid %u, mode 0644)", path, (unsigned)geteuid()), -1);
	ck_assert_msg(strncmp(cause, want, strlen(want)) == 0, "%s", cause);
	ck_assert_ptr_null(strstr(cause, "topsecret"));
	free(want);
	free(cause);

	chmod(path, 0660);		/* group-writable */
	ck_assert_ptr_null(secret_read_file(path, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "mode 0660"));
	free(cause);

	chmod(path, 0600);
	ck_assert_ptr_nonnull(s = secret_read_file(path, &cause));
	ck_assert_ptr_null(cause);
	ck_assert_str_eq(s, "topsecret");
	secret_free(s);
	ck_assert_int_eq(secret_check_perms(path, &cause), 0);

	chmod(path, 0640);		/* only root may own a 0640 secret */
	s = secret_read_file(path, &cause);
	if (geteuid() == 0) {
		ck_assert_ptr_nonnull(s);
		secret_free(s);
	} else {
		ck_assert_ptr_null(s);
		free(cause);
	}
	rm_rf(dir);
	free(path);
	free(dir);
}
END_TEST

/* As root: a file owned by someone else is refused, 0600 or 0640. */
START_TEST(test_secret_owner)
{
	char	*dir, *path, *cause;

	if (geteuid() != 0)
		return;
	dir = make_tmpdir();
	path = write_file(dir, "key", "x\n", 0600);
	ck_assert_int_eq(chown(path, 12345, 0), 0);
	ck_assert_ptr_null(secret_read_file(path, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "owner uid 12345, mode 0600"));
	free(cause);
	chmod(path, 0640);
	ck_assert_int_eq(secret_check_perms(path, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "owner uid 12345, mode 0640"));
	free(cause);
	rm_rf(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_secret_content)
{
	char	*dir, *path, *cause, big[SECRET_MAX + 2];

	dir = make_tmpdir();
	path = write_file(dir, "empty", "\r\n\n", 0600);
	ck_assert_ptr_null(secret_read_file(path, &cause));
	ck_assert_str_eq(cause + strlen(path), ": empty");
	free(cause);
	free(path);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	path = write_file(dir, "big", big, 0600);
	ck_assert_ptr_null(secret_read_file(path, &cause));
	ck_assert_str_eq(cause + strlen(path), ": longer than 4096 bytes");
	free(cause);
	big[SECRET_MAX] = '\0';			/* exactly SECRET_MAX: fine */
	free(path);
	path = write_file(dir, "max", big, 0600);
	secret_free(secret_read_file(path, &cause));
	ck_assert_ptr_null(cause);
	ck_assert_ptr_null(secret_read_file(dir, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "not a regular file"));
	free(cause);
	free(path);
	ck_assert_int_ne(asprintf(&path, "%s/link", dir), -1);
	ck_assert_int_eq(symlink("max", path), 0);
	ck_assert_ptr_null(secret_read_file(path, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "symbolic link"));
	free(cause);
	free(path);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(test_credential)
{
	char	*s, *cause, *saved;

	ck_assert_ptr_nonnull(s = secret_read_credential("local-password",
	    &cause));
	ck_assert_str_eq(s, "local-pw");
	secret_free(s);
	ck_assert_ptr_null(secret_read_credential("../local-password",
	    &cause));
	ck_assert_str_eq(cause, "credential \"../local-password\": not a "
	    "plain name");
	free(cause);
	ck_assert_ptr_null(secret_read_credential("absent", &cause));
	ck_assert_ptr_nonnull(strstr(cause, "No such file"));
	free(cause);

	saved = strdup(getenv("CREDENTIALS_DIRECTORY"));
	unsetenv("CREDENTIALS_DIRECTORY");
	ck_assert_ptr_null(secret_read_credential("local-password", &cause));
	ck_assert_str_eq(cause, "credential \"local-password\": "
	    "CREDENTIALS_DIRECTORY is not set (use LoadCredential= in the "
	    "systemd unit)");
	free(cause);
	setenv("CREDENTIALS_DIRECTORY", saved, 1);
	free(saved);
}
END_TEST

/* A bad secret file in a config is reported with its key and line. */
START_TEST(test_config_secret_perms)
{
	char	*errs, *want;

	chmod(CONF("secrets/stream.password"), 0644);
	ck_assert_ptr_null(config_load(CONF("minimal.conf"), &errs));
	chmod(CONF("secrets/stream.password"), 0600);
	ck_assert_int_ne(asprintf(&want, "%s:9: streams.[0].password_file: "
	    "%s: bad ownership or permissions (owner uid %u, mode 0644)",
	    CONF("minimal.conf"), CONF("secrets/stream.password"),
	    (unsigned)geteuid()), -1);
	ck_assert_msg(strncmp(errs, want, strlen(want)) == 0, "%s", errs);
	/* One error, one line, ending in a newline. */
	ck_assert_ptr_eq(strchr(errs, '\n'), errs + strlen(errs) - 1);
	free(want);
	free(errs);
}
END_TEST

/* A main file in dir that @includes inc/sinks.conf holding sinks. */
static char *
include_conf(const char *dir, const char *sinks)
{
	char	*pw, *main_text, *path, *incdir;

	ck_assert_ptr_nonnull(pw = realpath(CONF("secrets/stream.password"),
	    NULL));
	ck_assert_int_ne(asprintf(&main_text,
	    "state_dir = \"%s\";\n"
	    "@include \"inc/sinks.conf\"\n"
	    "streams = ( { name = \"s1\"; url = \"amqp://127.0.0.1\";\n"
	    "  user = \"u\"; password_file = \"%s\"; queue = \"q\"; } );\n",
	    dir, pw), -1);
	ck_assert_int_ne(asprintf(&incdir, "%s/inc", dir), -1);
	mkdir(dir, 0700);	/* again, after rm_rf() */
	ck_assert_int_eq(mkdir(incdir, 0755), 0);
	free(write_file(incdir, "sinks.conf", sinks, 0644));
	path = write_file(dir, "main.conf", main_text, 0644);
	free(incdir);
	free(main_text);
	free(pw);
	return path;
}

/*
 * A relative @include is found next to the main file whatever the cwd, and
 * what it defines (or gets wrong) is named by its own file and line.
 */
START_TEST(test_include)
{
	struct config	*c;
	char		*dir, *path, *errs, *want;

	dir = make_tmpdir();
	path = include_conf(dir, "# sinks\n"
	    "sinks = ( { name = \"t\"; type = \"tcp\"; host = \"127.0.0.1\";"
	    " port = 6514; } );\n");
	c = config_load(path, &errs);
	ck_assert_msg(c != NULL, "%s", errs);
	ck_assert_uint_eq(c->nsinks, 1);
	ck_assert_int_eq(c->sinks[0].line, 2);
	ck_assert_int_ne(asprintf(&want, "%s/inc/sinks.conf", dir), -1);
	ck_assert_str_eq(c->sinks[0].file, want);
	ck_assert_str_eq(c->streams[0].file, path);
	config_free(c);
	free(want);
	rm_rf(dir);
	free(path);

	path = include_conf(dir, "sinks = (\n"
	    "  { name = \"t\"; type = \"tcp\"; host = \"127.0.0.1\";\n"
	    "    port = 6514; bogus = 1; } );\n");
	ck_assert_ptr_null(config_load(path, &errs));
	ck_assert_int_ne(asprintf(&want, "%s/inc/sinks.conf:3: "
	    "sinks.[0].bogus: unknown key\n", dir), -1);
	ck_assert_str_eq(errs, want);
	free(want);
	free(errs);
	rm_rf(dir);
	free(path);

	path = include_conf(dir, "sinks = ( { name = = \"t\"; } );\n");
	ck_assert_ptr_null(config_load(path, &errs));
	ck_assert_int_ne(asprintf(&want, "%s/inc/sinks.conf:", dir), -1);
	ck_assert_msg(strncmp(errs, want, strlen(want)) == 0, "%s", errs);
	ck_assert_int_eq(errs[strlen(errs) - 1], '\n');
	free(want);
	free(errs);
	rm_rf(dir);
	free(path);
	free(dir);
}
END_TEST

/* preflight: certificates parsed, sink and state directories writable. */
START_TEST(test_preflight)
{
	struct config	*c;
	char		*dir, *path, *errs, *warns, *sinks, *cmd, *want;

	dir = make_tmpdir();
	ck_assert_int_ne(asprintf(&cmd, "cd %s && openssl req -x509 -newkey "
	    "ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem "
	    "-out cert.pem -subj /CN=t -days 2 2>/dev/null", dir), -1);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(write_file(dir, "junk.pem", "not a certificate\n", 0644));
	ck_assert_int_ne(asprintf(&sinks, "sinks = (\n"
	    "  { name = \"t\"; type = \"tls\"; host = \"127.0.0.1\";"
	    " port = 6514;\n"
	    "    ca_file = \"%s/cert.pem\"; cert_file = \"%s/cert.pem\";"
	    " key_file = \"%s/key.pem\"; },\n"
	    "  { name = \"f\"; type = \"file\"; path = \"%s/out.jsonl\"; }"
	    " );\n", dir, dir, dir, dir), -1);
	path = include_conf(dir, sinks);
	free(sinks);
	c = config_load(path, &errs);
	ck_assert_msg(c != NULL, "%s", errs);
	ck_assert_int_eq(preflight_check(c, &errs, &warns), 0);
	ck_assert_ptr_null(errs);
	/* Outside /var/log/ampstream and state_dir?  No: under state_dir. */
	ck_assert_ptr_null(warns);

	/* Now break each: a bad CA, a missing sink directory, state_dir. */
	free(c->sinks[0].ca_file);
	ck_assert_int_ne(asprintf(&c->sinks[0].ca_file, "%s/junk.pem", dir),
	    -1);
	free(c->sinks[1].path);
	c->sinks[1].path = strdup("/nonexistent-dir/out.jsonl");
	free(c->state_dir);
	c->state_dir = strdup("/proc/no/such");
	ck_assert_int_eq(preflight_check(c, &errs, &warns), -1);
	ck_assert_int_ne(asprintf(&want, "%s/inc/sinks.conf:2: "
	    "sinks.[0].ca_file: %s/junk.pem: no PEM certificate found", dir,
	    dir), -1);
	ck_assert_msg(strstr(errs, want) != NULL, "%s", errs);
	free(want);
	ck_assert_msg(strstr(errs, "sinks.[1].path: /nonexistent-dir: No such "
	    "file or directory\n") != NULL, "%s", errs);
	ck_assert_msg(strstr(errs, "state_dir: /proc/no/such does not exist "
	    "and cannot be created") != NULL, "%s", errs);
	ck_assert_msg(warns != NULL && strstr(warns, "sinks.[1].path: "
	    "warning: /nonexistent-dir/out.jsonl is outside "
	    "/var/log/ampstream") != NULL, "%s", warns);
	free(errs);
	free(warns);
	config_free(c);
	rm_rf(dir);
	free(path);
	free(dir);
}
END_TEST

Suite *
suite_config(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_defaults);
	tcase_add_loop_test(tc, test_errors, 0, nitems(bad));
	tcase_add_test(tc, test_plaintext_allowed);
	tcase_add_test(tc, test_listen_split);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_world_writable);
	tcase_add_test(tc, test_example);
	tcase_add_test(tc, test_secret_modes);
	tcase_add_test(tc, test_secret_owner);
	tcase_add_test(tc, test_secret_content);
	tcase_add_test(tc, test_credential);
	tcase_add_test(tc, test_config_secret_perms);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_preflight);
	suite_add_tcase(s, tc);
	return s;
}
