"""Review before publishing (issue 15, part 3, server side) and the record of AI assistance, on
the real local WordPress: the flag publisher writes, the guard that keeps unverified facts from
being published, the review recorded as the user who made it, the "À vérifier" column and view
of the posts list, the summary box, and `publisher history` showing who confirmed."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from publisher.config import Settings
from publisher.models import Draft, Report, SeoMeta, Source, Usage
from publisher.pipeline import OWN_SEO_KEYS, SEO_META_KEYS, seo_meta
from publisher.wordpress.client import WordPressClient, ai_record, parse_review
from tests.test_cli import SEED_000, llm_env, run, smart_llm  # noqa: F401  (fixtures)
from tests.test_wp_site import logged_in_session

SEO = SeoMeta(keyphrase="défense aérienne", meta_title="Défense aérienne : l’OTAN promet",
              meta_description="Jens Stoltenberg promet plus de défense aérienne à l’Ukraine.",
              slug="", tags=())
FACTS = Report(untraceable=("3 milliards d’euros", "« Nous tiendrons »"), word_count=712,
               usage=(Usage("model-a", "write"), Usage("model-b", "seo_meta")))


def a_draft(report: Report = FACTS) -> Draft:
    source = Source(text=f"source {uuid.uuid4().hex}", url="https://exemple.fr/a")
    meta = seo_meta(SEO, report, [source], "none")
    return Draft(title=f"Revue {uuid.uuid4().hex[:8]}", content="<p>Texte.</p>", meta=meta)


def edit(site, post_id: int, body: dict, role: str = "editor") -> requests.Response:
    return requests.post(site.api(f"/wp/v2/posts/{post_id}"), params={"context": "edit"},
                         json=body, auth=site.auth(role), timeout=30)


def me(site, role: str) -> dict:
    return requests.get(site.api("/wp/v2/users/me"), params={"context": "edit"},
                        auth=site.auth(role), timeout=30).json()


# --- what publisher writes --------------------------------------------------------------------

def test_publisher_writes_its_own_seo_fields_and_the_review_flags():
    meta = seo_meta(SEO, FACTS, [], "none")
    assert [meta[k] for k in OWN_SEO_KEYS] == [SEO.meta_title, SEO.meta_description,
                                               SEO.keyphrase]
    assert not any(k in meta for keys in SEO_META_KEYS.values() for k in keys)
    assert meta["publisher_to_verify"] == "1"
    assert "publisher_review" not in meta, "the editor writes it, in WordPress"
    assert json.loads(meta["publisher_ai"]) == {"model": "model-a"}
    clean = seo_meta(SEO, Report(), [], "yoast")
    assert clean["publisher_to_verify"] == "" and clean["_yoast_wpseo_title"] == SEO.meta_title
    assert clean["publisher_meta_title"] == SEO.meta_title


def test_the_ai_record_gets_the_push_date_and_the_sites_disclosure():
    settings = Settings.from_mapping({"PUBLISHER_AI_DISCLOSURE": "Rédigé avec une IA.",
                                      "PUBLISHER_MODEL": "fallback-model"})
    when = datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc)
    assert json.loads(ai_record('{"model": "model-a"}', settings, when)) == {
        "model": "model-a", "date": "2026-03-01T08:30:00Z", "disclosure": "Rédigé avec une IA."}
    assert json.loads(ai_record("", Settings(), when)) == {
        "model": Settings().model, "date": "2026-03-01T08:30:00Z", "disclosure": ""}
    assert parse_review("pas du JSON") == {} and parse_review('{"user": 3}') == {}


# --- the guard --------------------------------------------------------------------------------

def test_unverified_facts_block_publishing_until_the_review(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    post = client.create_post(a_draft())
    stored = client.get_post(post.id)["meta"]
    assert stored["publisher_to_verify"] == "1" and stored["publisher_meta_title"] == SEO.meta_title
    for body in ({"status": "publish"},
                 {"status": "future", "date_gmt": "2031-01-01T08:00:00"},
                 {"status": "publish", "meta": {"publisher_to_verify": ""}}):
        refused = edit(wp_site, post.id, body)
        assert refused.status_code == 403, body
        assert refused.json()["code"] == "publisher_review_required"
        assert "vérifi" in refused.json()["message"] and "publier" in refused.json()["message"]
    assert client.get_post(post.id)["status"] == "draft"


@pytest.mark.parametrize("status", ["publish", "future"])
def test_publisher_itself_cannot_publish_unverified_facts_it_leaves_them_pending(wp_site,
                                                                                   status):
    # `draft --status publish` (or a site whose feed publishes) with facts to verify: the guard
    # would answer 403 and fail the story (a feed run would stop as if misconfigured), so
    # publisher asks for review instead; the guard stays for anyone else (test above).
    client = WordPressClient(wp_site.settings("editor"))
    draft = a_draft()
    if status == "future":
        draft = Draft(**{**draft.to_dict(), "date": "2031-01-01T08:00:00Z"})
    post = client.create_post(draft, status=status)
    assert post.status == "pending"
    assert any(w.startswith("not published: it holds figures or quotations to verify")
               for w in post.warnings)
    assert client.get_post(post.id)["status"] == "pending"
    clean = client.create_post(a_draft(Report(word_count=712)), status="publish")
    assert clean.status == "publish" and not any("not published" in w for w in clean.warnings)


def test_the_review_is_signed_by_the_server_and_lifts_the_flag(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    post = client.create_post(a_draft())
    forged = json.dumps({"user": 1, "name": "Quelqu’un d’autre", "time": "2000-01-01T00:00:00Z"})
    resp = edit(wp_site, post.id, {"meta": {"publisher_review": forged}, "status": "publish"})
    assert resp.status_code == 200, resp.text
    data = resp.json()
    review = json.loads(data["meta"]["publisher_review"])
    editor = me(wp_site, "editor")
    assert review["user"] == editor["id"] and review["name"] == editor["name"]
    signed = datetime.fromisoformat(review["time"].replace("Z", "+00:00"))
    assert abs(datetime.now(timezone.utc) - signed) < timedelta(minutes=10)
    assert data["meta"]["publisher_to_verify"] == "" and data["status"] == "publish"


def test_a_new_text_from_publisher_needs_a_new_review(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    draft = a_draft()
    post = client.create_post(draft)
    assert edit(wp_site, post.id, {"meta": {"publisher_review": "{}"}}).ok
    assert client.get_post(post.id)["meta"]["publisher_to_verify"] == ""
    updated = client.update_post(post.id, draft)
    assert not updated.warnings, updated.warnings
    meta = client.get_post(post.id)["meta"]
    assert meta["publisher_to_verify"] == "1" and meta["publisher_review"] == ""


# --- wp-admin ----------------------------------------------------------------------------------

def test_posts_list_has_the_column_and_the_view(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    flagged = client.create_post(a_draft())
    clean = client.create_post(a_draft(Report()))
    session = logged_in_session(wp_site, "editor")
    page = session.get(f"{wp_site.admin_url}edit.php", timeout=30).text
    assert "id='publisher_to_verify' class='manage-column column-publisher_to_verify'>À vérifier" \
        in page
    row = page.split(f'id="post-{flagged.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Faits à vérifier" in row
    row = page.split(f'id="post-{clean.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Faits à vérifier" not in row
    view = session.get(f"{wp_site.admin_url}edit.php",
                       params={"post_type": "post", "publisher_to_verify": "1"}, timeout=30).text
    assert f'id="post-{flagged.id}"' in view and f'id="post-{clean.id}"' not in view
    assert 'class="current" aria-current="page">À vérifier' in view


def test_the_summary_box_says_who_confirmed(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    post = client.create_post(a_draft())
    session = logged_in_session(wp_site, "editor")
    url = f"{wp_site.admin_url}post.php"
    box = _box(session.get(url, params={"post": post.id, "action": "edit"}, timeout=30).text)
    assert "Faits à vérifier : 2" in box and "la publication est bloquée" in box
    assert "good" not in box and "bad" not in box and "{" not in box
    assert edit(wp_site, post.id, {"meta": {"publisher_review": "{}"}}).ok
    box = _box(session.get(url, params={"post": post.id, "action": "edit"}, timeout=30).text)
    assert f"Vérification confirmée par {me(wp_site, 'editor')['name']}" in box


def _box(page: str) -> str:
    return page.split('class="publisher-summary"', 1)[1].split("</div>", 1)[0]


# --- publisher history ----------------------------------------------------------------------------

def test_history_shows_who_confirmed_the_facts(llm_env, tmp_path, wp_site):
    source = tmp_path / "source.txt"
    source.write_text(SEED_000.read_text() + f"\n\nRéférence du test : {uuid.uuid4().hex}.\n")
    env = {**llm_env, **wp_site.env("author")}
    drafted = run(["draft", str(source), "--json"], env, cwd=tmp_path)
    assert drafted.returncode == 0, drafted.stderr
    post_id = json.loads(drafted.stdout)["id"]
    before = json.loads(run(["history", "--json"], env, cwd=tmp_path).stdout)
    assert next(r for r in before if r.get("post_id") == post_id)["review"] is None
    assert edit(wp_site, post_id, {"meta": {"publisher_review": "{}"}}).ok
    after = json.loads(run(["history", "--json"], env, cwd=tmp_path).stdout)
    review = next(r for r in after if r.get("post_id") == post_id)["review"]
    editor = me(wp_site, "editor")
    assert review["user"] == editor["id"] and review["name"] == editor["name"]
    text = run(["history"], env, cwd=tmp_path).stdout
    assert f"vérifié par {editor['name']}" in text


def test_reviews_are_read_for_many_posts_at_once(wp_site):
    client = WordPressClient(wp_site.settings("author"))
    reviewed, waiting = client.create_post(a_draft()), client.create_post(a_draft())
    assert edit(wp_site, reviewed.id, {"meta": {"publisher_review": "{}"}}).ok
    found = client.reviews([reviewed.id, waiting.id])
    assert set(found) == {reviewed.id} and found[reviewed.id]["user"] == me(wp_site, "editor")["id"]
