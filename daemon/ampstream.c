/*
 * ampstream.c: the daemon.  Loads the configuration, builds the sinks and
 * the pipeline, runs one libevent loop, and turns signals into state
 * changes: SIGTERM/SIGINT drain and stop, SIGHUP reloads (drain, rebuild
 * with the new configuration; a bad configuration keeps the old one).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <json.h>

#include "buf.h"
#include "config.h"
#include "format.h"
#include "log.h"
#include "notify.h"
#include "pipeline.h"
#include "sink.h"
#include "status.h"

#define DRAIN_SEC	10	/* longest wait for in-flight records on stop */
#define DRAIN_POLL_MS	20
#define STATUS_SEC	5
#define STATS_LOG_SEC	300

enum run_result { RUN_STOP, RUN_RELOAD, RUN_FAIL };

struct daemon {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct config		*cfg;
	struct config		*next_cfg;	/* validated, waiting for reload */
	struct sink		**sinks;
	struct pipeline		*pipeline;
	struct event		*sig_term, *sig_int, *sig_hup;
	struct event		*status_ev, *drain_ev;
	struct timespec		 drain_deadline;
	enum run_result		 result;
	bool			 draining;
	int			 verbose;
};

static __dead void usage(int);
static int	check_config(const char *);
static enum run_result run(struct daemon *);
static int	daemon_build(struct daemon *);
static void	daemon_teardown(struct daemon *);
static void	daemon_signals(struct daemon *);
static void	on_signal(int, short, void *);
static void	on_reload(struct daemon *);
static void	begin_drain(struct daemon *, enum run_result);
static void	on_drain_tick(int, short, void *);
static void	on_status(int, short, void *);
static void	sinks_log_stats(struct daemon *);
static json_object *status_json(struct daemon *, bool);
static json_object *sink_status_json(const struct sink *);
static int	apply_log_level(const struct config *, int);
static struct config *load_config(const char *, char **);
static int	check_sinks(const struct config *, const char *, char **);

static __dead void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ampstream [-fnvV] [-c file]\n"
	    "  -c, --config FILE    configuration (default %s)\n"
	    "  -n, --check-config   check the configuration and exit\n"
	    "  -f, --foreground     stay in the foreground (always)\n"
	    "  -v                   more logging (repeatable)\n"
	    "  -V, --version        print the version and exit\n"
	    "exit status: 0 clean stop, 1 configuration or usage error, "
	    "2 runtime failure\n", CONFIG_DEFAULT_PATH);
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon	 d;
	const char	*path = CONFIG_DEFAULT_PATH;
	char		*errors = NULL;
	int		 ch, check = 0;
	enum run_result	 res;

	memset(&d, 0, sizeof(d));
	log_init(LOG_LEVEL_INFO);
	while ((ch = getopt_long(argc, argv, "c:fhnvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'f': break;
		case 'h': usage(0);
		case 'n': check = 1; break;
		case 'v': d.verbose++; break;
		case 'V': printf("ampstream %s\n", AMPSTREAM_VERSION); exit(0);
		default: usage(1);
		}
	}
	if (optind != argc)
		usage(1);
	if (check)
		return check_config(path);
	if ((d.cfg = load_config(path, &errors)) == NULL) {
		fprintf(stderr, "%s", errors);
		fprintf(stderr, "%s: configuration not loaded\n", path);
		free(errors);
		return 1;
	}
	apply_log_level(d.cfg, d.verbose);
	signal(SIGPIPE, SIG_IGN);
	res = run(&d);
	config_free(d.cfg);
	return res == RUN_FAIL ? 2 : 0;
}

static int
check_config(const char *path)
{
	struct config	*cfg;
	char		*errors = NULL;

	if ((cfg = load_config(path, &errors)) == NULL) {
		fprintf(stderr, "%s", errors);
		free(errors);
		return 1;
	}
	config_free(cfg);
	printf("configuration OK\n");
	return 0;
}

