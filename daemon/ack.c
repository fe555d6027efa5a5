/* ack.c: delivery tracking and batched acknowledgements (see ack.h). */
#include <stdlib.h>
#include <sys/queue.h>

#include "ack.h"
#include "log.h"
#include "xmalloc.h"

struct delivery {
	TAILQ_ENTRY(delivery) entry;
	struct ack_queue *q;
	uint64_t	 gen;
	uint64_t	 tag;
	unsigned int	 holds;
	bool		 refused;	/* some record was not accepted */
};

struct ack_queue {
	TAILQ_HEAD(, delivery) list;	/* in arrival (= tag) order */
	size_t		 held;
	size_t		 released;	/* since the last flush */
	char		*name;
	ack_send_fn	 send;
	ack_kick_fn	 kick;
	void		*arg;
};

static bool	ack_done(const struct delivery *);
static void	ack_remove(struct ack_queue *, struct delivery *);
static size_t	ack_flush_head(struct ack_queue *, uint64_t);
static size_t	ack_flush_rest(struct ack_queue *, uint64_t);

struct ack_queue *
ack_queue_new(const char *name, ack_send_fn send, ack_kick_fn kick, void *arg)
{
	struct ack_queue *q;

	q = xcalloc(1, sizeof(*q));
	TAILQ_INIT(&q->list);
	q->name = xstrdup(name);
	q->send = send;
	q->kick = kick;
	q->arg = arg;
	return q;
}

/* Deliveries still held by a sink record must not outlive their queue. */
void
ack_queue_free(struct ack_queue *q)
{
	struct delivery	*d;

	if (q == NULL)
		return;
	if (q->held > 0)
		fatalx("%s: %zu deliveries still held", __func__, q->held);
	while ((d = TAILQ_FIRST(&q->list)) != NULL)
		ack_remove(q, d);
	free(q->name);
	free(q);
}

struct delivery *
ack_track(struct ack_queue *q, uint64_t gen, uint64_t tag)
{
	struct delivery	*d;

	d = xcalloc(1, sizeof(*d));
	d->q = q;
	d->gen = gen;
	d->tag = tag;
	d->holds = 1;
	q->held++;
	TAILQ_INSERT_TAIL(&q->list, d, entry);
	return d;
}

void
ack_hold(struct delivery *d)
{
	d->holds++;
}

void
ack_release(struct delivery *d, bool accepted)
{
	if (d->holds == 0)
		fatalx("%s: delivery %llu released too often", __func__,
		    (unsigned long long)d->tag);
	if (!accepted)
		d->refused = true;
	if (--d->holds > 0)
		return;
	/* Only a delivery no one holds can change what is sent. */
	d->q->held--;
	d->q->released++;
	if (d->q->kick != NULL)
		d->q->kick(d->q->arg, d->q->released);
}

const char *
ack_name(const struct delivery *d)
{
	return d->q->name;
}

size_t
ack_held(const struct ack_queue *q)
{
	return q->held;
}

bool
ack_refused(const struct ack_queue *q, uint64_t gen)
{
	const struct delivery *d;

	TAILQ_FOREACH(d, &q->list, entry)
		if (d->gen == gen && d->holds == 0 && d->refused)
			return true;
	return false;
}

static bool
ack_done(const struct delivery *d)
{
	return d->holds == 0 && !d->refused;
}

static void
ack_remove(struct ack_queue *q, struct delivery *d)
{
	TAILQ_REMOVE(&q->list, d, entry);
	free(d);
}

size_t
ack_flush(struct ack_queue *q, uint64_t gen)
{
	size_t	 n;

	q->released = 0;
	n = ack_flush_head(q, gen);
	return n + ack_flush_rest(q, gen);
}

/*
 * One multiple ack over the done run at the head.  Deliveries of an older
 * connection are skipped (their acks would be refused) and freed once free.
 */
static size_t
ack_flush_head(struct ack_queue *q, uint64_t gen)
{
	struct delivery	*d, *next, *last = NULL;
	uint64_t	 tag;
	size_t		 n = 0;

	for (d = TAILQ_FIRST(&q->list); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->gen != gen) {
			if (d->holds == 0)
				ack_remove(q, d);
			continue;
		}
		if (!ack_done(d))
			break;
		if (last != NULL)
			ack_remove(q, last);
		last = d;
		n++;
	}
	if (last != NULL) {
		tag = last->tag;
		/* Unlinked first: a failing send may flush this queue again. */
		ack_remove(q, last);
		q->send(q->arg, gen, tag, n > 1);
	}
	return n;
}

/*
 * Single acks for done deliveries stuck behind one still in flight.  Each
 * ack is sent after the walk, so a send that fails (and flushes this queue
 * from the connection-lost path) never pulls an entry from under us.
 */
static size_t
ack_flush_rest(struct ack_queue *q, uint64_t gen)
{
	struct delivery	*d, *next;
	uint64_t	*tags = NULL;
	size_t		 n = 0, i;

	TAILQ_FOREACH(d, &q->list, entry)
		if (d->gen == gen && ack_done(d))
			n++;
	if (n > 0)
		tags = xcalloc(n, sizeof(*tags));
	n = 0;
	for (d = TAILQ_FIRST(&q->list); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->gen != gen ? d->holds == 0 : ack_done(d)) {
			if (d->gen == gen)
				tags[n++] = d->tag;
			ack_remove(q, d);
		}
	}
	for (i = 0; i < n; i++)
		q->send(q->arg, gen, tags[i], false);
	free(tags);
	return n;
}
