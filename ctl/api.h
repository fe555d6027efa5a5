/*
 * api.h: a client of the AMP for Endpoints REST API v1 (libcurl).
 *
 * HTTPS only, peer and host verification always on, TLS 1.2 or later.  An
 * optional ca_file is added to the system trust store (not a replacement).
 * HTTP Basic auth with client_id:api_key; the key is never printed.
 *
 * Every call parses the JSON envelope (version, metadata, data, errors) and
 * honours the rate-limit headers in both spellings (X-Rate-Limit-* as
 * documented, X-RateLimit-* and X-RateLimit-ResetDate as sent): when the
 * budget is spent it waits for the reset (saying so on stderr) before the
 * next request, and a 429 is retried after the reset.  5xx answers and
 * network errors are retried a few times with backoff.  All waiting together
 * is bounded by max_wait seconds.  A body over API_MAX_BODY bytes or one that
 * is not JSON is an error, and so is an answer that would take more than
 * API_MAX_ANSWER bytes once parsed, or a listing more than API_MAX_LISTING.
 *
 * Functions returning int return 0 on success, or -1 with *cause set to a
 * malloc'd message for the caller to report (the caller frees it).
 */
#ifndef AMPSTREAM_API_H
#define AMPSTREAM_API_H

#include <json-c/json.h>

#define API_MAX_BODY	(16 * 1024 * 1024)	/* bytes, after decompression */
#define API_MAX_PAGES	1000			/* pages followed per listing */

/*
 * What an answer, and a listing (all its pages together), may hold in
 * memory once parsed, as estimated from the text before parsing (api.c
 * json_cost): json-c takes 10 to 260 times the text ("[{},{},...]"), so
 * API_MAX_BODY alone does not bound it, and 1000 pages of 16 MiB would be
 * 16 GiB of text.  The largest real page, 500 groups, is about 1.4 MiB by
 * the estimate (2.7 KiB a group), so 16 MiB an answer leaves ten times
 * that, and 64 MiB a listing holds some 24,000 groups, far more than an
 * organization has; with the 16 MiB receive buffer, whatever a server
 * sends, ampstreamctl stays under about 100 MiB.
 */
#define API_MAX_ANSWER	(16 * 1024 * 1024)	/* bytes, one answer parsed */
#define API_MAX_LISTING	(64 * 1024 * 1024)	/* bytes, a whole listing */
#define API_MAX_WAIT	300			/* default max_wait, seconds */

struct api;

struct api_opts {
	const char	*base_url;	/* "https://api.amp.cisco.com" */
	const char	*client_id;
	const char	*api_key;	/* the secret; copied */
	const char	*ca_file;	/* extra trust anchor, or NULL */
	int		 max_wait;	/* seconds of waiting allowed in total */
	const char	*resolve;	/* "HOST:PORT:ADDRESS" as curl --resolve,
					   or NULL */
};

struct api	*api_new(const struct api_opts *, char **cause);
void		 api_free(struct api *);

/* The API host name, as in base_url ("api.eu.amp.cisco.com"). */
const char	*api_host(const struct api *);

/* "NA", "EU", "APJC" for the public API hosts, else "private". */
const char	*api_region(const char *host);

/*
 * One request to path ("/v1/version"; relative to base_url).  On success
 * *envelope is the parsed response object (NULL for an empty 2xx body, such
 * as a 204); the caller puts it.  body may be NULL (it is sent as JSON).
 */
int	api_get(struct api *, const char *path, struct json_object **envelope,
	    char **cause);
int	api_post(struct api *, const char *path, struct json_object *body,
	    struct json_object **envelope, char **cause);
int	api_delete(struct api *, const char *path,
	    struct json_object **envelope, char **cause);

/*
 * GET path, then every page named by metadata.links.next (which must stay on
 * the same https host and port), at most API_MAX_PAGES pages.  *items is a
 * new array holding every page's data items, in order.
 */
int	api_get_all(struct api *, const char *path, struct json_object **items,
	    char **cause);

/*
 * After a failed call: 1 if the API said the resource does not exist (404,
 * or 400 whose details say "not found"), else 0.
 */
int	api_not_found(const struct api *);

/*
 * For tests/fuzz: take an answer to a GET of a listing as if it had just
 * come over the network, without a request or any wait: the header lines
 * (as libcurl hands them over, "HTTP/1.1 200 OK\r\n" first), the status
 * and the body go through what a real answer does (rate-limit headers, body
 * bound, envelope or error message, as api_get: *envelope; nothing held
 * before counts towards API_MAX_LISTING); then, unless
 * items is NULL, the page's data items are appended to items and its next
 * page link is put in *next (or NULL), as api_get_all does for each page.
 * On -1, *envelope and *next are NULL.
 */
int	api_answer(struct api *, long status, const char *headers, size_t hlen,
	    const char *body, size_t blen, struct json_object **envelope,
	    struct json_object *items, char **next, char **cause);

#endif
