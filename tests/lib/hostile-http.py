#!/usr/bin/python3
"""Hostile clients for the metrics endpoint (tests/integration/metrics.sh).

usage: hostile-http.py PORT OUT

At once: 30 slowloris connections (a request line, then a byte every 0.5 s, never a complete
request), one request with 64 KiB of headers, 100 parallel scrapes of /metrics. Writes to OUT:
  oversized STATUS-LINE | closed
  scrapes 200=N 503=N other=N        (200: the body had the metrics; other: errors, timeouts)
  scrapes took S s                   (the endpoint's budget spreads them out)
  slowloris still open after 6 s: N  (after the server's timeout has passed)
"""
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

port, outpath = int(sys.argv[1]), sys.argv[2]
out = open(outpath, "w")

slow = []
for _ in range(30):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /metrics HTTP/1.1\r\n")
    slow.append(s)

big = socket.create_connection(("127.0.0.1", port))
try:
    big.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 65536 + b"\r\n\r\n")
except OSError:
    pass
big.settimeout(10)
try:
    resp = big.recv(100)
except OSError:
    resp = b""
out.write("oversized %s\n" % (resp.split(b"\r\n")[0].decode(errors="replace") or "closed"))
big.close()

codes = []
lock = threading.Lock()


def scrape():
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=20) as r:
            c = r.status if b"ampstream_stream_deliveries_total" in r.read() else -1
    except urllib.error.HTTPError as e:
        c = e.code
    except Exception:
        c = 0
    with lock:
        codes.append(c)


ts = [threading.Thread(target=scrape) for _ in range(100)]
t0 = time.monotonic()
for t in ts:
    t.start()
for t in ts:
    t.join()
out.write("scrapes 200=%d 503=%d other=%d\n" % (codes.count(200), codes.count(503),
          len(codes) - codes.count(200) - codes.count(503)))
out.write("scrapes took %.1f s\n" % (time.monotonic() - t0))

alive = 0
for _ in range(12):
    alive = 0
    for s in slow:
        try:
            s.sendall(b"X")
            alive += 1
        except OSError:
            pass
    time.sleep(0.5)
out.write("slowloris still open after 6 s: %d\n" % alive)
out.close()
