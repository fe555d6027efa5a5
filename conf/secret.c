/*
 * secret.c: read secrets (API keys, AMQP passwords) from files or systemd
 * credentials, refusing files that others could read or change.
 *
 * A file is accepted as PostgreSQL accepts a server key: owned by the running
 * user with mode 0600 or stricter, or owned by root with mode 0640 or
 * stricter.  The file is opened first and checked with fstat(), so what is
 * checked is what is read.  A secret's content never appears in a message.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"
#include "xmalloc.h"

static int	secret_open(const char *, char **);
static int	perms_ok(const struct stat *);
static int	check_stat(const char *, const struct stat *, char **);
static char	*read_all(int, const char *, char **);
static ssize_t	 read_max(int, char *, size_t);
static void	strip_eol(char *, size_t *);

/* Owned by us and private, or owned by root and not group-writable. */
static int
perms_ok(const struct stat *st)
{
	mode_t	 mode = st->st_mode & 07777;

	if (st->st_uid == geteuid() && (mode & 077) == 0)
		return 1;
	if (st->st_uid == 0 && (mode & 037) == 0)
		return 1;
	return 0;
}

/* Refuse anything but a regular file with safe ownership and mode. */
static int
check_stat(const char *path, const struct stat *st, char **cause)
{
	if (!S_ISREG(st->st_mode)) {
		cause_printf(cause, "%s: not a regular file", path);
		return -1;
	}
	if (!perms_ok(st)) {
		cause_printf(cause, "%s: bad ownership or permissions (owner uid "
		    "%u, mode %04o): must be owned by uid %u with mode 0600 "
		    "or stricter, or by root with mode 0640 or stricter", path,
		    (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777),
		    (unsigned)geteuid());
		return -1;
	}
	return 0;
}

/* Open path without following a final symlink or blocking on a FIFO. */
static int
secret_open(const char *path, char **cause)
{
	struct stat	 st;
	int		 fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ELOOP)
			cause_printf(cause, "%s: is a symbolic link", path);
		else
			cause_printf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		cause_printf(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (check_stat(path, &st, cause) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Remove trailing CR and LF characters. */
static void
strip_eol(char *s, size_t *len)
{
	while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
		s[--*len] = '\0';
}

/* Read until EOF or max bytes; the count, or -1. */
static ssize_t
read_max(int fd, char *p, size_t max)
{
	size_t	 len = 0;
	ssize_t	 n;

	while (len < max) {
		n = read(fd, p + len, max - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* Read at most SECRET_MAX bytes of fd into a new string. */
static char *
read_all(int fd, const char *path, char **cause)
{
	char	*p;
	size_t	 len;
	ssize_t	 n;

	p = xcalloc(1, SECRET_MAX + 2);
	if ((n = read_max(fd, p, SECRET_MAX + 1)) == -1) {
		cause_printf(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	len = (size_t)n;
	if (len > SECRET_MAX) {
		cause_printf(cause, "%s: longer than %d bytes", path, SECRET_MAX);
		goto fail;
	}
	if (memchr(p, '\0', len) != NULL) {
		cause_printf(cause, "%s: contains a NUL byte", path);
		goto fail;
	}
	strip_eol(p, &len);
	if (len == 0) {
		cause_printf(cause, "%s: empty", path);
		goto fail;
	}
	return p;
fail:
	explicit_bzero(p, SECRET_MAX + 2);
	free(p);
	return NULL;
}

char *
secret_read_file(const char *path, char **cause)
{
	char	*s;
	int	 fd;

	if (cause != NULL)
		*cause = NULL;
	if ((fd = secret_open(path, cause)) == -1)
		return NULL;
	s = read_all(fd, path, cause);
	close(fd);
	if (s != NULL)
		log_debug("%s: read %s", __func__, path);
	return s;
}

char *
secret_read_credential(const char *id, char **cause)
{
	const char	*dir;
	char		*path, *s;

	if (cause != NULL)
		*cause = NULL;
	if (*id == '\0' || strchr(id, '/') != NULL || strcmp(id, ".") == 0 ||
	    strcmp(id, "..") == 0) {
		cause_printf(cause, "credential \"%s\": not a plain name", id);
		return NULL;
	}
	if ((dir = getenv("CREDENTIALS_DIRECTORY")) == NULL || *dir == '\0') {
		cause_printf(cause, "credential \"%s\": CREDENTIALS_DIRECTORY is "
		    "not set (use LoadCredential= in the systemd unit)", id);
		return NULL;
	}
	xasprintf(&path, "%s/%s", dir, id);
	s = secret_read_file(path, cause);
	free(path);
	return s;
}

int
secret_check_perms(const char *path, char **cause)
{
	int	 fd;

	if (cause != NULL)
		*cause = NULL;
	if ((fd = secret_open(path, cause)) == -1)
		return -1;
	close(fd);
	return 0;
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
