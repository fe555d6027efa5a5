/*
 * fuzz_util.c: helpers shared by the harnesses (see fuzz_util.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "fuzz_util.h"

static char	 tmpdir[256];
static FILE	*saved_stderr;
static FILE	*devnull;

static void	 fz_cleanup(void);
static int	 rm_one(const char *, const struct stat *, int, struct FTW *);

int
fz_verbose(void)
{
	return getenv("AMPSTREAM_FUZZ_VERBOSE") != NULL;
}

void
fz_quiet(int on)
{
	log_setlevel(LOG_LEVEL_DEBUG);	/* every log line is formatted */
	if (fz_verbose())
		return;
	if (on && saved_stderr == NULL) {
		if (devnull == NULL &&
		    (devnull = fopen("/dev/null", "we")) == NULL)
			return;
		saved_stderr = stderr;
		stderr = devnull;
	} else if (!on && saved_stderr != NULL) {
		stderr = saved_stderr;
		saved_stderr = NULL;
	}
}

const char *
fz_tmpdir(void)
{
	const char	*base = getenv("TMPDIR");
	struct stat	 st;

	if (tmpdir[0] != '\0')
		return tmpdir;
	if (base == NULL || *base == '\0')
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	if ((size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/ampfuzz.XXXXXX",
	    base) >= sizeof(tmpdir) || mkdtemp(tmpdir) == NULL)
		fz_fail("mkdtemp %s: %s", tmpdir, strerror(errno));
	atexit(fz_cleanup);
	return tmpdir;
}

static void
fz_cleanup(void)
{
	if (tmpdir[0] != '\0')
		fz_rmtree(tmpdir, 1);
}

void
fz_path(char *dst, size_t size, const char *dir, const char *name)
{
	if ((size_t)snprintf(dst, size, "%s/%s", dir, name) >= size)
		fz_fail("path too long: %s/%s", dir, name);
}

void
fz_write(const char *path, const void *p, size_t n, mode_t mode)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1 || fchmod(fd, mode) == -1 ||
	    (n > 0 && write(fd, p, n) != (ssize_t)n) || close(fd) == -1)
		fz_fail("write %s: %s", path, strerror(errno));
}

char *
fz_read(const char *path, size_t *n)
{
	struct stat	 st;
	char		*p = NULL;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 ||
	    (p = malloc((size_t)st.st_size + 1)) == NULL ||
	    read(fd, p, (size_t)st.st_size) != (ssize_t)st.st_size) {
		free(p);
		p = NULL;
	} else
		*n = (size_t)st.st_size;
	close(fd);
	return p;
}

static int
rm_one(const char *path, const struct stat *st __unused, int flag __unused,
    struct FTW *ftw __unused)
{
	(void)remove(path);
	return 0;
}

void
fz_rmtree(const char *dir, int self)
{
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (!self && mkdir(dir, 0700) == -1)
		fz_fail("mkdir %s: %s", dir, strerror(errno));
}

void
fz_fail(const char *fmt, ...)
{
	va_list	 ap;

	fz_quiet(0);
	fz_cleanup();		/* libFuzzer keeps the input itself */
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

/* Stop at the first UBSan report, recoverable or not (see ubsan.supp). */
const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* Leaks of libraries, not ours: libconfig 1.5 loses a string buffer on
 * some syntax errors (strbuf_append in its scanner). */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

/* Do not list the suppressions used at every leak check. */
const char *
__lsan_default_options(void)
{
	return "print_suppressions=0";
}
