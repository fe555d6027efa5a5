/*
 * prom.h: the Prometheus text exposition format (version 0.0.4), and the
 * fixed-bucket histograms it shows.
 *
 * A histogram lives in a plain row of PROM_HIST_SLOTS counters (bucket
 * counts, then the sum in milliseconds, then the count), so it can sit in
 * the same rows as the other counters and be bumped without allocating.
 */
#ifndef AMPSTREAM_PROM_H
#define AMPSTREAM_PROM_H

#include <stdint.h>

struct buf;

#define PROM_HIST_BUCKETS	16
#define PROM_HIST_SUM		PROM_HIST_BUCKETS	/* milliseconds */
#define PROM_HIST_COUNT		(PROM_HIST_BUCKETS + 1)
#define PROM_HIST_SLOTS		(PROM_HIST_BUCKETS + 2)

/* Upper bounds of the buckets, in milliseconds (+Inf is implied). */
extern const int64_t prom_hist_le_ms[PROM_HIST_BUCKETS];

/* Count one observation of ms milliseconds (negative counts as 0). */
void	prom_hist_observe(uint64_t *slots, int64_t ms);

/* "# HELP name help\n# TYPE name type\n" (help escaped). */
void	prom_family(struct buf *, const char *name, const char *type,
	    const char *help);
/*
 * Append one label to a label set being built in b: key="value", escaped,
 * comma-separated from the ones before.
 */
void	prom_label(struct buf *b, const char *key, const char *value);
/* "name{labels} value\n"; labels may be NULL or "". */
void	prom_sample(struct buf *, const char *name, const char *labels,
	    double value);
void	prom_sample_u64(struct buf *, const char *name, const char *labels,
	    uint64_t value);
/* name_bucket{labels,le=...}, name_sum (seconds), name_count. */
void	prom_hist(struct buf *, const char *name, const char *labels,
	    const uint64_t *slots);

#endif
