/*
 * fuzz_spool.c: a spool directory made from the input, opened, replayed
 * and consumed; then one record appended and the spool reopened.
 *
 * Input: a flags byte, the first segment number less one, then for each
 * segment but the last its length (u16, little-endian), the segments' bytes
 * (the last takes the rest), and, with FL_HEAD, the head file's 51 bytes
 * before them.  Flags:
 *
 *	FL_CRC		set the CRC of every well-framed record, so that
 *			mutations reach past the checksum
 *	FL_HEAD		write a head file
 *	FL_HEADCRC	give the head file its right CRC
 *	FL_NSEG		(two bits) 1 to 4 segments
 *	FL_MAX		max_bytes 4096 (else unbounded)
 *	FL_GAP		number the segments 1, 3, 5 ... instead of 1, 2, 3 ...
 *
 * Checked: every record spool_open counted can be peeked, in order and
 * again from the start; consuming k leaves the count less k; a record
 * appended and synced is there after reopening, and the count is right.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "spool.h"
#include "fuzz_util.h"

#define FL_CRC		0x01
#define FL_HEAD		0x02
#define FL_HEADCRC	0x04
#define FL_NSEG_SHIFT	3
#define FL_MAX		0x20
#define FL_GAP		0x40
#define HEAD_LEN	51
#define MARK		"fuzz-mark"


static void	 make_spool(const char *, const uint8_t *, size_t);
static void	 fix_crcs(uint8_t *, size_t);
static void	 put_le32(uint8_t *, uint32_t);
static uint32_t	 get_le32(const uint8_t *);
static uint64_t	 peek_all(struct spool *, uint64_t);
static void	 replay(const char *, uint64_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 dir[512];

	if (size < 2)
		return 0;
	fz_quiet(1);
	fz_path(dir, sizeof(dir), fz_tmpdir(), "spool");
	fz_rmtree(dir, 0);
	make_spool(dir, data, size);
	replay(dir, data[0] & FL_MAX ? 4096 : 0);
	fz_rmtree(dir, 1);
	fz_quiet(0);
	return 0;
}

/* Write the head file and the segments the input describes. */
static void
make_spool(const char *dir, const uint8_t *data, size_t size)
{
	const uint8_t	*p = data + 2, *end = data + size;
	uint8_t		 flags = data[0], head[HEAD_LEN], *seg;
	char		 path[600], name[32], crc[16];
	size_t		 nseg = ((flags >> FL_NSEG_SHIFT) & 3) + 1, i, n;
	uint64_t	 seq = (uint64_t)data[1] + 1;

	if ((flags & FL_HEAD) && (size_t)(end - p) >= HEAD_LEN) {
		memcpy(head, p, HEAD_LEN);
		p += HEAD_LEN;
		if (flags & FL_HEADCRC) {
			snprintf(crc, sizeof(crc), " %08" PRIx32 "\n",
			    crc32_update(0, head, 41));
			memcpy(head + 41, crc, 10);
		}
		fz_path(path, sizeof(path), dir, "head");
		fz_write(path, head, HEAD_LEN, 0600);
	}
	for (i = 0; i < nseg; i++) {
		n = (size_t)(end - p);
		if (i + 1 < nseg && n >= 2) {
			n = (size_t)p[0] | (size_t)p[1] << 8;
			p += 2;
			if (n > (size_t)(end - p))
				n = (size_t)(end - p);
		}
		if ((seg = malloc(n + 1)) == NULL)
			fz_fail("malloc");
		memcpy(seg, p, n);
		p += n;
		if (flags & FL_CRC)
			fix_crcs(seg, n);
		snprintf(name, sizeof(name), "%020" PRIu64 ".seg", seq);
		fz_path(path, sizeof(path), dir, name);
		fz_write(path, seg, n, 0600);
		free(seg);
		seq += flags & FL_GAP ? 2 : 1;
	}
}

/* Give each record of a segment, while the framing holds, its CRC. */
static void
fix_crcs(uint8_t *seg, size_t n)
{
	size_t		 off = 0;
	uint32_t	 len;

	while (n - off >= SPOOL_HEADER_LEN && memcmp(seg + off, "ASR1", 4) == 0) {
		len = get_le32(seg + off + 4);
		if (len > n - off - SPOOL_HEADER_LEN)
			break;
		put_le32(seg + off + 8, crc32_update(0,
		    seg + off + SPOOL_HEADER_LEN, len));
		off += SPOOL_HEADER_LEN + len;
	}
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Peek records 0..n-1 (each must be there), then n (none); their CRC sum. */
static uint64_t
peek_all(struct spool *sp, uint64_t n)
{
	const void	*d;
	size_t		 len;
	uint64_t	 i, sum = 0;
	int		 rv;

	for (i = 0; i < n; i++) {
		rv = spool_peek(sp, i, &d, &len);
		FZ_CHECK(rv == SPOOL_OK, "peek %" PRIu64 " of %" PRIu64
		    ": %d", i, n, rv);
		FZ_CHECK(len <= SPOOL_RECORD_MAX, "record of %zu bytes", len);
		sum += crc32_update(0, d, len);
	}
	rv = spool_peek(sp, n, &d, &len);
	FZ_CHECK(rv == SPOOL_EMPTY, "peek past the end: %d", rv);
	return sum;
}

/* Open, replay twice, consume half, append, reopen, consume all. */
static void
replay(const char *dir, uint64_t max_bytes)
{
	struct spool	*sp;
	const void	*d;
	char		*cause = NULL;
	size_t		 len;
	uint64_t	 n, k, sum;
	int		 rv, added;

	if ((sp = spool_open(dir, max_bytes, &cause)) == NULL) {
		free(cause);
		return;
	}
	n = spool_records(sp);
	sum = peek_all(sp, n);
	FZ_CHECK(peek_all(sp, n) == sum, "a second replay differs");
	k = n / 2;
	FZ_CHECK(spool_consume(sp, k) == SPOOL_OK, "consume %" PRIu64, k);
	FZ_CHECK(spool_records(sp) == n - k, "%" PRIu64 " left of %" PRIu64
	    " less %" PRIu64, spool_records(sp), n, k);
	(void)peek_all(sp, n - k);
	rv = spool_append(sp, MARK, strlen(MARK));
	FZ_CHECK(rv == SPOOL_OK || rv == SPOOL_FULL, "append: %d", rv);
	added = rv == SPOOL_OK;
	FZ_CHECK(spool_sync(sp) == SPOOL_OK, "sync");
	spool_close(sp);

	sp = spool_open(dir, max_bytes, &cause);
	FZ_CHECK(sp != NULL, "reopen: %s", cause);
	n = n - k + added;
	FZ_CHECK(spool_records(sp) == n, "reopened with %" PRIu64 " records, "
	    "not %" PRIu64, spool_records(sp), n);
	(void)peek_all(sp, n);
	if (added) {
		FZ_CHECK(spool_peek(sp, n - 1, &d, &len) == SPOOL_OK &&
		    len == strlen(MARK) && memcmp(d, MARK, len) == 0,
		    "the appended record is not the last");
	}
	FZ_CHECK(spool_consume(sp, n) == SPOOL_OK, "consume all");
	FZ_CHECK(spool_records(sp) == 0 && spool_bytes(sp) == 0,
	    "not empty after consuming all");
	spool_close(sp);
}
