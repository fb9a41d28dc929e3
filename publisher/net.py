"""All outgoing HTTP goes through here: timeouts, retries with backoff, size caps, SSRF guard.

One log line per request (method, URL without query secrets, status, milliseconds). Headers are
never logged, so credentials can't leak through logs.

Retry policy: connection failures before anything was sent, 429 (honouring Retry-After) and 5xx
are retried with exponential backoff and jitter, within a total time budget. A request that is
not idempotent (POST) is *not* retried after a read timeout, a dropped connection, a cut-off
answer or a 5xx other than 503, because the server may have acted on it: the caller must check
first (e.g. WordPress by source hash). Other 4xx are never retried.

Time: ``timeout`` bounds each connect and each read; ``max_total`` bounds one request from the
first byte sent to the last byte read, retries and waits included (a watchdog closes a socket
that trickles an answer past it), and ``deadline`` (a ``time.monotonic()`` value), when set,
bounds every request of one item.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import socket
import threading
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
# Failures that say nothing about the request itself: asking again may work.
TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
             requests.exceptions.ContentDecodingError)
MAX_WAIT = 60.0


class _Overtime(requests.Timeout):
    """The watchdog cut an answer that took longer than the request's time budget."""


@dataclass
class Http:
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 0.5              # first wait; doubles each time, plus jitter
    max_total: float = 120.0          # never spend longer than this on one request
    max_bytes: int = 10 * 1024 * 1024
    allow_private: bool = False       # for get_public(): loopback/private addresses allowed?
    session: requests.Session | None = None
    deadline: float | None = None     # time.monotonic() after which no request may run

    def __post_init__(self) -> None:
        if self.session is None:
            self.session = requests.Session()
            self.session.headers["User-Agent"] = USER_AGENT

    def request(self, method: str, url: str, *, retry: bool = True, **kwargs) -> requests.Response:
        """Send one request with retries; raise NetworkError when the network fails for good.

        The body is read here, under the size cap and the time budget, unless the caller asks
        ``stream=True`` (then reading it is the caller's job)."""
        method = method.upper()
        kwargs.setdefault("timeout", self.timeout)
        raw = kwargs.pop("stream", False)
        started, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            t0 = time.monotonic()
            try:
                resp = self._send(method, url, raw, self._ends(started), kwargs)
            except requests.RequestException as exc:
                log.info("%s %s -> %s (%.0f ms)", method, redact(url), type(exc).__name__,
                         (time.monotonic() - t0) * 1000)
                wait = self._wait(attempt, started, None) if (
                    retry and self._may_retry_exc(method, exc)) else None
                if wait is None:
                    raise _network_error(method, url, exc) from None
                time.sleep(wait)
                continue
            log.info("%s %s -> %s (%.0f ms)", method, redact(url), resp.status_code,
                     (time.monotonic() - t0) * 1000)
            wait = self._wait(attempt, started, resp.headers.get("Retry-After")) if (
                retry and self._may_retry_status(method, resp.status_code)) else None
            if wait is None:
                return resp
            resp.close()
            time.sleep(wait)

    def get_public(self, url: str, *, max_redirects: int = 5, **kwargs) -> requests.Response:
        """GET a URL taken from users or feeds: http(s) only, no private addresses unless
        allowed, every redirect re-checked, body capped at ``max_bytes`` and ``max_total``."""
        kwargs.pop("stream", None)
        for _ in range(max_redirects + 1):
            check_url(url, allow_private=self.allow_private)
            resp = self.request("GET", url, allow_redirects=False, **kwargs)
            if resp.is_redirect and resp.headers.get("Location"):
                url = urljoin(url, resp.headers["Location"])
                continue
            return resp
        raise NetworkError(f"{redact(url)}: more than {max_redirects} redirects; open it in a "
                           "browser and give publisher the final address", url=url,
                           reason="too_many_redirects")

    # --- one attempt --------------------------------------------------------------------

    def _send(self, method: str, url: str, raw: bool, ends: float, kwargs: dict):
        if time.monotonic() >= ends:
            raise _Overtime("no time left in the budget")
        resp = self.session.request(method, url, stream=True, **kwargs)
        if not raw:
            _read_capped(resp, self.max_bytes, url, ends)
        return resp

    # --- policy ---------------------------------------------------------------------------

    def _ends(self, started: float) -> float:
        ends = started + self.max_total
        return min(ends, self.deadline) if self.deadline is not None else ends

    def _wait(self, attempt: int, started: float, retry_after: str | None) -> float | None:
        """Seconds to wait before the next attempt, or None to give up (no retries left, or
        the wait would run past the time budget)."""
        if attempt > self.retries:
            return None
        wait = self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 2)
        hinted = parse_retry_after(retry_after)
        if hinted is not None:
            wait = max(wait, hinted)
        wait = min(wait, MAX_WAIT)
        if time.monotonic() + wait >= self._ends(started):
            return None
        return wait

    @staticmethod
    def _may_retry_exc(method: str, exc: Exception) -> bool:
        if isinstance(exc, (requests.exceptions.SSLError, _Overtime)):
            return False                      # a bad certificate stays bad; no time left
        if isinstance(exc, requests.ConnectTimeout):
            return True                       # nothing reached the server
        if method in SAFE_METHODS:
            return isinstance(exc, TRANSIENT)
        return isinstance(exc, requests.ConnectionError) and _refused(exc)

    @staticmethod
    def _may_retry_status(method: str, status: int) -> bool:
        if status not in RETRY_STATUSES:
            return False
        return method in SAFE_METHODS or status in (429, 503)


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
    except (TypeError, ValueError, OverflowError):
        return None


