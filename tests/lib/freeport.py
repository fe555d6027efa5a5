#!/usr/bin/python3
"""Print free TCP ports on 127.0.0.1 for the test harness.

usage: freeport.py [N] [--block K]
  N        how many distinct ports to print, one per line (default 1)
  --block K  every printed port P is the start of K consecutive free ports
             (P .. P+K-1), and the blocks do not overlap

Ports are drawn at random from 20000 up to the start of the kernel's ephemeral range
(net.ipv4.ip_local_port_range), so they do not collide with the source ports the kernel
hands to outgoing connections, and two suites running in parallel are unlikely to draw the
same one. Each candidate is checked by binding it on 127.0.0.1 and on 0.0.0.0 (no
SO_REUSEADDR) and by looking for it in /proc/net/tcp{,6} (any state, so ports in TIME_WAIT
are skipped too). There is still a window between this check and the server binding the
port: callers that start servers retry with fresh ports when the bind fails.
"""
import random
import socket
import sys


def ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def ports_in_proc():
    used = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    local = line.split()[1]
                    used.add(int(local.rsplit(":", 1)[1], 16))
        except (OSError, StopIteration):
            pass
    return used


def bindable(port):
    for addr in ("127.0.0.1", "0.0.0.0"):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((addr, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def main(argv):
    n, block = 1, 1
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--block":
            block = int(args.pop(0))
        else:
            n = int(a)
    lo, hi = 20000, max(ephemeral_low() - block, 20001)
    taken = set()
    out = []
    rng = random.SystemRandom()
    for _ in range(20000):
        if len(out) == n:
            break
        p = rng.randrange(lo, hi)
        span = range(p, p + block)
        if any(q in taken for q in span):
            continue
        used = ports_in_proc()
        if any(q in used for q in span) or not all(bindable(q) for q in span):
            continue
        taken.update(span)
        out.append(p)
    if len(out) != n:
        sys.exit("freeport.py: could not find %d free port(s)" % n)
    print("\n".join(str(p) for p in out))


if __name__ == "__main__":
    main(sys.argv[1:])
