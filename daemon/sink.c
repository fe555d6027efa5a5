/*
 * sink.c: the sink table and what every kind shares: the pending queue, the
 * once-per-loop-turn flush (so records submitted together are written and
 * fsync'd together), and record completion.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "sink.h"

static const struct sink_ops *const sink_table[] = {
	&sink_tcp_ops,
	&sink_file_ops,
	NULL,
};

static void	sink_flush_cb(int, short, void *);

const struct sink_ops *
sink_lookup(const char *type)
{
	size_t	 i;

	for (i = 0; sink_table[i] != NULL; i++)
		if (strcmp(sink_table[i]->name, type) == 0)
			return sink_table[i];
	return NULL;
}

struct sink *
sink_new(struct event_base *base, struct evdns_base *dns,
    const struct sink_conf *conf, char **cause)
{
	struct sink	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("%s", __func__);
	s->conf = conf;
	s->base = base;
	s->dns = dns;
	TAILQ_INIT(&s->pending);
	if ((s->ops = sink_lookup(conf->type)) == NULL) {
		if (asprintf(cause, "sink %s: type %s is not available in "
		    "this build", conf->name, conf->type) == -1)
			*cause = NULL;
		goto fail;
	}
	if ((s->flush_ev = event_new(base, -1, 0, sink_flush_cb, s)) == NULL)
		fatalx("%s: event_new", __func__);
	if (s->ops->open(s, cause) == -1)
		goto fail;
	return s;
fail:
	if (s->flush_ev != NULL)
		event_free(s->flush_ev);
	free(s);
	return NULL;
}

/* Close the kind, then finish whatever it still held as not accepted. */
void
sink_free(struct sink *s)
{
	struct sink_rec	*r;

	if (s == NULL)
		return;
	s->ops->close(s);
	while ((r = TAILQ_FIRST(&s->pending)) != NULL) {
		TAILQ_REMOVE(&s->pending, r, entry);
		s->npending--;
		sink_rec_finish(s, r, SINK_CANCELLED);
	}
	event_free(s->flush_ev);
	free(s);
}

void
sink_submit(struct sink *s, char *data, size_t len, sink_done_fn done,
    void *arg)
{
	struct sink_rec	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s", __func__);
	r->data = data;
	r->len = len;
	r->done = done;
	r->arg = arg;
	TAILQ_INSERT_TAIL(&s->pending, r, entry);
	s->npending++;
	s->ninflight++;
	event_active(s->flush_ev, EV_TIMEOUT, 0);
}

static void
sink_flush_cb(int fd __unused, short ev __unused, void *arg)
{
	struct sink	*s = arg;

	s->ops->flush(s);
}

void
sink_rec_finish(struct sink *s, struct sink_rec *r, enum sink_result res)
{
	if (res == SINK_OK)
		s->stats.sent++;
	s->ninflight--;
	r->done(r->arg, res);
	free(r->data);
	free(r);
}

/* Log transitions only, so a down sink does not flood the journal. */
void
sink_set_up(struct sink *s, bool up)
{
	if (s->up == up)
		return;
	s->up = up;
	if (up)
		log_info("sink %s: up", s->conf->name);
	else
		log_warnx("sink %s: down", s->conf->name);
}
