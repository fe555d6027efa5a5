/* test_spool.c: the disk spool: order, bound, restarts, corruption, errors. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "unit.h"

#define REC_SIZE(n)	(SPOOL_HEADER_LEN + (n))

static char	 tmpdir[128];	/* from mkdtemp, removed in teardown */
static char	 dir[192];		/* the spool: tmpdir/spool/sink */
static int	 saved_stderr = -1;
static char	 logfile[PATH_MAX];

/* Fault injection: write fails (after fail_after bytes) with fail_errno. */
static int	 fail_write;
static size_t	 fail_after;
static int	 fail_fsync;

static ssize_t
faulty_write(int fd, const void *p, size_t n)
{
	if (!fail_write)
		return write(fd, p, n);
	if (fail_after > 0) {
		n = n < fail_after ? n : fail_after;
		fail_after -= n;
		return write(fd, p, n);
	}
	errno = ENOSPC;
	return -1;
}

static int
faulty_fsync(int fd)
{
	if (fail_fsync) {
		errno = EIO;
		return -1;
	}
	return fsync(fd);
}

static const struct spool_io faulty = { faulty_write, faulty_fsync };

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/spool-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dir, sizeof(dir), "%s/spool/sink", tmpdir);
	fail_write = fail_fsync = 0;
	fail_after = 0;
}

