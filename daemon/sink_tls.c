/*
 * sink_tls.c: syslog over TLS (RFC 5425; octet framing is done before us),
 * with OpenSSL directly so we know exactly which bytes reached the socket.
 *
 * The peer is always verified: the system trust store plus ca_file, the
 * host name (or IP address) against the certificate, TLS 1.2 or later, SNI
 * for names; a client certificate when cert_file and key_file are given.
 * A failed verification is logged with OpenSSL's reason and retried with
 * backoff; there is no fallback to plaintext or to no verification.
 *
 * Pending records are gathered into batches of up to TLS_BATCH bytes (a
 * TLS record holds 16 KiB), each written with one SSL_write: one write()
 * for many records.  When it returns, the batch's TLS bytes are in the
 * socket: the socket BIO's byte count at that moment is the end offset of
 * every record in it, and a record is accepted once the peer's TCP has
 * acknowledged that offset (SIOCOUTQ, as for tcp, in sink_net.c).
 * Unconfirmed records are resent after a reconnect.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "secret.h"
#include "sink_net.h"

#define TLS_BATCH	16384

struct tls_sink {
	struct net	 net;		/* first: this is the net's state */
	SSL_CTX		*ctx;
	SSL		*ssl;
	struct buf	 batch;		/* the first pending records, copied */
	size_t		 nbatch;	/* how many (0: no batch) */
	bool		 write_wants_read;
	bool		 read_wants_write;
};

static int	tls_setup(struct net *, char **);
static void	tls_teardown(struct net *);
static SSL_CTX	*tls_ctx_new(const struct sink_conf *, char **);
static int	tls_ctx_client_cert(SSL_CTX *, const struct sink_conf *,
		    char **);
static int	tls_cause(char **, const struct sink_conf *, const char *,
		    const char *);
static bool	tls_is_ip(const char *);
static void	tls_connected(struct net *);
static int	tls_ssl_new(struct tls_sink *);
static void	tls_handshake(struct tls_sink *);
static void	tls_readable(struct net *);
static void	tls_writable(struct net *);
static void	tls_dropped(struct net *);
static void	tls_drain(struct tls_sink *);
static void	tls_write(struct tls_sink *);
static size_t	tls_batch(struct tls_sink *);
static int	tls_want(struct tls_sink *, int, bool);
static void	tls_fail(struct tls_sink *, const char *);

static const struct net_kind tls_kind = {
	.socktype = SOCK_STREAM,
	.size = sizeof(struct tls_sink),
	.setup = tls_setup,
	.teardown = tls_teardown,
	.ops = {
		.connected = tls_connected,
		.readable = tls_readable,
		.write = tls_writable,
		.dropped = tls_dropped,
	},
};

const struct sink_ops sink_tls_ops = NET_SINK_OPS("tls", &tls_kind);

static int
tls_setup(struct net *n, char **cause)
{
	struct tls_sink	*t = (struct tls_sink *)n;

	buf_init(&t->batch, 0);
	if ((t->ctx = tls_ctx_new(sink_conf(n->sink), cause)) == NULL)
		return -1;
	return 0;
}

