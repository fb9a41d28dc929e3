"""All outgoing HTTP goes through here: timeouts, retries with backoff, size caps, SSRF guard.

One log line per request (method, URL without query secrets, status, milliseconds). Headers are
never logged, so credentials can't leak through logs.

Retry policy: connection failures before anything was sent, 429 (honouring Retry-After) and 5xx
are retried with exponential backoff and jitter, within a total time budget. A request that is
not idempotent (POST) is *not* retried after a read timeout, a dropped connection, a cut-off
answer or a 5xx other than 503, because the server may have acted on it: the caller must check
first (e.g. WordPress by source hash). Other 4xx are never retried.

Time: ``timeout`` bounds each connect and each read; ``max_total`` bounds one request, retries
and waits included, and ``deadline`` (a ``time.monotonic()`` value), when set, bounds every
request of one item. Both are enforced on the sockets themselves: every socket an attempt uses
(connect, TLS handshake, request, status line and headers, body) is shut down when the budget
runs out, because a read timeout only bounds the wait for *each* packet and a server trickling
its headers a byte at a time would otherwise hold the item for as long as it likes.

Addresses: ``get_public`` resolves the host once, refuses it if any address is not public
(IPv6 forms that embed an IPv4 address are judged by that IPv4 address), and the connection is
made to one of the addresses that were checked (the Host header, SNI and certificate check keep
the name): a second, different DNS answer (DNS rebinding) is never asked for.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import socket
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Callable
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .errors import NetworkError, UnsafeURLError

log = logging.getLogger(__name__)

USER_AGENT = "publisher/0.1 (+https://github.com/; WordPress drafting tool)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
# Failures that say nothing about the request itself: asking again may work.
TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
             requests.exceptions.ContentDecodingError)
MAX_WAIT = 60.0


# host, port -> addresses (strings); the default asks the system resolver.
Resolver = Callable[[str, int], list[str]]


class _Overtime(requests.Timeout):
    """The request's time budget ran out (the watch shut its socket, or none was left)."""

    def __init__(self, phase: str, item: bool = False):
        super().__init__(phase)
        self.phase, self.item = phase, item


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
    resolver: Resolver | None = field(default=None, repr=False)   # None: the system's DNS

    def __post_init__(self) -> None:
        if self.session is None:
            self.session = requests.Session()
            self.session.headers["User-Agent"] = USER_AGENT
        adapter = _Adapter()          # watched sockets; pinned addresses for get_public()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

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
        guard = _Guard(self.allow_private, self.resolver)     # one per call: every hop too
        for _ in range(max_redirects + 1):
            checked = check_url(url, allow_private=self.allow_private, resolver=self.resolver)
            guard.pin(urlsplit(url).hostname or "", checked)
            token = _GUARD.set(guard)
            try:
                resp = self.request("GET", url, allow_redirects=False, **kwargs)
            finally:
                _GUARD.reset(token)
            if resp.is_redirect and resp.headers.get("Location"):
                url = urljoin(url, resp.headers["Location"])
                continue
            return resp
        raise NetworkError(f"{redact(url)}: more than {max_redirects} redirects; open it in a "
                           "browser and give publisher the final address", url=url,
                           reason="too_many_redirects")

    # --- one attempt --------------------------------------------------------------------

    def _send(self, method: str, url: str, raw: bool, ends: float, kwargs: dict):
        """One attempt under a watch that shuts its sockets at ``ends``: connect, headers
        and body together, however slowly the server trickles them."""
        item = self.deadline is not None and ends >= self.deadline
        left = ends - time.monotonic()
        if left <= 0:
            raise _Overtime("waiting to send it (no time was left)", item)
        kwargs = {**kwargs, "timeout": _clamp(kwargs.get("timeout"), left)}
        watch, phase = _Watch(ends), "connecting or waiting for the status line and headers"
        token = _WATCH.set(watch)
        try:
            resp = self.session.request(method, url, stream=True, **kwargs)
            # A cut at the end of a header line or of a body without Content-Length looks
            # like a normal end to http.client: what the watch cut is never trusted.
            if watch.fired:
                raise requests.ConnectionError("cut by the watch")
            phase = "reading the body"
            if not raw:
                _read_capped(resp, self.max_bytes, url)
                if watch.fired:
                    raise requests.ConnectionError("cut by the watch")
            return resp
        except requests.RequestException:
            if watch.fired:
                raise _Overtime(phase, item) from None
            raise
        finally:
            _WATCH.reset(token)
            if not raw:                     # raw: the watch keeps bounding the caller's read
                watch.close()

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


