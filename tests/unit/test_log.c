/* test_log.c: repeated log lines are summarised, state changes are not. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

static time_t	fake_now;

static time_t
fake_clock(void)
{
	return fake_now;
}

/* Run fn with stderr in a file; return what it wrote (malloc'd). */
static char *
capture(void (*fn)(void))
{
	char	 path[] = "/tmp/test_log.XXXXXX";
	char	*out;
	int	 fd, saved;
	ssize_t	 n;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	out = calloc(1, 65536);
	n = pread(fd, out, 65535, 0);
	ck_assert_int_ge(n, 0);
	close(fd);
	return out;
}

static int
count(const char *hay, const char *needle)
{
	int	 n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* A sink down for 5 minutes, retrying every 2 s, its state told twice. */
static void
down_five_minutes(void)
{
	int	 t;

	log_init(LOG_LEVEL_INFO);
	log_set_clock(fake_clock);
	fake_now = 1000;
	log_repeat_flush(1);
	log_state(LOG_LEVEL_WARN, "sink a: down");
	for (t = 0; t < 300; t += 2) {
		fake_now = 1000 + t;
		log_warnx("sink a: cannot connect to h:1: Connection refused");
		log_warnx("sink b: cannot connect to h:2: Connection refused");
		if (t % 10 == 0)
			log_repeat_flush(0);
		if (t == 100) {
			log_state(LOG_LEVEL_INFO, "sink a: up");
			log_state(LOG_LEVEL_WARN, "sink a: down");
		}
	}
	log_repeat_flush(1);
	log_set_clock(NULL);
}

START_TEST(test_repeats_bounded)
{
	char	*out = capture(down_five_minutes);
	int	 a, lines;

	/* Each object's first line comes at once; nothing of b hides a's. */
	ck_assert_ptr_nonnull(strstr(out, "warn: sink a: cannot connect"));
	ck_assert_ptr_nonnull(strstr(out, "warn: sink b: cannot connect"));
	a = count(out, "sink a: cannot connect");
	/* 150 attempts in 300 s: a line and a summary per minute at most. */
	ck_assert_int_le(a, 2 * (300 / LOG_REPEAT_SEC + 1));
	ck_assert_int_ge(a, 300 / LOG_REPEAT_SEC);
	ck_assert_ptr_nonnull(strstr(out, "warn: last message repeated 29 "
	    "times in the last 60 s: sink a: cannot connect to h:1"));
	/* State changes: every one, at once, in order. */
	ck_assert_int_eq(count(out, "sink a: down\n"), 2);
	ck_assert_int_eq(count(out, "sink a: up\n"), 1);
	ck_assert_ptr_nonnull(strstr(out, "sink a: up\nwarn: sink a: down\n"));
	lines = count(out, "\n");
	ck_assert_int_le(lines, 30);
	free(out);
}
END_TEST

static void
distinct_lines(void)
{
	log_init(LOG_LEVEL_INFO);
	log_set_clock(fake_clock);
	fake_now = 5000;
	log_repeat_flush(1);
	for (int i = 0; i < 200; i++)
		log_info("stream s: event %d", i);
	log_repeat_flush(1);
	log_set_clock(NULL);
}

START_TEST(test_distinct_all_written)
{
	char	*out = capture(distinct_lines);

	/* More texts than slots: nothing distinct is ever lost. */
	ck_assert_int_eq(count(out, "stream s: event "), 200);
	ck_assert_ptr_null(strstr(out, "repeated"));
	free(out);
}
END_TEST

Suite *
suite_log(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_repeats_bounded);
	tcase_add_test(tc, test_distinct_all_written);
	suite_add_tcase(s, tc);
	return s;
}
