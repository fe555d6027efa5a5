/*
 * connector.c: a pool of threads for AMQP handshakes and closes (see
 * connector.h).
 *
 * One mutex guards the two lists (todo: requests for a thread; done:
 * finished handshakes for the loop) and every request's state.  A thread
 * that finishes a handshake puts it on done and writes a byte to a pipe the
 * loop watches.  The threads are detached: the pool is freed by whoever
 * lets go of it last (the loop or the last thread), so a thread stuck in a
 * handshake never holds up a stop or a reload.  A stop does wait (briefly)
 * for the idle threads to leave: each frees its OpenSSL thread state first,
 * which must not race with OpenSSL's own cleanup at exit.
 */
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "connector.h"
#include "esc.h"
#include "log.h"
#include "xmalloc.h"

#define CONN_CHANNEL		1
#define CONN_TIMEOUT_SEC	10	/* connect, handshake, each RPC */
#define CONN_CLOSE_SEC		2	/* waiting for close-ok */
#define CONN_WHY_MAX		(ESC_SIZE(255) + 64)	/* a close reason */
/*
 * Frames of 32 KiB: rabbitmq-c keeps an inbound and an outbound buffer of
 * frame_max per connection; AMP events are a few KiB, a bigger body just
 * comes in more frames.
 */
#define CONN_FRAME_MAX		32768

enum req_kind { REQ_OPEN, REQ_CLOSE };
enum req_where { IN_TODO, IN_THREAD, IN_DONE };

struct conn_req {
	TAILQ_ENTRY(conn_req) entry;
	struct connector *pool;
	enum req_kind	 kind;
	enum req_where	 where;
	bool		 cancelled;
	/* What the handshake needs, copied: a reload may free the config. */
	char		*host, *vhost, *user, *password, *queue;
	int		 port, heartbeat, prefetch;
	bool		 tls;
	X509_STORE	*store;		/* a reference, or NULL */
	amqp_connection_state_t conn;
	uint32_t	 ready;
	bool		 failed;
	enum connector_reason reason;
	char		 error[CONNECTOR_ERR_MAX];
	connector_fn	 fn;
	void		*arg;
};
TAILQ_HEAD(req_list, conn_req);

const char *const connector_reasons[CONN_R_MAX] = {
	"config", "connect", "tls", "login", "queue"
};

struct tls_store {
	char		*ca_file;	/* NULL: the system store alone */
	X509_STORE	*store;
};

struct connector {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 work;		/* something in todo, or dead */
	pthread_cond_t	 closed;	/* a close finished or a thread left */
	struct req_list	 todo, done;
	int		 refs;		/* the threads and the loop */
	int		 ncloses;	/* queued or running */
	int		 nopening;	/* threads in a handshake */
	bool		 dead;		/* the loop let go */
	int		 pipe[2];
	/* Loop side only. */
	struct event	*ev;
	struct tls_store *stores;
	size_t		 nstores;
};

static void	*conn_thread(void *);
static void	 conn_open(struct conn_req *);
static int	 conn_socket(struct conn_req *);
static int	 conn_setup(struct conn_req *);
static int	 conn_rpc_ok(struct conn_req *, const char *);
static void	 conn_reply_str(amqp_rpc_reply_t, char *, size_t);
static void	 conn_close(struct conn_req *);
static void	 conn_done_cb(int, short, void *);
static void	 conn_unref(struct connector *);
static void	 conn_wake(struct connector *);
static void	 req_free(struct conn_req *);
static X509_STORE *store_get(struct connector *, const char *, char *,
		    size_t);

