/*
 * test_route.c: messages in, in-memory sinks, and what is acked and when.
 * The router makes one record per outlet, each holding the message's
 * delivery; the ack queue sends the ack once every sink accepted.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "ack.h"
#include "compat.h"
#include "config.h"
#include "corr.h"
#include "deadletter.h"
#include "event.h"
#include "memsink.h"
#include "record.h"
#include "route.h"
#include "stats.h"
#include "status.h"
#include "unit.h"

#define NSINKS	2

static struct event_base *base;
static char	 state_dir[64];
static struct deadletter *dl;
static uint64_t	 dl_max = 1 << 30;
#define BIG	(2 * 1024 * 1024)	/* bigger than any limit a body had */

static const char *
dl_dir(void)
{
	static char	 dir[128];

	snprintf(dir, sizeof(dir), "%s/deadletter", state_dir);
	return dir;
}
static struct sink_conf sconf[NSINKS];
static size_t	 sidx[NSINKS] = { 0, 1 };
static struct stream_conf stconf;
static struct config cfg;
static struct stats *stats;
static struct sink *sinks[NSINKS];
static struct record_recipe *recipes[NSINKS];
static struct route *route;
static struct corr *corr;
static struct ack_queue *acks;
static uint64_t	 acked[64];		/* tags acked, in order */
static size_t	 nacked;

static void
record_ack(void *arg __unused, uint64_t gen __unused, uint64_t tag,
    bool multiple)
{
	uint64_t	 t;

	/* Expand a multiple ack: every tag up to this one not yet acked. */
	if (multiple) {
		t = nacked > 0 ? acked[nacked - 1] + 1 : 1;
		for (; t < tag && nacked < nitems(acked); t++)
			acked[nacked++] = t;
	}
	if (nacked < nitems(acked))
		acked[nacked++] = tag;
}

