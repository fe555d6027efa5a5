#!/usr/bin/env python3
"""bench/e2e.py: the daemon end to end against the ceiling of this machine.

usage: e2e.py BUILD_DIR BROKER_DIR WORK_DIR      (bench/run.sh starts the broker)
env:   N (events per run, default 100000), ONLY="tcp-cef file-json ..." (some rows),
       PREFETCH (the streams' prefetch; default: the daemon's), REPEAT=K (each row K
       times, each right after its own ceiling: the medians are printed, with the
       range of the share and of the CPU figure; this machine drifts), PERF=FILE (the
       daemon runs under `perf record -o FILE $PERF_OPTS`, e.g. PERF_OPTS="--call-graph
       dwarf": its CPU figures are then perf's), CALLGRIND=1 (the daemon runs under
       valgrind's callgrind and each row also prints the instructions it ran per event,
       start and stop included: a count that does not drift with the machine's load, to
       compare two builds; use a small N, the daemon runs ~50x slower, the other figures
       of such a run mean nothing)

One private broker; for each row N fixture events (tests/fixtures/events/
all.jsonl, round robin) are queued first, then the consumer is started and
timed from the first record its receiver gets to the Nth:
  ceiling      bench/null_consumer (rabbitmq-c, prefetch 1000, an ack per 100)
  tcp-cef ...  ampstream (plain build, default prefetch), every safety on:
               acks after the sinks accepted, SIOCOUTQ on tcp, fsync on file
  tcp-cef+scrape-1hz, tcp-cef+100-scrapers
               tcp-cef with the metrics endpoint on and one client
               scraping /metrics every second, or 100 clients back to back
               (their Python threads share the machine's cores too)
Receivers: a discard TCP (or TLS) listener that counts records, or the file
sink's file.  Printed per row: msg/s, share of the ceiling, the daemon's CPU
per event (utime + stime from /proc over its whole run), its peak RSS; then
the idle latency of single events: publish -> receiver (tcp, file) and
publish -> basic.ack (through a relay that timestamps the daemon's acks).
Asserts nothing.
"""
import multiprocessing as mp
import os
import shutil
import signal
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.request

import pika

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests/fixtures/events/all.jsonl")
CLK = os.sysconf("SC_CLK_TCK")
MARK = {"cef": b"CEF:0|", "json": b'"ampstream":{'}


def env_file(path):
    out = {}
    for line in open(path):
        if "=" in line:
            k, v = line.strip().split("=", 1)
            out[k] = v.strip("'\"")
    return out


# --- receivers -------------------------------------------------------------

def discard(port_q, mark, n, times, tls):
    """Accept connections, count records by their marker: times[0] when the
    first came, [1] the Nth, [2] how many, [3] when the last came."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port_q.put(ls.getsockname()[1])
    ctx = None
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls + "/server.pem", tls + "/server.key")
    count = [0]
    lock = threading.Lock()

    def conn(c):
        if ctx:
            try:
                c = ctx.wrap_socket(c, server_side=True)
            except (ssl.SSLError, OSError):
                return
        tail = b""
        while True:
            try:
                b = c.recv(1 << 20)
            except OSError:
                return
            if not b:
                return
            buf = tail + b
            k = buf.count(mark) - tail.count(mark)
            tail = buf[-(len(mark) - 1):]
            if k:
                with lock:
                    if count[0] == 0:
                        times[0] = time.monotonic()
                    count[0] += k
                    times[2] = count[0]
                    times[3] = time.monotonic()
                    if count[0] >= n and times[1] == 0:
                        times[1] = time.monotonic()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=conn, args=(c,), daemon=True).start()


class Receiver:
    def __init__(self, fmt, n, tls=None):
        self.times = mp.Array("d", 4)
        q = mp.Queue()
        self.p = mp.Process(target=discard, args=(q, MARK[fmt], n, self.times, tls),
                            daemon=True)
        self.p.start()
        self.port = q.get(timeout=10)

    def done(self):
        return self.times[1] > 0

    def span(self):
        return self.times[0], self.times[1]

    def count(self):
        return int(self.times[2])

    def stop(self):
        self.p.terminate()
        self.p.join()


class FileWatch:
    """Count the lines of the file sink's file as they come."""
    def __init__(self, path, n):
        self.path, self.n = path, n
        self.first = self.last = self.changed = 0.0
        self.lines = 0
        self.stop_ = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        off = 0
        while not self.stop_:
            try:
                with open(self.path, "rb") as f:
                    f.seek(off)
                    b = f.read()
            except FileNotFoundError:
                b = b""
            if b:
                off += len(b)
                k = b.count(b"\n")
                if k and self.lines == 0:
                    self.first = time.monotonic()
                self.lines += k
                if k:
                    self.changed = time.monotonic()
                if self.lines >= self.n and not self.last:
                    self.last = time.monotonic()
            time.sleep(0.001)

    def done(self):
        return self.last > 0

    def span(self):
        return self.first, self.last

    def count(self):
        return self.lines

    def stop(self):
        self.stop_ = True
        self.t.join()


