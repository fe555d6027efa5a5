/*
 * api.c: the AMP for Endpoints REST API v1 client (see api.h).
 *
 * One curl easy handle, reused for every request (keep-alive).  The trust
 * store is libcurl's default (the system bundle); ca_file is loaded into the
 * same X509_STORE from CURLOPT_SSL_CTX_FUNCTION, so it adds a trust anchor
 * instead of replacing the bundle as CURLOPT_CAINFO would.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "api.h"
#include "compat.h"
#include "ctl_esc.h"
#include "log.h"
#include "ratelimit.h"
#include "xmalloc.h"

#define API_RETRIES	3	/* extra attempts after a 5xx or network error */
#define API_MAX_429	100	/* 429 answers retried for one request */
#define API_BACKOFF_MAX	60	/* seconds */
#define COST_OBJECT	800	/* json-c's bytes for an object (json_cost) */
#define COST_ARRAY	160	/* for an array */
#define COST_VALUE	80	/* for any other value, or a member */
#define URL_CHARS	"!#$%&'()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"[]_abcdefghijklmnopqrstuvwxyz~"

struct api_body {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 too_big;
};

struct api {
	CURL		*curl;
	struct curl_slist *headers;
	struct curl_slist *resolve;
	char		*base;		/* api_url without a trailing slash */
	char		*host;
	char		*port;
	char		*ca_file;
	double		 max_wait;	/* seconds */
	double		 waited;	/* seconds, all requests together */
	size_t		 held;		/* json_cost of this call's answers */
	time_t		 spent_until;	/* budget spent: no request before */
	long		 status;
	int		 not_found;
	struct ratelimit	 rate;
	struct api_body	 body;
	char		 errbuf[CURL_ERROR_SIZE];
};

struct api_req {
	const char	*method;
	const char	*url;
	const char	*payload;	/* JSON text, or NULL */
	int		 idempotent;	/* may be repeated after a 5xx */
};

enum attempt {
	ATTEMPT_DONE,
	ATTEMPT_RETRY,
	ATTEMPT_FAIL
};

static int	 parse_base(struct api *, const char *, char **);
static int	 setup_curl(struct api *, const struct api_opts *, char **);
static int	 setup_tls(struct api *, char **);
static void	 setup_io(struct api *);
static CURLcode	 ssl_ctx_cb(CURL *, void *, void *);
static size_t	 write_cb(char *, size_t, size_t, void *);
static size_t	 header_cb(char *, size_t, size_t, void *);
static int	 request(struct api *, const struct api_req *,
		    struct json_object **, char **);
static enum attempt attempt(struct api *, const struct api_req *, int *,
		    int *, char **);
static CURLcode	 perform(struct api *, const struct api_req *);
static void	 note_rate(struct api *, const struct api_req *, CURLcode);
static int	 wait_for_budget(struct api *, char **);
static int	 wait_after_429(struct api *, int, char **);
static int	 backoff(struct api *, int, const char *, char **);
static int	 api_sleep(struct api *, long long, const char *, char **);
static int	 net_retryable(CURLcode, const struct api_req *);
static char	*net_error(struct api *, const struct api_req *, CURLcode);
static int	 finish(struct api *, const struct api_req *,
		    struct json_object **, char **);
static size_t	 json_cost(const char *, size_t);
static void	 too_big(struct api *, const struct api_req *, size_t,
		    char **);
static struct json_object *parse_json(const char *, size_t);
static void	 http_error(struct api *, const struct api_req *,
		    struct json_object *, char **);
static char	*error_details(struct json_object *);
static const char *str_of(struct json_object *, const char *);
static int	 details_not_found(struct json_object *);
static int	 one(struct api *, const char *, const char *,
		    struct json_object *, struct json_object **, char **);
static char	*join_url(const struct api *, const char *);
static int	 append_data(struct json_object *, struct json_object *,
		    const char *, char **);
static int	 next_link(struct api *, struct json_object *, const char *,
		    char **, char **);
static int	 same_origin(const struct api *, const char *);

