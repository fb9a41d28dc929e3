"""Fault injection on loopback: a proxy that breaks HTTP the ways real networks do.

``FaultProxy(target)`` forwards every request to ``target`` (the real local WordPress, or the
fake LLM server) and, when a queued :class:`Fault` matches a request, breaks that exchange:

    drop_before   close the connection without forwarding        (nothing reached the server)
    drop_after    forward, then close without answering          (the server acted, answer lost)
    stall         hold the request ``seconds`` without forwarding, then close (client timeout)
    stall_after   forward, then hold the answer ``seconds`` and close (acted, then timeout)
    status        answer ``status`` itself without forwarding (500/502/503/429 + Retry-After)
    status_after  forward, then answer ``status`` instead of the real answer (a failing gateway)
    truncate      forward, send the headers and half the body, then close
    malformed     forward, send the real status with a body that is not JSON any more

Each fault fires once, on the ``nth`` request that matches ``method`` and the ``path`` regular
expression (searched in the path without its query string). ``proxy.injected`` lists what
fired. WordPress's Link/Location headers are rewritten to the proxy, so clients discover the
REST API *through* it.

``random_schedule(rng, ...)`` draws a seeded, reproducible set of faults for one
``publisher draft`` run (see tests/test_reliability_faults.py).
"""

from __future__ import annotations

import http.client
import json
import random
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["Fault", "FaultProxy", "random_schedule", "KINDS", "WP_TARGETS", "LLM_TARGET"]

KINDS = ("drop_before", "drop_after", "stall", "stall_after", "status", "status_after",
         "truncate", "malformed")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length"}


@dataclass(frozen=True)
class Fault:
    kind: str
    method: str = ""            # "" matches any method
    path: str = ""              # regular expression searched in the path ("" matches any)
    nth: int = 1                # fire on the nth matching request
    status: int = 503           # for status / status_after
    retry_after: str = ""       # Retry-After header sent with status faults
    seconds: float = 2.0        # for stall / stall_after

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")

    def matches(self, method: str, path: str) -> bool:
        return ((not self.method or self.method == method)
                and (not self.path or re.search(self.path, path) is not None))

    def label(self) -> str:
        extra = f" {self.status}" if self.kind.startswith("status") else ""
        return f"{self.kind}{extra} {self.method or '*'} {self.path or '*'} #{self.nth}"


class FaultProxy:
    """A threaded HTTP/1.1 proxy on 127.0.0.1 (random port) in front of ``target``."""

    def __init__(self, target: str):
        parts = urlsplit(target)
        self.target_host, self.target_port = parts.hostname, parts.port or 80
        self.target_origin = f"{parts.scheme}://{parts.netloc}"
        self.requests: list[tuple[str, str]] = []
        self.injected: list[tuple[Fault, str, str]] = []
        self._pending: list[list] = []            # [fault, matches seen so far]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    # --- scripting ----------------------------------------------------------------------

    def add(self, *faults: Fault) -> "FaultProxy":
        with self._lock:
            self._pending.extend([f, 0] for f in faults)
        return self

    def clear(self) -> None:
        """Forget the faults not fired yet."""
        with self._lock:
            self._pending.clear()

    def reset(self) -> None:
        """Forget everything: pending faults, what fired, the requests seen."""
        with self._lock:
            self._pending.clear()
            self.injected.clear()
            self.requests.clear()

    def count(self, method: str = "", path: str = "") -> int:
        """Requests seen with ``method`` whose path matches the ``path`` regex."""
        return sum(1 for m, p in self.requests
                   if (not method or m == method) and (not path or re.search(path, p)))

    @property
    def pending(self) -> list[Fault]:
        return [f for f, _ in self._pending]

    def _take(self, method: str, path: str) -> Fault | None:
        """The fault that fires on this request, if any (counted for every matching fault)."""
        fired = None
        with self._lock:
            self.requests.append((method, path))
            for entry in list(self._pending):
                fault = entry[0]
                if not fault.matches(method, path):
                    continue
                entry[1] += 1
                if entry[1] == fault.nth and fired is None:
                    fired = fault
                    self._pending.remove(entry)
                    self.injected.append((fault, method, path))
        return fired

    # --- forwarding ---------------------------------------------------------------------

    def forward(self, method: str, path: str, headers, body: bytes):
        conn = http.client.HTTPConnection(self.target_host, self.target_port, timeout=120)
        out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        out["Host"] = f"{self.target_host}:{self.target_port}"
        try:
            conn.request(method, path, body=body or None, headers=out)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def rewrite(self, key: str, value: str) -> str:
        if key.lower() in ("link", "location"):
            return value.replace(self.target_origin, self.url)
        return value


