/*
 * ctl_create.c: ampstreamctl create.
 *
 * Resolves the names given (or takes every event type and every group for
 * --all), creates the password file (never overwriting) before asking the
 * API, POSTs /v1/event_streams, writes the one-time AMQP password to the
 * file and prints a streams block for the config and the next steps.  The
 * file goes next to the config (/etc/ampstream) as root:ampstream 0640, so
 * the service (user ampstream) can read it; without that group (or as
 * another user) it stays 0600 and the commands that fix it are printed.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api.h"
#include "buf.h"
#include "compat.h"
#include "config.h"
#include "ctl.h"
#include "ctl_esc.h"
#include "log.h"
#include "xmalloc.h"

#define CONF_NAME_MAX	128	/* a stream name in the config */

struct create {
	const char	 *name;
	int		  all;
	const char	**types;
	size_t		  ntypes;
	const char	**groups;
	size_t		  ngroups;
	const char	 *password_file;
	const char	 *amqp_ca_file;
	const char	 *service_group;	/* default CTL_SERVICE_GROUP */
	int		  shared;	/* root:service_group 0640 done */
};

static int	 parse_args(struct ctl *, struct create *, int, char **);
static int	 build_body(struct ctl *, const struct create *,
		    struct json_object *);
static int	 add_ids(struct ctl *, struct json_object *, const char *,
		    struct json_object *, const char **, size_t, int);
static void	 add_unique(struct json_object *, struct json_object *);
static char	*conf_name(const char *);
static char	*password_path(const struct ctl *, const struct create *);
static int	 open_password(const struct ctl *, struct create *,
		    const char *);
static int	 share_password(struct create *, int);
static void	 print_next(const struct ctl *, const struct create *,
		    const char *);
static int	 write_password(const struct ctl *, int, const char *,
		    const char *);
static int	 created(struct ctl *, const struct create *,
		    struct json_object *, const char *, int);
static void	 print_block(const struct ctl *, const struct create *,
		    const char *, struct json_object *, const char *,
		    const char *);
static void	 print_conf_str(const char *, const char *);

int
ctl_create(struct ctl *ctl, int argc, char **argv)
{
	struct create		 c;
	struct json_object	*body = NULL, *env = NULL;
	char			*path = NULL, *cause = NULL;
	int			 fd = -1, rv = CTL_USAGE;

	if (parse_args(ctl, &c, argc, argv) == -1)
		goto out;
	if ((body = json_object_new_object()) == NULL)
		fatal("json_object_new_object");
	if ((rv = build_body(ctl, &c, body)) != CTL_OK)
		goto out;
	rv = CTL_USAGE;
	if ((path = password_path(ctl, &c)) == NULL ||
	    (fd = open_password(ctl, &c, path)) == -1)
		goto out;
	rv = CTL_API;
	if (api_post(ctl->api, "/v1/event_streams", body, &env, &cause) == -1) {
		ctl_err(ctl, "cannot create event stream \"%s\": %s", c.name,
		    cause);
		unlink(path);
		goto out;
	}
	rv = created(ctl, &c, env, path, fd);
	fd = -1;
out:
	if (fd != -1)
		close(fd);
	free(c.types);
	free(c.groups);
	free(path);
	free(cause);
	json_object_put(body);
	json_object_put(env);
	return rv;
}

static int
parse_args(struct ctl *ctl, struct create *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all",		no_argument,		NULL, 'a' },
		{ "type",		required_argument,	NULL, 't' },
		{ "group",		required_argument,	NULL, 'g' },
		{ "password-file",	required_argument,	NULL, 'p' },
		{ "amqp-ca-file",	required_argument,	NULL, 'C' },
		{ "service-group",	required_argument,	NULL, 'G' },
		{ NULL,			0,			NULL, 0 }
	};
	int	 ch;

	memset(c, 0, sizeof(*c));
	c->service_group = CTL_SERVICE_GROUP;
	c->types = xcalloc(argc, sizeof(char *));
	c->groups = xcalloc(argc, sizeof(char *));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "at:g:p:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			c->all = 1;
			break;
		case 't':
			c->types[c->ntypes++] = optarg;
			break;
		case 'g':
			c->groups[c->ngroups++] = optarg;
			break;
		case 'p':
			c->password_file = optarg;
			break;
		case 'C':
			c->amqp_ca_file = optarg;
			break;
		case 'G':
			c->service_group = optarg;
			break;
		default:
			return -1;
		}
	}
	if (optind + 1 != argc || *argv[optind] == '\0') {
		ctl_err(ctl, "create: give one stream NAME (see --help)");
		return -1;
	}
	c->name = argv[optind];
	if (c->all == (c->ntypes > 0 || c->ngroups > 0)) {
		ctl_err(ctl, "create: give either --all, or --type and/or "
		    "--group");
		return -1;
	}
	return 0;
}

/*
 * {"name", "event_type": [ids], "group_guid": [guids]}.  --all lists every
 * event type and every group; with only --type (or only --group) the other
 * list is left out, which the API takes as "all".
 */
