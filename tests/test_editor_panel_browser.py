"""The publisher panel in the block editor (wordpress-plugin/publisher-companion/editor.js), as
an editor uses it in real Chromium on the real local WordPress: a draft pushed by `publisher
draft` (scripted model that invents a figure and a quotation and cannot fix them) opens with the
panel in view, its SEO fields, Google-style result and facts to verify; an edited meta
description is saved to the post's meta; the posts list shows it in the "À vérifier" column
and view; publishing waits for the facts confirmation, which is
recorded in publisher_review. Screenshots go to the folder the test prints (or
$PUBLISHER_SCREENSHOTS). Also: with Yoast active the panel writes Yoast's keys too; a draft
without facts publishes unasked; scripts/wp-local keeps the plugin's folder in step."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from publisher.seo import rules
from publisher.seo.width import title_width_px
from tests.support.fakellm import FakeLLM, Reply, make_smart_handler
from tests.test_cli import SEED_000, _post, run
from tests.test_wp_admin_browser import browser, log_in, open_in_block_editor  # noqa: F401

pytestmark = [pytest.mark.wordpress, pytest.mark.browser]

NEW_DESCRIPTION = ("Ce que l’OTAN a promis à l’Ukraine, ce qui reste à financer et ce que "
                   "disent les alliés : l’essentiel de l’annonce, vérifié pour nos lecteurs.")


def stubborn_handler():
    """Writes with an invented figure and quotation, and gives back the flagged passages
    unchanged when asked to fix them: the draft reaches WordPress with facts to verify."""
    smart = make_smart_handler(invent=True)

    def handler(request):
        if "<<<ÉLÉMENTS INTROUVABLES>>>" in request.prompt:
            found = request.prompt.split("<<<ARTICLE>>>\n", 1)[1].split("\n<<<FIN ARTICLE>>>")[0]
            return Reply(json=json.loads(found))
        return smart(request)
    return handler


@pytest.fixture
def draft_with_facts(wp_site, tmp_path) -> dict:
    seed = tmp_path / "story.txt"       # sources of its own: the site outlives test runs
    seed.write_text(SEED_000.read_text() + f"\n\nLe dossier porte la référence {uuid.uuid4().hex}.")
    with FakeLLM(stubborn_handler()) as llm:
        env = {"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "test-key",
               "PUBLISHER_MODEL": "test-model", "PUBLISHER_PRICES": "test-model=1.0/2.0",
               "PUBLISHER_DB": f"sqlite:///{tmp_path}/state.db", **wp_site.env("author")}
        result = run(["draft", str(seed), "--json"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    post = _post(wp_site, json.loads(result.stdout)["id"])
    report = json.loads(post["meta"]["publisher_report"])
    assert any("3,7 milliards" in claim for claim in report["untraceable"]), report["untraceable"]
    return post


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("PUBLISHER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of the publisher panel: {folder}")
    return folder


def seo_value(meta: dict, field: str) -> str:
    """What the panel shows on a site without an SEO plugin: publisher's own key."""
    return meta[{"title": "publisher_meta_title",
                 "description": "publisher_meta_description"}[field]]


def check_panel(page, post: dict) -> None:
    panel = page.locator(".publisher-panel")
    panel.wait_for(state="visible", timeout=30_000)
    top = panel.bounding_box()["y"]
    assert top < page.viewport_size["height"] - 200, f"panel starts at y={top}: below the fold"
    title = page.locator(".publisher-meta-title input")
    assert title.input_value() == seo_value(post["meta"], "title") != ""
    description = page.locator(".publisher-meta-description textarea")
    assert description.input_value() == seo_value(post["meta"], "description") != ""
    counter = page.locator(".publisher-description-counter").inner_text()
    assert counter.startswith(f"Méta-description : {len(description.input_value())} caractères "
                              f"(recommandé : {rules.DESC_MIN} à {rules.DESC_MAX})")
    # the browser's width of the title, as publisher measures it (Arial 20 px), give or take
    shown = re.search(r"(\d+) px \(max\. (\d+) px\)",
                      page.locator(".publisher-title-counter").inner_text())
    assert int(shown[2]) == rules.TITLE_MAX_PX
    assert abs(int(shown[1]) - title_width_px(title.input_value())) <= 3
    assert page.locator(".publisher-checks h4").first.inner_text() in \
        [group[0] for group in rules.STATUS.values()]
    serp = page.locator(".publisher-serp-title").inner_text()
    assert serp.rstrip(" …") and seo_value(post["meta"], "title").startswith(serp.rstrip(" …"))
    facts = page.locator(".publisher-facts li")
    assert facts.count() >= 1
    figure = page.locator(".publisher-facts li", has_text="3,7 milliards")
    # the source sentence nearest the invented figure: the one holding the real amount
    assert "2,4 milliards" in figure.locator(".publisher-fact-passage").inner_text()
    notice = page.locator(".components-notice.is-warning", has_text="à vérifier")
    assert notice.count() == 1 and notice.is_visible()
    assert not notice.locator(".components-notice__dismiss").count(), "not dismissible"
    page.locator(".publisher-panel .components-panel__body-toggle").click()     # folded away
    page.locator(".publisher-facts").wait_for(state="detached")
    notice.get_by_role("button", name="Voir les faits").click()          # brings it back
    page.locator(".publisher-facts").wait_for(state="visible")


