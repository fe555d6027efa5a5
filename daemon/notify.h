/*
 * notify.h: systemd notifications (sd_notify).  All calls are harmless
 * without systemd ($NOTIFY_SOCKET unset).
 */
#ifndef AMPSTREAM_NOTIFY_H
#define AMPSTREAM_NOTIFY_H

#include "compat.h"

struct event_base;

/* Start the WATCHDOG=1 timer if systemd asked for one. */
void	notify_init(struct event_base *);
void	notify_done(void);
void	notify_ready(void);
void	notify_reloading(void);
void	notify_stopping(void);
void	notify_status(const char *, ...) printflike(1, 2);

#endif
