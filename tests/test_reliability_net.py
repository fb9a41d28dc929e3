"""publisher.net.Http against a real local server that misbehaves on purpose.

The server speaks raw HTTP/1.1 over a socket, one scripted answer per request, so a test can
drop a connection after reading the request, stall, cut a body short, or trickle it a byte at
a time. Nothing is mocked: requests and urllib3 do their real work.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from publisher.errors import NetworkError
from publisher.net import Http, parse_retry_after


class RawServer:
    """Answers each request with the next scripted action; records (method, path, time)."""

    def __init__(self, *actions):
        self.actions = list(actions)
        self.seen: list[tuple[str, str, float]] = []
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self):
        self._stop.set()
        self._sock.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        with conn:
            head = _read_request(conn)
            if not head:
                return
            method, path = head.split(b" ")[:2]
            self.seen.append((method.decode(), path.decode(), time.monotonic()))
            action = self.actions.pop(0) if self.actions else ok()
            try:
                action(conn, self._stop)
            except OSError:
                pass


def _read_request(conn) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < length:
        rest += conn.recv(65536)
    return head


def _response(status: int, body: bytes = b"{}", headers: dict | None = None,
              length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body) if length is None else length}",
             "Content-Type: application/json", "Connection: close",
             *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def ok(body: bytes = b'{"ok": true}'):
    return lambda conn, stop: conn.sendall(_response(200, body))


def status(code: int, **headers):
    return lambda conn, stop: conn.sendall(_response(code, b'{"code": "x"}', headers))


def drop():
    return lambda conn, stop: conn.shutdown(socket.SHUT_RDWR)


def stall(seconds: float):
    return lambda conn, stop: stop.wait(seconds)


def truncated():
    return lambda conn, stop: conn.sendall(_response(200, b'{"ok": tr', length=200))


def trickle(total: int = 400, every: float = 0.1):
    def act(conn, stop):
        conn.sendall(_response(200, b"", length=total))
        for _ in range(total):
            if stop.wait(every):
                return
            conn.sendall(b" ")
    return act


def redirect(location: str):
    return lambda conn, stop: conn.sendall(_response(302, b"", {"Location": location}))


@pytest.fixture
def server():
    servers = []

    def make(*actions):
        servers.append(RawServer(*actions))
        return servers[-1]
    yield make
    for s in servers:
        s.close()


def fast(**kw) -> Http:
    return Http(**{"timeout": 1.0, "backoff": 0.01, "allow_private": True, **kw})


# --- what is retried -------------------------------------------------------------------------

@pytest.mark.parametrize("failure", [status(500), status(502), status(503), status(504),
                                     status(429), drop(), truncated(), stall(1.5)],
                         ids=["500", "502", "503", "504", "429", "drop", "truncated", "stall"])
def test_get_is_retried_on_transient_failures_then_succeeds(server, failure):
    srv = server(failure, ok())
    resp = fast().request("GET", srv.url + "/x")
    assert resp.json() == {"ok": True}
    assert len(srv.seen) == 2


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 410, 422])
def test_other_client_errors_are_never_retried(server, code):
    srv = server(status(code), ok())
    resp = fast().request("GET", srv.url + "/x")
    assert resp.status_code == code and len(srv.seen) == 1


@pytest.mark.parametrize("failure", [status(500), status(502), status(504), drop(), truncated(),
                                     stall(1.5)],
                         ids=["500", "502", "504", "drop", "truncated", "stall"])
def test_a_post_the_server_may_have_acted_on_is_never_repeated(server, failure):
    srv = server(failure, ok())
    try:
        resp = fast().request("POST", srv.url + "/wp/v2/posts", json={"title": "t"})
    except NetworkError as err:
        assert err.reason in ("timeout", "connection_failed")
    else:
        assert resp.status_code >= 500
    assert len(srv.seen) == 1, "a POST was sent twice"


@pytest.mark.parametrize("failure", [status(429, **{"Retry-After": "0"}),
                                     status(503, **{"Retry-After": "0"})], ids=["429", "503"])
def test_a_post_refused_before_acting_is_retried(server, failure):
    srv = server(failure, ok())
    assert fast().request("POST", srv.url + "/x", json={}).ok
    assert len(srv.seen) == 2


def test_a_refused_connection_is_retried_even_for_post(server):
    """Nothing reached a server, so asking again cannot duplicate anything."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]        # a port nobody listens on
    with pytest.raises(NetworkError) as err:
        fast(retries=2).request("POST", f"http://127.0.0.1:{port}/x", json={})
    assert err.value.reason == "connection_failed" and "cannot connect" in str(err.value)


def test_retry_after_is_honoured(server):
    srv = server(status(429, **{"Retry-After": "1"}), ok())
    assert fast().request("GET", srv.url + "/x").ok
    (_, _, first), (_, _, second) = srv.seen
    assert second - first >= 1.0               # a lower bound: the wait the server asked for


def test_a_retry_after_beyond_the_budget_gives_up_at_once(server):
    srv = server(status(429, **{"Retry-After": "3600"}), ok())
    resp = fast(max_total=5).request("GET", srv.url + "/x")
    assert resp.status_code == 429 and len(srv.seen) == 1


def test_retries_stop_at_the_configured_count(server):
    srv = server(*[status(503)] * 10)
    resp = fast(retries=3).request("GET", srv.url + "/x")
    assert resp.status_code == 503 and len(srv.seen) == 4


