/*
 * groups.c: group names and computer details from each cloud's REST API,
 * cached (see groups.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <json.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "esc.h"
#include "groups.h"
#include "log.h"
#include "ratelimit.h"
#include "xmalloc.h"

#define GROUPS_PAGE		500		/* the API's largest limit */
#define GROUPS_MAX_BODY		(8 * 1024 * 1024)	/* one page */
#define GROUPS_FAIL_MIN		60		/* s, doubling to the hour */
#define GROUPS_RESERVE_PCT	10		/* of a window, left to others */
#define GROUPS_NAME_MAX		256		/* bytes kept of a name */

/* The listings a cloud is asked for, in the order of a refresh. */
enum glist { GL_GROUPS, GL_COMPUTERS, GL_COUNT };

static const struct {
	const char	*path;
	const char	*key;		/* the member holding the GUID */
	const char	*noun;		/* for the log */
} glists[GL_COUNT] = {
	{ "/v1/groups", "guid", "group names" },
	{ "/v1/computers", "connector_guid", "computers" },
};

/* A group: v[0] its name.  A computer: v[0] its policy's name, v[1] its
 * isolation status (either may be NULL). */
struct gentry {
	char		*guid;
	char		*v[2];
};

/* One listing's cache (sorted by guid) and the listing being read. */
struct gcache {
	struct gentry	*cache, *next;
	size_t		 ncache, nnext, capnext;
	bool		 done;		/* listed whole once */
};

/* One cloud's client and cache. */
struct gcloud {
	struct groups		*g;
	const struct cloud_conf	*conf;
	size_t			 index;		/* in the config's clouds */
	CURL			*easy;		/* a request under way, or NULL */
	struct curl_slist	*hdrs;
	struct buf		 body;
	struct ratelimit	 rl;
	char			 errbuf[CURL_ERROR_SIZE];
	struct gcache		 lists[GL_COUNT];
	unsigned		 enabled;	/* 1 << enum glist: configured */
	unsigned		 plan;		/* the listings left this refresh */
	enum glist		 cur;		/* the one being read */
	size_t			 offset;
	struct event		*timer;		/* the next request */
	time_t			 last;		/* monotonic: last refresh began */
	time_t			 last_full;	/* ... that lists everything */
	bool			 listed;	/* a full refresh has begun */
	int			 fails;
	bool			 want;		/* an unknown GUID was seen */
	bool			 limited;	/* waiting for the rate limit */
	struct groups_stats	 st;
};

struct groups {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*curl_timer;
	struct gcloud		*clouds;	/* by config index; conf NULL: none */
	size_t			 nclouds;
};

/* What libcurl asked us to watch on one of its sockets. */
struct gsock {
	struct event		*ev;
};

static struct groups *groups_build(struct event_base *, const struct config *);
static bool	gcloud_same(const struct gcloud *, const struct gcloud *);
static void	gcloud_take(struct gcloud *, struct gcloud *);
static void	groups_start(struct gcloud *, int delay_s);
static void	groups_request(int, short, void *);
static void	groups_done(struct gcloud *, CURLcode);
static int	groups_page(struct gcloud *, char **);
static void	groups_item(struct gcloud *, struct json_object *);
static void	groups_finish(struct gcloud *);
static void	groups_next(struct gcloud *, long wait);
static struct gcloud *groups_cloud(struct groups *, const struct cloud_conf *);
static const struct gentry *groups_find(const struct gcloud *, enum glist,
		    const char *);
static char	*member_str(struct json_object *, const char *,
		    const char *);
static void	groups_failed(struct gcloud *, const char *, long);
static void	groups_check(struct groups *);
static int	groups_sock_cb(CURL *, curl_socket_t, int, void *, void *);
static void	groups_sock_ev(int, short, void *);
static int	groups_timer_cb(CURLM *, long, void *);
static void	groups_timer_ev(int, short, void *);
static size_t	groups_write(char *, size_t, size_t, void *);
static size_t	groups_header(char *, size_t, size_t, void *);
static CURLcode	groups_ssl_ctx(CURL *, void *, void *);
static void	name_cut(char *);
static int	gentry_cmp(const void *, const void *);
static void	gentries_free(struct gentry *, size_t);

