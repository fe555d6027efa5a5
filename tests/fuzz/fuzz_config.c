/*
 * fuzz_config.c: the input as a configuration file, through config_load.
 *
 * Everything happens in this process's temporary directory, which holds
 * the secret files and systemd credentials the seeds name (SECRETS below;
 * $CREDENTIALS_DIRECTORY points there too) and one file to @include
 * (inc.conf).  config_load runs with that directory as the working
 * directory (restored after), so relative names resolve there.
 *
 * The loader opens files an input names: libconfig's "@include" and the
 * NAME_file keys (secrets read with secret_read_file, key_file checked
 * with secret_check_perms).  To keep every open inside the directory (an
 * input naming /dev/watchdog, a FIFO or /dev/zero would do harm or hang),
 * an input is skipped unless each of those names is a plain file name
 * ([A-Za-z0-9._-], not starting with '.'):
 *
 *	@include	libconfig 1.5 opens the text between the quotes of
 *			`@include "..."` (its only escapes are \\ and \");
 *			every "@include" in the input is checked, even one
 *			libconfig would not take for a directive, and an
 *			input with more than one is skipped (a file that
 *			includes itself twice is 2^10 opens)
 *	*_file		the input is parsed with libconfig first, with the
 *			same working directory, and the string value of every
 *			setting whose name ends in "_file" is checked; an
 *			input that does not parse is loaded anyway (the
 *			loader stops at the same error, before reading any
 *			secret)
 *	*_credential	secret.c refuses any name with a '/', "." and ".."
 *
 * Checked: config_load returns a config or errors, never both or neither;
 * a config is consistent (stream sinks and clouds resolve); no secret's
 * content (each file's line, without its newline) appears in the errors.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "config.h"
#include "fuzz_util.h"

#define MAIN		"main.conf"
#define MARKER		"S3CRET"	/* in every secret, never in errors */
#define INCLUDE		"@include"

static const struct {
	const char	*name;
	mode_t		 mode;
	const char	*text;
} files[] = {
	{ "na.api_key", 0600, MARKER "-na-api-key\n" },
	{ "eu.api_key", 0600, MARKER "-eu-api-key\n" },
	{ "stream.password", 0600, MARKER "-stream-password\n" },
	{ "client.key", 0600, MARKER "-not-a-key\n" },
	{ "open.password", 0644, MARKER "-readable-by-all\n" },
	{ "private-api-key", 0600, MARKER "-credential\n" },
	{ "local-password", 0600, MARKER "-credential-2\n" },
	{ "client.pem", 0644, "-----BEGIN CERTIFICATE-----\n" },
	{ "inc.conf", 0644, "log_level = \"debug\";\n" },
};

static char	 dir[512];

