/*
 * test_sink.c: the opaque sink with a test-only in-memory kind: records
 * accepted in order, refused, cancelled; down -> spool -> up -> replay; a
 * full spool blocks and gives its records back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "config.h"
#include "memsink.h"
#include "stats.h"
#include "status.h"
#include "unit.h"

struct done_log {
	int	 n;
	int	 ok, fatal, cancelled;
	int	 order[64];		/* the record numbers, as done */
};

struct tag {
	struct done_log	*log;
	int		 num;
};

static struct event_base *base;
static char	 state_dir[64];
static uint64_t	 ctr[STATS_SINK_ROW];
static struct sink_conf conf;
static struct done_log dl;
static struct tag tags[64];

static void
setup(void)
{
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	snprintf(state_dir, sizeof(state_dir), "/tmp/ampstream-test-sink.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(state_dir));
	memset(ctr, 0, sizeof(ctr));
	memset(&conf, 0, sizeof(conf));
	memset(&dl, 0, sizeof(dl));
	conf.name = "mem1";
	conf.type = "mem";
	conf.format = "json";
}

static void
teardown(void)
{
	char	 cmd[128];

	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
done(void *arg, enum sink_result res)
{
	struct tag	*t = arg;

	t->log->order[t->log->n++] = t->num;
	if (res == SINK_OK)
		t->log->ok++;
	else if (res == SINK_FATAL)
		t->log->fatal++;
	else
		t->log->cancelled++;
}

static struct sink *
mk(size_t spool_max)
{
	struct sink	*s;
	char		*cause = NULL;

	conf.spool_max_bytes = spool_max;
	s = sink_new_kind(&memsink_ops, base, NULL, &conf, state_dir, ctr,
	    &cause);
	ck_assert_msg(s != NULL, "sink_new_kind: %s", cause ? cause : "?");
	return s;
}

static void
submit(struct sink *s, int num, size_t len)
{
	char	*data = malloc(len + 1);

	ck_assert_ptr_nonnull(data);
	memset(data, '.', len);
	data[len] = '\0';
	memcpy(data, "rec", 3);
	data[3] = (char)('0' + num % 10);	/* "rec<N>....", len bytes */
	tags[num].log = &dl;
	tags[num].num = num;
	sink_submit(s, data, len, done, &tags[num]);
}

START_TEST(test_sink_accept_in_order)
{
	struct sink	*s = mk(0);
	struct memsink	*m = memsink_of(s);
	int		 i;

	for (i = 0; i < 5; i++)
		submit(s, i, 10);
	ck_assert_int_eq(dl.n, 0);	/* nothing before the loop turn */
	memsink_run(base);
	ck_assert_int_eq(dl.ok, 5);
	ck_assert_int_eq(dl.n, 5);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(dl.order[i], i);
		ck_assert_int_eq(strncmp(m->seen[i], "rec", 3), 0);
		ck_assert_int_eq(atoi(m->seen[i] + 3), i);
	}
	ck_assert_uint_eq(ctr[SSK_SENT], 5);
	ck_assert(sink_up(s));
	ck_assert(!sink_has_spool(s));
	sink_free(s);
	ck_assert_int_eq(dl.n, 5);	/* done exactly once each */
}
END_TEST

START_TEST(test_sink_refused)
{
	struct sink	*s = mk(0);

	memsink_of(s)->mode = MEMSINK_REFUSE;
	submit(s, 0, 10);
	memsink_run(base);
	ck_assert_int_eq(dl.fatal, 1);
	ck_assert_int_eq(dl.ok, 0);
	ck_assert_uint_eq(ctr[SSK_SENT], 0);
	sink_free(s);
	ck_assert_int_eq(dl.n, 1);
}
END_TEST

START_TEST(test_sink_cancel)
{
	struct sink	*s = mk(0);

	memsink_of(s)->mode = MEMSINK_HOLD;
	submit(s, 0, 10);
	submit(s, 1, 10);
	memsink_run(base);
	ck_assert_int_eq(dl.n, 0);
	sink_free(s);
	ck_assert_int_eq(dl.cancelled, 2);
	ck_assert_int_eq(dl.n, 2);
	ck_assert_int_eq(dl.order[0], 0);
	ck_assert_int_eq(dl.order[1], 1);
}
END_TEST

/* Down: accepted once spooled; up again: replayed in order, spool emptied. */
START_TEST(test_sink_spool_replay)
{
	struct sink	*s = mk(1024 * 1024);
	struct memsink	*m = memsink_of(s);
	int		 i;

	ck_assert(sink_has_spool(s));
	memsink_set_up(s, false);
	for (i = 0; i < 4; i++)
		submit(s, i, 20);
	memsink_run(base);
	ck_assert_int_eq(dl.ok, 4);		/* accepted by the spool */
	ck_assert_uint_eq(ctr[SSK_SPOOLED], 4);
	ck_assert_uint_eq(ctr[SSK_SENT], 0);
	ck_assert_uint_eq(sink_spool_records(s), 4);
	ck_assert_uint_eq(m->nseen, 0);
	memsink_set_up(s, true);
	memsink_run(base);
	ck_assert_uint_eq(m->nseen, 4);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(atoi(m->seen[i] + 3), i);
	ck_assert_uint_eq(ctr[SSK_REPLAYED], 4);
	ck_assert_uint_eq(sink_spool_records(s), 0);
	ck_assert_uint_eq(ctr[SSK_SENT], 0);	/* replayed, not sent twice */
	/* Empty spool, sink up: records go straight to the kind again. */
	submit(s, 4, 20);
	memsink_run(base);
	ck_assert_uint_eq(ctr[SSK_SENT], 1);
	ck_assert_uint_eq(m->nseen, 5);
	sink_free(s);
	ck_assert_int_eq(dl.n, 5);
}
END_TEST

/* A record sent while earlier ones are still spooled is spooled behind them. */
START_TEST(test_sink_spool_keeps_order)
{
	struct sink	*s = mk(1024 * 1024);
	struct memsink	*m = memsink_of(s);

	m->mode = MEMSINK_HOLD;
	submit(s, 0, 20);
	memsink_run(base);
	memsink_set_up(s, false);		/* pending record 0 is spooled */
	memsink_run(base);
	ck_assert_int_eq(dl.ok, 1);
	m->mode = MEMSINK_ACCEPT;
	submit(s, 1, 20);
	memsink_set_up(s, true);
	memsink_run(base);
	ck_assert_uint_eq(m->nseen, 2);
	ck_assert_int_eq(atoi(m->seen[0] + 3), 0);
	ck_assert_int_eq(atoi(m->seen[1] + 3), 1);
	sink_free(s);
}
END_TEST

/* A full spool blocks: records wait, holding their acks, until dropped. */
START_TEST(test_sink_spool_full_blocks)
{
	struct sink	*s = mk(4096);
	time_t		 since;
	int		 i;

	memsink_set_up(s, false);
	for (i = 0; i < 8; i++)
		submit(s, i, 1000);
	memsink_run(base);
	ck_assert(sink_blocked(s, &since));
	ck_assert_int_lt(dl.ok, 8);
	ck_assert_int_eq(dl.cancelled, 0);
	ck_assert_uint_eq(ctr[SSK_SPOOLED], (uint64_t)dl.ok);
	sink_drop_spooling(s);
	ck_assert_int_eq(dl.ok + dl.cancelled, 8);
	ck_assert_int_gt(dl.cancelled, 0);
	sink_free(s);
	ck_assert_int_eq(dl.n, 8);
}
END_TEST

START_TEST(test_sink_unknown_type)
{
	char	*cause = NULL;

	conf.type = "carrier-pigeon";
	ck_assert(!sink_type_known("carrier-pigeon"));
	ck_assert(sink_type_known("tcp"));
	ck_assert_ptr_null(sink_new(base, NULL, &conf, state_dir, ctr,
	    &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "mem1"));
	free(cause);
}
END_TEST

Suite *
suite_sink(void)
{
	Suite	*s = suite_create("sink");
	TCase	*tc = tcase_create("sink");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sink_accept_in_order);
	tcase_add_test(tc, test_sink_refused);
	tcase_add_test(tc, test_sink_cancel);
	tcase_add_test(tc, test_sink_spool_replay);
	tcase_add_test(tc, test_sink_spool_keeps_order);
	tcase_add_test(tc, test_sink_spool_full_blocks);
	tcase_add_test(tc, test_sink_unknown_type);
	suite_add_tcase(s, tc);
	return s;
}
