"""Internal links and keyphrase reuse on the real local WordPress (issue 15, point 4).

The test publishes a few posts over REST as the editor (two about the story, one about
something else; one of them has the story's best keyphrase as its Yoast focus keyphrase),
then drafts the story with the real CLI as the author, against the scripted LLM server. The
scripted writer links the related post it was offered, another post of the site it was not
offered and a URL of the site it made up: only the first survives in WordPress. The posts
are deleted afterwards.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
import requests

from publisher.models import Article, Block, SeoMeta, Section
from publisher.seo.checks import site_checks
from publisher.seo.plan import keyphrase_key, plan_keyphrase, search_terms
from publisher.sources.load import load_sources
from publisher.wordpress import open_client
from publisher.wordpress.related import find_related
from tests.support.crash import Newsroom, cli_env, drafts, new_nonce, run_cli
from tests.support.fakellm import FakeLLM, Reply, make_smart_handler, smart_handler
from tests.support.feedsite import FeedSite
from tests.support.wpproxy import WpProxy
from tests.test_cli import run

pytestmark = pytest.mark.wordpress

STORY = """Ondine Marcheval, maire de Tréveneuc, a présenté mardi le nouveau plan de protection \
du littoral breton devant le conseil municipal. Ondine Marcheval veut renforcer les digues de \
Tréveneuc avant l'hiver, après les tempêtes de l'an dernier.

Le plan de protection du littoral prévoit trois chantiers successifs. Le premier concerne la \
digue du port, fragilisée par la houle. Le deuxième porte sur le sentier côtier, fermé depuis \
le printemps. Le troisième vise les dunes de la plage principale, que la mer grignote chaque \
année.

« Nous ne pouvons plus attendre, la mer avance plus vite que nos budgets », a déclaré Ondine \
Marcheval devant les élus. L'opposition municipale salue l'intention mais s'inquiète du \
calendrier des travaux.