static void
setup(void)
{
	size_t	 i;

	base = event_base_new();
	snprintf(state_dir, sizeof(state_dir), "/tmp/ampstream-test-route.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(state_dir));
	memset(sconf, 0, sizeof(sconf));
	for (i = 0; i < NSINKS; i++) {
		sconf[i].name = i == 0 ? "cef" : "json";
		sconf[i].type = "mem";
		sconf[i].format = i == 0 ? "cef" : "json";
		sconf[i].syslog = SYSLOG_NONE;
		sconf[i].framing = FRAMING_LF;
		sconf[i].max_record = 65536;
		sconf[i].app_name = "ampstream";
		sconf[i].default_severity = 5;
	}
	memset(&stconf, 0, sizeof(stconf));
	stconf.name = "s1";
	stconf.host = "export-streaming.eu.amp.cisco.com";
	stconf.sinks = sidx;
	stconf.nsinks = NSINKS;
	memset(&cfg, 0, sizeof(cfg));
	cfg.state_dir = state_dir;
	cfg.streams = &stconf;
	cfg.nstreams = 1;
	cfg.sinks = sconf;
	cfg.nsinks = NSINKS;
	cfg.correlation.max_entries = 100;
	cfg.correlation.ttl = 86400;
	nacked = 0;
	stats = stats_new(base, &cfg);
}

/* The parts, once the test set the sinks' configuration. */
static void
build(void)
{
	char	*cause = NULL;
	size_t	 i;

	for (i = 0; i < NSINKS; i++) {
		recipes[i] = record_recipe_new(&sconf[i], "host1", &cause);
		ck_assert_ptr_nonnull(recipes[i]);
		sinks[i] = sink_new_kind(&memsink_ops, base, NULL, &sconf[i],
		    state_dir, stats_sink_row(stats, i), &cause);
		ck_assert_ptr_nonnull(sinks[i]);
	}
	dl = deadletter_new(state_dir, "s1", dl_max);
	route = route_new(&cfg, sinks, recipes, &dl, stats);
	corr = corr_new(NULL, &cfg.correlation, NULL, NULL);
	route_set_corr(route, corr);
	acks = ack_queue_new("s1", record_ack, NULL, NULL);
}

static void
teardown(void)
{
	char	 cmd[128];
	size_t	 i;

	for (i = 0; i < NSINKS; i++)
		sink_free(sinks[i]);
	ack_flush(acks, 0);
	ack_queue_free(acks);
	route_free(route);
	deadletter_free(dl);
	dl_max = 1 << 30;
	corr_free(corr);
	for (i = 0; i < NSINKS; i++)
		record_recipe_free(recipes[i]);
	stats_free(stats);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *
fixture(const char *name, size_t *len)
{
	char	 path[256];
	FILE	*f;
	char	*s = malloc(1 << 20);

	snprintf(path, sizeof(path), "../fixtures/events/%s", name);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	*len = fread(s, 1, (1 << 20) - 1, f);
	fclose(f);
	while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
		(*len)--;
	s[*len] = '\0';
	return s;
}

/* Deliver one message with tag, then let the sinks run. */
static void
deliver(const char *body, size_t len, uint64_t tag)
{
	route_message(NULL, body, len, ack_track(acks, 0, tag),
	    route_lane(route, 0));
	memsink_run(base);
}

START_TEST(test_route_both_sinks_then_ack)
{
	char	*body;
	size_t	 len;

	build();
	memsink_of(sinks[1])->mode = MEMSINK_HOLD;
	body = fixture("threat_detected_1.json", &len);
	deliver(body, len, 1);
	ck_assert_uint_eq(memsink_of(sinks[0])->nseen, 1);
	ck_assert_int_eq(strncmp(memsink_of(sinks[0])->seen[0], "CEF:0|", 6),
	    0);
	ck_assert_uint_eq(ack_flush(acks, 0), 0);	/* json holds it */
	ck_assert_uint_eq(nacked, 0);
	ck_assert_uint_eq(ack_held(acks), 1);
	memsink_of(sinks[1])->mode = MEMSINK_ACCEPT;
	deliver(body, len, 2);			/* flushes both */
	ck_assert_uint_eq(memsink_of(sinks[1])->nseen, 2);
	ck_assert_int_eq(memsink_of(sinks[1])->seen[0][0], '{');
	ck_assert_uint_eq(ack_flush(acks, 0), 2);
	ck_assert_uint_eq(nacked, 2);
	ck_assert_uint_eq(acked[0], 1);
	ck_assert_uint_eq(acked[1], 2);
	ck_assert_uint_eq(stats_sink_row(stats, 0)[SSK_SENT], 2);
	free(body);
}
END_TEST

/* A sink that refuses for good does not hold the message. */
START_TEST(test_route_fatal_still_acked)
{
	char	*body;
	size_t	 len;

	build();
	memsink_of(sinks[0])->mode = MEMSINK_REFUSE;
	body = fixture("threat_detected_1.json", &len);
	deliver(body, len, 1);
	ack_flush(acks, 0);
	ck_assert_uint_eq(nacked, 1);
	free(body);
}
END_TEST

/* A record cancelled (its sink closed first) is never acked. */
START_TEST(test_route_cancelled_never_acked)
{
	char	*body;
	size_t	 len;

	build();
	memsink_of(sinks[0])->mode = MEMSINK_HOLD;
	body = fixture("threat_detected_1.json", &len);
	deliver(body, len, 1);
	sink_free(sinks[0]);
	sinks[0] = NULL;
	ck_assert_uint_eq(ack_held(acks), 0);
	ck_assert_uint_eq(ack_flush(acks, 0), 0);
	ck_assert_uint_eq(nacked, 0);
	free(body);
}
END_TEST

/* Malformed bodies are dead-lettered whole, counted, then acked. */
START_TEST(test_route_deadletter)
{
	static const char bad_utf8[] = "{\"event_type\":\"x\xff\"}";
	char		 path[256];
	char		*big, *all, *p;
	size_t		 len;
	FILE		*f;
	int		 n = 0;

	build();
	deliver("not json", 8, 1);
	deliver(bad_utf8, sizeof(bad_utf8) - 1, 2);
	big = malloc(BIG);
	memset(big, ' ', BIG);
	big[0] = '{';
	deliver(big, BIG, 3);
	free(big);
	ck_assert_uint_eq(memsink_of(sinks[0])->nseen, 0);
	ck_assert_uint_eq(ack_flush(acks, 0), 3);
	ck_assert_uint_eq(stats_stream_row(stats, 0)[SST_DEADLETTERED], 3);
	snprintf(path, sizeof(path), "%s/deadletter/s1.jsonl", state_dir);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	all = malloc(4 << 20);
	len = fread(all, 1, (4 << 20) - 1, f);
	all[len] = '\0';
	fclose(f);
	for (p = all; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	ck_assert_int_eq(n, 3);
	ck_assert_ptr_nonnull(strstr(all, "\"not JSON\""));
	ck_assert_ptr_nonnull(strstr(all, "\"body\":\"not json\""));
	ck_assert_ptr_nonnull(strstr(all, "UTF-8"));
	ck_assert_ptr_nonnull(strstr(all, "body_base64"));
	ck_assert_uint_gt(len, BIG);		/* all the route was given */
	free(all);
}
END_TEST

/* Bytes in the files of the dead-letter directory; remove them if rm. */
static uint64_t
dl_files_bytes(bool rm)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 sb;
	uint64_t	 n = 0;

	ck_assert_ptr_nonnull(d = opendir(dl_dir()));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		ck_assert_int_eq(fstatat(dirfd(d), e->d_name, &sb, 0), 0);
		n += (uint64_t)sb.st_size;
		if (rm)
			ck_assert_int_eq(unlinkat(dirfd(d), e->d_name, 0), 0);
	}
	closedir(d);
	return n;
}

/*
 * A full store takes no more: the message is not acked (it stays in the
 * broker), nothing is cut or dropped, and the store says it is full until
 * a file goes.
 */
START_TEST(test_route_deadletter_full)
{
	char		 body[4096];
	time_t		 since;

	dl_max = 3000;
	build();
	memset(body, 'x', sizeof(body));
	deliver(body, 1000, 1);			/* ~1.1 KB: fits */
	deliver(body, 1000, 2);			/* ~2.2 KB: fits */
	deliver(body, 1000, 3);			/* would pass 3000 */
	ck_assert_uint_eq(ack_flush(acks, 0), 2);
	ck_assert_uint_eq(stats_stream_row(stats, 0)[SST_DEADLETTERED], 2);
	ck_assert(deadletter_full(dl, &since));
	ck_assert_uint_eq(dl_files_bytes(false), deadletter_bytes(dl));
	ck_assert_uint_le(deadletter_bytes(dl), 3000);
	ck_assert(deadletter_full(dl, NULL));
	dl_files_bytes(true);			/* the admin makes room */
	ck_assert(!deadletter_full(dl, NULL));
	ck_assert_uint_eq(deadletter_bytes(dl), 0);
	deliver(body, 1000, 4);
	ck_assert_uint_eq(stats_stream_row(stats, 0)[SST_DEADLETTERED], 3);
}
END_TEST

/* Past a quarter of the bound the file rotates; rotated files count. */
START_TEST(test_route_deadletter_rotates)
{
	char		 body[1024];
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;
	uint64_t	 held;

	dl_max = 8000;
	build();
	memset(body, 'y', sizeof(body));
	for (n = 0; n < 5; n++)
		deliver(body, sizeof(body), (uint64_t)n + 1);
	held = deadletter_bytes(dl);
	deadletter_free(dl);			/* counted again from the files */
	dl = deadletter_new(state_dir, "s1", dl_max);
	ck_assert_uint_eq(deadletter_bytes(dl), held);
	n = 0;
	ck_assert_ptr_nonnull(d = opendir(dl_dir()));
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "s1-", 3) == 0)
			n++;
	closedir(d);
	ck_assert_int_ge(n, 2);
}
END_TEST

