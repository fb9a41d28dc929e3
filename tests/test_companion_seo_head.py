"""SEO that takes effect without an SEO plugin (issue 15, part 1), on the real local WordPress.

`publisher draft` pushes a draft (real CLI, scripted LLM); the test publishes it as the editor and
reads its public page: publisher's meta title is the <title>, its meta description the one
<meta name="description">, with Open Graph and Twitter tags and one canonical link. With Yoast or
Rank Math simulated as active, the companion prints none of them. The simulation is a test
mu-plugin that defines WPSEO_VERSION (or the RankMath class) only for requests carrying a test
header, so the shared site stays as it is for everyone else.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from tests.test_cli import SEED_000, llm_env, run, smart_llm  # noqa: F401  (fixtures)

WP_DIR = Path(__file__).resolve().parent.parent / ".wp-local"
SIMULATE_HEADER = "X-Publisher-Test-Seo-Plugin"
SIMULATOR = """<?php
/* Plugin Name: publisher test: an SEO plugin seen as active, for requests that ask for it */
$publisher_test_seo = isset($_SERVER['HTTP_X_PUBLISHER_TEST_SEO_PLUGIN'])
    ? $_SERVER['HTTP_X_PUBLISHER_TEST_SEO_PLUGIN'] : '';
if ($publisher_test_seo === 'yoast' && !defined('WPSEO_VERSION')) {
    define('WPSEO_VERSION', '23.0');
}
if ($publisher_test_seo === 'rankmath' && !class_exists('RankMath')) {
    class RankMath {}
}
"""


class Head(HTMLParser):
    """The <title>, every <meta> and every <link rel=canonical> of a page (values unescaped)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.titles: list[str] = []
        self.metas: list[dict] = []
        self.canonicals: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title":
            self._in_title = True
            self.titles.append("")
        elif tag == "meta":
            self.metas.append(attrs)
        elif tag == "link" and (attrs.get("rel") or "").lower() == "canonical":
            self.canonicals.append(attrs.get("href") or "")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.titles[-1] += data

    def values(self, attr: str, name: str) -> list[str]:
        return [m.get("content", "") for m in self.metas if m.get(attr) == name]


def read_head(url: str, **headers) -> Head:
    resp = requests.get(url, headers=headers, timeout=30)
    assert resp.status_code == 200, resp.status_code
    head = Head()
    head.feed(resp.text)
    return head


@pytest.fixture(scope="module")
def published(wp_site, tmp_path_factory):
    """One seed drafted by the CLI (author), then published by the editor: (post, meta)."""
    from tests.support.fakellm import FakeLLM, make_smart_handler
    tmp = tmp_path_factory.mktemp("seo-head")
    with FakeLLM(make_smart_handler()) as llm:
        env = {"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "test-key",
               "PUBLISHER_MODEL": "test-model", "PUBLISHER_DB": f"sqlite:///{tmp}/state.db",
               "PUBLISHER_SEO_PLUGIN": "yoast",
               "PUBLISHER_AI_DISCLOSURE": "Article rédigé avec l’aide d’une IA & relu."}
        # A source of its own: no other test's post from the seed is found and published here.
        source = tmp / "source.txt"
        source.write_text(SEED_000.read_text() + f"\n\nRéférence du test : {uuid.uuid4().hex}.\n")
        result = run(["draft", str(source), "--json"], {**env, **wp_site.env("author")}, cwd=tmp)
    assert result.returncode == 0, result.stderr
    post_id = json.loads(result.stdout)["id"]
    meta = _edit(wp_site, post_id, {})["meta"]
    if meta["publisher_to_verify"] == "1":        # the editor confirms first, as the guard asks
        _edit(wp_site, post_id, {"meta": {"publisher_review": "{}"}})
    post = _edit(wp_site, post_id, {"status": "publish"})
    assert post["status"] == "publish"
    return post, meta


def _edit(site, post_id: int, body: dict) -> dict:
    resp = requests.post(site.api(f"/wp/v2/posts/{post_id}"), params={"context": "edit"},
                         json=body, auth=site.auth("editor"), timeout=30)
    assert resp.ok, resp.text
    return resp.json()


@pytest.fixture(scope="module")
def simulator(wp_site):
    """The test mu-plugin, installed in the site's mu-plugins for this module only."""
    mu = WP_DIR / "sites" / wp_site.name / "docroot" / "wp-content" / "mu-plugins"
    if not mu.is_dir():
        pytest.skip(f"{mu} not found: the site runs from another PUBLISHER_WP_DIR")
    path = mu / f"zz-publisher-test-seo-{uuid.uuid4().hex[:8]}.php"
    path.write_text(SIMULATOR)
    yield
    path.unlink(missing_ok=True)