struct connector *
connector_new(struct event_base *base, int nthreads)
{
	struct connector *p;
	pthread_attr_t	 attr;
	pthread_t	 t;
	sigset_t	 all, old;
	int		 i;

	p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mtx, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->closed, NULL);
	TAILQ_INIT(&p->todo);
	TAILQ_INIT(&p->done);
	if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("%s: pipe2", __func__);
	p->ev = event_new(base, p->pipe[0], EV_READ | EV_PERSIST,
	    conn_done_cb, p);
	if (p->ev == NULL)
		fatalx("%s: event_new", __func__);
	event_add(p->ev, NULL);
	p->refs = 1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	/* Signals are the loop's: the threads start with all of them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < nthreads; i++) {
		p->refs++;
		if ((errno = pthread_create(&t, &attr, conn_thread, p)) != 0)
			fatal("%s: pthread_create", __func__);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return p;
}

void
connector_free(struct connector *p, int wait_ms)
{
	struct conn_req	*r, *next;
	struct timespec	 until;
	size_t		 i;

	if (p == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	event_free(p->ev);
	pthread_mutex_lock(&p->mtx);
	p->dead = true;		/* a handshake that ends now frees itself */
	while ((r = TAILQ_FIRST(&p->done)) != NULL) {
		TAILQ_REMOVE(&p->done, r, entry);
		req_free(r);		/* destroys its connection */
	}
	for (r = TAILQ_FIRST(&p->todo); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->kind == REQ_OPEN) {
			TAILQ_REMOVE(&p->todo, r, entry);
			req_free(r);
		}
	}
	pthread_cond_broadcast(&p->work);
	/* Closes, and threads with nothing to do: one ref is the loop's. */
	while ((p->ncloses > 0 || p->refs - 1 > p->nopening) &&
	    pthread_cond_timedwait(&p->closed, &p->mtx, &until) != ETIMEDOUT)
		;
	if (p->ncloses > 0)
		log_info("connector: %d connection(s) still closing; not "
		    "waiting", p->ncloses);
	if (p->nopening > 0)
		log_info("connector: %d handshake(s) still running; not "
		    "waiting", p->nopening);
	pthread_mutex_unlock(&p->mtx);
	for (i = 0; i < p->nstores; i++) {
		free(p->stores[i].ca_file);
		X509_STORE_free(p->stores[i].store);
	}
	free(p->stores);
	p->stores = NULL;
	conn_unref(p);
}

/* The last one out frees the pool (the stores went with the loop's ref). */
static void
conn_unref(struct connector *p)
{
	struct conn_req	*r;
	bool		 last;

	pthread_mutex_lock(&p->mtx);
	last = --p->refs == 0;
	pthread_cond_broadcast(&p->closed);
	pthread_mutex_unlock(&p->mtx);
	if (!last)
		return;
	while ((r = TAILQ_FIRST(&p->todo)) != NULL) {
		TAILQ_REMOVE(&p->todo, r, entry);
		req_free(r);
	}
	while ((r = TAILQ_FIRST(&p->done)) != NULL) {
		TAILQ_REMOVE(&p->done, r, entry);
		req_free(r);
	}
	close(p->pipe[0]);
	close(p->pipe[1]);
	pthread_mutex_destroy(&p->mtx);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->closed);
	free(p);
}

struct conn_req *
connector_open(struct connector *p, const struct stream_conf *sc,
    connector_fn fn, void *arg)
{
	struct conn_req	*r;

	r = xcalloc(1, sizeof(*r));
	r->pool = p;
	r->kind = REQ_OPEN;
	r->host = xstrdup(sc->host);
	r->vhost = xstrdup(sc->vhost);
	r->user = xstrdup(sc->user);
	r->password = xstrdup(sc->password);
	r->queue = xstrdup(sc->queue);
	r->port = sc->port;
	r->heartbeat = sc->heartbeat;
	r->prefetch = sc->prefetch;
	r->tls = sc->tls;
	r->fn = fn;
	r->arg = arg;
	if (sc->tls && (r->store = store_get(p, sc->ca_file, r->error,
	    sizeof(r->error))) == NULL) {
		r->failed = true;	/* straight to the loop */
		r->reason = CONN_R_CONFIG;
	}
	pthread_mutex_lock(&p->mtx);
	if (r->failed) {
		r->where = IN_DONE;
		TAILQ_INSERT_TAIL(&p->done, r, entry);
		conn_wake(p);
	} else {
		r->where = IN_TODO;
		TAILQ_INSERT_TAIL(&p->todo, r, entry);
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->mtx);
	return r;
}