static void	 setup(void);
static int	 plain_name(const char *, size_t);
static int	 includes_ok(const char *, size_t);
static int	 files_ok(const config_setting_t *);
static int	 prepass(void);
static void	 check(const struct config *, const char *, const void *,
		    size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*conf;
	char		 path[600], *errors = NULL;
	int		 cwd, ok;

	if (dir[0] == '\0')
		setup();
	if (!includes_ok((const char *)data, size))
		return 0;
	fz_path(path, sizeof(path), dir, MAIN);
	fz_write(path, data, size, 0600);
	if ((cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    chdir(dir) == -1)
		fz_fail("chdir %s: %s", dir, strerror(errno));
	fz_quiet(1);
	conf = NULL;
	ok = prepass();
	if (ok)
		conf = config_load(MAIN, &errors);
	if (fchdir(cwd) == -1)
		fz_fail("fchdir: %s", strerror(errno));
	close(cwd);
	if (ok)
		check(conf, errors, data, size);
	config_free(conf);
	free(errors);
	fz_quiet(0);
	return 0;
}

/* The directory, its files, and $CREDENTIALS_DIRECTORY. */
static void
setup(void)
{
	char	 path[600];
	size_t	 i;

	fz_path(dir, sizeof(dir), fz_tmpdir(), "conf");
	fz_rmtree(dir, 0);
	for (i = 0; i < nitems(files); i++) {
		fz_path(path, sizeof(path), dir, files[i].name);
		fz_write(path, files[i].text, strlen(files[i].text),
		    files[i].mode);
	}
	if (setenv("CREDENTIALS_DIRECTORY", dir, 1) == -1)
		fz_fail("setenv");
}

/* A file name in the directory: [A-Za-z0-9._-]+, not starting with '.'. */
static int
plain_name(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

/* At most one "@include", and its file a plain name (see above). */
static int
includes_ok(const char *p, size_t n)
{
	const char	*end = p + n, *at, *q;
	int		 seen = 0;

	while ((at = memmem(p, (size_t)(end - p), INCLUDE,
	    strlen(INCLUDE))) != NULL) {
		if (seen++ > 0)
			return 0;
		for (q = at + strlen(INCLUDE); q < end && (*q == ' ' ||
		    *q == '\t'); q++)
			;
		p = q;
		if (q == at + strlen(INCLUDE) || q == end || *q != '"')
			continue;	/* not a directive */
		p = q + 1;
		if ((q = memchr(p, '"', (size_t)(end - p))) == NULL ||
		    !plain_name(p, (size_t)(q - p)))
			return 0;
		p = q + 1;
	}
	return 1;
}

/* Every "*_file" string in the tree is a plain name. */
static int
files_ok(const config_setting_t *s)
{
	const char	*name = config_setting_name(s), *v;
	size_t		 len;
	int		 i, n;

	if (config_setting_is_aggregate(s)) {
		n = config_setting_length(s);
		for (i = 0; i < n; i++)
			if (!files_ok(config_setting_get_elem(s, i)))
				return 0;
		return 1;
	}
	if (name == NULL || (len = strlen(name)) < 5 ||
	    strcmp(name + len - 5, "_file") != 0 ||
	    config_setting_type(s) != CONFIG_TYPE_STRING)
		return 1;
	v = config_setting_get_string(s);
	return plain_name(v, strlen(v));
}

/* Parse as config_load will; 0 if it would open a file it must not. */
static int
prepass(void)
{
	config_t	 cf;
	int		 ok = 1;

	config_init(&cf);
	if (config_read_file(&cf, MAIN) == CONFIG_TRUE)
		ok = files_ok(config_root_setting(&cf));
	config_destroy(&cf);
	return ok;
}

/*
 * A config or errors; a config that holds together; no secret in the
 * errors (unless the input itself holds that text: values are quoted).
 */
static void
check(const struct config *conf, const char *errors, const void *in,
    size_t inlen)
{
	const struct stream_conf *st;
	const char	*t;
	size_t		 i, j;

	FZ_CHECK((conf == NULL) != (errors == NULL),
	    "config_load: config %p, errors %p", (const void *)conf,
	    (const void *)errors);
	if (fz_verbose())
		fprintf(stderr, "%s\n", errors ? errors : "configuration OK");
	if (errors != NULL) {
		for (i = 0; i < nitems(files); i++) {
			t = files[i].text;
			if (strncmp(t, MARKER, strlen(MARKER)) != 0 ||
			    memmem(in, inlen, t, strlen(t) - 1) != NULL)
				continue;
			FZ_CHECK(memmem(errors, strlen(errors), t,
			    strlen(t) - 1) == NULL, "the secret of %s "
			    "in the errors: %s", files[i].name, errors);
		}
		return;
	}
	FZ_CHECK(conf->state_dir != NULL && conf->state_dir[0] == '/',
	    "state_dir");
	for (i = 0; i < conf->nsinks; i++)
		FZ_CHECK(conf->sinks[i].name != NULL &&
		    conf->sinks[i].type != NULL && conf->sinks[i].format != NULL,
		    "sink %zu incomplete", i);
	for (i = 0; i < conf->nstreams; i++) {
		st = &conf->streams[i];
		FZ_CHECK(st->name != NULL && st->host != NULL &&
		    st->password != NULL, "stream %zu incomplete", i);
		FZ_CHECK(st->cloud == NULL ||
		    config_cloud(conf, st->cloud) != NULL,
		    "stream %s: cloud %s unresolved", st->name, st->cloud);
		for (j = 0; j < st->nsinks; j++)
			FZ_CHECK(st->sinks[j] < conf->nsinks,
			    "stream %s: sink %zu of %zu", st->name,
			    st->sinks[j], conf->nsinks);
	}
}
