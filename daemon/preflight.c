/*
 * preflight.c: the files a configuration names, checked as start-up would use
 * them (see preflight.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "preflight.h"
#include "config.h"
#include "xmalloc.h"

enum pem_kind { PEM_CERTS, PEM_KEY };

static void	 pem_file(struct buf *, const char *, int, const char *,
		    const char *, enum pem_kind);
static void	 writable_dir(struct buf *, struct buf *, const char *, int,
		    const char *, const char *);
static void	 sink_file(struct buf *, struct buf *, const struct config *,
		    size_t);
static bool	 under(const char *, const char *);
static void	 state_dir(struct buf *, struct buf *, const struct config *);

int
preflight_check(const struct config *cfg, char **errors, char **warnings)
{
	struct buf	 e, w;
	char		 key[48];
	size_t		 i;

	buf_init(&e, 0);
	buf_init(&w, 0);
	for (i = 0; i < cfg->nclouds; i++) {
		snprintf(key, sizeof(key), "clouds.[%zu].ca_file", i);
		pem_file(&e, cfg->clouds[i].file, cfg->clouds[i].line, key,
		    cfg->clouds[i].ca_file, PEM_CERTS);
	}
	for (i = 0; i < cfg->nstreams; i++) {
		snprintf(key, sizeof(key), "streams.[%zu].ca_file", i);
		pem_file(&e, cfg->streams[i].file, cfg->streams[i].line, key,
		    cfg->streams[i].ca_file, PEM_CERTS);
	}
	for (i = 0; i < cfg->nsinks; i++) {
		const struct sink_conf *sc = &cfg->sinks[i];

		snprintf(key, sizeof(key), "sinks.[%zu].ca_file", i);
		pem_file(&e, sc->file, sc->line, key, sc->ca_file, PEM_CERTS);
		snprintf(key, sizeof(key), "sinks.[%zu].cert_file", i);
		pem_file(&e, sc->file, sc->line, key, sc->cert_file, PEM_CERTS);
		snprintf(key, sizeof(key), "sinks.[%zu].key_file", i);
		pem_file(&e, sc->file, sc->line, key, sc->key_file, PEM_KEY);
		if (strcmp(sc->type, "file") == 0)
			sink_file(&e, &w, cfg, i);
	}
	state_dir(&e, &w, cfg);
	*errors = e.len ? buf_release(&e, NULL) : (buf_free(&e), NULL);
	*warnings = w.len ? buf_release(&w, NULL) : (buf_free(&w), NULL);
	return *errors == NULL ? 0 : -1;
}

/* Readable, and OpenSSL finds at least one certificate (or the key). */
static void
pem_file(struct buf *e, const char *path, int line, const char *key,
    const char *file, enum pem_kind kind)
{
	FILE		*fp;
	X509		*x;
	EVP_PKEY	*pk;
	int		 n = 0;
	unsigned long	 err;

	if (file == NULL)
		return;
	if ((fp = fopen(file, "re")) == NULL) {
		buf_printf(e, "%s:%d: %s: %s: %s\n", path, line, key, file,
		    strerror(errno));
		return;
	}
	ERR_clear_error();
	if (kind == PEM_KEY) {
		if ((pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL)) != NULL)
			n = 1;
		EVP_PKEY_free(pk);
	} else {
		while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
			X509_free(x);
			n++;
		}
	}
	fclose(fp);
	err = ERR_peek_last_error();
	if (n == 0)
		buf_printf(e, "%s:%d: %s: %s: no PEM %s found (%s)\n", path,
		    line, key, file, kind == PEM_KEY ? "private key" :
		    "certificate", err ? ERR_reason_error_string(err) :
		    "empty");
	ERR_clear_error();
}

/*
 * dir exists, is a directory, and the caller may create files in it.  The
 * unit's own directories may not exist yet: systemd makes them at start.
 */
