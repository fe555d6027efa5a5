/*
 * fuzz_util.h: what the libFuzzer harnesses share: quiet stderr, a private
 * temporary directory, small file helpers and a check that aborts.
 */
#ifndef AMPSTREAM_FUZZ_UTIL_H
#define AMPSTREAM_FUZZ_UTIL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "compat.h"

/* A fixed "now" (2026-11-24T19:00:00.123Z), so that runs reproduce. */
#define FZ_NOW_MS	1795546800123LL

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Send what the code under test prints on stderr (log lines, at debug
 * level, and ctl errors) to /dev/null while on; sanitizer and libFuzzer
 * reports still reach fd 2.  $AMPSTREAM_FUZZ_VERBOSE keeps it.
 */
void	 fz_quiet(int on);
/* True when $AMPSTREAM_FUZZ_VERBOSE is set (harnesses say more). */
int	 fz_verbose(void);
/* This process's temporary directory, made once ($TMPDIR, /dev/shm or
 * /tmp) and removed at exit. */
const char *fz_tmpdir(void);
/* dir/name into dst (aborts if it does not fit). */
void	 fz_path(char *dst, size_t, const char *dir, const char *name);
/* Create or replace path with n bytes of p, mode; aborts on failure. */
void	 fz_write(const char *path, const void *p, size_t n, mode_t mode);
/* Read path whole into a malloc'd buffer (*n bytes); NULL if it cannot. */
char	*fz_read(const char *path, size_t *n);
/* Remove dir and everything under it; unless self, make it again, empty. */
void	 fz_rmtree(const char *dir, int self);
/* A broken invariant: print the message and abort, for libFuzzer. */
__dead void fz_fail(const char *, ...) printflike(1, 2);
/* UBSan defaults for the harnesses. */
const char *__ubsan_default_options(void);
/* LeakSanitizer suppressions for the harnesses. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);

#define FZ_CHECK(cond, ...) do {					\
	if (!(cond))							\
		fz_fail(__VA_ARGS__);					\
} while (0)

#endif