static void
teardown(void)
{
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Record i: "record <i>" padded to a length that varies with i. */
static size_t
rec(int i, char *b)
{
	size_t	 len = 20 + (size_t)(i * 7 % 50);
	int	 n;

	n = snprintf(b, len + 1, "record %d ", i);
	memset(b + n, 'a' + i % 26, len - (size_t)n);
	return len;
}

static void
append_range(struct spool *sp, int from, int to)
{
	char	 b[128];
	int	 i;

	for (i = from; i < to; i++)
		ck_assert_int_eq(spool_append(sp, b, rec(i, b)), SPOOL_OK);
}

static void
append_sync(struct spool *sp, int from, int to)
{
	append_range(sp, from, to);
	ck_assert_int_eq(spool_sync(sp), SPOOL_OK);
}

/* Record idx of the spool is record want. */
static void
check_rec(struct spool *sp, uint64_t idx, int want)
{
	char		 b[128];
	const void	*p;
	size_t		 len, wlen = rec(want, b);

	ck_assert_int_eq(spool_peek(sp, idx, &p, &len), SPOOL_OK);
	ck_assert_uint_eq(len, wlen);
	ck_assert_mem_eq(p, b, len);
}

/* The spool holds exactly records from..to-1, in order. */
static void
check_range(struct spool *sp, int from, int to)
{
	const void	*p;
	size_t		 len;
	int		 i;

	ck_assert_uint_eq(spool_records(sp), (uint64_t)(to - from));
	for (i = from; i < to; i++)
		check_rec(sp, (uint64_t)(i - from), i);
	ck_assert_int_eq(spool_peek(sp, (uint64_t)(to - from), &p, &len),
	    SPOOL_EMPTY);
}

static struct spool *
open_spool(uint64_t max, uint64_t segsize)
{
	struct spool	*sp;
	char		*cause = NULL;

	sp = spool_open(dir, max, &cause);
	ck_assert_msg(sp != NULL, "%s", cause ? cause : "?");
	if (segsize != 0)
		spool_set_segment_size(sp, segsize);
	spool_set_io(sp, &faulty);
	return sp;
}

/* The spool holds exactly records from..to-1, and so after a reopen. */
static void
reopen_check(struct spool *sp, uint64_t segsize, int from, int to)
{
	check_range(sp, from, to);
	spool_close(sp);
	sp = open_spool(0, segsize);
	check_range(sp, from, to);
	spool_close(sp);
}

/* Entries in the spool directory, "." and ".." aside. */
static int
count_files(const char *suffix)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	size_t		 sl = strlen(suffix), nl;
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (de->d_name[0] != '.' && nl >= sl &&
		    strcmp(de->d_name + nl - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void
seg_path(char *path, size_t size, int seq)
{
	snprintf(path, size, "%s/%020d.seg", dir, seq);
}

static off_t
file_size(const char *path)
{
	struct stat	 st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

/* A closed spool with records 0..n-1 in segment 1; returns its path, size. */
static off_t
make_segment(int n, char *path)
{
	struct spool	*sp = open_spool(0, 0);

	append_range(sp, 0, n);
	spool_close(sp);
	seg_path(path, PATH_MAX, 1);
	return file_size(path);
}

/* Writes n bytes at off of a file (extending it when off is its size). */
static void
patch_file(const char *path, off_t off, const void *p, size_t n)
{
	int	 fd = open(path, O_WRONLY | O_CREAT, 0600);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(pwrite(fd, p, n, off), (ssize_t)n);
	close(fd);
}

/* Bitwise CRC-32, to check the module's table-driven one. */
static uint32_t
crc32_slow(const char *p, size_t n)
{
	uint32_t	 c = 0xffffffff;
	int		 k;

	while (n-- > 0)
		for (c ^= (unsigned char)*p++, k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320 & -(c & 1));
	return ~c;
}

/* Writes a well-formed head file: replay starts at seq, off. */
static void
write_head(const char *path, uint64_t seq, uint64_t off)
{
	char	 b[64];

	snprintf(b, sizeof(b), "%020lu %020lu", (unsigned long)seq,
	    (unsigned long)off);
	snprintf(b + 41, sizeof(b) - 41, " %08x\n", crc32_slow(b, 41));
	patch_file(path, 0, b, 51);
}

/* Sends stderr (where log_warnx writes) to a file until log_release. */
static void
log_capture(void)
{
	int	 fd;

	snprintf(logfile, sizeof(logfile), "%s/log", tmpdir);
	fflush(stderr);
	saved_stderr = dup(2);
	fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	dup2(fd, 2);
	close(fd);
}

/* Restores stderr; true when the captured log contains needle. */
static int
log_release(const char *needle)
{
	char	 b[4096];
	ssize_t	 n;
	int	 fd;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	fd = open(logfile, O_RDONLY);
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	unlink(logfile);
	b[n < 0 ? 0 : n] = '\0';
	fprintf(stderr, "%s", b);	/* keep the lines visible */
	return strstr(b, needle) != NULL;
}

/* Opens the spool with stderr captured; the log must contain needle. */
static struct spool *
open_logged(const char *needle)
{
	struct spool	*sp;
	int		 found;

	log_capture();
	sp = spool_open(dir, 0, NULL);
	found = log_release(needle);
	ck_assert_ptr_nonnull(sp);
	ck_assert_msg(found, "no \"%s\" in the log", needle);
	return sp;
}

/* The on-disk format: names, mode, header fields, the CRC of "123456789". */
START_TEST(test_format)
{
	struct spool	*sp = open_spool(0, 0);
	char		 path[PATH_MAX], b[64];
	struct stat	 st;
	int		 fd;

	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(spool_append(sp, "123456789", 9), SPOOL_OK);
	ck_assert_int_eq(spool_sync(sp), SPOOL_OK);
	ck_assert_uint_eq(spool_bytes(sp), REC_SIZE(9));
	seg_path(path, sizeof(path), 1);
	ck_assert_int_eq(file_size(path), REC_SIZE(9));
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, b, sizeof(b)), REC_SIZE(9));
	close(fd);
	ck_assert_mem_eq(b, "ASR1\x09\0\0\0\x26\x39\xf4\xcb" "123456789",
	    REC_SIZE(9));
	ck_assert_uint_eq(crc32_slow("123456789", 9), 0xcbf43926);
	spool_close(sp);
}
END_TEST

/* Records come back in order across many segments, consumed in chunks. */
START_TEST(test_order_segments)
{
	struct spool	*sp = open_spool(0, 256);
	int		 done = 0;

	append_sync(sp, 0, 100);
	ck_assert_int_gt(count_files(".seg"), 10);
	while (done < 100) {
		check_range(sp, done, 100);
		ck_assert_int_eq(spool_consume(sp, done + 7 > 100 ?
		    (uint64_t)(100 - done) : 7), SPOOL_OK);
		done = done + 7 > 100 ? 100 : done + 7;
	}
	ck_assert_uint_eq(spool_records(sp), 0);
	ck_assert_uint_eq(spool_bytes(sp), 0);
	spool_close(sp);
}
END_TEST

/* peek in any order; consume less than peeked keeps the cursor right. */
START_TEST(test_peek_any_order)
{
	struct spool	*sp = open_spool(0, 300);

	append_range(sp, 0, 40);
	check_rec(sp, 25, 25);
	check_rec(sp, 3, 3);
	check_rec(sp, 3, 3);
	check_rec(sp, 30, 30);
	ck_assert_int_eq(spool_consume(sp, 10), SPOOL_OK);
	check_rec(sp, 20, 30);
	check_rec(sp, 21, 31);
	ck_assert_int_eq(spool_consume(sp, 25), SPOOL_OK); /* past cursor */
	check_range(sp, 35, 40);
	spool_close(sp);
}
END_TEST

/* Appends visible to peek before sync; more appends after a partial consume. */
START_TEST(test_interleaved)
{
	struct spool	*sp = open_spool(0, 200);
	int		 i;

	for (i = 0; i < 50; i++) {
		append_range(sp, i * 3, i * 3 + 3);
		check_rec(sp, 0, i);
		ck_assert_int_eq(spool_consume(sp, 1), SPOOL_OK);
		if (i % 5 == 0)
			ck_assert_int_eq(spool_sync(sp), SPOOL_OK);
	}
	reopen_check(sp, 200, 50, 150);
}
END_TEST

/* max_bytes: SPOOL_FULL, nothing lost, room again when a segment goes. */
START_TEST(test_full)
{
	struct spool	*sp;
	char		 b[100];
	int		 i;

	memset(b, 'x', sizeof(b));
	sp = open_spool(10 * REC_SIZE(100), 0);	/* segments: max / 4 */
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(spool_append(sp, b, 100), SPOOL_OK);
	ck_assert_int_eq(count_files(".seg"), 5);
	ck_assert_int_eq(spool_append(sp, b, 100), SPOOL_FULL);
	ck_assert_int_eq(spool_append(sp, b, 1), SPOOL_FULL);
	ck_assert_int_eq(spool_sync(sp), SPOOL_OK);
	ck_assert_uint_eq(spool_records(sp), 10);
	ck_assert_uint_eq(spool_bytes(sp), 10 * REC_SIZE(100));
	ck_assert_int_eq(spool_consume(sp, 1), SPOOL_OK);
	ck_assert_int_eq(spool_append(sp, b, 100), SPOOL_FULL); /* on disk */
	ck_assert_int_eq(spool_consume(sp, 1), SPOOL_OK);	/* segment 1 */
	ck_assert_uint_eq(spool_bytes(sp), 8 * REC_SIZE(100));
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(spool_append(sp, b, 100), SPOOL_OK);
	ck_assert_int_eq(spool_append(sp, b, 100), SPOOL_FULL);
	ck_assert_uint_eq(spool_records(sp), 10);
	spool_close(sp);
}
END_TEST

/* Records up to SPOOL_RECORD_MAX round-trip; bigger ones are refused. */
START_TEST(test_record_max)
{
	struct spool	*sp = open_spool(0, 0);
	char		*big = malloc(SPOOL_RECORD_MAX + 1);
	const void	*p;
	size_t		 len;

	memset(big, 'z', SPOOL_RECORD_MAX + 1);
	big[0] = 'A';
	ck_assert_int_eq(spool_append(sp, big, SPOOL_RECORD_MAX + 1),
	    SPOOL_TOOBIG);
	ck_assert_int_eq(spool_append(sp, "", 0), SPOOL_OK);
	ck_assert_int_eq(spool_append(sp, big, SPOOL_RECORD_MAX), SPOOL_OK);
	ck_assert_int_eq(spool_sync(sp), SPOOL_OK);
	spool_close(sp);
	sp = open_spool(0, 0);
	ck_assert_uint_eq(spool_records(sp), 2);
	ck_assert_int_eq(spool_peek(sp, 0, &p, &len), SPOOL_OK);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(spool_peek(sp, 1, &p, &len), SPOOL_OK);
	ck_assert_uint_eq(len, SPOOL_RECORD_MAX);
	ck_assert_mem_eq(p, big, SPOOL_RECORD_MAX);
	free(big);
	spool_close(sp);
}
END_TEST

/* Reopening keeps every record and the consumed position, mid-segment too. */
START_TEST(test_reopen)
{
	struct spool	*sp = open_spool(0, 512);

	append_sync(sp, 0, 60);
	check_rec(sp, 12, 12);
	ck_assert_int_eq(spool_consume(sp, 13), SPOOL_OK);
	spool_close(sp);
	sp = open_spool(0, 512);
	check_range(sp, 13, 60);
	ck_assert_int_eq(spool_consume(sp, 1), SPOOL_OK);
	append_range(sp, 60, 70);	/* close syncs */
	reopen_check(sp, 512, 14, 70);
}
END_TEST

/* A second open of the same directory is refused while the first holds it. */
START_TEST(test_locked)
{
	struct spool	*sp = open_spool(0, 0), *sp2;
	char		*cause = NULL;

	sp2 = spool_open(dir, 0, &cause);
	ck_assert_ptr_null(sp2);
	ck_assert_ptr_nonnull(strstr(cause, "in use"));
	free(cause);
	spool_close(sp);
}
END_TEST

/* A torn tail (last record cut short) is logged and cut; the rest is kept. */
START_TEST(test_torn_tail)
{
	struct spool	*sp;
	char		 path[PATH_MAX], b[128];
	off_t		 full;

	full = make_segment(10, path);
	ck_assert_int_eq(truncate(path, full - 5), 0);
	sp = open_logged("short record");
	check_range(sp, 0, 9);
	ck_assert_int_eq(file_size(path), full - REC_SIZE(rec(9, b)));
	append_range(sp, 9, 12);
	reopen_check(sp, 0, 0, 12);
}
END_TEST

/* A header cut short and garbage after the last record are cut too. */
START_TEST(test_garbage_tail)
{
	struct spool	*sp;
	char		 path[PATH_MAX];
	off_t		 full;

	full = make_segment(5, path);
	patch_file(path, full, "ASR", 3);
	sp = open_logged("short header");
	check_range(sp, 0, 5);
	ck_assert_int_eq(file_size(path), full);
	spool_close(sp);
	patch_file(path, full, "garbage garbage garbage", 23);
	sp = open_logged("bad magic");
	check_range(sp, 0, 5);
	ck_assert_int_eq(file_size(path), full);
	spool_close(sp);
}
END_TEST

/* A flipped payload byte fails the CRC: that record and later ones go. */
START_TEST(test_crc_flip)
{
	struct spool	*sp;
	char		 path[PATH_MAX], b[128];
	off_t		 off = 0;
	int		 i;

	make_segment(10, path);
	for (i = 0; i < 7; i++)
		off += REC_SIZE(rec(i, b));
	patch_file(path, off + SPOOL_HEADER_LEN + 3, "#", 1);
	sp = open_logged("CRC mismatch");
	check_range(sp, 0, 7);
	ck_assert_int_eq(file_size(path), off);
	spool_close(sp);
}
END_TEST

/* Corruption in an older segment loses its rest, keeps the next segments. */
START_TEST(test_corrupt_older_segment)
{
	struct spool	*sp = open_spool(0, 3 * REC_SIZE(40));
	char		 path[PATH_MAX], b[128];
	int		 i;

	memset(b, 'q', 40);
	for (i = 0; i < 9; i++) {
		b[0] = (char)('0' + i);
		ck_assert_int_eq(spool_append(sp, b, 40), SPOOL_OK);
	}
	ck_assert_int_eq(count_files(".seg"), 3);
	spool_close(sp);
	seg_path(path, sizeof(path), 2);
	patch_file(path, REC_SIZE(40), "XXXX", 4);	/* record 4 */
	sp = open_logged("segment 2: bad magic");
	ck_assert_uint_eq(spool_records(sp), 7);
	for (i = 0; i < 7; i++) {
		const void	*p;
		size_t		 len;

		ck_assert_int_eq(spool_peek(sp, (uint64_t)i, &p, &len),
		    SPOOL_OK);
		ck_assert_int_eq(*(const char *)p, "0123678"[i]);
	}
	spool_close(sp);
}
END_TEST

/* A huge length field allocates nothing big; a first bad record empties it. */
START_TEST(test_huge_length)
{
	struct spool	*sp;
	char		 path[PATH_MAX];
	int		 fd;

	make_segment(2, path);
	patch_file(path, 4, "\xf0\xff\xff\xff", 4);
	sp = open_logged("length over the limit");
	ck_assert_uint_eq(spool_records(sp), 0);
	ck_assert_int_eq(count_files(".seg"), 0);	/* empty: removed */
	append_range(sp, 0, 1);
	spool_close(sp);
	/* Within the limit but past the end of the file. */
	seg_path(path, sizeof(path), 2);
	ck_assert_int_eq(file_size(path), REC_SIZE(rec(0, (char[128]){0})));
	patch_file(path, 4, "\x00\x00\x08\x00", 4);
	sp = open_logged("short record");
	ck_assert_uint_eq(spool_records(sp), 0);
	spool_close(sp);
	/* A segment of zeros, and a stray file that is not a segment. */
	seg_path(path, sizeof(path), 7);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	patch_file(path, 0, "", 0);
	sp = open_spool(0, 0);
	ck_assert_uint_eq(spool_records(sp), 0);
	append_range(sp, 0, 1);
	spool_close(sp);
	seg_path(path, sizeof(path), 8);	/* numbering goes on */
	ck_assert_int_gt(file_size(path), 0);
}
END_TEST

/* ENOSPC in the middle of a write: sync fails, the file is cut back. */
START_TEST(test_write_error)
{
	struct spool	*sp = open_spool(0, 0);
	char		 path[PATH_MAX];
	off_t		 good;

	append_sync(sp, 0, 5);
	seg_path(path, sizeof(path), 1);
	good = file_size(path);
	append_range(sp, 5, 10);
	fail_write = 1;
	fail_after = 30;		/* a partial write first */
	ck_assert_int_eq(spool_sync(sp), SPOOL_ERROR);
	ck_assert_int_eq(file_size(path), good);
	check_range(sp, 0, 5);
	ck_assert_int_eq(spool_append(sp, "x", 1), SPOOL_OK);
	ck_assert_int_eq(spool_sync(sp), SPOOL_ERROR);
	fail_write = 0;
	append_sync(sp, 5, 8);
	reopen_check(sp, 0, 0, 8);
}
END_TEST

/* EIO from fsync, with new segments since the last sync: they go too. */
START_TEST(test_fsync_error_rolls)
{
	struct spool	*sp = open_spool(0, 256);
	int		 nseg;

	append_sync(sp, 0, 6);
	nseg = count_files(".seg");
	append_range(sp, 6, 40);
	ck_assert_int_gt(count_files(".seg"), nseg);
	fail_fsync = 1;
	ck_assert_int_eq(spool_sync(sp), SPOOL_ERROR);
	ck_assert_int_eq(count_files(".seg"), nseg);
	check_range(sp, 0, 6);
	fail_fsync = 0;
	append_sync(sp, 6, 40);
	reopen_check(sp, 256, 0, 40);
}
END_TEST

/* A failing fsync when a segment rolls over fails the append itself. */
START_TEST(test_roll_error)
{
	struct spool	*sp = open_spool(0, 256);

	append_sync(sp, 0, 3);
	fail_fsync = 1;
	append_range(sp, 3, 5);
	ck_assert_int_eq(spool_append(sp, "y", 1), SPOOL_OK);
	ck_assert_int_eq(spool_append(sp, (char[200]){0}, 200), SPOOL_ERROR);
	ck_assert_int_eq(count_files(".seg"), 1);
	check_range(sp, 0, 3);
	fail_fsync = 0;
	append_range(sp, 3, 20);
	reopen_check(sp, 256, 0, 20);
}
END_TEST

/* A buffer flush that fails inside append, and errors with nothing synced. */
START_TEST(test_append_flush_error)
{
	struct spool	*sp = open_spool(0, 0);
	char		*b = calloc(1, 100000);
	int		 i, rv = SPOOL_OK;

	fail_write = 1;
	for (i = 0; i < 10 && rv == SPOOL_OK; i++)
		rv = spool_append(sp, b, 100000);
	ck_assert_int_eq(rv, SPOOL_ERROR);
	ck_assert_uint_eq(spool_records(sp), 0);
	ck_assert_uint_eq(spool_bytes(sp), 0);
	ck_assert_int_eq(count_files(".seg"), 0);
	fail_write = 0;
	append_sync(sp, 0, 3);
	check_range(sp, 0, 3);
	free(b);
	spool_close(sp);
}
END_TEST

/* Consuming everything removes every file; the spool goes on from there. */
START_TEST(test_consume_all_clean)
{
	struct spool	*sp = open_spool(0, 256);
	DIR		*d;
	struct dirent	*de;

	append_sync(sp, 0, 30);
	ck_assert_int_eq(spool_consume(sp, 10), SPOOL_OK);
	ck_assert_int_eq(count_files("head"), 1);
	ck_assert_int_eq(spool_consume(sp, 20), SPOOL_OK);
	ck_assert_uint_eq(spool_records(sp), 0);
	ck_assert_uint_eq(spool_bytes(sp), 0);
	d = opendir(dir);
	while ((de = readdir(d)) != NULL)
		ck_assert_msg(de->d_name[0] == '.', "left: %s", de->d_name);
	closedir(d);
	append_range(sp, 30, 33);
	reopen_check(sp, 256, 30, 33);
}
END_TEST

/* A bad head file or one off a record boundary replays (duplicates only). */
START_TEST(test_bad_head)
{
	struct spool	*sp = open_spool(0, 0);
	char		 path[PATH_MAX];

	append_range(sp, 0, 10);
	ck_assert_int_eq(spool_consume(sp, 4), SPOOL_OK);
	spool_close(sp);
	snprintf(path, sizeof(path), "%s/head", dir);
	write_head(path, 1, 7);
	sp = open_logged("not a record boundary");
	check_range(sp, 0, 10);
	spool_close(sp);
	patch_file(path, 30, "9", 1);	/* torn: fails the CRC */
	sp = open_logged("head file unreadable");
	check_range(sp, 0, 10);
	spool_close(sp);
}
END_TEST

/* Segments older than the head (crash before their unlink) are removed. */
START_TEST(test_stale_segments)
{
	struct spool	*sp = open_spool(0, 256);
	char		 path[PATH_MAX], save[PATH_MAX];
	int		 nseg;

	append_range(sp, 0, 30);
	spool_close(sp);
	seg_path(path, sizeof(path), 1);
	snprintf(save, sizeof(save), "%s/copy", tmpdir);
	ck_assert_int_eq(link(path, save), 0);
	sp = open_spool(0, 256);
	nseg = count_files(".seg");
	while (count_files(".seg") == nseg)
		ck_assert_int_eq(spool_consume(sp, 1), SPOOL_OK);
	nseg = (int)spool_records(sp);
	spool_close(sp);
	ck_assert_int_eq(link(save, path), 0);	/* unlink lost */
	sp = open_spool(0, 256);
	ck_assert_uint_eq(spool_records(sp), (uint64_t)nseg);
	check_range(sp, 30 - nseg, 30);
	spool_close(sp);
}
END_TEST

/* A real short write from the kernel (RLIMIT_FSIZE, EFBIG) is undone. */
START_TEST(test_kernel_short_write)
{
	struct spool	*sp = open_spool(0, 0);
	struct rlimit	 old, rl;
	char		 path[PATH_MAX];
	void		(*oldsig)(int);
	off_t		 good;

	spool_set_io(sp, NULL);
	append_sync(sp, 0, 5);
	seg_path(path, sizeof(path), 1);
	good = file_size(path);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)good + 50;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	append_range(sp, 5, 10);
	ck_assert_int_eq(spool_sync(sp), SPOOL_ERROR);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	ck_assert_int_eq(file_size(path), good);
	append_sync(sp, 5, 10);
	reopen_check(sp, 0, 0, 10);
}
END_TEST

/*
 * A head naming a segment near 2^64 (right CRC, found by fuzz_spool) is
 * not ours: replay everything, and what is appended after it is still
 * there at the next open (segment numbers must not wrap).
 */
START_TEST(test_head_seq_huge)
{
	struct spool	*sp = open_spool(0, 0);
	char		 path[PATH_MAX];
	const void	*data;
	size_t		 len;

	ck_assert_int_eq(spool_append(sp, "one", 3), SPOOL_OK);
	ck_assert_int_eq(spool_sync(sp), SPOOL_OK);
	spool_close(sp);
	snprintf(path, sizeof(path), "%s/head", dir);
	write_head(path, UINT64_MAX - 1, 0);
	sp = open_logged("head file unreadable");
	ck_assert_uint_eq(spool_records(sp), 1);
	ck_assert_int_eq(spool_append(sp, "two", 3), SPOOL_OK);
	ck_assert_int_eq(spool_sync(sp), SPOOL_OK);
	spool_close(sp);
	sp = open_spool(0, 0);
	ck_assert_uint_eq(spool_records(sp), 2);
	ck_assert_int_eq(spool_peek(sp, 1, &data, &len), SPOOL_OK);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(data, "two", 3), 0);
	spool_close(sp);
}
END_TEST

