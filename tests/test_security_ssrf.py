"""Server-side request forgery: URLs from feeds and the command line may not reach inside.

Only http(s); loopback, private, link-local (cloud metadata), unspecified and other non-global
addresses are refused unless PUBLISHER_ALLOW_PRIVATE_URLS is set; every redirect is checked
again before it is followed. The local servers below count what reached them, so "refused"
means nothing was sent.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from publisher import api
from publisher.config import Settings
from publisher.errors import NetworkError, PublisherError, UnsafeURLError
from publisher.net import Http, check_url

ARTICLE = (Path(__file__).parent / "fixtures" / "pages" / "gazette-stoltenberg-kiev.html"
           ).read_text(encoding="utf-8")


class Target:
    """A loopback web server; ``hits`` lists the request lines it received (absolute URIs
    when used as a proxy)."""

    def __init__(self, answer):
        self.hits: list[str] = []
        target = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                target.hits.append(self.path)
                status, headers, body = answer(self.path)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def page():
    target = Target(lambda path: (200, {"Content-Type": "text/html; charset=utf-8"},
                                  ARTICLE.encode()))
    yield target
    target.close()


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "http://", "https:///path", "//example.com/x",
    "http://example.com:99999/", "http://example.com:port/",
])
def test_only_http_and_https_urls_with_a_host(url):
    with pytest.raises(UnsafeURLError):
        check_url(url)


@pytest.mark.parametrize("host", [
    "127.0.0.1", "127.1.2.3", "localhost", "[::1]", "0.0.0.0", "[::]", "10.0.0.8",
    "172.16.5.4", "192.168.1.1", "169.254.169.254", "[fe80::1]", "[fc00::1]", "100.64.0.1",
    "[::ffff:127.0.0.1]", "[::ffff:169.254.169.254]", "2130706433", "0x7f000001", "0177.0.0.1",
    "127.1",
])
def test_private_loopback_and_link_local_addresses_are_refused(host):
    with pytest.raises(UnsafeURLError) as err:
        check_url(f"http://{host}/latest/meta-data/")
    assert "PUBLISHER_ALLOW_PRIVATE_URLS" in str(err.value)


def test_a_global_address_passes_and_private_ones_pass_when_allowed():
    check_url("https://93.184.216.34/article")          # a literal: no DNS needed
    check_url("http://127.0.0.1:8080/x", allow_private=True)


def test_a_private_url_is_refused_before_anything_is_sent(page):
    with pytest.raises(UnsafeURLError):
        Http().get_public(page.url + "/article")
    assert page.hits == []


def test_a_url_given_on_the_command_line_is_refused_unless_allowed(page):
    request = api.DraftRequest(inputs=(page.url + "/article",))
    with pytest.raises(PublisherError) as err:
        api.load_inputs(request, Settings.from_mapping({}))
    assert err.value.reason == "unsafe_url" and page.hits == []
    allowed = Settings.from_mapping({"PUBLISHER_ALLOW_PRIVATE_URLS": "1"})
    sources, _ = api.load_inputs(request, allowed)
    assert page.hits == ["/article"] and "Stoltenberg" in sources[0].text


def test_a_feed_on_a_private_address_is_a_named_failure(page):
    from publisher.feeds.fetch import fetch_feed
    result = fetch_feed(page.url + "/feed.xml", Http())
    assert (result.status, result.reason) == ("failed", "unsafe_url") and page.hits == []


# --- redirects: the first hop is public, the next one points inside ----------------------------

@pytest.mark.parametrize("location", [
    "http://127.0.0.1:{port}/private", "http://169.254.169.254/latest/meta-data/iam/",
    "http://[::1]:{port}/", "http://10.1.2.3/admin", "file:///etc/passwd", "gopher://x/",
    "http://localhost:{port}/", "//127.0.0.1:{port}/protocol-relative",
])
def test_every_redirect_is_checked_again(location):
    """The public hop is served by a loopback *proxy* (requests sends it the absolute URI), so
    nothing leaves the machine; what matters is that the redirect target is never requested."""
    proxy = Target(lambda path: (302, {"Location": location.format(port=port)}, b""))
    port = proxy.server.server_address[1]
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"http": proxy.url, "https": proxy.url}
    try:
        with pytest.raises(UnsafeURLError):
            Http(session=session).get_public("http://93.184.216.34/article")
        assert proxy.hits == ["http://93.184.216.34/article"]
    finally:
        proxy.close()


def test_a_redirect_to_another_public_page_is_followed():
    proxy = Target(lambda path: (302, {"Location": "http://93.184.216.35/final"}, b"")
                   if path.endswith("/article") else (200, {"Content-Type": "text/html"},
                                                      b"<p>ok</p>"))
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"http": proxy.url}
    try:
        resp = Http(session=session).get_public("http://93.184.216.34/article")
        assert resp.url == "http://93.184.216.35/final" and resp.content == b"<p>ok</p>"
    finally:
        proxy.close()


def test_a_host_that_does_not_resolve_is_a_named_network_error():
    with pytest.raises(NetworkError) as err:
        check_url("http://nonexistent.invalid/x")        # .invalid never resolves (RFC 6761)
    assert err.value.reason == "dns_failed"
