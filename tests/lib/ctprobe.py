#!/usr/bin/python3
"""Measure how long the broker takes to enforce consumer_timeout (RabbitMQ checks it
periodically, so the channel is closed some time after the configured value).

usage: ctprobe.py DIR QUEUE [MAX_S]
Declares QUEUE (durable), publishes one message, consumes it without acking and waits (at most
MAX_S seconds, default 60) for the broker to close the channel. Prints
  "closed after S s: REPLY" or "not closed within MAX_S s"
and removes the queue.
"""
import os
import sys
import time

import pika

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
amqp = __import__("amqp")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    d, q = argv[0], argv[1]
    max_s = float(argv[2]) if len(argv) > 2 else 60.0
    conn = pika.BlockingConnection(amqp.params(d))
    ch = conn.channel()
    ch.queue_declare(q, durable=True)
    ch.basic_publish("", q, b'{"id":0}', amqp.PROPS)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(time.monotonic()), auto_ack=False)
    t_end = time.monotonic() + max_s
    reply = None
    while time.monotonic() < t_end:
        try:
            conn.process_data_events(time_limit=0.1)
        except pika.exceptions.ChannelClosed as e:
            reply = "%s %s" % (e.reply_code, e.reply_text)
            break
        if not ch.is_open:
            reply = "channel closed"
            break
    now = time.monotonic()
    if reply is not None and got:
        print("closed after %.1f s: %s" % (now - got[0], reply))
    else:
        print("not closed within %.0f s" % max_s)
    try:
        ch2 = conn.channel()
        ch2.queue_delete(q)
        conn.close()
    except Exception:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
