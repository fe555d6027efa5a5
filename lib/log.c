/*
 * log.c: one line per message to stderr.  When stderr is the journal
 * ($JOURNAL_STREAM matches), each line gets an sd-daemon "<N>" priority prefix
 * so journald files it at the right level.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "log.h"

/* One text being followed for repeats. */
struct repeat {
	uint64_t	 hash;		/* 0: free */
	time_t		 since;		/* the window's start */
	unsigned long	 count;		/* suppressed in this window */
	int		 level;
	char		 text[256];	/* for the summary, cut */
};

static int	log_level = LOG_LEVEL_INFO;
static int	log_journal;
static struct repeat log_repeats[LOG_REPEAT_SLOTS];
static time_t	(*log_clock)(void) = clock_mono_s;

static int	stderr_is_journal(void);
static void	vlog(int, const char *, const char *, va_list);
static void	vlog_state(int, const char *, va_list);
static void	log_write(int, const char *, const char *);
static int	log_repeated(int, const char *);
static void	log_repeat_end(struct repeat *, time_t);

void
log_init(int level)
{
	log_level = level;
	log_journal = stderr_is_journal();
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

/* True when fd 2 is the stream systemd named in $JOURNAL_STREAM ("dev:ino"). */
static int
stderr_is_journal(void)
{
	const char	*js = getenv("JOURNAL_STREAM");
	unsigned long	 dev, ino;
	struct stat	 st;

	if (js == NULL || sscanf(js, "%lu:%lu", &dev, &ino) != 2)
		return 0;
	if (fstat(2, &st) == -1)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

static const char *const log_prefix[] = { "fatal: ", "warn: ", "", "debug: " };

static void
log_write(int level, const char *prefix, const char *msg)
{
	static const int sdprio[] = { 3, 4, 6, 7 };

	if (log_journal)
		fprintf(stderr, "<%d>%s%s\n", sdprio[level], prefix, msg);
	else
		fprintf(stderr, "%s%s\n", prefix, msg);
	fflush(stderr);
}

static void
vlog(int level, const char *prefix, const char *fmt, va_list ap)
{
	int	 saved_errno = errno;
	char	 msg[2048];

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if ((level != LOG_LEVEL_WARN && level != LOG_LEVEL_INFO) ||
	    !log_repeated(level, msg))
		log_write(level, prefix, msg);
	errno = saved_errno;
}

static void
vlog_state(int level, const char *fmt, va_list ap)
{
	int	 saved_errno = errno;
	char	 msg[2048];

	if (level != LOG_LEVEL_WARN)
		level = LOG_LEVEL_INFO;
	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_write(level, log_prefix[level], msg);
	errno = saved_errno;
}

/* FNV-1a; 0 is kept for a free slot. */
static uint64_t
log_hash(const char *s)
{
	uint64_t	 h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h == 0 ? 1 : h;
}

/*
 * True when msg was written less than LOG_REPEAT_SEC ago (counted, not to
 * be written); else it is followed from now on.  A full table gives up the
 * oldest window early.
 */
static int
log_repeated(int level, const char *msg)
{
	struct repeat	*r, *slot = NULL;
	uint64_t	 h = log_hash(msg);
	time_t		 now = log_clock();
	size_t		 i;

	log_repeat_flush(0);
	for (i = 0; i < LOG_REPEAT_SLOTS; i++) {
		r = &log_repeats[i];
		if (r->hash == h && strncmp(r->text, msg,
		    sizeof(r->text) - 1) == 0) {
			r->count++;
			return 1;
		}
		if (slot == NULL || (slot->hash != 0 && (r->hash == 0 ||
		    r->since < slot->since)))
			slot = r;
	}
	if (slot->hash != 0)
		log_repeat_end(slot, now);
	slot->hash = h;
	slot->since = now;
	slot->count = 0;
	slot->level = level;
	compat_strlcpy(slot->text, msg, sizeof(slot->text));
	return 0;
}

/* The window of r is over: say how often it repeated, forget it. */
static void
log_repeat_end(struct repeat *r, time_t now)
{
	char	 msg[2048];

	if (r->count > 0) {
		snprintf(msg, sizeof(msg), "last message repeated %lu times "
		    "in the last %lld s: %s", r->count,
		    (long long)(now - r->since), r->text);
		log_write(r->level, log_prefix[r->level], msg);
	}
	r->hash = 0;
	r->count = 0;
}

void
log_repeat_flush(int all)
{
	time_t	 now = log_clock();
	size_t	 i;

	for (i = 0; i < LOG_REPEAT_SLOTS; i++)
		if (log_repeats[i].hash != 0 && (all ||
		    now - log_repeats[i].since >= LOG_REPEAT_SEC))
			log_repeat_end(&log_repeats[i], now);
}

void
log_set_clock(time_t (*fn)(void))
{
	log_clock = fn != NULL ? fn : clock_mono_s;
}

void
log_state(int level, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_state(level, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	char	 buf[1024];
	int	 saved_errno = errno;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", buf, strerror(saved_errno));
	errno = saved_errno;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, "warn: ", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, "", fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, "debug: ", fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	char	 buf[1024];
	int	 saved_errno = errno;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fatalx("%s: %s", buf, strerror(saved_errno));
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, "fatal: ", fmt, ap);
	va_end(ap);
	exit(2);
}
