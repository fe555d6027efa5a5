/*
 * ampstreamctl.c: manage AMP for Endpoints event streams over the REST API
 * v1, with the clouds and credentials of the daemon's config file.
 */
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "compat.h"
#include "config.h"
#include "ctl.h"
#include "log.h"

#define PROGNAME	"ampstreamctl"

struct global {
	const char	*config;
	const char	*cloud;
	int		 verbose;
	int		 max_wait;
	const char	*resolve;
};

/* The commands, in the order --help lists them, each with its help lines. */
static const struct command {
	const char	*name;
	int		(*fn)(struct ctl *, int, char **);
	int		 local;		/* needs no cloud and no API client */
	const char	*usage;
} commands[] = {
	{ "test", ctl_test, 0,
"  test                    check the API credentials; print host, region\n"
"                          and API version\n" },
	{ "list", ctl_list, 0,
"  list [--json]           every event stream with its event types and\n"
"                          groups by name\n" },
	{ "create", ctl_create, 0,
"  create NAME --all       a stream with every event type and every group\n"
"  create NAME [--type TYPE]... [--group GROUP]...\n"
"                          a stream with the event types and groups named\n"
"                          (a name, an id or a GUID; without --group: all\n"
"                          groups, without --type: all event types)\n"
"      --password-file PATH  write the one-time AMQP password here (never\n"
"                          overwritten; default CONFIG_DIR/NAME.password),\n"
"                          root:GROUP 0640 when GROUP exists, else 0600\n"
"      --service-group GROUP the service's group (default ampstream)\n"
"      --amqp-ca-file FILE   put ca_file = FILE in the printed streams entry\n" },
	{ "delete", ctl_delete, 0,
"  delete [--yes] ID|NAME  delete an event stream, then its password file\n"
"                          (CONFIG_DIR/NAME.password) if --yes or confirmed\n" },
	{ "event-types", ctl_event_types, 0,
"  event-types [--json]    every event type: id and name\n" },
	{ "groups", ctl_groups, 0,
"  groups [--json]         every group: GUID and name\n" },
	{ "status", ctl_status, 1,
"  status [--json]         the running daemon's counters per stream and\n"
"                          sink (from STATE_DIR/status.json; exit 3 when\n"
"                          the daemon is not running)\n" },
};

static const char usage_head[] =
"usage: " PROGNAME " [-c FILE] [--cloud NAME] [-v] [--max-wait SECONDS] "
    "COMMAND [ARGS]\n"
"\n"
"Manage AMP for Endpoints event streams over the REST API v1.\n"
"\n"
"commands:\n";

static const char usage_tail[] =
"\n"
"options:\n"
"  -c, --config FILE       config file (default " CONFIG_DEFAULT_PATH ")\n"
"      --cloud NAME        the cloud to use (default: the first one)\n"
"  -v, --verbose           show each request on stderr (never a secret)\n"
"      --max-wait SECONDS  longest total wait for rate-limit resets and\n"
"                          retries before failing (default 300)\n"
"      --resolve HOST:PORT:ADDRESS\n"
"                          connect to ADDRESS for HOST:PORT (as curl\n"
"                          --resolve; TLS still verifies HOST)\n"
"  -h, --help              show this help\n"
"  -V, --version           show the version\n"
"\n"
"exit status: 0 ok; 1 usage or config error, or a name that matches\n"
"nothing; 2 API, TLS or network error; 3 (status) the daemon is not\n"
"running.\n";

static void	 usage(FILE *);
static int	 parse_global(struct global *, int, char **);
static const struct command *lookup(const char *);
static int	 run(const struct global *, const struct command *, int,
		    char **);
static int	 setup(struct ctl *, const struct global *, struct config **,
		    int);

int	main(int, char **);