Les habitants de Tréveneuc seront consultés en janvier lors d'une réunion publique. Ondine \
Marcheval a promis de publier le détail des dépenses prévues pour chaque chantier du littoral.
"""
_RELATED = re.compile(r"<<<ARTICLES DU SITE>>>\n(.*?)\n<<<FIN ARTICLES DU SITE>>>", re.S)
_HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture
def story(tmp_path):
    path = tmp_path / "marcheval.txt"      # a reference of its own: the site outlives runs
    path.write_text(STORY + f"\nLe dossier porte la référence {uuid.uuid4().hex} dans les "
                            "archives de la mairie, qui le conserve.\n", encoding="utf-8")
    return path


@pytest.fixture
def site_posts(wp_site, story):
    """Published posts: two about the story (the first has its best keyphrase as focus), one
    that only mentions its main name, one about something else; deleted after the test."""
    sources, _ = load_sources([str(story)])
    taken = plan_keyphrase(sources)
    made = {}
    for name, title, text, meta in (
            ("used", "Ondine Marcheval lance la rénovation du port de Tréveneuc",
             "Ondine Marcheval a inauguré le chantier du port de Tréveneuc.",
             {"_yoast_wpseo_focuskw": taken}),
            ("related", "Tempêtes : Ondine Marcheval demande l'aide de l'État",
             "Après les tempêtes, Ondine Marcheval a écrit au préfet.", {}),
            ("other", "Recette : la tarte aux pommes de grand-mère",
             "Des pommes, du beurre, de la farine et du sucre.", {}),
            # found by the search (the name is in its text), but its title is another story
            ("mention", "Le marché de Noël ouvre ses portes",
             "Le ruban a été coupé par Ondine Marcheval.", {})):
        resp = requests.post(wp_site.api("/wp/v2/posts"), auth=wp_site.auth("editor"), timeout=30,
                             json={"title": title, "content": text, "status": "publish",
                                   "meta": meta})
        resp.raise_for_status()
        made[name] = resp.json()
    yield {"taken": taken, "sources": sources, **made}
    for post in made.values():
        requests.delete(wp_site.api(f"/wp/v2/posts/{post['id']}"), params={"force": "true"},
                        auth=wp_site.auth("editor"), timeout=30)


def linking_writer(invented: str, foreign: str):
    """The smart scripted writer, which also links the first related post it was offered,
    ``foreign`` (a real post of the site it was not offered) and ``invented``."""
    smart = make_smart_handler()

    def handler(request):
        reply = smart(request)
        block = _RELATED.search(request.prompt)
        if request.purpose != "write" or block is None:
            return reply
        offered = block.group(1).splitlines()[0].rsplit(" | ", 1)[1]
        data = reply.json
        data["introduction"][-1] += f' Lire aussi <a href="{offered}">notre article</a>.'
        data["sections"][0]["paragraphs"][0] += (
            f' Voir <a href="{foreign}">cette recette</a> et <a href="{invented}">ce dossier</a>.')
        return Reply(json=data)
    return handler


def draft_env(wp_url, llm, tmp_path, wp_site):
    return {**wp_site.env("author"), "WP_URL": wp_url, "OPENAI_BASE_URL": llm.base_url,
            "OPENAI_API_KEY": "test-key", "PUBLISHER_MODEL": "test-model",
            "PUBLISHER_DB": f"sqlite:///{tmp_path}/state.db"}


def stored(wp_site, post_id):
    resp = requests.get(wp_site.api(f"/wp/v2/posts/{post_id}"), params={"context": "edit"},
                        auth=wp_site.auth("author"), timeout=30)
    resp.raise_for_status()
    return resp.json()


def test_a_draft_links_a_related_post_and_nothing_else_of_the_site(
        wp_site, site_posts, story, tmp_path):
    invented = f"{wp_site.url}/2026/12/ondine-marcheval-dossier-invente/"
    foreign = site_posts["other"]["link"]
    with FakeLLM(linking_writer(invented, foreign)) as llm, WpProxy(wp_site.url) as proxy:
        result = run(["draft", str(story), "--json"], draft_env(proxy.url, llm, tmp_path, wp_site),
                     cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert proxy.count("GET", "search=") == 1          # one request for the whole article
        prompt = next(r.prompt for r in llm.requests if r.purpose == "write")
    data = json.loads(result.stdout)
    post = stored(wp_site, data["id"])
    try:
        # The related posts went to the writer as data, the other post did not.
        offered = _RELATED.search(prompt).group(1)
        assert site_posts["related"]["link"] in offered and foreign not in offered
        assert site_posts["mention"]["link"] not in offered
        # On the site's host, only offered posts are linked: the foreign and invented are text.
        site_host = wp_site.url.split("//")[1]
        links = [u for u in _HREF.findall(post["content"]["raw"]) if site_host in u]
        assert links and set(links) <= {site_posts["used"]["link"], site_posts["related"]["link"]}
        assert "cette recette" in post["content"]["raw"] and "ce dossier" in post["content"]["raw"]
        # The best keyphrase is another post's focus: the article was written for the next one.
        taken, sources = site_posts["taken"], site_posts["sources"]
        chosen = plan_keyphrase(sources, [taken])
        assert keyphrase_key(chosen) != keyphrase_key(taken)
        assert f"Expression clé imposée : « {chosen} »" in prompt
        report = json.loads(post["meta"]["publisher_report"])
        assert any(taken in w and site_posts["used"]["link"] in w for w in report["warnings"])
        checks = {c["id"]: c for c in report["checks"]}
        assert checks["internal_links"]["status"] == "good"
        assert checks["keyphrase_already_used"]["status"] in ("good", "ok")
        assert (checks["keyphrase_already_used"]["status"] == "good") == (
            keyphrase_key(data["seo"]["keyphrase"]) != keyphrase_key(taken))
    finally:
        requests.delete(wp_site.api(f"/wp/v2/posts/{data['id']}"), params={"force": "true"},
                        auth=wp_site.auth("editor"), timeout=30)


def test_a_keyphrase_already_used_on_the_site_is_reported(wp_site, site_posts):
    client = open_client(wp_site.settings("author"))
    sources = site_posts["sources"]
    related = find_related(client, search_terms(sources), [plan_keyphrase(sources)])
    ids = [p.id for p in related.posts]
    assert site_posts["used"]["id"] in ids and site_posts["related"]["id"] in ids
    assert site_posts["other"]["id"] not in ids and related.keyphrases_shown
    # Its text names the story's subject, its title does not: found, not offered.
    assert site_posts["mention"]["id"] in [p.id for p in related.others]
    taken = site_posts["taken"]
    seo = SeoMeta(keyphrase=taken, meta_title="", meta_description="", slug="", tags=())
    check = {c.id: c for c in site_checks(_empty_article(), seo, related)}[
        "keyphrase_already_used"]
    assert check.status in ("ok", "bad") and site_posts["used"]["link"] in check.detail


def test_a_failed_search_is_a_warning_never_a_failed_draft(wp_site, story, tmp_path):
    with FakeLLM(make_smart_handler()) as llm, WpProxy(wp_site.url) as proxy:
        proxy.lose_next("GET", "search=", answer=403)
        result = run(["draft", str(story), "--json"], draft_env(proxy.url, llm, tmp_path, wp_site),
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    try:
        report = json.loads(stored(wp_site, data["id"])["meta"]["publisher_report"])
        assert "Articles du site non consultés (HTTP 403)" in " ".join(report["warnings"])
        checks = {c["id"]: c for c in report["checks"]}
        assert checks["internal_links"]["detail"].startswith("Non vérifié")
    finally:
        requests.delete(wp_site.api(f"/wp/v2/posts/{data['id']}"), params={"force": "true"},
                        auth=wp_site.auth("editor"), timeout=30)


def _empty_article():
    return Article("Titre", (Block(text="Texte."),), (), Section("Fin", (Block(text="Fin."),)))


def test_feed_stories_ask_the_site_too(tmp_path, fake_llm, wp_site):
    fake_llm.handler = smart_handler
    with FeedSite() as feeds:
        newsroom = Newsroom(feeds, new_nonce())
        result = run_cli(cli_env(fake_llm, wp_site, tmp_path), tmp_path, "feed", "--no-progress",
                         newsroom.two_stories())
    assert result.returncode == 0, result.stderr[-3000:]
    posts = drafts(wp_site, newsroom.nonce)
    assert len(posts) == 2
    for post in posts:
        checks = {c["id"]: c for c in json.loads(post["meta"]["publisher_report"])["checks"]}
        assert not checks["internal_links"]["detail"].startswith("Non vérifié"), checks
        assert not checks["keyphrase_already_used"]["detail"].startswith("Non vérifié")


def test_without_the_companion_plugin_reuse_is_not_verifiable_and_xmlrpc_is_not_asked(
        wp_bare_site, wp_site):
    from publisher.wordpress.xmlrpc import XmlRpcClient
    resp = requests.post(wp_bare_site.api("/wp/v2/posts"), auth=wp_bare_site.auth("editor"),
                         timeout=30, json={"title": "Ondine Marcheval inaugure la digue",
                                           "content": "Ondine Marcheval était là.",
                                           "status": "publish"})
    resp.raise_for_status()
    try:
        related = find_related(open_client(wp_bare_site.settings("author")), "Ondine Marcheval",
                               ["Ondine Marcheval"])
        assert resp.json()["id"] in [p.id for p in related.posts]
        assert related.asked and not related.keyphrases_shown
        seo = SeoMeta(keyphrase="Ondine Marcheval", meta_title="", meta_description="", slug="",
                      tags=())
        check = {c.id: c for c in site_checks(_empty_article(), seo, related)}
        assert check["keyphrase_already_used"].detail.startswith("Non vérifiable")
        assert check["internal_links"].status == "bad"          # offered, none linked
    finally:
        requests.delete(wp_bare_site.api(f"/wp/v2/posts/{resp.json()['id']}"),
                        params={"force": "true"}, auth=wp_bare_site.auth("editor"), timeout=30)
    over_xmlrpc = find_related(XmlRpcClient(wp_site.settings("author")), "Ondine Marcheval")
    assert over_xmlrpc.reason == "unsupported" and not over_xmlrpc.posts
