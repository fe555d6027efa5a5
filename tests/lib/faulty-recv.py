#!/usr/bin/python3
"""A fault-injecting TCP syslog receiver for the fault-injection suite (in the spirit of rsyslog's
tests/minitcpsrvr.c: -D drop the connection after n reads, -B max drops, -a reopen the listener).

usage: faulty-recv.py DIR [options]
  --addr A          listen address (default 127.0.0.1; an address inside a test netns works too)
  --port P          port (default 0: pick one; the port is written to DIR/port)
  --drop MIN:MAX    after a random MIN..MAX complete frames on a connection, drop it (see below)
  --reopen S        when dropping, also close the listener and reopen it S seconds later
                    (the sender's reconnect is refused meanwhile), like minitcpsrvr -a
  --rate R          read at most about R frames per second (a slow receiver)
  --rcvbuf B        SO_RCVBUF of the listener (inherited by connections; with --rate, keeps the
                    backlog in the sender instead of in this kernel's receive queue)
  --seed S          random seed (default: from the pid)

Framing: RFC 6587 octet counting ("LEN SP MSG"); a frame that does not start with digits and a
space is a framing error: the rest of that connection's bytes are dropped and "!framing" is
written to the ids file (the checker counts it as a bad record).

Output, all in DIR: `ids` one line per complete frame: the CEF externalId (digits), or
"!no-externalId"; flushed after every read, so the file is current within one read. `pid`,
`port`, `log` (connections, drops, totals).

Dropping a connection (and stopping) is an abortive close that loses nothing the receiver's TCP
acknowledged: shutdown(SHUT_RDWR) first, after which Linux answers any new data with a reset
instead of acknowledging it (RFC 1122; net/ipv4/tcp_input.c, TCPAbortOnData), then the frames
already queued are read and recorded, then close(). A plain close() with unread data would
throw away bytes the kernel had acknowledged - a loss no plain-TCP sender can detect or repair
(the reason rsyslog's omfwd tests allow losses) - so that is not what this receiver models.
  SIGTERM  stop: drop every connection as above, exit 0
  SIGUSR1  the same, but the close sends a reset at once (SO_LINGER 0): for a receiver killed
           during a partition
"""
import os
import random
import re
import selectors
import signal
import socket
import struct
import sys
import time

EXT_RE = re.compile(rb"(?:^|[ |])externalId=([0-9]+)")


def main(argv):
    if not argv or argv[0].startswith("-"):
        sys.exit(__doc__)
    d = argv[0]
    opts = {"--addr": "127.0.0.1", "--port": "0", "--drop": None, "--reopen": None,
            "--rate": None, "--rcvbuf": None, "--seed": None}
    i = 1
    while i < len(argv):
        if argv[i] not in opts or i + 1 >= len(argv):
            sys.exit("faulty-recv.py: bad option %s\n%s" % (argv[i], __doc__))
        opts[argv[i]] = argv[i + 1]
        i += 2
    Receiver(d, opts).run()


class Conn:
    def __init__(self, sock, peer, limit):
        self.sock = sock
        self.peer = peer
        self.buf = bytearray()
        self.frames = 0
        self.limit = limit          # drop after this many frames (None: never)
        self.bad = False