void
connector_cancel(struct conn_req *r)
{
	struct connector *p = r->pool;

	pthread_mutex_lock(&p->mtx);
	if (r->where == IN_TODO) {
		TAILQ_REMOVE(&p->todo, r, entry);
		req_free(r);
	} else
		r->cancelled = true;	/* its end is seen to by whoever has it */
	pthread_mutex_unlock(&p->mtx);
}

/* Closes go first: they free the broker's side of a stream that is gone. */
void
connector_close(struct connector *p, amqp_connection_state_t conn)
{
	struct conn_req	*r;

	r = xcalloc(1, sizeof(*r));
	r->pool = p;
	r->kind = REQ_CLOSE;
	r->conn = conn;
	pthread_mutex_lock(&p->mtx);
	r->where = IN_TODO;
	p->ncloses++;
	TAILQ_INSERT_HEAD(&p->todo, r, entry);
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mtx);
}

static void *
conn_thread(void *arg)
{
	struct connector *p = arg;
	struct conn_req	*r;

	pthread_mutex_lock(&p->mtx);
	for (;;) {
		while (TAILQ_EMPTY(&p->todo) && !p->dead)
			pthread_cond_wait(&p->work, &p->mtx);
		if ((r = TAILQ_FIRST(&p->todo)) == NULL)
			break;		/* dead, and nothing left to close */
		TAILQ_REMOVE(&p->todo, r, entry);
		r->where = IN_THREAD;
		if (r->kind == REQ_CLOSE) {
			pthread_mutex_unlock(&p->mtx);
			conn_close(r);
			req_free(r);
			pthread_mutex_lock(&p->mtx);
			p->ncloses--;
			pthread_cond_broadcast(&p->closed);
			continue;
		}
		p->nopening++;
		pthread_mutex_unlock(&p->mtx);
		conn_open(r);
		pthread_mutex_lock(&p->mtx);
		p->nopening--;
		if (p->dead) {
			req_free(r);
			continue;
		}
		r->where = IN_DONE;
		TAILQ_INSERT_TAIL(&p->done, r, entry);
		conn_wake(p);
	}
	pthread_mutex_unlock(&p->mtx);
	/* Not left to the key destructors, which may run after exit(). */
	OPENSSL_thread_stop();
	conn_unref(p);
	return NULL;
}

/* Tell the loop something is done (a full pipe has told it already). */
static void
conn_wake(struct connector *p)
{
	ssize_t	 n = write(p->pipe[1], "", 1);

	(void)n;
}

/* In the loop: hand each finished handshake to its stream. */
static void
conn_done_cb(int fd, short ev __unused, void *arg)
{
	struct connector *p = arg;
	struct req_list	 done;
	struct conn_req	*r;
	char		 drain[256];

	while (read(fd, drain, sizeof(drain)) > 0)
		;
	TAILQ_INIT(&done);
	pthread_mutex_lock(&p->mtx);
	TAILQ_CONCAT(&done, &p->done, entry);
	pthread_mutex_unlock(&p->mtx);
	while ((r = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, r, entry);
		/* cancelled is only set from the loop: no lock needed now. */
		if (r->cancelled) {
			if (r->conn != NULL && !r->failed) {
				connector_close(p, r->conn);
				r->conn = NULL;
			}
		} else if (r->failed)
			r->fn(NULL, 0, r->error, r->reason, r->arg);
		else {
			r->fn(r->conn, r->ready, NULL, r->reason, r->arg);
			r->conn = NULL;		/* the stream's now */
		}
		req_free(r);
	}
}

static void
req_free(struct conn_req *r)
{
	if (r->conn != NULL)
		amqp_destroy_connection(r->conn);
	if (r->store != NULL)
		X509_STORE_free(r->store);
	free(r->host);
	free(r->vhost);
	free(r->user);
	if (r->password != NULL)
		explicit_bzero(r->password, strlen(r->password));
	free(r->password);
	free(r->queue);
	free(r);
}