/* The clients, not started yet. */
static struct groups *
groups_build(struct event_base *base, const struct config *cfg)
{
	struct groups	*g;
	struct gcloud	*c;
	size_t		 i, k;

	g = xcalloc(1, sizeof(*g));
	g->base = base;
	g->nclouds = cfg->nclouds;
	g->clouds = xcalloc(cfg->nclouds + 1, sizeof(*g->clouds));
	if ((g->multi = curl_multi_init()) == NULL ||
	    (g->curl_timer = evtimer_new(base, groups_timer_ev, g)) == NULL)
		fatalx("%s: curl_multi_init", __func__);
	curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, groups_sock_cb);
	curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g);
	curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, groups_timer_cb);
	curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g);
	/* Only the clouds some stream takes events from. */
	for (k = 0; k < cfg->nstreams; k++) {
		if (cfg->streams[k].cloud == NULL)
			continue;
		for (i = 0; i < cfg->nclouds; i++)
			if (strcmp(cfg->clouds[i].name,
			    cfg->streams[k].cloud) == 0)
				break;
		if (i == cfg->nclouds || g->clouds[i].conf != NULL ||
		    (!cfg->clouds[i].group_names &&
		    !cfg->clouds[i].computer_details))
			continue;
		c = &g->clouds[i];
		c->g = g;
		c->enabled = (cfg->clouds[i].group_names ? 1u << GL_GROUPS :
		    0) | (cfg->clouds[i].computer_details ?
		    1u << GL_COMPUTERS : 0);
		c->conf = &cfg->clouds[i];
		c->index = i;
		buf_init(&c->body, GROUPS_MAX_BODY);
		if ((c->timer = evtimer_new(base, groups_request, c)) == NULL)
			fatalx("%s: evtimer_new", __func__);
	}
	return g;
}

struct groups *
groups_new(struct event_base *base, const struct config *cfg)
{
	struct groups	*g = groups_build(base, cfg);
	size_t		 i;

	for (i = 0; i < g->nclouds; i++)
		if (g->clouds[i].conf != NULL)
			groups_start(&g->clouds[i], 0);
	return g;
}

/*
 * A reload: a cloud asked with the same URL, credentials and listings
 * keeps its caches and its schedule (a reload must not spend the rate
 * limit again); the others start afresh.  old is freed.
 */
struct groups *
groups_renew(struct groups *old, struct event_base *base,
    const struct config *cfg)
{
	struct groups	*g = groups_build(base, cfg);
	struct gcloud	*c, *o;
	size_t		 i, j;

	for (i = 0; i < g->nclouds; i++) {
		if ((c = &g->clouds[i])->conf == NULL)
			continue;
		o = NULL;
		for (j = 0; old != NULL && j < old->nclouds && o == NULL; j++)
			if (old->clouds[j].conf != NULL &&
			    gcloud_same(&old->clouds[j], c))
				o = &old->clouds[j];
		if (o == NULL)
			groups_start(c, 0);
		else
			gcloud_take(c, o);
	}
	groups_free(old);
	return g;
}

static bool
gcloud_same(const struct gcloud *a, const struct gcloud *b)
{
	const struct cloud_conf *x = a->conf, *y = b->conf;

	return a->enabled == b->enabled && strcmp(x->name, y->name) == 0 &&
	    strcmp(x->api_url, y->api_url) == 0 &&
	    strcmp(x->client_id, y->client_id) == 0 &&
	    strcmp(x->api_key, y->api_key) == 0 &&
	    (x->ca_file == NULL) == (y->ca_file == NULL) &&
	    (x->ca_file == NULL || strcmp(x->ca_file, y->ca_file) == 0);
}

/* c takes o's caches, counters and next request time (o keeps none). */
static void
gcloud_take(struct gcloud *c, struct gcloud *o)
{
	struct timeval	 due, now;
	long		 wait = 0;
	size_t		 k;

	for (k = 0; k < GL_COUNT; k++) {
		c->lists[k].cache = o->lists[k].cache;
		c->lists[k].ncache = o->lists[k].ncache;
		c->lists[k].done = o->lists[k].done;
		o->lists[k].cache = NULL;
		o->lists[k].ncache = 0;
	}
	c->st = o->st;
	c->last = o->last;
	c->last_full = o->last_full;
	c->listed = o->listed;
	c->fails = o->fails;
	c->limited = o->limited;
	/* A listing cut short starts again now; else the old timer's time. */
	if (o->plan == 0 && o->easy == NULL &&
	    evtimer_pending(o->timer, &due) &&
	    event_base_gettimeofday_cached(o->g->base, &now) == 0 &&
	    (wait = (long)(due.tv_sec - now.tv_sec)) < 0)
		wait = 0;
	groups_start(c, (int)wait);
}

