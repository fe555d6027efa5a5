/*
 * test_stream.c: an AMQPS stream never connects below TLS 1.2.  If the
 * floor cannot be set (rabbitmq-c refuses it), the stream must refuse to
 * connect, logging why, and never open a socket to the broker.  rabbitmq-c's
 * amqp_ssl_socket_set_ssl_versions is interposed here (a definition in the
 * test binary wins over the shared library's); with versions_fail false it is
 * the library's own.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <event2/event.h>

#include "compat.h"
#include "clock.h"
#include "config.h"
#include "connector.h"
#include "stats.h"
#include "status.h"
#include "stream.h"
#include "unit.h"

static bool	 versions_fail;	/* the interposed call reports an error */
static uint64_t	 tls_failures;	/* the last attempt's, by reason "tls" */

typedef int (*versions_fn)(amqp_socket_t *, amqp_tls_version_t,
    amqp_tls_version_t);

int
amqp_ssl_socket_set_ssl_versions(amqp_socket_t *s, amqp_tls_version_t min,
    amqp_tls_version_t max)
{
	versions_fn	 real;

	if (versions_fail)
		return AMQP_STATUS_UNSUPPORTED;
	real = (versions_fn)dlsym(RTLD_NEXT,
	    "amqp_ssl_socket_set_ssl_versions");
	ck_assert_ptr_nonnull(real);
	return real(s, min, max);
}

static void
no_msg(struct stream *st __unused, const char *body __unused,
    size_t len __unused, struct delivery *d __unused, void *arg __unused)
{
	ck_abort_msg("no message expected");
}

/* A listening socket on 127.0.0.1 (non-blocking); its port in *port. */
static int
listener(int *port)
{
	struct sockaddr_in sin;
	socklen_t	 len = sizeof(sin);
	int		 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_ne(fcntl(fd, F_SETFL, O_NONBLOCK), -1);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A stream "s1" to 127.0.0.1:port. */
static void
stream_conf_at(struct stream_conf *sc, int port, bool tls)
{
	memset(sc, 0, sizeof(*sc));
	sc->name = "s1";
	sc->tls = tls;
	sc->host = "127.0.0.1";
	sc->port = port;
	sc->vhost = "/";
	sc->user = "u";
	sc->password = "p";
	sc->queue = "q";
	sc->prefetch = 1;
}

/* Run one connect attempt with stderr in a file; the log, malloc'd. */
static char *
attempt(struct stream_conf *sc)
{
	struct event_base *base;
	struct connector *pool;
	struct stream	*st;
	int64_t		 t0;
	uint64_t	 ctr[STATS_STREAM_ROW] = { 0 };
	char		 path[] = "/tmp/ampstream-test-stream.XXXXXX", *log;
	int		 fd, saved;
	FILE		*fp;
	long		 n;

	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_int_ne(fd = mkstemp(path), -1);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	pool = connector_new(base, 2);
	st = stream_new(base, pool, sc, NULL, ctr, no_msg, NULL);
	stream_start(st);
	/* The first connect, in a thread, until its failure comes back. */
	t0 = clock_now_ms();
	while (stream_state(st) != STREAM_BACKOFF &&
	    clock_now_ms() - t0 < 20000)
		event_base_loop(base, EVLOOP_ONCE);
	tls_failures = stream_connect_failures(st, CONN_R_TLS);
	stream_close(st);
	stream_free(st);
	connector_free(pool, 0);
	event_base_free(base);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ck_assert_uint_eq(ctr[SST_CONNECTS], 0);
	ck_assert_uint_eq(ctr[SST_CONNECT_FAILURES], 1);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "r"));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	ck_assert_ptr_nonnull(log = calloc(1, (size_t)n + 1));
	ck_assert_int_eq(fread(log, 1, (size_t)n, fp), n);
	fclose(fp);
	unlink(path);
	fprintf(stderr, "%s", log);	/* keep the lines visible */
	return log;
}

START_TEST(test_tls_floor_refused)
{
	struct stream_conf sc;
	char		*log;
	int		 lfd, port, cfd;

	lfd = listener(&port);
	stream_conf_at(&sc, port, true);
	versions_fail = true;
	log = attempt(&sc);
	versions_fail = false;
	ck_assert_msg(strstr(log, "stream s1: cannot enforce TLS >= 1.2: "
	    "not connecting to 127.0.0.1:") != NULL, "log: %s", log);
	ck_assert_uint_eq(tls_failures, 1);	/* counted as "tls" */
	/* Nothing reached the broker's port. */
	cfd = accept(lfd, NULL, NULL);
	ck_assert_msg(cfd == -1, "the stream connected anyway");
	free(log);
	close(lfd);
}
END_TEST

static void
opened_never(amqp_connection_state_t conn __unused, uint32_t ready __unused,
    const char *error __unused, enum connector_reason reason __unused,
    void *arg __unused)
{
	ck_abort_msg("a cancelled handshake called back");
}

/*
 * A broker that accepts TCP and never speaks AMQP: the handshake hangs in
 * the pool's thread (10 s), never in the caller, and cancelling it and
 * freeing the pool return at once.
 */
START_TEST(test_hung_handshake_abandoned)
{
	struct event_base *base;
	struct connector *pool;
	struct stream_conf sc;
	struct conn_req	*r;
	int64_t		 t0;
	int		 lfd, port;

	lfd = listener(&port);
	stream_conf_at(&sc, port, false);
	ck_assert_ptr_nonnull(base = event_base_new());
	t0 = clock_now_ms();
	pool = connector_new(base, 1);
	r = connector_open(pool, &sc, opened_never, NULL);
	usleep(200 * 1000);		/* the thread is in the handshake */
	event_base_loop(base, EVLOOP_NONBLOCK);
	connector_cancel(r);
	connector_free(pool, 0);
	event_base_free(base);
	ck_assert_msg(clock_now_ms() - t0 < 2000, "took %lld ms",
	    (long long)(clock_now_ms() - t0));
	close(lfd);
}
END_TEST

Suite *
suite_stream(void)
{
	Suite	*s = suite_create("stream");
	TCase	*tc = tcase_create("tls");

	/* The old code tried a TLS handshake with the silent listener: 10 s. */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_tls_floor_refused);
	tcase_add_test(tc, test_hung_handshake_abandoned);
	suite_add_tcase(s, tc);
	return s;
}