def test_without_an_seo_plugin_the_page_carries_publishers_meta(published):
    post, meta = published
    head = read_head(post["link"])
    assert meta["publisher_meta_title"] and meta["publisher_meta_description"]
    assert meta["publisher_meta_title"] == meta["_yoast_wpseo_title"]   # written besides Yoast's
    assert head.titles == [meta["publisher_meta_title"]]
    assert head.values("name", "description") == [meta["publisher_meta_description"]]
    assert head.values("property", "og:title") == [meta["publisher_meta_title"]]
    assert head.values("property", "og:description") == [meta["publisher_meta_description"]]
    assert head.values("property", "og:type") == ["article"]
    assert head.values("property", "og:url") == [post["link"]]
    assert len(head.values("property", "og:site_name")) == 1
    assert head.values("name", "twitter:title") == [meta["publisher_meta_title"]]
    assert head.values("name", "twitter:description") == [meta["publisher_meta_description"]]
    assert len(head.values("name", "twitter:card")) == 1
    assert head.canonicals == [post["link"]], "one canonical: WordPress's own"


def test_the_disclosure_line_closes_the_post_once(published):
    post, meta = published
    ai = json.loads(meta["publisher_ai"])
    assert ai["model"] == "test-model" and ai["date"].endswith("Z")
    assert ai["disclosure"] == "Article rédigé avec l’aide d’une IA & relu."
    page = html.unescape(requests.get(post["link"], timeout=30).text)
    assert page.count(ai["disclosure"]) == 1
    # after the article's last words (REST renders the content without the line: no page)
    content = html.unescape(post["content"]["rendered"])
    last_word = [w for w in re.sub(r"<[^>]+>", " ", content).split() if len(w) > 4][-1]
    assert ai["disclosure"] not in content
    assert page.rindex(last_word) < page.index(ai["disclosure"])


@pytest.mark.parametrize("plugin", ["yoast", "rankmath"])
def test_with_an_seo_plugin_active_publisher_prints_none_of_it(published, simulator, plugin):
    post, meta = published
    head = read_head(post["link"], **{SIMULATE_HEADER: plugin})
    assert meta["publisher_meta_title"] not in head.titles, "the title is the plugin's job"
    assert head.values("name", "description") == []
    for tag in ("og:title", "og:description", "og:type", "og:url", "og:site_name"):
        assert head.values("property", tag) == [], tag
    for tag in ("twitter:card", "twitter:title", "twitter:description"):
        assert head.values("name", tag) == [], tag
    assert head.canonicals == [post["link"]], "WordPress's own canonical stays, alone"


def test_the_simulator_answers_only_requests_that_ask(published, simulator):
    post, meta = published
    assert read_head(post["link"]).titles == [meta["publisher_meta_title"]]


def test_a_post_without_publishers_fields_keeps_the_wordpress_title(wp_site):
    resp = requests.post(wp_site.api("/wp/v2/posts"), auth=wp_site.auth("editor"), timeout=30,
                         json={"title": f"Billet ordinaire {uuid.uuid4().hex[:6]}",
                               "content": "<p>Texte.</p>", "status": "publish"})
    assert resp.status_code == 201, resp.text
    post = resp.json()
    head = read_head(post["link"])
    assert html.unescape(post["title"]["rendered"]) in head.titles[0]
    assert head.values("name", "description") == [] and head.values("property", "og:title") == []


def test_hostile_fields_are_escaped_in_the_head(wp_site):
    title = 'Titre "entre guillemets" & <b>gras</b>'
    desc = 'Une description qui tente "><script>alert(1)</script> de sortir de son attribut.'
    resp = requests.post(wp_site.api("/wp/v2/posts"), auth=wp_site.auth("editor"), timeout=30,
                         json={"title": "Titre WordPress", "content": "<p>Texte.</p>",
                               "status": "publish", "meta": {"publisher_meta_title": title,
                                                             "publisher_meta_description": desc}})
    assert resp.status_code == 201, resp.text
    stored = resp.json()["meta"]
    page = requests.get(resp.json()["link"], timeout=30).text
    assert "<script>alert(1)</script>" not in page
    head = Head()
    head.feed(page)
    assert head.titles == [stored["publisher_meta_title"]]
    assert head.values("name", "description") == [stored["publisher_meta_description"]]
