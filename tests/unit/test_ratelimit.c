/* test_ratelimit.c: the rate-limit headers of AMP answers, both spellings. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ratelimit.h"
#include "unit.h"

static void
lines(struct ratelimit *rl, const char *const *l)
{
	for (; *l != NULL; l++)
		ratelimit_line(rl, *l, strlen(*l));
}

/* As the servers send them (amp-api.md 5, observed), lower case too. */
START_TEST(test_observed)
{
	static const char *const l[] = { "HTTP/1.1 200 OK\r\n",
	    "x-ratelimit-limit: 3000\r\n", "X-RateLimit-Remaining: 2992\r\n",
	    "X-RateLimit-Reset: 2835\r\n",
	    "X-RateLimit-ResetDate: 2020-06-17T15:57:21Z\r\n", "\r\n", NULL };
	struct ratelimit rl;

	memset(&rl, 0xff, sizeof(rl));
	lines(&rl, l);
	ck_assert_int_eq(rl.has[RL_LIMIT], 1);
	ck_assert_int_eq(rl.v[RL_LIMIT], 3000);
	ck_assert_int_eq(rl.v[RL_REMAINING], 2992);
	ck_assert_int_eq(rl.v[RL_RESETDATE], 1592409441);
	ck_assert_int_eq(rl.has[RL_RETRYAFTER], 0);
	ck_assert_int_eq(ratelimit_reset_in(&rl, 1592400000), 2835);
}
END_TEST

/* As documented; Reset missing: ResetDate; an epoch-like Reset is a time. */
START_TEST(test_documented)
{
	static const char *const l[] = { "HTTP/2 429\r\n",
	    "X-Rate-Limit-Limit: 3000\r\n", "X-Rate-Limit-Remaining: 0\r\n",
	    "X-Rate-Limit-ResetDate: 2020-06-17T15:57:21Z\r\n", NULL };
	static const char *const e[] = { "HTTP/1.1 200 OK\r\n",
	    "X-Rate-Limit-Reset: 1592409441\r\n", "X-Rate-Limit-Remaining: x\r\n",
	    NULL };
	struct ratelimit rl;

	lines(&rl, l);
	ck_assert_int_eq(rl.v[RL_REMAINING], 0);
	ck_assert_int_eq(ratelimit_reset_in(&rl, 1592409400), 41);
	ck_assert_int_eq(ratelimit_reset_in(&rl, 1592409500), 0);
	ck_assert_int_eq(ratelimit_wait_429(&rl, 1592409400, 1, 60), 41);
	lines(&rl, e);
	ck_assert_int_eq(rl.has[RL_RESETDATE], 0);	/* a new answer */
	ck_assert_int_eq(rl.has[RL_REMAINING], 0);	/* not a count */
	ck_assert_int_eq(ratelimit_reset_in(&rl, 1592409431), 10);
}
END_TEST

/* Nothing known: Retry-After (seconds or a date), else back off 1, 2, 4... */
START_TEST(test_wait_429)
{
	static const char *const ra[] = { "HTTP/1.1 429\r\n",
	    "Retry-After: 7\r\n", NULL };
	static const char *const none[] = { "HTTP/1.1 429\r\n", NULL };
	struct ratelimit rl;
	char		 date[80], line[100];
	const char	*dl[] = { "HTTP/1.1 429\r\n", line, NULL };
	time_t		 t = time(NULL) + 100;

	lines(&rl, ra);
	ck_assert_int_eq(ratelimit_wait_429(&rl, 0, 5, 60), 7);
	lines(&rl, none);
	ck_assert_int_eq(ratelimit_wait_429(&rl, 0, 1, 60), 1);
	ck_assert_int_eq(ratelimit_wait_429(&rl, 0, 3, 60), 4);
	ck_assert_int_eq(ratelimit_wait_429(&rl, 0, 7, 60), 60);
	ck_assert_int_eq(ratelimit_wait_429(&rl, 0, 40, 60), 60);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&t));
	snprintf(line, sizeof(line), "Retry-After: %s\r\n", date);
	lines(&rl, dl);
	ck_assert_int_eq(rl.has[RL_RETRYAFTER], 1);
	ck_assert(rl.v[RL_RETRYAFTER] >= 98 && rl.v[RL_RETRYAFTER] <= 100);
}
END_TEST

Suite *
suite_ratelimit(void)
{
	Suite	*s = suite_create("ratelimit");
	TCase	*tc = tcase_create("headers");

	tcase_add_test(tc, test_observed);
	tcase_add_test(tc, test_documented);
	tcase_add_test(tc, test_wait_429);
	suite_add_tcase(s, tc);
	return s;
}
