/* clock.h: the two clocks the daemon reads. */
#ifndef AMPSTREAM_CLOCK_H
#define AMPSTREAM_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Wall clock (CLOCK_REALTIME), epoch milliseconds: event and record times. */
int64_t	clock_now_ms(void);
/* Monotonic seconds: ages, timeouts. */
time_t	clock_mono_s(void);
int64_t	clock_mono_ms(void);	/* monotonic */
/*
 * gmtime_r by arithmetic, for every record's timestamp: no lock, no time
 * zone state.  Any seconds of an int64 of milliseconds (years past 9999
 * and before 0 too).
 */
void	clock_gmtime(int64_t sec, struct tm *);

#endif
