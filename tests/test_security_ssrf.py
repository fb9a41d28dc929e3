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


# --- IPv6 forms that carry an IPv4 address, and pinned connections (issue 14, class 9) --------

@pytest.mark.parametrize("host", [
    "[64:ff9b::7f00:1]", "[64:ff9b::a9fe:a9fe]", "[64:ff9b::a00:8]",  # NAT64 → 127/8, metadata, 10/8
    "[64:ff9b:1::a00:8]",                                          # local-use NAT64
    "[2002:7f00:1::1]", "[2002:a9fe:a9fe::]", "[2002:c0a8:101::1]",    # 6to4 → loopback, metadata, 192.168
    "[::127.0.0.1]", "[::a9fe:a9fe]", "[::10.0.0.8]",              # IPv4-compatible
    "[::ffff:10.0.0.8]", "[::ffff:7f00:1]",                        # IPv4-mapped
    "[fec0::1]", "[fec0:0:0:1::1]",                                # site-local
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "[2001::7f00:1]",    # Teredo
    "[ff02::1]", "224.0.0.1",                                      # multicast
])
def test_ipv6_forms_that_embed_a_private_ipv4_address_are_refused(host):
    with pytest.raises(UnsafeURLError) as err:
        check_url(f"http://{host}/latest/meta-data/")
    assert "PUBLISHER_ALLOW_PRIVATE_URLS" in str(err.value)


@pytest.mark.parametrize("host", ["[64:ff9b::5db8:d822]", "[2002:5db8:d822::1]",
                                  "[::ffff:93.184.216.34]", "[2606:2800:220:1::]"])
def test_ipv6_forms_that_embed_a_public_ipv4_address_pass(host):
    assert check_url(f"http://{host}/article")


class NamedSite:
    """A loopback server that records the Host header and the path of each request; ``/hop``
    redirects to ``/final`` and closes the connection, so the next hop connects anew."""

    def __init__(self, address: str = "127.0.0.1", port: int = 0):
        self.seen: list[tuple[str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                site.seen.append((self.headers.get("Host", ""), self.path))
                hop = self.path == "/hop"
                self.send_response(302 if hop else 200)
                self.send_header("Location" if hop else "Content-Type",
                                 "/final" if hop else "text/plain")
                self.send_header("Content-Length", "0" if hop else "2")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"" if hop else b"ok")

        self.server = ThreadingHTTPServer((address, port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Resolver:
    """A resolver hook: answers ``first`` once, then ``later`` (a DNS-rebinding server)."""

    def __init__(self, first: list[str], later: list[str] | None = None):
        self.first, self.later, self.asked = first, later or first, []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.first if len(self.asked) == 1 else self.later


@pytest.mark.parametrize("name,host_header", [
    ("news.test", "news.test"), ("actualités.test", "actualités.test".encode("idna").decode())])
def test_the_connection_goes_to_the_resolved_address_with_the_name_kept(name, host_header):
    """The name resolves nowhere but through the hook: reaching the server proves the socket
    went to the hook's address, while Host still names the site; asked once (an IDN too)."""
    site = NamedSite()
    try:
        resolver = Resolver(["127.0.0.1"])
        http = Http(allow_private=True, resolver=resolver, retries=0)
        resp = http.get_public(f"http://{name}:{site.port}/article")
        assert resp.text == "ok" and site.seen == [(f"{host_header}:{site.port}", "/article")]
        assert len(resolver.asked) == 1
    finally:
        site.close()


def test_dns_rebinding_between_hops_never_reaches_the_second_address():
    """The first answer is the good server; every later answer the other one (same port on
    127.0.0.2). The redirect forces a new connection: it must go where the first went."""
    good = NamedSite("127.0.0.1")
    evil = NamedSite("127.0.0.2", good.port)
    try:
        resolver = Resolver(["127.0.0.1"], ["127.0.0.2"])
        http = Http(allow_private=True, resolver=resolver, retries=0)
        resp = http.get_public(f"http://rebind.test:{good.port}/hop")
        assert resp.text == "ok" and [p for _, p in good.seen] == ["/hop", "/final"]
        assert evil.seen == [] and resolver.asked == ["rebind.test"]
    finally:
        good.close()
        evil.close()


def test_a_name_the_hook_resolves_to_loopback_is_refused_before_anything_is_sent():
    site = NamedSite()
    try:
        with pytest.raises(UnsafeURLError):
            Http(resolver=Resolver(["93.184.216.34", "127.0.0.1"])).get_public(
                f"http://mixed.test:{site.port}/")
        assert site.seen == []
    finally:
        site.close()


@pytest.fixture
def tls_site(tmp_path):
    """An HTTPS server on 127.0.0.1 whose certificate names news.test only."""
    import shutil
    import ssl
    import subprocess
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=news.test", "-addext",
                    "subjectAltName=DNS:news.test"], check=True, capture_output=True)
    site = NamedSite()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    site.server.socket = context.wrap_socket(site.server.socket, server_side=True)
    yield site, str(cert)
    site.close()


def test_a_pinned_https_connection_checks_the_certificate_for_the_name(tls_site):
    """Connected to the pinned IP, TLS still sends the name (SNI) and checks the certificate
    against it: news.test passes, another name on the same address is refused."""
    site, ca = tls_site
    http = Http(allow_private=True, resolver=Resolver(["127.0.0.1"]), retries=0)
    resp = http.get_public(f"https://news.test:{site.port}/article", verify=ca)
    assert resp.text == "ok" and site.seen == [(f"news.test:{site.port}", "/article")]
    with pytest.raises(NetworkError) as err:
        http.get_public(f"https://other.test:{site.port}/article", verify=ca)
    assert "certificate" in str(err.value) and len(site.seen) == 1
