/*
 * stats_prom.c: the counters in the Prometheus text format, and the
 * daemon's health, for the metrics endpoint (metrics.h).  Names follow
 * Prometheus's conventions: ampstream_ prefix, _total counters, base
 * units; labels stream, cloud, sink.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "buf.h"
#include "config.h"
#include "connector.h"
#include "corr.h"
#include "groups.h"
#include "deadletter.h"
#include "prom.h"
#include "sink.h"
#include "stats.h"
#include "stats_int.h"
#include "status.h"
#include "stream.h"

/* One family of per-part values: a row index, or a gauge read elsewhere. */
struct family {
	const char	*name;
	const char	*type;
	const char	*help;
	int		 ctr;
};

static const struct family stream_fams[] = {
	{ "ampstream_stream_deliveries_total", "counter",
	    "Messages delivered by the broker.", SST_DELIVERED },
	{ "ampstream_stream_acks_total", "counter",
	    "Messages acknowledged to the broker.", SST_ACKED },
	{ "ampstream_stream_redeliveries_total", "counter",
	    "Messages the broker delivered again.", SST_REDELIVERED },
	{ "ampstream_stream_dead_letters_total", "counter",
	    "Messages written to the dead letters.", SST_DEADLETTERED },
	{ "ampstream_stream_dead_letter_bytes", "gauge",
	    "Bytes held in the stream's dead letters.", SST_DL_BYTES },
	{ "ampstream_stream_connects_total", "counter",
	    "Connections that reached consuming.", SST_CONNECTS },
	{ "ampstream_stream_backlog_messages", "gauge",
	    "Messages ready in the AMP queue (passive queue.declare, "
	    "at most 30 s old while connected).", SST_BACKLOG },
	{ "ampstream_stream_last_event_timestamp_seconds", "gauge",
	    "When the last event was received (unix time; 0: none yet).",
	    SST_LAST_EVENT },
};

static const struct family sink_fams[] = {
	{ "ampstream_sink_records_sent_total", "counter",
	    "Records the destination accepted directly.", SSK_SENT },
	{ "ampstream_sink_records_failed_total", "counter",
	    "Connection attempts or sends that failed.", SSK_FAILED },
	{ "ampstream_sink_records_resent_total", "counter",
	    "Records sent again after a lost connection.", SSK_RESENT },
	{ "ampstream_sink_records_spooled_total", "counter",
	    "Records written to the disk spool.", SSK_SPOOLED },
	{ "ampstream_sink_records_replayed_total", "counter",
	    "Spooled records delivered later.", SSK_REPLAYED },
	{ "ampstream_sink_spool_records", "gauge",
	    "Records in the disk spool.", SSK_IN_SPOOL },
	{ "ampstream_sink_spool_bytes", "gauge",
	    "Bytes in the disk spool.", SSK_SPOOL_BYTES },
	{ "ampstream_sink_spool_oldest_age_seconds", "gauge",
	    "Age of the oldest spooled record (at most this; 0: empty).",
	    SSK_SPOOL_AGE },
};

static const struct family corr_fams[] = {
	{ "ampstream_correlation_entries", "gauge",
	    "Detections waiting for an outcome.", SCO_ENTRIES },
	{ "ampstream_correlation_stored_total", "counter",
	    "Detections stored.", SCO_STORED },
	{ "ampstream_correlation_matched_total", "counter",
	    "Outcomes matched to a detection.", SCO_MATCHED },
	{ "ampstream_correlation_uncorrelated_total", "counter",
	    "Outcomes without a stored detection.", SCO_UNMATCHED },
	{ "ampstream_correlation_expired_total", "counter",
	    "Detections expired (ttl).", SCO_EXPIRED },
	{ "ampstream_correlation_evicted_total", "counter",
	    "Detections evicted (max_entries).", SCO_EVICTED },
	{ "ampstream_correlation_duplicates_total", "counter",
	    "Detections seen again.", SCO_DUPLICATES },
	{ "ampstream_correlation_alerts_total", "counter",
	    "Unresolved-detection alerts made.", SCO_ALERTS },
};

static const char *const stream_states[SS_MAX] = {
	[SS_CONSUMING] = "consuming", [SS_CONNECTING] = "connecting",
	[SS_BACKOFF] = "backing_off", [SS_SUSPENDED] = "suspended",
	[SS_STOPPED] = "stopped"
};

