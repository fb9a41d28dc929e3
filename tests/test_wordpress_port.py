"""The declared WordPress client (publisher/wordpress/port.py), over both transports, against
the real local WordPress: same answers where both can, an explicit "unsupported" where one
cannot."""

from __future__ import annotations

import uuid

import pytest

from publisher.models import Draft
from publisher.sites import file_under_author
from publisher.wordpress import Unsupported, WordPressPort, open_client

pytestmark = pytest.mark.wordpress

TRANSPORTS = ("rest", "xmlrpc")


def client_for(wp_site, transport: str, role: str = "editor"):
    return open_client(wp_site.settings(role, WP_TRANSPORT=transport))


def a_draft() -> Draft:
    tag = uuid.uuid4().hex[:8]
    return Draft(title=f"Par le port {tag}", content="<!-- wp:paragraph --><p>Bonjour</p>"
                 "<!-- /wp:paragraph -->", slug=f"par-le-port-{tag}", source_hash=f"p{tag}")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_both_transports_are_the_declared_client(wp_site, transport):
    client = client_for(wp_site, transport)
    assert isinstance(client, WordPressPort) and client.transport == transport
    assert "Politique" in client.category_names()       # the writer's list, on either
    author = wp_site.users["author"]
    assert client.author_id(author.username) == author.id
    assert client.author_id("nobody-" + uuid.uuid4().hex[:6]) is None


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_post_is_filed_under_the_sites_author_over_either_transport(wp_site, transport):
    client = client_for(wp_site, transport)
    author = wp_site.users["author"]
    post = client.create_post(a_draft())
    filed = file_under_author(client, post, client.author_id(author.username), "port")
    assert filed.warnings == post.warnings
    rest = client_for(wp_site, "rest", "administrator").get_post(post.id)
    assert rest["author"] == author.id
    assert client.edit_link(post.id) == post.edit_link


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_author_account_cannot_refile_a_post_and_gets_a_warning(wp_site, transport):
    client = client_for(wp_site, transport, "author")
    post = client.create_post(a_draft())
    filed = file_under_author(client, post, wp_site.users["editor"].id, "port")
    assert any("left under its creator" in w for w in filed.warnings)
    rest = client_for(wp_site, "rest", "administrator").get_post(post.id)
    assert rest["author"] == wp_site.users["author"].id


def test_what_xmlrpc_cannot_do_is_said_not_probed(wp_site, tmp_path):
    client = client_for(wp_site, "xmlrpc")
    assert client.supports_hash_lookup() is False
    assert client.find_by_source_hash("anything") is None
    image = tmp_path / "photo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(Unsupported) as info:
        client.upload_media(str(image))
    assert info.value.reason == "unsupported" and "WP_TRANSPORT=rest" in str(info.value)
    with pytest.raises(Unsupported):
        client.search_published("budget", "id,link", 5)
    rest = client_for(wp_site, "rest")
    assert rest.supports_hash_lookup() is True
    assert client.site_url == rest.site_url == wp_site.url + "/"