void
groups_free(struct groups *g)
{
	struct gcloud	*c;
	size_t		 i, k;

	if (g == NULL)
		return;
	for (i = 0; i < g->nclouds; i++) {
		c = &g->clouds[i];
		if (c->conf == NULL)
			continue;
		if (c->easy != NULL) {
			curl_multi_remove_handle(g->multi, c->easy);
			curl_easy_cleanup(c->easy);
		}
		curl_slist_free_all(c->hdrs);
		event_free(c->timer);
		buf_free(&c->body);
		for (k = 0; k < GL_COUNT; k++) {
			gentries_free(c->lists[k].cache, c->lists[k].ncache);
			gentries_free(c->lists[k].next, c->lists[k].nnext);
		}
	}
	curl_multi_cleanup(g->multi);
	event_free(g->curl_timer);
	free(g->clouds);
	free(g);
}

const char *
groups_name(struct groups *g, const struct cloud_conf *cloud,
    const char *guid)
{
	struct gcloud		*c;
	const struct gentry	*e;

	if (guid == NULL || (c = groups_cloud(g, cloud)) == NULL ||
	    !(c->enabled & (1u << GL_GROUPS)))
		return NULL;
	if ((e = groups_find(c, GL_GROUPS, guid)) != NULL)
		return e->v[0];
	/* Unknown: ask again soon, unless the limits said to wait. */
	if (!c->want && c->easy == NULL && c->plan == 0 &&
	    clock_mono_s() - c->last >= GROUPS_MISS_SEC && c->fails == 0 &&
	    !c->limited) {
		c->want = true;
		groups_start(c, 0);
	}
	return NULL;
}

void
groups_computer(struct groups *g, const struct cloud_conf *cloud,
    const char *connector_guid, const char **policy, const char **isolation)
{
	struct gcloud		*c;
	const struct gentry	*e = NULL;

	if (connector_guid != NULL && (c = groups_cloud(g, cloud)) != NULL)
		e = groups_find(c, GL_COMPUTERS, connector_guid);
	*policy = e != NULL ? e->v[0] : NULL;
	*isolation = e != NULL ? e->v[1] : NULL;
}

static struct gcloud *
groups_cloud(struct groups *g, const struct cloud_conf *cloud)
{
	size_t	 i;

	if (g == NULL || cloud == NULL)
		return NULL;
	for (i = 0; i < g->nclouds; i++)
		if (g->clouds[i].conf == cloud)
			return &g->clouds[i];
	return NULL;
}

static const struct gentry *
groups_find(const struct gcloud *c, enum glist l, const char *guid)
{
	struct gentry	 key;

	if (c->lists[l].ncache == 0)
		return NULL;
	key.guid = (char *)guid;
	return bsearch(&key, c->lists[l].cache, c->lists[l].ncache,
	    sizeof(key), gentry_cmp);
}

const struct groups_stats *
groups_stats(const struct groups *g, size_t i)
{
	if (g == NULL || i >= g->nclouds || g->clouds[i].conf == NULL)
		return NULL;
	return &g->clouds[i].st;
}

static void
groups_start(struct gcloud *c, int delay_s)
{
	struct timeval	 tv = { delay_s, 0 };

	evtimer_add(c->timer, &tv);
}

