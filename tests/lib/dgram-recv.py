#!/usr/bin/python3
"""A datagram receiver for the sink tests: writes one JSON line per datagram received.

usage: dgram-recv.py udp PORTFILE OUT    bind 127.0.0.1 on a free port, write the port to
                                         PORTFILE once bound (so there is no port race)
       dgram-recv.py unix PATH OUT       bind an AF_UNIX SOCK_DGRAM socket at PATH (a stale
                                         socket file there is removed first), like /dev/log

Each line of OUT: {"len": BYTES, "text": the datagram decoded as UTF-8 (invalid bytes replaced)}.
OUT is appended to and flushed per datagram. Runs until SIGTERM/SIGINT; removes PATH on exit.
"""
import json
import os
import signal
import socket
import sys


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("udp", "unix"):
        sys.exit(__doc__)
    kind, where, out = sys.argv[1:]
    if kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("127.0.0.1", 0))
        tmp = where + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % s.getsockname()[1])
        os.rename(tmp, where)
    else:
        try:
            os.unlink(where)
        except FileNotFoundError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(where)

    def stop(signum, frame):
        if kind == "unix":
            try:
                os.unlink(where)
            except FileNotFoundError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(out, "a") as f:
        while True:
            data = s.recv(1 << 20)
            f.write(json.dumps({"len": len(data),
                                "text": data.decode("utf-8", "replace")}) + "\n")
            f.flush()


if __name__ == "__main__":
    main()
