"""A counting, timing loopback proxy in front of the real local WordPress.

publisher is pointed at the proxy (``WP_URL=proxy.url``) and never knows: WordPress sees its
own host name, and the Link/Location headers it sends are rewritten back to the proxy so the
REST API is discovered *through* it. Every request is recorded as a ``Hit`` (method, route,
status, seconds spent waiting for WordPress), which gives requests per draft and the time
WordPress took, measured from outside the product.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length"}


@dataclass(frozen=True)
class Hit:
    method: str
    path: str          # path and query as sent
    status: int
    seconds: float     # request forwarded → whole answer read from WordPress
    started: float     # time.perf_counter()

    @property
    def route(self) -> str:
        """``GET /wp/v2/tags`` style label, query left out (rest_route kept)."""
        parts = urlsplit(self.path)
        rest = dict(parse_qsl(parts.query)).get("rest_route")
        path = parts.path
        if path.startswith("/wp-json"):
            path = path[len("/wp-json"):]
        return f"{self.method} {rest or path or '/'}"


class TimingProxy:
    def __init__(self, target: str):
        parts = urlsplit(target)
        self.host, self.port = parts.hostname, parts.port or 80
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "TimingProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def mark(self) -> int:
        with self._lock:
            return len(self.hits)

    def hits_since(self, index: int) -> list[Hit]:
        with self._lock:
            return list(self.hits[index:])

    def _forward(self, method: str, path: str, headers, body: bytes):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        out["Host"] = f"{self.host}:{self.port}"
        try:
            conn.request(method, path, body=body or None, headers=out)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to answers, which would be charged to publisher.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                t0 = time.perf_counter()
                status, reason, headers, data = proxy._forward(self.command, self.path,
                                                                self.headers, body)
                proxy._record(Hit(self.command, self.path, status,
                                  time.perf_counter() - t0, t0))
                self.send_response(status, reason)
                for key, value in headers:
                    if key.lower() in HOP_BY_HOP:
                        continue
                    if key.lower() in ("link", "location"):
                        value = value.replace(proxy.origin, proxy.url)
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _any

        return Handler
