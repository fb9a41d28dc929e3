"""A loopback HTTP proxy in front of the real local WordPress, for tests.

It forwards every request to the site and can:
- count requests (``proxy.requests``: (method, path-and-query) in order);
- strip the ``Authorization`` header, as some Apache/FastCGI setups do (``strip_auth=True``);
- lose the answer of one request after WordPress has acted on it (``lose_next``), as a
  dropped connection does.

WordPress sees its own host name (the Host header is rewritten) and the Link/Location headers
it sends are rewritten back to the proxy, so clients discover the API *through* the proxy.

    with WpProxy(site.url, strip_auth=True) as proxy:
        settings = site.settings("author", WP_URL=proxy.url)
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length"}


class WpProxy:
    def __init__(self, target: str, *, strip_auth: bool = False):
        parts = urlsplit(target)
        self.target_host, self.target_port = parts.hostname, parts.port or 80
        self.target_origin = f"{parts.scheme}://{parts.netloc}"
        self.strip_auth = strip_auth
        self.requests: list[tuple[str, str]] = []
        self.lost: list[tuple[str, str]] = []
        self._lose: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "WpProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def lose_next(self, method: str, path_part: str, *, answer: int = 0) -> None:
        """The next ``method`` request whose path contains ``path_part`` reaches WordPress,
        but its answer is dropped: the client sees the connection close, or, with ``answer``
        (e.g. 502), that status from the proxy as a failing gateway would send."""
        with self._lock:
            self._lose.append((method.upper(), path_part, answer))

    def count(self, method: str | None = None, path_part: str = "") -> int:
        return sum(1 for m, p in self.requests
                   if (method is None or m == method.upper()) and path_part in p)

    def _should_lose(self, method: str, path: str) -> tuple[bool, int]:
        with self._lock:
            for rule in self._lose:
                if rule[0] == method and rule[1] in path:
                    self._lose.remove(rule)
                    self.lost.append((method, path))
                    return True, rule[2]
        return False, 0

    def _forward(self, method: str, path: str, headers, body: bytes):
        conn = http.client.HTTPConnection(self.target_host, self.target_port, timeout=60)
        out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        out["Host"] = f"{self.target_host}:{self.target_port}"
        if self.strip_auth:
            out = {k: v for k, v in out.items() if k.lower() != "authorization"}
        try:
            conn.request(method, path, body=body or None, headers=out)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):         # keep pytest output quiet
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy._lock:
                    proxy.requests.append((self.command, self.path))
                status, reason, headers, data = proxy._forward(self.command, self.path,
                                                                self.headers, body)
                lose, answer = proxy._should_lose(self.command, self.path)
                if lose and not answer:
                    self.close_connection = True
                    return                        # nothing written: the answer is lost
                if lose:
                    status, reason, headers, data = answer, "Bad Gateway", [], b"<h1>gateway</h1>"
                self.send_response(status, reason)
                for key, value in headers:
                    if key.lower() in HOP_BY_HOP:
                        continue
                    if key.lower() in ("link", "location"):
                        value = value.replace(proxy.target_origin, proxy.url)
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _any

        return Handler