# --- broker ----------------------------------------------------------------

class Broker:
    def __init__(self, bdir):
        self.env = env_file(os.path.join(bdir, "broker.env"))
        self.port = int(self.env["BROKER_PORT"])
        self.user = self.env["BROKER_USER"]
        self.pwfile = self.env["BROKER_PASSWORD_FILE"]
        pw = open(self.pwfile).read().strip()
        self.params = pika.ConnectionParameters(
            "127.0.0.1", self.port, "/", pika.PlainCredentials(self.user, pw))

    def fill(self, queue, bodies, n):
        conn = pika.BlockingConnection(self.params)
        ch = conn.channel()
        ch.queue_declare(queue, durable=True)
        ch.queue_purge(queue)
        props = pika.BasicProperties(delivery_mode=1)	# transient: the broker, not its disk, is measured
        for i in range(n):
            ch.basic_publish("", queue, bodies[i % len(bodies)], props)
        ch.queue_declare(queue, durable=True, passive=True)
        conn.close()


# --- the daemon ------------------------------------------------------------

def config(w, br, queues, sinks, extra="", top=""):
    streams = ",\n".join(
        '{ name = "s%d"; url = "amqp://127.0.0.1:%d/"; user = "%s"; password_file = "%s"; '
        'queue = "%s"; %s }' % (i, br.port, br.user, br.pwfile, q, extra)
        for i, q in enumerate(queues))
    with open(w + "/api_key", "w") as f:
        f.write("not-a-real-api-key\n")
    os.chmod(w + "/api_key", 0o600)
    text = """state_dir = "%s/state";
log_level = "warn";
clouds = ( { name = "eu"; api_url = "https://api.eu.amp.cisco.com"; group_names = false;
    computer_details = false;
    client_id = "0123456789abcdef0123"; api_key_file = "%s/api_key"; } );
streams = ( %s );
sinks = ( %s );
%s
""" % (w, w, streams, ",\n".join(sinks), top)
    with open(w + "/ampstream.conf", "w") as f:
        f.write(text)
    os.chmod(w + "/ampstream.conf", 0o600)
    return w + "/ampstream.conf"