static void	stats_prom_streams(struct stats *, struct buf *);
static void	stats_prom_sinks(struct stats *, struct buf *);
static void	stats_prom_corr(struct stats *, struct buf *);
static void	stats_prom_groups(struct stats *, struct buf *);
static void	stats_prom_process(struct stats *, struct buf *);
static void	stream_labels(struct stats *, size_t, struct buf *);
static void	sink_labels(struct stats *, size_t, struct buf *);

const char *
stats_stream_label(struct stats *st, size_t i)
{
	return stream_states[stats_sstate(st->streams[i])];
}

static void
stream_labels(struct stats *st, size_t i, struct buf *l)
{
	const struct stream_conf *sc = &st->cfg->streams[i];

	buf_reset(l);
	prom_label(l, "stream", sc->name);
	if (sc->cloud != NULL)
		prom_label(l, "cloud", sc->cloud);
}

static void
sink_labels(struct stats *st, size_t i, struct buf *l)
{
	buf_reset(l);
	prom_label(l, "sink", st->cfg->sinks[i].name);
}

void
stats_prom(struct stats *st, struct buf *b)
{
	prom_family(b, "ampstream_build_info", "gauge",
	    "The running build (always 1).");
	buf_printf(b, "ampstream_build_info{version=\"%s\"} 1\n",
	    AMPSTREAM_VERSION);
	if (st->streams != NULL) {
		stats_prom_streams(st, b);
		stats_prom_sinks(st, b);
		stats_prom_corr(st, b);
		stats_prom_groups(st, b);
	}
	stats_prom_process(st, b);
}

static void
stats_prom_streams(struct stats *st, struct buf *b)
{
	struct buf	 l;
	size_t		 f, i, k;
	uint64_t	*row;

	buf_init(&l, 0);
	for (i = 0; i < st->cfg->nstreams; i++)
		stats_stream_row(st, i)[SST_DL_BYTES] =
		    deadletter_bytes(stream_deadletter(st->streams[i]));
	prom_family(b, "ampstream_stream_up", "gauge",
	    "1 when the stream is consuming.");
	for (i = 0; i < st->cfg->nstreams; i++) {
		stream_labels(st, i, &l);
		prom_sample_u64(b, "ampstream_stream_up", l.data,
		    stream_connected(st->streams[i]));
	}
	prom_family(b, "ampstream_stream_state", "gauge",
	    "1 for the state the stream is in.");
	for (i = 0; i < st->cfg->nstreams; i++)
		for (k = 0; k < nitems(stream_states); k++) {
			stream_labels(st, i, &l);
			prom_label(&l, "state", stream_states[k]);
			prom_sample_u64(b, "ampstream_stream_state", l.data,
			    stats_sstate(st->streams[i]) == k);
		}
	for (f = 0; f < nitems(stream_fams); f++) {
		prom_family(b, stream_fams[f].name, stream_fams[f].type,
		    stream_fams[f].help);
		for (i = 0; i < st->cfg->nstreams; i++) {
			stream_labels(st, i, &l);
			row = stats_stream_row(st, i);
			prom_sample_u64(b, stream_fams[f].name, l.data,
			    row[stream_fams[f].ctr]);
		}
	}
	prom_family(b, "ampstream_stream_connect_failures_total", "counter",
	    "Connection attempts that failed, by reason (config, connect, "
	    "tls, login, queue).");
	for (i = 0; i < st->cfg->nstreams; i++)
		for (k = 0; k < CONN_R_MAX; k++) {
			stream_labels(st, i, &l);
			prom_label(&l, "reason", connector_reasons[k]);
			prom_sample_u64(b, "ampstream_stream_connect_failures_total",
			    l.data, stream_connect_failures(st->streams[i],
			    (int)k));
		}
	prom_family(b, "ampstream_stream_event_lag_seconds", "histogram",
	    "Receive time minus the event's own timestamp.");
	for (i = 0; i < st->cfg->nstreams; i++) {
		stream_labels(st, i, &l);
		prom_hist(b, "ampstream_stream_event_lag_seconds", l.data,
		    stats_stream_row(st, i) + STATS_LAG);
	}
	buf_free(&l);
}

