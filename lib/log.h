/* log.h: the one logging module, after OpenBSD's log.h. */
#ifndef AMPSTREAM_LOG_H
#define AMPSTREAM_LOG_H

#include <stdarg.h>
#include <time.h>
#include "compat.h"

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void	log_init(int level);
void	log_setlevel(int level);
int	log_getlevel(void);
void	log_warn(const char *, ...) printflike(1, 2);
void	log_warnx(const char *, ...) printflike(1, 2);
void	log_info(const char *, ...) printflike(1, 2);
void	log_debug(const char *, ...) printflike(1, 2);
/*
 * A state change (a sink up or down, a stream consuming): written at once,
 * whatever was written before; level is LOG_LEVEL_WARN or LOG_LEVEL_INFO.
 */
void	log_state(int level, const char *, ...) printflike(2, 3);
__dead void fatal(const char *, ...) printflike(1, 2);
__dead void fatalx(const char *, ...) printflike(1, 2);

/*
 * Repeats: a warn or info line whose text was written less than
 * LOG_REPEAT_SEC ago is counted instead of written; when its window ends,
 * one line says "last message repeated N times in the last 60 s: TEXT".
 * The text names its object (sink, stream), so one object's repeats never
 * hide another's.  log_repeat_flush() ends the windows that are over (the
 * daemon calls it every few seconds); all: end every window (exit).
 */
#define LOG_REPEAT_SEC		60
#define LOG_REPEAT_SLOTS	64	/* distinct texts followed at once */
void	log_repeat_flush(int all);
/* Tests: the clock the windows are measured with (NULL: monotonic). */
void	log_set_clock(time_t (*)(void));

#endif
