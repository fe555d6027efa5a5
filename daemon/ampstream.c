/*
 * ampstream.c: the daemon.  Loads the configuration, builds every part
 * (stats, sinks and their record recipes, the router, correlation, the
 * streams, back-pressure), runs one libevent loop, and turns signals into
 * state changes: SIGTERM/SIGINT drain and stop, SIGHUP reloads what
 * changed (reload.h; a bad configuration keeps the old one).  It owns
 * every part and frees them in one fixed order.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "buf.h"
#include "preflight.h"
#include "clock.h"
#include "config.h"
#include "connector.h"
#include "corr.h"
#include "deadletter.h"
#include "format.h"
#include "groups.h"
#include "hold.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "record.h"
#include "reload.h"
#include "route.h"
#include "sink.h"
#include "stats.h"
#include "stream.h"
#include "xmalloc.h"

#define DRAIN_SEC	10	/* longest wait for in-flight records on stop */
#define DRAIN_POLL_MS	20
#define CLOSE_WAIT_MS	1000	/* for graceful AMQP closes on stop/reload */
#define CORR_FILE	"correlation.db"

/* Why the loop ended: RUN_SWAP replaces what changed, RUN_RELOAD all. */
enum run_result { RUN_STOP, RUN_RELOAD, RUN_SWAP, RUN_FAIL };

struct daemon {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct config		*cfg;
	struct config		*next_cfg;	/* validated, waiting for reload */
	struct reload_plan	*plan;		/* next_cfg against cfg */
	/* The parts of one build, in the order they are made. */
	struct stats		*stats;
	struct sink		**sinks;	/* cfg->sinks[i] */
	struct record_recipe	**recipes;	/* cfg->sinks[i] */
	struct route		*route;
	struct corr		*corr;
	char			*corr_path;	/* its snapshot, or NULL */
	struct connector	*connector;	/* the streams' handshakes */
	struct stream		**streams;	/* cfg->streams[i] */
	struct deadletter	**dls;		/* cfg->streams[i]'s */
	struct hold		*hold;
	struct groups		*groups;	/* group names from the clouds */
	struct metrics		*metrics;	/* NULL: off */
	struct event		*sig_term, *sig_int, *sig_hup, *sig_usr1;
	struct event		*drain_ev;
	struct timespec		 drain_deadline;
	enum run_result		 result;
	bool			 draining;
	int			 verbose;
};

static __dead void usage(int);
static int	check_config(const char *, const char *);
static enum run_result run(struct daemon *);
static int	daemon_build(struct daemon *);
static int	daemon_build_sinks(struct daemon *);
static void	daemon_build_corr(struct daemon *);
static void	daemon_build_streams(struct daemon *);
static void	daemon_build_metrics(struct daemon *);
static void	daemon_build_deadletters(struct daemon *);
static void	daemon_teardown(struct daemon *);
static int	daemon_swap(struct daemon *);
static void	daemon_swap_retire(struct daemon *, struct stats *);
static void	daemon_swap_corr(struct daemon *);
static void	daemon_swap_metrics(struct daemon *);
static void	daemon_next(struct daemon *);
static void	daemon_free_routing(struct daemon *);
static void	daemon_free_corr(struct daemon *);
static void	daemon_signals(struct daemon *);
static void	on_signal(int, short, void *);
static void	on_reload(struct daemon *);
static void	begin_drain(struct daemon *, enum run_result);
static void	on_drain_tick(int, short, void *);
static bool	streams_idle(struct daemon *);
static int	apply_log_level(const struct config *, int);
static void	raise_fd_limit(void);
static struct config *load_config(const char *, char **);
static int	check_sinks(const struct config *, char **);
static void	log_lines(const char *, char *);

