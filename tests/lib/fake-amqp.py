#!/usr/bin/python3
"""A hostile AMQP 0-9-1 server for the tests: it answers the handshake, then closes the
connection with a reply text of its choosing (e.g. a newline and a journal priority, to forge a
log line).

usage: fake-amqp.py PORTFILE MODE TEXT
  binds 127.0.0.1 on a free port and writes it to PORTFILE once listening;
  MODE login:   connection.close in reply to connection.open (the login fails)
       consume: channel, queue.declare, basic.qos and basic.consume answered, then
                connection.close (the consumer is lost)
  TEXT: the reply text, with Python escapes (\\n, \\x1b, \\xc2\\x85, ...) decoded to bytes.
Serves connections one after the other until SIGTERM; logs to stderr.
"""
import os
import socket
import struct
import sys

FRAME_END = b"\xce"


def frame(ftype, channel, payload):
    return struct.pack(">BHI", ftype, channel, len(payload)) + payload + FRAME_END


def method(channel, cls, meth, args=b""):
    return frame(1, channel, struct.pack(">HH", cls, meth) + args)


def shortstr(b):
    return struct.pack(">B", len(b)) + b


def longstr(b):
    return struct.pack(">I", len(b)) + b


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_method(conn):
    """The next method frame's (class, method); other frames (heartbeats) are skipped."""
    while True:
        ftype, channel, size = struct.unpack(">BHI", read_exact(conn, 7))
        payload = read_exact(conn, size + 1)[:-1]
        if ftype == 1:
            return struct.unpack(">HH", payload[:4])


def serve(conn, mode, text):
    if read_exact(conn, 8) != b"AMQP\x00\x00\x09\x01":
        return
    conn.sendall(method(0, 10, 10, b"\x00\x09" + longstr(b"") + longstr(b"PLAIN") +
                        longstr(b"en_US")))
    read_method(conn)                                        # start-ok
    conn.sendall(method(0, 10, 30, struct.pack(">HIH", 2047, 131072, 0)))
    read_method(conn)                                        # tune-ok
    read_method(conn)                                        # connection.open
    if mode == "consume":
        conn.sendall(method(0, 10, 41, shortstr(b"")))       # open-ok
        answers = {(20, 10): (20, 11, longstr(b"")),
                   (50, 10): (50, 11, shortstr(b"q") + struct.pack(">II", 0, 0)),
                   (60, 10): (60, 11, b""),
                   (60, 20): (60, 21, shortstr(b"ctag"))}
        while True:
            m = read_method(conn)
            cls, meth, args = answers[m]
            conn.sendall(method(1, cls, meth, args))
            if m == (60, 20):
                break
    conn.sendall(method(0, 10, 50, struct.pack(">H", 320) + shortstr(text) +
                        struct.pack(">HH", 0, 0)))
    print("fake-amqp: sent connection.close %r" % text, file=sys.stderr, flush=True)
    try:
        read_method(conn)                                    # close-ok
    except EOFError:
        pass


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ("login", "consume"):
        sys.exit(__doc__)
    portfile, mode = sys.argv[1], sys.argv[2]
    text = sys.argv[3].encode("latin-1").decode("unicode_escape").encode("latin-1")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    while True:
        conn, _ = s.accept()
        try:
            serve(conn, mode, text)
        except (EOFError, OSError, KeyError) as e:
            print("fake-amqp: %r" % e, file=sys.stderr, flush=True)
        finally:
            conn.close()


if __name__ == "__main__":
    main()