def _error_body(status: int) -> bytes:
    """An error body both WordPress's and OpenAI's clients can read."""
    message = f"fault injected: HTTP {status}"
    return json.dumps({"code": "fault_injected", "message": message,
                       "error": {"message": message, "type": "server_error",
                                 "code": None}}).encode()


class _Handler(BaseHTTPRequestHandler):
    """One client connection; ``self.server.proxy`` is the FaultProxy it serves."""

    protocol_version = "HTTP/1.1"

    @property
    def proxy(self) -> "FaultProxy":
        return self.server.proxy

    def log_message(self, *args):             # keep pytest output quiet
        pass

    def _any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = self.proxy._take(self.command, self.path.split("?", 1)[0])
        kind = fault.kind if fault else ""
        if kind == "drop_before":
            return self._drop()
        if kind == "stall":
            self.proxy._stop.wait(fault.seconds)
            return self._drop()
        if kind == "status":
            return self._status(fault)
        answer = self.proxy.forward(self.command, self.path, self.headers, body)
        if kind == "drop_after":
            return self._drop()
        if kind == "stall_after":
            self.proxy._stop.wait(fault.seconds)
            return self._drop()
        if kind == "status_after":
            return self._status(fault)
        self._send(*answer, fault=fault)

    def _send(self, status, reason, headers, data, *, fault: Fault | None = None):
        declared = len(data)
        if fault and fault.kind == "malformed":
            data = b"<br />\n<b>Fatal error</b>: " + data[: len(data) // 2]
            declared = len(data)
        elif fault and fault.kind == "truncate":
            data = data[: len(data) // 2]
        try:
            self.send_response(status, reason)
            for key, value in headers:
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, self.proxy.rewrite(key, value))
            self.send_header("Content-Length", str(declared))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
                self.wfile.flush()
        except OSError:
            return
        if fault and fault.kind == "truncate":
            self._drop()

    def _status(self, fault: Fault):
        data = _error_body(fault.status)
        try:
            self.send_response(fault.status)
            self.send_header("Content-Type", "application/json")
            if fault.retry_after:
                self.send_header("Retry-After", fault.retry_after)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _any


# --- schedules --------------------------------------------------------------------------------

# The requests one `publisher draft` makes to WordPress, as (method, path regex), with weights:
# the post create is where a duplicate or a lost draft would come from, so it is hit most.
WP_TARGETS = (
    (("POST", r"/wp/v2/posts$"), 6),          # the create
    (("GET", r"/wp/v2/posts$"), 2),           # the source-hash lookup
    (("POST", r"/wp/v2/posts/\d+$"), 1),      # the update after a found orphan
    (("POST", r"/wp/v2/tags$"), 2),
    (("GET", r"/wp/v2/tags$"), 1),
    (("GET", r"/wp/v2/categories$"), 1),
    (("OPTIONS", r"/wp/v2/posts$"), 1),
    (("GET", r"/wp/v2/users/me$"), 1),
    (("GET", r"^/$"), 1),                     # discovery
)
LLM_TARGET = ("POST", r"/chat/completions$")
STATUSES = (500, 502, 503, 429)


def _fault(rng: random.Random, method: str, path: str, stall: float, nth_max: int,
           kinds: tuple[str, ...] = KINDS) -> Fault:
    kind = rng.choice(kinds)
    status = rng.choice(STATUSES)
    retry_after = rng.choice(("0", "1")) if status in (429, 503) else ""
    return Fault(kind, method, path, nth=rng.randint(1, nth_max), status=status,
                 retry_after=retry_after, seconds=stall)


def random_schedule(rng: random.Random, *, wp_stall: float, llm_stall: float, most: int = 3,
                    llm_kinds: tuple[str, ...] = KINDS) -> tuple[list[Fault], list[Fault]]:
    """(WordPress faults, LLM faults) for one run: 1 to ``most`` faults, drawn from ``rng``.
    Some may never fire (a request the run does not make, or makes fewer times)."""
    wp, llm = [], []
    targets, weights = zip(*WP_TARGETS)
    for _ in range(rng.randint(1, most)):
        if rng.random() < 0.3:
            llm.append(_fault(rng, *LLM_TARGET, llm_stall, 2, llm_kinds))
        else:
            method, path = rng.choices(targets, weights)[0]
            wp.append(_fault(rng, method, path, wp_stall, 2 if method == "POST" else 1))
    return wp, llm
