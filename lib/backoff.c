/* backoff.c: growing, jittered reconnect delays (see backoff.h). */
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>

#include "backoff.h"

static void
backoff_grow(struct backoff *b)
{
	if (b->cur_ms == 0)
		b->cur_ms = b->min_ms;
	else
		b->cur_ms = (int)((long long)b->cur_ms * b->growth_pct / 100);
	if (b->cur_ms > b->max_ms)
		b->cur_ms = b->max_ms;
}

static int
backoff_tv(int ms, struct timeval *tv)
{
	if (tv != NULL) {
		tv->tv_sec = ms / 1000;
		tv->tv_usec = (ms % 1000) * 1000;
	}
	return ms;
}

int
backoff_next(struct backoff *b, struct timeval *tv)
{
	backoff_grow(b);
	return backoff_tv(b->cur_ms - b->cur_ms / 4 +
	    (int)arc4random_uniform((uint32_t)b->cur_ms / 2 + 1), tv);
}

int
backoff_next_full(struct backoff *b, struct timeval *tv)
{
	int	 lo;

	backoff_grow(b);
	lo = b->min_ms / 10;
	return backoff_tv(lo + (int)arc4random_uniform((uint32_t)(b->cur_ms -
	    lo) + 1), tv);
}

void
backoff_reset(struct backoff *b)
{
	b->cur_ms = 0;
}