class Receiver:
    def __init__(self, d, o):
        self.d = d
        os.makedirs(d, exist_ok=True)
        self.addr = o["--addr"]
        self.port = int(o["--port"])
        self.droprange = None
        if o["--drop"]:
            lo, hi = o["--drop"].split(":")
            self.droprange = (int(lo), int(hi))
        self.reopen = float(o["--reopen"]) if o["--reopen"] else None
        self.rate = float(o["--rate"]) if o["--rate"] else None
        self.rcvbuf = int(o["--rcvbuf"]) if o["--rcvbuf"] else None
        self.rnd = random.Random(int(o["--seed"]) if o["--seed"] else os.getpid())
        self.sel = selectors.DefaultSelector()
        self.lsock = None
        self.reopen_at = None
        self.conns = {}
        self.ids = open(os.path.join(d, "ids"), "ab", buffering=0)
        self.logf = open(os.path.join(d, "log"), "a", buffering=1)
        self.total = 0
        self.drops = 0
        self.stopping = None
        self.dying = False
        self.tokens = 0.0
        self.tlast = time.monotonic()

    def log(self, msg):
        self.logf.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))

    def listen(self):
        s = socket.socket(socket.AF_INET6 if ":" in self.addr else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        s.bind((self.addr, self.port))
        s.listen(64)
        s.setblocking(False)
        self.port = s.getsockname()[1]
        self.lsock = s
        self.sel.register(s, selectors.EVENT_READ, None)

    def unlisten(self):
        if self.lsock is not None:
            self.sel.unregister(self.lsock)
            self.lsock.close()
            self.lsock = None

    def run(self):
        self.listen()
        with open(os.path.join(self.d, "port.tmp"), "w") as f:
            f.write("%d\n" % self.port)
        os.rename(os.path.join(self.d, "port.tmp"), os.path.join(self.d, "port"))
        with open(os.path.join(self.d, "pid"), "w") as f:
            f.write("%d\n" % os.getpid())
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGUSR1, lambda *_: self.die())
        self.log("listening on %s:%d drop=%s reopen=%s rate=%s" %
                 (self.addr, self.port, self.droprange, self.reopen, self.rate))
        while True:
            if self.dying:
                self.finish_die()
                return
            if self.stopping is not None:
                break
            now = time.monotonic()
            if self.reopen_at is not None and now >= self.reopen_at:
                self.reopen_at = None
                try:
                    self.listen()
                    self.log("listener reopened")
                except OSError as e:
                    self.log("reopen failed: %s; retrying" % e)
                    self.reopen_at = now + 0.1
            timeout = 0.2
            if self.rate is not None:
                self.refill()
                if self.tokens < 1:
                    # throttled: do not read, so the sender's window closes
                    time.sleep(min(0.05, (1 - self.tokens) / self.rate))
                    self.check_accept_only()
                    continue
            try:
                events = self.sel.select(timeout)
            except InterruptedError:
                continue
            for key, _ in events:
                if key.data is None:
                    self.accept()
                else:
                    self.readable(key.data)
        for c in list(self.conns.values()):
            self.drop(c)
        self.unlisten()
        self.log("stopped: %d frames, %d drops" % (self.total, self.drops))

    def refill(self):
        now = time.monotonic()
        self.tokens = min(self.rate * 0.1 + 1, self.tokens + (now - self.tlast) * self.rate)
        self.tlast = now

    def check_accept_only(self):
        if self.lsock is None:
            return
        for key, _ in self.sel.select(0):
            if key.data is None:
                self.accept()

    def accept(self):
        try:
            s, peer = self.lsock.accept()
        except OSError:
            return
        if self.stopping is not None:
            s.close()
            return
        s.setblocking(False)
        limit = self.rnd.randint(*self.droprange) if self.droprange else None
        c = Conn(s, "%s:%d" % peer[:2], limit)
        self.conns[s.fileno()] = c
        self.sel.register(s, selectors.EVENT_READ, c)
        self.log("%s: connected%s" % (c.peer, " (drop after %d frames)" % limit if limit else ""))

    def readable(self, c):
        want = 65536
        if self.rate is not None:
            want = 4096
        try:
            data = c.sock.recv(want)
        except BlockingIOError:
            return
        except OSError as e:
            self.log("%s: recv: %s" % (c.peer, e))
            self.close(c, abort=True)
            return
        if not data:
            if c.buf:
                self.log("%s: EOF with %d bytes of an incomplete frame (not recorded)" %
                         (c.peer, len(c.buf)))
            self.log("%s: EOF after %d frames" % (c.peer, c.frames))
            self.close(c)
            return
        n = self.parse(c, data)
        if self.rate is not None:
            self.tokens -= n
        if c.limit is not None and c.frames >= c.limit and self.stopping is None:
            self.drops += 1
            self.log("%s: dropping after %d frames (drop %d)" % (c.peer, c.frames, self.drops))
            self.drop(c)
            if self.reopen is not None and self.lsock is not None:
                self.unlisten()
                self.reopen_at = time.monotonic() + self.reopen

    def parse(self, c, data):
        if c.bad:
            return 0
        c.buf += data
        out = []
        pos = 0
        b = c.buf
        while True:
            sp = b.find(b" ", pos, pos + 12)
            if sp < 0:
                if len(b) - pos >= 12 or (len(b) > pos and not b[pos:].isdigit()):
                    c.bad = True
                break
            lenstr = bytes(b[pos:sp])
            if not lenstr.isdigit():
                c.bad = True
                break
            ln = int(lenstr)
            if sp + 1 + ln > len(b):
                break
            msg = bytes(b[sp + 1:sp + 1 + ln])
            m = EXT_RE.search(msg)
            out.append(m.group(1) if m else b"!no-externalId")
            pos = sp + 1 + ln
        if c.bad:
            self.log("%s: framing error at %r" % (c.peer, bytes(b[pos:pos + 40])))
            out.append(b"!framing")
            del c.buf[:]
        else:
            del c.buf[:pos]
        if out:
            self.ids.write(b"\n".join(out) + b"\n")
        n = len(out) - (1 if c.bad else 0)
        c.frames += n
        self.total += n
        return n

    def drop(self, c, abort=False):
        """shutdown(SHUT_RDWR): new data is answered with a reset, not acknowledged; then record
        what was already queued, then close."""
        try:
            c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        n = c.frames
        while True:
            try:
                data = c.sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            self.parse(c, data)
        if c.buf and not c.bad:
            self.log("%s: %d bytes of an incomplete frame at the drop (not recorded)" %
                     (c.peer, len(c.buf)))
        self.log("%s: closed after %d frames (%d read after the shutdown)" %
                 (c.peer, c.frames, c.frames - n))
        self.close(c, abort)

    def close(self, c, abort=False):
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        self.conns.pop(c.sock.fileno(), None)
        if abort:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.sock.close()

    def stop(self):
        self.stopping = time.monotonic()

    def die(self):
        self.dying = True

    def finish_die(self):
        for c in list(self.conns.values()):
            self.drop(c, abort=True)
        self.unlisten()
        self.log("killed (SIGUSR1): %d frames, %d drops" % (self.total, self.drops))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        pass