def proc_cpu(pid):
    """(user, system) CPU seconds of the process so far."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) / CLK, int(f[12]) / CLK


def proc_hwm(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_daemon(build, conf, log):
    pre = ["perf", "record", "-q", "-o", os.environ["PERF"]] + os.environ.get("PERF_OPTS", "").split() + ["--"] if os.environ.get("PERF") else []
    if os.environ.get("CALLGRIND"):
        pre = ["valgrind", "--tool=callgrind", "-q",
               "--callgrind-out-file=" + os.path.dirname(conf) + "/callgrind.out"]
    return subprocess.Popen(pre + [build + "/ampstream", "-f", "-c", conf],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def callgrind_total(w):
    """Instructions the daemon ran, from its callgrind file (CALLGRIND=1)."""
    with open(w + "/callgrind.out") as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    return 0


def stop_daemon(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(120 if os.environ.get("CALLGRIND") else 30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def wait(cond, limit):
    t = time.monotonic() + limit
    while not cond():
        if time.monotonic() > t:
            return False
        time.sleep(0.002)
    return True


# --- rows ------------------------------------------------------------------

def sink_tcp(name, port, fmt, tls=None):
    t = "tls" if tls else "tcp"
    ca = 'ca_file = "%s/ca.pem";' % tls if tls else ""
    return ('{ name = "%s"; type = "%s"; host = "%s"; port = %d; format = "%s"; '
            'syslog = "rfc5424"; framing = "octet"; %s }'
            % (name, t, "localhost" if tls else "127.0.0.1", port, fmt, ca))


def sink_file(name, path):
    return '{ name = "%s"; type = "file"; path = "%s"; format = "json"; }' % (name, path)


def scrape_loop(port, period, stop_ev, n):
    url = "http://127.0.0.1:%d/metrics" % port
    while not stop_ev.is_set():
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                r.read()
            with n.get_lock():
                n.value += 1
        except Exception:
            time.sleep(0.05)
        if period:
            stop_ev.wait(period)


def scrape_proc(port, clients, period, stop_ev, n):
    ts = [threading.Thread(target=scrape_loop, args=(port, period, stop_ev, n), daemon=True)
          for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


class Scraper:
    """GET /metrics from `clients` threads, each every `period` s (0: back to back).
    The threads live in a process of their own: in this one they would take the
    GIL from the receivers, which then count late."""

    def __init__(self, port, clients, period):
        self.stop_ev, self.n = mp.Event(), mp.Value("l", 0)
        self.p = mp.Process(target=scrape_proc, args=(port, clients, period, self.stop_ev,
                                                      self.n), daemon=True)
        self.p.start()

    def stop(self):
        self.stop_ev.set()
        self.p.join(10)
        return self.n.value


def run_daemon(build, br, w, bodies, n, nstreams, outs, scrape=None):
    """outs: [(sink text, watcher)]; scrape: (clients, period) with the metrics
    endpoint on; returns (rate, us/event, rss MiB, (user, system) us/event)."""
    os.makedirs(w + "/state", exist_ok=True)
    queues = ["q-%s-%d" % (os.path.basename(w), i) for i in range(nstreams)]
    for q in queues:
        br.fill(q, bodies, n // nstreams)
    extra = ("prefetch = %s;" % os.environ["PREFETCH"]) if os.environ.get("PREFETCH") else ""
    top, mport, sc = "", 0, None
    if scrape:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        mport = s.getsockname()[1]
        s.close()
        top = 'metrics = { listen = "127.0.0.1:%d"; max_clients = 128; };' % mport
    conf = config(w, br, queues, [s for s, _ in outs], extra, top)
    log = open(w + "/daemon.log", "w")
    p = start_daemon(build, conf, log)
    if scrape:
        wait(lambda: port_open(mport) or p.poll() is not None, 10)
        sc = Scraper(mport, *scrape)
    ok = wait(lambda: all(x.done() for _, x in outs) or p.poll() is not None, 600)
    if sc:
        print("  (%d scrapes)" % sc.stop())
    time.sleep(0.2)		# the last acks
    cpu = proc_cpu(p.pid) if p.poll() is None else (float("nan"), float("nan"))
    rss = proc_hwm(p.pid) if p.poll() is None else float("nan")
    stop_daemon(p)
    if not ok:
        print("  (timed out: %s)" % ", ".join(str(x.count()) for _, x in outs))
        return float("nan"), float("nan"), rss, (float("nan"), float("nan"))
    t0 = min(x.span()[0] for _, x in outs)
    t1 = max(x.span()[1] for _, x in outs)
    return ((n - 1) / (t1 - t0), sum(cpu) / n * 1e6, rss,
            (cpu[0] / n * 1e6, cpu[1] / n * 1e6))


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def row(name, ceiling, res):
    rate, us, rss, (user, system) = res
    print("  %-22s %9.0f msg/s  %5.2f of %6.0f  %6.2f us/event (user %.2f + sys %.2f)"
          "  RSS %5.1f MiB" % (name, rate, rate / ceiling if ceiling else 0, ceiling, us,
                               user, system, rss))


def row_median(name, runs):
    """runs: [(ceiling, run_daemon's result)], each row run right after its ceiling."""
    med = statistics.median
    share = [r[0] / c if c else 0 for c, r in runs]
    us = [r[1] for _, r in runs]
    print("  %-22s %9.0f msg/s  %5.2f of %6.0f  %6.2f us/event (user %.2f + sys %.2f)"
          "  RSS %5.1f MiB  (median of %d; share %.2f-%.2f, us %.2f-%.2f)" %
          (name, med([r[0] for _, r in runs]), med(share), med([c for c, _ in runs]),
           med(us), med([r[3][0] for _, r in runs]), med([r[3][1] for _, r in runs]),
           max(r[2] for _, r in runs), len(runs), min(share), max(share), min(us),
           max(us)))


def ceiling_row(build, br, w, bodies, n):
    os.makedirs(w, exist_ok=True)
    br.fill("q-ceiling", bodies, n)
    out = subprocess.run([build + "/bench/null_consumer", "127.0.0.1", str(br.port),
                          br.user, br.pwfile, "q-ceiling", str(n)],
                         capture_output=True, text=True, timeout=600).stdout.split()
    return float(out[0]), float(out[2])


# --- idle latency ----------------------------------------------------------

def relay(listen, target, acks):
    """A TCP relay to the broker that notes the time of each basic.ack the client sends."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    listen.append(ls.getsockname()[1])

    def pipe(a, b, parse):
        buf = b""
        while True:
            try:
                d = a.recv(65536)
            except OSError:
                d = b""
            if not d:
                b.close()
                return
            if parse:
                buf += d
                if buf.startswith(b"AMQP"):
                    buf = buf[8:]
                while len(buf) >= 7:
                    typ, _ch, size = struct.unpack(">BHI", buf[:7])
                    if len(buf) < size + 8:
                        break
                    if typ == 1 and buf[7:11] == b"\x00\x3c\x00\x50":
                        acks.append(time.monotonic())
                    buf = buf[size + 8:]
            b.sendall(d)

    while True:
        c, _ = ls.accept()
        s = socket.create_connection(("127.0.0.1", target))
        for x in (c, s):
            x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pipe, args=(c, s, True), daemon=True).start()
        threading.Thread(target=pipe, args=(s, c, False), daemon=True).start()


def latency(build, br, w, bodies):
    os.makedirs(w + "/state", exist_ok=True)
    acks, port = [], []
    threading.Thread(target=relay, args=(port, br.port, acks), daemon=True).start()
    while not port:
        time.sleep(0.01)
    rcv = Receiver("cef", 1 << 30)
    fw = FileWatch(w + "/events.jsonl", 1 << 30)

    class B:
        pass
    b = B()
    b.port, b.user, b.pwfile = port[0], br.user, br.pwfile
    conf = config(w, b, ["q-idle"], [sink_tcp("siem", rcv.port, "cef"),
                                     sink_file("archive", w + "/events.jsonl")])
    conn = pika.BlockingConnection(br.params)
    ch = conn.channel()
    ch.queue_declare("q-idle", durable=True)
    ch.queue_purge("q-idle")
    log = open(w + "/daemon.log", "w")
    p = start_daemon(build, conf, log)
    time.sleep(1.5)			# connected and idle
    lt, lf, la = [], [], []
    for i in range(20):
        nt, nf, na = rcv.count(), fw.count(), len(acks)
        t0 = time.monotonic()
        ch.basic_publish("", "q-idle", bodies[i % len(bodies)],
                         pika.BasicProperties(delivery_mode=2))
        if not wait(lambda: rcv.count() > nt and fw.count() > nf and len(acks) > na, 5):
            print("  (event %d: not seen everywhere in 5 s)" % i)
            continue
        lt.append(rcv.times[3] - t0)
        lf.append(fw.changed - t0)
        la.append(acks[na] - t0)
        time.sleep(0.2)
    stop_daemon(p)
    conn.close()
    rcv.stop()
    fw.stop()
    for name, v in (("publish -> tcp receiver", lt), ("publish -> file sink", lf),
                    ("publish -> basic.ack", la)):
        print("  %-24s p50 %6.1f ms  max %6.1f ms" %
              (name, statistics.median(v) * 1e3, max(v) * 1e3))


def main():
    build, bdir, work = sys.argv[1:4]
    n = int(os.environ.get("N", "100000"))
    only = os.environ.get("ONLY", "").split()
    repeat = max(1, int(os.environ.get("REPEAT", "1")))
    want = lambda r: not only or r in only
    bodies = [l for l in open(FIX, "rb").read().split(b"\n") if l.strip()]
    br = Broker(bdir)
    tls = os.path.join(work, "tls")
    subprocess.run(["sh", os.path.join(ROOT, "tests/lib/tlsca.sh"), tls], check=True)
    print("  %d events per row (the %d fixture events round robin), %d cores shared by broker, "
          "daemon and receiver" % (n, len(bodies), os.cpu_count()))
    ceil, ceil_us = ceiling_row(build, br, work + "/ceiling", bodies, n)
    print("  %-22s %9.0f msg/s  %14s  %6.2f us/msg (null consumer; measured again before"
          " each row, the share is of that)" % ("ceiling", ceil, "", ceil_us))

    def daemon_row(name, nstreams, mk, scrape=None):
        if not want(name):
            return
        w = os.path.join(work, name)
        runs = []
        for _ in range(repeat):
            shutil.rmtree(w, ignore_errors=True)
            os.makedirs(w)
            # The ceiling again right before: the machine's load drifts.
            c, _ = ceiling_row(build, br, work + "/ceiling", bodies, n)
            outs = mk(w)
            runs.append((c, run_daemon(build, br, w, bodies, n, nstreams, outs, scrape)))
            for _, x in outs:
                x.stop()
            if os.environ.get("CALLGRIND"):
                print("  %-22s %9.0f instructions per event (callgrind)" %
                      (name, callgrind_total(w) / n))
        if repeat == 1:
            row(name, *runs[0])
        else:
            row_median(name, runs)

    def tcp(fmt, tls_dir=None):
        r = Receiver(fmt, n, tls_dir)
        return (sink_tcp("siem", r.port, fmt, tls_dir), r)

    def fil(w):
        return (sink_file("archive", w + "/events.jsonl"), FileWatch(w + "/events.jsonl", n))

    daemon_row("tcp-cef", 1, lambda w: [tcp("cef")])
    daemon_row("tcp-json", 1, lambda w: [tcp("json")])
    daemon_row("file-json", 1, lambda w: [fil(w)])
    daemon_row("tcp-cef+file-json", 1, lambda w: [tcp("cef"), fil(w)])
    # The metrics endpoint's cost: compare with tcp-cef (scrapes reach the loop between frames).
    daemon_row("tcp-cef+scrape-1hz", 1, lambda w: [tcp("cef")], (1, 1.0))
    daemon_row("tcp-cef+100-scrapers", 1, lambda w: [tcp("cef")], (100, 0))
    daemon_row("tls-cef", 1, lambda w: [tcp("cef", tls)])
    daemon_row("4-streams-tcp-cef", 4, lambda w: [tcp("cef")])
    daemon_row("16-streams-tcp-cef", 16, lambda w: [tcp("cef")])
    if want("latency"):
        print("  idle latency, 20 single events (tcp CEF + file JSON sinks, through an ack relay):")
        shutil.rmtree(os.path.join(work, "latency"), ignore_errors=True)
        latency(build, br, os.path.join(work, "latency"), bodies)


if __name__ == "__main__":
    main()