def screenshot_whole_panel(page, path: Path) -> None:
    """The sidebar scrolls: a window tall enough to hold the whole panel, then back."""
    size = page.viewport_size
    height = int(page.locator(".publisher-panel").bounding_box()["height"]) + 800
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    page.locator(".publisher-panel").screenshot(path=str(path))
    page.set_viewport_size(size)
    assert path.stat().st_size > 10_000


def edit_description_and_save(page) -> None:
    page.locator(".publisher-meta-description textarea").fill(NEW_DESCRIPTION)
    counter = page.locator(".publisher-description-counter")
    assert counter.inner_text().startswith(f"Méta-description : {len(NEW_DESCRIPTION)} caractères")
    assert page.locator(".publisher-serp-description").inner_text().startswith("Ce que l’OTAN")
    page.locator(".editor-post-save-draft").click()
    page.wait_for_function("""() => { const e = wp.data.select('core/editor');
        return !e.isSavingPost() && !e.isEditedPostDirty(); }""", timeout=30_000)


def check_list_view(page, site, post_id: int, shots: Path) -> None:
    """The posts list says which drafts wait for a facts check: an "À vérifier" column and a
    view that lists only them (the shared site holds many posts: the view finds ours)."""
    page.goto(f"{site.admin_url}edit.php?post_type=post&publisher_to_verify=1")
    view = page.locator(".subsubsub .publisher_to_verify a")
    assert view.get_attribute("aria-current") == "page" and "À vérifier" in view.inner_text()
    assert page.locator("th#publisher_to_verify").inner_text().strip() == "À vérifier"
    cell = page.locator(f"tr#post-{post_id} td.column-publisher_to_verify")
    assert cell.inner_text().strip() == "Faits à vérifier"
    marked = page.locator("td.column-publisher_to_verify .publisher-to-verify").count()
    assert marked == page.locator("#the-list tr").count(), "the view lists only posts to check"
    page.screenshot(path=str(shots / "posts-list.png"))


def confirm_and_publish(page, shots: Path) -> None:
    page.locator(".editor-post-publish-panel__toggle").click()
    confirm = page.locator(".publisher-prepublish .publisher-review-confirm input")
    confirm.wait_for(state="visible", timeout=20_000)
    publish = page.locator(".editor-post-publish-panel .editor-post-publish-button")
    assert publish.get_attribute("aria-disabled") == "true", "publishing waits for the review"
    page.locator(".publisher-prepublish").screenshot(path=str(shots / "prepublish.png"))
    confirm.check()
    page.wait_for_function("() => !wp.data.select('core/editor').isPostSavingLocked()")
    assert publish.get_attribute("aria-disabled") != "true"
    publish.click()
    page.wait_for_function("() => wp.data.select('core/editor').isCurrentPostPublished()",
                           timeout=30_000)


def test_editor_reviews_seo_and_facts_in_the_block_editor_panel(
        wp_site, browser, draft_with_facts, shots):  # noqa: F811
    post, started = draft_with_facts, datetime.now(timezone.utc).replace(microsecond=0)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    log_in(page, wp_site, "editor")
    open_in_block_editor(page, wp_site, post["id"])
    check_panel(page, post)
    page.screenshot(path=str(shots / "editor.png"))
    screenshot_whole_panel(page, shots / "panel.png")

    edit_description_and_save(page)
    saved = _post(wp_site, post["id"], "editor")["meta"]
    assert saved["publisher_meta_description"] == NEW_DESCRIPTION
    # No SEO plugin on this site: its keys keep what publisher wrote, the panel writes its own.
    assert saved["_yoast_wpseo_metadesc"] == post["meta"]["_yoast_wpseo_metadesc"]
    assert saved["publisher_review"] == ""

    check_list_view(page, wp_site, post["id"], shots)
    open_in_block_editor(page, wp_site, post["id"])
    confirm_and_publish(page, shots)
    page.screenshot(path=str(shots / "published.png"))
    assert not page.locator(".components-notice.is-warning", has_text="à vérifier").count()
    published = _post(wp_site, post["id"], "editor")
    assert published["status"] == "publish"
    review = json.loads(published["meta"]["publisher_review"])
    editor = wp_site.users["editor"]
    assert review["user"] == editor.id and review["name"]
    assert datetime.fromisoformat(review["time"].replace("Z", "+00:00")) >= started
    assert published["meta"]["publisher_meta_description"] == NEW_DESCRIPTION
    assert errors == [], "no script error in the editor"
    page.close()


