"""The XML-RPC fallback against the real local WordPress."""

from __future__ import annotations

import collections
import socket
import uuid

import pytest

from publisher.errors import AuthError, ForbiddenError, NetworkError
from publisher.models import Draft
from publisher.net import Http
from publisher.wordpress import open_client
from publisher.wordpress.xmlrpc import XmlRpcClient

pytestmark = pytest.mark.wordpress


def draft(**over) -> Draft:
    tag = uuid.uuid4().hex[:8]
    base = dict(title=f"Par XML-RPC {tag}", content="<!-- wp:paragraph --><p>Bonjour</p>"
                "<!-- /wp:paragraph -->", excerpt="Un résumé.", slug=f"par-xmlrpc-{tag}",
                categories=("Politique",), meta={"rank_math_title": "Titre RM",
                                                  "_yoast_wpseo_title": "Titre Yoast"},
                source_hash=f"x{tag}")
    base.update(over)
    return Draft(**base)


def test_xmlrpc_creates_a_draft_with_tags_category_and_custom_fields(wp_site):
    client = open_client(wp_site.settings("editor", WP_TRANSPORT="xmlrpc"))
    assert isinstance(client, XmlRpcClient)
    assert hasattr(collections, "Iterable")            # the Python 3.10+ patch is in place
    assert "editor" in client.check_auth()["roles"]
    new_tag = f"Tag xmlrpc {uuid.uuid4().hex[:6]}"
    sent = draft(tags=(new_tag,))
    result = client.create_post(sent)
    post = client.get_post(result.id)
    assert result.status == post["status"] == "draft"
    assert result.slug == sent.slug and result.warnings == ()
    assert post["meta"]["rank_math_title"] == "Titre RM"
    assert post["meta"]["_yoast_wpseo_title"] == "Titre Yoast"
    assert post["meta"]["publisher_source_hash"] == sent.source_hash
    rest = open_client(wp_site.settings("editor")).get_post(result.id)
    assert rest["title"]["raw"] == sent.title and len(rest["tags"]) == 1
    assert len(rest["categories"]) == 1


def test_xmlrpc_author_cannot_create_tags_and_gets_a_warning(wp_site):
    client = open_client(wp_site.settings("author", WP_TRANSPORT="xmlrpc"))
    result = client.create_post(draft(tags=(f"Inédit {uuid.uuid4().hex[:6]}",)))
    assert result.status == "draft"
    assert any("may not create tags" in w for w in result.warnings)


def test_xmlrpc_wrong_password_and_subscriber(wp_site):
    wrong = open_client(wp_site.settings("author", WP_TRANSPORT="xmlrpc",
                                         WP_APP_PASSWORD="Zq7Wrong0Password0Abcdefg"))
    with pytest.raises(AuthError) as info:
        wrong.check_auth()
    assert "Zq7Wrong" not in str(info.value)
    with pytest.raises(ForbiddenError):
        open_client(wp_site.settings("subscriber", WP_TRANSPORT="xmlrpc")).check_auth()


def test_xmlrpc_has_a_timeout(wp_site):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    try:
        settings = wp_site.settings("author", WP_TRANSPORT="xmlrpc",
                                    WP_URL=f"http://127.0.0.1:{sock.getsockname()[1]}")
        client = XmlRpcClient(settings, http=Http(timeout=0.3, retries=0))
        with pytest.raises(NetworkError) as info:
            client.check_auth()
        assert info.value.reason == "timeout"
    finally:
        sock.close()


def test_xmlrpc_update_rewrites_custom_fields_in_place(wp_site):
    # Sent without their ids, custom fields were added again: each key twice, and the next
    # REST update leaving a value unchanged failed with HTTP 500 rest_meta_database_error.
    client = open_client(wp_site.settings("editor", WP_TRANSPORT="xmlrpc"))
    sent = draft()
    post_id = client.create_post(sent).id
    client.update_post(post_id, sent)
    client.update_post(post_id, draft(meta={"rank_math_title": "Titre revu",
                                            "_yoast_wpseo_title": "Titre Yoast"}))
    fields = client.call(client._lib[1].GetPost(post_id), "reading").custom_fields
    keys = [f["key"] for f in fields if f["key"] in ("rank_math_title", "_yoast_wpseo_title")]
    assert sorted(keys) == ["_yoast_wpseo_title", "rank_math_title"], "each key once"
    assert client.get_post(post_id)["meta"]["rank_math_title"] == "Titre revu"
    rest = open_client(wp_site.settings("editor"))
    assert rest.update_post(post_id, sent).id == post_id   # unchanged values: no HTTP 500
