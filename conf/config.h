/*
 * config.h: the whole configuration, loaded from one libconfig file.
 *
 * config_load() validates everything (unknown keys, types, ranges, references
 * between sections, secret file permissions) and collects every error before
 * failing, each as "FILE:LINE: KEY: message".  Secrets are read at load time
 * and kept only in memory; they are never logged.
 */
#ifndef AMPSTREAM_CONFIG_H
#define AMPSTREAM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH	"/etc/ampstream/ampstream.conf"

enum syslog_style {
	SYSLOG_RFC5424,
	SYSLOG_RFC3164,
	SYSLOG_NONE,		/* bare record */
};

enum framing {
	FRAMING_OCTET,		/* RFC 6587 3.4.1: "LEN SP MSG" */
	FRAMING_LF,		/* RFC 6587 3.4.2: MSG LF */
	FRAMING_NONE,		/* datagrams (udp, syslog): MSG alone */
};

struct cloud_conf {
	char	*name;
	char	*api_url;	/* "https://api.amp.cisco.com" */
	char	*api_host;	/* host part of api_url */
	char	*console_url;	/* given, or derived: api. -> console. */
	char	*client_id;
	char	*api_key;	/* the secret itself, from api_key_file or credential */
	char	*ca_file;	/* NULL: system trust store only */
	bool	 group_names;	/* the daemon asks for group names (true) */
	bool	 computer_details;	/* and computers' policy, isolation (true) */
	int	 line;
	const char *file;	/* where it is: path or an @include'd file */
};

struct stream_conf {
	char	*name;
	char	*cloud;		/* NULL or the name of a cloud */
	char	*url;		/* as written, without credentials */
	bool	 tls;		/* amqps:// */
	char	*host;
	int	 port;
	char	*vhost;
	char	*user;
	char	*password;	/* the secret itself */
	char	*queue;
	char	*ca_file;
	int	 prefetch;	/* basic.qos prefetch_count, default 1000 */
	int	 heartbeat;	/* seconds, default 30 */
	bool	 insecure_plaintext;	/* allow amqp:// to a non-loopback host */
	int	 hold_timeout;	/* s a full spool may hold deliveries */
	size_t	 max_message;	/* bigger bodies are dead-lettered, 16 MiB */
	size_t	 deadletter_max_bytes;	/* the store's bound, 1 GiB */
	size_t	*sinks;		/* indexes into config.sinks */
	size_t	 nsinks;
	uint64_t stamp;		/* the files it names, as loaded */
	int	 line;
	const char *file;	/* where it is: path or an @include'd file */
};

/* A sink's static fields: fields = { tenant = "acme"; }. */
#define CONFIG_FIELDS_MAX	16
#define CONFIG_FIELD_VALUE_MAX	256
struct conf_field {
	char	*key;		/* [a-z][a-z0-9_]{0,31} */
	char	*ad_key;	/* "ad.KEY", for CEF */
	char	*value;
};
struct conf_fields {
	struct conf_field *v;
	size_t	 n;
};

struct sink_conf {
	char	*name;
	char	*type;		/* "tcp", "file", ... (sink_lookup) */
	char	*format;	/* "cef", "json", ... (format_lookup) */
	char	*host;
	int	 port;
	char	*path;		/* file sink; syslog: socket, default /dev/log */
	enum syslog_style syslog;
	enum framing framing;
	size_t	 max_record;	/* bytes incl. syslog header; 0: no limit */
	int	 facility;	/* syslog facility 0..23, default 16 (local0) */
	char	*app_name;	/* default "ampstream" */
	char	*ca_file;
	char	*cert_file;
	char	*key_file;
	int	 default_severity;	/* CEF severity when the event has none */
	size_t	 spool_max_bytes;	/* disk spool bound; 0: no spool */
	size_t	 rotate_bytes;	/* file: rotate past this size; 0: never */
	int	 rotate_keep;	/* file: rotated files kept, path.1..N */
	int	 rotate_age;	/* file: rotate after this many s; 0: never */
	struct conf_fields fields;	/* added to every record */
	uint64_t stamp;		/* the files it names, as loaded */
	int	 line;
	const char *file;	/* where it is: path or an @include'd file */
};

struct corr_conf {
	size_t	 max_entries;	/* default 100000 */
	int	 ttl;		/* seconds, default 86400 */
	int	 unresolved_alert;	/* seconds, 0: off */
};

/* The metrics endpoint (metrics.h in the daemon); off without listen. */
struct metrics_conf {
	char	*listen;	/* "127.0.0.1:9469", "[::1]:9469"; NULL: off */
	int	 max_clients;	/* connections at once, default 16 */
	int	 timeout;	/* s to read a request / write an answer, 10 */
};

struct config {
	char		*path;
	char		**files;	/* @include'd files, as errors name them */
	size_t		 nfiles;
	char		*state_dir;	/* default "/var/lib/ampstream" */
	int		 log_level;	/* enum log_level */
	int		 max_handshakes;	/* stream connects at once */
	struct cloud_conf *clouds;
	size_t		 nclouds;
	struct stream_conf *streams;
	size_t		 nstreams;
	struct sink_conf *sinks;
	size_t		 nsinks;
	struct corr_conf correlation;
	struct metrics_conf metrics;
};

/*
 * Load and check path.  On success returns the config and sets *errors to
 * NULL.  On failure returns NULL and sets *errors to a malloc'd string of
 * every error, one per line, each "FILE:LINE: KEY: message" (FILE as given
 * in path, LINE 0 when libconfig knows none).  The caller frees *errors.
 */
struct config	*config_load(const char *path, char **errors);
void		 config_free(struct config *);

const struct cloud_conf	*config_cloud(const struct config *, const char *name);

/*
 * Reload: may a part built from a run on unchanged under b?  Every key
 * counts, and the files named (CA, certificate, key: by identity, size and
 * time) must be the ones loaded; where it is written (file, line) and a
 * stream's list of sinks (the router's business) do not count.
 */
bool		 config_stream_same(const struct stream_conf *a,
		    const struct stream_conf *b);
bool		 config_sink_same(const struct sink_conf *a,
		    const struct sink_conf *b);
bool		 config_corr_same(const struct corr_conf *a,
		    const struct corr_conf *b);
bool		 config_metrics_same(const struct metrics_conf *a,
		    const struct metrics_conf *b);

/*
 * Split a listen address "HOST:PORT" or "[IPV6]:PORT" into host (written
 * to hostbuf, len bytes) and port; -1 when it is not one.
 */
int		 config_listen_split(const char *listen, char *hostbuf,
		    size_t len, int *port);

#endif
