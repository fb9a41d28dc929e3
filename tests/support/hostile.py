"""Small hostile web servers speaking real HTTP on loopback, for the attack classes of issue 14.

``HostileSite(answer)``: every request (any method) is recorded as a ``Hit`` (method, path,
headers, body) and answered by ``answer(hit) -> (status, headers, body)``. The helpers below
build the answers a hostile or misconfigured site gives: a WordPress that echoes the request's
credentials in its error bodies, a home page that redirects elsewhere, a REST root announced
on another origin, a redirect of the authenticated requests themselves.
"""

from __future__ import annotations

import base64
import json
import threading
import xmlrpc.client
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def authorization(self) -> str:
        return self.headers.get("authorization", "")

    def basic_credentials(self) -> str:
        """``user:password`` from a Basic header, or ''."""
        scheme, _, value = self.authorization.partition(" ")
        if scheme.lower() != "basic":
            return ""
        return base64.b64decode(value).decode("utf-8", "replace")


Answer = Callable[[Hit], "tuple[int, dict[str, str], bytes]"]


class HostileSite:
    def __init__(self, answer: Answer | None = None):
        self.hits: list[Hit] = []
        self.answer = answer or (lambda hit: (404, {}, b""))
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                hit = Hit(self.command, self.path,
                          {k.lower(): v for k, v in self.headers.items()},
                          self.rfile.read(length) if length else b"")
                site.hits.append(hit)
                status, headers, body = site.answer(hit)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_OPTIONS = do_DELETE = do_HEAD = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "HostileSite":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def json_answer(status: int, data, **headers) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(data).encode()


def home_linking(root: str) -> tuple[int, dict[str, str], bytes]:
    """A WordPress home page announcing its REST API root at ``root``."""
    return 200, {"Content-Type": "text/html", "Link": f'<{root}>; rel="https://api.w.org/"'}, \
        b"<html><body>Blog</body></html>"


def redirect(location: str, status: int = 302) -> tuple[int, dict[str, str], bytes]:
    return status, {"Location": location}, b""


def echo_credentials(hit: Hit) -> tuple[int, dict[str, str], bytes]:
    """What a leaky proxy or debug plugin answers: the request's own credentials, in every
    form, inside a WordPress-style JSON error (or an XML-RPC fault for xmlrpc.php)."""
    said = f"Authorization: {hit.authorization} (decoded {hit.basic_credentials()})"
    if hit.path.endswith("xmlrpc.php"):
        if b"mt.supportedMethods" in hit.body:           # the library's first, anonymous call
            methods = (["wp.getUsersBlogs", "wp.getPosts", "wp.newPost", "wp.getProfile"],)
            return 200, {"Content-Type": "text/xml"}, xmlrpc.client.dumps(
                methods, methodresponse=True).encode()
        fault = xmlrpc.client.Fault(500, f"refused: {hit.body.decode('utf-8', 'replace')}")
        return 200, {"Content-Type": "text/xml"}, xmlrpc.client.dumps(fault).encode()
    return json_answer(403, {"code": "rest_forbidden", "message": f"Denied. {said}",
                             "data": {"status": 403}})
