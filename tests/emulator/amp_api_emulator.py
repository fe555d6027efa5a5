#!/usr/bin/python3
"""amp_api_emulator.py: an emulator of the Cisco AMP for Endpoints REST API v1
(the part ampstreamctl and the daemon's group and computer listings use), for
tests only.

Faithful to the project's notes on the API (hosts, Basic auth with the 401
envelope, the JSON envelope, limit/offset pagination with absolute
metadata.links.next/prev, the X-RateLimit-* headers counting down in a fixed
window, 429 when the budget is spent, the 5-stream limit, 201 on create with
amqp_credentials whose port is a string and proto "https").  Facts the public
material leaves open are switches (see --help), so the client can be tested
against each variant.

HTTPS only.  Listens on 127.0.0.1, on a port the kernel picks (or --port);
writes the port to --port-file once it accepts connections.  Stop it with
SIGTERM to its pid.

With --broker-env FILE (a tests/lib/broker.sh broker.env), POST
/v1/event_streams creates the stream's queue on that RabbitMQ (durable, bound
to the "events_api_stream" topic exchange) and a user with a random password
allowed to consume from it only, and returns amqp_credentials pointing at the
broker's TLS port.  DELETE removes both.

A second mode publishes one event like the AMP cloud does:
  amp_api_emulator.py publish --broker-env FILE --queue Q|--routing-key K FILE.json
"""
import argparse
import base64
import datetime
import gzip
import hmac
import json
import math
import os
import re
import secrets
import shlex
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# GET /v1/event_types as captured from a NA organisation in June 2020
# (amp-api.md section 10): id, name.
EVENT_TYPES = [
	(1003, 'Email Confirmation'),
	(1004, 'Forgotten Password Reset'),
	(1005, 'Password Has Been Reset'),
	(553648130, 'Policy Update'),
	(553648135, 'Product Update Started'),
	(553648136, 'Product Update Completed'),
	(553648137, 'Product Update Failed'),
	(553648143, 'Threat Quarantined'),
	(553648146, 'Cloud Recall Restore of False Positive'),
	(553648147, 'Cloud Recall Detection'),
	(553648149, 'Quarantined Item Restored'),
	(553648150, 'Quarantine Restore Started'),
	(553648154, 'Cloud Recall Restore from Quarantine'),
	(553648155, 'Cloud Recall Quarantine Successful'),
	(553648158, 'Install Started'),
	(553648166, 'Uninstall'),
	(553648168, 'Execution Blocked'),
	(553648170, 'Reboot Pending'),
	(553648171, 'Reboot Completed'),
	(553648173, 'File Fetch Completed'),
	(553648176, 'Endpoint IOC Configuration Update Success'),
	(553648179, 'Endpoint IOC Definition Update Success'),
	(553648195, 'Minor Fault Raised'),
	(553648196, 'Fault Cleared'),
	(553648199, 'Malicious Activity Block'),
	(553648202, 'Endpoint Isolation Start Success'),
	(553648204, 'Endpoint Isolation Stop Success'),
	(553648206, 'Endpoint Isolation Update Success'),
	(553648208, 'Orbital Install Success'),
	(553648210, 'Orbital Update Success'),
	(553648215, 'Endpoint Isolation Unlock Limit Reached'),
	(554696714, 'Scan Started'),
	(554696715, 'Scan Completed, No Detections'),
	(554696756, 'Endpoint IOC Scan Started'),
	(554696757, 'Endpoint IOC Scan Completed, No Detections'),
	(570425394, 'Quarantine Restore Requested'),
	(570425396, 'Application Registered'),
	(570425397, 'Application Deregistered'),
	(570425398, 'Application Authorized'),
	(570425399, 'Application Deauthorized'),
	(1090519054, 'Threat Detected'),
	(1090519081, 'Rootkit Detection'),
	(1090519084, 'DFC Threat Detected'),
	(1090519089, 'Endpoint IOC Scan Detection Summary'),
	(1090519096, 'Update: Reboot Required'),
	(1090519097, 'Update: Reboot Advised'),
	(1090519102, 'iOS Network Detection'),
	(1090519103, 'Exploit Prevention'),
	(1090519105, 'Malicious Activity Detection'),
	(1090519107, 'Major Fault Raised'),
	(1090519112, 'System Process Protection'),
	(1090524040, 'APK Threat Detected'),
	(1090524041, 'APK Custom Threat Detected'),
	(1091567628, 'Scan Completed With Detections'),
	(1091567670, 'Endpoint IOC Scan Completed With Detections'),
	(1107296257, 'Potential Dropper Infection'),
	(1107296258, 'Multiple Infected Files'),
	(1107296261, 'Adobe Reader compromise'),
	(1107296262, 'Microsoft Word compromise'),
	(1107296263, 'Microsoft Excel compromise'),
	(1107296264, 'Microsoft PowerPoint compromise'),
	(1107296266, 'Adobe Reader launched a shell'),
	(1107296267, 'Microsoft Word launched a shell'),
	(1107296268, 'Microsoft Excel launched a shell'),
	(1107296269, 'Microsoft PowerPoint launched a shell'),
	(1107296270, 'Apple QuickTime compromise'),
	(1107296271, 'Apple QuickTime launched a shell'),
	(1107296272, 'Executed malware'),
	(1107296273, 'Suspected botnet connection'),
	(1107296274, 'Cloud IOC'),
	(1107296275, 'Microsoft Calculator compromise'),
	(1107296276, 'Microsoft Notepad compromise'),
	(1107296277, 'Connection to suspicious domain'),
	(1107296278, 'Threat Detected in Low Prevalence Executable'),
	(1107296279, 'Vulnerable Application Detected'),
	(1107296280, 'Suspicious Download'),
	(1107296281, 'Microsoft CHM Compromise'),
	(1107296282, 'Suspicious Cscript Launch'),
	(1107296283, 'Possible Webshell'),
	(1107296284, 'Potential Ransomware'),
	(1107296344, 'SecureX Threat Hunting Incident'),
	(2164260866, 'Policy Update Failure'),
	(2164260880, 'Quarantine Failure'),
	(2164260884, 'Quarantine Restore Failed'),
	(2164260892, 'Cloud Recall Restore from Quarantine Failed'),
	(2164260893, 'Cloud Recall Quarantine Attempt Failed'),
	(2164260895, 'Install Failure'),
	(2164260903, 'Uninstall Failure'),
	(2164260910, 'File Fetch Failed'),
	(2164260911, 'Endpoint IOC Configuration Update Failure'),
	(2164260914, 'Endpoint IOC Definition Update Failure'),
	(2164260922, 'Update: Unexpected Reboot Required'),
	(2164260931, 'Critical Fault Raised'),
	(2164260939, 'Endpoint Isolation Start Failure'),
	(2164260941, 'Endpoint Isolation Stop Failure'),
	(2164260943, 'Endpoint Isolation Update Failure'),
	(2164260945, 'Orbital Install Failure'),
	(2164260947, 'Orbital Update Failure'),
	(2165309453, 'Scan Failed'),
	(2165309495, 'Endpoint IOC Scan Failed'),
	(2181038130, 'Quarantine Request Failed to be Delivered'),
]