/* config_load, plus what only the daemon needs: something to consume. */
static struct config *
load_config(const char *path, char **errors)
{
	struct config	*cfg;

	if ((cfg = config_load(path, errors)) == NULL)
		return NULL;
	if (cfg->nstreams == 0 || cfg->nsinks == 0) {
		if (asprintf(errors, "%s:0: %s: missing (the daemon needs at "
		    "least one)\n", path, cfg->nstreams == 0 ? "streams" :
		    "sinks") == -1)
			fatal("%s", __func__);
		config_free(cfg);
		return NULL;
	}
	if (check_sinks(cfg, path, errors) == -1) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Kinds the config syntax knows but this build does not implement. */
static int
check_sinks(const struct config *cfg, const char *path, char **errors)
{
	const struct sink_conf *sc;
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	for (i = 0; i < cfg->nsinks; i++) {
		sc = &cfg->sinks[i];
		if (sink_lookup(sc->type) == NULL)
			buf_printf(&b, "%s:%d: sinks.[%zu].type: %s sinks are "
			    "not available in this version\n", path, sc->line,
			    i, sc->type);
		if (format_lookup(sc->format) == NULL)
			buf_printf(&b, "%s:%d: sinks.[%zu].format: %s is not "
			    "available in this version\n", path, sc->line, i,
			    sc->format);
	}
	if (b.len == 0)
		return 0;
	*errors = buf_release(&b, NULL);
	return -1;
}

static int
apply_log_level(const struct config *cfg, int verbose)
{
	int	 level = cfg->log_level + verbose;

	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	log_setlevel(level);
	return level;
}

/* Run configurations until told to stop; each reload is a fresh build. */
static enum run_result
run(struct daemon *d)
{
	if ((d->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	daemon_signals(d);
	notify_init(d->base);
	for (;;) {
		if (daemon_build(d) == -1) {
			d->result = RUN_FAIL;
			break;
		}
		notify_ready();
		log_info("ampstream %s started: %zu streams, %zu sinks",
		    AMPSTREAM_VERSION, d->cfg->nstreams, d->cfg->nsinks);
		d->result = RUN_STOP;
		event_base_dispatch(d->base);
		daemon_teardown(d);
		if (d->result != RUN_RELOAD)
			break;
		config_free(d->cfg);
		d->cfg = d->next_cfg;
		d->next_cfg = NULL;
		apply_log_level(d->cfg, d->verbose);
		log_info("configuration reloaded");
	}
	notify_done();
	event_free(d->sig_term);
	event_free(d->sig_int);
	event_free(d->sig_hup);
	event_base_free(d->base);
	return d->result;
}

static void
daemon_signals(struct daemon *d)
{
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	evsignal_add(d->sig_term, NULL);
	evsignal_add(d->sig_int, NULL);
	evsignal_add(d->sig_hup, NULL);
}

/* Sinks first (READY means they are set up), then the streams. */
static int
daemon_build(struct daemon *d)
{
	struct timeval	 tv = { STATUS_SEC, 0 };
	char		*cause = NULL;
	size_t		 i;

	if (mkdir(d->cfg->state_dir, 0750) == -1 && errno != EEXIST)
		log_warn("state_dir %s", d->cfg->state_dir);
	if ((d->dns = evdns_base_new(d->base, 0)) == NULL)
		fatalx("evdns_base_new");
	evdns_base_resolv_conf_parse(d->dns, DNS_OPTIONS_ALL,
	    "/etc/resolv.conf");
	if ((d->sinks = calloc(d->cfg->nsinks, sizeof(*d->sinks))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < d->cfg->nsinks; i++) {
		d->sinks[i] = sink_new(d->base, d->dns, &d->cfg->sinks[i],
		    d->cfg->state_dir,
		    &cause);
		if (d->sinks[i] == NULL) {
			log_warnx("%s", cause ? cause : "sink setup failed");
			free(cause);
			return -1;
		}
	}
	d->pipeline = pipeline_new(d->base, d->cfg, d->sinks);
	pipeline_start(d->pipeline);
	d->status_ev = event_new(d->base, -1, EV_PERSIST, on_status, d);
	event_add(d->status_ev, &tv);
	d->drain_ev = event_new(d->base, -1, EV_PERSIST, on_drain_tick, d);
	d->draining = false;
	return 0;
}

/* Streams close first, so their unacked messages go back to the queues. */
static void
daemon_teardown(struct daemon *d)
{
	json_object	*o;
	size_t		 i;

	if (d->pipeline != NULL) {
		o = status_json(d, d->result != RUN_RELOAD);
		status_write(d->cfg->state_dir, o);
		json_object_put(o);
		pipeline_log_stats(d->pipeline);
		pipeline_close_streams(d->pipeline);
	}
	sinks_log_stats(d);
	for (i = 0; d->sinks != NULL && i < d->cfg->nsinks; i++)
		sink_free(d->sinks[i]);
	pipeline_free(d->pipeline);
	d->pipeline = NULL;
	free(d->sinks);
	d->sinks = NULL;
	if (d->status_ev != NULL)
		event_free(d->status_ev);
	if (d->drain_ev != NULL)
		event_free(d->drain_ev);
	d->status_ev = d->drain_ev = NULL;
	if (d->dns != NULL)
		evdns_base_free(d->dns, 1);
	d->dns = NULL;
}

static void
on_signal(int sig, short ev __unused, void *arg)
{
	struct daemon	*d = arg;

	if (sig == SIGHUP) {
		on_reload(d);
		return;
	}
	if (d->draining && d->result == RUN_STOP) {
		log_info("second signal: stopping now");
		event_base_loopbreak(d->base);
		return;
	}
	log_info("signal %d: finishing in-flight records (at most %d s)", sig,
	    DRAIN_SEC);
	notify_stopping();
	begin_drain(d, RUN_STOP);
}

/* Check the new configuration while the old one runs on. */
static void
on_reload(struct daemon *d)
{
	char	*errors = NULL, *line, *p;

	if (d->draining)
		return;
	notify_reloading();
	log_info("reloading %s", d->cfg->path);
	d->next_cfg = load_config(d->cfg->path, &errors);
	if (d->next_cfg == NULL) {
		for (p = errors; (line = strsep(&p, "\n")) != NULL; )
			if (*line != '\0')
				log_warnx("reload: %s", line);
		log_warnx("reload: configuration has errors, keeping the "
		    "running one");
		free(errors);
		notify_ready();
		return;
	}
	begin_drain(d, RUN_RELOAD);
}

static void
begin_drain(struct daemon *d, enum run_result result)
{
	struct timeval	 tv = { 0, DRAIN_POLL_MS * 1000 };

	d->result = result;
	if (d->draining)
		return;
	d->draining = true;
	clock_gettime(CLOCK_MONOTONIC, &d->drain_deadline);
	d->drain_deadline.tv_sec += DRAIN_SEC;
	pipeline_pause(d->pipeline);
	event_add(d->drain_ev, &tv);
}

/* Leave the loop once every record is accepted (and acked), or at the deadline. */
static void
on_drain_tick(int fd __unused, short ev __unused, void *arg)
{
	struct daemon	*d = arg;
	struct timespec	 now;

	pipeline_flush_acks(d->pipeline);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (pipeline_idle(d->pipeline)) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	if (now.tv_sec >= d->drain_deadline.tv_sec) {
		log_warnx("drain: records still waiting for a sink after %d s; "
		    "their messages stay unacked and will be redelivered",
		    DRAIN_SEC);
		event_base_loopexit(d->base, NULL);
	}
}

/* Every STATUS_SEC: STATUS= for systemd, status.json for ampstreamctl. */
static void
on_status(int fd __unused, short ev __unused, void *arg)
{
	struct daemon	*d = arg;
	static time_t	 last_log;
	json_object	*o = status_json(d, false);
	struct buf	 b;

	buf_init(&b, 0);
	status_line(o, &b);
	notify_status("%s", b.data);
	status_write(d->cfg->state_dir, o);
	if (time(NULL) - last_log >= STATS_LOG_SEC) {
		log_info("status: %s", b.data);
		last_log = time(NULL);
	}
	buf_free(&b);
	json_object_put(o);
}

static void
sinks_log_stats(struct daemon *d)
{
	struct sink	*s;
	size_t		 i;

	for (i = 0; d->sinks != NULL && i < d->cfg->nsinks; i++) {
		if ((s = d->sinks[i]) == NULL)
			continue;
		log_info("sink %s: sent=%llu failed=%llu resent=%llu "
		    "spooled=%llu replayed=%llu in_spool=%llu", s->conf->name,
		    (unsigned long long)s->stats.sent,
		    (unsigned long long)s->stats.failed,
		    (unsigned long long)s->stats.resent,
		    (unsigned long long)s->stats.spooled,
		    (unsigned long long)s->stats.replayed,
		    (unsigned long long)sink_spool_records(s));
	}
}

/* The daemon's counters as JSON (status.h); stopped on the way out. */
static json_object *
status_json(struct daemon *d, bool stopped)
{
	json_object	*o, *sinks;
	size_t		 i;

	o = pipeline_status_json(d->pipeline);
	sinks = json_object_new_array();
	for (i = 0; i < d->cfg->nsinks; i++)
		json_object_array_add(sinks, sink_status_json(d->sinks[i]));
	json_object_object_add(o, "sinks", sinks);
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "updated",
	    json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(o, "interval", json_object_new_int(STATUS_SEC));
	json_object_object_add(o, "stopped", json_object_new_boolean(stopped));
	json_object_object_add(o, "version",
	    json_object_new_string(AMPSTREAM_VERSION));
	return o;
}

static json_object *
sink_status_json(const struct sink *s)
{
	json_object	*o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(s->conf->name));
	json_object_object_add(o, "type", json_object_new_string(s->conf->type));
	json_object_object_add(o, "up", json_object_new_boolean(s->up));
	json_object_object_add(o, "spool",
	    json_object_new_boolean(s->spool != NULL));
	json_object_object_add(o, "spool_full",
	    json_object_new_boolean(s->blocked));
	json_object_object_add(o, "sent", json_object_new_uint64(s->stats.sent));
	json_object_object_add(o, "failed",
	    json_object_new_uint64(s->stats.failed));
	json_object_object_add(o, "resent",
	    json_object_new_uint64(s->stats.resent));
	json_object_object_add(o, "spooled",
	    json_object_new_uint64(s->stats.spooled));
	json_object_object_add(o, "replayed",
	    json_object_new_uint64(s->stats.replayed));
	json_object_object_add(o, "in_spool",
	    json_object_new_uint64(sink_spool_records(s)));
	return o;
}
