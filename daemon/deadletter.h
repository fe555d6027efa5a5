/*
 * deadletter.h: messages that are not AMP events are kept, not dropped:
 * appended to STATE_DIR/deadletter/STREAM.jsonl, one JSON object per line
 * with stream, received_at, reason and the raw body ("body", or
 * "body_base64" when it is not valid UTF-8), fsync'd before returning.
 */
#ifndef AMPSTREAM_DEADLETTER_H
#define AMPSTREAM_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0, or -1 with the reason logged (the message must not be acked). */
int	deadletter_write(const char *state_dir, const char *stream,
	    const char *body, size_t len, const char *reason,
	    int64_t received_ms);

#endif
