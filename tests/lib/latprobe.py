#!/usr/bin/python3
"""Delivery latency of one stream, and peers that never answer, for tests/integration/streams.sh.

  latprobe.py sink PORTFILE OUT
      A TCP syslog receiver (octet-counted frames) on 127.0.0.1, its port written to PORTFILE.
      For every record it appends "ID ARRIVAL_MS" to OUT (ID: CEF externalId=, exact digits).
      Runs until killed.
  latprobe.py publish DIR QUEUE N RATE START OUT
      Publish N synthetic events (amqp.py seq, ids START..) at RATE per second, one by one, each
      confirmed; appends "ID PUBLISH_MS" to OUT (the time just before basic.publish).
  latprobe.py report PUBLISHED RECEIVED [IDS_FROM]
      Print "N received of M, p50 X ms, p99 Y ms, max Z ms" (publish -> arrival) and exit 1 if
      any published id never arrived. With IDS_FROM, only ids >= IDS_FROM count.
  latprobe.py silent PORTFILE
      A listener on 127.0.0.1 that accepts TCP connections and never sends a byte (a broker that
      does not speak AMQP, or TLS stalled after the ClientHello). Runs until killed.
"""
import os
import re
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

EXT_ID = re.compile(rb"externalId=(\d+)")


def now_ms():
    return int(time.time() * 1000)


def listen(portfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(tmp, portfile)
    return s


def sink_conn(c, out):
    buf = b""
    while True:
        data = c.recv(65536)
        if not data:
            return
        t = now_ms()
        buf += data
        lines = []
        while True:
            sp = buf.find(b" ")
            if sp <= 0 or not buf[:sp].isdigit():
                break
            n = int(buf[:sp])
            if len(buf) < sp + 1 + n:
                break
            rec = buf[sp + 1:sp + 1 + n]
            buf = buf[sp + 1 + n:]
            m = EXT_ID.search(rec)
            lines.append("%s %d\n" % (m.group(1).decode() if m else "-", t))
        if lines:
            with open(out, "a") as f:
                f.write("".join(lines))


def sink(portfile, out):
    s = listen(portfile)
    while True:
        c, _ = s.accept()
        threading.Thread(target=sink_conn, args=(c, out), daemon=True).start()


def silent(portfile):
    s = listen(portfile)
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)          # never read, never written, never closed


def publish(d, queue, n, rate, start, out):
    import pika
    import amqp
    conn = pika.BlockingConnection(amqp.params(d))
    ch = conn.channel()
    ch.confirm_delivery()
    gap = 1.0 / rate
    t_next = time.monotonic()
    with open(out, "a") as f:
        for i in range(start, start + n):
            delay = t_next - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t_next += gap
            f.write("%d %d\n" % (i, now_ms()))
            f.flush()
            ch.basic_publish("", queue, amqp.seq_event(i), amqp.PROPS, mandatory=True)
    conn.close()


def read_pairs(path):
    d = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                if k and k != "-" and k not in d:
                    d[k] = int(v)
    except FileNotFoundError:
        pass
    return d


def report(published, received, ids_from=None):
    pub = read_pairs(published)
    rec = read_pairs(received)
    if ids_from is not None:
        pub = {k: v for k, v in pub.items() if int(k) >= ids_from}
    lat = sorted(rec[k] - pub[k] for k in pub if k in rec)
    missing = len(pub) - len(lat)
    if not lat:
        print("0 received of %d" % len(pub))
        return 1
    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p / 100))]
    print("%d received of %d, p50 %d ms, p99 %d ms, max %d ms"
          % (len(lat), len(pub), pct(50), pct(99), lat[-1]))
    return 1 if missing else 0


def main(a):
    if len(a) >= 3 and a[0] == "sink":
        sink(a[1], a[2])
    elif len(a) >= 2 and a[0] == "silent":
        silent(a[1])
    elif len(a) >= 7 and a[0] == "publish":
        publish(a[1], a[2], int(a[3]), float(a[4]), int(a[5]), a[6])
    elif len(a) >= 3 and a[0] == "report":
        sys.exit(report(a[1], a[2], int(a[3]) if len(a) > 3 else None))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
