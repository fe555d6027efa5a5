#!/usr/bin/python3
"""Sequence checker for the fault-injection suite (the oracle of rsyslog's seq_check): N numbered
events START..START+N-1 were published (amqp.py seq); what reached the receiver is read from
FILEs, what is still in the queue from --queued FILE (amqp.py ids output).

usage: seqcheck.py START N [--queued FILE] [--spool DIR] FILE...

A FILE holds one record per line: either a bare id (faulty-recv.py's `ids`; a line starting with
"!" is a bad record) or a JSON line of tests/lib/receiver.sh's parsed.jsonl (the CEF externalId,
as exact digits). Prints one line:
  received=R distinct=D lost=L duplicates=X dup_ids=I queued=Q bad=B unexpected=U
lost: ids in the range neither received nor still queued; duplicates: records beyond the first
for an id (dup_ids: ids received more than once); unexpected: ids outside the range.
--spool DIR: a sink's spool directory (daemon/spool.h: segments NNN.seg of records "ASR1" LEN CRC
PAYLOAD, replay starting where the file "head" says); ids in records not yet consumed count like
queued ones (spooled=S is added to the line): the daemon acked them and will replay them.
Then, if any were lost, `lost ids: ...` (ranges, at most 20). Exit 0 when lost=0, bad=0 and
unexpected=0; 1 otherwise (duplicates never fail: at-least-once allows them).
"""
import json
import os
import re
import struct
import sys
import zlib
from collections import Counter


def read_ids(path, bad):
    ids = []
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return ids
    with f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith(b"{"):
                try:
                    r = json.loads(line, parse_int=str)
                    x = r["parsed"]["cef"]["Extensions"]["externalId"]
                except (ValueError, KeyError, TypeError):
                    bad.append(line[:120])
                    continue
                line = x.encode() if isinstance(x, str) else b"!"
            if line == b"-":
                continue
            if line.startswith(b"!") or not line.isdigit():
                bad.append(line[:120])
                continue
            ids.append(int(line))
    return ids


EXT_RE = re.compile(rb"(?:^|[ |])externalId=([0-9]+)")


def read_spool(d):
    """ids of the records not yet consumed in spool dir d (see daemon/spool.h)."""
    ids = set()
    try:
        names = sorted(n for n in os.listdir(d) if n.endswith(".seg") and n[:-4].isdigit())
    except FileNotFoundError:
        return ids
    hseq, hoff = 0, 0
    try:
        with open(os.path.join(d, "head"), "rb") as f:
            h = f.read(41).split()
            hseq, hoff = int(h[0]), int(h[1])
    except (OSError, ValueError, IndexError):
        pass
    for n in names:
        seq = int(n[:-4])
        if seq < hseq:
            continue
        with open(os.path.join(d, n), "rb") as f:
            data = f.read()
        pos = hoff if seq == hseq else 0
        while pos + 12 <= len(data) and data[pos:pos + 4] == b"ASR1":
            ln, crc = struct.unpack_from("<II", data, pos + 4)
            payload = data[pos + 12:pos + 12 + ln]
            if len(payload) < ln or zlib.crc32(payload) != crc:
                break
            m = EXT_RE.search(payload)
            if m:
                ids.add(int(m.group(1)))
            pos += 12 + ln
    return ids


def ranges(nums):
    out = []
    for n in nums:
        if out and out[-1][1] == n - 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return ["%d" % a if a == b else "%d-%d" % (a, b) for a, b in out]


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    start, n = int(argv[0]), int(argv[1])
    rest = argv[2:]
    queued_file = None
    if "--queued" in rest:
        i = rest.index("--queued")
        queued_file = rest[i + 1]
        rest = rest[:i] + rest[i + 2:]
    spool = set()
    spool_given = "--spool" in rest
    if spool_given:
        i = rest.index("--spool")
        spool = read_spool(rest[i + 1])
        rest = rest[:i] + rest[i + 2:]
    bad = []
    got = []
    for p in rest:
        got += read_ids(p, bad)
    queued = set(read_ids(queued_file, bad)) if queued_file else set()
    lo, hi = start, start + n
    c = Counter(x for x in got if lo <= x < hi)
    unexpected = sum(1 for x in got if not lo <= x < hi)
    lost = sorted(x for x in range(lo, hi) if x not in c and x not in queued and x not in spool)
    dups = sum(v - 1 for v in c.values())
    dup_ids = sum(1 for v in c.values() if v > 1)
    print("received=%d distinct=%d lost=%d duplicates=%d dup_ids=%d queued=%d bad=%d unexpected=%d%s"
          % (len(got), len(c), len(lost), dups, dup_ids,
             sum(1 for x in queued if lo <= x < hi), len(bad), unexpected,
             " spooled=%d" % sum(1 for x in spool if lo <= x < hi) if spool_given else ""))
    if lost:
        r = ranges(lost)
        print("lost ids: %s%s" % (" ".join(r[:20]), " ..." if len(r) > 20 else ""))
    if bad:
        print("bad records: %s" % b" | ".join(bad[:3]).decode("utf-8", "replace"))
    return 0 if not lost and not bad and not unexpected else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