/* An event too big for one sink still reaches the other, and is acked. */
START_TEST(test_route_too_big_for_one_sink)
{
	char	*body;
	size_t	 len;

	sconf[1].max_record = 100;
	build();
	body = fixture("threat_detected_1.json", &len);
	deliver(body, len, 1);
	ck_assert_uint_eq(memsink_of(sinks[0])->nseen, 1);
	ck_assert_uint_eq(memsink_of(sinks[1])->nseen, 0);
	ck_assert_uint_eq(ack_flush(acks, 0), 1);
	free(body);
}
END_TEST

/* A detection, then its outcome: the outcome's records carry the match. */
START_TEST(test_route_correlated)
{
	char	*det, *out;
	size_t	 dlen, olen;

	build();
	det = fixture("threat_detected_2_docs_pair.json", &dlen);
	out = fixture("threat_quarantined_2_docs_pair.json", &olen);
	deliver(det, dlen, 1);
	deliver(out, olen, 2);
	ck_assert_uint_eq(memsink_of(sinks[0])->nseen, 2);
	ck_assert_ptr_nonnull(strstr(memsink_of(sinks[0])->seen[0],
	    "cs4=pending"));
	ck_assert_ptr_nonnull(strstr(memsink_of(sinks[0])->seen[1],
	    "cs4=matched"));
	ck_assert_ptr_nonnull(strstr(memsink_of(sinks[1])->seen[1],
	    "\"matched\""));
	/* Console links on the region of the event's API link. */
	ck_assert_ptr_nonnull(strstr(memsink_of(sinks[0])->seen[1],
	    "https://console."));
	ck_assert_uint_eq(ack_flush(acks, 0), 2);
	ck_assert_uint_eq(corr_stats(corr)->matched, 1);
	free(det);
	free(out);
}
END_TEST

Suite *
suite_route(void)
{
	Suite	*s = suite_create("route");
	TCase	*tc = tcase_create("route");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_route_both_sinks_then_ack);
	tcase_add_test(tc, test_route_fatal_still_acked);
	tcase_add_test(tc, test_route_cancelled_never_acked);
	tcase_add_test(tc, test_route_deadletter);
	tcase_add_test(tc, test_route_deadletter_full);
	tcase_add_test(tc, test_route_deadletter_rotates);
	tcase_add_test(tc, test_route_too_big_for_one_sink);
	tcase_add_test(tc, test_route_correlated);
	suite_add_tcase(s, tc);
	return s;
}