struct api *
api_new(const struct api_opts *opts, char **cause)
{
	struct api	*api;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cause_printf(cause, "cannot initialise libcurl");
		return NULL;
	}
	api = xcalloc(1, sizeof(*api));
	api->max_wait = opts->max_wait;
	if (parse_base(api, opts->base_url, cause) == -1)
		goto fail;
	if (opts->ca_file != NULL) {
		if (access(opts->ca_file, R_OK) == -1) {
			cause_printf(cause, "ca_file %s: %s", opts->ca_file,
			    strerror(errno));
			goto fail;
		}
		api->ca_file = xstrdup(opts->ca_file);
	}
	if (setup_curl(api, opts, cause) == -1)
		goto fail;
	return api;
fail:
	api_free(api);
	return NULL;
}

void
api_free(struct api *api)
{
	if (api == NULL)
		return;
	if (api->curl != NULL)
		curl_easy_cleanup(api->curl);
	curl_slist_free_all(api->headers);
	curl_slist_free_all(api->resolve);
	free(api->base);
	free(api->host);
	free(api->port);
	free(api->ca_file);
	free(api->body.buf);
	free(api);
	curl_global_cleanup();
}

const char *
api_host(const struct api *api)
{
	return api->host;
}

const char *
api_region(const char *host)
{
	if (strcasecmp(host, "api.amp.cisco.com") == 0)
		return "NA";
	if (strcasecmp(host, "api.eu.amp.cisco.com") == 0)
		return "EU";
	if (strcasecmp(host, "api.apjc.amp.cisco.com") == 0)
		return "APJC";
	return "private";
}

int
api_not_found(const struct api *api)
{
	return api->not_found;
}

/* Check base_url (https, a host, nothing else) and keep its parts. */
static int
parse_base(struct api *api, const char *url, char **cause)
{
	CURLU	*u = curl_url();
	char	*scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	char	*query = NULL;
	int	 rv = -1;
	size_t	 len;

	if (u == NULL)
		fatal("curl_url");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		cause_printf(cause, "api_url \"%s\": not a valid URL", url);
		goto out;
	}
	if (strcasecmp(scheme, "https") != 0) {
		cause_printf(cause, "api_url \"%s\": only https:// is allowed", url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
		cause_printf(cause, "api_url \"%s\": no user or query allowed",
		    url);
		goto out;
	}
	api->base = xstrdup(url);
	len = strlen(api->base);
	while (len > 0 && api->base[len - 1] == '/')
		api->base[--len] = '\0';
	api->host = xstrdup(host);
	api->port = xstrdup(port);
	rv = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_free(query);
	curl_url_cleanup(u);
	return rv;
}

/* The options that never change: HTTPS only, verification, auth, limits. */
static int
setup_curl(struct api *api, const struct api_opts *opts, char **cause)
{
	CURL	*c;

	if ((c = api->curl = curl_easy_init()) == NULL) {
		cause_printf(cause, "cannot initialise libcurl");
		return -1;
	}
	if (setup_tls(api, cause) == -1)
		return -1;
	api->headers = curl_slist_append(NULL, "Accept: application/json");
	api->headers = curl_slist_append(api->headers,
	    "Content-Type: application/json");
	if (api->headers == NULL)
		fatal("curl_slist_append");
	if (opts->resolve != NULL) {
		if ((api->resolve = curl_slist_append(NULL, opts->resolve)) ==
		    NULL)
			fatal("curl_slist_append");
		curl_easy_setopt(c, CURLOPT_RESOLVE, api->resolve);
	}
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c, CURLOPT_USERNAME, opts->client_id);
	curl_easy_setopt(c, CURLOPT_PASSWORD, opts->api_key);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, api->headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ampstreamctl/" AMPSTREAM_VERSION);
	setup_io(api);
	return 0;
}

/* HTTPS only, TLS 1.2 or later, peer and host verified; ca_file added. */
static int
setup_tls(struct api *api, char **cause)
{
	CURL	*c = api->curl;
	const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);

	if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2)
	    != CURLE_OK) {
		cause_printf(cause, "libcurl %s cannot restrict itself to HTTPS "
		    "and TLS 1.2 or later", vi->version);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (api->ca_file == NULL)
		return 0;
	if (vi->ssl_version == NULL ||
	    strncmp(vi->ssl_version, "OpenSSL", 7) != 0) {
		cause_printf(cause, "ca_file needs libcurl built with OpenSSL "
		    "(this one uses %s)", vi->ssl_version ? vi->ssl_version :
		    "no TLS");
		return -1;
	}
	/* A cached CA store would be shared and miss our extra anchor. */
	curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, api);
	return 0;
}

