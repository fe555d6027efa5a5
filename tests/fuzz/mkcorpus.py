#!/usr/bin/env python3
"""mkcorpus.py: (re)make the seed corpora of tests/fuzz/corpus/ from
tests/fixtures/.  Deterministic; run from the top of the tree.  What each
seed is made from: tests/fuzz/README.md."""
import json
import os
import shutil
import struct
import zlib

FIX = 'tests/fixtures'
OUT = 'tests/fuzz/corpus'


def out(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def events():
    """Every event file; three detection + outcome pairs (lines of all.jsonl)."""
    ev = os.path.join(FIX, 'events')
    lines = open(os.path.join(ev, 'all.jsonl')).read().splitlines()
    line_of = {}
    for n in sorted(os.listdir(ev)):
        if not n.endswith('.json'):
            continue
        shutil.copy(os.path.join(ev, n), os.path.join(OUT, 'fuzz_event', n))
        o = json.load(open(os.path.join(ev, n)))
        line_of[n[:-5]] = [l for l in lines if json.loads(l) == o][0]
    for a, b in (('threat_detected_1', 'threat_quarantined_1'),
                 ('threat_detected_4_quarantine_failed',
                  'quarantine_failure_1'),
                 ('threat_detected_2_docs_pair',
                  'threat_quarantined_2_docs_pair')):
        out('fuzz_event', 'pair_%s+%s.jsonl' % (a, b),
            line_of[a] + '\n' + line_of[b] + '\n')
    return line_of


# Bodies that were forwarded or dead-lettered wrong (issue 12): ids as
# strings and past UINT64_MAX, numbers that cannot be exact, json-c's
# laxities, every escape, the deepest nesting allowed.
HOSTILE = {
    'string_id.json': '{"id":"18446744073709551616","event_type":"x",'
                      '"event_type_id":-9223372036854775808}',
    'big_ids.json': '{"id":123456789012345678901234567890,"event_type":"x",'
                    '"event_type_id":1,"detection_id":98765432109876543210987}',
    'event_type_id_range.json': '{"id":7,"event_type":"x",'
                                '"event_type_id":99999999999999999999}',
    'id_65_digits.json': '{"event_type":"x","event_type_id":1,"id":' +
                         '1' * 65 + '}',
    'lax_numbers.json': '{"a":NaN,"b":00,"c":0.,"d":-.5}',
    'lax_single_quote.json': "{'a':1}",
    'escapes.json': '{"k\\u00e9\\ud83d\\ude00\\ud800x\\u0000":'
                    '"\\"\\\\\\/\\b\\f\\n\\r\\t","n":[[[[{"a":[]}]]]],'
                    '"t":true,"f":false,"z":null}',
    'depth_32_scalar.json': '[' * 32 + '1' + ']' * 32,
}


def hostile():
    """The event seeds, and the hostile bodies, for both parsers."""
    ev = os.path.join(OUT, 'fuzz_event')
    for n in sorted(os.listdir(ev)):
        if n.endswith('.json') and not n.startswith('crash-'):
            shutil.copy(os.path.join(ev, n), os.path.join(OUT, 'fuzz_json', n))
    for n, body in HOSTILE.items():
        out('fuzz_json', n, body)
        out('fuzz_event', n, body)


def configs():
    """Every config fixture, file names made plain (the harness's files)."""
    cf = os.path.join(FIX, 'config')
    for n in sorted(os.listdir(cf)):
        if not n.endswith('.conf'):
            continue
        t = open(os.path.join(cf, n)).read()
        t = t.replace('"../fixtures/config/secrets/', '"')
        t = t.replace('"../fixtures/config/', '"')
        t = t.replace('key_file = "/x"', 'key_file = "x"')
        out('fuzz_config', n, t)
    mini = open(os.path.join(OUT, 'fuzz_config', 'minimal.conf')).read()
    body = mini.split('\n', 1)[1]
    out('fuzz_config', 'include.conf', "# include.conf: minimal.conf that "
        "includes the harness's inc.conf\n" + body + '@include "inc.conf"\n')
    out('fuzz_config', 'open_secret.conf', '# open_secret.conf: minimal.conf '
        'with a password file others can read\n' +
        body.replace('"stream.password"', '"open.password"'))


def http(status, reason, headers, body):
    h = 'HTTP/1.1 %d %s\r\n' % (status, reason)
    for k, v in headers:
        h += '%s: %s\r\n' % (k, v)
    return h + '\r\n' + body


def api():
    """Every API fixture as a 200 body; as answers with status and headers;
    a stream listing made of event_stream_create.json's stream."""
    ad = os.path.join(FIX, 'api')
    text = {}
    for n in sorted(os.listdir(ad)):
        text[n] = open(os.path.join(ad, n)).read()
        shutil.copy(os.path.join(ad, n), os.path.join(OUT, 'fuzz_api', n))
    out('fuzz_api', 'http_401.txt', http(401, 'Unauthorized',
        [('Content-Type', 'application/json')], text['error_401_docs.json']))
    out('fuzz_api', 'http_400_not_found.txt', http(400, 'Bad Request', [],
        text['error_400_event_stream_not_found_splunk_mock.json']))
    out('fuzz_api', 'http_200_events_ratelimit.txt', http(200, 'OK', [
        ('X-RateLimit-Limit', '3000'), ('X-RateLimit-Remaining', '0'),
        ('X-RateLimit-Reset', '30'),
        ('X-RateLimit-ResetDate', '2020-06-17T15:57:21Z')],
        text['events_detection_sha256_limit1.json']))
    out('fuzz_api', 'http_429.txt', http(429, 'Too Many Requests', [
        ('Retry-After', 'Wed, 21 Oct 2015 07:28:00 GMT'),
        ('X-Rate-Limit-Remaining', '0')], '{"errors":[]}'))
    out('fuzz_api', 'http_204.txt', http(204, 'No Content', [], ''))
    create = json.loads(text['event_stream_create.json'])
    listing = {'version': create['version'],
               'metadata': {'links': {
                   'self': 'https://api.amp.cisco.com/v1/event_streams',
                   'next': 'https://api.amp.cisco.com/v1/event_streams'
                           '?offset=1'}},
               'data': [create['data'], dict(create['data'], id='7',
                                             name='dqrbpudi')]}
    out('fuzz_api', 'event_streams_list.json', json.dumps(listing, indent=1))


def spool_rec(payload):
    return (b'ASR1' + struct.pack('<II', len(payload),
            zlib.crc32(payload) & 0xffffffff) + payload)


def spool_head(seq, off):
    b = b'%020d %020d' % (seq, off)
    return b + b' %08x\n' % (zlib.crc32(b) & 0xffffffff)


def spool_seed(flags, first, segs, head=b''):
    """The harness's input: flags, first segment - 1, head, segments."""
    b = bytes([flags, first - 1]) + head
    for s in segs[:-1]:
        b += struct.pack('<H', len(s)) + s
    return b + segs[-1]


def spool(line_of):
    """Segments whose records are events of all.jsonl (RFC 5424 framed
    records in real spools; the spool does not look inside)."""
    r = [spool_rec(line_of[n].encode()) for n in
         ('policy_update_1', 'threat_quarantined_1', 'file_fetch_completed_1',
          'retrospective_quarantine_1')]
    nseg = lambda n: (n - 1) << 3
    out('fuzz_spool', 'one_segment', spool_seed(nseg(1), 1, [r[0] + r[1]]))
    seg1, seg2 = r[0] + r[1], r[2] + r[3]
    out('fuzz_spool', 'head_mid_segment', spool_seed(
        0x02 | nseg(2), 1, [seg1, seg2], spool_head(1, len(r[0]))))
    out('fuzz_spool', 'head_not_boundary', spool_seed(
        0x02 | nseg(2), 1, [seg1, seg2], spool_head(2, 5)))
    out('fuzz_spool', 'torn_tail', spool_seed(
        0x01 | nseg(2), 1, [seg1, seg2[:-40]]))
    bad = bytearray(seg1)
    bad[len(r[0]) + 20] ^= 0xff
    out('fuzz_spool', 'bad_crc_old_segment_gap', spool_seed(
        0x40 | nseg(3), 7, [bytes(bad), seg2, r[0]]))
    out('fuzz_spool', 'max_bytes', spool_seed(
        0x20 | nseg(2), 1, [seg1 + seg2, r[1]]))


def snap(records):
    """A version 2 correlation snapshot (daemon/corr.c)."""
    body = b'AMPSCORR' + struct.pack('<IIQ', 2, 9, len(records))
    for stored, det_ms, type_id, stream, flags, strs in records:
        body += struct.pack('<qqqQI', stored, det_ms, type_id, stream, flags)
        for s in strs:
            s = (s or '').encode()
            body += struct.pack('<H', len(s)) + s
    return body + struct.pack('<I', zlib.crc32(body) & 0xffffffff)


def corr_snap(line_of):
    """Snapshots holding the detections of the fixture events."""
    now = 1795546800123
    recs = []
    for i, n in enumerate(('threat_detected_1',
                           'threat_detected_4_quarantine_failed',
                           'threat_detected_2_docs_pair',
                           'retrospective_detection_1')):
        e = json.loads(line_of[n])
        c = e.get('computer', {})
        f = e.get('file', {})
        recs.append((now - 1000 * (120 - i), e['timestamp'] * 1000,
                     e['event_type_id'], i % 2, 1 if i == 0 else 0, [
                         e['detection_id'], str(e['id']), e.get('detection'),
                         e.get('connector_guid', c.get('connector_guid')),
                         c.get('hostname'), f.get('file_name'),
                         f.get('file_path'),
                         f.get('identity', {}).get('sha256'),
                         e.get('severity')]))
    out('fuzz_corr_snap', 'detections.snap', snap(recs))
    out('fuzz_corr_snap', 'empty.snap', snap([]))
    old = [(now - 4000 * 1000,) + r[1:] for r in recs[:2]] + recs[2:]
    out('fuzz_corr_snap', 'expired.snap', snap(old))
    out('fuzz_corr_snap', 'many.snap', snap(recs * 3))


def main():
    # Everything but the reproducers of fixed findings (crash-*) is remade.
    for h in ('fuzz_event', 'fuzz_json', 'fuzz_spool', 'fuzz_corr_snap',
              'fuzz_config', 'fuzz_api'):
        d = os.path.join(OUT, h)
        os.makedirs(d, exist_ok=True)
        for n in os.listdir(d):
            if not n.startswith('crash-'):
                os.remove(os.path.join(d, n))
    line_of = events()
    hostile()
    configs()
    api()
    spool(line_of)
    corr_snap(line_of)


main()
