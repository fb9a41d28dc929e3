"""The REST client against the real local WordPress (scripts/wp-local): drafts, terms, media,
meta, permalinks, idempotency, and how many requests a draft costs."""

from __future__ import annotations

import struct
import uuid
import zlib
from dataclasses import replace

import pytest
import requests

from publisher.models import Draft
from publisher.wordpress import WordPressClient, open_client, resolve_terms
from publisher.wordpress.client import PLUGIN_MISSING
from publisher.wordpress.terms import normalize
from tests.support.wpproxy import WpProxy

pytestmark = pytest.mark.wordpress

CONTENT = ("<!-- wp:heading -->\n<h2 class=\"wp-block-heading\">Le contexte</h2>\n"
           "<!-- /wp:heading -->\n\n<!-- wp:paragraph -->\n<p>Les ministres de l'OTAN se "
           "réunissent à Bruxelles.</p>\n<!-- /wp:paragraph -->")
SEO = {"_yoast_wpseo_title": "OTAN : réunion à Bruxelles", "_yoast_wpseo_metadesc": "Les "
       "ministres se réunissent.", "_yoast_wpseo_focuskw": "réunion OTAN",
       "rank_math_title": "OTAN : réunion à Bruxelles", "rank_math_description": "Les ministres "
       "se réunissent.", "rank_math_focus_keyword": "réunion OTAN"}


def uid() -> str:
    return uuid.uuid4().hex[:10]


def make_draft(**over) -> Draft:
    tag = uid()
    base = dict(title=f"Réunion de l'OTAN {tag}", content=CONTENT, excerpt="Les ministres de "
                "l'OTAN se réunissent.", slug=f"reunion-otan-{tag}", meta=dict(SEO),
                source_url=f"https://example.com/article-{tag}", source_hash=f"h{tag}")
    base.update(over)
    return Draft(**base)


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A valid RGB PNG, built by hand."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\xcc\x22\x33" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def rest_get(site, route: str, role: str = "editor", **params):
    resp = requests.get(site.api(route), params=params, auth=site.auth(role), timeout=30)
    resp.raise_for_status()
    return resp.json()