/* Timeouts, the body bound, and where the body and headers go. */
static void
setup_io(struct api *api)
{
	CURL	*c = api->curl;

	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)API_MAX_BODY);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, api->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &api->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &api->rate);
}

/* Add ca_file to the store libcurl filled with the system trust anchors. */
static CURLcode
ssl_ctx_cb(CURL *curl __unused, void *sslctx, void *arg)
{
	struct api	*api = arg;
	X509_STORE	*store = SSL_CTX_get_cert_store(sslctx);

	if (store == NULL || X509_STORE_load_file(store, api->ca_file) != 1) {
		ERR_clear_error();
		snprintf(api->errbuf, sizeof(api->errbuf),
		    "cannot load ca_file %s", api->ca_file);
		return CURLE_SSL_CACERT_BADFILE;
	}
	return CURLE_OK;
}

/* Collect the body, refusing more than API_MAX_BODY bytes. */
static size_t
write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct api_body	*b = arg;
	size_t		 len = size * n, cap;
	char		*p;

	if (len > API_MAX_BODY - b->len) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 16384;
		while (cap < b->len + len + 1)
			cap *= 2;
		p = xreallocarray(b->buf, cap, 1);
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return len;
}

/* Pick the rate-limit headers out of the response header lines. */
static size_t
header_cb(char *line, size_t size, size_t n, void *arg)
{
	ratelimit_line(arg, line, size * n);
	return size * n;
}

/* Run one request to the end: waits, retries, then the parsed answer. */
static int
request(struct api *api, const struct api_req *r, struct json_object **env,
    char **cause)
{
	int		 tries = 0, n429 = 0;
	enum attempt	 a;

	*env = NULL;
	api->not_found = 0;
	do {
		if (wait_for_budget(api, cause) == -1)
			return -1;
		a = attempt(api, r, &tries, &n429, cause);
	} while (a == ATTEMPT_RETRY);
	if (a == ATTEMPT_FAIL)
		return -1;
	return finish(api, r, env, cause);
}

/* One exchange, and whether (and after which wait) to try again. */
static enum attempt
attempt(struct api *api, const struct api_req *r, int *tries, int *n429,
    char **cause)
{
	CURLcode	 rc;
	char		 why[512];

	rc = perform(api, r);
	note_rate(api, r, rc);
	if (rc != CURLE_OK) {
		if (!net_retryable(rc, r) || (*tries)++ >= API_RETRIES) {
			*cause = net_error(api, r, rc);
			return ATTEMPT_FAIL;
		}
		snprintf(why, sizeof(why), "%s %s: %s", r->method, r->url,
		    esc(api->errbuf[0] ? api->errbuf : curl_easy_strerror(rc)));
		return backoff(api, *tries, why, cause) == -1 ? ATTEMPT_FAIL :
		    ATTEMPT_RETRY;
	}
	if (api->status == 429 && *n429 < API_MAX_429) {
		if (wait_after_429(api, ++*n429, cause) == -1)
			return ATTEMPT_FAIL;
		return ATTEMPT_RETRY;
	}
	if (api->status >= 500 && r->idempotent && (*tries)++ < API_RETRIES) {
		snprintf(why, sizeof(why), "%s %s: HTTP %ld", r->method,
		    r->url, api->status);
		return backoff(api, *tries, why, cause) == -1 ? ATTEMPT_FAIL :
		    ATTEMPT_RETRY;
	}
	return ATTEMPT_DONE;
}

static CURLcode
perform(struct api *api, const struct api_req *r)
{
	CURL		*c = api->curl;
	CURLcode	 rc;

	api->body.len = 0;
	api->body.too_big = 0;
	api->errbuf[0] = '\0';
	api->status = 0;
	memset(&api->rate, 0, sizeof(api->rate));
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	if (r->payload != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->payload);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
		    strcmp(r->method, "GET") == 0 ? NULL : r->method);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &api->status);
	return rc;
}

