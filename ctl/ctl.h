/*
 * ctl.h: the subcommands of ampstreamctl, on top of api.h.
 *
 * Each ctl_<command>() takes its own argv (argv[0] is the command name),
 * prints its result on stdout and its errors on stderr, and returns the
 * process exit status, one of enum ctl_exit: every exit status of
 * ampstreamctl is named here (man/ampstreamctl.1 documents them).
 */
#ifndef AMPSTREAM_CTL_H
#define AMPSTREAM_CTL_H

#include <stdint.h>

#include <json-c/json.h>

enum ctl_exit {
	CTL_OK = 0,
	CTL_USAGE = 1,		/* usage, config, or a name matching nothing */
	CTL_API = 2,		/* API, TLS or network error */
	CTL_NOT_RUNNING = 3,	/* status: the daemon is not running */
};

struct config;
struct cloud_conf;
struct api;

struct ctl {
	const char		*progname;
	const struct config	*cfg;
	const struct cloud_conf	*cloud;
	struct api		*api;
};

int	ctl_test(struct ctl *, int, char **);
int	ctl_list(struct ctl *, int, char **);
int	ctl_create(struct ctl *, int, char **);
int	ctl_delete(struct ctl *, int, char **);
int	ctl_event_types(struct ctl *, int, char **);
int	ctl_groups(struct ctl *, int, char **);
int	ctl_status(struct ctl *, int, char **);

/* The group the service runs as: create shares password files with it. */
#define CTL_SERVICE_GROUP	"ampstream"

/* Where create writes stream's password by default (malloc'd). */
char	*ctl_password_path(const struct ctl *, const char *stream);

/* Print "PROGNAME: message" on stderr. */
void	ctl_err(const struct ctl *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));

/*
 * Every item of a listing, all pages: event types, groups, streams.  Each
 * item is an object with a string "name" and its id ("id": an integer or a
 * decimal string; "guid": a string), or the listing is an error (printed).
 */
int	ctl_fetch_event_types(struct ctl *, struct json_object **);
int	ctl_fetch_groups(struct ctl *, struct json_object **);
int	ctl_fetch_streams(struct ctl *, struct json_object **);

/*
 * Answers from the API are read through these: a member of the wrong type
 * (null, a number for a string, an array for an object) reads as absent.
 */

/* Member key of o as a string (NULL if absent or not a string). */
const char *ctl_str(struct json_object *, const char *);

/* Member key of o as an integer (a JSON integer or a decimal string). */
int	ctl_int(struct json_object *, const char *, int64_t *);

/*
 * The item of items whose namekey is name: an exact match, else the only
 * case-insensitive match, else the item whose idkey is name (an id or a
 * GUID).  None or several: NULL, with an error on stderr naming what ("event
 * type", "group") and listing the close matches.
 */
struct json_object *ctl_match(const struct ctl *, struct json_object *,
	    const char *, const char *, const char *, const char *);

/*
 * A command's own options when --json is the only one: -1 (error printed)
 * on anything else.
 */
int	ctl_args_json(const struct ctl *, int, char **, int *);

/* Print a JSON value, pretty, on stdout. */
void	ctl_print_json(struct json_object *);

/* "amqps://HOST:PORT/" from amqp_credentials (malloc'd), or NULL. */
char	*ctl_amqp_url(struct json_object *);

/* v as id text: a string, or an integer in decimal; else NULL. */
const char *ctl_idstr(struct json_object *);

/* The name of the item whose idkey equals id (a string), or NULL. */
const char *ctl_name_of(struct json_object *, const char *, const char *);

#endif
