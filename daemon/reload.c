/* reload.c: pair the parts of two configurations (see reload.h). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "reload.h"
#include "xmalloc.h"

static size_t	*pair(size_t, size_t, size_t *, const void *, const void *,
		    bool (*)(const void *, const void *, size_t, size_t));
static bool	 same_stream(const void *, const void *, size_t, size_t);
static bool	 same_sink(const void *, const void *, size_t, size_t);
static void	 log_names(struct buf *, const char *, const struct config *,
		    const size_t *, const size_t *, const struct config *,
		    bool);
static bool	 has_name(const struct config *, const char *, const char *);

struct reload_plan *
reload_plan_new(const struct config *old, const struct config *new)
{
	struct reload_plan *p;
	size_t	 j;

	p = xcalloc(1, sizeof(*p));
	p->nold_streams = old->nstreams;
	p->full = strcmp(old->state_dir, new->state_dir) != 0 ||
	    old->max_handshakes != new->max_handshakes;
	p->stream_to = xcalloc(old->nstreams + 1, sizeof(size_t));
	p->sink_to = xcalloc(old->nsinks + 1, sizeof(size_t));
	memset(p->stream_to, 0xff, (old->nstreams + 1) * sizeof(size_t));
	memset(p->sink_to, 0xff, (old->nsinks + 1) * sizeof(size_t));
	p->stream_from = pair(new->nstreams, old->nstreams, p->stream_to,
	    new, old, same_stream);
	p->sink_from = pair(new->nsinks, old->nsinks, p->sink_to, new, old,
	    same_sink);
	if (p->full) {		/* pair nothing, but keep the arrays */
		memset(p->stream_to, 0xff, old->nstreams * sizeof(size_t));
		memset(p->sink_to, 0xff, old->nsinks * sizeof(size_t));
		memset(p->stream_from, 0xff, new->nstreams * sizeof(size_t));
		memset(p->sink_from, 0xff, new->nsinks * sizeof(size_t));
	}
	for (j = 0; j < new->nstreams; j++)
		p->kept_streams += p->stream_from[j] != RELOAD_NONE;
	for (j = 0; j < new->nsinks; j++)
		p->kept_sinks += p->sink_from[j] != RELOAD_NONE;
	p->corr_same = !p->full && config_corr_same(&old->correlation,
	    &new->correlation);
	p->metrics_same = !p->full && config_metrics_same(&old->metrics,
	    &new->metrics);
	return p;
}

void
reload_plan_free(struct reload_plan *p)
{
	if (p == NULL)
		return;
	free(p->stream_from);
	free(p->stream_to);
	free(p->sink_from);
	free(p->sink_to);
	free(p);
}

/* from[j]: the old part that new part j keeps (names are unique). */
static size_t *
pair(size_t nnew, size_t nold, size_t *to, const void *new, const void *old,
    bool (*same)(const void *, const void *, size_t, size_t))
{
	size_t	*from, i, j;

	from = xcalloc(nnew + 1, sizeof(*from));
	for (j = 0; j < nnew; j++) {
		from[j] = RELOAD_NONE;
		for (i = 0; i < nold; i++)
			if (same(new, old, j, i)) {
				from[j] = i;
				to[i] = j;
				break;
			}
	}
	return from;
}

static bool
same_stream(const void *new, const void *old, size_t j, size_t i)
{
	const struct stream_conf *a = &((const struct config *)new)->streams[j];
	const struct stream_conf *b = &((const struct config *)old)->streams[i];

	return strcmp(a->name, b->name) == 0 && config_stream_same(a, b);
}

static bool
same_sink(const void *new, const void *old, size_t j, size_t i)
{
	const struct sink_conf *a = &((const struct config *)new)->sinks[j];
	const struct sink_conf *b = &((const struct config *)old)->sinks[i];

	return strcmp(a->name, b->name) == 0 && config_sink_same(a, b);
}

void
reload_plan_log(const struct reload_plan *p, const struct config *old,
    const struct config *new)
{
	struct buf	 b;

	if (p->full) {
		log_info("reload: state_dir or max_handshakes changed: "
		    "restarting every stream and sink");
		return;
	}
	buf_init(&b, 0);
	buf_printf(&b, "reload: keeping %zu of %zu streams and %zu of %zu "
	    "sinks", p->kept_streams, new->nstreams, p->kept_sinks,
	    new->nsinks);
	log_names(&b, "replacing", old, p->stream_to, p->sink_to, new, true);
	log_names(&b, "stopping", old, p->stream_to, p->sink_to, new, false);
	log_names(&b, "starting", new, p->stream_from, p->sink_from, old,
	    false);
	log_info("%s", b.data);
	buf_free(&b);
}

/*
 * "; VERB stream a, sink b": the parts of cfg the plan does not keep whose
 * name other has (named true) or has not.
 */
static void
log_names(struct buf *b, const char *verb, const struct config *cfg,
    const size_t *streams, const size_t *sinks, const struct config *other,
    bool named)
{
	const char	*kind, *name;
	size_t		 i, n;
	bool		 any = false;

	n = cfg->nstreams + cfg->nsinks;
	for (i = 0; i < n; i++) {
		if (i < cfg->nstreams) {
			if (streams[i] != RELOAD_NONE)
				continue;
			kind = "stream";
			name = cfg->streams[i].name;
		} else {
			if (sinks[i - cfg->nstreams] != RELOAD_NONE)
				continue;
			kind = "sink";
			name = cfg->sinks[i - cfg->nstreams].name;
		}
		if (has_name(other, kind, name) != named)
			continue;
		if (!any)
			buf_printf(b, "; %s", verb);
		buf_printf(b, "%s %s %s", any ? "," : "", kind, name);
		any = true;
	}
}

static bool
has_name(const struct config *cfg, const char *kind, const char *name)
{
	size_t	 i;

	if (strcmp(kind, "stream") == 0) {
		for (i = 0; i < cfg->nstreams; i++)
			if (strcmp(cfg->streams[i].name, name) == 0)
				return true;
		return false;
	}
	for (i = 0; i < cfg->nsinks; i++)
		if (strcmp(cfg->sinks[i].name, name) == 0)
			return true;
	return false;
}