/* Remember a spent budget; with -v, one line per exchange (never a secret). */
static void
note_rate(struct api *api, const struct api_req *r, CURLcode rc)
{
	const struct ratelimit	*rt = &api->rate;
	time_t			 now = time(NULL);
	long long		 reset = ratelimit_reset_in(rt, now);

	/*
	 * Reset counts whole seconds from a moment time() knows only to the
	 * second: one second more, so the next request never lands just
	 * before the window ends (and takes a 429).
	 */
	if (rt->has[RL_REMAINING] && rt->v[RL_REMAINING] == 0 && reset >= 0)
		api->spent_until = now + reset + 1;
	if (rc != CURLE_OK) {
		log_debug("%s %s -> %s", r->method, r->url,
		    esc(api->errbuf[0] ? api->errbuf : curl_easy_strerror(rc)));
		return;
	}
	log_debug("%s %s -> HTTP %ld, %zu bytes; rate limit: %lld of %lld "
	    "left, reset in %lld s", r->method, r->url, api->status,
	    api->body.len, rt->has[RL_REMAINING] ? rt->v[RL_REMAINING] : -1LL,
	    rt->has[RL_LIMIT] ? rt->v[RL_LIMIT] : -1LL, reset);
}

/* The last answer said the budget is spent: wait for the reset first. */
static int
wait_for_budget(struct api *api, char **cause)
{
	time_t	 now = time(NULL);
	char	 why[256];

	if (api->spent_until <= now) {
		api->spent_until = 0;
		return 0;
	}
	snprintf(why, sizeof(why), "rate limit of %s reached (0 requests "
	    "left until the reset)", api->host);
	if (api_sleep(api, api->spent_until - now, why, cause) == -1)
		return -1;
	api->spent_until = 0;
	return 0;
}

/* 429: wait Reset, else until ResetDate, else Retry-After, else back off. */
static int
wait_after_429(struct api *api, int n, char **cause)
{
	long long	 secs = ratelimit_wait_429(&api->rate, time(NULL), n,
			    API_BACKOFF_MAX);
	char		 why[256];

	snprintf(why, sizeof(why), "%s answered 429 Too Many Requests (rate "
	    "limit reached)", api->host);
	if (api_sleep(api, secs, why, cause) == -1)
		return -1;
	api->spent_until = 0;
	return 0;
}

/* Wait 1, 2, 4... seconds before retrying after a 5xx or network error. */
static int
backoff(struct api *api, int tries, const char *why, char **cause)
{
	char	 msg[768];

	snprintf(msg, sizeof(msg), "%s; retry %d of %d", why, tries,
	    API_RETRIES);
	return api_sleep(api, 1LL << (tries - 1), msg, cause);
}

/* Sleep secs, saying why on stderr, unless it would pass max_wait. */
static int
api_sleep(struct api *api, long long secs, const char *why, char **cause)
{
	struct timespec	 ts;

	if (api->waited + secs > api->max_wait) {
		cause_printf(cause, "%s; waiting %lld s more would pass --max-wait "
		    "%.0f s (waited %.0f s so far); giving up", why, secs,
		    api->max_wait, api->waited);
		return -1;
	}
	log_warnx("%s; waiting %lld s", why, secs);
	ts.tv_sec = secs;
	ts.tv_nsec = 0;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	api->waited += secs;
	return 0;
}

/* Network errors worth another try; a POST only if nothing was sent. */
static int
net_retryable(CURLcode rc, const struct api_req *r)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return 1;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return r->idempotent;
	default:
		return 0;
	}
}

/* A message for a failed exchange: size, TLS or network. */
static char *
net_error(struct api *api, const struct api_req *r, CURLcode rc)
{
	/* curl's text may quote the server (a certificate's name). */
	const char	*detail = esc(api->errbuf[0] ? api->errbuf :
			    curl_easy_strerror(rc));
	char		*msg = NULL;
	int		 n;

	if (api->body.too_big || rc == CURLE_FILESIZE_EXCEEDED)
		n = asprintf(&msg, "%s %s: the response from %s is larger "
		    "than %d MiB; refused", r->method, r->url, api->host,
		    API_MAX_BODY >> 20);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CONNECT_ERROR ||
	    rc == CURLE_SSL_CERTPROBLEM)
		n = asprintf(&msg, "%s %s: TLS with %s failed: %s (the "
		    "server certificate must be valid for %s and signed by a "
		    "trusted CA or the cloud's ca_file)", r->method, r->url,
		    api->host, detail, api->host);
	else
		n = asprintf(&msg, "%s %s: cannot reach %s: %s", r->method,
		    r->url, api->host, detail);
	if (n == -1)
		fatal("asprintf");
	return msg;
}

