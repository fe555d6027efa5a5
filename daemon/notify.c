/*
 * notify.c: sd_notify for Type=notify.  The watchdog ping comes from a loop
 * timer, so it proves the event loop is turning, not merely that the
 * process exists.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

static struct event	*watchdog_ev;

static void	notify_watchdog_cb(int, short, void *);

void
notify_init(struct event_base *base)
{
	struct timeval	 tv;
	uint64_t	 usec;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	watchdog_ev = event_new(base, -1, EV_PERSIST, notify_watchdog_cb, NULL);
	event_add(watchdog_ev, &tv);
	log_debug("%s: watchdog every %llu us", __func__,
	    (unsigned long long)usec);
}

void
notify_done(void)
{
	if (watchdog_ev != NULL)
		event_free(watchdog_ev);
	watchdog_ev = NULL;
}

static void
notify_watchdog_cb(int fd __unused, short ev __unused, void *arg __unused)
{
	sd_notify(0, "WATCHDOG=1");
}

void
notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void
notify_reloading(void)
{
	sd_notify(0, "RELOADING=1");
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void
notify_status(const char *fmt, ...)
{
	char	 line[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", line);
}
