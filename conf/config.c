/*
 * config.c: load, check and free the configuration (libconfig syntax).
 *
 * Every key is declared once in a static table per section (name, type,
 * offset into the section's struct, default, range); the tables drive
 * defaults, type and range checks and unknown-key detection.  Checks that
 * span keys (URLs, secrets, references between sections, unique names) run
 * after a section is read.  Every error is collected as
 * "FILE:LINE: KEY: message" before config_load() fails.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <amqp.h>
#include <libconfig.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "secret.h"
#include "xmalloc.h"
#include "strdist.h"

/* Sink types as bits, for keys that apply to (or are required by) some. */
#define T_SYSLOG	0x01
#define T_UDP		0x02
#define T_TCP		0x04
#define T_TLS		0x08
#define T_FILE		0x10
#define T_NET		(T_UDP | T_TCP | T_TLS)
#define T_ALL		0x1f

/* Table rows: name, type and offset, then designated extras. */
#define KEY(n, t, o)	.name = (n), .type = (t), .off = (o)
#define FIELD(obj, off, type)	((type *)(void *)((char *)(obj) + (off)))

enum ktype {
	K_STR,		/* char *; optional check function */
	K_CHOICE,	/* char *, one of names[] */
	K_ENUM,		/* int, index into names[] */
	K_INT,		/* int in min..max */
	K_SIZE,		/* size_t in min..max */
	K_BOOL,		/* bool */
	K_FACILITY,	/* int 0..23, or a facility name */
	K_SECRET,	/* char *, from NAME_file or NAME_credential */
	K_NAMES,	/* array of strings, checked later (stream sinks) */
	K_LIST,		/* list of groups: a section */
	K_GROUP,	/* one group, parsed with sub[] into off */
	K_FIELDS,	/* struct conf_fields: a group of name = "string" */
	K_NTYPES
};

struct section;
struct ctx;
typedef void post_fn(struct ctx *, config_setting_t *, const char *, void *);

struct key {
	const char		*name;
	enum ktype		 type;
	size_t			 off;
	unsigned		 req;	/* required for these sink types */
	unsigned		 only;	/* 0: any type; else only these */
	long long		 min, max, idef;
	const char		*sdef;
	const char *const	*names;	/* K_CHOICE, K_ENUM */
	const char		*(*check)(const char *);	/* K_STR */
	int			 perms;	/* K_STR: a secret file (TLS key) */
	const struct section	*sect;	/* K_LIST */
	const struct key	*sub;	/* K_GROUP */
	size_t			 nsub;
	post_fn			*post;	/* K_GROUP */
};

struct section {
	const char		*name;
	const struct key	*keys;
	size_t			 nkeys;
	size_t			 size;
	size_t			 arr_off, n_off, name_off, line_off, file_off;
	post_fn			*pre, *post;
};

struct ctx {
	const char	*file;
	const char	*at_file;	/* set by at(): the setting's own file */
	char		*incdir;	/* the main file's directory, or NULL */
	struct buf	 errs;
	struct config	*conf;
	unsigned	 tmask;		/* type bits of the sink being read */
};

typedef void key_fn(struct ctx *, config_setting_t *, const char *,
    const struct key *, void *);

static void	 cerr(struct ctx *, int, const char *, const char *,
		    const char *, ...) printflike(5, 6);
static int	 line_of(const config_setting_t *);
static int	 at(struct ctx *, const config_setting_t *);
static void	 set_include_dir(struct ctx *, config_t *, const char *);
static const char *file_of(struct ctx *, const config_setting_t *);
static const char *file_name(struct ctx *, const char *);
static config_setting_t *member(const config_setting_t *, const char *);
static config_setting_t *fetch(struct ctx *, config_setting_t *,
		    const char *, const struct key *);
static int	 want(struct ctx *, config_setting_t *, const char *,
		    const char *, int, int);
static int	 key_matches(const struct key *, const char *);
static const char *suggest(const struct key *, size_t, const char *);
static void	 check_unknown(struct ctx *, config_setting_t *, const char *,
		    const struct key *, size_t);
static void	 parse_group(struct ctx *, config_setting_t *, const char *,
		    const struct key *, size_t, void *);