def redact(url: str) -> str:
    """A URL fit for logs: no userinfo, no query string values."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:                    # "host:abc": show no port rather than fail a log line
        port = None
    if port:
        netloc += f":{port}"
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
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise UnsafeURLError(f"{url!r} is not an http(s) URL; give a full address such as "
                             "https://example.com/article", url=url)
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 80, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise NetworkError(f"{parts.hostname}: host not found; check the URL", url=url,
                           reason="dns_failed") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not addr.is_global:
            raise UnsafeURLError(
                f"{redact(url)}: {parts.hostname} resolves to a private or local address "
                f"({addr}); set PUBLISHER_ALLOW_PRIVATE_URLS=1 if you really mean to fetch it",
                url=url)


def _read_capped(resp: requests.Response, max_bytes: int, url: str,
                 ends: float = float("inf")) -> None:
    """Read the whole body into ``resp`` (so .text/.json() work), or raise: NetworkError when
    it is over ``max_bytes``, a requests error when it is cut off or runs past ``ends``."""
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        resp.close()
        raise NetworkError(f"{redact(url)}: response of {declared} bytes is over the "
                           f"{max_bytes} byte cap", url=url, reason="too_large")
    watchdog = _watchdog(resp, ends)
    chunks, size = [], 0
    try:
        for chunk in resp.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                resp.close()
                raise NetworkError(f"{redact(url)}: response is over the {max_bytes} byte cap",
                                   url=url, reason="too_large")
            chunks.append(chunk)
    except requests.RequestException:
        resp.close()
        if time.monotonic() >= ends:
            raise _Overtime(f"{redact(url)}: the answer took too long") from None
        raise
    finally:
        if watchdog:
            watchdog.cancel()
    resp._content = b"".join(chunks)  # requests' own cache of the body: .text/.json() use it
    resp._content_consumed = True


def _watchdog(resp: requests.Response, ends: float) -> threading.Timer | None:
    """A timer that shuts the response's socket down at ``ends``: a read timeout only bounds
    the wait for *each* packet, so a server trickling bytes would otherwise hold us forever."""
    if ends == float("inf"):
        return None
    timer = threading.Timer(max(0.0, ends - time.monotonic()), _shutdown, (resp,))
    timer.daemon = True
    timer.start()
    return timer


def _shutdown(resp: requests.Response) -> None:
    sock = _socket_of(resp)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _socket_of(resp: requests.Response):
    connection = getattr(resp.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:                   # urllib3 released the connection: reach the file's socket
        fp = getattr(getattr(resp.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock


def _refused(exc: Exception) -> bool:
    text = str(exc)
    return "Connection refused" in text or "NewConnectionError" in text


def _network_error(method: str, url: str, exc: Exception) -> NetworkError:
    # Reasons stay the stable few callers know (feeds count them all as "unreachable").
    where = f"{method} {redact(url)}"
    if isinstance(exc, _Overtime):
        return NetworkError(f"{where} took longer than its time budget; the server is too slow "
                            "or stalled, try again later", url=url, reason="timeout")
    if isinstance(exc, requests.Timeout):
        return NetworkError(f"{where} timed out; check that the server is up "
                            "or raise PUBLISHER_HTTP_TIMEOUT", url=url, reason="timeout")
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(f"{where} failed: the TLS certificate was refused; fix the site's "
                            "certificate (or its chain) and retry", url=url,
                            reason="connection_failed")
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ContentDecodingError)):
        return NetworkError(f"{where}: the connection broke while reading the answer (cut off "
                            "or garbled); try again", url=url, reason="connection_failed")
    if isinstance(exc, requests.ConnectionError) and not _refused(exc):
        return NetworkError(f"{where}: the connection was dropped before the answer arrived; "
                            "check the server and try again", url=url, reason="connection_failed")
    return NetworkError(f"{where} failed: cannot connect ({type(exc).__name__}); "
                        "check the address and that the server is running", url=url,
                        reason="connection_failed")