/* The client context: TLS >= 1.2, peer verification, trust anchors. */
static SSL_CTX *
tls_ctx_new(const struct sink_conf *sc, char **cause)
{
	SSL_CTX		*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_cause(cause, sc, "SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		log_warnx("sink %s: no system trust store", sc->name);
	if (sc->ca_file != NULL &&
	    SSL_CTX_load_verify_locations(ctx, sc->ca_file, NULL) != 1) {
		tls_cause(cause, sc, "ca_file", sc->ca_file);
		goto fail;
	}
	if (sc->cert_file != NULL && tls_ctx_client_cert(ctx, sc, cause) == -1)
		goto fail;
	ERR_clear_error();
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Load the client certificate chain and its key (checked like a secret). */
static int
tls_ctx_client_cert(SSL_CTX *ctx, const struct sink_conf *sc, char **cause)
{
	char	*why = NULL;

	if (sc->key_file == NULL)
		return tls_cause(cause, sc, "key_file", "missing");
	if (secret_check_perms(sc->key_file, &why) == -1) {
		tls_cause(cause, sc, "key_file", why ? why : sc->key_file);
		free(why);
		return -1;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, sc->cert_file) != 1)
		return tls_cause(cause, sc, "cert_file", sc->cert_file);
	if (SSL_CTX_use_PrivateKey_file(ctx, sc->key_file,
	    SSL_FILETYPE_PEM) != 1)
		return tls_cause(cause, sc, "key_file", sc->key_file);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return tls_cause(cause, sc, "key_file", "does not match "
		    "cert_file");
	return 0;
}

/* Set *cause to "sink NAME: WHAT: DETAIL: openssl error"; returns -1. */
static int
tls_cause(char **cause, const struct sink_conf *sc, const char *what,
    const char *detail)
{
	char	 err[256] = "";
	unsigned long e;

	if ((e = ERR_peek_last_error()) != 0)
		ERR_error_string_n(e, err, sizeof(err));
	ERR_clear_error();
	cause_printf(cause, "sink %s: %s%s%s%s%s", sc->name, what,
	    detail ? ": " : "", detail ? detail : "", *err ? ": " : "",
	    err);
	return -1;
}

static bool
tls_is_ip(const char *host)
{
	unsigned char	 a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

static void
tls_connected(struct net *n)
{
	struct tls_sink	*t = (struct tls_sink *)n;

	if (tls_ssl_new(t) == -1) {
		tls_fail(t, "TLS setup");
		return;
	}
	tls_handshake(t);
}

/* One SSL per connection: the socket, SNI and the name to verify. */
static int
tls_ssl_new(struct tls_sink *t)
{
	const char	*host = sink_conf(t->net.sink)->host;

	if ((t->ssl = SSL_new(t->ctx)) == NULL ||
	    SSL_set_fd(t->ssl, t->net.fd) != 1)
		return -1;
	SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (tls_is_ip(host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl),
		    host) != 1)
			return -1;
	} else if (SSL_set1_host(t->ssl, host) != 1 ||
	    SSL_set_tlsext_host_name(t->ssl, host) != 1)
		return -1;
	SSL_set_connect_state(t->ssl);
	return 0;
}

static void
tls_handshake(struct tls_sink *t)
{
	int	 r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_connect(t->ssl)) != 1) {
		if (tls_want(t, r, false) == -1)
			tls_fail(t, "TLS handshake");
		return;
	}
	log_info("sink %s: %s, %s, peer verified as %s",
	    t->net.name, SSL_get_version(t->ssl),
	    SSL_get_cipher_name(t->ssl),
	    sink_conf(t->net.sink)->host);
	net_ready(&t->net);
}

/*
 * Map an SSL_ERROR_WANT_* to the event to wait for; -1 for a real error.
 * for_write: the call was SSL_write (a WANT_READ then resumes the writer).
 */
static int
tls_want(struct tls_sink *t, int r, bool for_write)
{
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		if (for_write)
			t->write_wants_read = true;
		return 0;	/* the read event is always watched */
	case SSL_ERROR_WANT_WRITE:
		if (!for_write && t->net.state == NET_READY)
			t->read_wants_write = true;
		net_want_write(&t->net);
		return 0;
	default:
		return -1;
	}
}

static void
tls_readable(struct net *n)
{
	struct tls_sink	*t = (struct tls_sink *)n;

	if (n->state == NET_HANDSHAKE) {
		tls_handshake(t);
		return;
	}
	tls_drain(t);
	if (n->state == NET_READY && t->write_wants_read) {
		t->write_wants_read = false;
		tls_write(t);
	}
}

/* Writable, ready or flushed: go on with whatever waits for writing. */
static void
tls_writable(struct net *n)
{
	struct tls_sink	*t = (struct tls_sink *)n;

	if (n->state == NET_HANDSHAKE) {
		tls_handshake(t);
		return;
	}
	if (t->read_wants_write) {
		t->read_wants_write = false;
		tls_drain(t);
		if (n->state != NET_READY)
			return;
	}
	if (!t->write_wants_read)
		tls_write(t);
}

