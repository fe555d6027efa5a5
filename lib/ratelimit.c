/* ratelimit.c: the rate-limit headers of an AMP answer (see ratelimit.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "compat.h"
#include "ratelimit.h"

#define RL_EPOCH_MIN	1000000000LL	/* a Reset this large is a time */

static const struct {
	const char	*name;
	enum rl_field	 field;
} rl_headers[] = {
	{ "X-RateLimit-Limit",		RL_LIMIT },
	{ "X-Rate-Limit-Limit",		RL_LIMIT },
	{ "X-RateLimit-Remaining",	RL_REMAINING },
	{ "X-Rate-Limit-Remaining",	RL_REMAINING },
	{ "X-RateLimit-Reset",		RL_RESET },
	{ "X-Rate-Limit-Reset",		RL_RESET },
	{ "X-RateLimit-ResetDate",	RL_RESETDATE },
	{ "X-Rate-Limit-ResetDate",	RL_RESETDATE },
	{ "Retry-After",		RL_RETRYAFTER },
};

static void	rl_header(struct ratelimit *, const char *, const char *);
static int	rl_count(const char *, long long *);
static int	rl_date(const char *, enum rl_field, long long *);

void
ratelimit_line(struct ratelimit *rl, const char *line, size_t len)
{
	char		 name[64], value[128];
	const char	*colon;
	size_t		 nlen;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		memset(rl, 0, sizeof(*rl));	/* a new response */
		return;
	}
	if ((colon = memchr(line, ':', len)) == NULL)
		return;
	nlen = (size_t)(colon - line);
	if (nlen >= sizeof(name) || len - nlen - 1 >= sizeof(value))
		return;
	memcpy(name, line, nlen);
	name[nlen] = '\0';
	memcpy(value, colon + 1, len - nlen - 1);
	value[len - nlen - 1] = '\0';
	value[strcspn(value, "\r\n")] = '\0';
	rl_header(rl, name, value + strspn(value, " \t"));
}

static void
rl_header(struct ratelimit *rl, const char *name, const char *value)
{
	enum rl_field	 f;
	long long	 v;
	size_t		 i;

	for (i = 0; i < nitems(rl_headers); i++) {
		if (strcasecmp(name, rl_headers[i].name) != 0)
			continue;
		f = rl_headers[i].field;
		if (rl_count(value, &v) == 0 || rl_date(value, f, &v) == 0) {
			rl->v[f] = v;
			rl->has[f] = 1;
		}
		return;
	}
}

/* A non-negative decimal count (trailing blanks allowed). */
static int
rl_count(const char *s, long long *v)
{
	char	*end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	if (end == s || errno != 0 || *v < 0 || end[strspn(end, " \t")] != '\0')
		return -1;
	return 0;
}

/*
 * ResetDate: ISO 8601 UTC ("2020-06-17T15:57:21Z"), kept absolute;
 * Retry-After: an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"), made
 * relative.
 */
static int
rl_date(const char *s, enum rl_field f, long long *v)
{
	struct tm	 tm;
	time_t		 t, now = time(NULL);
	const char	*end;

	memset(&tm, 0, sizeof(tm));
	if (f == RL_RETRYAFTER) {
		if ((end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm)) ==
		    NULL || *end != '\0' || (t = timegm(&tm)) == -1)
			return -1;
		*v = t > now ? t - now : 0;
		return 0;
	}
	if (f != RL_RESETDATE)
		return -1;
	if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == -1)
		return -1;
	*v = t;
	return 0;
}

long long
ratelimit_reset_in(const struct ratelimit *rl, time_t now)
{
	if (rl->has[RL_RESET] && rl->v[RL_RESET] >= RL_EPOCH_MIN)
		return rl->v[RL_RESET] > now ? rl->v[RL_RESET] - now : 0;
	if (rl->has[RL_RESET])
		return rl->v[RL_RESET];
	if (rl->has[RL_RESETDATE])
		return rl->v[RL_RESETDATE] > now ? rl->v[RL_RESETDATE] - now : 0;
	return -1;
}

long long
ratelimit_wait_429(const struct ratelimit *rl, time_t now, int n,
    long long max)
{
	long long	 secs = ratelimit_reset_in(rl, now);

	if (secs < 0 && rl->has[RL_RETRYAFTER])
		secs = rl->v[RL_RETRYAFTER];
	if (secs < 0)
		secs = n >= 1 && n < 31 && (1LL << (n - 1)) < max ?
		    1LL << (n - 1) : max;
	return secs < 1 ? 1 : secs;
}