/*
 * Parse the answer; a 2xx is success, anything else an error message.  An
 * answer is parsed only if what it would hold fits the bounds (api.h).
 */
static int
finish(struct api *api, const struct api_req *r, struct json_object **env,
    char **cause)
{
	struct json_object	*obj = NULL;
	size_t			 cost = json_cost(api->body.buf, api->body.len);
	int			 fits;

	fits = cost <= API_MAX_ANSWER && cost <= API_MAX_LISTING - api->held;
	if (api->body.len > 0 && fits)
		obj = parse_json(api->body.buf, api->body.len);
	if (api->status < 200 || api->status > 299) {
		http_error(api, r, obj, cause);
		json_object_put(obj);
		return -1;
	}
	if (!fits) {
		too_big(api, r, cost, cause);
		return -1;
	}
	if (api->body.len > 0 && obj == NULL) {
		cause_printf(cause, "%s %s: the response from %s (HTTP %ld) is not "
		    "a JSON object", r->method, r->url, api->host, api->status);
		return -1;
	}
	api->held += cost;
	*env = obj;
	return 0;
}

/* The answer, or the listing with it, would hold too much. */
static void
too_big(struct api *api, const struct api_req *r, size_t cost, char **cause)
{
	if (cost > API_MAX_ANSWER)
		cause_printf(cause, "%s %s: the response from %s would take "
		    "about %zu MiB once parsed, more than the %d MiB allowed "
		    "for one answer; refused", r->method, r->url, api->host,
		    cost >> 20, API_MAX_ANSWER >> 20);
	else
		cause_printf(cause, "%s %s: the listing from %s would take "
		    "more than the %d MiB allowed for one listing (%zu MiB "
		    "held already); refused", r->method, r->url, api->host,
		    API_MAX_LISTING >> 20, api->held >> 20);
}

/*
 * Roughly what json-c takes to hold buf[0..len) once parsed: the text, plus
 * per value what json-c 0.16 allocates on x86-64 (measured: an object about
 * 800 bytes with its hash table, an array 150, a string or a number 80).
 * Counted on the text outside strings, before parsing, so that an answer
 * of "[{},{},...]" is refused before it is built.  A member or an element
 * after the first is counted by its ':' or ','.
 */
static size_t
json_cost(const char *buf, size_t len)
{
	size_t	 cost = len, i;
	int	 in_str = 0;

	for (i = 0; i < len && cost <= API_MAX_LISTING; i++) {
		if (in_str) {
			if (buf[i] == '\\')
				i++;
			else if (buf[i] == '"')
				in_str = 0;
			continue;
		}
		switch (buf[i]) {
		case '"':
			in_str = 1;
			break;
		case '{':
			cost += COST_OBJECT;
			break;
		case '[':
			cost += COST_ARRAY;
			break;
		case ',':
		case ':':
			cost += COST_VALUE;
			break;
		}
	}
	return cost;
}