static __dead void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ampstream [-fnvV] [-c file] [-u user]\n"
	    "  -c, --config FILE    configuration (default %s)\n"
	    "  -n, --check-config   check the configuration and the files "
	    "it names, and exit\n"
	    "  -u, --user USER      with -n: check as USER (the service's "
	    "user)\n"
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
		{ "user", required_argument, NULL, 'u' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon	 d;
	const char	*path = CONFIG_DEFAULT_PATH, *user = NULL;
	char		*errors = NULL;
	int		 ch, check = 0;
	enum run_result	 res;

	memset(&d, 0, sizeof(d));
	log_init(LOG_LEVEL_INFO);
	while ((ch = getopt_long(argc, argv, "c:fhnu:vV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'f': break;
		case 'h': usage(0);
		case 'n': check = 1; break;
		case 'u': user = optarg; break;
		case 'v': d.verbose++; break;
		case 'V': printf("ampstream %s\n", AMPSTREAM_VERSION); exit(0);
		default: usage(1);
		}
	}
	if (optind != argc || (user != NULL && !check))
		usage(1);
	if (check)
		return check_config(path, user);
	if ((d.cfg = load_config(path, &errors)) == NULL) {
		fprintf(stderr, "%s", errors);
		fprintf(stderr, "%s: configuration not loaded\n", path);
		free(errors);
		return 1;
	}
	apply_log_level(d.cfg, d.verbose);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init");
	res = run(&d);
	log_repeat_flush(1);	/* what repeated until the end */
	config_free(d.cfg);
	curl_global_cleanup();
	return res == RUN_FAIL ? 2 : 0;
}

/*
 * -n: load the configuration and check the files it names, as user (the
 * service's) if given: secrets, certificates, sink and state directories.
 */
static int
check_config(const char *path, const char *user)
{
	struct config	*cfg;
	char		*errors = NULL, *warnings = NULL;
	const char	*cause = NULL;
	int		 rc;

	if (user != NULL && preflight_become(user, &cause) == -1) {
		fprintf(stderr, "ampstream: -u %s: %s\n", user, cause);
		return 1;
	}
	if ((cfg = load_config(path, &errors)) == NULL) {
		fprintf(stderr, "%s", errors);
		free(errors);
		return 1;
	}
	rc = preflight_check(cfg, &errors, &warnings);
	if (warnings != NULL)
		fprintf(stderr, "%s", warnings);
	config_free(cfg);
	free(warnings);
	if (rc == -1) {
		fprintf(stderr, "%s", errors);
		free(errors);
		return 1;
	}
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
		xasprintf(errors, "%s:0: %s: missing (the daemon needs at "
		    "least one)\n", path, cfg->nstreams == 0 ? "streams" :
		    "sinks");
		config_free(cfg);
		return NULL;
	}
	if (check_sinks(cfg, errors) == -1) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Kinds the config syntax knows but this build does not implement. */
static int
check_sinks(const struct config *cfg, char **errors)
{
	const struct sink_conf *sc;
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	for (i = 0; i < cfg->nsinks; i++) {
		sc = &cfg->sinks[i];
		if (!sink_type_known(sc->type))
			buf_printf(&b, "%s:%d: sinks.[%zu].type: %s sinks are "
			    "not available in this version\n", sc->file, sc->line,
			    i, sc->type);
		if (format_lookup(sc->format) == NULL)
			buf_printf(&b, "%s:%d: sinks.[%zu].format: %s is not "
			    "available in this version\n", sc->file, sc->line, i,
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

/*
 * One socket per stream and sink: systemd's soft limit of 1024 descriptors
 * is too few for a thousand streams, its hard limit is not.
 */
static void
raise_fd_limit(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
	}
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
			daemon_teardown(d);
			break;
		}
		notify_ready();
		log_info("ampstream %s started: %zu streams, %zu sinks",
		    AMPSTREAM_VERSION, d->cfg->nstreams, d->cfg->nsinks);
		d->result = RUN_STOP;
		while (event_base_dispatch(d->base) == 0 &&
		    d->result == RUN_SWAP) {
			if (daemon_swap(d) == -1) {
				d->result = RUN_FAIL;
				break;
			}
			notify_ready();
			log_state(LOG_LEVEL_INFO, "configuration reloaded");
			d->result = RUN_STOP;
		}
		daemon_teardown(d);
		if (d->result != RUN_RELOAD)
			break;
		daemon_next(d);
		log_state(LOG_LEVEL_INFO, "configuration reloaded: every part "
		    "restarted");
	}
	notify_done();
	config_free(d->next_cfg);	/* a stop during a reload's drain */
	reload_plan_free(d->plan);
	d->next_cfg = NULL;
	d->plan = NULL;
	event_free(d->sig_term);
	event_free(d->sig_int);
	event_free(d->sig_hup);
	event_free(d->sig_usr1);
	event_base_free(d->base);
	return d->result;
}

/* The new configuration becomes the running one. */
static void
daemon_next(struct daemon *d)
{
	config_free(d->cfg);
	d->cfg = d->next_cfg;
	d->next_cfg = NULL;
	reload_plan_free(d->plan);
	d->plan = NULL;
	apply_log_level(d->cfg, d->verbose);
}

static void
daemon_signals(struct daemon *d)
{
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	d->sig_usr1 = evsignal_new(d->base, SIGUSR1, on_signal, d);
	evsignal_add(d->sig_term, NULL);
	evsignal_add(d->sig_int, NULL);
	evsignal_add(d->sig_hup, NULL);
	evsignal_add(d->sig_usr1, NULL);
}

/*
 * Sinks first (READY means they are set up), then the router and the
 * correlation that feed them, then the streams that feed those.
 */
static int
daemon_build(struct daemon *d)
{
	if (mkdir(d->cfg->state_dir, 0750) == -1 && errno != EEXIST)
		log_warn("state_dir %s", d->cfg->state_dir);
	if ((d->dns = evdns_base_new(d->base, 0)) == NULL)
		fatalx("evdns_base_new");
	evdns_base_resolv_conf_parse(d->dns, DNS_OPTIONS_ALL,
	    "/etc/resolv.conf");
	d->stats = stats_new(d->base, d->cfg);
	if (daemon_build_sinks(d) == -1)
		return -1;
	daemon_build_deadletters(d);
	d->route = route_new(d->cfg, d->sinks, d->recipes, d->dls, d->stats);
	d->groups = groups_new(d->base, d->cfg);
	route_set_groups(d->route, d->groups);
	daemon_build_corr(d);
	daemon_build_streams(d);
	d->hold = hold_new(d->base, d->cfg, d->streams, d->sinks);
	stats_start(d->stats, d->streams, d->sinks, d->corr, d->groups);
	daemon_build_metrics(d);
	d->drain_ev = event_new(d->base, -1, EV_PERSIST, on_drain_tick, d);
	d->draining = false;
	return 0;
}

static int
daemon_build_sinks(struct daemon *d)
{
	char	 host[256];
	char	*cause = NULL;
	size_t	 i;

	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "-");
	host[sizeof(host) - 1] = '\0';
	if (d->sinks == NULL)		/* else a reload's, with the kept */
		d->sinks = xcalloc(d->cfg->nsinks, sizeof(*d->sinks));
	d->recipes = xcalloc(d->cfg->nsinks, sizeof(*d->recipes));
	for (i = 0; i < d->cfg->nsinks; i++) {
		if ((d->recipes[i] = record_recipe_new(&d->cfg->sinks[i], host,
		    &cause)) == NULL || (d->sinks[i] == NULL &&
		    (d->sinks[i] = sink_new(d->base, d->dns, &d->cfg->sinks[i],
		    d->cfg->state_dir, stats_sink_row(d->stats, i),
		    &cause)) == NULL)) {
			log_warnx("%s", cause ? cause : "sink setup failed");
			free(cause);
			return -1;
		}
	}
	return 0;
}

