/* prom.c: the Prometheus text format and histograms (see prom.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "prom.h"

/* From 5 ms (a sink's round trip) to an hour (a stream's backlog). */
const int64_t prom_hist_le_ms[PROM_HIST_BUCKETS] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
	60000, 300000, 900000, 3600000
};

static void	prom_escape(struct buf *, const char *, int);

void
prom_hist_observe(uint64_t *slots, int64_t ms)
{
	int	 i;

	if (ms < 0)
		ms = 0;
	for (i = 0; i < PROM_HIST_BUCKETS; i++)
		if (ms <= prom_hist_le_ms[i]) {
			slots[i]++;
			break;
		}
	slots[PROM_HIST_SUM] += (uint64_t)ms;
	slots[PROM_HIST_COUNT]++;
}

/* Label values escape \ " and newline; HELP text only \ and newline. */
static void
prom_escape(struct buf *b, const char *s, int quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_puts(b, "\\\\");
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else if (*s == '"' && quote)
			buf_puts(b, "\\\"");
		else
			buf_putc(b, *s);
	}
}

void
prom_family(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_printf(b, "# HELP %s ", name);
	prom_escape(b, help, 0);
	buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

void
prom_label(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, "%s%s=\"", b->len > 0 ? "," : "", key);
	prom_escape(b, value, 1);
	buf_putc(b, '"');
}

static void
prom_name(struct buf *b, const char *name, const char *labels)
{
	if (labels != NULL && *labels != '\0')
		buf_printf(b, "%s{%s} ", name, labels);
	else
		buf_printf(b, "%s ", name);
}

void
prom_sample(struct buf *b, const char *name, const char *labels, double v)
{
	prom_name(b, name, labels);
	if (isnan(v))
		buf_puts(b, "NaN\n");
	else if (isinf(v))
		buf_puts(b, v > 0 ? "+Inf\n" : "-Inf\n");
	else
		buf_printf(b, "%.17g\n", v);
}

void
prom_sample_u64(struct buf *b, const char *name, const char *labels,
    uint64_t v)
{
	prom_name(b, name, labels);
	buf_printf(b, "%llu\n", (unsigned long long)v);
}

/* Buckets are cumulative in the format, per bucket in the slots. */
void
prom_hist(struct buf *b, const char *name, const char *labels,
    const uint64_t *slots)
{
	const char	*sep = labels != NULL && *labels != '\0' ? "," : "";
	uint64_t	 cum = 0;
	int		 i;

	if (labels == NULL)
		labels = "";
	for (i = 0; i < PROM_HIST_BUCKETS; i++) {
		cum += slots[i];
		buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
		    sep, prom_hist_le_ms[i] / 1000.0, (unsigned long long)cum);
	}
	buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
	    (unsigned long long)slots[PROM_HIST_COUNT]);
	buf_printf(b, "%s_sum", name);
	buf_printf(b, *labels ? "{%s} " : "%s ", labels);
	buf_printf(b, "%.3f\n", slots[PROM_HIST_SUM] / 1000.0);
	buf_printf(b, "%s_count", name);
	buf_printf(b, *labels ? "{%s} " : "%s ", labels);
	buf_printf(b, "%llu\n", (unsigned long long)slots[PROM_HIST_COUNT]);
}
