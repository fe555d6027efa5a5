/*
 * spool_bench.c: records/s through the disk spool, appending with one
 * spool_sync (one write + one fsync) per batch, then replaying.
 *
 *	make B=build all
 *	cc -O2 -std=gnu11 -D_GNU_SOURCE -Idaemon -o build/spool_bench \
 *	    bench/spool_bench.c build/libampstream.a
 *	build/spool_bench [records] [record size] [dir]
 *
 * dir defaults to a fresh directory under /tmp (put it on the disk the
 * daemon's state_dir lives on: fsync cost is what this measures).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"

static double	 now(void);
static void	 run(const char *, long, size_t, long);

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends n records of size bytes with a sync every batch, then replays. */
static void
run(const char *dir, long n, size_t size, long batch)
{
	struct spool	*sp;
	char		*rec, *cause = NULL;
	const void	*p;
	size_t		 len;
	double		 t0, t1, t2;
	long		 i;

	if ((sp = spool_open(dir, 0, &cause)) == NULL)
		fatalx("%s", cause);
	if ((rec = malloc(size)) == NULL)
		fatal("malloc");
	memset(rec, 'x', size);
	t0 = now();
	for (i = 0; i < n; i++) {
		if (spool_append(sp, rec, size) != SPOOL_OK ||
		    ((i + 1) % batch == 0 && spool_sync(sp) != SPOOL_OK))
			fatalx("append failed");
	}
	if (spool_sync(sp) != SPOOL_OK)
		fatalx("sync failed");
	t1 = now();
	for (i = 0; i < n; i++) {
		if (spool_peek(sp, (uint64_t)(i % batch), &p, &len) !=
		    SPOOL_OK || len != size)
			fatalx("peek failed");
		if ((i + 1) % batch == 0 &&
		    spool_consume(sp, (uint64_t)batch) != SPOOL_OK)
			fatalx("consume failed");
	}
	(void)spool_consume(sp, spool_records(sp));
	t2 = now();
	printf("spool: %ld x %zu B, fsync every %4ld: append %8.0f rec/s "
	    "(%6.1f MB/s), replay %8.0f rec/s\n", n, size, batch,
	    n / (t1 - t0), n * (double)size / (t1 - t0) / 1e6, n / (t2 - t1));
	spool_close(sp);
	free(rec);
}

int
main(int argc, char **argv)
{
	static const long batches[] = { 1, 10, 100, 1000 };
	char		 tmpl[] = "/tmp/spool-bench-XXXXXX", path[4096];
	const char	*base;
	long		 n = argc > 1 ? atol(argv[1]) : 200000;
	size_t		 size = argc > 2 ? (size_t)atol(argv[2]) : 1024;
	size_t		 i;

	log_init(LOG_LEVEL_WARN);
	if (argc > 3)
		base = argv[3];
	else if ((base = mkdtemp(tmpl)) == NULL)
		fatal("mkdtemp");
	for (i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		snprintf(path, sizeof(path), "%s/b%ld", base, batches[i]);
		run(path, batches[i] == 1 ? n / 20 : n, size, batches[i]);
		rmdir(path);
	}
	if (argc <= 3)
		rmdir(base);
	return 0;
}
