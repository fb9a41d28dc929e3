"""An editor opens a publisher draft in wp-admin (real Chromium) and sees the summary box and
the publisher panel."""

from __future__ import annotations

import json
import os
import shutil
import uuid

import pytest
import requests

from tests.support.wordpress import WPSite

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

REPORT = {
    "word_count": 812, "target_words": 700, "llm_calls": 3, "tokens_in": 4200,
    "tokens_out": 1900, "cost": 0.0018,
    "warnings": ["Le chiffre de 40 % n'apparaît pas dans la source"],
    "repairs": ["Section « Contexte » allongée"],
    "untraceable": ["« une décision historique »"],
    "checks": [{"id": "length", "label": "Longueur minimale", "status": "pass",
                "detail": "812 mots sur 700"},
               {"id": "keyphrase", "label": "Expression clé dans l'introduction",
                "status": "warn", "detail": "absente du premier paragraphe"}],
    "sources": ["https://example.org/article-source"],
}


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        message = "Chromium not available: run scripts/wp-local install"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def draft_with_report(site: WPSite) -> int:
    resp = requests.post(site.api("/wp/v2/posts"), auth=site.auth("author"), timeout=10, json={
        "title": f"Brouillon publisher {uuid.uuid4().hex[:6]}", "status": "draft",
        "content": "<!-- wp:paragraph --><p>Un paragraphe.</p><!-- /wp:paragraph -->",
        "meta": {"publisher_report": json.dumps(REPORT, ensure_ascii=False)}})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def log_in(page, site: WPSite, role: str) -> None:
    user = site.users[role]
    page.goto(site.url + "/wp-login.php")
    page.fill("#user_login", user.username)
    page.fill("#user_pass", user.password)
    page.click("#wp-submit")
    page.wait_for_selector("#wpadminbar", timeout=30_000)


def open_in_block_editor(page, site: WPSite, post_id: int) -> None:
    page.goto(f"{site.admin_url}post.php?post={post_id}&action=edit")
    page.wait_for_selector(".edit-post-layout", timeout=60_000)
    guide = page.locator(".edit-post-welcome-guide")
    if guide.count() and guide.is_visible():
        page.keyboard.press("Escape")
        guide.wait_for(state="hidden")


def test_editor_sees_the_publisher_report_in_the_block_editor(wp_site, browser, tmp_path):
    post_id = draft_with_report(wp_site)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    log_in(page, wp_site, "editor")
    open_in_block_editor(page, wp_site, post_id)

    # The old 2,900 px report under the article is now a few lines in the sidebar; the detail
    # is in the publisher panel (tests/test_editor_panel_browser.py covers it in full).
    box = page.locator("#publisher-report")
    box.scroll_into_view_if_needed(timeout=30_000)
    assert box.is_visible()
    text = box.inner_text()
    assert "Longueur : 812 mots (objectif : 700)" in text
    assert "Faits à vérifier : 1" in text
    assert "Vérification non confirmée" in text
    assert not any(word in text for word in (" good", " bad", "tokens_in", "{"))  # French, no JSON
    panel = page.locator(".publisher-panel")
    panel.wait_for(state="visible", timeout=30_000)
    warnings = page.locator(".publisher-warnings").inner_text()
    assert "Le chiffre de 40 % n'apparaît pas dans la source" in warnings
    assert "Expression clé dans l'introduction" in page.locator(".publisher-checks").inner_text()
    page.screenshot(path=str(tmp_path / "publisher-report.png"), full_page=True)
    assert (tmp_path / "publisher-report.png").stat().st_size > 0
    page.close()
