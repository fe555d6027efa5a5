/*
 * test_corr.c: correlation of detections with their outcomes (real fixture
 * pairs), expiry, eviction, duplicates, unresolved alerts, snapshots.
 *
 * Memory (x86_64, glibc): an entry is one malloc of a 72-byte fixed part
 * (age list, hash chain, arrival and detection times, stream, hash, nine
 * u16 string offsets, type, alert flag) followed by its strings packed; the
 * struct corr_detection callers see is built on demand.  test_entry_memory
 * measures corr_entry_size() (malloc chunk with header and rounding, plus
 * two bucket slots) over the five real fixture detections: 336 bytes per
 * entry (112 with all strings empty), about 34 MB at the default
 * max_entries of 100000; it was 1952 bytes with fixed-size strings.
 */
#include <sys/stat.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "clock.h"
#include "corr.h"
#include "crc32.h"
#include "event.h"
#include "log.h"
#include "unit.h"

#define NOW	INT64_C(1700000000000)	/* epoch ms */
#define DETECTED	INT64_C(1090519054)
#define QUARANTINED	INT64_C(553648143)
#define QFAILURE	INT64_C(2164260880)
#define RETRO		INT64_C(553648147)
#define RETRO_Q		INT64_C(553648155)

/* A parsed event and the body it points into. */
struct fx {
	char		*body;
	struct amp_event ev;
};

/* The real fixture detections. */
static const char *const det_files[] = {
	"threat_detected_1", "threat_detected_2_docs_pair",
	"threat_detected_3_stream_message",
	"threat_detected_4_quarantine_failed", "retrospective_detection_1",
};
#define NDET	nitems(det_files)

static char	 tmpdir[64];
static int	 nalerts;
static char	 alerted_id[32];

/* Read a fixture into an exactly sized buffer. */
static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*p;
	long	 n;

	ck_assert_msg((f = fopen(path, "rb")) != NULL, "open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(p = malloc((size_t)n));
	ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*lenp = (size_t)n;
	return p;
}

static void
fx_file(struct fx *x, const char *name)
{
	char		 path[256];
	const char	*reason = NULL;
	size_t		 len;

	snprintf(path, sizeof(path), FIXTURE("events/%s.json"), name);
	x->body = slurp(path, &len);
	ck_assert_msg(event_parse(&x->ev, x->body, len, &reason) == 0,
	    "%s: %s", name, reason);
}

static void
fx_json(struct fx *x, const char *json)
{
	const char	*reason = NULL;

	ck_assert_ptr_nonnull(x->body = strdup(json));
	ck_assert_msg(event_parse(&x->ev, x->body, strlen(json), &reason) == 0,
	    "%s: %s", json, reason);
}

static void
fx_free(struct fx *x)
{
	event_clear(&x->ev);
	free(x->body);
}

/* Observe one fixture and return its state. */
static enum corr_state
observe_file(struct corr *c, const char *name, int64_t now,
    struct corr_info *info)
{
	struct fx	 x;

	fx_file(&x, name);
	corr_observe(c, &x.ev, 0, now, info);
	fx_free(&x);
	return info->state;
}

/* A synthetic event without JSON (the strings are the caller's). */
static void
synth(struct amp_event *ev, int64_t type, const char *detid, const char *id,
    int64_t ts)
{
	memset(ev, 0, sizeof(*ev));
	ev->event_type = "synthetic";
	ev->event_type_id = type;
	ev->detection_id = detid;
	ev->timestamp = ts;
	if (id != NULL) {
		ev->has_id = true;
		ev->id_str = id;
	}
}

static enum corr_state
observe_synth_info(struct corr *c, int64_t type, const char *detid,
    const char *id, int64_t now, struct corr_info *info)
{
	struct amp_event	 ev;

	synth(&ev, type, detid, id, now / 1000);
	corr_observe(c, &ev, 0, now, info);
	return info->state;
}

static enum corr_state
observe_synth(struct corr *c, int64_t type, const char *detid, const char *id,
    int64_t now)
{
	struct corr_info	 info;

	return observe_synth_info(c, type, detid, id, now, &info);
}

static void
on_alert(const struct corr_detection *det, void *arg)
{
	(void)arg;
	nalerts++;
	snprintf(alerted_id, sizeof(alerted_id), "%s", det->detection_id);
}

static struct corr *
new_corr(size_t max, int ttl, int alert)
{
	struct corr_conf conf = { max, ttl, alert };

	return corr_new(NULL, &conf, on_alert, NULL);
}