/* Peers send nothing we need; reading notices close_notify and errors. */
static void
tls_drain(struct tls_sink *t)
{
	char	 buf[4096];
	int	 r;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_read(t->ssl, buf, sizeof(buf))) > 0)
			continue;
		if (SSL_get_error(t->ssl, r) == SSL_ERROR_ZERO_RETURN) {
			net_disconnect(&t->net, "closed by peer "
			    "(close_notify)");
			return;
		}
		if (tls_want(t, r, false) == -1)
			tls_fail(t, "TLS read");
		return;
	}
}

/*
 * Write pending records a batch at a time; each written one waits for its
 * ack.  A batch SSL_write could not finish is written again as it is (the
 * same bytes, at the same address, as OpenSSL asks).
 */
static void
tls_write(struct tls_sink *t)
{
	BIO	*wbio = SSL_get_wbio(t->ssl);
	size_t	 i;
	int	 n;

	while (t->nbatch > 0 || tls_batch(t) > 0) {
		ERR_clear_error();
		errno = 0;
		n = SSL_write(t->ssl, t->batch.data, (int)t->batch.len);
		if (n <= 0) {
			if (tls_want(t, n, true) == 0)
				break;
			tls_fail(t, "TLS write");
			return;
		}
		for (i = 0; i < t->nbatch; i++)
			net_sent(&t->net, BIO_number_written(wbio));
		buf_reset(&t->batch);
		t->nbatch = 0;
	}
	t->net.written = BIO_number_written(wbio);
	net_confirm(&t->net);
}

/* Copy the first pending records, up to TLS_BATCH bytes (one at least). */
static size_t
tls_batch(struct tls_sink *t)
{
	struct sink_rec	*r;

	for (r = sink_first(t->net.sink); r != NULL; r = sink_next(r)) {
		if (t->nbatch > 0 && t->batch.len + r->len > TLS_BATCH)
			break;
		if (buf_append(&t->batch, r->data, r->len) == -1)
			fatalx("%s: out of memory", __func__);
		t->nbatch++;
	}
	return t->nbatch;
}

/* Log why (with the certificate verdict when there is one) and retry. */
static void
tls_fail(struct tls_sink *t, const char *what)
{
	char		 err[256] = "", why[512];
	unsigned long	 e;
	long		 v = X509_V_OK;

	if (t->ssl != NULL)
		v = SSL_get_verify_result(t->ssl);
	if ((e = ERR_peek_last_error()) != 0)
		ERR_error_string_n(e, err, sizeof(err));
	else if (errno != 0)
		snprintf(err, sizeof(err), "%s", strerror(errno));
	else
		snprintf(err, sizeof(err), "connection closed");
	ERR_clear_error();
	if (v != X509_V_OK)
		snprintf(why, sizeof(why), "%s: certificate verify failed: %s "
		    "(host %s)", what, X509_verify_cert_error_string(v),
		    sink_conf(t->net.sink)->host);
	else
		snprintf(why, sizeof(why), "%s: %s", what, err);
	net_disconnect(&t->net, why);
}

static void
tls_dropped(struct net *n)
{
	struct tls_sink	*t = (struct tls_sink *)n;

	SSL_free(t->ssl);
	t->ssl = NULL;
	buf_reset(&t->batch);		/* its records are pending again */
	t->nbatch = 0;
	t->write_wants_read = t->read_wants_write = false;
}

/* Say goodbye (best effort); unconfirmed records go back to pending. */
static void
tls_teardown(struct net *n)
{
	struct tls_sink	*t = (struct tls_sink *)n;

	if (t->ssl != NULL && n->state == NET_READY) {
		ERR_clear_error();
		SSL_shutdown(t->ssl);
		ERR_clear_error();
	}
	SSL_CTX_free(t->ctx);	/* each SSL holds its own reference */
	t->ctx = NULL;
	buf_free(&t->batch);
}