def check_url(url: str, *, allow_private: bool = False,
              resolver: Resolver | None = None) -> list[str]:
    """Refuse non-http(s) URLs and, unless allowed, hosts that resolve to private addresses.
    Returns the checked addresses, to connect to (none when private ones are allowed)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise UnsafeURLError(f"{url!r} is not an http(s) URL; give a full address such as "
                             "https://example.com/article", url=url)
    if allow_private:
        return []
    default = 443 if parts.scheme == "https" else 80
    return checked_addresses(parts.hostname, port or default, resolver=resolver, url=url)


def checked_addresses(host: str, port: int, *, resolver: Resolver | None = None,
                      allow_private: bool = False, url: str = "") -> list[str]:
    """Every address ``host`` resolves to, all of them public (else UnsafeURLError)."""
    url = url or f"http://{host}:{port}/"
    try:
        found = (resolver or _system_resolver)(host, port)
    except (OSError, UnicodeError):
        found = []
    if not found:
        raise NetworkError(f"{host}: host not found; check the URL", url=url,
                           reason="dns_failed")
    for text in found:
        addr = ipaddress.ip_address(text.split("%", 1)[0])
        if not allow_private and not is_public_address(addr):
            raise UnsafeURLError(
                f"{redact(url)}: {host} resolves to a private or local address "
                f"({addr}); set PUBLISHER_ALLOW_PRIVATE_URLS=1 if you really mean to fetch it",
                url=url)
    return list(dict.fromkeys(found))


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


# IPv6 ranges that carry an IPv4 address: a NAT64 gateway (RFC 6052) or a 6to4 relay delivers
# the packet to that IPv4 address, so it is the one to judge.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_REFUSED_V6 = tuple(ipaddress.ip_network(n) for n in (
    "64:ff9b:1::/48",     # local-use NAT64 (RFC 8215): an operator's own translator
    "2001::/32",          # Teredo: the server and the obfuscated client are both IPv4
    "fec0::/10",          # site-local (deprecated, still routed inside some networks)
    "::/96",              # IPv4-compatible (deprecated): ::a.b.c.d, :: and ::1 included
))


def is_public_address(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether publisher may connect to ``addr`` for a URL taken from users or feeds."""
    if addr.is_multicast:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        if any(addr in net for net in _REFUSED_V6):
            return False
        embedded = addr.ipv4_mapped or addr.sixtofour or (
            ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF) if addr in _NAT64 else None)
        if embedded is not None:
            return is_public_address(embedded)
    return addr.is_global


def _read_capped(resp: requests.Response, max_bytes: int, url: str) -> None:
    """Read the whole body into ``resp`` (so .text/.json() work), or raise: NetworkError when
    it is over ``max_bytes``, a requests error when it is cut off (by the server, or by the
    attempt's watch)."""
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        resp.close()
        raise NetworkError(f"{redact(url)}: response of {declared} bytes is over the "
                           f"{max_bytes} byte cap", url=url, reason="too_large")
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
        raise
    resp._content = b"".join(chunks)  # requests' own cache of the body: .text/.json() use it
    resp._content_consumed = True


# --- the watch: one attempt's time budget, enforced on its sockets ---------------------------

class _Watch:
    """Shuts down every socket of one attempt when its budget ends. Each socket is held as a
    duplicate descriptor: shutdown acts on the connection behind all of them (a TLS socket
    included, even mid-handshake), and urllib3 closing its own copy cannot make us cut a
    descriptor number the system has since given to someone else."""

    def __init__(self, ends: float):
        self.fired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, ends - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def add(self, sock) -> None:
        try:
            dup = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except (OSError, ValueError):
            return
        with self._lock:
            if not self.fired:
                self._socks.append(dup)
                return
        _cut(dup)

    def _fire(self) -> None:
        with self._lock:
            self.fired, socks, self._socks = True, self._socks, []
        for sock in socks:
            _cut(sock)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            socks, self._socks = self._socks, []
        for sock in socks:
            sock.close()


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _Guard:
    """What the connections of one ``get_public`` call may connect to: for each host, the
    addresses ``check_url`` checked, or (a host it did not resolve: private addresses allowed)
    the first answer, resolved once and kept, so no later answer is ever used."""

    def __init__(self, allow_private: bool = False, resolver: Resolver | None = None):
        self.allow_private, self.resolver = allow_private, resolver
        self.pins: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def pin(self, host: str, addresses: list[str]) -> None:
        if addresses:
            with self._lock:
                self.pins.setdefault(_host_key(host), addresses)

    def addresses(self, host: str, port: int) -> list[str]:
        with self._lock:
            pinned = self.pins.get(_host_key(host))
        if not pinned:
            pinned = checked_addresses(host, port, resolver=self.resolver,
                                       allow_private=self.allow_private)
            self.pin(host, pinned)
        return self.pins[_host_key(host)]


