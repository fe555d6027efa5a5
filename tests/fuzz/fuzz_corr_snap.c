/*
 * fuzz_corr_snap.c: the input as a correlation snapshot, loaded with
 * corr_load; when that fails, once more with the CRC trailer made right, so
 * that mutations reach past the checksum.  A snapshot that loads is ticked
 * (alerts, expiry), saved, loaded into a fresh table and saved again: the
 * two saved files must be the same bytes, the two tables the same size.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "corr.h"
#include "crc32.h"
#include "fuzz_util.h"

#define TICK_MS		61000	/* past unresolved_alert */
#define HDR_SIZE	24	/* daemon/corr_snap.c */
#define FIXED_SIZE	36
#define NSTR		9

static const struct corr_conf conf = {
	.max_entries = 8,
	.ttl = 3600,
	.unresolved_alert = 60,
};

static void	 on_alert(const struct corr_detection *, void *);
static void	 round_trip(struct corr *, const char *, int);
static int	 in_order(const uint8_t *, size_t, int64_t);
static int64_t	 get_i64(const uint8_t *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corr	*c;
	char		 path[512];
	uint8_t		*fixed;
	uint32_t	 crc;
	int		 rv;

	fz_quiet(1);
	fz_path(path, sizeof(path), fz_tmpdir(), "snap");
	fz_write(path, data, size, 0600);
	c = corr_new(NULL, &conf, on_alert, NULL);
	rv = corr_load(c, path, FZ_NOW_MS);
	FZ_CHECK(rv == 0 || corr_stats(c)->entries == 0,
	    "a failed load left %zu entries", corr_stats(c)->entries);
	if (rv == -1 && size >= 4) {
		if ((fixed = malloc(size)) == NULL)
			fz_fail("malloc");
		memcpy(fixed, data, size);
		crc = crc32_update(0, fixed, size - 4);
		fixed[size - 4] = (uint8_t)crc;
		fixed[size - 3] = (uint8_t)(crc >> 8);
		fixed[size - 2] = (uint8_t)(crc >> 16);
		fixed[size - 1] = (uint8_t)(crc >> 24);
		fz_write(path, fixed, size, 0600);
		free(fixed);
		rv = corr_load(c, path, FZ_NOW_MS);
	}
	if (fz_verbose())
		fprintf(stderr, "corr_load: %d, %zu entries\n", rv,
		    corr_stats(c)->entries);
	if (rv == 0)
		round_trip(c, path, in_order(data, size, FZ_NOW_MS));
	corr_free(c);
	fz_quiet(0);
	return 0;
}

/* The detection's strings are there and within their caps. */
static void
on_alert(const struct corr_detection *d, void *arg __unused)
{
	const char	*s[] = { d->detection_id, d->event_id, d->detection,
	    d->connector_guid, d->hostname, d->file_name, d->file_path,
	    d->sha256, d->severity };
	size_t		 i;

	FZ_CHECK(strlen(d->detection_id) <= CORR_ID_MAX &&
	    *d->detection_id != '\0', "alert: bad detection_id");
	for (i = 0; i < nitems(s); i++)
		FZ_CHECK(s[i] != NULL && strlen(s[i]) <= CORR_FIELD_MAX,
		    "alert: string %zu", i);
}

/*
 * Tick, save, load into a fresh table, save again: the same bytes.  F5
 * (README.md): when the records' arrival times are out of order, a tick
 * keeps entries past ttl that a load drops; the comparison is skipped.
 */
static void
round_trip(struct corr *c, const char *path, int ordered)
{
	struct corr	*c2;
	char		 p2[512], p3[512];
	char		*a, *b;
	size_t		 na, nb;

	corr_tick(c, FZ_NOW_MS + TICK_MS);
	snprintf(p2, sizeof(p2), "%s.2", path);
	snprintf(p3, sizeof(p3), "%s.3", path);
	FZ_CHECK(corr_save(c, p2) == 0, "corr_save");
	c2 = corr_new(NULL, &conf, on_alert, NULL);
	FZ_CHECK(corr_load(c2, p2, FZ_NOW_MS + TICK_MS) == 0,
	    "a saved snapshot does not load");
	FZ_CHECK(!ordered || corr_stats(c2)->entries == corr_stats(c)->entries,
	    "saved %zu entries, loaded %zu", corr_stats(c)->entries,
	    corr_stats(c2)->entries);
	FZ_CHECK(corr_save(c2, p3) == 0, "corr_save again");
	a = fz_read(p2, &na);
	b = fz_read(p3, &nb);
	FZ_CHECK(a != NULL && b != NULL, "snapshots not read back");
	FZ_CHECK(!ordered || (na == nb && memcmp(a, b, na) == 0),
	    "save, load, save: the snapshots differ");
	free(a);
	free(b);
	corr_free(c2);
}

/*
 * Whether the records' arrival times, as loaded (one in the future is now),
 * never go down.  The input loaded, so its framing holds.
 */
static int
in_order(const uint8_t *d, size_t n, int64_t now)
{
	size_t		 off = HDR_SIZE, i;
	int64_t		 t, last = INT64_MIN;

	while (off + FIXED_SIZE <= n - 4) {
		t = get_i64(d + off);
		if (t > now)
			t = now;
		if (t < last)
			return 0;
		last = t;
		off += FIXED_SIZE;
		for (i = 0; i < NSTR && off + 2 <= n; i++)
			off += 2 + ((size_t)d[off] | (size_t)d[off + 1] << 8);
	}
	return 1;
}

static int64_t
get_i64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return (int64_t)v;
}