/* The handshake, in a thread: r->conn consuming, or r->failed and why. */
static void
conn_open(struct conn_req *r)
{
	amqp_rpc_reply_t rr;
	char		 why[CONN_WHY_MAX];

	r->reason = CONN_R_CONNECT;
	if ((r->conn = amqp_new_connection()) == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto fail;
	}
	if (conn_socket(r) == -1)
		goto fail;
	r->reason = CONN_R_LOGIN;
	rr = amqp_login(r->conn, r->vhost, 0, CONN_FRAME_MAX, r->heartbeat,
	    AMQP_SASL_METHOD_PLAIN, r->user, r->password);
	if (rr.reply_type != AMQP_RESPONSE_NORMAL) {
		conn_reply_str(rr, why, sizeof(why));
		snprintf(r->error, sizeof(r->error), "login to %s:%d as %s "
		    "failed: %s", r->host, r->port, r->user, why);
		goto fail;
	}
	r->reason = CONN_R_QUEUE;
	if (conn_setup(r) == -1)
		goto fail;
	return;
fail:
	r->failed = true;
	if (r->conn != NULL)
		amqp_destroy_connection(r->conn);
	r->conn = NULL;
}

/* A TCP or TLS socket, opened; TLS verifies the peer and its name, >= 1.2. */
static int
conn_socket(struct conn_req *r)
{
	struct timeval	 tv = { CONN_TIMEOUT_SEC, 0 };
	amqp_socket_t	*sock;
	SSL_CTX		*ctx;
	const char	*hint = "";
	char		 sys[128] = "";
	int		 status;

	if (!r->tls)
		sock = amqp_tcp_socket_new(r->conn);
	else if ((sock = amqp_ssl_socket_new(r->conn)) != NULL) {
		amqp_ssl_socket_set_verify_peer(sock, 1);
		amqp_ssl_socket_set_verify_hostname(sock, 1);
		ctx = amqp_ssl_socket_get_context(sock);
		/*
		 * Never below TLS 1.2: rabbitmq-c 0.11 sets it with
		 * SSL_OP_NO_* only, so set the floor ourselves too.  It loads
		 * no trust store: ours is shared by every connection.
		 */
		if (amqp_ssl_socket_set_ssl_versions(sock, AMQP_TLSv1_2,
		    AMQP_TLSvLATEST) != AMQP_STATUS_OK ||
		    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
			snprintf(r->error, sizeof(r->error), "cannot enforce "
			    "TLS >= 1.2: not connecting to %s:%d", r->host,
			    r->port);
			r->reason = CONN_R_TLS;
			return -1;
		}
		SSL_CTX_set1_cert_store(ctx, r->store);
		/* An idle stream keeps no TLS record buffers (~34 KiB). */
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	}
	if (sock == NULL) {
		snprintf(r->error, sizeof(r->error), "cannot make a socket");
		return -1;
	}
	amqp_set_handshake_timeout(r->conn, &tv);
	amqp_set_rpc_timeout(r->conn, &tv);
	errno = 0;
	status = amqp_socket_open_noblock(sock, r->host, r->port, &tv);
	if (status == AMQP_STATUS_OK)
		return 0;
	/* rabbitmq-c 0.11 keeps SO_ERROR to itself: errno is connect's. */
	if (status == AMQP_STATUS_SOCKET_ERROR && errno == EINPROGRESS)
		snprintf(sys, sizeof(sys), " (refused or unreachable)");
	else if (status == AMQP_STATUS_SOCKET_ERROR && errno != 0)
		snprintf(sys, sizeof(sys), " (%s)", strerror(errno));
	if (status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED ||
	    status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED ||
	    status == AMQP_STATUS_SSL_CONNECTION_FAILED) {
		hint = " (TLS: is the broker's certificate signed by a CA in "
		    "the system trust store or ca_file, and issued for this "
		    "host name?)";
		r->reason = CONN_R_TLS;
	} else if (status == AMQP_STATUS_SSL_ERROR)
		r->reason = CONN_R_TLS;
	snprintf(r->error, sizeof(r->error), "cannot connect to %s:%d: %s%s%s",
	    r->host, r->port, amqp_error_string2(status), sys, hint);
	return -1;
}