/* The body as one JSON object, or NULL. */
static struct json_object *
parse_json(const char *buf, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*obj;
	size_t			 end;

	if (len > INT32_MAX || (tok = json_tokener_new()) == NULL)
		return NULL;
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (obj != NULL && (json_tokener_get_error(tok) != json_tokener_success
	    || !json_object_is_type(obj, json_type_object) ||
	    buf[end + strspn(buf + end, " \t\r\n")] != '\0')) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* An error answer as one message, naming the host. */
static void
http_error(struct api *api, const struct api_req *r, struct json_object *env,
    char **cause)
{
	char	*details = error_details(env);

	api->not_found = api->status == 404 ||
	    (api->status == 400 && details_not_found(env));
	if (api->status == 401)
		cause_printf(cause, "the API credentials were rejected by %s "
		    "(HTTP 401%s%s): check client_id and the API key", api->host,
		    details ? ": " : "", details ? details : "");
	else if (api->status == 403)
		cause_printf(cause, "%s refused %s %s (HTTP 403%s%s): the API "
		    "credentials may lack the Read & Write scope", api->host,
		    r->method, r->url, details ? ": " : "",
		    details ? details : "");
	else if (api->status == 429)
		cause_printf(cause, "%s %s: %s answered 429 Too Many Requests too "
		    "often; giving up", r->method, r->url, api->host);
	else
		cause_printf(cause, "%s %s: %s answered HTTP %ld%s%s", r->method,
		    r->url, api->host, api->status, details ? ": " : "",
		    details ? details : " (no JSON error body)");
	free(details);
}

/*
 * "description: detail; detail" from the errors array, or NULL.  Only
 * strings are text: a null, a number or an object is left out.  The text is
 * the server's: escaped (ctl_esc.h).
 */
static char *
error_details(struct json_object *env)
{
	struct json_object	*errs, *e, *d, *x;
	const char		*v;
	char			*out = NULL, *tmp;
	size_t			 i, j, n;

	if (env == NULL || !json_object_object_get_ex(env, "errors", &errs) ||
	    !json_object_is_type(errs, json_type_array))
		return NULL;
	for (i = 0; i < json_object_array_length(errs); i++) {
		e = json_object_array_get_idx(errs, i);
		v = str_of(e, "description");
		xasprintf(&tmp, "%s%s%s", out ? out : "", out ? "; " : "",
		    v ? esc(v) : "error");
		free(out);
		out = tmp;
		if (!json_object_object_get_ex(e, "details", &d) ||
		    !json_object_is_type(d, json_type_array))
			continue;
		for (j = n = 0; j < json_object_array_length(d); j++) {
			x = json_object_array_get_idx(d, j);
			if (!json_object_is_type(x, json_type_string))
				continue;
			xasprintf(&tmp, "%s%s%s", out, n++ ? "; " : ": ",
			    esc(json_object_get_string(x)));
			free(out);
			out = tmp;
		}
	}
	return out;
}

/* o[key] when it is a string, else NULL. */
static const char *
str_of(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Splunk's mock: 400 with a detail "Event stream not found". */
static int
details_not_found(struct json_object *env)
{
	char	*s = error_details(env);
	int	 found;

	found = s != NULL && strcasestr(s, "not found") != NULL;
	free(s);
	return found;
}

/* One request to base_url + path. */
static int
one(struct api *api, const char *method, const char *path,
    struct json_object *body, struct json_object **env, char **cause)
{
	struct api_req	 r;
	char		*url = join_url(api, path);
	int		 rv;

	r.method = method;
	r.url = url;
	r.payload = body ? json_object_to_json_string_ext(body,
	    JSON_C_TO_STRING_PLAIN) : NULL;
	r.idempotent = strcmp(method, "POST") != 0;
	api->held = 0;
	rv = request(api, &r, env, cause);
	free(url);
	return rv;
}

int
api_get(struct api *api, const char *path, struct json_object **env,
    char **cause)
{
	return one(api, "GET", path, NULL, env, cause);
}

int
api_post(struct api *api, const char *path, struct json_object *body,
    struct json_object **env, char **cause)
{
	if (body == NULL)
		body = json_object_new_object();
	else
		json_object_get(body);
	if (body == NULL)
		fatal("json_object_new_object");
	if (one(api, "POST", path, body, env, cause) == -1) {
		json_object_put(body);
		return -1;
	}
	json_object_put(body);
	return 0;
}

int
api_delete(struct api *api, const char *path, struct json_object **env,
    char **cause)
{
	return one(api, "DELETE", path, NULL, env, cause);
}

/* What request() and api_get_all do with an answer, without the network. */
int
api_answer(struct api *api, long status, const char *headers, size_t hlen,
    const char *body, size_t blen, struct json_object **env,
    struct json_object *items, char **next, char **cause)
{
	struct api_req	 r = { "GET", NULL, NULL, 1 };
	const char	*p, *end = headers + hlen, *eol;
	char		*url = join_url(api, "/v1/event_streams");
	int		 rv = -1;

	*env = NULL;
	*next = NULL;
	r.url = url;
	api->held = 0;
	api->not_found = 0;
	api->body.len = 0;
	api->body.too_big = 0;
	api->errbuf[0] = '\0';
	memset(&api->rate, 0, sizeof(api->rate));
	for (p = headers; p < end; p = eol) {
		eol = memchr(p, '\n', (size_t)(end - p));
		eol = eol != NULL ? eol + 1 : end;
		header_cb((char *)p, 1, (size_t)(eol - p), &api->rate);
	}
	if (blen > 0 && write_cb((char *)body, 1, blen, &api->body) != blen) {
		*cause = net_error(api, &r, CURLE_WRITE_ERROR);
		goto out;
	}
	api->status = status;
	note_rate(api, &r, CURLE_OK);
	if (finish(api, &r, env, cause) == -1)
		goto out;
	if (items != NULL && (append_data(items, *env, url, cause) == -1 ||
	    next_link(api, *env, url, next, cause) == -1)) {
		json_object_put(*env);
		*env = NULL;
		goto out;
	}
	rv = 0;
out:
	free(url);
	return rv;
}

static char *
join_url(const struct api *api, const char *path)
{
	char	*url;

	xasprintf(&url, "%s%s%s", api->base, path[0] == '/' ? "" : "/", path);
	return url;
}

int
api_get_all(struct api *api, const char *path, struct json_object **items,
    char **cause)
{
	struct json_object	*all, *env = NULL;
	char			*url = join_url(api, path), *next = NULL;
	struct api_req		 r = { "GET", NULL, NULL, 1 };
	int			 pages;

	if ((all = json_object_new_array()) == NULL)
		fatal("json_object_new_array");
	api->held = 0;
	for (pages = 0; url != NULL; pages++) {
		if (pages == API_MAX_PAGES) {
			cause_printf(cause, "GET %s: more than %d pages; giving up",
			    path, API_MAX_PAGES);
			goto fail;
		}
		r.url = url;
		if (request(api, &r, &env, cause) == -1 ||
		    append_data(all, env, url, cause) == -1 ||
		    next_link(api, env, url, &next, cause) == -1)
			goto fail;
		json_object_put(env);
		env = NULL;
		free(url);
		url = next;
	}
	*items = all;
	return 0;
fail:
	json_object_put(env);
	json_object_put(all);
	free(url);
	return -1;
}

/* Add the items of one page's data array to all. */
static int
append_data(struct json_object *all, struct json_object *env, const char *url,
    char **cause)
{
	struct json_object	*data;
	size_t			 i;

	if (env == NULL || !json_object_object_get_ex(env, "data", &data) ||
	    !json_object_is_type(data, json_type_array)) {
		cause_printf(cause, "GET %s: the response has no \"data\" list",
		    url);
		return -1;
	}
	for (i = 0; i < json_object_array_length(data); i++)
		json_object_array_add(all,
		    json_object_get(json_object_array_get_idx(data, i)));
	return 0;
}

/* metadata.links.next, if any: it must stay on our https host and port. */
static int
next_link(struct api *api, struct json_object *env, const char *url,
    char **next, char **cause)
{
	struct json_object	*meta, *links, *n;
	const char		*s;

	*next = NULL;
	if (!json_object_object_get_ex(env, "metadata", &meta) ||
	    !json_object_object_get_ex(meta, "links", &links) ||
	    !json_object_object_get_ex(links, "next", &n) ||
	    !json_object_is_type(n, json_type_string))
		return 0;
	s = json_object_get_string(n);
	/* Printable ASCII only, as a URL is: it is printed and logged. */
	if (s[strspn(s, URL_CHARS)] != '\0') {
		cause_printf(cause, "GET %s: the next page link \"%s\" is not "
		    "a plain URL (a control or non-ASCII character); refused",
		    url, esc(s));
		return -1;
	}
	if (!same_origin(api, s)) {
		cause_printf(cause, "GET %s: the next page link \"%s\" leaves "
		    "https://%s:%s; refused", url, s, api->host, api->port);
		return -1;
	}
	if (strcmp(s, url) == 0) {
		cause_printf(cause, "GET %s: the next page link points to the "
		    "same page; refused", url);
		return -1;
	}
	*next = xstrdup(s);
	return 0;
}

/* Same scheme (https), host and port as base_url, and no user info. */
static int
same_origin(const struct api *api, const char *url)
{
	CURLU	*u = curl_url();
	char	*scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	int	 same = 0;

	if (u == NULL)
		fatal("curl_url");
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK &&
	    curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_OK)
		same = strcasecmp(scheme, "https") == 0 &&
		    strcasecmp(host, api->host) == 0 &&
		    strcmp(port, api->port) == 0;
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return same;
}
