"""The preview page as an editor sees it: opened in headless Debian Chromium, screenshotted,
and checked for the title, the search result and the coloured checklist."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from publisher.render.preview import text_width, write_dry_run
from tests.test_render_preview import sample_inputs

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Debian chromium is missing: apt-get install chromium")
        pytest.skip("needs Debian chromium (/usr/bin/chromium): apt-get install chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, tmp_path):
    draft, seo, report = sample_inputs()
    folder = write_dry_run(tmp_path / "dry", draft, seo, report, site_url="https://www.exemple.fr")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((folder / "preview.html").as_uri())
    page.requests = requests
    yield page
    context.close()


TEXT_WIDTH_JS = """(el) => { const r = document.createRange(); r.selectNodeContents(el);
                               return r.getBoundingClientRect().width; }"""


def assert_cut_fits_in_browser(page):
    probe = page.evaluate("""() => { const s = document.createElement('span');
        s.style.font = '20px Arial, "Liberation Sans", Arimo'; s.textContent = 'Hello';
        document.body.append(s); const w = s.getBoundingClientRect().width; s.remove();
        return w; }""")
    if abs(probe - text_width("Hello", 20)) > 1:
        pytest.skip(f"no Arial-metric font here (apt-get install fonts-liberation2); {probe}px")
    shown = page.locator("#serp-title")
    measured = shown.evaluate(TEXT_WIDTH_JS)
    assert measured <= 600
    assert measured == pytest.approx(text_width(shown.inner_text(), 20), rel=0.03)


def test_preview_renders_title_search_result_and_checklist(page, tmp_path):
    shot = tmp_path / "preview.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    title = page.locator("#post-title")
    assert title.is_visible() and title.inner_text() == \
        "L’OTAN promet plus de défense aérienne à l’Ukraine"

    serp_title = page.locator("#serp-title")
    assert serp_title.is_visible()
    assert serp_title.inner_text().startswith("Défense aérienne : l’OTAN promet")
    assert serp_title.inner_text().endswith(" …")
    desc = page.locator("#serp-description")
    assert desc.is_visible() and desc.inner_text().startswith("Jens Stoltenberg, en visite")

    checks = page.locator("li.check")
    assert checks.count() == 4
    labels = [checks.nth(i).inner_text() for i in range(4)]
    assert "Phrases à la voix passive" in labels[0] and "18 % (max 10 %)" in labels[0]
    colours = {c: page.locator(f"li.check.{c} .dot").first.evaluate(
        "e => getComputedStyle(e).backgroundColor") for c in ("good", "ok", "bad")}
    assert colours == {"good": "rgb(30, 142, 62)", "ok": "rgb(227, 116, 0)",
                       "bad": "rgb(217, 48, 37)"}
    assert all(checks.nth(i).is_visible() for i in range(4))


def test_serp_title_cut_fits_600px_in_the_browser(page):
    """Our Arial estimate agrees with Chromium when it has Arial's metrics (Liberation Sans)."""
    assert_cut_fits_in_browser(page)


def test_preview_loads_nothing_but_itself(page):
    assert [u for u in page.requests if not u.startswith("file://")] == []
    assert page.locator("article.post h2").count() == 3
    assert page.locator("article.post .publisher-sources a").get_attribute("href") == \
        "https://www.lemonde.fr/international/article/2023/09/28/otan.html"