/* Channel, passive queue declare, prefetch, consume with manual acks. */
static int
conn_setup(struct conn_req *r)
{
	amqp_bytes_t	 queue = amqp_cstring_bytes(r->queue);
	amqp_queue_declare_ok_t *ok;

	amqp_channel_open(r->conn, CONN_CHANNEL);
	if (conn_rpc_ok(r, "channel.open") == -1)
		return -1;
	ok = amqp_queue_declare(r->conn, CONN_CHANNEL, queue, 1, 0, 0, 0,
	    amqp_empty_table);
	if (conn_rpc_ok(r, "queue.declare (passive)") == -1)
		return -1;
	r->ready = ok != NULL ? ok->message_count : 0;
	amqp_basic_qos(r->conn, CONN_CHANNEL, 0, (uint16_t)r->prefetch, 0);
	if (conn_rpc_ok(r, "basic.qos") == -1)
		return -1;
	amqp_basic_consume(r->conn, CONN_CHANNEL, queue, amqp_empty_bytes,
	    0, 0, 0, amqp_empty_table);
	return conn_rpc_ok(r, "basic.consume");
}

static int
conn_rpc_ok(struct conn_req *r, const char *what)
{
	amqp_rpc_reply_t rr = amqp_get_rpc_reply(r->conn);
	char		 why[CONN_WHY_MAX];

	if (rr.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	conn_reply_str(rr, why, sizeof(why));
	snprintf(r->error, sizeof(r->error), "%s %s: %s", what, r->queue, why);
	return -1;
}

static void
conn_reply_str(amqp_rpc_reply_t r, char *buf, size_t len)
{
	amqp_connection_close_t *cc;
	amqp_channel_close_t *ch;

	switch (r.reply_type) {
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(buf, len, "%s", amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			cc = r.reply.decoded;
			connector_close_str(buf, len, "connection",
			    cc->reply_code, cc->reply_text);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			ch = r.reply.decoded;
			connector_close_str(buf, len, "channel", ch->reply_code,
			    ch->reply_text);
		} else
			snprintf(buf, len, "unexpected broker method 0x%08x",
			    r.reply.id);
		break;
	default:
		snprintf(buf, len, "no reply");
		break;
	}
}

/* "broker closed the connection: 320 TEXT", the broker's text escaped. */
void
connector_close_str(char *buf, size_t len, const char *what, uint16_t code,
    amqp_bytes_t text)
{
	char	 esc[ESC_SIZE(255)];	/* reply-text is a shortstr */

	snprintf(buf, len, "broker closed the %s: %u %s", what, code,
	    esc_peer(esc, sizeof(esc), text.bytes, text.len));
}

/* connection.close and its close-ok, briefly; then the socket goes. */
static void
conn_close(struct conn_req *r)
{
	struct timeval	 tv = { CONN_CLOSE_SEC, 0 };

	amqp_set_rpc_timeout(r->conn, &tv);
	(void)amqp_connection_close(r->conn, AMQP_REPLY_SUCCESS);
}

/*
 * The trust store for ca_file (NULL: the system's alone), loaded once per
 * pool and shared: each connection's own copy of the system store would
 * cost about 1 MiB.  The loop's alone: no lock.
 */
static X509_STORE *
store_get(struct connector *p, const char *ca_file, char *err, size_t len)
{
	X509_STORE	*s;
	size_t		 i;

	for (i = 0; i < p->nstores; i++)
		if ((ca_file == NULL && p->stores[i].ca_file == NULL) ||
		    (ca_file != NULL && p->stores[i].ca_file != NULL &&
		    strcmp(ca_file, p->stores[i].ca_file) == 0))
			goto found;
	if ((s = X509_STORE_new()) == NULL)
		fatalx("%s: X509_STORE_new", __func__);
	if (X509_STORE_set_default_paths(s) != 1)
		log_warnx("no system trust store");
	if (ca_file != NULL && X509_STORE_load_file(s, ca_file) != 1) {
		snprintf(err, len, "cannot load ca_file %s", ca_file);
		X509_STORE_free(s);
		return NULL;
	}
	p->stores = xreallocarray(p->stores, p->nstores + 1,
	    sizeof(*p->stores));
	p->stores[i].ca_file = ca_file != NULL ? xstrdup(ca_file) : NULL;
	p->stores[i].store = s;
	p->nstores++;
found:
	X509_STORE_up_ref(p->stores[i].store);
	return p->stores[i].store;
}