static void
stats_prom_sinks(struct stats *st, struct buf *b)
{
	struct buf	 l;
	size_t		 f, i;

	buf_init(&l, 0);
	for (i = 0; i < st->cfg->nsinks; i++)
		stats_sink_gauges(st, i);
	prom_family(b, "ampstream_sink_up", "gauge",
	    "1 when the sink's destination takes records.");
	for (i = 0; i < st->cfg->nsinks; i++) {
		sink_labels(st, i, &l);
		prom_sample_u64(b, "ampstream_sink_up", l.data,
		    sink_up(st->sinks[i]));
	}
	prom_family(b, "ampstream_sink_spool_full", "gauge",
	    "1 when the spool is full or failing (consumption stops).");
	for (i = 0; i < st->cfg->nsinks; i++) {
		sink_labels(st, i, &l);
		prom_sample_u64(b, "ampstream_sink_spool_full", l.data,
		    sink_blocked(st->sinks[i], NULL));
	}
	prom_family(b, "ampstream_sink_spool_max_bytes", "gauge",
	    "The spool's bound (0: no spool).");
	for (i = 0; i < st->cfg->nsinks; i++) {
		sink_labels(st, i, &l);
		prom_sample_u64(b, "ampstream_sink_spool_max_bytes", l.data,
		    sink_has_spool(st->sinks[i]) ?
		    st->cfg->sinks[i].spool_max_bytes : 0);
	}
	for (f = 0; f < nitems(sink_fams); f++) {
		prom_family(b, sink_fams[f].name, sink_fams[f].type,
		    sink_fams[f].help);
		for (i = 0; i < st->cfg->nsinks; i++) {
			sink_labels(st, i, &l);
			prom_sample_u64(b, sink_fams[f].name, l.data,
			    stats_sink_row(st, i)[sink_fams[f].ctr]);
		}
	}
	prom_family(b, "ampstream_sink_delivery_latency_seconds", "histogram",
	    "From a record's making (its message received) to its "
	    "acceptance by the destination or the spool.");
	for (i = 0; i < st->cfg->nsinks; i++) {
		sink_labels(st, i, &l);
		prom_hist(b, "ampstream_sink_delivery_latency_seconds", l.data,
		    stats_sink_row(st, i) + STATS_LATENCY);
	}
	buf_free(&l);
}

static void
stats_prom_corr(struct stats *st, struct buf *b)
{
	uint64_t	 v[SCO_MAX];
	size_t		 f;

	stats_corr_row(st->corr, v);
	for (f = 0; f < nitems(corr_fams); f++) {
		prom_family(b, corr_fams[f].name, corr_fams[f].type,
		    corr_fams[f].help);
		prom_sample_u64(b, corr_fams[f].name, NULL, v[corr_fams[f].ctr]);
	}
}

/* The REST cache of each cloud some stream takes events from. */
static void
stats_prom_groups(struct stats *st, struct buf *b)
{
	static const struct {
		const char	*name, *type, *help;
		size_t		 off;
	} fams[] = {
		{ "ampstream_groups_names", "gauge",
		    "Group names known, by cloud.",
		    offsetof(struct groups_stats, entries) },
		{ "ampstream_groups_computers", "gauge",
		    "Computers whose policy or isolation status is known, "
		    "by cloud.",
		    offsetof(struct groups_stats, computers) },
		{ "ampstream_groups_refreshes_total", "counter",
		    "Complete listings of GET /v1/groups and /v1/computers.",
		    offsetof(struct groups_stats, refreshes) },
		{ "ampstream_groups_failures_total", "counter",
		    "GET /v1/groups and /v1/computers requests that failed "
		    "(429 included).",
		    offsetof(struct groups_stats, failures) },
	};
	const struct groups_stats *gs;
	struct buf	 l;
	size_t		 f, i;

	buf_init(&l, 0);
	for (f = 0; f < nitems(fams); f++) {
		prom_family(b, fams[f].name, fams[f].type, fams[f].help);
		for (i = 0; i < st->cfg->nclouds; i++) {
			if ((gs = groups_stats(st->groups, i)) == NULL)
				continue;
			buf_reset(&l);
			prom_label(&l, "cloud", st->cfg->clouds[i].name);
			prom_sample_u64(b, fams[f].name, l.data,
			    *(const uint64_t *)(const void *)
			    ((const char *)gs + fams[f].off));
		}
	}
	buf_free(&l);
}