static int
build_body(struct ctl *ctl, const struct create *c, struct json_object *body)
{
	struct json_object	*items = NULL;
	int			 rv;

	json_object_object_add(body, "name", json_object_new_string(c->name));
	if (c->all || c->ntypes > 0) {
		if (ctl_fetch_event_types(ctl, &items) == -1)
			return CTL_API;
		rv = add_ids(ctl, body, "event_type", items, c->types,
		    c->ntypes, c->all);
		json_object_put(items);
		if (rv != CTL_OK)
			return rv;
	}
	if (c->all || c->ngroups > 0) {
		if (ctl_fetch_groups(ctl, &items) == -1)
			return CTL_API;
		rv = add_ids(ctl, body, "group_guid", items, c->groups,
		    c->ngroups, c->all);
		json_object_put(items);
		if (rv != CTL_OK)
			return rv;
	}
	return CTL_OK;
}

/* body[key] = the ids of the named items (every item when all). */
static int
add_ids(struct ctl *ctl, struct json_object *body, const char *key,
    struct json_object *items, const char **names, size_t n, int all)
{
	struct json_object	*ids = json_object_new_array(), *it;
	int			 types = strcmp(key, "event_type") == 0;
	const char		*idkey = types ? "id" : "guid";
	size_t			 i, bad = 0;

	if (ids == NULL)
		fatal("json_object_new_array");
	json_object_object_add(body, key, ids);
	for (i = 0; all && i < json_object_array_length(items); i++)
		add_unique(ids, json_object_object_get(
		    json_object_array_get_idx(items, i), idkey));
	for (i = 0; i < n; i++) {
		if ((it = ctl_match(ctl, items, "name", idkey, types ?
		    "event type" : "group", names[i])) == NULL)
			bad++;
		else
			add_unique(ids, json_object_object_get(it, idkey));
	}
	if (json_object_array_length(ids) == 0 && bad == 0) {
		ctl_err(ctl, "the API lists no %s", types ? "event types" :
		    "groups");
		return CTL_API;
	}
	return bad ? CTL_USAGE : CTL_OK;
}

/* Append id unless it is already there (or missing). */
static void
add_unique(struct json_object *ids, struct json_object *id)
{
	size_t	 i;

	if (id == NULL)
		return;
	for (i = 0; i < json_object_array_length(ids); i++)
		if (json_object_equal(json_object_array_get_idx(ids, i), id))
			return;
	json_object_array_add(ids, json_object_get(id));
}

