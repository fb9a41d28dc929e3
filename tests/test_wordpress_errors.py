"""Each way talking to WordPress fails gives one clear error, with the status and the WordPress
code, what to do, and never the password. Real local WordPress and real local servers."""

from __future__ import annotations

import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from publisher.errors import (AuthError, ConfigError, ForbiddenError, NetworkError,
                              NotWordPressError)
from publisher.models import Draft
from publisher.net import Http
from publisher.wordpress import WordPressClient, open_client
from tests.support.wpproxy import WpProxy

pytestmark = pytest.mark.wordpress

WRONG = "Zq7Wrong0Password0Abcdefg"                     # shaped like an Application Password
DRAFT = Draft(title="Essai d'erreur", content="<!-- wp:paragraph --><p>x</p><!-- /wp:paragraph -->")


@pytest.fixture
def not_wordpress(tmp_path):
    (tmp_path / "index.html").write_text("<html><body>Just a page</body></html>")
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_server():
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def test_wrong_password(wp_site):
    client = WordPressClient(wp_site.settings("author", WP_APP_PASSWORD=WRONG))
    with pytest.raises(AuthError) as info:
        client.check_auth()
    message = str(info.value)
    assert "wrong" in message and "Application Password" in message and "401" in message
    assert WRONG not in message and "\n" not in message


def test_wrong_password_on_create_is_an_auth_error(wp_site):
    client = WordPressClient(wp_site.settings("author", WP_APP_PASSWORD=WRONG))
    with pytest.raises(AuthError) as info:
        client.create_post(DRAFT)
    assert "401" in str(info.value) and WRONG not in str(info.value)


def test_login_password_instead_of_application_password(wp_site):
    user = wp_site.users["author"]
    client = WordPressClient(wp_site.settings("author", WP_APP_PASSWORD=user.password))
    with pytest.raises(AuthError) as info:
        client.check_auth()
    assert "Application Password" in str(info.value) and user.password not in str(info.value)


def test_stripped_authorization_header(wp_site):
    with WpProxy(wp_site.url, strip_auth=True) as proxy:
        client = WordPressClient(wp_site.settings("author", WP_URL=proxy.url))
        with pytest.raises(AuthError) as info:
            client.check_auth()
    message = str(info.value)
    assert 'SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1' in message
    assert "CGIPassAuth On" in message and info.value.reason == "auth_header_stripped"
    assert wp_site.users["author"].app_password not in message


def test_subscriber_cannot_create_posts(wp_site):
    client = WordPressClient(wp_site.settings("subscriber"))
    with pytest.raises(ForbiddenError) as info:
        client.check_auth()
    assert "cannot create posts" in str(info.value) and "Author" in str(info.value)
    with pytest.raises(ForbiddenError) as info:
        client.create_post(DRAFT)
    assert "403" in str(info.value) and "rest_cannot_create" in str(info.value)


def test_contributor_may_draft_but_not_publish(wp_site):
    client = WordPressClient(wp_site.settings("contributor"))
    assert client.create_post(DRAFT).status == "draft"
    with pytest.raises(ForbiddenError) as info:
        client.create_post(DRAFT, status="publish")
    message = str(info.value)
    assert "HTTP 403 rest_cannot_publish" in message and "draft or pending" in message


def test_administrator_gets_a_least_privilege_warning(wp_site):
    client = WordPressClient(wp_site.settings("administrator"))
    assert "administrator" in client.check_auth()["roles"]
    assert any("least-privilege" in w for w in client.warnings)
    author = WordPressClient(wp_site.settings("author"))
    author.check_auth()
    assert author.warnings == []


def test_not_wordpress(not_wordpress):
    client = WordPressClient(Draftless.settings(not_wordpress))
    with pytest.raises(NotWordPressError) as info:
        client.check_auth()
    assert "not a WordPress site" in str(info.value) and "WP_URL" in str(info.value)


def test_timeout_is_a_network_error(silent_server):
    settings = Draftless.settings(silent_server)
    client = WordPressClient(settings, http=Http(timeout=0.3, retries=0))
    with pytest.raises(NetworkError) as info:
        client.check_auth()
    assert "timed out" in str(info.value) and info.value.reason == "timeout"


def test_plain_http_to_a_remote_host_is_refused_before_sending_anything():
    client = WordPressClient(Draftless.settings("http://192.0.2.10"))
    with pytest.raises(ConfigError) as info:
        client.create_post(DRAFT)
    assert "https://" in str(info.value) and "WP_ALLOW_INSECURE_HTTP" in str(info.value)


def test_unknown_transport_is_a_config_error():
    with pytest.raises(ConfigError):
        open_client(Draftless.settings("https://example.invalid", WP_TRANSPORT="carrier-pigeon"))


def test_future_status_needs_a_future_date(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    with pytest.raises(ConfigError):
        client.create_post(DRAFT, status="future")
    with pytest.raises(ConfigError):
        client.create_post(Draft(title="x", content="y", date="2001-01-01T10:00:00Z"),
                           status="future")
    result = client.create_post(Draft(title="Plus tard", content="y",
                                      date="2099-01-01T10:00:00+01:00"), status="future")
    assert result.status == "future"
    assert client.get_post(result.id)["date_gmt"] == "2099-01-01T09:00:00"


class Draftless:
    @staticmethod
    def settings(url: str, **extra):
        from publisher.config import Settings
        return Settings.from_mapping({"WP_URL": url, "WP_USERNAME": "someone",
                                      "WP_APP_PASSWORD": WRONG, **extra})