/* Each stream's store of messages that are not events. */
/* Monitoring must not stop the events: a failure is only logged. */
static void
daemon_build_metrics(struct daemon *d)
{
	char	*cause;

	d->metrics = metrics_new(d->base, &d->cfg->metrics, d->stats, &cause);
	if (cause != NULL) {
		log_warnx("%s: %s: the metrics endpoint is off", d->cfg->path,
		    cause);
		free(cause);
	}
}

static void
daemon_build_deadletters(struct daemon *d)
{
	const struct stream_conf *sc;
	size_t	 i;

	if (d->dls == NULL)
		d->dls = xcalloc(d->cfg->nstreams, sizeof(*d->dls));
	for (i = 0; i < d->cfg->nstreams; i++) {
		if (d->dls[i] != NULL)		/* a kept stream's */
			continue;
		sc = &d->cfg->streams[i];
		d->dls[i] = deadletter_new(d->cfg->state_dir, sc->name,
		    sc->deadletter_max_bytes);
	}
}

/* The correlation table, with what the last run saved in state_dir. */
static void
daemon_build_corr(struct daemon *d)
{
	d->corr = corr_new(d->base, &d->cfg->correlation, route_alert,
	    d->route);
	route_set_corr(d->route, d->corr);
	xasprintf(&d->corr_path, "%s/%s", d->cfg->state_dir, CORR_FILE);
	if (strlen(d->corr_path) >= PATH_MAX) {
		log_warnx("correlation: state_dir too long, no snapshot");
		free(d->corr_path);
		d->corr_path = NULL;
		return;
	}
	if (corr_load(d->corr, d->corr_path, clock_now_ms()) == 0)
		log_debug("%s: %zu detections loaded", __func__,
		    corr_stats(d->corr)->entries);
}