static void
writable_dir(struct buf *e, struct buf *w, const char *path, int line,
    const char *key, const char *dir)
{
	struct stat	 st;

	if (stat(dir, &st) == -1 && errno == ENOENT &&
	    (strcmp(dir, PREFLIGHT_LOGS_DIR) == 0 ||
	    strcmp(dir, PREFLIGHT_STATE_DIR) == 0))
		buf_printf(w, "%s:%d: %s: warning: %s does not exist yet (the "
		    "unit's LogsDirectory= and StateDirectory= create it)\n",
		    path, line, key, dir);
	else if (stat(dir, &st) == -1)
		buf_printf(e, "%s:%d: %s: %s: %s\n", path, line, key, dir,
		    strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		buf_printf(e, "%s:%d: %s: %s: not a directory\n", path, line,
		    key, dir);
	else if (access(dir, W_OK | X_OK) == -1)
		buf_printf(e, "%s:%d: %s: %s: not writable by uid %u: %s\n",
		    path, line, key, dir, (unsigned)geteuid(),
		    strerror(errno));
}

/*
 * The file (if it exists) and its directory writable; a warning when the
 * packaged unit would not let the daemon write there.
 */
static void
sink_file(struct buf *e, struct buf *w, const struct config *cfg, size_t i)
{
	const struct sink_conf *sc = &cfg->sinks[i];
	const char	*slash;
	char		*dir, key[48];

	snprintf(key, sizeof(key), "sinks.[%zu].path", i);
	if (sc->path == NULL)
		return;
	slash = strrchr(sc->path, '/');
	dir = slash == NULL ? xstrdup(".") : xstrndup(sc->path,
	    slash == sc->path ? 1 : (size_t)(slash - sc->path));
	writable_dir(e, w, sc->file, sc->line, key, dir);
	if (access(sc->path, F_OK) == 0 && access(sc->path, W_OK) == -1)
		buf_printf(e, "%s:%d: %s: %s: not writable by uid %u: %s\n",
		    sc->file, sc->line, key, sc->path, (unsigned)geteuid(),
		    strerror(errno));
	if (!under(sc->path, PREFLIGHT_LOGS_DIR) &&
	    !under(sc->path, cfg->state_dir))
		buf_printf(w, "%s:%d: %s: warning: %s is outside %s and "
		    "state_dir (%s): the packaged unit (ProtectSystem=strict) "
		    "cannot write it; add ReadWritePaths=%s with "
		    "`systemctl edit ampstream`\n", sc->file, sc->line, key,
		    sc->path, PREFLIGHT_LOGS_DIR, cfg->state_dir, dir);
	free(dir);
}

/* The daemon makes state_dir (mode 0750) if it is missing: then its parent. */
static void
state_dir(struct buf *e, struct buf *w, const struct config *cfg)
{
	const char	*dir = cfg->state_dir, *slash;
	char		*parent;

	if (access(dir, F_OK) == 0 || errno != ENOENT ||
	    strcmp(dir, PREFLIGHT_STATE_DIR) == 0) {
		writable_dir(e, w, cfg->path, 0, "state_dir", dir);
		return;
	}
	slash = strrchr(dir, '/');
	parent = slash == NULL ? xstrdup(".") : xstrndup(dir,
	    slash == dir ? 1 : (size_t)(slash - dir));
	if (access(parent, W_OK | X_OK) == -1)
		buf_printf(e, "%s:0: state_dir: %s does not exist and cannot "
		    "be created by uid %u: %s: %s\n", cfg->path, dir,
		    (unsigned)geteuid(), parent, strerror(errno));
	free(parent);
}

/* path is inside dir (textually: the unit's paths are absolute). */
static bool
under(const char *path, const char *dir)
{
	size_t	 n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

int
preflight_become(const char *user, const char **cause)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL) {
		*cause = "no such user";
		return -1;
	}
	if (geteuid() == pw->pw_uid)
		return 0;
	if (geteuid() != 0) {
		*cause = "only root can check as another user";
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		*cause = strerror(errno);
		return -1;
	}
	return 0;
}
