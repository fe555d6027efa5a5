/* clock.c: see clock.h. */
#include <string.h>

#include "clock.h"

int64_t
clock_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

time_t
clock_mono_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int64_t
clock_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's civil_from_days). */
void
clock_gmtime(int64_t sec, struct tm *tm)
{
	int64_t	 days = sec / 86400, rem = sec % 86400;
	int64_t	 z, era, doe, yoe, doy, mp, y;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	z = days + 719468;		/* from 0000-03-01 */
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);	/* from March 1 */
	mp = (5 * doy + 2) / 153;
	y = yoe + era * 400 + (mp >= 10);
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = (int)(y - 1900);
	tm->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
	tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	tm->tm_yday = (int)(mp >= 10 ? doy - 306 : doy + 59 +
	    ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	tm->tm_wday = (int)(((days % 7) + 11) % 7);	/* 1970-01-01: Thu */
	tm->tm_hour = (int)(rem / 3600);
	tm->tm_min = (int)(rem / 60 % 60);
	tm->tm_sec = (int)(rem % 60);
	tm->tm_zone = "GMT";
}