static void
daemon_build_streams(struct daemon *d)
{
	size_t	 i;

	bool	*fresh;

	if (d->connector == NULL)
		d->connector = connector_new(d->base, d->cfg->max_handshakes);
	if (d->streams == NULL)		/* else a reload's, with the kept */
		d->streams = xcalloc(d->cfg->nstreams, sizeof(*d->streams));
	fresh = xcalloc(d->cfg->nstreams, sizeof(*fresh));
	for (i = 0; i < d->cfg->nstreams; i++) {
		if (d->streams[i] != NULL) {
			stream_rebind(d->streams[i], &d->cfg->streams[i],
			    route_lane(d->route, i));
			continue;
		}
		d->streams[i] = stream_new(d->base, d->connector,
		    &d->cfg->streams[i], d->dls[i], stats_stream_row(d->stats,
		    i), route_message, route_lane(d->route, i));
		fresh[i] = true;
	}
	for (i = 0; i < d->cfg->nstreams; i++)
		if (fresh[i])
			stream_start(d->streams[i]);
	free(fresh);
}

/*
 * SIGHUP, once nothing is in flight (every stream idle: the ones kept only
 * stopped reading): stop what the plan does not keep, carry the kept parts
 * and their counters over to the new configuration, build the rest as
 * daemon_build does, and let the kept streams read again.  -1: a new sink
 * failed to start (the caller tears everything down).
 */
static int
daemon_swap(struct daemon *d)
{
	struct config	*old = d->cfg;
	struct stats	*ostats = d->stats;
	struct groups	*ogroups = d->groups;
	size_t		 i;

	event_del(d->drain_ev);
	d->draining = false;
	daemon_free_routing(d);
	d->groups = NULL;
	daemon_swap_retire(d, ostats);
	d->cfg = d->next_cfg;
	d->next_cfg = NULL;
	/* Before the old configuration goes: the clouds are compared. */
	d->groups = groups_renew(ogroups, d->base, d->cfg);
	apply_log_level(d->cfg, d->verbose);
	d->stats = stats_new(d->base, d->cfg);
	stats_take(d->stats, ostats, d->plan->stream_from, d->plan->sink_from);
	daemon_swap_metrics(d);
	stats_free(ostats);
	config_free(old);
	if (daemon_build_sinks(d) == -1)
		return -1;
	daemon_build_deadletters(d);
	d->route = route_new(d->cfg, d->sinks, d->recipes, d->dls, d->stats);
	route_set_groups(d->route, d->groups);
	daemon_swap_corr(d);
	daemon_build_streams(d);
	d->hold = hold_new(d->base, d->cfg, d->streams, d->sinks);
	stats_start(d->stats, d->streams, d->sinks, d->corr, d->groups);
	for (i = 0; i < d->cfg->nstreams; i++)
		stream_hold(d->streams[i], false);
	reload_plan_free(d->plan);
	d->plan = NULL;
	return 0;
}

/*
 * Stop the old parts the plan does not keep (idle: their records are all
 * accepted, their messages acked) and move the kept ones into arrays for
 * the new configuration, where daemon_build_* fills the gaps.
 */