_WATCH: ContextVar[_Watch | None] = ContextVar("publisher_net_watch", default=None)
_GUARD: ContextVar[_Guard | None] = ContextVar("publisher_net_guard", default=None)


def _host_key(host: str) -> str:
    """One spelling per host: urllib3 sees the IDNA (punycode) form requests sends."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _clamp(timeout, left: float):
    """The request's connect/read timeouts, none longer than the time ``left``."""
    left = max(0.001, left)
    if isinstance(timeout, tuple):
        return tuple(left if t is None else min(t, left) for t in timeout)
    return left if timeout is None else min(timeout, left)


# --- urllib3 connections that register with the watch, and pinned ones -----------------------

class _Watched:
    """Mixin for urllib3 connections: every socket used goes on the current attempt's watch;
    a ``pinned`` connection connects only to addresses its guard checked."""

    pinned = False

    def _new_conn(self):
        if not self.pinned:
            sock = super()._new_conn()
        else:
            sock = self._pinned_conn(_GUARD.get() or _Guard())   # no guard: check anyway
        watch = _WATCH.get()
        if watch is not None:
            watch.add(sock)
        return sock

    def _pinned_conn(self, guard: _Guard):
        name = self._dns_host
        addresses = guard.addresses(name.rstrip("."), self.port)
        for n, address in enumerate(addresses, 1):
            self._dns_host = address          # only the TCP connect uses it; SNI uses .host
            try:
                return super()._new_conn()
            except (NewConnectionError, ConnectTimeoutError):
                if n == len(addresses):
                    raise
            finally:
                self._dns_host = name
        raise NewConnectionError(self, f"no address to connect to for {name}")

    def request(self, *args, **kwargs):
        watch = _WATCH.get()
        if watch is not None and self.sock is not None:    # a kept-alive connection
            watch.add(self.sock)
        return super().request(*args, **kwargs)


class _Conn(_Watched, HTTPConnection):
    pass


class _TLSConn(_Watched, HTTPSConnection):
    pass


class _PinnedConn(_Watched, HTTPConnection):
    pinned = True


class _PinnedTLSConn(_Watched, HTTPSConnection):
    pinned = True


def _pool(base, conn):
    return type(f"{conn.__name__}Pool", (base,), {"ConnectionCls": conn})


_POOLS = {"http": _pool(HTTPConnectionPool, _Conn), "https": _pool(HTTPSConnectionPool, _TLSConn)}
_PINNED_POOLS = {"http": _pool(HTTPConnectionPool, _PinnedConn),
                 "https": _pool(HTTPSConnectionPool, _PinnedTLSConn)}


class _Adapter(HTTPAdapter):
    """requests' adapter with watched connections; while a ``get_public`` guard is set and
    no proxy is in the way, its requests go through a separate pool of pinned connections
    (a proxy resolves the name itself: the check of the first hop is all we can do there)."""

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS
        self.pinned = PoolManager(num_pools=connections, maxsize=maxsize, block=block,
                                  **pool_kwargs)
        self.pinned.pool_classes_by_scheme = _PINNED_POOLS

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager).__name__ == "ProxyManager":      # not SOCKS: its pools are its own
            manager.pool_classes_by_scheme = _POOLS
        return manager

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        if _GUARD.get() is None or select_proxy(request.url, proxies):
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify,
                                                                             cert)
        return self.pinned.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    def close(self):
        super().close()
        self.pinned.clear()


def _refused(exc: Exception) -> bool:
    text = str(exc)
    return "Connection refused" in text or "NewConnectionError" in text


def _network_error(method: str, url: str, exc: Exception) -> NetworkError:
    # Reasons stay the stable few callers know (feeds count them all as "unreachable").
    where = f"{method} {redact(url)}"
    if isinstance(exc, _Overtime) and exc.item:
        return NetworkError(f"{where} was cut at the item's deadline (PUBLISHER_ITEM_TIMEOUT) "
                            f"while {exc.phase}; the server is too slow or stalled: try again "
                            "later or raise PUBLISHER_ITEM_TIMEOUT", url=url, reason="timeout")
    if isinstance(exc, _Overtime):
        return NetworkError(f"{where} took longer than its time budget while {exc.phase}; the "
                            "server is too slow or stalled, try again later", url=url,
                            reason="timeout")
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
