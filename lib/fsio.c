/* fsio.c: atomic file replacement (see fsio.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"

static int
fsio_write_tmp(const char *tmp, mode_t mode, bool durable, fsio_write_fn fn,
    void *arg)
{
	FILE	*f = NULL;
	int	 fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1 || fchmod(fd, mode) == -1)
		goto fail;
	if ((f = fdopen(fd, "w")) == NULL)
		goto fail;
	fd = -1;
	if (fn(f, arg) == -1 || fflush(f) == EOF ||
	    (durable && fsync(fileno(f)) == -1))
		goto fail;
	if (fclose(f) == EOF)
		return -1;
	return 0;
fail:
	saved = errno;
	if (f != NULL)
		fclose(f);
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

int
fsio_replace(const char *path, mode_t mode, bool durable, fsio_write_fn fn,
    void *arg)
{
	char	 tmp[PATH_MAX];
	int	 saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (fsio_write_tmp(tmp, mode, durable, fn, arg) == -1 ||
	    rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (durable)
		fsio_sync_dir(path);
	return 0;
}

void
fsio_sync_dir(const char *path)
{
	char		 dir[PATH_MAX] = ".";
	const char	*slash = strrchr(path, '/');
	size_t		 n;
	int		 fd;

	if (slash != NULL) {
		if ((n = (size_t)(slash - path)) == 0)
			n = 1;			/* the root */
		if (n >= sizeof(dir))
			return;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}