/* A process that dies without closing (as kill -9) loses nothing synced. */
START_TEST(test_crash)
{
	struct spool	*sp;
	pid_t		 pid;
	int		 status;

	if ((pid = fork()) == 0) {
		sp = open_spool(0, 512);
		append_range(sp, 0, 100);
		if (spool_sync(sp) != SPOOL_OK)
			_exit(1);
		check_rec(sp, 9, 9);
		if (spool_consume(sp, 10) != SPOOL_OK)
			_exit(1);
		append_range(sp, 100, 103);	/* never synced */
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	sp = open_spool(0, 512);
	ck_assert_uint_ge(spool_records(sp), 90);
	check_range(sp, 10, 10 + (int)spool_records(sp));
	spool_close(sp);
}
END_TEST

Suite *
suite_spool(void)
{
	Suite	*s = suite_create("spool");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_order_segments);
	tcase_add_test(tc, test_peek_any_order);
	tcase_add_test(tc, test_interleaved);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_record_max);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_locked);
	tcase_add_test(tc, test_torn_tail);
	tcase_add_test(tc, test_garbage_tail);
	tcase_add_test(tc, test_crc_flip);
	tcase_add_test(tc, test_corrupt_older_segment);
	tcase_add_test(tc, test_huge_length);
	tcase_add_test(tc, test_write_error);
	tcase_add_test(tc, test_fsync_error_rolls);
	tcase_add_test(tc, test_roll_error);
	tcase_add_test(tc, test_append_flush_error);
	tcase_add_test(tc, test_consume_all_clean);
	tcase_add_test(tc, test_bad_head);
	tcase_add_test(tc, test_stale_segments);
	tcase_add_test(tc, test_kernel_short_write);
	tcase_add_test(tc, test_crash);
	tcase_add_test(tc, test_head_seq_huge);
	suite_add_tcase(s, tc);
	return s;
}