static void
daemon_swap_retire(struct daemon *d, struct stats *ostats)
{
	const struct reload_plan *p = d->plan;
	const struct config *next = d->next_cfg;
	struct stream	**streams;
	struct deadletter **dls;
	struct sink	**sinks;
	size_t		 i;

	stats_retire(ostats, p->stream_to, p->sink_to);
	streams = xcalloc(next->nstreams, sizeof(*streams));
	dls = xcalloc(next->nstreams, sizeof(*dls));
	sinks = xcalloc(next->nsinks, sizeof(*sinks));
	for (i = 0; i < d->cfg->nstreams; i++) {
		if (p->stream_to[i] != RELOAD_NONE) {
			streams[p->stream_to[i]] = d->streams[i];
			dls[p->stream_to[i]] = d->dls[i];
			continue;
		}
		stream_close(d->streams[i]);
		stream_free(d->streams[i]);
		deadletter_free(d->dls[i]);
	}
	for (i = 0; i < d->cfg->nsinks; i++)
		if (p->sink_to[i] != RELOAD_NONE) {
			sinks[p->sink_to[i]] = d->sinks[i];
			sink_rebind(d->sinks[i], &next->sinks[p->sink_to[i]]);
		} else
			sink_free(d->sinks[i]);
	for (i = 0; i < next->nstreams; i++)
		if (streams[i] != NULL)		/* before the old one goes */
			stream_rebind(streams[i], &next->streams[i], NULL);
	free(d->streams);
	free(d->dls);
	free(d->sinks);
	d->streams = streams;
	d->dls = dls;
	d->sinks = sinks;
}

/* The table goes on (entries follow their streams) unless its keys changed. */
static void
daemon_swap_corr(struct daemon *d)
{
	const struct reload_plan *p = d->plan;

	if (!p->corr_same) {
		daemon_free_corr(d);		/* saved, and loaded again */
		daemon_build_corr(d);
	}
	route_set_corr(d->route, d->corr);
	corr_rebind(d->corr, route_alert, d->route, p->stream_to,
	    p->nold_streams);
}

/* The endpoint and its socket stay unless its keys changed. */
static void
daemon_swap_metrics(struct daemon *d)
{
	if (d->plan->metrics_same && d->metrics != NULL) {
		metrics_rebind(d->metrics, &d->cfg->metrics, d->stats);
		return;
	}
	metrics_free(d->metrics);
	d->metrics = NULL;
	daemon_build_metrics(d);
}

/*
 * The one order: the last counters; the streams' connections (unacked
 * messages go back to the queues); the sinks, which finish every record
 * they still hold, releasing its delivery; then the streams and their
 * deliveries, and what fed on them.  Any part may be missing (a failed
 * build).
 */
static void
daemon_teardown(struct daemon *d)
{
	size_t	 i;

	metrics_free(d->metrics);
	d->metrics = NULL;
	if (d->stats != NULL)
		stats_finish(d->stats, d->result != RUN_RELOAD);
	for (i = 0; d->streams != NULL && i < d->cfg->nstreams; i++)
		if (d->streams[i] != NULL)
			stream_close(d->streams[i]);
	for (i = 0; d->sinks != NULL && i < d->cfg->nsinks; i++)
		sink_free(d->sinks[i]);
	for (i = 0; d->streams != NULL && i < d->cfg->nstreams; i++)
		stream_free(d->streams[i]);
	/* Closes were queued above; a hung handshake is not waited for. */
	connector_free(d->connector, CLOSE_WAIT_MS);
	d->connector = NULL;
	for (i = 0; d->dls != NULL && i < d->cfg->nstreams; i++)
		deadletter_free(d->dls[i]);
	daemon_free_routing(d);
	daemon_free_corr(d);
	groups_free(d->groups);
	d->groups = NULL;
	stats_free(d->stats);
	free(d->sinks);
	free(d->streams);
	free(d->dls);
	if (d->drain_ev != NULL)
		event_free(d->drain_ev);
	if (d->dns != NULL)
		evdns_base_free(d->dns, 1);
	d->stats = NULL;
	d->sinks = NULL;
	d->streams = NULL;
	d->dls = NULL;
	d->drain_ev = NULL;
	d->dns = NULL;
}