/* The timer: the next page of a listing (the first starts one). */
static void
groups_request(int fd __unused, short ev __unused, void *arg)
{
	struct gcloud	*c = arg;
	const char	*base = c->conf->api_url;
	size_t		 blen = strlen(base);
	char		*url;
	struct gcache	*l;
	time_t		 now = clock_mono_s();

	if (c->easy != NULL)
		return;
	/* A refresh lists everything hourly, only the groups on a miss. */
	if (c->plan == 0) {
		c->plan = c->enabled;
		if (c->listed && now - c->last_full < GROUPS_REFRESH_SEC)
			c->plan &= 1u << GL_GROUPS;
		if (c->plan == 0) {
			groups_next(c, 0);
			return;
		}
		if (c->plan == c->enabled) {
			c->last_full = now;
			c->listed = true;
		}
		c->last = now;
		c->cur = (c->plan & (1u << GL_GROUPS)) ? GL_GROUPS :
		    GL_COMPUTERS;
		c->offset = 0;
	}
	l = &c->lists[c->cur];
	if (c->offset == 0) {
		gentries_free(l->next, l->nnext);
		l->next = NULL;
		l->nnext = l->capnext = 0;
	}
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	xasprintf(&url, "%.*s%s?limit=%d&offset=%zu", (int)blen, base,
	    glists[c->cur].path, GROUPS_PAGE, c->offset);
	if ((c->easy = curl_easy_init()) == NULL)
		fatalx("%s: curl_easy_init", __func__);
	buf_reset(&c->body);
	memset(&c->rl, 0, sizeof(c->rl));
	c->errbuf[0] = '\0';
	if (c->hdrs == NULL)
		c->hdrs = curl_slist_append(NULL, "Accept: application/json");
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c->easy, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c->easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
	curl_easy_setopt(c->easy, CURLOPT_USERNAME, c->conf->client_id);
	curl_easy_setopt(c->easy, CURLOPT_PASSWORD, c->conf->api_key);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, groups_write);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, groups_header);
	curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	if (c->conf->ca_file != NULL) {
		curl_easy_setopt(c->easy, CURLOPT_SSL_CTX_FUNCTION,
		    groups_ssl_ctx);
		curl_easy_setopt(c->easy, CURLOPT_SSL_CTX_DATA, c);
	}
	free(url);
	curl_multi_add_handle(c->g->multi, c->easy);
}

/* A request ended: the next page, the listing done, or a wait. */
static void
groups_done(struct gcloud *c, CURLcode rc)
{
	long		 status = 0, reset, wait = 0;
	int		 more;
	char		*cause = NULL;

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		groups_failed(c, c->errbuf[0] ? c->errbuf :
		    curl_easy_strerror(rc), 0);
		return;
	}
	if (status == 429) {
		c->st.failures++;
		c->limited = true;
		wait = ratelimit_wait_429(&c->rl, time(NULL), ++c->fails,
		    GROUPS_REFRESH_SEC);
		log_warnx("groups: cloud %s: GET %s: 429 Too Many Requests, "
		    "next try in %ld s", c->conf->name, glists[c->cur].path,
		    wait);
		groups_start(c, (int)wait);
		return;
	}
	if (status != 200 || (more = groups_page(c, &cause)) == -1) {
		groups_failed(c, cause, status);
		free(cause);
		return;
	}
	/* Leave the end of each window's budget to ampstreamctl and admins. */
	c->limited = false;
	if (c->rl.has[RL_LIMIT] && c->rl.has[RL_REMAINING] &&
	    c->rl.v[RL_REMAINING] * 100 <= c->rl.v[RL_LIMIT] *
	    GROUPS_RESERVE_PCT && (reset = ratelimit_reset_in(&c->rl,
	    time(NULL))) > 0) {
		c->limited = true;
		wait = reset + 1;
	}
	if (more) {
		groups_start(c, (int)wait);
		return;
	}
	groups_finish(c);
	groups_next(c, wait);
}

/* The next listing of this refresh, else the next full refresh. */
static void
groups_next(struct gcloud *c, long wait)
{
	long	 due;

	if (c->plan & (1u << GL_COMPUTERS)) {
		c->cur = GL_COMPUTERS;
		c->offset = 0;
		groups_start(c, (int)wait);
		return;
	}
	due = (long)(c->last_full + GROUPS_REFRESH_SEC - clock_mono_s());
	groups_start(c, (int)(wait > due ? wait : due > 0 ? due : 0));
}

/*
 * One page of the listing into c->next: 1 when more pages follow, 0 at the
 * end, -1 (and *cause) when it is not what the API sends.
 */