static void	 parse_key(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static int	 get_number(struct ctx *, config_setting_t *, const char *,
		    const struct key *, long long *);
static int	 lookup_name(const char *const *, const char *);
static void	 names_list(struct buf *, const char *const *);
static void	 h_str(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static void	 h_choice(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static void	 h_enum(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static void	 h_number(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static void	 h_bool(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static void	 h_facility(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static void	 h_secret(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static void	 h_names(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static void	 h_list(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static void	 h_group(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static void	 h_fields(struct ctx *, config_setting_t *, const char *,
		    const struct key *, void *);
static const char *check_field_name(const char *);
static bool	 same_fields(const struct conf_fields *,
		    const struct conf_fields *);
static char	*read_secret(struct ctx *, config_setting_t *, const char *,
		    const char *, int);
static const char *check_nonempty(const char *);
static const char *check_abspath(const char *);
static const char *check_name(const char *);
static const char *check_fname(const char *);
static const char *check_app_name(const char *);
static int	 url_authority(const char *, const char **, size_t *);
static int	 split_host(const char *, size_t, char **, const char **);
static void	 strip_slashes(char *);
static void	 cloud_post(struct ctx *, config_setting_t *, const char *,
		    void *);
static char	*derive_console(const char *, const char *);
static void	 stream_post(struct ctx *, config_setting_t *, const char *,
		    void *);
static int	 stream_url(struct ctx *, const config_setting_t *, const char *,
		    struct stream_conf *);
static int	 amqp_url_ok(struct ctx *, const config_setting_t *,
		    const char *, const char *);
static int	 is_loopback(const char *);
static void	 sink_pre(struct ctx *, config_setting_t *, const char *,
		    void *);
static void	 sink_post(struct ctx *, config_setting_t *, const char *,
		    void *);
static void	 corr_post(struct ctx *, config_setting_t *, const char *,
		    void *);
static void	 unique_names(struct ctx *, const struct section *);
static void	 resolve_streams(struct ctx *, config_setting_t *);
static void	 resolve_cloud(struct ctx *, config_setting_t *, const char *,
		    struct stream_conf *);
static void	 resolve_sinks(struct ctx *, config_setting_t *, const char *,
		    struct stream_conf *);
static int	 sink_index(const struct config *, const char *, size_t *);
static void	 add_sink(struct ctx *, config_setting_t *, const char *,
		    struct stream_conf *, size_t);
static int	 read_file(struct ctx *, config_t *, const char *);
static const char *check_listen(const char *);
static void	 free_obj(const struct key *, size_t, void *);
static void	 fields_free(struct conf_fields *);
static bool	 same_obj(const struct key *, size_t, const void *,
		    const void *);
static bool	 same_str(const char *, const char *);
static uint64_t	 file_stamp(uint64_t, const char *);

static const char *const log_levels[] = { "error", "warn", "info", "debug",
    NULL };
static const char *const sink_types[] = { "syslog", "udp", "tcp", "tls",
    "file", NULL };
static const char *const formats[] = { "cef", "json", "leef", NULL };
static const char *const syslog_styles[] = { "rfc5424", "rfc3164", "none",
    NULL };
static const char *const framings[] = { "octet", "lf", NULL };
/* RFC 5424 facility numbers 0..23. */
static const char *const facilities[] = { "kern", "user", "mail", "daemon",
    "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
    "ntp", "audit", "alert", "clock", "local0", "local1", "local2",
    "local3", "local4", "local5", "local6", "local7", NULL };
static const char *const type_names[] = { "none", "a group", "an integer",
    "an integer", "a float", "a string", "a boolean", "an array", "a list" };

static key_fn *const handlers[K_NTYPES] = {
	[K_STR] = h_str, [K_CHOICE] = h_choice, [K_ENUM] = h_enum,
	[K_INT] = h_number, [K_SIZE] = h_number, [K_BOOL] = h_bool,
	[K_FACILITY] = h_facility, [K_SECRET] = h_secret,
	[K_NAMES] = h_names, [K_LIST] = h_list, [K_GROUP] = h_group,
	[K_FIELDS] = h_fields,
};

#define CL(f)	offsetof(struct cloud_conf, f)
static const struct key cloud_keys[] = {
	{ KEY("name", K_STR, CL(name)), .req = T_ALL, .check = check_name },
	{ KEY("api_url", K_STR, CL(api_url)), .req = T_ALL },
	{ KEY("console_url", K_STR, CL(console_url)) },
	{ KEY("client_id", K_STR, CL(client_id)), .req = T_ALL },
	{ KEY("api_key", K_SECRET, CL(api_key)), .req = T_ALL },
	{ KEY("ca_file", K_STR, CL(ca_file)) },
	{ KEY("group_names", K_BOOL, CL(group_names)), .idef = 1 },
	{ KEY("computer_details", K_BOOL, CL(computer_details)), .idef = 1 },
};
#undef CL

#define ST(f)	offsetof(struct stream_conf, f)
static const struct key stream_keys[] = {
	{ KEY("name", K_STR, ST(name)), .req = T_ALL, .check = check_fname },
	{ KEY("cloud", K_STR, ST(cloud)) },
	{ KEY("url", K_STR, ST(url)), .req = T_ALL },
	{ KEY("user", K_STR, ST(user)), .req = T_ALL },
	{ KEY("password", K_SECRET, ST(password)), .req = T_ALL },
	{ KEY("queue", K_STR, ST(queue)), .req = T_ALL },
	{ KEY("ca_file", K_STR, ST(ca_file)) },
	{ KEY("prefetch", K_INT, ST(prefetch)), .min = 1, .max = 65535,
	    .idef = 1000 },
	{ KEY("heartbeat", K_INT, ST(heartbeat)), .min = 0, .max = 600,
	    .idef = 30 },
	{ KEY("insecure_plaintext", K_BOOL, ST(insecure_plaintext)) },
	{ KEY("hold_timeout", K_INT, ST(hold_timeout)), .min = 1,
	    .max = 86400, .idef = 600 },
	{ KEY("max_message", K_SIZE, ST(max_message)), .min = 4096,
	    .max = 512LL << 20, .idef = 16LL << 20 },
	{ KEY("deadletter_max_bytes", K_SIZE, ST(deadletter_max_bytes)),
	    .min = 1LL << 20, .max = 1LL << 42, .idef = 1LL << 30 },
	{ KEY("sinks", K_NAMES, 0) },
};
#undef ST

#define SK(f)	offsetof(struct sink_conf, f)
static const struct key sink_keys[] = {
	{ KEY("name", K_STR, SK(name)), .req = T_ALL, .check = check_name },
	{ KEY("type", K_CHOICE, SK(type)), .req = T_ALL,
	    .names = sink_types },
	{ KEY("format", K_CHOICE, SK(format)), .sdef = "cef",
	    .names = formats },
	{ KEY("host", K_STR, SK(host)), .req = T_NET, .only = T_NET },
	{ KEY("port", K_INT, SK(port)), .req = T_NET, .only = T_NET,
	    .min = 1, .max = 65535 },
	{ KEY("path", K_STR, SK(path)), .req = T_FILE,
	    .only = T_FILE | T_SYSLOG, .check = check_abspath },
	{ KEY("syslog", K_ENUM, SK(syslog)), .names = syslog_styles },
	{ KEY("framing", K_ENUM, SK(framing)), .names = framings },
	{ KEY("max_record", K_SIZE, SK(max_record)), .min = 480,
	    .max = 1048576, .idef = 8192 },
	{ KEY("facility", K_FACILITY, SK(facility)), .min = 0, .max = 23,
	    .idef = 16 },
	{ KEY("app_name", K_STR, SK(app_name)), .sdef = "ampstream",
	    .check = check_app_name },
	{ KEY("default_severity", K_INT, SK(default_severity)), .min = 0,
	    .max = 10, .idef = 1 },
	{ KEY("rotate_bytes", K_SIZE, SK(rotate_bytes)), .only = T_FILE,
	    .min = 65536, .max = 1LL << 40 },
	{ KEY("rotate_keep", K_INT, SK(rotate_keep)), .only = T_FILE,
	    .min = 1, .max = 1000, .idef = 7 },
	{ KEY("fields", K_FIELDS, SK(fields)) },
	{ KEY("rotate_age", K_INT, SK(rotate_age)), .only = T_FILE,
	    .min = 1, .max = 31622400 },
	{ KEY("spool_max_bytes", K_SIZE, SK(spool_max_bytes)),
	    .only = T_TCP | T_TLS | T_SYSLOG, .min = 0, .max = 1LL << 42,
	    .idef = 1LL << 30 },
	{ KEY("ca_file", K_STR, SK(ca_file)), .only = T_TLS },
	{ KEY("cert_file", K_STR, SK(cert_file)), .only = T_TLS },
	{ KEY("key_file", K_STR, SK(key_file)), .only = T_TLS, .perms = 1 },
};
#undef SK

#define CO(f)	offsetof(struct corr_conf, f)
static const struct key corr_keys[] = {
	{ KEY("max_entries", K_SIZE, CO(max_entries)), .min = 1,
	    .max = 10000000, .idef = 100000 },
	{ KEY("ttl", K_INT, CO(ttl)), .min = 1, .max = 2592000,
	    .idef = 86400 },
	{ KEY("unresolved_alert", K_INT, CO(unresolved_alert)), .min = 0,
	    .max = 2592000, .idef = 0 },
};
#undef CO

#define ME(f)	offsetof(struct metrics_conf, f)
static const struct key metrics_keys[] = {
	{ KEY("listen", K_STR, ME(listen)), .check = check_listen },
	{ KEY("max_clients", K_INT, ME(max_clients)), .min = 1, .max = 1024,
	    .idef = 16 },
	{ KEY("timeout", K_INT, ME(timeout)), .min = 1, .max = 300,
	    .idef = 10 },
};
#undef ME

#define CF(f)	offsetof(struct config, f)
static const struct section sect_clouds = {
	"clouds", cloud_keys, nitems(cloud_keys), sizeof(struct cloud_conf),
	CF(clouds), CF(nclouds), offsetof(struct cloud_conf, name),
	offsetof(struct cloud_conf, line), offsetof(struct cloud_conf, file),
	NULL, cloud_post
};
static const struct section sect_streams = {
	"streams", stream_keys, nitems(stream_keys),
	sizeof(struct stream_conf), CF(streams), CF(nstreams),
	offsetof(struct stream_conf, name), offsetof(struct stream_conf, line),
	offsetof(struct stream_conf, file), NULL, stream_post
};
static const struct section sect_sinks = {
	"sinks", sink_keys, nitems(sink_keys), sizeof(struct sink_conf),
	CF(sinks), CF(nsinks), offsetof(struct sink_conf, name),
	offsetof(struct sink_conf, line), offsetof(struct sink_conf, file),
	sink_pre, sink_post
};

static const struct key root_keys[] = {
	{ KEY("state_dir", K_STR, CF(state_dir)), .sdef = "/var/lib/ampstream",
	    .check = check_abspath },
	{ KEY("log_level", K_ENUM, CF(log_level)), .names = log_levels,
	    .idef = LOG_LEVEL_INFO },
	{ KEY("max_handshakes", K_INT, CF(max_handshakes)), .min = 1,
	    .max = 256, .idef = 64 },
	{ KEY("clouds", K_LIST, 0), .sect = &sect_clouds },
	{ KEY("sinks", K_LIST, 0), .sect = &sect_sinks },
	{ KEY("streams", K_LIST, 0), .sect = &sect_streams },
	{ KEY("correlation", K_GROUP, CF(correlation)), .sub = corr_keys,
	    .nsub = nitems(corr_keys), .post = corr_post },
	{ KEY("metrics", K_GROUP, CF(metrics)), .sub = metrics_keys,
	    .nsub = nitems(metrics_keys) },
};
#undef CF

static const struct section *const sections[] = {
	&sect_clouds, &sect_sinks, &sect_streams
};

/* Append "FILE:LINE: PATH.KEY: message" to the error list. */
static void
cerr(struct ctx *c, int line, const char *path, const char *key,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("%s", __func__);
	va_end(ap);
	buf_printf(&c->errs, "%s:%d: ", c->at_file ? c->at_file : c->file,
	    line);
	c->at_file = NULL;
	if (key != NULL)
		buf_printf(&c->errs, "%s%s%s: ", path, *path ? "." : "", key);
	buf_puts(&c->errs, msg);
	buf_putc(&c->errs, '\n');
	free(msg);
}

/*
 * The line of s for cerr(), remembering the file s was read from: an
 * @include'd file is named in the error, not the main one.
 */
/*
 * The file s was read from, as the config keeps it (conf->files): NULL
 * from libconfig is the main file; a relative @include is relative to the
 * main file's directory.
 */
static const char *
file_of(struct ctx *c, const config_setting_t *s)
{
	return file_name(c, s == NULL ? NULL : config_setting_source_file(s));
}

/* f as libconfig names it -> the path kept in conf->files (or conf->path). */
static const char *
file_name(struct ctx *c, const char *f)
{
	struct config	*cf = c->conf;
	char		*full;
	size_t		 i;

	if (f == NULL || strcmp(f, cf->path) == 0)
		return cf->path;
	if (*f != '/' && c->incdir != NULL)
		xasprintf(&full, "%s/%s", c->incdir, f);
	else
		full = xstrdup(f);
	for (i = 0; i < cf->nfiles; i++)
		if (strcmp(cf->files[i], full) == 0) {
			free(full);
			return cf->files[i];
		}
	cf->files = xreallocarray(cf->files, cf->nfiles + 1,
	    sizeof(*cf->files));
	return cf->files[cf->nfiles++] = full;
}

static int
at(struct ctx *c, const config_setting_t *s)
{
	c->at_file = file_of(c, s);
	return line_of(s);
}

static int
line_of(const config_setting_t *s)
{
	return s == NULL ? 0 : (int)config_setting_source_line(s);
}

static config_setting_t *
member(const config_setting_t *grp, const char *name)
{
	if (grp == NULL || !config_setting_is_group(grp))
		return NULL;
	return config_setting_get_member(grp, name);
}

/* The setting for k, or NULL (reported when it is required). */
static config_setting_t *
fetch(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k)
{
	config_setting_t	*s = member(grp, k->name);

	/* A key every type needs is missing even when the type is unknown. */
	if (s == NULL && ((k->req & c->tmask) || k->req == T_ALL))
		cerr(c, at(c, grp), path, k->name, "missing");
	return s;
}

/* Check the type of s is t1 or t2; report it if not. */
static int
want(struct ctx *c, config_setting_t *s, const char *path, const char *key,
    int t1, int t2)
{
	int	 t = config_setting_type(s);

	if (t == t1 || t == t2)
		return 1;
	cerr(c, at(c, s), path, key, "expected %s, got %s", type_names[t1],
	    type_names[t]);
	return 0;
}

static int
key_matches(const struct key *k, const char *name)
{
	size_t	 n = strlen(k->name);

	if (k->type != K_SECRET)
		return strcmp(k->name, name) == 0;
	return strncmp(k->name, name, n) == 0 &&
	    (strcmp(name + n, "_file") == 0 ||
	    strcmp(name + n, "_credential") == 0);
}

/* The known key closest to name (at most 2 edits), or NULL. */
static const char *
suggest(const struct key *tab, size_t n, const char *name)
{
	const char	*best = NULL;
	size_t		 i, d, bestd = 3;

	for (i = 0; i < n; i++) {
		if (tab[i].type == K_SECRET)
			continue;
		if ((d = strdist(tab[i].name, name, false)) < bestd) {
			bestd = d;
			best = tab[i].name;
		}
	}
	return best;
}

/* Report every member of grp that the table does not know. */
static void
check_unknown(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *tab, size_t n)
{
	config_setting_t	*s;
	const char		*name, *hint;
	int			 i, len = config_setting_length(grp);
	size_t			 j;

	for (i = 0; i < len; i++) {
		s = config_setting_get_elem(grp, i);
		name = config_setting_name(s);
		for (j = 0; j < n && !key_matches(&tab[j], name); j++)
			;
		if (j < n)
			continue;
		for (j = 0; j < n; j++)
			if (tab[j].type == K_SECRET &&
			    strcmp(tab[j].name, name) == 0)
				break;
		if (j < n)
			cerr(c, at(c, s), path, name, "unknown key (secrets "
			    "are never inline: use %s_file or %s_credential)",
			    name, name);
		else if ((hint = suggest(tab, n, name)) != NULL)
			cerr(c, at(c, s), path, name,
			    "unknown key (did you mean %s?)", hint);
		else
			cerr(c, at(c, s), path, name, "unknown key");
	}
}

/* Read every key of tab from grp (NULL: defaults only) into obj. */
static void
parse_group(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *tab, size_t n, void *obj)
{
	size_t	 i;

	if (grp != NULL)
		check_unknown(c, grp, path, tab, n);
	for (i = 0; i < n; i++)
		parse_key(c, grp, path, &tab[i], obj);
}

static void
parse_key(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, void *obj)
{
	config_setting_t	*s = member(grp, k->name);

	if (s != NULL && k->only != 0 && c->tmask != 0 &&
	    (k->only & c->tmask) == 0) {
		cerr(c, at(c, s), path, k->name, "not used by type \"%s\"",
		    config_setting_get_string(member(grp, "type")));
		return;
	}
	handlers[k->type](c, grp, path, k, obj);
}

/* An integer in k's range; 0 with *v set, or -1 (reported). */
static int
get_number(struct ctx *c, config_setting_t *s, const char *path,
    const struct key *k, long long *v)
{
	if (!want(c, s, path, k->name, CONFIG_TYPE_INT, CONFIG_TYPE_INT64))
		return -1;
	*v = config_setting_get_int64(s);
	if (*v < k->min || *v > k->max) {
		cerr(c, at(c, s), path, k->name, "%lld is out of range "
		    "%lld..%lld", *v, k->min, k->max);
		return -1;
	}
	return 0;
}

static int
lookup_name(const char *const *names, const char *s)
{
	int	 i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static void
names_list(struct buf *b, const char *const *names)
{
	int	 i;

	for (i = 0; names[i] != NULL; i++)
		buf_printf(b, "%s%s", i ? ", " : "", names[i]);
}

static void
h_str(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, void *obj)
{
	config_setting_t	*s = fetch(c, grp, path, k);
	const char		*v, *why;
	char			*cause;

	if (s == NULL) {
		if (k->sdef != NULL)
			*FIELD(obj, k->off, char *) = xstrdup(k->sdef);
		return;
	}
	if (!want(c, s, path, k->name, CONFIG_TYPE_STRING, -1))
		return;
	v = config_setting_get_string(s);
	why = check_nonempty(v);
	if (why == NULL && k->check != NULL)
		why = k->check(v);
	if (why != NULL) {
		cerr(c, at(c, s), path, k->name, "%s", why);
		return;
	}
	if (k->perms && secret_check_perms(v, &cause) == -1) {
		cerr(c, at(c, s), path, k->name, "%s", cause);
		free(cause);
	}
	*FIELD(obj, k->off, char *) = xstrdup(v);
}

/* v is none of k's names: say which it could be. */
static void
bad_choice(struct ctx *c, config_setting_t *s, const char *path,
    const struct key *k, const char *v)
{
	struct buf	 b;

	buf_init(&b, 0);
	names_list(&b, k->names);
	cerr(c, at(c, s), path, k->name, "\"%s\" is not one of %s", v,
	    b.data);
	buf_free(&b);
}

static void
h_choice(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, void *obj)
{
	config_setting_t	*s = fetch(c, grp, path, k);
	const char		*v;

	if (s == NULL) {
		if (k->sdef != NULL)
			*FIELD(obj, k->off, char *) = xstrdup(k->sdef);
		return;
	}
	if (!want(c, s, path, k->name, CONFIG_TYPE_STRING, -1))
		return;
	v = config_setting_get_string(s);
	if (lookup_name(k->names, v) != -1) {
		*FIELD(obj, k->off, char *) = xstrdup(v);
		return;
	}
	bad_choice(c, s, path, k, v);
}

static void
h_enum(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, void *obj)
{
	config_setting_t	*s = fetch(c, grp, path, k);
	const char		*v;
	int			 i;

	*FIELD(obj, k->off, int) = (int)k->idef;
	if (s == NULL || !want(c, s, path, k->name, CONFIG_TYPE_STRING, -1))
		return;
	v = config_setting_get_string(s);
	if ((i = lookup_name(k->names, v)) != -1) {
		*FIELD(obj, k->off, int) = i;
		return;
	}
	bad_choice(c, s, path, k, v);
}

/* K_INT and K_SIZE: a number in min..max, stored as int or size_t. */
static void
h_number(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, void *obj)
{
	config_setting_t	*s = fetch(c, grp, path, k);
	long long		 v = k->idef;

	if (s != NULL && get_number(c, s, path, k, &v) == -1)
		return;
	if (k->type == K_SIZE)
		*FIELD(obj, k->off, size_t) = (size_t)v;
	else
		*FIELD(obj, k->off, int) = (int)v;
}

static void
h_bool(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, void *obj)
{
	config_setting_t	*s = fetch(c, grp, path, k);

	*FIELD(obj, k->off, bool) = k->idef != 0;
	if (s != NULL && want(c, s, path, k->name, CONFIG_TYPE_BOOL, -1))
		*FIELD(obj, k->off, bool) = config_setting_get_bool(s) != 0;
}

/* A facility number, or a name (kern, user, ..., local7). */
static void
h_facility(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, void *obj)
{
	config_setting_t	*s = fetch(c, grp, path, k);
	long long		 v = k->idef;

	if (s != NULL && config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = lookup_name(facilities, config_setting_get_string(s));
		if (v == -1) {
			cerr(c, at(c, s), path, k->name, "unknown facility "
			    "\"%s\" (a number 0..23, or kern, user, ..., "
			    "local0 .. local7)", config_setting_get_string(s));
			return;
		}
	} else if (s != NULL && get_number(c, s, path, k, &v) == -1)
		return;
	*FIELD(obj, k->off, int) = (int)v;
}

/* A secret from exactly one of NAME_file and NAME_credential. */
static void
h_secret(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, void *obj)
{
	config_setting_t	*f, *cr;
	char			 fk[64], ck[64];

	snprintf(fk, sizeof(fk), "%s_file", k->name);
	snprintf(ck, sizeof(ck), "%s_credential", k->name);
	f = member(grp, fk);
	cr = member(grp, ck);
	if (f != NULL && cr != NULL)
		cerr(c, at(c, cr), path, ck, "give only one of %s and %s",
		    fk, ck);
	else if (f == NULL && cr == NULL)
		cerr(c, at(c, grp), path, fk, "missing (or %s)", ck);
	else if (f != NULL)
		*FIELD(obj, k->off, char *) = read_secret(c, f, path, fk, 0);
	else
		*FIELD(obj, k->off, char *) = read_secret(c, cr, path, ck, 1);
}

static char *
read_secret(struct ctx *c, config_setting_t *s, const char *path,
    const char *key, int credential)
{
	const char	*v;
	char		*secret, *cause;

	if (!want(c, s, path, key, CONFIG_TYPE_STRING, -1))
		return NULL;
	v = config_setting_get_string(s);
	if (*v == '\0') {
		cerr(c, at(c, s), path, key, "empty");
		return NULL;
	}
	if (credential)
		secret = secret_read_credential(v, &cause);
	else
		secret = secret_read_file(v, &cause);
	if (secret == NULL) {
		cerr(c, at(c, s), path, key, "%s", cause);
		free(cause);
	}
	return secret;
}

/* A non-empty array of strings; names are resolved in resolve_sinks(). */
static void
h_names(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, __unused void *obj)
{
	config_setting_t	*s = fetch(c, grp, path, k);

	if (s == NULL || !want(c, s, path, k->name, CONFIG_TYPE_ARRAY, -1))
		return;
	if (config_setting_length(s) == 0) {
		cerr(c, at(c, s), path, k->name, "empty");
		return;
	}
	if (config_setting_type(config_setting_get_elem(s, 0)) !=
	    CONFIG_TYPE_STRING)
		cerr(c, at(c, s), path, k->name, "expected an array of "
		    "strings");
}

/* A list of groups: one struct per group, then the section's checks. */
static void
h_list(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, __unused void *obj)
{
	const struct section	*sc = k->sect;
	config_setting_t	*s = fetch(c, grp, path, k), *e;
	char			 ep[64], *arr;
	size_t			 i, n;

	if (s == NULL || !want(c, s, path, k->name, CONFIG_TYPE_LIST, -1))
		return;
	n = (size_t)config_setting_length(s);
	arr = xcalloc(n ? n : 1, sc->size);
	*FIELD(c->conf, sc->arr_off, void *) = arr;
	*FIELD(c->conf, sc->n_off, size_t) = n;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		snprintf(ep, sizeof(ep), "%s.[%zu]", k->name, i);
		*FIELD(arr + i * sc->size, sc->line_off, int) = line_of(e);
		*FIELD(arr + i * sc->size, sc->file_off, const char *) =
		    file_of(c, e);
		if (!want(c, e, k->name, ep + strlen(k->name) + 1,
		    CONFIG_TYPE_GROUP, -1))
			continue;
		c->tmask = T_ALL;
		if (sc->pre != NULL)
			sc->pre(c, e, ep, arr + i * sc->size);
		parse_group(c, e, ep, sc->keys, sc->nkeys, arr + i * sc->size);
		sc->post(c, e, ep, arr + i * sc->size);
		c->tmask = T_ALL;
	}
}

/* One group (or defaults when absent). */
static void
h_group(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, void *obj)
{
	config_setting_t	*s = fetch(c, grp, path, k);
	char			 p[64];

	if (s != NULL && !want(c, s, path, k->name, CONFIG_TYPE_GROUP, -1))
		s = NULL;
	snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", k->name);
	parse_group(c, s, p, k->sub, k->nsub, FIELD(obj, k->off, char));
	if (k->post != NULL)
		k->post(c, s, p, FIELD(obj, k->off, char));
}

/*
 * fields = { tenant = "acme"; site = "eu-1"; }: names that no format uses
 * already (LEEF keys and the CEF ad.* keys are lower case or camelCase),
 * string values; bounded.
 */
static void
h_fields(struct ctx *c, config_setting_t *grp, const char *path,
    const struct key *k, void *obj)
{
	struct conf_fields	*f = FIELD(obj, k->off, struct conf_fields);
	config_setting_t	*s = fetch(c, grp, path, k), *e;
	const char		*name, *v, *why;
	char			 p[128];
	size_t			 i, n;

	if (s == NULL || !want(c, s, path, k->name, CONFIG_TYPE_GROUP, -1))
		return;
	n = (size_t)config_setting_length(s);
	if (n > CONFIG_FIELDS_MAX) {
		cerr(c, at(c, s), path, k->name, "%zu fields, at most %d", n,
		    CONFIG_FIELDS_MAX);
		return;
	}
	f->v = xcalloc(n + 1, sizeof(*f->v));
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		name = config_setting_name(e);
		snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "",
		    k->name);
		if ((why = check_field_name(name)) != NULL) {
			cerr(c, at(c, e), p, name, "%s", why);
			continue;
		}
		if (!want(c, e, p, name, CONFIG_TYPE_STRING, -1))
			continue;
		v = config_setting_get_string(e);
		if (*v == '\0' || strlen(v) > CONFIG_FIELD_VALUE_MAX) {
			cerr(c, at(c, e), p, name, "empty or longer than %d "
			    "bytes", CONFIG_FIELD_VALUE_MAX);
			continue;
		}
		f->v[f->n].key = xstrdup(name);
		xasprintf(&f->v[f->n].ad_key, "ad.%s", name);
		f->v[f->n++].value = xstrdup(v);
	}
}

static const char *
check_field_name(const char *s)
{
	static const char *const taken[] = { "cat", "sev", "dst", "src",
	    "msg", "url", "proto", "stream", "cloud", "os", "ips", "macs",
	    "direction", "outcome", "disposition", "detection",
	    "correlation", NULL };
	size_t	 i;

	if (s == NULL || !(*s >= 'a' && *s <= 'z') || strlen(s) > 32 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(s))
		return "a field name is a lower-case letter, then up to 31 "
		    "lower-case letters, digits or _";
	for (i = 0; taken[i] != NULL; i++)
		if (strcmp(s, taken[i]) == 0)
			return "a name the records use already";
	return NULL;
}

static bool
same_fields(const struct conf_fields *a, const struct conf_fields *b)
{
	size_t	 i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].key, b->v[i].key) != 0 ||
		    strcmp(a->v[i].value, b->v[i].value) != 0)
			return false;
	return true;
}

static const char *
check_nonempty(const char *s)
{
	return *s == '\0' ? "empty" : NULL;
}

static const char *
check_abspath(const char *s)
{
	return *s == '/' ? NULL : "must be an absolute path";
}

/* Names appear in logs and status lines: no control characters. */
static const char *
check_name(const char *s)
{
	for (; *s != '\0'; s++)
		if (iscntrl((unsigned char)*s))
			return "must not contain control characters";
	return NULL;
}

/* Stream names name dead-letter files. */
static const char *
check_fname(const char *s)
{
	if (*s == '.')
		return "must not start with '.'";
	if (strlen(s) > 128)
		return "longer than 128 characters";
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return "may contain only A-Z a-z 0-9 . _ -";
	return NULL;
}

int
config_listen_split(const char *listen, char *hostbuf, size_t len, int *port)
{
	const char	*colon, *h = listen;
	size_t		 hl;
	char		*end;
	long		 p;

	if (*h == '[') {
		if ((colon = strchr(h, ']')) == NULL || colon[1] != ':')
			return -1;
		h++;
		hl = colon - h;
		colon++;
	} else {
		if ((colon = strrchr(h, ':')) == NULL ||
		    memchr(h, ':', colon - h) != NULL)
			return -1;
		hl = colon - h;
	}
	if (hl == 0 || hl >= len)
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
		return -1;
	memcpy(hostbuf, h, hl);
	hostbuf[hl] = '\0';
	*port = (int)p;
	return 0;
}

static const char *
check_listen(const char *s)
{
	char	 host[256];
	int	 port;

	if (config_listen_split(s, host, sizeof(host), &port) == -1)
		return "must be HOST:PORT or [IPV6]:PORT (port 1-65535)";
	return NULL;
}

/* RFC 5424 APP-NAME: 1..48 printable US-ASCII, no space. */
static const char *
check_app_name(const char *s)
{
	if (strlen(s) > 48)
		return "longer than 48 characters";
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return "must be printable ASCII without spaces";
	return NULL;
}

/* Find the authority of scheme://authority/...; -1 without "://". */
static int
url_authority(const char *url, const char **auth, size_t *len)
{
	const char	*p;

	if ((p = strstr(url, "://")) == NULL)
		return -1;
	*auth = p + 3;
	*len = strcspn(*auth, "/?#");
	return 0;
}

/* Split host[:port] or [v6][:port]; *host is malloc'd, *port may be NULL. */
static int
split_host(const char *auth, size_t len, char **host, const char **port)
{
	const char	*end;
	size_t		 hlen;

	*port = NULL;
	if (len > 0 && auth[0] == '[') {
		if ((end = memchr(auth, ']', len)) == NULL)
			return -1;
		hlen = (size_t)(end - auth) - 1;
		auth++;
		end++;
	} else {
		end = memchr(auth, ':', len);
		hlen = end ? (size_t)(end - auth) : len;
		end = auth + hlen;
	}
	if (hlen == 0)
		return -1;
	*host = xstrndup(auth, hlen);
	if (*end == ':')
		*port = end;
	return 0;
}

static void
strip_slashes(char *s)
{
	size_t	 n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
}

/* api_url: https only; derive api_host and, if absent, console_url. */
static void
cloud_post(struct ctx *c, config_setting_t *grp, const char *path, void *obj)
{
	struct cloud_conf	*cl = obj;
	const char		*auth = NULL, *port;
	size_t			 len = 0;
	config_setting_t	*us = member(grp, "api_url");

	if (cl->api_url == NULL)
		return;
	if (strncmp(cl->api_url, "https://", 8) != 0 ||
	    url_authority(cl->api_url, &auth, &len) == -1) {
		cerr(c, at(c, us), path, "api_url", "must start with "
		    "https://");
		return;
	}
	if (memchr(auth, '@', len) != NULL) {
		cerr(c, at(c, us), path, "api_url", "credentials in the URL are "
		    "not allowed");
		return;
	}
	if (split_host(auth, len, &cl->api_host, &port) == -1) {
		cerr(c, at(c, us), path, "api_url", "no host name");
		return;
	}
	strip_slashes(cl->api_url);
	if (cl->console_url != NULL)
		strip_slashes(cl->console_url);
	else
		cl->console_url = derive_console(cl->api_host, port);
}

/* https://console.X for api.X, else https://HOST[:PORT]. */
static char *
derive_console(const char *host, const char *port)
{
	char	*s;
	int	 api = strncasecmp(host, "api.", 4) == 0;
	int	 v6 = strchr(host, ':') != NULL;

	xasprintf(&s, "https://%s%s%s%s%.*s", api ? "console." : "",
	    v6 ? "[" : "", api ? host + 4 : host, v6 ? "]" : "",
	    port ? (int)strcspn(port, "/?#") : 0, port ? port : "");
	return s;
}

static void
stream_post(struct ctx *c, config_setting_t *grp, const char *path,
    void *obj)
{
	struct stream_conf	*st = obj;
	config_setting_t	*us = member(grp, "url");
	config_setting_t	*dl;

	/* The biggest dead letter (base64) must fit an empty store. */
	if (st->deadletter_max_bytes < st->max_message / 3 * 4 + 65536) {
		dl = member(grp, "deadletter_max_bytes");
		cerr(c, at(c, dl != NULL ? dl : member(grp, "max_message")),
		    path, "deadletter_max_bytes", "%zu is too small for "
		    "max_message %zu: at least %zu (a body above max_message "
		    "is kept in base64)", st->deadletter_max_bytes,
		    st->max_message, st->max_message / 3 * 4 + 65536);
	}
	st->stamp = file_stamp(0, st->ca_file);
	if (st->url == NULL || stream_url(c, us, path, st) == -1)
		return;
	if (!st->tls && !is_loopback(st->host)) {
		if (!st->insecure_plaintext)
			cerr(c, at(c, us), path, "url", "amqp:// (plaintext) to "
			    "non-loopback host \"%s\" refused: use amqps://, "
			    "or set insecure_plaintext = true", st->host);
		else
			log_warnx("%s:%d: %s.url: plaintext AMQP to %s "
			    "(insecure_plaintext)", file_of(c, us), line_of(us),
			    path, st->host);
	}
}

/* Scheme amqp:// or amqps://, a host, and no credentials. */
static int
amqp_url_ok(struct ctx *c, const config_setting_t *us, const char *path,
    const char *url)
{
	const char	*auth = NULL;
	size_t		 len = 0;

	if ((strncmp(url, "amqp://", 7) != 0 &&
	    strncmp(url, "amqps://", 8) != 0) ||
	    url_authority(url, &auth, &len) == -1) {
		cerr(c, at(c, us), path, "url", "scheme must be amqp:// or "
		    "amqps://");
		return 0;
	}
	if (memchr(auth, '@', len) != NULL) {
		cerr(c, at(c, us), path, "url", "credentials in the URL are not "
		    "allowed (use user and password_file)");
		return 0;
	}
	if (len == 0 || *auth == ':') {
		cerr(c, at(c, us), path, "url", "no host name");
		return 0;
	}
	return 1;
}

/* Parse an amqp:// or amqps:// URL into host, port, vhost and tls. */
static int
stream_url(struct ctx *c, const config_setting_t *us, const char *path,
    struct stream_conf *st)
{
	struct amqp_connection_info	 ci;
	char				*copy;
	int				 rc;

	if (!amqp_url_ok(c, us, path, st->url))
		return -1;
	copy = xstrdup(st->url);
	amqp_default_connection_info(&ci);
	if ((rc = amqp_parse_url(copy, &ci)) != AMQP_STATUS_OK ||
	    ci.port < 1 || ci.port > 65535) {
		cerr(c, at(c, us), path, "url", "cannot parse: %s",
		    rc ? amqp_error_string2(rc) : "bad port");
		free(copy);
		return -1;
	}
	st->tls = ci.ssl != 0;
	st->host = xstrdup(ci.host);
	st->port = ci.port;
	/* "amqps://host:443/" (as the AMP API gives it) means vhost "/". */
	st->vhost = xstrdup(*ci.vhost ? ci.vhost : "/");
	free(copy);
	return 0;
}

static int
is_loopback(const char *host)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* Learn the sink's type first: it decides which keys apply. */
static void
sink_pre(struct ctx *c, config_setting_t *grp, __unused const char *path,
    __unused void *obj)
{
	config_setting_t	*s = member(grp, "type");
	int			 i;

	c->tmask = 0;
	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
		return;
	if ((i = lookup_name(sink_types, config_setting_get_string(s))) != -1)
		c->tmask = 1U << i;
}

/* Type-dependent defaults and the TLS client certificate pair. */
static void
sink_post(struct ctx *c, config_setting_t *grp, const char *path, void *obj)
{
	struct sink_conf	*sk = obj;

	if (member(grp, "syslog") == NULL)
		sk->syslog = (c->tmask & T_FILE) ? SYSLOG_NONE :
		    (c->tmask & T_SYSLOG) ? SYSLOG_RFC3164 : SYSLOG_RFC5424;
	if (member(grp, "framing") == NULL)
		sk->framing = (c->tmask & (T_TCP | T_TLS)) ? FRAMING_OCTET :
		    FRAMING_LF;
	/* RFC 5426, /dev/log: one message per datagram, nothing around it. */
	if (c->tmask & (T_UDP | T_SYSLOG)) {
		if (member(grp, "framing") != NULL)
			cerr(c, at(c, member(grp, "framing")), path,
			    "framing", "not used by type \"%s\" (a datagram "
			    "is one record, sent without framing)", sk->type);
		sk->framing = FRAMING_NONE;
	}
	if ((c->tmask & T_SYSLOG) && sk->path == NULL)
		sk->path = xstrdup("/dev/log");
	/* Only sinks that can be down spool: udp is best effort, file is disk. */
	if (!(c->tmask & (T_TCP | T_TLS | T_SYSLOG)))
		sk->spool_max_bytes = 0;
	/*
	 * A file takes the event whole (SPEC 4); receivers cut or split long
	 * messages: RFC 5426 3.2 datagrams SHOULD fit 2048 octets, rsyslog's
	 * default maxMessageSize is 8 KiB (FINDINGS 0.4).
	 */
	if (member(grp, "max_record") == NULL)
		sk->max_record = (c->tmask & T_FILE) ? 0 :
		    (c->tmask & T_UDP) ? 2048 : 8192;
	sk->stamp = file_stamp(file_stamp(file_stamp(0, sk->ca_file),
	    sk->cert_file), sk->key_file);
	if ((sk->cert_file == NULL) != (sk->key_file == NULL) &&
	    (c->tmask & T_TLS))
		cerr(c, at(c, grp), path, sk->cert_file ? "key_file" :
		    "cert_file", "missing (cert_file and key_file go "
		    "together)");
}

static void
corr_post(struct ctx *c, config_setting_t *grp, const char *path, void *obj)
{
	struct corr_conf	*co = obj;

	if (co->unresolved_alert > co->ttl)
		cerr(c, at(c, member(grp, "unresolved_alert")), path,
		    "unresolved_alert", "%d is longer than ttl (%d)",
		    co->unresolved_alert, co->ttl);
}

/* Names in a section are unique. */
static void
unique_names(struct ctx *c, const struct section *sc)
{
	char	*arr = *FIELD(c->conf, sc->arr_off, char *), ep[64];
	size_t	 n = *FIELD(c->conf, sc->n_off, size_t), i, j;
	char	*a, *b;

	for (i = 0; i < n; i++) {
		a = *FIELD(arr + i * sc->size, sc->name_off, char *);
		for (j = 0; a != NULL && j < i; j++) {
			b = *FIELD(arr + j * sc->size, sc->name_off, char *);
			if (b == NULL || strcmp(a, b) != 0)
				continue;
			snprintf(ep, sizeof(ep), "%s.[%zu]", sc->name, i);
			c->at_file = *FIELD(arr + i * sc->size, sc->file_off,
			    const char *);
			cerr(c, *FIELD(arr + i * sc->size, sc->line_off, int),
			    ep, "name", "duplicate name \"%s\" (first at "
			    "line %d)", a, *FIELD(arr + j * sc->size,
			    sc->line_off, int));
			break;
		}
	}
}

/* Resolve each stream's cloud and sinks. */
static void
resolve_streams(struct ctx *c, config_setting_t *root)
{
	config_setting_t	*list = member(root, "streams"), *e;
	char			 ep[64];
	size_t			 i;

	for (i = 0; i < c->conf->nstreams; i++) {
		e = config_setting_get_elem(list, i);
		if (e == NULL || !config_setting_is_group(e))
			continue;
		snprintf(ep, sizeof(ep), "streams.[%zu]", i);
		resolve_cloud(c, e, ep, &c->conf->streams[i]);
		resolve_sinks(c, e, ep, &c->conf->streams[i]);
	}
}

/* cloud names a defined cloud; absent, the only cloud if there is one. */
static void
resolve_cloud(struct ctx *c, config_setting_t *grp, const char *path,
    struct stream_conf *st)
{
	if (st->cloud == NULL) {
		if (c->conf->nclouds == 1 && c->conf->clouds[0].name != NULL)
			st->cloud = xstrdup(c->conf->clouds[0].name);
		return;
	}
	if (config_cloud(c->conf, st->cloud) == NULL)
		cerr(c, at(c, member(grp, "cloud")), path, "cloud",
		    "unknown cloud \"%s\"", st->cloud);
}

static int
sink_index(const struct config *conf, const char *name, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < conf->nsinks; i++) {
		if (conf->sinks[i].name != NULL &&
		    strcmp(conf->sinks[i].name, name) == 0) {
			*idx = i;
			return 0;
		}
	}
	return -1;
}

/* sinks = [ names ] to indexes; absent: every sink. */
static void
resolve_sinks(struct ctx *c, config_setting_t *grp, const char *path,
    struct stream_conf *st)
{
	config_setting_t	*s = member(grp, "sinks");
	size_t			 i, n;

	n = s ? (size_t)config_setting_length(s) : c->conf->nsinks;
	if (s == NULL && n == 0)
		cerr(c, at(c, grp), path, "sinks", "no sinks are defined");
	st->sinks = xcalloc(n ? n : 1, sizeof(size_t));
	for (i = 0; i < n; i++) {
		if (s == NULL)
			st->sinks[st->nsinks++] = i;
		else
			add_sink(c, s, path, st, i);
	}
}

/* Element i of a stream's sinks array: a known sink, listed once. */
static void
add_sink(struct ctx *c, config_setting_t *s, const char *path,
    struct stream_conf *st, size_t i)
{
	const char	*name = config_setting_get_string_elem(s, i);
	char		 key[32];
	size_t		 idx, j;

	if (name == NULL)
		return;		/* not a string: reported by h_names() */
	snprintf(key, sizeof(key), "sinks.[%zu]", i);
	if (sink_index(c->conf, name, &idx) == -1) {
		cerr(c, at(c, s), path, key, "unknown sink \"%s\"", name);
		return;
	}
	for (j = 0; j < st->nsinks; j++) {
		if (st->sinks[j] == idx) {
			cerr(c, at(c, s), path, key, "sink \"%s\" listed "
			    "twice", name);
			return;
		}
	}
	st->sinks[st->nsinks++] = idx;
}

/* Open the file, refuse it if world-writable, and parse it. */
static int
read_file(struct ctx *c, config_t *cf, const char *path)
{
	struct stat	 st;
	FILE		*fp;
	int		 rc = -1;

	if ((fp = fopen(path, "re")) == NULL) {
		cerr(c, 0, NULL, NULL, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &st) == -1)
		cerr(c, 0, NULL, NULL, "%s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		cerr(c, 0, NULL, NULL, "not a regular file");
	else if (st.st_mode & S_IWOTH)
		cerr(c, 0, NULL, NULL, "world-writable config refused: %s "
		    "(owner uid %u, mode %04o)", path, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
	else {
		set_include_dir(c, cf, path);
		if (config_read(cf, fp) == CONFIG_TRUE)
			rc = 0;
		else {
			c->at_file = file_name(c, config_error_file(cf));
			cerr(c, config_error_line(cf), NULL, NULL, "%s",
			    config_error_text(cf));
		}
	}
	fclose(fp);
	return rc;
}

/* A relative @include is found next to the main file, not in the cwd. */
static void
set_include_dir(struct ctx *c, config_t *cf, const char *path)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL)
		return;
	c->incdir = xstrndup(path, slash == path ? 1 :
	    (size_t)(slash - path));
	config_set_include_dir(cf, c->incdir);
}

/* Free the strings (and secrets) tab describes in obj. */
static void
free_obj(const struct key *tab, size_t n, void *obj)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (tab[i].type == K_SECRET)
			secret_free(*FIELD(obj, tab[i].off, char *));
		else if (tab[i].type == K_STR || tab[i].type == K_CHOICE)
			free(*FIELD(obj, tab[i].off, char *));
		else if (tab[i].type == K_FIELDS)
			fields_free(FIELD(obj, tab[i].off,
			    struct conf_fields));
	}
}

bool
config_stream_same(const struct stream_conf *a, const struct stream_conf *b)
{
	return a->stamp == b->stamp &&
	    same_obj(stream_keys, nitems(stream_keys), a, b);
}

bool
config_sink_same(const struct sink_conf *a, const struct sink_conf *b)
{
	return a->stamp == b->stamp &&
	    same_obj(sink_keys, nitems(sink_keys), a, b);
}

bool
config_corr_same(const struct corr_conf *a, const struct corr_conf *b)
{
	return same_obj(corr_keys, nitems(corr_keys), a, b);
}

bool
config_metrics_same(const struct metrics_conf *a,
    const struct metrics_conf *b)
{
	return same_obj(metrics_keys, nitems(metrics_keys), a, b);
}

/* Every key of the table equal (K_NAMES, a reference list, is skipped). */
static bool
same_obj(const struct key *tab, size_t n, const void *a, const void *b)
{
	const struct key *k;
	size_t	 i;

	for (i = 0; i < n; i++) {
		k = &tab[i];
		switch (k->type) {
		case K_STR:
		case K_CHOICE:
		case K_SECRET:
			if (!same_str(*FIELD(a, k->off, char *),
			    *FIELD(b, k->off, char *)))
				return false;
			break;
		case K_ENUM:
		case K_INT:
		case K_FACILITY:
			if (*FIELD(a, k->off, int) != *FIELD(b, k->off, int))
				return false;
			break;
		case K_SIZE:
			if (*FIELD(a, k->off, size_t) !=
			    *FIELD(b, k->off, size_t))
				return false;
			break;
		case K_BOOL:
			if (*FIELD(a, k->off, bool) != *FIELD(b, k->off, bool))
				return false;
			break;
		case K_GROUP:
			if (!same_obj(k->sub, k->nsub, FIELD(a, k->off, char),
			    FIELD(b, k->off, char)))
				return false;
			break;
		case K_FIELDS:
			if (!same_fields(FIELD(a, k->off, struct conf_fields),
			    FIELD(b, k->off, struct conf_fields)))
				return false;
			break;
		default:
			break;
		}
	}
	return true;
}

static bool
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * h mixed with what identifies path's content: a certificate renewed in
 * place (new inode, or new size or time) makes the part new on reload.
 */
static uint64_t
file_stamp(uint64_t h, const char *path)
{
	struct stat	 sb;
	uint64_t	 v[5];
	size_t		 i;

	if (path == NULL)
		return h;
	memset(v, 0, sizeof(v));
	if (stat(path, &sb) == 0) {
		v[0] = (uint64_t)sb.st_dev;
		v[1] = (uint64_t)sb.st_ino;
		v[2] = (uint64_t)sb.st_size;
		v[3] = (uint64_t)sb.st_mtim.tv_sec;
		v[4] = (uint64_t)sb.st_mtim.tv_nsec;
	}
	for (i = 0; i < nitems(v); i++)	/* FNV-1a over the words */
		h = (h ^ v[i]) * 0x100000001b3ULL;
	return h ^ (uint64_t)strlen(path);
}

static void
fields_free(struct conf_fields *f)
{
	size_t	 i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].ad_key);
		free(f->v[i].value);
	}
	free(f->v);
}