def test_draft_has_status_title_slug_content_excerpt_category_tags_and_meta(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    new_tag = f"Sommet {uid()}"
    draft = make_draft(tags=("Bruxelles", new_tag), categories=("International",))
    result = client.create_post(draft)

    post = client.get_post(result.id)
    assert (result.status, post["status"]) == ("draft", "draft")
    assert post["title"]["raw"] == draft.title
    assert result.slug == post["slug"] == draft.slug and not result.slug_renamed
    assert "<!-- wp:paragraph -->" in post["content"]["raw"]
    assert post["excerpt"]["raw"] == draft.excerpt
    categories = {c["id"]: c["name"] for c in rest_get(wp_site, "/wp/v2/categories")}
    assert [categories[c] for c in post["categories"]] == ["International"]
    tag_names = {t["name"] for t in rest_get(wp_site, "/wp/v2/tags", include=",".join(
        map(str, post["tags"])))}
    assert tag_names == {"Bruxelles", new_tag}
    for key, value in SEO.items():
        assert post["meta"][key] == value, key
    assert post["meta"]["publisher_source_hash"] == draft.source_hash
    assert result.edit_link == f"{wp_site.admin_url}post.php?post={result.id}&action=edit"
    assert result.warnings == ()


def test_sent_slug_is_kept_and_a_second_draft_with_it_is_reported_renamed(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    slug = f"meme-slug-{uid()}"
    first = client.create_post(make_draft(slug=slug))
    second = client.create_post(make_draft(slug=slug))
    assert first.slug == slug and not first.slug_renamed
    assert second.requested_slug == slug and second.slug == f"{slug}-2" and second.slug_renamed
    assert any("renamed" in w and f"{slug}-2" in w for w in second.warnings)


def test_tags_otan_in_any_case_make_exactly_one_tag_after_two_runs(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    word = f"Otanx{uid()}"
    variants = (word.upper(), word.lower(), word.capitalize())
    ids = [client.create_post(make_draft(tags=variants)).id for _ in range(2)]
    matching = [t for t in rest_get(wp_site, "/wp/v2/tags", search=word.lower(), per_page=100)
                if normalize(t["name"]) == normalize(word)]
    assert len(matching) == 1
    for post_id in ids:
        assert client.get_post(post_id)["tags"] == [matching[0]["id"]]


def test_resolve_terms_matches_accents_and_case_and_does_not_create_categories(wp_site):
    client = WordPressClient(wp_site.settings("editor"))
    word = f"Élysée {uid()}"
    first = resolve_terms(client, "tags", [word])
    assert resolve_terms(client, "tags", [normalize(word).upper(), word.lower()]) == first
    warnings: list[str] = []
    ids = resolve_terms(client, "categories", ["économie", f"Nulle part {uid()}"],
                        warnings=warnings)
    names = {c["id"]: c["name"] for c in rest_get(wp_site, "/wp/v2/categories")}
    assert [names[i] for i in ids] == ["Économie"]
    assert len(warnings) == 1 and "does not exist" in warnings[0]


def test_featured_image_is_uploaded_with_alt_text_and_credit(wp_site, tmp_path):
    image = tmp_path / "photo réunion.png"
    image.write_bytes(png_bytes())
    client = WordPressClient(wp_site.settings("author"))
    draft = make_draft(image=str(image), image_alt="Les ministres autour de la table",
                       image_credit="Photo : OTAN")
    result = client.create_post(draft)
    media_id = client.get_post(result.id)["featured_media"]
    assert media_id
    media = rest_get(wp_site, f"/wp/v2/media/{media_id}", context="edit")
    assert media["mime_type"] == "image/png"
    assert media["alt_text"] == draft.image_alt
    assert draft.image_credit in media["caption"]["raw"]
    assert result.warnings == ()


def test_plain_permalinks_work(wp_plain_site):
    client = WordPressClient(wp_plain_site.settings("author"))
    assert "rest_route=" in client.root
    result = client.create_post(make_draft(tags=(f"Plain {uid()}",), categories=("Politique",)))
    post = client.get_post(result.id)
    assert post["status"] == "draft" and post["meta"]["rank_math_title"] == SEO["rank_math_title"]
    assert len(post["tags"]) == 1 and result.warnings == ()


def test_pending_status_and_explicit_publish_only(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    assert client.create_post(make_draft(), status="pending").status == "pending"
    sneaky = client.create_post(make_draft(status="publish"))
    assert sneaky.status == "draft"
    assert any("publish" in w for w in sneaky.warnings)
    assert client.create_post(make_draft(), status="publish").status == "publish"


def test_update_post_by_id(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    created = client.create_post(make_draft(source_hash=""))
    changed = make_draft(title="Titre corrigé " + uid(), source_hash="", slug="")
    updated = client.update_post(created.id, changed)
    post = client.get_post(created.id)
    assert updated.id == created.id and post["title"]["raw"] == changed.title
    assert post["status"] == "draft"


def test_same_source_hash_updates_the_existing_draft(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    draft = make_draft()
    first = client.create_post(draft)
    again = client.create_post(make_draft(source_hash=draft.source_hash, slug=draft.slug,
                                          title=draft.title + " (v2)"))
    assert not first.reused and again.reused and again.id == first.id
    assert client.get_post(first.id)["title"]["raw"] == draft.title + " (v2)"
    assert client.find_by_source_hash(draft.source_hash)["id"] == first.id
    assert client.find_by_source_hash("absent" + uid()) is None


def test_published_post_with_the_same_hash_is_left_alone(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    draft = make_draft()
    live = client.create_post(draft, status="publish")
    again = client.create_post(make_draft(source_hash=draft.source_hash, title="Autre titre"))
    assert again.reused and again.id == live.id and again.status == "publish"
    assert client.get_post(live.id)["title"]["raw"] == draft.title
    assert any("already publish" in w for w in again.warnings)


@pytest.mark.parametrize("answer", [0, 502, 503])
def test_lost_create_answer_is_not_repeated_blindly(wp_site, answer):
    with WpProxy(wp_site.url) as proxy:
        client = WordPressClient(wp_site.settings("author", WP_URL=proxy.url))
        draft = make_draft()
        proxy.lose_next("POST", "/wp/v2/posts", answer=answer)
        result = client.create_post(draft)
        assert proxy.lost and proxy.count("POST", "/wp/v2/posts") == 2   # create, then update
    posts = rest_get(wp_site, "/wp/v2/posts", role="author", context="edit", status="any",
                     publisher_source_hash=draft.source_hash)
    assert [p["id"] for p in posts] == [result.id]
    assert any("lost" in w for w in result.warnings)


def test_create_refused_for_bad_meta_leaves_no_orphan(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    # A meta value WordPress rejects after inserting the post (400 rest_invalid_type).
    draft = make_draft(meta={**SEO, "rank_math_title": ["pas une chaîne"]})
    result = client.create_post(draft)
    same_title = rest_get(wp_site, "/wp/v2/posts", role="author", context="edit", status="any",
                          search=draft.title)
    assert [p["id"] for p in same_title] == [result.id]
    post = client.get_post(result.id)
    assert post["meta"]["publisher_source_hash"] == draft.source_hash
    assert post["meta"]["_yoast_wpseo_title"] == SEO["_yoast_wpseo_title"]
    assert any("rank_math_title" in w and "refused" in w for w in result.warnings)


def test_a_draft_with_five_tags_two_new_costs_few_requests(wp_site):
    existing = [f"Existant {uid()}" for _ in range(3)]
    resolve_terms(WordPressClient(wp_site.settings("editor")), "tags", existing)
    with WpProxy(wp_site.url) as proxy:
        client = open_client(wp_site.settings("author", WP_URL=proxy.url))
        tags = (*existing, f"Nouveau {uid()}", f"Nouveau {uid()}")
        result = client.create_post(make_draft(tags=tags, categories=("International",)))
        first = list(proxy.requests)
        assert len(client.get_post(result.id)["tags"]) == 5
        assert proxy.count("GET", "/wp/v2/tags") == 1          # one lookup for all five
        assert proxy.count("POST", "/wp/v2/tags") == 0         # the new ones: in one batch
        assert proxy.count("POST", "/batch/v1") == 1
        assert proxy.count("POST", "/wp/v2/posts") == 1        # meta in the same request
        # site page (discovery), schema, source-hash lookup, tags, batch, category, post
        assert len(first) <= 7, first
        client.create_post(make_draft(tags=tags))
        second = proxy.requests[len(first) + 1:]
        assert not any(m in ("OPTIONS",) or p == "/" for m, p in second), second   # cached
        assert len(second) <= 3, second      # hash lookup, tags (all exist now), post


def test_the_category_listing_and_a_lookup_already_done_are_not_asked_again(wp_site):
    with WpProxy(wp_site.url) as proxy:
        client = open_client(wp_site.settings("author", WP_URL=proxy.url))
        assert "International" in client.category_names()
        draft = make_draft(tags=(f"Nouveau {uid()}",), categories=("International",))
        found = client.find_by_source_hash(draft.source_hash)
        before = len(proxy.requests)
        result = client.create_post(draft, existing=found, looked_up=True)
        sent = proxy.requests[before:]
        assert proxy.count("GET", "/wp/v2/categories") == 1, sent     # the listing only
        assert proxy.count("GET", "/wp/v2/posts") == 1, sent          # the caller's lookup
        assert len(sent) == 3, sent                # tag lookup, batch of new tags, post
        post = client.get_post(result.id)
    international = rest_get(wp_site, "/wp/v2/categories", slug="international")[0]["id"]
    assert post["categories"] == [international] and len(post["tags"]) == 1
    # The caller's answer is trusted: the post it found is updated, not created again.
    again = client.create_post(replace(draft, title=draft.title + " (v2)"),
                               existing=client.get_post(result.id), looked_up=True)
    assert again.reused and again.id == result.id
    assert client.get_post(result.id)["title"]["raw"] == draft.title + " (v2)"


@pytest.mark.parametrize("answer", [404, 0])
def test_tags_are_created_one_by_one_when_the_batch_route_fails(wp_site, answer):
    """A site without /batch/v1 (404), or a batch whose answer is lost after WordPress acted:
    the tags are created one request each, ``term_exists`` gives the ids of any the batch
    made, and a 404 is remembered for the client's next drafts."""
    with WpProxy(wp_site.url) as proxy:
        client = open_client(wp_site.settings("author", WP_URL=proxy.url))
        proxy.lose_next("POST", "/batch/v1", answer=answer)
        tags = (f"Repli {uid()}", f"Repli {uid()}")
        result = client.create_post(make_draft(tags=tags))
        assert proxy.lost and proxy.count("POST", "/wp/v2/tags") == 2
        names = sorted(t["name"] for t in rest_get(wp_site, "/wp/v2/tags",
                                                   include=",".join(map(str, client.get_post(
                                                       result.id)["tags"]))))
        assert names == sorted(tags)
        client.create_post(make_draft(tags=(f"Repli {uid()}",)))
        assert proxy.count("POST", "/batch/v1") == (1 if answer == 404 else 2)


def test_companion_plugin_missing_gives_a_warning_and_keeps_the_draft(wp_bare_site):
    client = WordPressClient(wp_bare_site.settings("author"))
    assert not client.plugin_present()
    result = client.create_post(make_draft())
    assert result.status == "draft"
    assert PLUGIN_MISSING in result.warnings
    assert client.find_by_source_hash("anything") is None     # no unfiltered list taken as a hit


def test_featured_image_from_a_url_and_a_bad_image_only_warns(wp_site, tmp_path):
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
    (tmp_path / "une.png").write_bytes(png_bytes(8, 8))
    (tmp_path / "page.html").write_text("<html></html>")
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        client = WordPressClient(wp_site.settings("author", PUBLISHER_ALLOW_PRIVATE_URLS="1"))
        good = client.create_post(make_draft(image=f"{base}/une.png", image_alt="Une"))
        assert client.get_post(good.id)["featured_media"] and good.warnings == ()
        bad = client.create_post(make_draft(image=f"{base}/page.html"))
        assert client.get_post(bad.id)["featured_media"] == 0
        assert any("featured image not uploaded" in w for w in bad.warnings)
    finally:
        server.shutdown()
        server.server_close()


def test_doctor_view_and_category_names(wp_site, wp_bare_site):
    names = WordPressClient(wp_site.settings("author")).category_names()
    assert {"International", "Politique", "Économie"} <= set(names)
    results = WordPressClient(wp_site.settings("administrator")).diagnose()
    assert [r.status for r in results] == ["ok", "warn", "ok"]
    bare = WordPressClient(wp_bare_site.settings("author")).diagnose()
    assert bare[-1].status == "warn" and "mu-plugins" in bare[-1].fix