int
main(int argc, char **argv)
{
	struct global		 g;
	const struct command	*cmd;
	int			 rv;

	if ((rv = parse_global(&g, argc, argv)) != -1)
		return rv;
	if (optind == argc) {
		fprintf(stderr, "%s: no command given\n", PROGNAME);
		usage(stderr);
		return CTL_USAGE;
	}
	if ((cmd = lookup(argv[optind])) == NULL) {
		fprintf(stderr, "%s: unknown command \"%s\" (see --help)\n",
		    PROGNAME, argv[optind]);
		return CTL_USAGE;
	}
	log_init(g.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	return run(&g, cmd, argc - optind, argv + optind);
}

/* Options before the command.  -1: go on; else the exit status. */
static void
usage(FILE *f)
{
	size_t	 i;

	fputs(usage_head, f);
	for (i = 0; i < nitems(commands); i++)
		fputs(commands[i].usage, f);
	fputs(usage_tail, f);
}

static int
parse_global(struct global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL,	'c' },
		{ "cloud",	required_argument,	NULL,	'C' },
		{ "verbose",	no_argument,		NULL,	'v' },
		{ "max-wait",	required_argument,	NULL,	'W' },
		{ "resolve",	required_argument,	NULL,	'R' },
		{ "help",	no_argument,		NULL,	'h' },
		{ "version",	no_argument,		NULL,	'V' },
		{ NULL,		0,			NULL,	0 }
	};
	char	*end;
	long	 n;
	int	 ch;

	memset(g, 0, sizeof(*g));
	g->config = CONFIG_DEFAULT_PATH;
	g->max_wait = API_MAX_WAIT;
	while ((ch = getopt_long(argc, argv, "+c:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			g->config = optarg;
			break;
		case 'C':
			g->cloud = optarg;
			break;
		case 'v':
			g->verbose++;
			break;
		case 'W':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    n < 0 || n > 86400) {
				fprintf(stderr, "%s: --max-wait: not a number "
				    "of seconds (0-86400): %s\n", PROGNAME,
				    optarg);
				return CTL_USAGE;
			}
			g->max_wait = n;
			break;
		case 'R':
			g->resolve = optarg;
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		case 'V':
			printf("%s %s\n", PROGNAME, AMPSTREAM_VERSION);
			return CTL_OK;
		default:
			fprintf(stderr, "see %s --help\n", PROGNAME);
			return CTL_USAGE;
		}
	}
	return -1;
}

static const struct command *
lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Load the config, connect the API client, run the command. */
static int
run(const struct global *g, const struct command *cmd, int argc, char **argv)
{
	struct ctl	 ctl;
	struct config	*cfg = NULL;
	int		 rv;

	memset(&ctl, 0, sizeof(ctl));
	ctl.progname = PROGNAME;
	if ((rv = setup(&ctl, g, &cfg, cmd->local)) == CTL_OK)
		rv = cmd->fn(&ctl, argc, argv);
	api_free(ctl.api);
	config_free(cfg);
	return rv;
}

static int
setup(struct ctl *ctl, const struct global *g, struct config **cfg,
    int local)
{
	struct api_opts	 o;
	char		*errors = NULL, *cause = NULL;

	if ((*cfg = config_load(g->config, &errors)) == NULL) {
		fprintf(stderr, "%s", errors ? errors : "config: error\n");
		free(errors);
		return CTL_USAGE;
	}
	ctl->cfg = *cfg;
	if (local)
		return CTL_OK;
	if ((*cfg)->nclouds == 0) {
		ctl_err(ctl, "%s: no clouds are defined", g->config);
		return CTL_USAGE;
	}
	ctl->cloud = g->cloud ? config_cloud(*cfg, g->cloud) :
	    &(*cfg)->clouds[0];
	if (ctl->cloud == NULL) {
		ctl_err(ctl, "%s: no cloud named \"%s\"", g->config, g->cloud);
		return CTL_USAGE;
	}
	o.base_url = ctl->cloud->api_url;
	o.client_id = ctl->cloud->client_id;
	o.api_key = ctl->cloud->api_key;
	o.ca_file = ctl->cloud->ca_file;
	o.max_wait = g->max_wait;
	o.resolve = g->resolve;
	if ((ctl->api = api_new(&o, &cause)) == NULL) {
		ctl_err(ctl, "cloud \"%s\": %s", ctl->cloud->name, cause);
		free(cause);
		return CTL_USAGE;
	}
	return CTL_OK;
}
