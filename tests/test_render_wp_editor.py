"""Our block markup through WordPress 6.1's own block editor code (wp.blocks + core blocks,
the very scripts WordPress ships), run in headless Chromium: every block must validate, i.e.
an editor opening the draft never sees "This block contains unexpected or invalid content",
and re-saving must give back our markup (but for the entities that defuse shortcodes and
bare URLs, ``&#091; &#093; &#058;``, which the editor saves back as the characters they stand for:
``as_saved``).

The scripts load in dependency order from WordPress's script-loader-packages.php."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from publisher.models import Block, Section, Source
from publisher.render.blocks import render_article
from tests.test_render_blocks import AFP, LEMONDE, articles, sample_article, source_labels

WP = Path("/usr/share/wordpress/wp-includes")
PACKAGES = WP / "assets" / "script-loader-packages.php"
CHROMIUM = Path("/usr/bin/chromium")
VENDOR = {"lodash", "moment", "react", "react-dom", "wp-polyfill", "regenerator-runtime"}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--allow-file-access-from-files"]

pytestmark = pytest.mark.browser


def script_order(root: str = "wp-block-library") -> list[Path]:
    """The files WordPress would enqueue for ``root``, dependencies first."""
    text = PACKAGES.read_text(encoding="utf-8")
    deps = {f"wp-{m[1]}": re.findall(r"'([^']+)'", m[2]) for m in re.finditer(
        r"'([a-z0-9-]+)\.js' => array\('dependencies' => array\(([^)]*)\)", text)}
    order: list[str] = []

    def visit(handle: str) -> None:
        if handle not in order:
            for dep in deps.get(handle, []):
                visit(dep)
            order.append(handle)

    visit(root)
    return [WP / "js/dist" / (f"vendor/{h}.js" if h in VENDOR else f"{h[3:]}.js") for h in order]


@pytest.fixture(scope="module")
def editor(tmp_path_factory):
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Debian chromium is missing: apt-get install chromium")
        pytest.skip("needs Debian chromium (/usr/bin/chromium)")
    if not PACKAGES.exists():
        pytest.skip("needs WordPress's scripts under /usr/share/wordpress (Debian wordpress)")
    tags = []
    for path in script_order():
        tags.append(f'<script charset="utf-8" src="{path.as_uri()}"></script>')
        if path.name == "lodash.js":             # what WordPress prints after lodash
            tags.append("<script>window.lodash = _.noConflict();</script>")
    page_file = tmp_path_factory.mktemp("wp") / "editor.html"
    page_file.write_text('<!DOCTYPE html><html><head><meta charset="utf-8">' + "".join(tags)
                         + "</head><body></body></html>", encoding="utf-8")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        assert errors == [], errors
        page.evaluate("() => wp.blockLibrary.registerCoreBlocks()")
        yield page
        browser.close()


PARSE_JS = """(content) => {
  const blocks = wp.blocks.parse(content);
  const flat = [];
  const walk = bs => bs.forEach(b => { flat.push([b.name, b.isValid]); walk(b.innerBlocks); });
  walk(blocks);
  return {flat, saved: wp.blocks.serialize(blocks)};
}"""


def editor_roundtrip(editor, content: str) -> tuple[list, str]:
    result = editor.evaluate(PARSE_JS, content)
    # WordPress 6.1 keeps the class 6.2+ writes (wp-block-heading) as a custom class name.
    saved = result["saved"].replace(',"className":"wp-block-heading"}', "}") \
        .replace(' {"className":"wp-block-heading"}', "")
    return result["flat"], saved


def as_saved(content: str) -> str:
    """Our markup as the editor re-serializes it: the defusing entities decoded."""
    return content.replace("&#091;", "[").replace("&#093;", "]").replace("&#058;", ":")


def test_wordpress_61_editor_validates_every_block(editor):
    content = render_article(sample_article(), [LEMONDE, AFP])
    flat, saved = editor_roundtrip(editor, content)
    assert [name for name, _ in flat] == [
        "core/paragraph", "core/heading", "core/paragraph", "core/list", "core/list-item",
        "core/list-item", "core/heading", "core/quote", "core/paragraph", "core/heading",
        "core/paragraph", "core/paragraph"]
    assert all(valid for _, valid in flat), flat
    assert saved == content


def test_inline_markup_entities_and_hostile_leftovers_stay_valid(editor):
    rich = sample_article(
        intro=(Block(text='Selon <a href="https://www.lemonde.fr/otan?a=1&b=2">Le Monde</a>, '
                          "l’aide « arrive » : <b>2,4 Md€</b> & <i>plus</i><br>encore "
                          "<script>alert(1)</script>< 3 > 2 --><!-- wp:html -->"),),
        sections=(Section("Titre <em>mis en avant</em> & co", (
            Block(kind="list", items=('<strong>Un</strong> <a href="https://evil.example/">'
                                      "deux</a>", "trois\u00a0!")),
            Block(kind="quote", text="« Nous <em>tiendrons</em> »", cite="<b>Zelensky</b>"),
            Block(kind="image", text="légende"),  # type: ignore[arg-type]
        ), level=3),))
    content = render_article(rich, [LEMONDE, Source(text="…", site_name="AFP & Reuters")])
    flat, saved = editor_roundtrip(editor, content)
    assert flat and all(valid for _, valid in flat), flat
    assert saved == content


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=articles, sources=st.lists(source_labels, max_size=3))
def test_whatever_the_llm_writes_the_editor_accepts_it(editor, article, sources):
    content = render_article(article, sources)
    flat, saved = editor_roundtrip(editor, content)
    assert all(valid for _, valid in flat), (flat, content)
    assert saved == as_saved(content)
