/*
 * memsink.h: a test-only sink kind that keeps records in memory.  It
 * accepts, holds or refuses what is pending, as the test says, and can be
 * set down and up like a network sink.
 */
#ifndef AMPSTREAM_MEMSINK_H
#define AMPSTREAM_MEMSINK_H

#include <stdbool.h>
#include <stddef.h>

#include "sink_kind.h"

#define MEMSINK_MAX	256

enum memsink_mode {
	MEMSINK_ACCEPT,		/* take every pending record, SINK_OK */
	MEMSINK_HOLD,		/* take nothing */
	MEMSINK_REFUSE,		/* take every pending record, SINK_FATAL */
};

struct memsink {
	enum memsink_mode mode;
	bool		 up;
	char		*seen[MEMSINK_MAX];	/* taken, NUL-terminated copies */
	size_t		 nseen;
};

extern const struct sink_ops memsink_ops;

struct memsink	*memsink_of(struct sink *);
/* Up or down, as the kind would say it (a down sink spools, if it can). */
void		 memsink_set_up(struct sink *, bool);
/* Run the loop until nothing is active. */
void		 memsink_run(struct event_base *);

#endif
