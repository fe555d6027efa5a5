/* memsink.c: the test-only in-memory sink kind (see memsink.h). */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "compat.h"
#include "memsink.h"

static int
memsink_open(struct sink *s, char **cause __unused)
{
	struct memsink	*m = calloc(1, sizeof(*m));

	if (m == NULL)
		abort();
	m->up = true;
	sink_set_priv(s, m);
	sink_set_up(s, true);
	return 0;
}

static void
memsink_flush(struct sink *s)
{
	struct memsink	*m = sink_priv(s);
	struct sink_rec	*r;

	if (!m->up || m->mode == MEMSINK_HOLD)
		return;
	while ((r = sink_first(s)) != NULL) {
		if (m->nseen < MEMSINK_MAX)
			m->seen[m->nseen++] = strndup(r->data, r->len);
		sink_done_first(s, m->mode == MEMSINK_REFUSE ? SINK_FATAL :
		    SINK_OK);
	}
}

/* What is still pending is cancelled by sink_free after this. */
static void
memsink_close(struct sink *s)
{
	struct memsink	*m = sink_priv(s);
	size_t		 i;

	for (i = 0; i < m->nseen; i++)
		free(m->seen[i]);
	free(m);
	sink_set_priv(s, NULL);
}

const struct sink_ops memsink_ops = {
	.name = "mem",
	.open = memsink_open,
	.flush = memsink_flush,
	.close = memsink_close,
};

struct memsink *
memsink_of(struct sink *s)
{
	return sink_priv(s);
}

void
memsink_set_up(struct sink *s, bool up)
{
	memsink_of(s)->up = up;
	sink_set_up(s, up);
}

void
memsink_run(struct event_base *base)
{
	int	 i;

	for (i = 0; i < 16; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}
