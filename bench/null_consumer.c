/*
 * null_consumer.c: the ceiling for bench/e2e.sh.  A rabbitmq-c consumer
 * that does nothing with its messages: prefetch 1000, one `multiple` ack
 * per 100.  It drains COUNT messages from QUEUE and prints messages per
 * second and the CPU it used per message.
 *
 * usage: null_consumer HOST PORT USER PASSWORD_FILE QUEUE COUNT
 */
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#define PREFETCH	1000
#define ACK_EVERY	100

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
die(const char *what, amqp_rpc_reply_t r)
{
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		fprintf(stderr, "null_consumer: %s failed (%d)\n", what,
		    r.reply_type);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	amqp_connection_state_t	 c;
	amqp_socket_t		*s;
	amqp_envelope_t		 env;
	char			 pw[256];
	FILE			*f;
	long			 n, got = 0, unacked = 0;
	uint64_t		 last = 0;
	double			 t0 = 0, c0 = 0, t1, c1;

	if (argc != 7) {
		fprintf(stderr, "usage: null_consumer HOST PORT USER "
		    "PASSWORD_FILE QUEUE COUNT\n");
		return 2;
	}
	if ((f = fopen(argv[4], "r")) == NULL || fgets(pw, sizeof(pw), f) ==
	    NULL)
		return 1;
	fclose(f);
	pw[strcspn(pw, "\r\n")] = '\0';
	n = atol(argv[6]);
	c = amqp_new_connection();
	s = amqp_tcp_socket_new(c);
	if (amqp_socket_open(s, argv[1], atoi(argv[2])) != AMQP_STATUS_OK)
		return 1;
	die("login", amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
	    argv[3], pw));
	amqp_channel_open(c, 1);
	die("channel", amqp_get_rpc_reply(c));
	amqp_basic_qos(c, 1, 0, PREFETCH, 0);
	die("qos", amqp_get_rpc_reply(c));
	amqp_basic_consume(c, 1, amqp_cstring_bytes(argv[5]), amqp_empty_bytes,
	    0, 0, 0, amqp_empty_table);
	die("consume", amqp_get_rpc_reply(c));
	while (got < n) {
		amqp_maybe_release_buffers(c);
		die("consume_message", amqp_consume_message(c, &env, NULL, 0));
		if (got++ == 0) {
			t0 = now();
			c0 = cpu();
		}
		last = env.delivery_tag;
		amqp_destroy_envelope(&env);
		if (++unacked == ACK_EVERY) {
			amqp_basic_ack(c, 1, last, 1);
			unacked = 0;
		}
	}
	if (unacked > 0)
		amqp_basic_ack(c, 1, last, 1);
	t1 = now();
	c1 = cpu();
	printf("%.0f msg/s %.2f us/msg\n", (n - 1) / (t1 - t0),
	    (c1 - c0) / (n - 1) * 1e6);
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	return 0;
}
