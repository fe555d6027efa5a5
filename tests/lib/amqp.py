#!/usr/bin/python3
"""AMQP helper for the test harness (pika 1.2, Debian's python3-pika; run with /usr/bin/python3).

DIR is a broker directory made by tests/lib/broker.sh (its broker.env and password file are read).

  amqp.py declare DIR QUEUE                 declare a durable queue
  amqp.py publish DIR QUEUE FILE [--raw]    each non-empty line of FILE (.jsonl) is one message;
                                            --raw: the whole file's bytes are one message
  amqp.py publish-body DIR QUEUE BODY...    each argument is one message (its bytes as given,
                                            so invalid UTF-8 from the shell passes through)
  amqp.py seq DIR QUEUE N [--start K]       N synthetic "Threat Detected" events, ids K..K+N-1
                                            (default K=1)
  amqp.py count DIR QUEUE                   print "READY UNACKED" (rabbitmqctl list_queues)
  amqp.py get-all DIR QUEUE [--keep]        take every ready message (basic.get) and print the
                                            bodies one per line; --keep: requeue them afterwards
                                            (messages unacked by another consumer are not touched)
  amqp.py ids DIR QUEUE                     like get-all --keep, but print only each body's
                                            top-level "id" (exact digits) or "-" if none

Publishing looks like the real AMP event stream: default exchange "", routing key = queue,
content_type application/octet-stream, delivery_mode 2 (persistent), publisher confirms on.
Publishing is asynchronous with a window of unconfirmed messages, so it is fast; the command
exits only when the broker has confirmed every message (exit 1 on a nack or a return).
"""
import json
import os
import re
import shlex
import subprocess
import sys
import time

import pika

HERE = os.path.dirname(os.path.abspath(__file__))
WINDOW = 1000  # unconfirmed messages in flight


def broker_env(d):
    env = {}
    with open(os.path.join(d, "broker.env")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            vals = shlex.split(v)
            env[k] = vals[0] if vals else ""
    return env


def params(d):
    env = broker_env(d)
    with open(env["BROKER_PASSWORD_FILE"]) as f:
        pw = f.read().strip()
    return pika.ConnectionParameters(
        host=env["BROKER_HOST"], port=int(env["BROKER_PORT"]), virtual_host="/",
        credentials=pika.PlainCredentials(env["BROKER_USER"], pw),
        connection_attempts=3, retry_delay=1, blocked_connection_timeout=60,
        heartbeat=60)


PROPS = pika.BasicProperties(content_type="application/octet-stream", delivery_mode=2)


class Publisher:
    """Publish a list of bodies with confirms over a SelectConnection (async, windowed)."""

    def __init__(self, prm, queue, bodies):
        self.prm, self.queue, self.bodies = prm, queue, bodies
        self.next = 0            # index of the next body to publish
        self.tag = 0             # delivery tag of the last published message
        self.confirmed = 0       # highest confirmed tag (acks are cumulative with multiple)
        self.outstanding = set()
        self.error = None
        self.ch = None
        self.conn = None

    def run(self):
        self.conn = pika.SelectConnection(
            self.prm, on_open_callback=self.on_open,
            on_open_error_callback=self.on_open_error,
            on_close_callback=self.on_conn_closed)
        self.conn.ioloop.start()
        if self.error:
            sys.exit("amqp.py: publish failed: %s" % self.error)
        if self.outstanding or self.next < len(self.bodies):
            sys.exit("amqp.py: publish incomplete: %d of %d confirmed"
                     % (self.next - len(self.outstanding), len(self.bodies)))

    def on_open(self, conn):
        conn.channel(on_open_callback=self.on_channel)

    def on_open_error(self, conn, err):
        self.error = "connect: %r" % (err,)
        conn.ioloop.stop()

    def on_conn_closed(self, conn, reason):
        if self.outstanding or self.next < len(self.bodies):
            self.error = self.error or "connection closed: %r" % (reason,)
        conn.ioloop.stop()

    def on_channel(self, ch):
        self.ch = ch
        ch.add_on_return_callback(self.on_return)
        ch.add_on_close_callback(self.on_ch_closed)
        ch.confirm_delivery(ack_nack_callback=self.on_confirm,
                            callback=lambda _f: self.pump())

    def on_ch_closed(self, ch, reason):
        if self.outstanding or self.next < len(self.bodies):
            self.error = self.error or "channel closed: %r" % (reason,)
        self.conn.close()

    def on_return(self, ch, method, props, body):
        self.error = "message returned: %s" % method.reply_text

    def on_confirm(self, frame):
        m = frame.method
        kind = type(m).__name__
        if kind == "Nack":
            self.error = "broker nacked delivery tag %d" % m.delivery_tag
        if m.multiple:
            done = {t for t in self.outstanding if t <= m.delivery_tag}
        else:
            done = {m.delivery_tag}
        self.outstanding -= done
        self.pump()

    def pump(self):
        if self.error:
            self.conn.close()
            return
        while self.next < len(self.bodies) and len(self.outstanding) < WINDOW:
            self.ch.basic_publish("", self.queue, self.bodies[self.next], PROPS, mandatory=True)
            self.next += 1
            self.tag += 1
            self.outstanding.add(self.tag)
        if self.next == len(self.bodies) and not self.outstanding:
            self.conn.close()


def publish(d, queue, bodies):
    t0 = time.monotonic()
    Publisher(params(d), queue, bodies).run()
    dt = time.monotonic() - t0
    print("published %d message(s) to %s in %.2f s" % (len(bodies), queue, dt), file=sys.stderr)


def seq_event(n):
    """A synthetic event shaped like a real "Threat Detected" (fixture threat_detected_1.json)."""
    ts = 1700000000 + n
    return json.dumps({
        "id": n, "timestamp": ts, "timestamp_nanoseconds": 0,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ts)),
        "event_type": "Threat Detected", "event_type_id": 1090519054,
        "detection": "W32.Seq.Test", "detection_id": str(7000000000000000000 + n),
        "connector_guid": "seq_connector_guid", "group_guids": ["seq_group_guid"],
        "severity": "Medium",
        "computer": {"connector_guid": "seq_connector_guid", "hostname": "seq-host-%d" % (n % 97),
                     "external_ip": "81.2.69.144", "active": True,
                     "network_addresses": [{"ip": "10.0.0.%d" % (n % 250 + 1),
                                            "mac": "24:78:d8:fd:c4:75"}]},
        "file": {"disposition": "Malicious", "file_name": "seq-%d.exe" % n,
                 "file_path": "C:\\Users\\seq\\seq-%d.exe" % n,
                 "identity": {"sha256": "%064x" % n}},
    }, separators=(",", ":")).encode()