/* What a reload builds again around the kept parts: hold, route, recipes. */
static void
daemon_free_routing(struct daemon *d)
{
	size_t	 i;

	hold_free(d->hold);
	route_free(d->route);
	for (i = 0; d->recipes != NULL && i < d->cfg->nsinks; i++)
		record_recipe_free(d->recipes[i]);
	free(d->recipes);
	d->hold = NULL;
	d->route = NULL;
	d->recipes = NULL;
}

static void
daemon_free_corr(struct daemon *d)
{
	if (d->corr_path != NULL && d->corr != NULL &&
	    corr_save(d->corr, d->corr_path) == -1)
		log_warnx("correlation: cannot save %s", d->corr_path);
	corr_free(d->corr);
	free(d->corr_path);
	d->corr = NULL;
	d->corr_path = NULL;
}

static void
on_signal(int sig, short ev __unused, void *arg)
{
	struct daemon	*d = arg;
	size_t		 i;

	if (sig == SIGHUP) {
		on_reload(d);
		return;
	}
	if (sig == SIGUSR1) {
		log_info("SIGUSR1: reopening files");
		for (i = 0; d->sinks != NULL && i < d->cfg->nsinks; i++)
			sink_reopen(d->sinks[i]);
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
	char	*errors = NULL, *warnings = NULL;

	if (d->draining)
		return;
	notify_reloading();
	log_state(LOG_LEVEL_INFO, "reloading %s", d->cfg->path);
	d->next_cfg = load_config(d->cfg->path, &errors);
	/* What start-up would hit, checked before anything stops. */
	if (d->next_cfg != NULL &&
	    preflight_check(d->next_cfg, &errors, &warnings) == -1) {
		config_free(d->next_cfg);
		d->next_cfg = NULL;
	}
	free(warnings);		/* for -n: where the packaged unit cannot write */
	if (d->next_cfg == NULL) {
		log_lines("reload: ", errors);
		log_warnx("reload: configuration has errors, keeping the "
		    "running one");
		notify_ready();
		return;
	}
	d->plan = reload_plan_new(d->cfg, d->next_cfg);
	reload_plan_log(d->plan, d->cfg, d->next_cfg);
	begin_drain(d, d->plan->full ? RUN_RELOAD : RUN_SWAP);
}

/* Each line of text (freed here) as a warning. */
static void
log_lines(const char *prefix, char *text)
{
	char	*line, *p;

	for (p = text; (line = strsep(&p, "\n")) != NULL; )
		if (*line != '\0')
			log_warnx("%s%s", prefix, line);
	free(text);
}

static void
begin_drain(struct daemon *d, enum run_result result)
{
	struct timeval	 tv = { 0, DRAIN_POLL_MS * 1000 };
	size_t		 i;

	d->result = result;
	if (d->draining)
		return;
	d->draining = true;
	clock_gettime(CLOCK_MONOTONIC, &d->drain_deadline);
	d->drain_deadline.tv_sec += DRAIN_SEC;
	/* A swap keeps streams connected: they only stop reading. */
	for (i = 0; i < d->cfg->nstreams; i++)
		if (result == RUN_SWAP && d->plan->stream_to[i] != RELOAD_NONE)
			stream_hold(d->streams[i], true);
		else
			stream_pause(d->streams[i]);
	event_add(d->drain_ev, &tv);
}

/* Leave the loop once every record is accepted (and acked), or at the deadline. */
static void
on_drain_tick(int fd __unused, short ev __unused, void *arg)
{
	struct daemon	*d = arg;
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (streams_idle(d)) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	if (now.tv_sec >= d->drain_deadline.tv_sec) {
		log_warnx("drain: records still waiting for a sink after %d s; "
		    "their messages stay unacked and will be redelivered",
		    DRAIN_SEC);
		/* Parts cannot be swapped under records in flight. */
		if (d->result == RUN_SWAP) {
			log_warnx("reload: restarting every stream and sink "
			    "instead");
			d->result = RUN_RELOAD;
		}
		event_base_loopexit(d->base, NULL);
	}
}

/* Send what can be acked; true when no message waits for a sink. */
static bool
streams_idle(struct daemon *d)
{
	bool	 idle = true;
	size_t	 i;

	for (i = 0; i < d->cfg->nstreams; i++) {
		stream_flush_acks(d->streams[i]);
		if (!stream_idle(d->streams[i]))
			idle = false;
	}
	return idle;
}
