/* test_ack.c: which acks go out, and when (no broker needed). */
#include <stdlib.h>

#include "ack.h"
#include "unit.h"

struct sent {
	uint64_t	 gen;
	uint64_t	 tag;
	bool		 multiple;
};

static struct sent	 sent[64];
static size_t		 nsent;

static void
record_ack(void *arg, uint64_t gen, uint64_t tag, bool multiple)
{
	(void)arg;
	ck_assert_uint_lt(nsent, 64);
	sent[nsent].gen = gen;
	sent[nsent].tag = tag;
	sent[nsent].multiple = multiple;
	nsent++;
}

static void
setup(void)
{
	nsent = 0;
}

static size_t	 kicks[16], nkicks;

static void
record_kick(void *arg, size_t released)
{
	(void)arg;
	ck_assert_uint_lt(nkicks, 16);
	kicks[nkicks++] = released;
}

/*
 * The kick says how many deliveries wait for their ack since the last
 * flush (the stream flushes at once past a quarter of its prefetch); a
 * delivery still held by another record does not count.
 */
START_TEST(test_kick_counts)
{
	struct ack_queue *q = ack_queue_new("t", record_ack, record_kick, NULL);
	struct delivery	*d[4];
	int		 i;

	nkicks = 0;
	for (i = 0; i < 4; i++)
		d[i] = ack_track(q, 0, (uint64_t)i + 1);
	ack_hold(d[2]);
	for (i = 0; i < 4; i++)
		ack_release(d[i], true);
	ck_assert_uint_eq(nkicks, 3);
	ck_assert_uint_eq(kicks[2], 3);
	ck_assert_uint_eq(ack_flush(q, 0), 3);	/* 1, 2 and 4 */
	ack_release(d[2], true);
	ck_assert_uint_eq(nkicks, 4);
	ck_assert_uint_eq(kicks[3], 1);		/* counted again from 0 */
	ck_assert_uint_eq(ack_flush(q, 0), 1);
	ack_queue_free(q);
}
END_TEST

/* Ten deliveries done in order: one multiple ack for the tenth. */
START_TEST(test_batch_in_order)
{
	struct ack_queue *q = ack_queue_new("t", record_ack, NULL, NULL);
	struct delivery	*d[10];
	int		 i;

	for (i = 0; i < 10; i++)
		d[i] = ack_track(q, 0, (uint64_t)i + 1);
	for (i = 0; i < 10; i++)
		ack_release(d[i], true);
	ck_assert_uint_eq(ack_flush(q, 0), 10);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(sent[0].tag, 10);
	ck_assert(sent[0].multiple);
	ck_assert_uint_eq(ack_flush(q, 0), 0);
	ack_queue_free(q);
}
END_TEST

/* A delivery still held blocks the multiple ack but not the others. */
START_TEST(test_held_blocks_multiple)
{
	struct ack_queue *q = ack_queue_new("t", record_ack, NULL, NULL);
	struct delivery	*d1, *d2, *d3, *d4;

	d1 = ack_track(q, 0, 1);
	d2 = ack_track(q, 0, 2);
	d3 = ack_track(q, 0, 3);
	d4 = ack_track(q, 0, 4);
	ack_hold(d2);			/* a second sink */
	ack_release(d1, true);
	ack_release(d2, true);		/* one of two sinks done */
	ack_release(d3, true);
	ack_release(d4, true);
	ck_assert_uint_eq(ack_held(q), 1);
	ck_assert_uint_eq(ack_flush(q, 0), 3);
	ck_assert_uint_eq(nsent, 3);
	ck_assert_uint_eq(sent[0].tag, 1);
	ck_assert(!sent[0].multiple);
	ck_assert_uint_eq(sent[1].tag, 3);
	ck_assert(!sent[1].multiple);
	ck_assert_uint_eq(sent[2].tag, 4);
	ack_release(d2, true);
	ck_assert_uint_eq(ack_held(q), 0);
	ck_assert_uint_eq(ack_flush(q, 0), 1);
	ck_assert_uint_eq(sent[3].tag, 2);
	ck_assert(!sent[3].multiple);
	ack_queue_free(q);
}
END_TEST

/* A refused delivery is never acked, and no multiple ack passes it. */
START_TEST(test_refused_is_barrier)
{
	struct ack_queue *q = ack_queue_new("t", record_ack, NULL, NULL);
	struct delivery	*d1, *d2, *d3;

	d1 = ack_track(q, 0, 1);
	d2 = ack_track(q, 0, 2);
	ack_release(d1, false);
	ack_release(d2, true);
	ck_assert_uint_eq(ack_flush(q, 0), 1);
	ck_assert_uint_eq(sent[0].tag, 2);
	ck_assert(!sent[0].multiple);
	d3 = ack_track(q, 0, 3);
	ack_release(d3, true);
	ck_assert_uint_eq(ack_flush(q, 0), 1);
	ck_assert_uint_eq(sent[1].tag, 3);
	ck_assert(!sent[1].multiple);	/* a multiple ack would cover tag 1 */
	ack_queue_free(q);
}
END_TEST

/*
 * The hold asks whether a connection has a refused delivery (to reconnect
 * for it): only once its last hold is gone, and only for that connection.
 */
START_TEST(test_refused_asked)
{
	struct ack_queue *q = ack_queue_new("t", record_ack, NULL, NULL);
	struct delivery	*d1, *d2;

	d1 = ack_track(q, 0, 1);
	d2 = ack_track(q, 0, 2);
	ck_assert(!ack_refused(q, 0));
	ack_hold(d1);
	ack_release(d1, false);
	ck_assert(!ack_refused(q, 0));	/* another record still holds it */
	ack_release(d2, true);
	ck_assert_uint_eq(ack_flush(q, 0), 1);
	ck_assert(!ack_refused(q, 0));
	ack_release(d1, true);		/* refused once is refused */
	ck_assert(ack_refused(q, 0));
	ck_assert(!ack_refused(q, 1));	/* a new connection has none */
	ck_assert_uint_eq(ack_flush(q, 0), 0);
	ck_assert(ack_refused(q, 0));	/* never acked, still there */
	ck_assert_uint_eq(ack_flush(q, 1), 0);
	ck_assert(!ack_refused(q, 0));	/* the old connection's are freed */
	ack_queue_free(q);
}
END_TEST

/* After a reconnect, old deliveries are never acked, even when done. */
START_TEST(test_old_generation_dropped)
{
	struct ack_queue *q = ack_queue_new("t", record_ack, NULL, NULL);
	struct delivery	*old, *d1, *d2;

	old = ack_track(q, 0, 7);
	d1 = ack_track(q, 1, 1);
	d2 = ack_track(q, 1, 2);
	ack_release(d1, true);
	ack_release(d2, true);
	ck_assert_uint_eq(ack_flush(q, 1), 2);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(sent[0].gen, 1);
	ck_assert_uint_eq(sent[0].tag, 2);
	ck_assert(sent[0].multiple);
	ack_release(old, true);
	ck_assert_uint_eq(ack_flush(q, 1), 0);
	ck_assert_uint_eq(nsent, 1);
	ack_queue_free(q);
}
END_TEST

Suite *
suite_ack(void)
{
	Suite	*s = suite_create("ack");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_batch_in_order);
	tcase_add_test(tc, test_held_blocks_multiple);
	tcase_add_test(tc, test_refused_is_barrier);
	tcase_add_test(tc, test_refused_asked);
	tcase_add_test(tc, test_old_generation_dropped);
	tcase_add_test(tc, test_kick_counts);
	suite_add_tcase(s, tc);
	return s;
}