struct config *
config_load(const char *path, char **errors)
{
	struct ctx	 c;
	config_t	 cf;
	size_t		 i;

	memset(&c, 0, sizeof(c));
	c.file = path;
	c.tmask = T_ALL;
	buf_init(&c.errs, 0);
	c.conf = xcalloc(1, sizeof(*c.conf));
	c.conf->path = xstrdup(path);
	config_init(&cf);
	if (read_file(&c, &cf, path) == 0) {
		parse_group(&c, config_root_setting(&cf), "", root_keys,
		    nitems(root_keys), c.conf);
		for (i = 0; i < nitems(sections); i++)
			unique_names(&c, sections[i]);
		resolve_streams(&c, config_root_setting(&cf));
	}
	config_destroy(&cf);
	free(c.incdir);
	*errors = NULL;
	if (c.errs.len == 0)
		return c.conf;
	*errors = buf_release(&c.errs, NULL);
	config_free(c.conf);
	return NULL;
}

void
config_free(struct config *conf)
{
	size_t	 i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nclouds; i++) {
		free_obj(cloud_keys, nitems(cloud_keys), &conf->clouds[i]);
		free(conf->clouds[i].api_host);
	}
	for (i = 0; i < conf->nstreams; i++) {
		free_obj(stream_keys, nitems(stream_keys), &conf->streams[i]);
		free(conf->streams[i].host);
		free(conf->streams[i].vhost);
		free(conf->streams[i].sinks);
	}
	for (i = 0; i < conf->nsinks; i++)
		free_obj(sink_keys, nitems(sink_keys), &conf->sinks[i]);
	free_obj(root_keys, nitems(root_keys), conf);
	free_obj(metrics_keys, nitems(metrics_keys), &conf->metrics);
	free(conf->clouds);
	free(conf->streams);
	free(conf->sinks);
	for (i = 0; i < conf->nfiles; i++)
		free(conf->files[i]);
	free(conf->files);
	free(conf->path);
	free(conf);
}

const struct cloud_conf *
config_cloud(const struct config *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->nclouds; i++)
		if (conf->clouds[i].name != NULL &&
		    strcmp(conf->clouds[i].name, name) == 0)
			return &conf->clouds[i];
	return NULL;
}
