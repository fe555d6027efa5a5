/*
 * backoff.h: reconnect delays that grow from min to max by a factor, with
 * +-25% jitter so many daemons do not reconnect in step.
 */
#ifndef AMPSTREAM_BACKOFF_H
#define AMPSTREAM_BACKOFF_H

struct timeval;

struct backoff {
	int	 min_ms;
	int	 max_ms;
	int	 growth_pct;	/* 150: each delay half again the last */
	int	 cur_ms;	/* 0: the next delay is min_ms */
};

#define BACKOFF_INIT(min, max, pct)	{ (min), (max), (pct), 0 }

/* The next delay, jittered, in ms (and in *tv when tv is not NULL). */
int	backoff_next(struct backoff *, struct timeval *tv);
/*
 * The same growth with full jitter: uniform in [min_ms / 10, cur], so a
 * thousand streams that lost one broker come back spread over the window.
 */
int	backoff_next_full(struct backoff *, struct timeval *tv);
/* A success: the next delay starts from min_ms again. */
void	backoff_reset(struct backoff *);

#endif