/* The stream name as the config allows it: A-Z a-z 0-9 . _ -, 128 bytes. */
static char *
conf_name(const char *name)
{
	char	*s;
	size_t	 i;

	s = xstrndup(name, CONF_NAME_MAX);
	for (i = 0; s[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-", s[i]) == NULL)
			s[i] = '_';
	if (s[0] == '.')
		s[0] = '_';
	return s;
}

/* --password-file (made absolute), or CONFIG_DIR/NAME.password. */
static char *
password_path(const struct ctl *ctl, const struct create *c)
{
	char	*path, cwd[PATH_MAX];
	int	 n;

	if (c->password_file != NULL && c->password_file[0] == '/')
		n = asprintf(&path, "%s", c->password_file);
	else if (c->password_file != NULL) {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			ctl_err(ctl, "getcwd: %s", strerror(errno));
			return NULL;
		}
		n = asprintf(&path, "%s/%s", cwd, c->password_file);
	} else
		return ctl_password_path(ctl, c->name);
	if (n == -1)
		fatal("asprintf");
	return path;
}

/* Where create puts NAME's password by default: next to the config. */
char *
ctl_password_path(const struct ctl *ctl, const char *stream)
{
	const char	*conf = ctl->cfg->path, *slash = strrchr(conf, '/');
	char		*path, *name = conf_name(stream);

	if (slash == NULL)
		xasprintf(&path, "%s.password", name);
	else
		xasprintf(&path, "%.*s/%s.password", (int)(slash - conf), conf,
		    name);
	free(name);
	return path;
}

/*
 * Create path, mode 0600, then root:GROUP 0640 when it can; never an
 * existing file or a symlink.
 */
static int
open_password(const struct ctl *ctl, struct create *c, const char *path)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 && errno == EEXIST) {
		ctl_err(ctl, "password file %s exists; refusing to overwrite "
		    "it (remove it or give another --password-file)", path);
		return -1;
	}
	if (fd == -1) {
		ctl_err(ctl, "cannot create password file %s: %s%s", path,
		    strerror(errno), errno == ENOENT ? " (give "
		    "--password-file, or create the directory)" : "");
		return -1;
	}
	if (fchmod(fd, 0600) == -1 || share_password(c, fd) == -1) {
		ctl_err(ctl, "chmod %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/*
 * root:GROUP 0640 (what the daemon accepts from root) if we are root and
 * the group exists; else leave 0600 for print_next() to explain.
 */
static int
share_password(struct create *c, int fd)
{
	struct group	*gr;

	if (geteuid() != 0 || (gr = getgrnam(c->service_group)) == NULL)
		return 0;
	if (fchown(fd, 0, gr->gr_gid) == -1 || fchmod(fd, 0640) == -1)
		return -1;
	c->shared = 1;
	return 0;
}

/* Write the password and a newline, sync, close. */
static int
write_password(const struct ctl *ctl, int fd, const char *path,
    const char *password)
{
	size_t	 len = strlen(password);
	int	 ok;

	ok = write(fd, password, len) == (ssize_t)len &&
	    write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	if (close(fd) == -1)
		ok = 0;
	if (!ok)
		ctl_err(ctl, "writing password file %s: %s", path,
		    strerror(errno));
	return ok ? 0 : -1;
}

/* The 201 answer: save the password, print what the config needs. */
static int
created(struct ctl *ctl, const struct create *c, struct json_object *env,
    const char *path, int fd)
{
	struct json_object	*data = NULL, *creds = NULL;
	const char		*password, *id;
	char			*url = NULL;

	if (json_object_object_get_ex(env, "data", &data) &&
	    !json_object_is_type(data, json_type_object))
		data = NULL;
	json_object_object_get_ex(data, "amqp_credentials", &creds);
	if ((id = ctl_idstr(json_object_object_get(data, "id"))) == NULL)
		id = "(id not given)";
	password = ctl_str(creds, "password");
	if (password == NULL || (url = ctl_amqp_url(creds)) == NULL ||
	    ctl_str(creds, "user_name") == NULL ||
	    ctl_str(creds, "queue_name") == NULL) {
		free(url);
		close(fd);
		unlink(path);
		ctl_err(ctl, "event stream %s was created, but the answer "
		    "lacks usable amqp_credentials (password, user_name, "
		    "queue_name, host, port); delete it and try again",
		    esc(id));
		return CTL_API;
	}
	if (write_password(ctl, fd, path, password) == -1) {
		unlink(path);
		ctl_err(ctl, "event stream %s was created but its password is "
		    "lost; delete it and try again", esc(id));
		free(url);
		return CTL_API;
	}
	print_block(ctl, c, id, creds, url, path);
	print_next(ctl, c, path);
	free(url);
	return CTL_OK;
}

static void
print_block(const struct ctl *ctl, const struct create *c, const char *id,
    struct json_object *creds, const char *url, const char *path)
{
	char	*name = conf_name(c->name);

	printf("created event stream %s \"%s\" on %s\n", esc(id), c->name,
	    api_host(ctl->api));
	printf("  AMQP URL: %s\n", esc(url));
	printf("  user:     %s\n", esc(ctl_str(creds, "user_name")));
	printf("  queue:    %s\n", esc(ctl_str(creds, "queue_name")));
	if (c->shared)
		printf("  password: written to %s (root:%s 0640; shown only "
		    "once)\n\n", path, c->service_group);
	else
		printf("  password: written to %s (mode 0600; shown only "
		    "once)\n\n", path);
	printf("# for %s (add the { ... } entry to an existing streams list):\n"
	    "streams = (\n", ctl->cfg->path ? ctl->cfg->path : "the config");
	print_conf_str("  { name", name);
	print_conf_str("    cloud", ctl->cloud->name);
	print_conf_str("    url", url);
	print_conf_str("    user", ctl_str(creds, "user_name"));
	print_conf_str("    password_file", path);
	print_conf_str("    queue", ctl_str(creds, "queue_name"));
	if (c->amqp_ca_file != NULL)
		print_conf_str("    ca_file", c->amqp_ca_file);
	printf("  }\n);\n");
	free(name);
}

/* What the service needs before it can use the stream. */
static void
print_next(const struct ctl *ctl, const struct create *c, const char *path)
{
	const char	*conf = ctl->cfg->path ? ctl->cfg->path :
			    CONFIG_DEFAULT_PATH;
	int		 n = 1;

	printf("\nnext steps:\n");
	if (!c->shared)
		printf("  %d. let the service read the password (it runs as "
		    "user %s):\n       chown root:%s %s && chmod 0640 %s\n",
		    n++, c->service_group, c->service_group, path, path);
	printf("  %d. add the streams entry above to %s (with its sinks)\n",
	    n++, conf);
	printf("  %d. check it as the service runs: ampstream -n -u %s -c "
	    "%s\n", n++, c->service_group, conf);
	printf("  %d. start it: systemctl enable --now ampstream (running: "
	    "systemctl reload ampstream)\n", n);
}

/*
 * KEY = "VALUE"; in libconfig syntax: \xNN keeps the value's bytes while
 * no control character reaches the terminal.
 */
static void
print_conf_str(const char *key, const char *value)
{
	struct buf	 b;

	buf_init(&b, 0);
	esc_append(&b, value, strlen(value), ESC_CONF);
	printf("%s = \"%s\";\n", key, b.data != NULL ? b.data : "");
	buf_free(&b);
}