@pytest.mark.parametrize("value,seconds", [("0", 0.0), ("7", 7.0), ("-3", 0.0), ("", None),
                                           ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value) == seconds


# --- time and size caps ------------------------------------------------------------------------

def test_every_request_has_a_timeout(server):
    srv = server(stall(3), stall(3))
    with pytest.raises(NetworkError) as err:
        fast(retries=1).request("GET", srv.url + "/x")
    assert err.value.reason == "timeout" and "PUBLISHER_HTTP_TIMEOUT" in str(err.value)


def test_a_trickled_answer_is_cut_at_the_total_budget(server):
    """Each byte arrives well within the read timeout; only the total budget can stop it."""
    srv = server(trickle(total=400, every=0.1))
    with pytest.raises(NetworkError) as err:
        fast(max_total=1.5, retries=0).get_public(srv.url + "/feed")
    assert err.value.reason == "timeout" and "too slow" in str(err.value)


def test_an_item_deadline_stops_requests_before_they_are_sent(server):
    srv = server(ok())
    with pytest.raises(NetworkError) as err:
        fast(deadline=time.monotonic() - 1).request("GET", srv.url + "/x")
    assert err.value.reason == "timeout" and srv.seen == []


def test_a_declared_size_over_the_cap_is_refused_unread(server):
    srv = server(lambda conn, stop: conn.sendall(_response(200, b"x" * 10, length=50_000_000)))
    with pytest.raises(NetworkError) as err:
        fast(max_bytes=1_000_000).get_public(srv.url + "/big")
    assert err.value.reason == "too_large"


def test_an_undeclared_body_over_the_cap_is_cut(server):
    def chunked(conn, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for _ in range(40):
            conn.sendall(b"8000\r\n" + b"x" * 0x8000 + b"\r\n")
        conn.sendall(b"0\r\n\r\n")
    srv = server(chunked)
    with pytest.raises(NetworkError) as err:
        fast(max_bytes=100_000).get_public(srv.url + "/big")
    assert err.value.reason == "too_large"


def test_a_truncated_answer_that_stays_truncated_is_a_named_failure(server):
    srv = server(truncated(), truncated(), truncated())
    with pytest.raises(NetworkError) as err:
        fast(retries=2).request("GET", srv.url + "/x")
    assert err.value.reason == "connection_failed" and "connection broke" in str(err.value)
    assert len(srv.seen) == 3


def test_redirects_are_followed_by_hand_and_capped(server):
    srv = server(*[redirect("/again")] * 10)
    with pytest.raises(NetworkError) as err:
        fast().get_public(srv.url + "/start", max_redirects=3)
    assert err.value.reason == "too_many_redirects" and len(srv.seen) == 4


# --- one deadline over connect, headers and body (issue 14, class 3) --------------------------

def trickle_headers(every: float = 0.05, count: int = 600):
    """The status line at once, then headers one byte at a time: each byte well within the
    read timeout, the whole far beyond any deadline (30 s at the defaults)."""
    def act(conn, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for byte in (b"X-Slow: " + b"a" * count)[:count]:
            if stop.wait(every):
                return
            conn.sendall(bytes([byte]))
        conn.sendall(b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    return act


def test_headers_trickled_a_byte_at_a_time_are_cut_at_the_item_deadline(server):
    srv = server(trickle_headers())
    http = fast(timeout=1.0, deadline=time.monotonic() + 1.5)
    with pytest.raises(NetworkError) as err:
        http.request("GET", srv.url + "/slow-headers")
    message = str(err.value)
    assert err.value.reason == "timeout" and srv.url + "/slow-headers" in message
    assert "PUBLISHER_ITEM_TIMEOUT" in message and "headers" in message
    assert len(srv.seen) == 1, "an attempt cut by the deadline is not retried"


def test_the_total_budget_covers_the_headers_too(server):
    srv = server(trickle_headers())
    with pytest.raises(NetworkError) as err:
        fast(max_total=1.5, retries=0).get_public(srv.url + "/page")
    assert err.value.reason == "timeout" and "headers" in str(err.value)


def test_a_source_page_with_trickled_headers_fails_on_time_with_the_url(server, tmp_path):
    """What the attack saw: a web source whose headers crawl in held the item for minutes
    and ended with 'no article text found'. Now: a timeout naming the URL."""
    from publisher import api
    from publisher.config import Settings
    srv = server(trickle_headers())
    settings = Settings.from_mapping({"PUBLISHER_ALLOW_PRIVATE_URLS": "1",
                                      "PUBLISHER_HTTP_TIMEOUT": "1"})
    request = api.DraftRequest(inputs=(srv.url + "/article",))
    with pytest.raises(NetworkError) as err:
        api.load_inputs(request, settings, deadline=time.monotonic() + 1.5)
    assert err.value.reason == "timeout" and srv.url + "/article" in str(err.value)
    assert "no article text" not in str(err.value)


def test_a_wordpress_trickling_its_headers_is_cut_at_the_item_deadline(server):
    """The same cut for WordPress's requests (they go through the item's Http too)."""
    from publisher import api
    from publisher.config import Settings
    from publisher.wordpress import open_client
    srv = server()
    home = _response(200, b"<html></html>", {"Link": f'<{srv.url}/wp-json/>; '
                                              'rel="https://api.w.org/"'})
    srv.actions[:] = [lambda conn, stop: conn.sendall(home), trickle_headers()]
    settings = Settings.from_mapping({"WP_URL": srv.url, "WP_USERNAME": "u",
                                      "WP_APP_PASSWORD": "p" * 24, "PUBLISHER_HTTP_TIMEOUT": "1"})
    client = open_client(settings, api.item_http(settings, time.monotonic() + 1.5))
    with pytest.raises(NetworkError) as err:
        client.check_auth()
    assert err.value.reason == "timeout" and "/wp-json/wp/v2/users/me" in str(err.value)
    assert [path.split("?")[0] for _, path, _ in srv.seen] == ["/", "/wp-json/wp/v2/users/me"]
