/*
 * format_bench.c: records per second per format on the fixture mix
 * (tests/fixtures/events/all.jsonl): every event is parsed once, then
 * formatted over and over for about two seconds per format, bare (into
 * one reused buffer) and as the daemon makes a sink's record (record_make:
 * RFC 5424 header, octet counting, max_record 8192, one malloc'd record
 * each).  Printed, not asserted.
 *
 * usage: format_bench [FILE [COUNT FORMAT]]
 * With COUNT and FORMAT, only FORMAT's rows, COUNT records each (FORMAT
 * "parse": COUNT event_read calls, nothing else): a fixed amount of work to time from outside (farm-bench
 * pairs two builds run by run, which a shared machine's drift needs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json.h>

#include "buf.h"
#include "config.h"
#include "event.h"
#include "format.h"
#include "record.h"
#include "syslog.h"

#define BENCH_MAX_EVENTS	256
#define BENCH_SECONDS		2.0

struct bench {
	struct amp_event ev[BENCH_MAX_EVENTS];
	char		*body[BENCH_MAX_EVENTS];
	size_t		 n;
};

static int	bench_load(struct bench *, const char *);
static double	bench_now(void);
static double	bench_run(const struct bench *, const struct format_ops *,
		    bool, size_t, double *);
static int	bench_one(const struct amp_event *, const struct format_ops *,
		    const struct record_recipe *, struct buf *, size_t *);
static void	bench_parse(const struct bench *, size_t);

int
main(int argc, char **argv)
{
	static const char *const names[] = { "cef", "json", "leef" };
	struct bench	 b;
	double		 rate, bytes;
	size_t		 i, f, count = argc > 3 ? strtoul(argv[2], NULL, 10) : 0;

	memset(&b, 0, sizeof(b));
	if (bench_load(&b, argc > 1 ? argv[1] :
	    "tests/fixtures/events/all.jsonl") == -1)
		return 1;
	if (count == 0) {
		printf("%zu fixture events, %.0f s per row\n\n", b.n,
		    BENCH_SECONDS);
		bench_parse(&b, 0);
	} else if (strcmp(argv[3], "parse") == 0) {
		bench_parse(&b, count);
		goto done;
	}
	printf("%-6s %-14s %14s %12s\n", "format", "framing", "records/s",
	    "avg bytes");
	for (f = 0; f < 3; f++)
		for (i = 0; i < 2; i++) {
			if (count > 0 && strcmp(argv[3], names[f]) != 0)
				continue;
			rate = bench_run(&b, format_lookup(names[f]), i == 1,
			    count, &bytes);
			printf("%-6s %-14s %14.0f %12.0f\n", names[f],
			    i ? "rfc5424+octet" : "none", rate, bytes);
		}
done:
	for (i = 0; i < b.n; i++) {
		event_clear(&b.ev[i]);
		free(b.body[i]);
	}
	return 0;
}

/* Parse every line of path. */
static int
bench_load(struct bench *b, const char *path)
{
	char		 line[1 << 16];
	const char	*reason;
	FILE		*f;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return -1;
	}
	while (b->n < BENCH_MAX_EVENTS && fgets(line, sizeof(line), f)) {
		b->body[b->n] = strdup(line);
		if (event_parse(&b->ev[b->n], b->body[b->n], strlen(line),
		    &reason) == -1) {
			fprintf(stderr, "%s: %s\n", path, reason);
			free(b->body[b->n]);
			continue;
		}
		b->n++;
	}
	fclose(f);
	return b->n > 0 ? 0 : -1;
}

static double
bench_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Parsing: event_read (what the daemon does per message) against json-c's
 * strict tokenizer building its tree (what it did before), per event; with
 * count, count event_reads only.
 */
static void
bench_parse(const struct bench *b, size_t count)
{
	struct amp_event	 ev;
	struct event_mem	 mem = { NULL, 0 };	/* as route.c lends */
	struct json_tokener	*tok = json_tokener_new();
	const char		*reason;
	double			 t0, t;
	size_t			 n, i, k;

	for (k = 0; k < (count > 0 ? 1 : 2); k++) {
		t0 = bench_now();
		n = 0;
		do {
			for (i = 0; i < b->n; i++) {
				if (k == 0 && event_read(&ev, b->body[i],
				    strlen(b->body[i]), &mem, &reason) == 0)
					event_clear(&ev);
				if (k == 1) {
					json_tokener_reset(tok);
					json_tokener_set_flags(tok,
					    JSON_TOKENER_STRICT);
					json_object_put(json_tokener_parse_ex(
					    tok, b->body[i],
					    (int)strlen(b->body[i])));
				}
			}
			n += b->n;
			t = bench_now() - t0;
		} while (count > 0 ? n < count : t < BENCH_SECONDS);
		printf("parse  %-30s %8.2f us/event\n", k == 0 ?
		    "event_read (jscan)" : "json-c tree (before)", t / n * 1e6);
	}
	printf("\n");
	event_mem_free(&mem);
	json_tokener_free(tok);
}

/* Records per second of fmt over the mix; *bytes the average size. */
static double
bench_run(const struct bench *b, const struct format_ops *fmt, bool framed,
    size_t count, double *bytes)
{
	struct sink_conf sc = { .name = "bench", .format = (char *)fmt->name,
	    .syslog = SYSLOG_RFC5424, .framing = FRAMING_OCTET,
	    .max_record = 8192, .facility = 16, .app_name = "ampstream",
	    .default_severity = 1 };
	struct record_recipe *r = NULL;
	struct buf	 out;
	double		 t0, t;
	size_t		 n = 0, total = 0, i, len;
	char		*cause = NULL;

	if (framed && (r = record_recipe_new(&sc, "bench.example", &cause)) ==
	    NULL) {
		fprintf(stderr, "%s\n", cause);
		exit(1);
	}
	buf_init(&out, 0);
	t0 = bench_now();
	do {
		for (i = 0; i < b->n; i++) {
			buf_reset(&out);
			if (bench_one(&b->ev[i], fmt, r, &out, &len) == -1)
				fprintf(stderr, "%s: record %zu failed\n",
				    fmt->name, i);
			total += len;
		}
		n += b->n;
		t = bench_now() - t0;
	} while (count > 0 ? n < count : t < BENCH_SECONDS);
	buf_free(&out);
	record_recipe_free(r);
	*bytes = (double)total / n;
	return n / t;
}

/* One record, bare into out or as the pipeline makes it (r); *len its size. */
static int
bench_one(const struct amp_event *ev, const struct format_ops *fmt,
    const struct record_recipe *r, struct buf *out, size_t *len)
{
	struct format_ctx ctx = { .stream = "bench", .cloud = "nam",
	    .console_url = "https://console.amp.cisco.com/computers/x/"
	    "trajectory2?id=1", .received_ms = 1795546800123LL,
	    .default_severity = 1, .max_len = 8192 };
	char		*rec;

	*len = 0;
	if (r == NULL) {
		if (fmt->format(ev, &ctx, out) == -1)
			return -1;
		*len = out->len;
		return 0;
	}
	if ((rec = record_make(r, ev, &ctx, len)) == NULL)
		return -1;
	free(rec);
	return 0;
}
