/*
 * ratelimit.h: what an AMP REST API answer says about the rate limit.
 *
 * The servers send X-RateLimit-Limit/-Remaining/-Reset/-ResetDate; the
 * documentation spells them X-Rate-Limit-*.  Both count, names are matched
 * without regard to case, and Retry-After too (never seen from AMP, but
 * standard).  Reset is seconds until the window ends (a value that looks
 * like an epoch time counts as one); ResetDate is an absolute UTC time.
 */
#ifndef AMPSTREAM_RATELIMIT_H
#define AMPSTREAM_RATELIMIT_H

#include <stddef.h>
#include <time.h>

enum rl_field {
	RL_LIMIT,
	RL_REMAINING,
	RL_RESET,		/* seconds until the window resets */
	RL_RESETDATE,		/* absolute time of the reset (epoch) */
	RL_RETRYAFTER,		/* seconds */
	RL_NFIELDS
};

struct ratelimit {			/* what one response said */
	long long	 v[RL_NFIELDS];
	int		 has[RL_NFIELDS];
};

/* One header line as received ("Name: value\r\n"); "HTTP/..." starts anew. */
void		 ratelimit_line(struct ratelimit *, const char *line, size_t len);
/* Seconds until the window resets, from Reset or else ResetDate; -1: unknown. */
long long	 ratelimit_reset_in(const struct ratelimit *, time_t now);
/*
 * After a 429, the n-th in a row: Reset, else ResetDate, else Retry-After,
 * else 1, 2, 4 ... seconds up to max; at least 1.
 */
long long	 ratelimit_wait_429(const struct ratelimit *, time_t now, int n,
		    long long max);

#endif