# Real-looking group names first; --groups N extends the list with numbered
# groups so that several pages are needed.
GROUP_NAMES = ["Audit", "Protect", "Triage", "Server", "Domain Controller",
               "Linux Servers", "Mac Workstations"]

ORG_GUID = "b077d6bc-bbdf-42f7-8838-a06053fbd98a"
MAX_BODY = 1 << 20


def die(msg):
    sys.stderr.write("amp_api_emulator: %s\n" % msg)
    sys.exit(1)


def dump(obj):
    """JSON as UTF-8; a lone surrogate U+DC80..U+DCFF in a string (from
    "\\udc9b" in a JSON option) is sent as the raw byte 0x80..0xff, so that
    a hostile test can send what is not UTF-8."""
    return json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogateescape")


def iso_utc(t):
    return datetime.datetime.fromtimestamp(
        int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    """An error answer: HTTP status, reason phrase, details."""

    def __init__(self, status, description, details):
        super().__init__(description)
        self.status = status
        self.description = description
        self.details = details


class RateLimit:
    """A fixed window of BUDGET requests: Remaining counts down, Reset counts
    down in seconds, ResetDate stays constant for the window (as observed)."""

    def __init__(self, budget, window, start_remaining, never_reset):
        self.budget = budget
        self.window = window
        self.remaining = budget if start_remaining is None else start_remaining
        self.never_reset = never_reset
        self.window_end = None
        self.lock = threading.Lock()

    def take(self):
        """Count one request; returns (allowed, headers-values)."""
        with self.lock:
            now = time.time()
            if self.window_end is None:
                self.window_end = now + self.window
            elif now >= self.window_end:
                self.window_end = now + self.window
                if not self.never_reset:
                    self.remaining = self.budget
            allowed = self.remaining > 0
            if allowed:
                self.remaining -= 1
            reset = max(0, math.ceil(self.window_end - now))
            return allowed, (self.budget, self.remaining, reset,
                             iso_utc(self.window_end))


class Broker:
    """The test RabbitMQ named by a broker.env: admin over AMQP (pika) for
    queues, rabbitmqctl (through broker.sh ctl) for users."""

    def __init__(self, env_path, ctl_cmd, amqp_host, amqp_port):
        env = read_env(env_path)
        self.host = env.get("BROKER_HOST", "127.0.0.1")
        self.port = int(env["BROKER_PORT"])
        self.tls_port = int(env.get("BROKER_TLS_PORT") or 0)
        self.user = env.get("BROKER_USER", "guest")
        with open(env["BROKER_PASSWORD_FILE"]) as f:
            self.password = f.read().strip()
        if ctl_cmd is None:
            here = os.path.dirname(os.path.abspath(__file__))
            script = os.path.join(here, "..", "lib", "broker.sh")
            ctl_cmd = "sh %s ctl %s" % (shlex.quote(script), shlex.quote(
                os.path.dirname(os.path.abspath(env_path))))
        self.ctl_cmd = shlex.split(ctl_cmd)
        # The test certificate names DNS:localhost and IP:127.0.0.1, but
        # rabbitmq-c 0.11 checks DNS names only: hand out "localhost".
        self.public_host = amqp_host or "localhost"
        self.public_port = amqp_port or self.tls_port or self.port
        self.lock = threading.Lock()

    def channel(self):
        import pika
        creds = pika.PlainCredentials(self.user, self.password)
        params = pika.ConnectionParameters(host=self.host, port=self.port,
                                           credentials=creds)
        conn = pika.BlockingConnection(params)
        return conn, conn.channel()

    def ctl(self, *args):
        r = subprocess.run(self.ctl_cmd + list(args), capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("rabbitmqctl %s: %s" % (args[0], r.stderr.strip()))

    def create(self, queue, user, password, event_types):
        with self.lock:
            conn, ch = self.channel()
            try:
                ch.exchange_declare("events_api_stream", "topic", durable=True)
                ch.queue_declare(queue, durable=True)
                keys = ["#"] if not event_types else \
                    ["*.*.%d" % t for t in event_types]
                for k in keys:
                    ch.queue_bind(queue, "events_api_stream", routing_key=k)
            finally:
                conn.close()
            self.ctl("add_user", user, password)
            self.ctl("set_permissions", "-p", "/", user, "^$", "^$",
                     "^%s$" % re.escape(queue))

    def delete(self, queue, user):
        with self.lock:
            conn, ch = self.channel()
            try:
                ch.queue_delete(queue)
            finally:
                conn.close()
            self.ctl("delete_user", user)


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            if k.startswith("export "):
                k = k[7:]
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            env[k.strip()] = v
    return env


class State:
    """The organisation: event types, groups, streams, counters."""

    def __init__(self, opts):
        self.opts = opts
        self.lock = threading.Lock()
        self.event_types = [{"id": i, "name": n, "description": n}
                            for i, n in EVENT_TYPES]
        self.type_ids = {i for i, _ in EVENT_TYPES}
        names = list(GROUP_NAMES[:opts.groups])
        for i in range(len(names), opts.groups):
            names.append("Group %04d" % (i + 1))
        self.groups = [{"name": n, "description": "%s group" % n,
                        "guid": str(uuid.uuid5(uuid.NAMESPACE_URL, "group:" + n)),
                        "source": None if i % 2 else "Created via API"}
                       for i, n in enumerate(names)]
        self.group_guids = {g["guid"] for g in self.groups}
        self.computers = [computer(i, self.groups) for i in range(1, opts.computers + 1)]
        self.streams = {}
        self.next_id = opts.first_stream_id
        self.requests = 0
        self.rate = RateLimit(opts.rate_budget, opts.rate_window,
                              opts.rate_start_remaining, opts.rate_never_reset)
        self.broker = None
        if opts.broker_env:
            self.broker = Broker(opts.broker_env, opts.amqp_ctl_cmd,
                                 opts.amqp_host, opts.amqp_port)

    def preload(self):
        """--preload-stream: streams there from the start (never on a broker)."""
        for spec in self.opts.preload_stream:
            sid = self.next_id
            self.next_id += 1
            self.streams[sid] = {"id": sid, "name": spec.get("name", ""),
                                 "event_types": spec.get("event_types", []),
                                 "group_guids": spec.get("group_guids", []),
                                 "amqp_credentials": new_credentials(self.opts, sid)}


def parse_override(spec):
    """--override PATH:INDEX:KEY=JSON (KEY empty: the whole item)."""
    left, eq, value = spec.partition("=")
    parts = left.rsplit(":", 2)
    if not eq or len(parts) != 3 or not parts[1].isdigit():
        raise argparse.ArgumentTypeError("not PATH:INDEX:KEY=JSON: %r" % spec)
    try:
        v = json.loads(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError("%r: %s" % (value, e))
    return parts[0], int(parts[1]), parts[2], v


def parse_error_body(spec):
    path, eq, value = spec.partition("=")
    try:
        return path, json.loads(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError("%r: %s" % (value, e))


def parse_inflate(spec):
    """--inflate PATH:PAGES:BYTES:SHAPE"""
    parts = spec.rsplit(":", 3)
    if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit() \
            or parts[3] not in ("string", "objects"):
        raise argparse.ArgumentTypeError("not PATH:PAGES:BYTES:string|objects: %r"
                                         % spec)
    return parts[0], int(parts[1]), int(parts[2]), parts[3]


# Section 6.9 of amp-api.md: the fields of a computer.  Computer i has the
# GUID uuid5(URL, "computer:<i>"), host "host-<i>", the policy of its group,
# and is isolated when i is a multiple of 10.
POLICIES = ["Protect", "Audit", "Triage"]


def computer(i, groups):
    guid = str(uuid.uuid5(uuid.NAMESPACE_URL, "computer:%d" % i))
    pol = POLICIES[i % len(POLICIES)]
    grp = groups[i % len(groups)]["guid"] if groups else None
    return {"connector_guid": guid, "hostname": "host-%04d" % i,
            "windows_processor_id": "%032x" % i, "active": True,
            "connector_version": "7.5.5.21061",
            "operating_system": "Windows 10 Enterprise (Build 19045.3570)",
            "internal_ips": ["10.0.%d.%d" % (i // 250, i % 250 + 1)],
            "external_ip": "198.51.100.7", "group_guid": grp,
            "install_date": "2021-01-14T10:00:00Z",
            "network_addresses": [{"mac": "00:50:56:%02x:%02x:%02x" % (
                (i >> 16) & 255, (i >> 8) & 255, i & 255),
                "ip": "10.0.%d.%d" % (i // 250, i % 250 + 1)}],
            "policy": {"guid": str(uuid.uuid5(uuid.NAMESPACE_URL, "policy:" + pol)),
                       "name": "%s Policy" % pol},
            "last_seen": "2026-12-05T10:00:00Z", "faults": [],
            "isolation": {"available": True,
                          "status": "isolated" if i % 10 == 0 else "not_isolated"},
            "orbital": {"status": "not_enabled"}}


def hostile_items(opts, path, items):
    """The listing at path with the --override changes (a hostile API)."""
    changes = [o for o in opts.override if o[0] == path and o[1] < len(items)]
    if not changes:
        return items
    items = [dict(it) if isinstance(it, dict) else it for it in items]
    for _, index, key, value in changes:
        if key == "":
            items[index] = value
        elif isinstance(items[index], dict):
            items[index][key] = value
    return items


def new_credentials(opts, sid, broker=None):
    host = opts.amqp_host or "export-streaming.amp.cisco.com"
    port = opts.amqp_port or 443
    if broker:
        host, port = broker.public_host, broker.public_port
    return {"user_name": "%d-%s" % (sid, secrets.token_hex(10)),
            "password": secrets.token_hex(20),
            "queue_name": "event_stream_%d" % sid,
            "host": host,
            "port": str(port) if opts.port_type == "string" else port,
            "proto": opts.proto}


def stream_item(opts, s):
    """A stream as GET /v1/event_streams shows it (never the password)."""
    item = {"id": s["id"], "name": s["name"]}
    if opts.stream_items == "bare":
        return item
    for key in ("event_types", "group_guids"):
        if s[key] or opts.stream_items == "full":
            item[key] = list(s[key])
    creds = dict(s["amqp_credentials"])
    del creds["password"]
    item["amqp_credentials"] = creds
    return item


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def version_string(self):
        return "nginx"

    # -- plumbing ---------------------------------------------------------

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PUT(self):
        self.handle_any("PUT")

    @property
    def st(self):
        return self.server.state

    @property
    def opts(self):
        return self.server.state.opts

    def base(self, host=None):
        host = host or self.opts.link_host or self.headers.get("Host") or \
            "127.0.0.1:%d" % self.server.server_address[1]
        return "https://" + host

    def log_request_line(self, status, auth):
        if self.server.log is None:
            return
        with self.server.log_lock:
            self.server.log.write("%s %s %d auth=%s\n" % (
                self.command, self.path, status, auth))
            self.server.log.flush()

    def handle_any(self, method):
        started = time.time()
        allowed, rate = self.st.rate.take()
        with self.st.lock:
            self.st.requests += 1
            nth = self.st.requests
        body = self.read_body()
        auth = self.auth_ok()
        if not allowed:
            return self.answer_429(rate, started, auth)
        if nth <= self.opts.fail_5xx:
            return self.answer_5xx(rate, started, auth)
        if not auth:
            return self.answer_401(rate, started)
        special = self.special_body()
        if special is not None:
            return self.send(200, special[0], special[1], rate, started, "ok")
        for path, pages, size, shape in self.opts.inflate:
            if urlsplit(self.path).path == path:
                return self.send(200, self.inflated(pages, size, shape),
                                 "application/json; charset=utf-8", rate,
                                 started, "ok")
        for prefix, env in self.opts.error_body:
            if urlsplit(self.path).path.startswith(prefix):
                return self.send(400, dump(env), "application/json; charset=utf-8",
                                 rate, started, "ok")
        try:
            status, envelope = self.route(method, body)
        except ApiError as e:
            status, envelope = e.status, self.error_envelope(e)
        raw = b"" if envelope is None else dump(envelope)
        self.send(status, raw, "application/json; charset=utf-8", rate,
                  started, "ok")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(n) if n > 0 else b""

    def auth_ok(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(h[6:], validate=True) \
                .decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.opts.client_id) and \
            hmac.compare_digest(pw, self.server.api_key)

    def rate_headers(self, rate):
        limit, remaining, reset, reset_date = rate
        style = self.opts.rate_headers
        if style == "none":
            return []
        if style == "documented":
            return [("X-Rate-Limit-Limit", limit),
                    ("X-Rate-Limit-Remaining", remaining),
                    ("X-Rate-Limit-Reset", reset)]
        h = [("X-RateLimit-Limit", limit), ("X-RateLimit-Remaining", remaining),
             ("X-RateLimit-Reset", reset), ("X-RateLimit-ResetDate", reset_date)]
        if style == "lower":
            h = [(k.lower(), v) for k, v in h]
        return h

    def send(self, status, raw, ctype, rate, started, auth, extra=()):
        self.log_request_line(status, auth)
        if raw and self.opts.gzip == "auto" and \
                "gzip" in self.headers.get("Accept-Encoding", ""):
            raw = gzip.compress(raw, 1)
            extra = list(extra) + [("Content-Encoding", "gzip")]
        self.send_response(status)
        if raw or status != 204:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("X-Request-Id", str(uuid.uuid4()))
        self.send_header("X-Runtime", "%.6f" % (time.time() - started))
        self.send_header("Cache-Control",
                         "no-cache, no-store, max-age=0, must-revalidate")
        self.send_header("Strict-Transport-Security", "max-age=31536000")
        for k, v in self.rate_headers(rate):
            self.send_header(k, str(v))
        for k, v in extra:
            self.send_header(k, str(v))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    # -- error answers ----------------------------------------------------

    def error_envelope(self, e):
        return {"version": self.opts.api_version,
                "metadata": {"links": {"self": self.base() + self.path}},
                "data": {},
                "errors": [{"error_code": e.status,
                            "description": e.description,
                            "details": e.details}]}

    def answer_401(self, rate, started):
        # The real 401 has no metadata and version null (PM capture); the
        # docs show "v1.0.0".
        env = {"version": None if self.opts.v401_version == "null"
               else self.opts.v401_version, "data": {},
               "errors": [{"error_code": 401, "description": "Unauthorized",
                           "details": ["Unknown API key or Client ID"]}]}
        self.send(401, json.dumps(env).encode(),
                  "application/json; charset=utf-8", rate, started, "bad")

    def answer_429(self, rate, started, auth):
        extra = []
        if self.opts.retry_after is not None:
            extra.append(("Retry-After", self.opts.retry_after))
        if self.opts.body_429 == "envelope":
            e = ApiError(429, "Too Many Requests",
                         ["API rate limit exceeded"])
            raw = json.dumps(self.error_envelope(e)).encode()
            ctype = "application/json; charset=utf-8"
        else:
            raw, ctype = b"Retry later\n", "text/plain"
        self.send(429, raw, ctype, rate, started,
                  "ok" if auth else "bad", extra)

    def answer_5xx(self, rate, started, auth):
        raw = (b"<html><head><title>%d Service Temporarily Unavailable"
               b"</title></head><body></body></html>\n" % self.opts.fail_status)
        self.send(self.opts.fail_status, raw, "text/html", rate, started,
                  "ok" if auth else "bad")

    def special_body(self):
        path = urlsplit(self.path).path
        for prefix in self.opts.oversize:
            if path.startswith(prefix):
                pad = b"x" * self.opts.oversize_bytes
                return (b'{"version":"v1.2.0","data":["' + pad + b'"]}',
                        "application/json; charset=utf-8")
        for prefix in self.opts.not_json:
            if path.startswith(prefix):
                return (b"<html><body><h1>Service Temporarily Unavailable"
                        b"</h1></body></html>\n", "text/html")
        return None

    def inflated(self, pages, size, shape):
        """A page of a hostile listing: one item with a name of size bytes,
        or size bytes of [{}, {}, ...]; a next link while page < pages (or
        always, pages 0)."""
        u = urlsplit(self.path)
        query = parse_qsl(u.query, keep_blank_values=True)
        offset = int(dict(query).get("offset", 0))
        if shape == "string":
            data = [{"id": offset + 1, "guid": "g-%d" % offset,
                     "name": "x" * size}]
        else:
            data = [{}] * (size // 4)
        nxt = None
        if pages == 0 or offset + 1 < pages:
            nxt = self.page_url(u.path, query, offset + 1)
        return dump(self.envelope(data, None, nxt))

    # -- routing ----------------------------------------------------------

    def route(self, method, body):
        u = urlsplit(self.path)
        path = u.path.rstrip("/") or "/"
        query = parse_qsl(u.query, keep_blank_values=True)
        parts = path.split("/")[1:]
        if parts[:1] != ["v1"]:
            raise ApiError(404, "Not Found", ["Route not found: %s" % path])
        table = {
            ("GET", "version"): (self.get_version, ()),
            ("GET", "event_types"): (self.get_event_types, ("limit", "offset")),
            ("GET", "groups"): (self.get_groups, ("limit", "offset", "name")),
            ("GET", "computers"): (self.get_computers, ("limit", "offset")),
            ("GET", "event_streams"): (self.get_streams, ("limit", "offset")),
            ("POST", "event_streams"): (self.post_stream, ()),
        }
        if len(parts) == 2 and (method, parts[1]) in table:
            fn, allowed = table[(method, parts[1])]
            self.check_params(query, allowed)
            return fn(path, query, body)
        if len(parts) == 3 and parts[1] == "groups" and method == "GET":
            self.check_params(query, ())
            return self.get_group(parts[2])
        if len(parts) == 3 and parts[1] == "computers" and method == "GET":
            self.check_params(query, ())
            return self.get_computer(parts[2])
        if len(parts) == 3 and parts[1] == "event_streams" and \
                method in ("GET", "PATCH", "DELETE"):
            self.check_params(query, ())
            return self.one_stream(method, parts[2], body)
        raise ApiError(404, "Not Found", ["Route not found: %s %s" % (method, path)])

    def check_params(self, query, allowed):
        bad = sorted({k for k, _ in query if k not in allowed})
        if bad:
            raise ApiError(400, "Bad Request",
                           ["Unexpected parameter: %s" % k for k in bad])

    def envelope(self, data, results=None, next_url=None, prev_url=None):
        links = {"self": self.base() + self.path}
        if next_url:
            links["next"] = next_url
        if prev_url:
            links["prev"] = prev_url
        meta = {"links": links}
        if results is not None:
            meta["results"] = results
        return {"version": self.opts.api_version, "metadata": meta, "data": data}

    def page_url(self, path, query, offset):
        q = [(k, v) for k, v in query if k != "offset"] + [("offset", str(offset))]
        qs = "&".join("%s=%s" % kv for kv in q)
        return self.base(self.opts.next_host) + path + "?" + qs

    def paginate(self, items, path, query, only_total=False):
        """One page of items, with absolute next/prev links."""
        q = dict(query)
        try:
            limit = int(q.get("limit", self.opts.max_limit))
            offset = int(q.get("offset", 0))
        except ValueError:
            raise ApiError(400, "Bad Request", ["limit and offset must be integers"])
        if limit < 1 or offset < 0:
            raise ApiError(400, "Bad Request", ["limit and offset out of range"])
        if limit > self.opts.max_limit and self.opts.over_limit == "reject":
            raise ApiError(400, "Bad Request",
                           ["limit must be at most %d" % self.opts.max_limit])
        limit = min(limit, self.opts.max_limit)
        items = hostile_items(self.opts, path, items)
        page = items[offset:offset + limit]
        nxt = self.page_url(path, query, offset + limit) \
            if offset + limit < len(items) else None
        prv = self.page_url(path, query, max(0, offset - limit)) \
            if offset > 0 else None
        results = {"total": len(items)} if only_total else \
            {"total": len(items), "current_item_count": len(page),
             "index": offset, "items_per_page": limit}
        return 200, self.envelope(page, results, nxt, prv)

    # -- resources --------------------------------------------------------

    def get_version(self, path, query, body):
        return 200, self.envelope({})

    def get_event_types(self, path, query, body):
        # The capture shows metadata.results with only "total".
        return self.paginate(self.st.event_types, path, query, only_total=True)

    def group_item(self, g):
        item = dict(g)
        item["links"] = {"group": self.base() + "/v1/groups/" + g["guid"]}
        return item

    def get_groups(self, path, query, body):
        groups = self.st.groups
        name = dict(query).get("name")
        if name is not None:
            if self.opts.group_name_match == "exact":
                groups = [g for g in groups if g["name"] == name]
            else:
                groups = [g for g in groups if name.lower() in g["name"].lower()]
        return self.paginate([self.group_item(g) for g in groups], path, query)

    def get_group(self, guid):
        for g in self.st.groups:
            if g["guid"] == guid:
                item = self.group_item(g)
                item["policies"] = []
                return 200, self.envelope(item)
        raise ApiError(404, "Not Found", ["Group not found for given guid: %s" % guid])

    def computer_item(self, c):
        item = dict(c)
        api = self.base() + "/v1/computers/" + c["connector_guid"]
        item["links"] = {"computer": api, "trajectory": api + "/trajectory",
                         "group": self.base() + "/v1/groups/%s" % c["group_guid"]}
        return item

    def get_computers(self, path, query, body):
        return self.paginate([self.computer_item(c) for c in self.st.computers],
                             path, query)

    def get_computer(self, guid):
        for c in self.st.computers:
            if c["connector_guid"] == guid:
                return 200, self.envelope(self.computer_item(c))
        raise ApiError(404, "Not Found", ["Computer not found for given guid: %s" % guid])

    def get_streams(self, path, query, body):
        with self.st.lock:
            items = [stream_item(self.opts, s) for _, s in
                     sorted(self.st.streams.items())]
        if self.opts.phantom_stream:
            # Listed, but gone for GET/PATCH/DELETE: as if deleted meanwhile.
            items.append({"id": 999999, "name": "phantom", "event_types": [],
                          "group_guids": []})
        return self.paginate(items, path, query)

    def not_found(self):
        if self.opts.not_found == "400":
            raise ApiError(400, "Bad Request", ["Event stream not found"])
        raise ApiError(404, "Not Found", ["Event stream not found"])

    def one_stream(self, method, sid, body):
        with self.st.lock:
            s = self.st.streams.get(int(sid)) if sid.isdigit() else None
            if s is None:
                self.not_found()
            if method == "GET":
                return 200, self.envelope(stream_item(self.opts, s))
            if method == "PATCH":
                return self.patch_stream(s, body)
            del self.st.streams[s["id"]]
        if self.st.broker:
            self.st.broker.delete(s["amqp_credentials"]["queue_name"],
                                  s["amqp_credentials"]["user_name"])
        if self.opts.delete_status == 204:
            return 204, None
        return 200, self.envelope({})

    def parse_request_body(self, body):
        if body is None:
            raise ApiError(413, "Payload Too Large", ["request body too large"])
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            params = {}
            for k, v in parse_qsl(body.decode("utf-8", "replace")):
                if k.endswith("[]"):
                    params.setdefault(k[:-2], []).append(v)
                else:
                    params[k] = v
            return params
        try:
            params = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "Bad Request", ["Request body is not valid JSON"])
        if not isinstance(params, dict):
            raise ApiError(400, "Bad Request", ["Request body must be a JSON object"])
        return params

    def validate_stream(self, params, creating):
        bad = sorted(set(params) - {"name", "event_type", "group_guid"})
        if bad:
            raise ApiError(400, "Bad Request",
                           ["Unexpected parameter: %s" % k for k in bad])
        name = params.get("name")
        if (creating or "name" in params) and \
                (not isinstance(name, str) or not name.strip()):
            raise ApiError(400, "Bad Request", ["Validation failed: Name can't be blank"])
        types = self.validate_types(params.get("event_type", []))
        guids = self.validate_groups(params.get("group_guid", []))
        return name, types, guids

    def validate_types(self, types):
        if not isinstance(types, list):
            raise ApiError(400, "Bad Request", ["event_type must be an array"])
        out = []
        for t in types:
            if isinstance(t, bool) or not (isinstance(t, int) or
                                           (isinstance(t, str) and t.isdigit())):
                raise ApiError(400, "Bad Request", ["event_type is invalid: %r" % (t,)])
            if int(t) not in self.st.type_ids:
                raise ApiError(400, "Bad Request", ["Unknown event type: %s" % t])
            out.append(int(t))
        return out

    def validate_groups(self, guids):
        if not isinstance(guids, list):
            raise ApiError(400, "Bad Request", ["group_guid must be an array"])
        for g in guids:
            if not isinstance(g, str) or g not in self.st.group_guids:
                raise ApiError(400, "Bad Request", ["Unknown group guid: %s" % (g,)])
        return list(guids)

    def check_create_allowed(self, name):
        if len(self.st.streams) >= self.opts.stream_limit:
            raise ApiError(self.opts.stream_limit_status,
                           "Bad Request" if self.opts.stream_limit_status == 400
                           else "Unprocessable Entity",
                           ["Event stream limit reached: an organization may "
                            "have at most %d event streams" % self.opts.stream_limit])
        if self.opts.duplicate_names == "reject" and \
                any(s["name"] == name for s in self.st.streams.values()):
            raise ApiError(400, "Bad Request",
                           ["Validation failed: Name has already been taken"])

    def new_credentials(self, sid):
        return new_credentials(self.opts, sid, self.st.broker)

    def post_stream(self, path, query, body):
        name, types, guids = self.validate_stream(self.parse_request_body(body), True)
        with self.st.lock:
            self.check_create_allowed(name)
            sid = self.st.next_id
            self.st.next_id += 1
            creds = self.new_credentials(sid)
            s = {"id": sid, "name": name, "event_types": types,
                 "group_guids": guids, "amqp_credentials": creds}
            self.st.streams[sid] = s
        if self.st.broker:
            try:
                self.st.broker.create(creds["queue_name"], creds["user_name"],
                                      creds["password"], types)
            except Exception as e:
                with self.st.lock:
                    del self.st.streams[sid]
                raise ApiError(500, "Internal Server Error", ["broker: %s" % e])
        shown = {k: v for k, v in creds.items() if k not in self.opts.create_omit}
        data = {"id": sid, "name": name, "amqp_credentials": shown}
        for _, _, key, value in self.opts.create_override:
            data[key] = value
        return 201, self.envelope(data)

    def patch_stream(self, s, body):
        params = self.parse_request_body(body)
        name, types, guids = self.validate_stream(params, False)
        if name is not None:
            s["name"] = name
        if "event_type" in params:
            s["event_types"] = types
        if "group_guid" in params:
            s["group_guids"] = guids
        return self.opts.patch_status, self.envelope(stream_item(self.opts, s))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def handle_error(self, request, client_address):
        # TLS failures (a client refusing our certificate) and resets are
        # expected in tests; one line, no traceback.
        sys.stderr.write("amp_api_emulator: connection from %s:%d: %s\n" % (
            client_address[0], client_address[1], sys.exc_info()[1]))


def tls_context(opts):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(opts.cert, opts.key)
    return ctx


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def serve(opts):
    if opts.api_key_file:
        with open(opts.api_key_file) as f:
            api_key = f.read().strip()
    else:
        api_key = opts.api_key
    state = State(opts)
    state.preload()
    server = Server(("127.0.0.1", opts.port), Handler)
    server.socket = tls_context(opts).wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False)
    server.state = state
    server.api_key = api_key
    server.log = open(opts.log, "a") if opts.log else None
    server.log_lock = threading.Lock()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    write_port_file(opts.port_file, server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def publish(argv):
    """Publish events (one JSON object per line of FILE) the way the AMP
    cloud does: exchange events_api_stream, routing key
    ORG.CONNECTOR.EVENT_TYPE_ID, content type application/octet-stream,
    persistent, header CC."""
    import pika
    p = argparse.ArgumentParser(prog="amp_api_emulator.py publish")
    p.add_argument("--broker-env", required=True)
    p.add_argument("--queue", help="publish to this queue directly")
    p.add_argument("file")
    a = p.parse_args(argv)
    env = read_env(a.broker_env)
    with open(env["BROKER_PASSWORD_FILE"]) as f:
        pw = f.read().strip()
    conn = pika.BlockingConnection(pika.ConnectionParameters(
        host=env.get("BROKER_HOST", "127.0.0.1"), port=int(env["BROKER_PORT"]),
        credentials=pika.PlainCredentials(env.get("BROKER_USER", "guest"), pw)))
    ch = conn.channel()
    ch.confirm_delivery()
    n = 0
    with open(a.file, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            ev = json.loads(line)
            rk = "%s.%s.%s" % (ORG_GUID, ev.get("connector_guid", "none"),
                               ev.get("event_type_id", 0))
            cc = ["%s.%s" % (rk, g) for g in ev.get("group_guids", [])]
            props = pika.BasicProperties(content_type="application/octet-stream",
                                         delivery_mode=2, priority=0,
                                         headers={"CC": cc})
            if a.queue:
                ch.basic_publish("", a.queue, line.strip(), props, mandatory=True)
            else:
                ch.basic_publish("events_api_stream", rk, line.strip(), props)
            n += 1
    conn.close()
    print("published %d event(s)" % n)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    a("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)")
    a("--port-file", required=True, help="write the port here when ready")
    a("--cert", required=True, help="server certificate (PEM)")
    a("--key", required=True, help="server key (PEM)")
    a("--client-id", required=True)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--api-key")
    g.add_argument("--api-key-file")
    a("--log", help="append one line per request: METHOD PATH STATUS auth=ok|bad")
    a("--api-version", default="v1.2.0")
    a("--link-host", help="host[:port] used in metadata.links (default: Host header)")
    a("--next-host", help="[test] put this host in next/prev links")
    a("--groups", type=int, default=7, help="number of groups (default 7)")
    a("--computers", type=int, default=3, help="number of computers (default 3)")
    a("--group-name-match", choices=("exact", "substring"), default="exact",
      help="[E] semantics of GET /v1/groups?name=")
    a("--max-limit", type=int, default=500, help="largest page (default 500)")
    a("--over-limit", choices=("clamp", "reject"), default="clamp",
      help="[E] limit above --max-limit: clamp (default) or 400")
    a("--first-stream-id", type=int, default=1474)
    a("--stream-limit", type=int, default=5, help="streams per organisation (5)")
    a("--stream-limit-status", type=int, choices=(400, 422), default=400,
      help="[E] status when the stream limit is reached")
    a("--duplicate-names", choices=("reject", "allow"), default="reject",
      help="[E] a stream name already in use: 400 (default) or accepted")
    a("--stream-items", choices=("full", "omit-empty", "bare"), default="full",
      help="[E] GET /v1/event_streams item shape: full, event_types/group_guids "
      "absent when empty (= all), or only id and name")
    a("--not-found", choices=("404", "400"), default="404",
      help="[E] unknown stream: 404 Not Found or Splunk's 400 'Event stream not found'")
    a("--phantom-stream", action="store_true",
      help="[test] list a stream 999999 'phantom' that GET/DELETE do not find")
    a("--delete-status", type=int, choices=(200, 204), default=200, help="[E]")
    a("--patch-status", type=int, choices=(200, 202), default=200, help="[E]")
    a("--create-omit", action="append", default=[], metavar="FIELD",
      help="[test] leave FIELD out of the 201's amqp_credentials")
    a("--preload-stream", action="append", default=[], type=json.loads,
      metavar="JSON", help='[test] a stream there from the start: '
      '{"name", "event_types", "group_guids"}')
    a("--override", action="append", default=[], type=parse_override,
      metavar="PATH:INDEX:KEY=JSON", help="[hostile] item INDEX of the listing "
      "at PATH gets member KEY set to the JSON value (KEY empty: the item is "
      "replaced), e.g. /v1/groups:0:guid=null")
    a("--create-override", action="append", default=[],
      type=lambda v: parse_override("-:0:" + v), metavar="KEY=JSON",
      help="[hostile] the 201's data gets member KEY set to the JSON value")
    a("--inflate", action="append", default=[], type=parse_inflate,
      metavar="PATH:PAGES:BYTES:SHAPE", help="[hostile] the listing at PATH is "
      "PAGES pages (0: endless) of one item with a name of BYTES bytes (SHAPE "
      "string) or of BYTES bytes of [{}, {}, ...] (objects)")
    a("--error-body", action="append", default=[], type=parse_error_body,
      metavar="PATH=JSON", help="[hostile] paths starting with PATH get HTTP "
      "400 with this JSON body")
    a("--port-type", choices=("string", "int"), default="string",
      help="amqp_credentials.port as documented (string) or an integer")
    a("--proto", default="https", help='amqp_credentials.proto (documented: "https")')
    a("--amqp-host", default=None, help="amqp_credentials.host")
    a("--amqp-port", type=int, default=None, help="amqp_credentials.port")
    a("--broker-env", help="create queues and users on this test broker")
    a("--amqp-ctl-cmd", help="command prefix running rabbitmqctl on the broker "
      "(default: sh tests/lib/broker.sh ctl DIR-of-broker-env)")
    a("--v401-version", default="null",
      help='"version" of the 401 body: null (observed) or e.g. v1.0.0 (docs)')
    a("--rate-headers", choices=("observed", "documented", "lower", "none"),
      default="observed", help="[E] X-RateLimit-* (observed), X-Rate-Limit-* "
      "(documented), observed in lower case, or none")
    a("--rate-budget", type=int, default=3000, help="requests per window (3000)")
    a("--rate-window", type=float, default=3600, help="window in seconds (3600)")
    a("--rate-start-remaining", type=int, default=None,
      help="budget left in the first window (default: the full budget)")
    a("--rate-never-reset", action="store_true",
      help="[test] the budget never comes back")
    a("--retry-after", default=None, help="[E] send Retry-After: VALUE on 429")
    a("--body-429", choices=("envelope", "text"), default="envelope",
      help="[E] 429 body: the error envelope or plain text")
    a("--fail-5xx", type=int, default=0, help="[test] answer the first N requests with 5xx")
    a("--fail-status", type=int, default=503)
    a("--gzip", choices=("auto", "never"), default="auto",
      help="compress bodies when the client accepts gzip (auto, as the API) or never")
    a("--oversize", action="append", default=[], metavar="PATH",
      help="[test] paths starting with PATH get a body of --oversize-bytes")
    a("--oversize-bytes", type=int, default=17 << 20)
    a("--not-json", action="append", default=[], metavar="PATH",
      help="[test] paths starting with PATH get a 200 HTML body")
    return p.parse_args(argv)


def main(argv):
    if argv[:1] == ["publish"]:
        return publish(argv[1:])
    serve(parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