def count(d, queue):
    out = subprocess.run(
        ["sh", os.path.join(HERE, "broker.sh"), "ctl", d, "list_queues", "--quiet",
         "--no-table-headers", "name", "messages_ready", "messages_unacknowledged"],
        check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[0] == queue:
            return "%s %s" % (f[1], f[2])
    sys.exit("amqp.py: queue %s not found" % queue)


def get_all(d, queue, keep):
    conn = pika.BlockingConnection(params(d))
    ch = conn.channel()
    bodies = []
    last = None
    while True:
        m, _p, body = ch.basic_get(queue, auto_ack=False)
        if m is None:
            break
        bodies.append(body)
        last = m.delivery_tag
    if last is not None:
        if keep:
            ch.basic_nack(last, multiple=True, requeue=True)
        else:
            ch.basic_ack(last, multiple=True)
    conn.close()
    return bodies


ID_RE = re.compile(rb'^\s*\{.*?"id"\s*:\s*(-?[0-9]+)')


def body_id(body):
    try:
        obj = json.loads(body, parse_int=str)
    except ValueError:
        return "-"
    if isinstance(obj, dict) and isinstance(obj.get("id"), str) and obj["id"].lstrip("-").isdigit():
        return obj["id"]
    return "-"


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, d, queue = argv[0], argv[1], argv[2]
    rest = argv[3:]
    if cmd == "declare":
        conn = pika.BlockingConnection(params(d))
        conn.channel().queue_declare(queue, durable=True)
        conn.close()
    elif cmd == "publish":
        raw = "--raw" in rest
        files = [a for a in rest if a != "--raw"]
        if len(files) != 1:
            sys.exit("usage: publish DIR QUEUE FILE [--raw]")
        with open(files[0], "rb") as f:
            data = f.read()
        bodies = [data] if raw else [l for l in data.split(b"\n") if l.strip()]
        publish(d, queue, bodies)
    elif cmd == "publish-body":
        publish(d, queue, [os.fsencode(a) for a in rest])
    elif cmd == "seq":
        start = 1
        if "--start" in rest:
            i = rest.index("--start")
            start = int(rest[i + 1])
            rest = rest[:i] + rest[i + 2:]
        n = int(rest[0])
        publish(d, queue, [seq_event(k) for k in range(start, start + n)])
    elif cmd == "count":
        print(count(d, queue))
    elif cmd in ("get-all", "ids"):
        bodies = get_all(d, queue, keep=("--keep" in rest or cmd == "ids"))
        out = sys.stdout.buffer
        for b in bodies:
            out.write((body_id(b).encode() if cmd == "ids" else b) + b"\n")
        out.flush()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