static void
setup(void)
{
	nalerts = 0;
	alerted_id[0] = '\0';
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_corr.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* Check one real pair: the outcome carries the detection's facts. */
static void
check_pair(const char *det, const char *out, const char *outcome,
    const char *file_name, const char *file_path, const char *event_id)
{
	struct corr		*c = new_corr(100, 3600, 0);
	struct corr_info	 info;

	ck_assert_int_eq(observe_file(c, det, NOW, &info), CORR_PENDING);
	ck_assert_uint_eq(corr_stats(c)->entries, 1);
	ck_assert_int_eq(observe_file(c, out, NOW + 5, &info), CORR_MATCHED);
	ck_assert_str_eq(info.outcome, outcome);
	ck_assert_str_eq(info.det->detection, "W32.Overdrive.RET");
	ck_assert_str_eq(info.det->file_name, file_name);
	ck_assert_str_eq(info.det->file_path, file_path);
	ck_assert_str_eq(info.det->sha256, "a78c29d1fa05c2b23d1dc9b75da8c053"
	    "399143682fe3779bc466f10e1a997850");
	ck_assert_str_eq(info.det->hostname, "Demo_AMP_Threat_Quarantined");
	ck_assert_str_eq(info.det->severity, "Medium");
	ck_assert_str_eq(info.det->event_id, event_id);
	ck_assert_int_eq(info.det->event_type_id, DETECTED);
	ck_assert_int_eq(info.seconds_to_outcome, 0);	/* same second */
	ck_assert_uint_eq(corr_stats(c)->matched, 1);
	ck_assert_uint_eq(corr_stats(c)->entries, 0);
	corr_free(c);
}

START_TEST(test_real_pairs)
{
	check_pair("threat_detected_1", "threat_quarantined_1", "quarantined",
	    "BIT657.tmp", "\\\\?\\C:\\BIT657.tmp", "6533241347137077000");
	check_pair("threat_detected_4_quarantine_failed",
	    "quarantine_failure_1", "quarantine failed", "BIT4BBF.tmp",
	    "\\\\?\\C:\\BIT4BBF.tmp", "6533241145273614000");
	check_pair("threat_detected_2_docs_pair",
	    "threat_quarantined_2_docs_pair", "quarantined", "SqGGuYXyy.exe",
	    "\\\\?\\C:\\SqGGuYXyy.exe", "6533241145273614339");
}
END_TEST

/* seconds_to_outcome from the event timestamps, never negative. */
START_TEST(test_seconds_to_outcome)
{
	struct corr		*c = new_corr(100, 3600, 0);
	struct amp_event	 ev;
	struct corr_info	 info;

	synth(&ev, DETECTED, "a", "1", 1600000000);
	corr_observe(c, &ev, 2, NOW, &info);
	synth(&ev, QUARANTINED, "a", "2", 1600000090);
	corr_observe(c, &ev, 0, NOW, &info);
	ck_assert_int_eq(info.state, CORR_MATCHED);
	ck_assert_int_eq(info.seconds_to_outcome, 90);
	ck_assert_int_eq(info.det->detected_ms, INT64_C(1600000000000));
	ck_assert_uint_eq(info.det->stream, 2);
	synth(&ev, DETECTED, "b", "3", 1600000090);
	corr_observe(c, &ev, 0, NOW, &info);
	synth(&ev, QFAILURE, "b", "4", 1600000000);
	corr_observe(c, &ev, 0, NOW, &info);
	ck_assert_int_eq(info.state, CORR_MATCHED);
	ck_assert_int_eq(info.seconds_to_outcome, 0);
	ck_assert_str_eq(info.outcome, "quarantine failed");
	corr_free(c);
}
END_TEST

/* An outcome first is uncorrelated; its later detection is then pending. */
START_TEST(test_outcome_first)
{
	struct corr		*c = new_corr(100, 3600, 0);
	struct corr_info	 info;

	ck_assert_int_eq(observe_file(c, "quarantine_failure_1", NOW, &info),
	    CORR_UNCORRELATED);
	ck_assert_ptr_null(info.det);
	ck_assert_uint_eq(corr_stats(c)->unmatched, 1);
	ck_assert_uint_eq(corr_stats(c)->entries, 0);
	ck_assert_int_eq(observe_file(c, "threat_detected_4_quarantine_failed",
	    NOW + 1, &info), CORR_PENDING);
	ck_assert_uint_eq(corr_stats(c)->entries, 1);
	ck_assert_uint_eq(corr_stats(c)->matched, 0);
	corr_free(c);
}
END_TEST

/* Types outside the pairs, and detections without detection_id: NONE. */
START_TEST(test_not_correlated)
{
	struct corr		*c = new_corr(100, 3600, 0);
	struct corr_info	 info;
	struct fx		 x;
	char			 longid[64];

	ck_assert_int_eq(observe_file(c, "cloud_ioc_1", NOW, &info),
	    CORR_NONE);
	fx_json(&x, "{\"event_type\":\"Threat Detected\","
	    "\"event_type_id\":1090519054}");
	corr_observe(c, &x.ev, 0, NOW, &info);
	ck_assert_int_eq(info.state, CORR_NONE);
	fx_free(&x);
	memset(longid, '7', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ck_assert_int_eq(observe_synth(c, DETECTED, longid, "1", NOW),
	    CORR_NONE);
	ck_assert_int_eq(observe_synth(c, QUARANTINED, longid, "2", NOW),
	    CORR_UNCORRELATED);
	ck_assert_uint_eq(corr_stats(c)->entries, 0);
	corr_free(c);
}
END_TEST

/* Retrospective pairs are their own family. */
START_TEST(test_retrospective)
{
	struct corr		*c = new_corr(100, 3600, 0);
	struct corr_info	 info;

	ck_assert_int_eq(observe_file(c, "retrospective_detection_1", NOW,
	    &info), CORR_PENDING);
	ck_assert_int_eq(observe_synth(c, QUARANTINED, "6411425813945647105",
	    "9", NOW), CORR_UNCORRELATED);
	ck_assert_int_eq(observe_synth(c, DETECTED, "6411425813945647105",
	    "10", NOW), CORR_PENDING);
	ck_assert_uint_eq(corr_stats(c)->entries, 2);
	ck_assert_int_eq(observe_synth(c, RETRO_Q, "6411425813945647105",
	    "11", NOW), CORR_MATCHED);
	ck_assert_int_eq(observe_synth(c, INT64_C(2164260893),
	    "6411425813945647105", "12", NOW), CORR_UNCORRELATED);
	ck_assert_uint_eq(corr_stats(c)->entries, 1);
	corr_free(c);
}
END_TEST

/* A number as detection_id is keyed by its decimal text. */
START_TEST(test_number_detection_id)
{
	struct corr		*c = new_corr(100, 3600, 0);
	struct corr_info	 info;
	struct fx		 d, o;

	fx_json(&d, "{\"id\":1,\"timestamp\":1600000000,\"event_type\":"
	    "\"threat detected\",\"event_type_id\":1090519054,"
	    "\"detection\":\"X\",\"detection_id\":123}");
	fx_json(&o, "{\"id\":2,\"timestamp\":1600000007,\"event_type\":"
	    "\"Threat Quarantined\",\"event_type_id\":553648143,"
	    "\"detection_id\":\"123\"}");
	corr_observe(c, &d.ev, 0, NOW, &info);
	ck_assert_int_eq(info.state, CORR_PENDING);
	corr_observe(c, &o.ev, 0, NOW, &info);
	ck_assert_int_eq(info.state, CORR_MATCHED);
	ck_assert_str_eq(info.det->detection_id, "123");
	ck_assert_str_eq(info.det->detection, "X");
	ck_assert_int_eq(info.seconds_to_outcome, 7);
	fx_free(&d);
	fx_free(&o);
	corr_free(c);
}
END_TEST

/* Entries expire ttl after arrival (corr_tick with explicit times). */
START_TEST(test_expiry_tick)
{
	struct corr		*c = new_corr(100, 60, 0);
	struct corr_info	 info;

	observe_file(c, "threat_detected_1", NOW, &info);
	observe_file(c, "threat_detected_4_quarantine_failed", NOW + 30000,
	    &info);
	corr_tick(c, NOW + 59999);
	ck_assert_uint_eq(corr_stats(c)->entries, 2);
	corr_tick(c, NOW + 60000);
	ck_assert_uint_eq(corr_stats(c)->entries, 1);
	ck_assert_uint_eq(corr_stats(c)->expired, 1);
	ck_assert_int_eq(observe_file(c, "threat_quarantined_1", NOW + 60001,
	    &info), CORR_UNCORRELATED);
	/* corr_observe expires too, before looking up. */
	ck_assert_int_eq(observe_file(c, "quarantine_failure_1", NOW + 90000,
	    &info), CORR_UNCORRELATED);
	ck_assert_uint_eq(corr_stats(c)->expired, 2);
	ck_assert_uint_eq(corr_stats(c)->entries, 0);
	corr_free(c);
}
END_TEST

static void
stop_loop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* The module's own timer expires entries on a real event loop. */
START_TEST(test_expiry_timer)
{
	struct event_base	*base = event_base_new();
	struct corr_conf	 conf = { 100, 1, 0 };
	struct corr		*c;
	struct corr_info	 info;
	struct timeval		 tv = { 1, 200000 };
	struct event		*stop;
	int64_t			 now;

	ck_assert_ptr_nonnull(base);
	c = corr_new(base, &conf, on_alert, NULL);
	now = clock_now_ms();
	/* It arrived 0.5 s ago: the first tick (1 s) finds it past ttl. */
	observe_file(c, "threat_detected_1", now - 500, &info);
	ck_assert_uint_eq(corr_stats(c)->entries, 1);
	stop = evtimer_new(base, stop_loop, base);
	evtimer_add(stop, &tv);
	event_base_dispatch(base);
	ck_assert_uint_eq(corr_stats(c)->entries, 0);
	ck_assert_uint_eq(corr_stats(c)->expired, 1);
	event_free(stop);
	corr_free(c);
	event_base_free(base);
}
END_TEST

/* A full table evicts the oldest. */
START_TEST(test_eviction)
{
	struct corr	*c = new_corr(3, 3600, 0);
	char		 id[8];
	int		 i;

	for (i = 1; i <= 5; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		ck_assert_int_eq(observe_synth(c, DETECTED, id, id, NOW + i),
		    CORR_PENDING);
	}
	ck_assert_uint_eq(corr_stats(c)->stored, 5);
	ck_assert_uint_eq(corr_stats(c)->evicted, 2);
	ck_assert_uint_eq(corr_stats(c)->entries, 3);
	for (i = 1; i <= 5; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		ck_assert_int_eq(observe_synth(c, QUARANTINED, id, "q",
		    NOW + 9), i <= 2 ? CORR_UNCORRELATED : CORR_MATCHED);
	}
	ck_assert_uint_eq(corr_stats(c)->matched, 3);
	ck_assert_uint_eq(corr_stats(c)->unmatched, 2);
	ck_assert_uint_eq(corr_stats(c)->entries, 0);
	corr_free(c);
}
END_TEST

/* A redelivery is stored once; another detection replaces the old one. */
START_TEST(test_duplicates)
{
	struct corr		*c = new_corr(100, 3600, 0);
	struct corr_info	 info;

	ck_assert_int_eq(observe_file(c, "threat_detected_1", NOW, &info),
	    CORR_PENDING);
	ck_assert_int_eq(observe_file(c, "threat_detected_1", NOW + 1, &info),
	    CORR_PENDING);
	ck_assert_uint_eq(corr_stats(c)->stored, 1);
	ck_assert_uint_eq(corr_stats(c)->duplicates, 1);
	ck_assert_uint_eq(corr_stats(c)->entries, 1);
	ck_assert_int_eq(observe_synth(c, DETECTED, "6533241347137077251",
	    "77", NOW + 2), CORR_PENDING);
	ck_assert_uint_eq(corr_stats(c)->stored, 2);
	ck_assert_uint_eq(corr_stats(c)->entries, 1);
	ck_assert_int_eq(observe_file(c, "threat_quarantined_1", NOW + 3,
	    &info), CORR_MATCHED);
	ck_assert_str_eq(info.det->event_id, "77");
	corr_free(c);
}
END_TEST

/* The alert fires once at the threshold; the entry still matches later. */
START_TEST(test_unresolved_alert)
{
	struct corr		*c = new_corr(100, 3600, 600);
	struct corr_info	 info;

	observe_file(c, "threat_detected_1", NOW, &info);
	observe_file(c, "threat_detected_4_quarantine_failed", NOW + 100000,
	    &info);
	corr_tick(c, NOW + 599999);
	ck_assert_int_eq(nalerts, 0);
	corr_tick(c, NOW + 600000);
	ck_assert_int_eq(nalerts, 1);
	ck_assert_str_eq(alerted_id, "6533241347137077251");
	corr_tick(c, NOW + 650000);
	corr_tick(c, NOW + 699999);
	ck_assert_int_eq(nalerts, 1);
	corr_tick(c, NOW + 700000);
	ck_assert_int_eq(nalerts, 2);
	ck_assert_str_eq(alerted_id, "6533241145273614337");
	corr_tick(c, NOW + 800000);
	ck_assert_int_eq(nalerts, 2);
	ck_assert_uint_eq(corr_stats(c)->alerts, 2);
	ck_assert_uint_eq(corr_stats(c)->entries, 2);
	ck_assert_int_eq(observe_file(c, "threat_quarantined_1", NOW + 900000,
	    &info), CORR_MATCHED);
	ck_assert_str_eq(info.det->file_name, "BIT657.tmp");
	/* A later detection, after the alerted ones went, alerts too. */
	observe_synth(c, DETECTED, "x", "1", NOW + 1000000);
	corr_tick(c, NOW + 1600000);
	ck_assert_int_eq(nalerts, 3);
	ck_assert_str_eq(alerted_id, "x");
	corr_free(c);
}
END_TEST

static size_t	 alerted_stream;

static void
on_alert_stream(const struct corr_detection *det, void *arg)
{
	nalerts += *(int *)arg;
	alerted_stream = det->stream;
}

/*
 * A reload moved the streams: stream 0 became 1; an entry of a stream that
 * went (old 1) alerts on no stream (SIZE_MAX: the router's first).
 */
START_TEST(test_rebind)
{
	struct corr		*c = new_corr(100, 3600, 600);
	struct amp_event	 ev;
	struct corr_info	 info;
	size_t			 map[2] = { 1, SIZE_MAX };
	int			 weight = 10;

	observe_synth(c, DETECTED, "d0", "1", NOW);
	synth(&ev, DETECTED, "d1", "2", (NOW + 1000) / 1000);
	corr_observe(c, &ev, 1, NOW + 1000, &info);
	corr_rebind(c, on_alert_stream, &weight, map, 2);
	corr_tick(c, NOW + 600000);
	ck_assert_int_eq(nalerts, 10);		/* the new callback and arg */
	ck_assert_uint_eq(alerted_stream, 1);
	corr_tick(c, NOW + 601000);
	ck_assert_int_eq(nalerts, 20);
	ck_assert_uint_eq(alerted_stream, SIZE_MAX);
	corr_free(c);
}
END_TEST

/* With unresolved_alert == ttl, nothing expires before its alert. */
START_TEST(test_alert_before_expiry)
{
	struct corr		*c = new_corr(100, 600, 600);

	observe_synth(c, DETECTED, "a", "1", NOW);
	ck_assert_int_eq(observe_synth(c, DETECTED, "b", "2", NOW + 600000),
	    CORR_PENDING);
	/* "a" is past ttl but owes its alert: not expired yet. */
	ck_assert_uint_eq(corr_stats(c)->entries, 2);
	corr_tick(c, NOW + 600500);
	ck_assert_int_eq(nalerts, 1);
	ck_assert_str_eq(alerted_id, "a");
	ck_assert_uint_eq(corr_stats(c)->expired, 1);
	ck_assert_uint_eq(corr_stats(c)->entries, 1);
	corr_free(c);
}
END_TEST

/* "ab" and then é up to n - 1 bytes, NUL-terminated. */
static void
fill_utf8(char *name, size_t n)
{
	size_t	 i;

	snprintf(name, n, "ab");
	for (i = 2; i + 2 < n; i += 2)
		memcpy(name + i, "\xc3\xa9", 3);
}

/* Values under the cap are kept whole; absent ones are empty, not NULL. */
START_TEST(test_truncation)
{
	struct corr		*c = new_corr(100, 3600, 0);
	struct amp_event	 ev;
	struct corr_info	 info;
	char			 name[512];

	fill_utf8(name, sizeof(name));
	synth(&ev, DETECTED, "t", "1", 0);
	ev.detection = name;
	ev.file_path = name;
	corr_observe(c, &ev, 0, NOW, &info);
	ck_assert_str_eq(info.det->detection, name);
	ck_assert_str_eq(info.det->file_path, name);
	ck_assert_int_eq(info.det->detected_ms, NOW);	/* no timestamp */
	ck_assert_ptr_nonnull(info.det->hostname);
	ck_assert_str_eq(info.det->hostname, "");
	ck_assert_str_eq(info.det->sha256, "");
	ck_assert_str_eq(info.det->severity, "");
	corr_free(c);
}
END_TEST

/* A value over the cap is cut at a UTF-8 boundary; the longest key is kept. */
START_TEST(test_over_cap)
{
	struct corr		*c = new_corr(100, 3600, 0);
	struct amp_event	 ev;
	struct corr_info	 info;
	char			*name, id[CORR_ID_MAX + 1];

	ck_assert_ptr_nonnull(name = malloc(10240));
	fill_utf8(name, 10240);
	memset(id, '5', CORR_ID_MAX);
	id[CORR_ID_MAX] = '\0';
	synth(&ev, DETECTED, id, "1", 0);		/* the longest key */
	ev.detection = name;
	ev.hostname = name;
	ev.file_path = name + 1;			/* starts "b\xc3" */
	corr_observe(c, &ev, 0, NOW, &info);
	ck_assert_int_eq(info.state, CORR_PENDING);
	ck_assert_uint_eq(strlen(info.det->detection), CORR_FIELD_MAX - 1);
	ck_assert_int_eq(memcmp(info.det->detection, name,
	    CORR_FIELD_MAX - 1), 0);
	ck_assert_str_eq(info.det->hostname, info.det->detection);
	ck_assert_uint_eq(strlen(info.det->file_path), CORR_FIELD_MAX);
	ck_assert_int_eq(memcmp(info.det->file_path, name + 1,
	    CORR_FIELD_MAX), 0);
	ck_assert_int_eq(observe_synth(c, QUARANTINED, id, "2", NOW),
	    CORR_MATCHED);
	free(name);
	corr_free(c);
}
END_TEST

/* Save, load into a new table, and an outcome still matches. */
START_TEST(test_snapshot_roundtrip)
{
	struct corr		*c = new_corr(100, 3600, 600);
	struct corr_info	 info;
	struct stat		 st;
	char			 path[128], tmp[160];

	snprintf(path, sizeof(path), "%s/corr.snap", tmpdir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	observe_file(c, "threat_detected_1", NOW, &info);
	corr_tick(c, NOW + 600000);			/* alerted */
	observe_file(c, "threat_detected_2_docs_pair", NOW + 700000, &info);
	observe_synth(c, DETECTED, "old", "1", NOW - 3000000);
	ck_assert_int_eq(nalerts, 1);
	ck_assert_int_eq(corr_save(c, path), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	corr_free(c);

	c = new_corr(100, 3600, 600);
	ck_assert_int_eq(corr_load(c, path, NOW + 800000), 0);
	ck_assert_uint_eq(corr_stats(c)->entries, 2);	/* "old" expired */
	ck_assert_uint_eq(corr_stats(c)->expired, 1);
	corr_tick(c, NOW + 1300000);
	ck_assert_int_eq(nalerts, 2);			/* the docs pair */
	ck_assert_str_eq(alerted_id, "6533241145273614338");
	ck_assert_int_eq(observe_file(c, "threat_quarantined_1",
	    NOW + 1400000, &info), CORR_MATCHED);
	ck_assert_str_eq(info.det->detection, "W32.Overdrive.RET");
	ck_assert_str_eq(info.det->file_path, "\\\\?\\C:\\BIT657.tmp");
	ck_assert_int_eq(info.det->detected_ms, INT64_C(1610618799657));
	ck_assert_int_eq(observe_file(c, "threat_quarantined_2_docs_pair",
	    NOW + 1400000, &info), CORR_MATCHED);
	ck_assert_str_eq(info.det->event_id, "6533241145273614339");
	corr_free(c);
}
END_TEST

/* All of a detection as one string, to compare (the caller frees it). */
static char *
det_text(const struct corr_detection *d)
{
	char	*t;

	ck_assert_ptr_nonnull(d->detection_id);
	ck_assert_ptr_nonnull(d->event_id);
	ck_assert_ptr_nonnull(d->detection);
	ck_assert_ptr_nonnull(d->connector_guid);
	ck_assert_ptr_nonnull(d->hostname);
	ck_assert_ptr_nonnull(d->file_name);
	ck_assert_ptr_nonnull(d->file_path);
	ck_assert_ptr_nonnull(d->sha256);
	ck_assert_ptr_nonnull(d->severity);
	ck_assert_int_ge(asprintf(&t,
	    "%s|%s|%lld|%lld|%s|%s|%s|%s|%s|%s|%s|%zu", d->detection_id,
	    d->event_id, (long long)d->detected_ms,
	    (long long)d->event_type_id, d->detection, d->connector_guid,
	    d->hostname, d->file_name, d->file_path, d->sha256, d->severity,
	    d->stream), 0);
	return t;
}

/* A detection with values over the cap and others absent. */
static void
observe_long(struct corr *c, int64_t now, struct corr_info *info)
{
	struct amp_event	 ev;
	char			*name;

	ck_assert_ptr_nonnull(name = malloc(8192));
	fill_utf8(name, 8192);
	synth(&ev, DETECTED, "long", "7", 1600000000);
	ev.detection = name;
	ev.hostname = name + 1;
	ev.file_path = name;
	ev.sha256 = "";
	corr_observe(c, &ev, 3, now, info);
	free(name);
}

/* The loaded entries' strings equal the saved ones, field for field. */
START_TEST(test_snapshot_strings)
{
	struct corr		*c = new_corr(100, 3600, 0);
	struct corr_info	 info;
	char			 path[128], *id[NDET + 1], *saved[NDET + 1], *t;
	int64_t			 out[NDET + 1];
	size_t			 i;

	snprintf(path, sizeof(path), "%s/corr.snap", tmpdir);
	for (i = 0; i <= NDET; i++) {
		if (i < NDET)
			observe_file(c, det_files[i], NOW + i, &info);
		else
			observe_long(c, NOW + i, &info);
		ck_assert_int_eq(info.state, CORR_PENDING);
		saved[i] = det_text(info.det);
		ck_assert_ptr_nonnull(id[i] = strdup(info.det->detection_id));
		out[i] = info.det->event_type_id == RETRO ? RETRO_Q :
		    QUARANTINED;
	}
	ck_assert_int_eq(corr_save(c, path), 0);
	corr_free(c);
	c = new_corr(100, 3600, 0);
	ck_assert_int_eq(corr_load(c, path, NOW + 10), 0);
	ck_assert_uint_eq(corr_stats(c)->entries, NDET + 1);
	for (i = 0; i <= NDET; i++) {
		ck_assert_int_eq(observe_synth_info(c, out[i], id[i], "q",
		    NOW + 20, &info), CORR_MATCHED);
		t = det_text(info.det);
		ck_assert_str_eq(t, saved[i]);
		free(t);
		free(id[i]);
		free(saved[i]);
	}
	corr_free(c);
}
END_TEST

/* A missing file is fine; a bounded load keeps the newest. */
START_TEST(test_snapshot_bounded)
{
	struct corr	*c = new_corr(100, 3600, 0);
	char		 path[128], id[8];
	int		 i;

	snprintf(path, sizeof(path), "%s/none", tmpdir);
	ck_assert_int_eq(corr_load(c, path, NOW), 0);
	snprintf(path, sizeof(path), "%s/corr.snap", tmpdir);
	for (i = 1; i <= 5; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		observe_synth(c, DETECTED, id, id, NOW + i);
	}
	ck_assert_int_eq(corr_save(c, path), 0);
	corr_free(c);
	c = new_corr(2, 3600, 0);
	ck_assert_int_eq(corr_load(c, path, NOW + 10), 0);
	ck_assert_uint_eq(corr_stats(c)->entries, 2);
	ck_assert_int_eq(observe_synth(c, QUARANTINED, "d3", "q", NOW + 20),
	    CORR_UNCORRELATED);
	ck_assert_int_eq(observe_synth(c, QUARANTINED, "d4", "q", NOW + 20),
	    CORR_MATCHED);
	ck_assert_int_eq(observe_synth(c, QUARANTINED, "d5", "q", NOW + 20),
	    CORR_MATCHED);
	corr_free(c);
}
END_TEST

/* Put a right CRC trailer on a forged snapshot. */
static void
set_crc(unsigned char *q, size_t n)
{
	uint32_t	 crc = crc32_update(0, q, n - 4);
	int		 i;

	for (i = 0; i < 4; i++)
		q[n - 4 + i] = (unsigned char)(crc >> (8 * i));
}

static void
write_file(const char *path, const unsigned char *p, size_t n)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* Load a damaged copy: refused, the table empty and still usable. */
static void
load_bad(const char *path, const unsigned char *p, size_t n)
{
	struct corr	*c = new_corr(100, 3600, 0);

	write_file(path, p, n);
	ck_assert_int_eq(corr_load(c, path, NOW), -1);
	ck_assert_uint_eq(corr_stats(c)->entries, 0);
	ck_assert_int_eq(observe_synth(c, DETECTED, "d1", "1", NOW),
	    CORR_PENDING);
	ck_assert_int_eq(observe_synth(c, QUARANTINED, "d1", "2", NOW),
	    CORR_MATCHED);
	corr_free(c);
}

/* Load a copy of p with byte at set to v and a right CRC: refused. */
static void
load_forged(const char *path, const unsigned char *p, size_t n, size_t at,
    unsigned char v)
{
	unsigned char	*q;

	ck_assert_ptr_nonnull(q = malloc(n));
	memcpy(q, p, n);
	q[at] = v;
	set_crc(q, n);
	load_bad(path, q, n);
	free(q);
}

START_TEST(test_snapshot_corrupt)
{
	struct corr	*c = new_corr(100, 3600, 0);
	char		 good[128], bad[128];
	unsigned char	*p, *q;
	size_t		 n, i;
	int		 level = log_getlevel();

	log_setlevel(LOG_LEVEL_ERROR);		/* each refusal warns */
	/* The trailer is IEEE's CRC-32: its check value. */
	ck_assert_uint_eq(crc32_update(0, "123456789", 9), 0xcbf43926u);
	snprintf(good, sizeof(good), "%s/good", tmpdir);
	snprintf(bad, sizeof(bad), "%s/bad", tmpdir);
	observe_synth(c, DETECTED, "d1", "1", NOW);
	observe_synth(c, DETECTED, "d2", "2", NOW);
	ck_assert_int_eq(corr_save(c, good), 0);
	corr_free(c);
	p = (unsigned char *)slurp(good, &n);
	ck_assert_uint_eq(n, 24 + 2 * (36 + 2 * 9 + 3) + 4);
	ck_assert_ptr_nonnull(q = malloc(n + 1));
	for (i = 0; i < n; i += 97) {			/* flipped bytes */
		memcpy(q, p, n);
		q[i] ^= 0x20;
		load_bad(bad, q, n);
	}
	load_bad(bad, p, n - 1);			/* truncated */
	load_bad(bad, p, 10);
	load_bad(bad, p, 0);
	memcpy(q, p, n);
	q[0] = 'X';					/* magic */
	load_bad(bad, q, n);
	load_forged(bad, p, n, 8, 1);			/* version 1 */
	load_forged(bad, p, n, 8, 3);			/* version 3 */
	memcpy(q, p, n);
	memset(q + 16, 0xff, 8);			/* huge count */
	load_bad(bad, q, n);
	load_forged(bad, p, n, 16, 1);			/* count too low */
	/* Record 1 at 24: 36 fixed bytes, then u16 2 "d1", u16 1 "1", ... */
	load_forged(bad, p, n, 24 + 36 + 3, 0);		/* NUL in a string */
	load_forged(bad, p, n, 24 + 36, 32);		/* id over its cap */
	load_forged(bad, p, n, 24 + 36 + 5, 0x10);	/* 4097: over the cap */
	load_forged(bad, p, n, 24 + 36 + 5, 0x0f);	/* past the end */
	load_forged(bad, p, n, 24 + 32, 2);		/* unknown flag */
	memcpy(q, p, n - 4);				/* a byte too many */
	q[n - 4] = 0;
	set_crc(q, n + 1);
	load_bad(bad, q, n + 1);
	memcpy(q, p, n);				/* check the forger */
	set_crc(q, n);
	write_file(bad, q, n);
	c = new_corr(100, 3600, 0);
	ck_assert_int_eq(corr_load(c, bad, NOW), 0);
	ck_assert_uint_eq(corr_stats(c)->entries, 2);
	corr_free(c);
	free(p);
	free(q);
	log_setlevel(level);
}
END_TEST

/* The real fixture detections take under 400 bytes an entry. */
START_TEST(test_entry_memory)
{
	struct corr		*c = new_corr(100, 3600, 0);
	struct corr_info	 info;
	size_t			 i, empty = corr_entry_size(c);

	for (i = 0; i < NDET; i++)
		ck_assert_int_eq(observe_file(c, det_files[i], NOW, &info),
		    CORR_PENDING);
	ck_assert_uint_eq(corr_stats(c)->entries, NDET);
	printf("corr: %zu bytes per entry (fixture detections), %zu empty\n",
	    corr_entry_size(c), empty);
	ck_assert_uint_gt(corr_entry_size(c), empty);
	ck_assert_uint_lt(corr_entry_size(c), 400);
	corr_free(c);
}
END_TEST

/* The pipeline's add_str, copied: an empty value was left out. */
static void
old_add_str(json_object *o, const char *key, const char *val)
{
	if (val != NULL && *val != '\0')
		json_object_object_add(o, key, json_object_new_string(val));
}

/* The pipeline's pipeline_alert_body, copied: the alert as JSON text. */
static char *
old_alert_body(const struct corr_detection *det, int64_t now)
{
	json_object	*o, *computer, *file, *identity;
	char		*body;

	o = json_object_new_object();
	computer = json_object_new_object();
	file = json_object_new_object();
	identity = json_object_new_object();
	old_add_str(o, "event_type", "Unresolved Detection");
	json_object_object_add(o, "event_type_id", json_object_new_int64(0));
	json_object_object_add(o, "timestamp",
	    json_object_new_int64(now / 1000));
	old_add_str(o, "detection", det->detection);
	old_add_str(o, "detection_id", det->detection_id);
	old_add_str(o, "connector_guid", det->connector_guid);
	old_add_str(o, "severity", det->severity);
	old_add_str(computer, "hostname", det->hostname);
	old_add_str(computer, "connector_guid", det->connector_guid);
	old_add_str(file, "file_name", det->file_name);
	old_add_str(file, "file_path", det->file_path);
	old_add_str(identity, "sha256", det->sha256);
	json_object_object_add(file, "identity", identity);
	json_object_object_add(o, "computer", computer);
	json_object_object_add(o, "file", file);
	ck_assert_ptr_nonnull(body = strdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
	json_object_put(o);
	return body;
}

/* Both absent, or both the same string. */
static void
same_str(const char *a, const char *b, const char *field)
{
	if (a == NULL || b == NULL)
		ck_assert_msg(a == b, "%s: %s vs %s", field, a ? a : "NULL",
		    b ? b : "NULL");
	else
		ck_assert_msg(strcmp(a, b) == 0, "%s: \"%s\" vs \"%s\"",
		    field, a, b);
}

/* Every field of two events the same (mem: both set, to be freed). */
static void
same_event(const struct amp_event *a, const struct amp_event *b)
{
#define STR(f)	same_str(a->f, b->f, #f)
#define NUM(f)	ck_assert_msg(a->f == b->f, #f ": %lld vs %lld", \
		    (long long)a->f, (long long)b->f)
	size_t	 i;

	/* mem_lent says how mem is held: not a field of the event. */
	_Static_assert(sizeof(struct amp_event) == 536,
	    "struct amp_event changed: compare its new fields here");
	ck_assert_ptr_nonnull(a->mem);
	ck_assert_ptr_nonnull(b->mem);
	NUM(body_len);
	ck_assert_str_eq(a->body, b->body);
	NUM(has_id); STR(id_str);
	STR(event_type); NUM(event_type_id);
	NUM(timestamp); NUM(timestamp_ns); STR(date);
	STR(severity); STR(detection);
	STR(detection_id);
	STR(connector_guid);
	STR(hostname); STR(user); STR(external_ip);
	STR(ipv4); STR(ipv6); STR(mac);
	STR(file_name); STR(file_path);
	STR(sha256); STR(sha1); STR(md5); STR(disposition);
	STR(parent_name); NUM(parent_pid); NUM(has_parent_pid);
	STR(parent_sha256);
	STR(description); NUM(has_error_code); NUM(error_code);
	STR(api_link); NUM(start_timestamp); STR(remote_ip);
	NUM(has_local_port); NUM(local_port);
	NUM(has_remote_port); NUM(remote_port);
	NUM(ngroups);
	for (i = 0; i < a->ngroups; i++)
		STR(group_guids[i]);
	STR(tactics); STR(techniques); STR(ips); STR(macs);
	STR(parent_sha1); STR(parent_md5); STR(parent_disposition);
	STR(archived_sha256); STR(archived_disposition); STR(os);
	STR(protocol); STR(direction); STR(dirty_url);
	STR(incident_id); STR(incident_title); STR(incident_summary);
	STR(incident_remediation);
#undef STR
#undef NUM
}

/* corr_alert_event gives what the old JSON text parsed back gave. */
static void
check_alert(const struct corr_detection *det, int64_t now)
{
	struct amp_event	 old, ev;
	const char		*reason = NULL;
	char			*body = old_alert_body(det, now);

	ck_assert_msg(event_parse(&old, body, strlen(body), &reason) == 0,
	    "%s", reason);
	corr_alert_event(det, now, &ev);
	same_event(&old, &ev);
	if (det->detection[0] != '\0')
		ck_assert_ptr_eq(ev.detection, det->detection);
	event_clear(&old);
	event_clear(&ev);
	ck_assert_ptr_null(ev.mem);
	free(body);
}

static void
on_alert_check(const struct corr_detection *det, void *arg)
{
	nalerts++;
	check_alert(det, *(int64_t *)arg);
}

/* A detection with these strings (the same in every field). */
static void
det_all(struct corr_detection *d, const char *s)
{
	memset(d, 0, sizeof(*d));
	d->detection_id = d->event_id = d->detection = d->connector_guid =
	    d->hostname = d->file_name = d->file_path = d->sha256 =
	    d->severity = s;
}

/* The alert event equals the old round trip through JSON text. */
START_TEST(test_alert_event)
{
	static const char hostile[] = "q\"b\\s/l\x01\x1f\x7f\t\n\r\b\f "
	    "\xc3\xa9\xf0\x9f\x98\x80<\\u0000>\xff\xfe";
	static const int64_t nows[] = { NOW, NOW + 999, 999, 0, -1000 };
	struct corr_conf	 conf = { 100, 3600, 600 };
	struct corr_detection	 d;
	struct corr_info	 info;
	struct corr		*c;
	int64_t			 now = NOW + 600000;
	char			*big;
	size_t			 i;

	c = corr_new(NULL, &conf, on_alert_check, &now);
	for (i = 0; i < NDET; i++) {
		observe_file(c, det_files[i], NOW, &info);
		check_alert(info.det, NOW);
	}
	corr_tick(c, now);				/* each one alerts */
	ck_assert_int_eq(nalerts, NDET);
	corr_free(c);
	det_all(&d, "");
	d.detection_id = "only-the-id";
	for (i = 0; i < nitems(nows); i++)
		check_alert(&d, nows[i]);
	det_all(&d, "");
	check_alert(&d, NOW);
	det_all(&d, hostile);
	check_alert(&d, NOW);
	ck_assert_ptr_nonnull(big = malloc(CORR_FIELD_MAX + 1));
	memset(big, '\x01', CORR_FIELD_MAX);		/* six bytes in JSON */
	big[CORR_FIELD_MAX] = '\0';
	det_all(&d, big);
	check_alert(&d, NOW);
	free(big);
}
END_TEST

/* 100000 entries, then 100000 matches: the table stays O(1). */
START_TEST(test_fill_100k)
{
	struct corr	*c = new_corr(100000, 86400, 3600);
	char		 id[24];
	int		 i;

	for (i = 0; i < 100000; i++) {
		snprintf(id, sizeof(id), "65332413471%08d", i);
		observe_synth(c, DETECTED, id, id, NOW + i);
	}
	ck_assert_uint_eq(corr_stats(c)->entries, 100000);
	printf("corr: %zu bytes per entry (100000 with only ids)\n",
	    corr_entry_size(c));
	corr_tick(c, NOW + 3600000 + 49999);
	ck_assert_int_eq(nalerts, 50000);
	for (i = 0; i < 100000; i++) {
		snprintf(id, sizeof(id), "65332413471%08d", i);
		ck_assert_int_eq(observe_synth(c, QUARANTINED, id, "q",
		    NOW + 3700000), CORR_MATCHED);
	}
	ck_assert_uint_eq(corr_stats(c)->entries, 0);
	corr_free(c);
}
END_TEST

Suite *
suite_corr(void)
{
	Suite	*s = suite_create("corr");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_real_pairs);
	tcase_add_test(tc, test_seconds_to_outcome);
	tcase_add_test(tc, test_outcome_first);
	tcase_add_test(tc, test_not_correlated);
	tcase_add_test(tc, test_retrospective);
	tcase_add_test(tc, test_number_detection_id);
	tcase_add_test(tc, test_expiry_tick);
	tcase_add_test(tc, test_expiry_timer);
	tcase_add_test(tc, test_eviction);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_unresolved_alert);
	tcase_add_test(tc, test_rebind);
	tcase_add_test(tc, test_alert_before_expiry);
	tcase_add_test(tc, test_alert_event);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_over_cap);
	tcase_add_test(tc, test_snapshot_roundtrip);
	tcase_add_test(tc, test_snapshot_strings);
	tcase_add_test(tc, test_snapshot_bounded);
	tcase_add_test(tc, test_snapshot_corrupt);
	tcase_add_test(tc, test_entry_memory);
	tcase_add_test(tc, test_fill_100k);
	suite_add_tcase(s, tc);
	return s;
}