static int
groups_page(struct gcloud *c, char **cause)
{
	struct json_object *env, *data, *md, *res, *tot;
	struct json_tokener *tok;
	struct gcache	*l = &c->lists[c->cur];
	size_t		 i, n, total = 0;

	if (c->body.len == 0 || c->body.len >= GROUPS_MAX_BODY) {
		xasprintf(cause, "answer of %zu bytes", c->body.len);
		return -1;
	}
	if ((tok = json_tokener_new()) == NULL)
		fatalx("%s: json_tokener_new", __func__);
	env = json_tokener_parse_ex(tok, c->body.data, (int)c->body.len);
	json_tokener_free(tok);
	if (env == NULL || !json_object_object_get_ex(env, "data", &data) ||
	    !json_object_is_type(data, json_type_array)) {
		json_object_put(env);
		xasprintf(cause, "answer without a data array");
		return -1;
	}
	n = json_object_array_length(data);
	for (i = 0; i < n && l->nnext < GROUPS_MAX; i++)
		groups_item(c, json_object_array_get_idx(data, i));
	if (json_object_object_get_ex(env, "metadata", &md) &&
	    json_object_object_get_ex(md, "results", &res) &&
	    json_object_object_get_ex(res, "total", &tot))
		total = (size_t)json_object_get_int64(tot);
	json_object_put(env);
	c->offset += n;
	return n > 0 && c->offset < total && l->nnext < GROUPS_MAX &&
	    c->offset / GROUPS_PAGE < GROUPS_MAX / GROUPS_PAGE;
}

/* One item of a listing into its cache (skipped without a GUID or value). */
static void
groups_item(struct gcloud *c, struct json_object *it)
{
	struct gcache	*l = &c->lists[c->cur];
	struct gentry	 e;

	memset(&e, 0, sizeof(e));
	if (c->cur == GL_GROUPS)
		e.v[0] = member_str(it, "name", NULL);
	else {
		e.v[0] = member_str(it, "policy", "name");
		e.v[1] = member_str(it, "isolation", "status");
	}
	if ((e.v[0] == NULL && e.v[1] == NULL) ||
	    (e.guid = member_str(it, glists[c->cur].key, NULL)) == NULL) {
		free(e.v[0]);
		free(e.v[1]);
		return;
	}
	if (l->nnext == l->capnext) {	/* doubling: a fleet is 100k items */
		l->capnext = l->capnext == 0 ? 64 : l->capnext * 2;
		l->next = xreallocarray(l->next, l->capnext, sizeof(*l->next));
	}
	l->next[l->nnext++] = e;
}

/* it.key (or it.key.sub) when a string: a copy cut to GROUPS_NAME_MAX. */
static char *
member_str(struct json_object *it, const char *key, const char *sub)
{
	struct json_object	*v;
	char			*s;

	if (!json_object_object_get_ex(it, key, &v) ||
	    (sub != NULL && !json_object_object_get_ex(v, sub, &v)) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = xstrndup(json_object_get_string(v), GROUPS_NAME_MAX);
	name_cut(s);
	return s;
}

/* The listing is whole: it becomes the cache. */
static void
groups_finish(struct gcloud *c)
{
	struct gcache	*l = &c->lists[c->cur];
	size_t		 before = l->ncache;
	bool		 first = !l->done;

	qsort(l->next, l->nnext, sizeof(*l->next), gentry_cmp);
	gentries_free(l->cache, l->ncache);
	l->cache = l->nnext > 0 ? xreallocarray(l->next, l->nnext,
	    sizeof(*l->next)) : l->next;	/* no spare room kept */
	l->ncache = l->nnext;
	l->next = NULL;
	l->nnext = l->capnext = 0;
	c->offset = 0;
	c->fails = 0;
	c->plan &= ~(1u << c->cur);
	l->done = true;
	c->st.refreshes++;
	c->st.refreshed = time(NULL);
	if (c->cur == GL_GROUPS) {
		c->want = false;
		c->st.entries = l->ncache;
	} else
		c->st.computers = l->ncache;
	if (first || before != l->ncache)
		log_info("groups: cloud %s: %zu %s", c->conf->name, l->ncache,
		    glists[c->cur].noun);
}

/* Start the listing again after 1, 2, 4 ... minutes, at most an hour. */
static void
groups_failed(struct gcloud *c, const char *why, long status)
{
	char	 safe[ESC_SIZE(200)];
	int	 wait;

	c->st.failures++;
	c->fails++;
	c->offset = 0;
	wait = c->fails < 7 ? GROUPS_FAIL_MIN << (c->fails - 1) :
	    GROUPS_REFRESH_SEC;
	if (wait > GROUPS_REFRESH_SEC)
		wait = GROUPS_REFRESH_SEC;
	esc_peer(safe, sizeof(safe), why != NULL ? why : "", why != NULL ?
	    strnlen(why, 200) : 0);
	if (status != 0 && status != 200)
		log_warnx("groups: cloud %s: GET %s: HTTP %ld%s%s; %s wait, "
		    "next try in %d s", c->conf->name, glists[c->cur].path,
		    status, why != NULL ? ": " : "", safe, glists[c->cur].noun,
		    wait);
	else
		log_warnx("groups: cloud %s: GET %s: %s; %s wait, next try in "
		    "%d s", c->conf->name, glists[c->cur].path, safe,
		    glists[c->cur].noun, wait);
	groups_start(c, wait);
}

/* A name cut at GROUPS_NAME_MAX bytes ends on a whole UTF-8 character. */
static void
name_cut(char *s)
{
	size_t		 len = strlen(s), i, need;
	unsigned char	 lead;

	if (len < GROUPS_NAME_MAX)
		return;
	for (i = len - 1; i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80; i--)
		;
	lead = (unsigned char)s[i];
	need = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	if (i + need > len)
		s[i] = '\0';
}

static int
gentry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gentry *)a)->guid,
	    ((const struct gentry *)b)->guid);
}

