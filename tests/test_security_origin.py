"""WordPress credentials go only to WP_URL's own origin: scheme, host and port (issue 14, class 7).

Two loopback servers on different ports: ``site`` is WP_URL, ``elsewhere`` is another origin
that would gladly play WordPress (it announces its own REST API and accepts any login). A home
page redirecting there, a REST root announced there, an authenticated request, a media upload
or an XML-RPC call (the password is in its body) redirected there: each is refused with one
line that says what to set, and ``elsewhere`` never sees a credential, or anything at all.
"""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from publisher.config import Settings
from publisher.errors import AuthError, ConfigError
from publisher.wordpress import open_client
from tests.support.hostile import HostileSite, home_linking, json_answer, redirect
from tests.test_security_secrets import fresh_story, run, write_env

USER, PASSWORD = "redacteur", "AbCd EfGh IjKl MnOp QrSt UvWx"
ME = {"id": 3, "username": USER, "roles": ["author"], "capabilities": {"edit_posts": True}}


def wordpress_at(site: HostileSite):
    """A willing WordPress: REST root on itself, any login accepted."""
    def answer(hit):
        if hit.path == "/":
            return home_linking(f"{site.url}/wp-json/")
        if hit.path.endswith("xmlrpc.php"):
            return 200, {"Content-Type": "text/xml"}, b"<methodResponse/>"
        return json_answer(200, ME)
    return answer


@pytest.fixture
def two_origins():
    with HostileSite() as site, HostileSite() as elsewhere:
        elsewhere.answer = wordpress_at(elsewhere)
        yield site, elsewhere


def settings_for(site: HostileSite, **extra) -> Settings:
    return Settings.from_mapping({"WP_URL": site.url, "WP_USERNAME": USER,
                                  "WP_APP_PASSWORD": PASSWORD, **extra})


def credentials_seen(server: HostileSite) -> list[str]:
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return [h.path for h in server.hits
            if h.authorization or basic.encode() in h.body or PASSWORD.encode() in h.body]


def assert_refused_in_one_line(err: Exception, elsewhere: HostileSite) -> None:
    message = str(err)
    assert "\n" not in message and "WP_URL" in message, message
    assert credentials_seen(elsewhere) == []


def test_a_home_page_redirecting_to_another_origin_is_refused(two_origins):
    site, elsewhere = two_origins
    site.answer = lambda hit: redirect(f"{elsewhere.url}/")
    with pytest.raises(ConfigError) as err:
        open_client(settings_for(site)).check_auth()
    assert_refused_in_one_line(err.value, elsewhere)
    assert f"WP_URL={elsewhere.url}/" in str(err.value) and elsewhere.hits == []


def test_a_rest_root_announced_on_another_origin_is_refused(two_origins):
    site, elsewhere = two_origins
    site.answer = lambda hit: home_linking(f"{elsewhere.url}/wp-json/")
    with pytest.raises(ConfigError) as err:
        open_client(settings_for(site)).check_auth()
    assert_refused_in_one_line(err.value, elsewhere)
    assert "announces its REST API" in str(err.value) and elsewhere.hits == []


def test_an_authenticated_request_redirected_elsewhere_is_not_followed(two_origins):
    site, elsewhere = two_origins
    site.answer = lambda hit: home_linking(f"{site.url}/wp-json/") if hit.path == "/" else \
        redirect(f"{elsewhere.url}{hit.path}", 307)
    with pytest.raises(ConfigError) as err:
        open_client(settings_for(site)).check_auth()
    assert_refused_in_one_line(err.value, elsewhere)
    assert elsewhere.hits == []


def png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def test_a_media_upload_redirected_elsewhere_is_not_resent(two_origins, tmp_path):
    site, elsewhere = two_origins
    image = tmp_path / "photo.png"
    image.write_bytes(png_1x1())
    site.answer = lambda hit: home_linking(f"{site.url}/wp-json/") if hit.path == "/" else \
        redirect(f"{elsewhere.url}/upload", 307)
    with pytest.raises(ConfigError) as err:
        open_client(settings_for(site)).upload_media(str(image), alt="Une photo")
    assert_refused_in_one_line(err.value, elsewhere)
    assert elsewhere.hits == [], "the image (and the header) went to the other origin"


def xmlrpc_redirecting(site: HostileSite, elsewhere: HostileSite):
    def answer(hit):
        if hit.path == "/":
            return home_linking(f"{site.url}/wp-json/")
        if "/users/me" in hit.path:
            return json_answer(401, {"code": "rest_not_logged_in", "message": "Not logged in"})
        if b"mt.supportedMethods" in hit.body:
            return 200, {"Content-Type": "text/xml"}, (
                b"<?xml version='1.0'?><methodResponse><params><param><value><array><data>"
                b"<value><string>wp.getProfile</string></value></data></array></value></param>"
                b"</params></methodResponse>")
        return redirect(f"{elsewhere.url}/xmlrpc.php", 307)
    return answer


@pytest.mark.parametrize("transport", ["xmlrpc", "rest"])
def test_an_xmlrpc_call_redirected_elsewhere_keeps_the_password_home(two_origins, transport):
    """XML-RPC carries the password in the body, which a 307 would send again. REST reaches
    XML-RPC too: its 401 diagnosis tries the same password there."""
    site, elsewhere = two_origins
    site.answer = xmlrpc_redirecting(site, elsewhere)
    pytest.importorskip("wordpress_xmlrpc") if transport == "xmlrpc" else None
    with pytest.raises((ConfigError, AuthError)):
        open_client(settings_for(site, WP_TRANSPORT=transport)).check_auth()
    assert any(PASSWORD.encode() in h.body for h in site.hits), "the XML-RPC call was made"
    assert elsewhere.hits == [] and credentials_seen(elsewhere) == []


def test_the_cli_says_in_one_line_what_to_set(two_origins, tmp_path):
    site, elsewhere = two_origins
    site.answer = lambda hit: redirect(f"{elsewhere.url}/")
    env_file = write_env(tmp_path, {"WP_URL": site.url, "WP_USERNAME": USER,
                                    "WP_APP_PASSWORD": PASSWORD, "OPENAI_API_KEY": "unused-key",
                                    "PUBLISHER_DB": f"sqlite:///{tmp_path}/p.db"})
    result = run(["draft", str(fresh_story(tmp_path))], cwd=tmp_path, env_file=env_file)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"WP_URL={elsewhere.url}/" in errors[0]
    assert elsewhere.hits == []
