/*
 * spool.h: a per-sink disk spool of opaque records, replayed in order.
 *
 * A spool is one directory (created 0700, locked with flock while open) of
 * append-only segment files named by a 20-digit sequence number,
 * 00000000000000000001.seg, rolled at SPOOL_SEGMENT_SIZE (or at a quarter
 * of max_bytes when that is smaller).  Each record is framed by a 12-byte
 * header, all little-endian: the magic "ASR1", the payload length (at most
 * SPOOL_RECORD_MAX) and the CRC-32 (IEEE, as zlib) of the payload.  The
 * file "head" says where replay starts: one fixed-width line "SEQ OFFSET
 * CRC\n" (20 digits, 20 digits, the CRC-32 of the first 41 bytes in 8 hex
 * digits), overwritten in place by each spool_consume with one pwrite and
 * no fsync; a torn or unreadable head replays everything.
 *
 * Durability: records are buffered; spool_sync writes them with one write()
 * and one fsync() (plus one of the directory when a segment was created).
 * A record is durable once a spool_sync after its append returned SPOOL_OK.
 * When a write or fsync fails (ENOSPC, EIO, ...: in spool_sync, or in
 * spool_append, spool_peek and spool_consume, which may write the buffer
 * out), the call returns SPOOL_ERROR and every record appended since the
 * last successful spool_sync is discarded (the segment is truncated back,
 * newer segments removed): the spool is as it was after that sync, and
 * usable.  The caller must not ack those records.  A read error in
 * spool_peek or spool_consume changes nothing.
 *
 * Replay: records are read in order with spool_peek (appended records are
 * visible before they are synced) and removed with spool_consume only after
 * the sink took them.  A crash between the two, or losing the head file's
 * last update, replays records already delivered: duplicates, never loss.
 * A head that does not point at a record boundary replays its segment from
 * the start.  After a crash, records appended but never synced may or may
 * not be there (they were not acked, so they may come twice).  One spool is
 * used from one thread.
 *
 * Corruption, found by spool_open: a bad magic, a length over the limit or
 * past the end of the file, or a CRC mismatch ends the valid part of its
 * segment.  It is logged and the segment is truncated at the last good
 * record.  In the newest segment that is a torn tail; in an older one the
 * rest of that segment is lost, but the following segments are kept (no
 * attempt to resynchronise on the next magic).  Empty segments and
 * segments older than the head are removed.  Corruption found later by
 * spool_peek (the file changed under the daemon) is logged and returned as
 * SPOOL_ERROR; the next spool_open truncates it.
 *
 * spool_bytes counts the segment files (consumed records stay on disk until
 * their whole segment is consumed); max_bytes bounds it.
 */
#ifndef AMPSTREAM_SPOOL_H
#define AMPSTREAM_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SPOOL_RECORD_MAX	(1024 * 1024)
#define SPOOL_SEGMENT_SIZE	(8 * 1024 * 1024)
#define SPOOL_HEADER_LEN	12

enum spool_result {
	SPOOL_OK = 0,
	SPOOL_FULL,		/* append: max_bytes would be passed */
	SPOOL_TOOBIG,		/* append: record over SPOOL_RECORD_MAX */
	SPOOL_EMPTY,		/* peek: no record at that index */
	SPOOL_ERROR,		/* I/O error, logged; see above */
};

struct spool;

/* Opens (creating it) the spool in dir; max_bytes 0 is unbounded. */
struct spool	*spool_open(const char *dir, uint64_t max_bytes,
		    char **cause);
/* Syncs what is pending (errors are logged) and frees the spool. */
void		 spool_close(struct spool *);
/* Segment size for the next segments (tests use a small one). */
void		 spool_set_segment_size(struct spool *, uint64_t);

int		 spool_append(struct spool *, const void *, size_t);
int		 spool_sync(struct spool *);

/*
 * Record i (0 is the oldest not consumed); data stays valid until the next
 * call on the spool.  Reading i, i + 1, ... in order costs no seek.
 */
int		 spool_peek(struct spool *, uint64_t i, const void **data,
		    size_t *len);
/* The first n records were delivered: forget them (n <= spool_records). */
int		 spool_consume(struct spool *, uint64_t n);

uint64_t	 spool_records(const struct spool *);
uint64_t	 spool_bytes(const struct spool *);

/* Testing only: replace write(2) and fsync(2) to inject failures. */
struct spool_io {
	ssize_t	(*write)(int, const void *, size_t);
	int	(*fsync)(int);
};
void		 spool_set_io(struct spool *, const struct spool_io *);

#endif