# The site's SEO plugin, as editor.php tells the script (publisher_companion_seo_plugin()):
# forced here in the page, so the shared test site needs no Yoast installed under other tests.
AS_YOAST = """(() => { let value;
    Object.defineProperty(window, 'publisherCompanion', { configurable: true,
        get: () => value, set: (v) => { value = Object.assign({}, v, { seoPlugin: 'yoast' }); } });
})();"""


def test_with_yoast_edits_reach_its_keys_and_a_draft_without_facts_publishes_unasked(
        wp_site, browser):  # noqa: F811
    report = {"word_count": 720, "target_words": 700, "untraceable": [], "checks": [],
              "sources": ["Le Monde — https://www.lemonde.fr/international/article/1.html"]}
    meta = {"publisher_report": json.dumps(report, ensure_ascii=False),
            "publisher_meta_title": "Un titre SEO", "_yoast_wpseo_title": "Un titre SEO",
            "rank_math_title": "Un titre SEO"}
    paragraph = "<!-- wp:paragraph --><p>Texte.</p><!-- /wp:paragraph -->"
    resp = requests.post(wp_site.api("/wp/v2/posts"), auth=wp_site.auth("author"), timeout=20,
                         json={"title": f"Sans faits {uuid.uuid4().hex[:6]}", "status": "draft",
                               "content": paragraph, "meta": meta})
    assert resp.status_code == 201, resp.text
    post_id = resp.json()["id"]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(AS_YOAST)
    page = context.new_page()
    log_in(page, wp_site, "editor")
    open_in_block_editor(page, wp_site, post_id)
    page.locator(".publisher-panel").wait_for(state="visible", timeout=30_000)
    assert page.locator(".publisher-facts-none").is_visible()
    link = page.locator(".publisher-sources a")
    assert link.inner_text() == "Le Monde"
    assert link.get_attribute("href") == "https://www.lemonde.fr/international/article/1.html"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert not page.locator(".components-notice.is-warning", has_text="à vérifier").count()

    page.locator(".publisher-meta-title input").fill("Un titre SEO revu par la rédaction")
    page.locator(".editor-post-publish-panel__toggle").click()
    publish = page.locator(".editor-post-publish-panel .editor-post-publish-button")
    publish.wait_for(state="visible", timeout=20_000)
    assert not page.locator(".publisher-prepublish").count(), "nothing to confirm"
    publish.click()
    page.wait_for_function("() => wp.data.select('core/editor').isCurrentPostPublished()",
                           timeout=30_000)
    saved = _post(wp_site, post_id, "editor")
    assert saved["status"] == "publish" and saved["meta"]["publisher_review"] == ""
    assert saved["meta"]["publisher_meta_title"] == "Un titre SEO revu par la rédaction"
    assert saved["meta"]["_yoast_wpseo_title"] == "Un titre SEO revu par la rédaction"
    assert saved["meta"]["rank_math_title"] == "Un titre SEO", "not the inactive plugin's key"
    context.close()


def test_wp_local_copies_the_plugin_folder_and_drops_what_left_it(wp_site):
    repo = Path(__file__).resolve().parents[1]
    state = Path(os.environ.get("PUBLISHER_WP_DIR") or repo / ".wp-local")
    folder = state / "sites" / wp_site.name / "docroot" / "wp-content" / "mu-plugins" / \
        "publisher-companion"
    stale = folder / "renamed-since.js"
    stale.write_text("// a file the checkout no longer has\n")
    proc = subprocess.run([sys.executable, str(repo / "scripts" / "wp-local"), "start", "--name",
                           wp_site.name], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not stale.exists()
    script = repo / "wordpress-plugin" / "publisher-companion" / "editor.js"
    assert (folder / "editor.js").read_bytes() == script.read_bytes()
    served = requests.get(wp_site.url + "/wp-content/mu-plugins/publisher-companion/editor.js",
                          timeout=20)
    assert served.status_code == 200 and served.content == script.read_bytes()
