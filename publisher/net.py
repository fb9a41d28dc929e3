"""All outgoing HTTP goes through here: timeouts, retries with backoff, size caps, SSRF guard.

One log line per request (method, URL without query secrets, status, milliseconds). Headers are
never logged, so credentials can't leak through logs.

Retry policy: connection failures before anything was sent, 429 (honouring Retry-After) and 5xx
are retried with exponential backoff and jitter, within a total time budget. A request that is
not idempotent (POST) is *not* retried after a read timeout or a 5xx, because the server may
have acted on it: the caller must check first (e.g. WordPress by source hash).
"""

from __future__ import annotations

import ipaddress
import logging
import random
import socket
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests

from .errors import NetworkError, UnsafeURLError

log = logging.getLogger(__name__)

USER_AGENT = "publisher/0.1 (+https://github.com/; WordPress drafting tool)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}


@dataclass
class Http:
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 0.5              # first wait; doubles each time, plus jitter
    max_total: float = 120.0          # never spend longer than this on one request
    max_bytes: int = 10 * 1024 * 1024
    allow_private: bool = False       # for get_public(): loopback/private addresses allowed?
    session: requests.Session | None = None

    def __post_init__(self) -> None:
        if self.session is None:
            self.session = requests.Session()
            self.session.headers["User-Agent"] = USER_AGENT

    def request(self, method: str, url: str, *, retry: bool = True, **kwargs) -> requests.Response:
        """Send one request with retries; raise NetworkError when the network fails for good."""
        method = method.upper()
        kwargs.setdefault("timeout", self.timeout)
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            t0 = time.monotonic()
            try:
                resp = self.session.request(method, url, **kwargs)
            except requests.RequestException as exc:
                ms = (time.monotonic() - t0) * 1000
                log.info("%s %s -> %s (%.0f ms)", method, redact(url), type(exc).__name__, ms)
                if retry and self._may_retry_exc(method, exc) and self._budget(attempt, started):
                    self._sleep(attempt, None)
                    continue
                raise _network_error(method, url, exc) from None
            ms = (time.monotonic() - t0) * 1000
            log.info("%s %s -> %s (%.0f ms)", method, redact(url), resp.status_code, ms)
            if (retry and self._may_retry_status(method, resp.status_code)
                    and self._budget(attempt, started)):
                self._sleep(attempt, resp.headers.get("Retry-After"))
                resp.close()
                continue
            return resp

    def get_public(self, url: str, *, max_redirects: int = 5, **kwargs) -> requests.Response:
        """GET a URL taken from users or feeds: http(s) only, no private addresses unless
        allowed, every redirect re-checked, body capped at ``max_bytes``."""
        for _ in range(max_redirects + 1):
            check_url(url, allow_private=self.allow_private)
            resp = self.request("GET", url, allow_redirects=False, stream=True, **kwargs)
            if resp.is_redirect and resp.headers.get("Location"):
                url = urljoin(url, resp.headers["Location"])
                resp.close()
                continue
            _read_capped(resp, self.max_bytes, url)
            return resp
        raise NetworkError(f"{url}: more than {max_redirects} redirects; open it in a browser "
                           "and give publisher the final address", url=url, reason="too_many_redirects")

    # --- policy ---------------------------------------------------------------------------

    def _budget(self, attempt: int, started: float) -> bool:
        return attempt <= self.retries and time.monotonic() - started < self.max_total

    @staticmethod
    def _may_retry_exc(method: str, exc: Exception) -> bool:
        if isinstance(exc, (requests.ConnectTimeout,)):
            return True                       # nothing reached the server
        if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
            return method in SAFE_METHODS or _refused(exc)
        return method in SAFE_METHODS and isinstance(exc, requests.Timeout)

    @staticmethod
    def _may_retry_status(method: str, status: int) -> bool:
        if status not in RETRY_STATUSES:
            return False
        return method in SAFE_METHODS or status in (429, 503)

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        wait = self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 2)
        hinted = parse_retry_after(retry_after)
        if hinted is not None:
            wait = max(wait, hinted)
        time.sleep(min(wait, 60.0))


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def redact(url: str) -> str:
    """A URL fit for logs: no userinfo, no query string values."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    query = "&".join(q.split("=", 1)[0] + ("=…" if "=" in q and not q.startswith("rest_route") else
                                         ("=" + q.split("=", 1)[1] if "=" in q else ""))
                     for q in parts.query.split("&") if q)
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def is_loopback_host(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Refuse non-http(s) URLs and, unless allowed, hosts that resolve to private addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURLError(f"{url!r} is not an http(s) URL; give a full address such as "
                             "https://example.com/article", url=url)
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise NetworkError(f"{parts.hostname}: host not found; check the URL", url=url,
                           reason="dns_failed") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not addr.is_global:
            raise UnsafeURLError(
                f"{url}: {parts.hostname} resolves to a private or local address ({addr}); "
                "set PUBLISHER_ALLOW_PRIVATE_URLS=1 if you really mean to fetch it", url=url)


def _read_capped(resp: requests.Response, max_bytes: int, url: str) -> None:
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        resp.close()
        raise NetworkError(f"{url}: response of {declared} bytes is over the {max_bytes} byte cap",
                           url=url, reason="too_large")
    chunks, size = [], 0
    for chunk in resp.iter_content(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            resp.close()
            raise NetworkError(f"{url}: response is over the {max_bytes} byte cap", url=url,
                               reason="too_large")
        chunks.append(chunk)
    resp._content = b"".join(chunks)  # requests' own cache of the body: .text/.json() use it


def _refused(exc: Exception) -> bool:
    text = str(exc)
    return "Connection refused" in text or "NewConnectionError" in text


def _network_error(method: str, url: str, exc: Exception) -> NetworkError:
    if isinstance(exc, requests.Timeout):
        return NetworkError(f"{method} {redact(url)} timed out; check that the server is up "
                            "or raise PUBLISHER_HTTP_TIMEOUT", url=url, reason="timeout")
    return NetworkError(f"{method} {redact(url)} failed: cannot connect ({type(exc).__name__}); "
                        "check the address and that the server is running", url=url,
                        reason="connection_failed")