static void
gentries_free(struct gentry *e, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(e[i].guid);
		free(e[i].v[0]);
		free(e[i].v[1]);
	}
	free(e);
}

/* Every finished transfer goes to its cloud. */
static void
groups_check(struct groups *g)
{
	struct gcloud	*c;
	CURLMsg		*m;
	CURL		*easy;
	int		 left;

	while ((m = curl_multi_info_read(g->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		easy = m->easy_handle;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&c);
		groups_done(c, m->data.result);
		curl_multi_remove_handle(g->multi, easy);
		curl_easy_cleanup(easy);
		c->easy = NULL;
	}
}

/* libcurl's sockets and timer, on the loop. */
static int
groups_sock_cb(CURL *easy __unused, curl_socket_t s, int what, void *arg,
    void *sockp)
{
	struct groups	*g = arg;
	struct gsock	*gs = sockp;
	short		 flags;

	if (what == CURL_POLL_REMOVE) {
		if (gs != NULL) {
			event_free(gs->ev);
			free(gs);
		}
		curl_multi_assign(g->multi, s, NULL);
		return 0;
	}
	flags = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (gs == NULL) {
		gs = xcalloc(1, sizeof(*gs));
		curl_multi_assign(g->multi, s, gs);
	} else
		event_free(gs->ev);
	if ((gs->ev = event_new(g->base, s, flags, groups_sock_ev, g)) == NULL)
		fatalx("%s: event_new", __func__);
	event_add(gs->ev, NULL);
	return 0;
}

static void
groups_sock_ev(int fd, short what, void *arg)
{
	struct groups	*g = arg;
	int		 running;

	curl_multi_socket_action(g->multi, fd, ((what & EV_READ) ?
	    CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0),
	    &running);
	groups_check(g);
}

static int
groups_timer_cb(CURLM *multi __unused, long ms, void *arg)
{
	struct groups	*g = arg;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	if (ms < 0)
		evtimer_del(g->curl_timer);
	else
		evtimer_add(g->curl_timer, &tv);
	return 0;
}

static void
groups_timer_ev(int fd __unused, short ev __unused, void *arg)
{
	struct groups	*g = arg;
	int		 running;

	curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	groups_check(g);
}

/* The body, bounded (past the bound the transfer fails). */
static size_t
groups_write(char *data, size_t size, size_t n, void *arg)
{
	struct gcloud	*c = arg;
	size_t		 len = size * n;

	if (len > GROUPS_MAX_BODY - c->body.len)
		return 0;
	buf_append(&c->body, data, len);
	return len;
}

static size_t
groups_header(char *line, size_t size, size_t n, void *arg)
{
	struct gcloud	*c = arg;

	ratelimit_line(&c->rl, line, size * n);
	return size * n;
}

/* A cloud's ca_file is added to the system's trust anchors. */
static CURLcode
groups_ssl_ctx(CURL *curl __unused, void *sslctx, void *arg)
{
	struct gcloud	*c = arg;
	X509_STORE	*store = SSL_CTX_get_cert_store(sslctx);

	if (store == NULL || X509_STORE_load_file(store, c->conf->ca_file) != 1)
		return CURLE_SSL_CACERT_BADFILE;
	return CURLE_OK;
}
