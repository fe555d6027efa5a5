/*
 * deadletter.h: messages that are not AMP events are kept, not dropped.
 *
 * Each stream has its store: STATE_DIR/deadletter/STREAM.jsonl, one JSON
 * object per line with stream, received_at, reason, size and the whole
 * body ("body", or "body_base64" when it is not valid UTF-8 or was
 * written as it arrived), fsync'd before the message is acked.  The file
 * rotates to STREAM-YYYYmmddTHHMMSSZ.jsonl past DEADLETTER_ROTATE bytes
 * (or max_bytes / 4); the store never holds more than max_bytes in all.
 * When an entry does not fit, nothing is written or dropped: the message
 * is not acked, the store is full until files are removed, and the hold
 * (hold.c) gives the stream's messages back to the broker meanwhile.  A
 * disk error (open, write, fsync) refuses entries the same way for a few
 * seconds, then the store is tried again.
 */
#ifndef AMPSTREAM_DEADLETTER_H
#define AMPSTREAM_DEADLETTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DEADLETTER_ROTATE	(64ULL * 1024 * 1024)

struct deadletter;

struct deadletter *deadletter_new(const char *state_dir, const char *stream,
		    uint64_t max_bytes);
void		 deadletter_free(struct deadletter *);

/* One whole body.  Returns 0, or -1 (logged: full, or a disk error). */
int		 deadletter_write(struct deadletter *, const char *body,
		    size_t len, const char *reason, int64_t received_ms);

/*
 * A body written as it arrives (base64), len bytes announced: begin, then
 * more for each piece, then end, which returns 0 once the entry is whole
 * on disk.  After a failure, or an abort, the entry is taken back out of
 * the file.  One entry at a time.
 */
int		 deadletter_begin(struct deadletter *, const char *reason,
		    int64_t received_ms, uint64_t len);
int		 deadletter_more(struct deadletter *, const void *, size_t);
int		 deadletter_end(struct deadletter *);
void		 deadletter_abort(struct deadletter *);

/* Bytes held in every file of the store. */
uint64_t	 deadletter_bytes(const struct deadletter *);
/*
 * Does the store refuse entries: one did not fit and no room was made
 * since, or the disk failed less than a few seconds ago?  Looks at the
 * files again, so removing some frees it.  *since: when it began refusing,
 * monotonic seconds.
 */
bool		 deadletter_full(struct deadletter *, time_t *since);

#endif