/* When this process started (unix seconds), from /proc; 0 if unknown. */
static double
proc_start_time(void)
{
	static double	 start;
	unsigned long long ticks = 0, btime = 0;
	char		 line[256];
	FILE		*f;

	if (start != 0)
		return start;
	if ((f = fopen("/proc/stat", "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "btime %llu", &btime) == 1)
				break;
		fclose(f);
	}
	if ((f = fopen("/proc/self/stat", "re")) != NULL) {
		/* Field 22; comm (field 2) may hold spaces: skip past ')'. */
		if (fgets(line, sizeof(line), f) != NULL && strrchr(line, ')'))
			(void)sscanf(strrchr(line, ')') + 2, "%*c %*d %*d %*d "
			    "%*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			    "%*d %*d %*d %llu", &ticks);
		fclose(f);
	}
	if (btime != 0 && ticks != 0)
		start = btime + (double)ticks / sysconf(_SC_CLK_TCK);
	return start;
}

static unsigned long
proc_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	unsigned long	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;	/* not the one reading it */
}

/* The standard process_* metrics of the client libraries. */
static void
stats_prom_process(struct stats *st __unused, struct buf *b)
{
	struct rusage	 ru;
	struct rlimit	 rl;
	unsigned long	 vsize = 0, rss = 0;
	FILE		*f;

	getrusage(RUSAGE_SELF, &ru);
	prom_family(b, "process_cpu_seconds_total", "counter",
	    "Total user and system CPU time spent in seconds.");
	prom_sample(b, "process_cpu_seconds_total", NULL,
	    ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	if ((f = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(f, "%lu %lu", &vsize, &rss) != 2)
			vsize = rss = 0;
		fclose(f);
	}
	prom_family(b, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.");
	prom_sample(b, "process_resident_memory_bytes", NULL,
	    (double)rss * sysconf(_SC_PAGESIZE));
	prom_family(b, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.");
	prom_sample(b, "process_virtual_memory_bytes", NULL,
	    (double)vsize * sysconf(_SC_PAGESIZE));
	prom_family(b, "process_open_fds", "gauge",
	    "Number of open file descriptors.");
	prom_sample_u64(b, "process_open_fds", NULL, proc_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		prom_family(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		prom_sample(b, "process_max_fds", NULL, (double)rl.rlim_cur);
	}
	prom_family(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	prom_sample(b, "process_start_time_seconds", NULL, proc_start_time());
}

/* A failing part's line: {"stream":"s1","state":"backing_off"}. */
static void
health_line(struct buf *b, const char *kind, const char *name,
    const char *key, const char *val)
{
	json_object	*o = json_object_new_object();

	json_object_object_add(o, kind, json_object_new_string(name));
	json_object_object_add(o, key, json_object_new_string(val));
	buf_printf(b, "%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/*
 * Healthy: every stream consuming, every sink up or spooling within its
 * bounds (down with a spool that still takes records).
 */
int
stats_health(struct stats *st, struct buf *b)
{
	const struct sink *s;
	size_t		 i;
	int		 bad = 0;

	if (st->streams == NULL) {
		buf_puts(b, "{\"daemon\":\"starting\"}\n");
		return 503;
	}
	for (i = 0; i < st->cfg->nstreams; i++)
		if (!stream_connected(st->streams[i])) {
			health_line(b, "stream", st->cfg->streams[i].name,
			    "state", stats_stream_label(st, i));
			bad = 1;
		}
	for (i = 0; i < st->cfg->nsinks; i++) {
		s = st->sinks[i];
		if (sink_blocked(s, NULL))
			health_line(b, "sink", st->cfg->sinks[i].name, "state",
			    "spool full");
		else if (!sink_up(s) && !sink_has_spool(s))
			health_line(b, "sink", st->cfg->sinks[i].name, "state",
			    "down");
		else
			continue;
		bad = 1;
	}
	if (!bad)
		buf_puts(b, "{\"status\":\"ok\"}\n");
	return bad ? 503 : 200;
}
