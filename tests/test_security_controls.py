"""Issue 14, class 2: terminal escapes, bidi overrides and zero-width characters.

A model (or a hostile source that steers it) puts ANSI colour codes, an OSC window-title
change, BEL, backspaces, a right-to-left override and zero-width spaces in the title, the
headings, the meta fields and the tags; a feed's item titles and a page's og:site_name carry
the same. None of it may reach the terminal, the JSON output, the dry-run folder, or the
prompt; French text (accents, « », —, no-break spaces) must come through untouched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from publisher.feeds.fetch import parse_feed
from publisher.sources.web import extract
from publisher.textsafe import safe_line, safe_text
from tests.support.fakellm import FakeLLM, Reply, make_smart_handler

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "fixtures" / "seeds" / "000_26b4b37e47165035.txt"
PAGE = ROOT / "tests" / "fixtures" / "pages" / "gazette-stoltenberg-kiev.html"
PUBLISHER = [sys.executable, "-c", "from publisher.cli import main; main()"]

HOSTILE = ("\x1b[31m\x1b[1m", "\x1b]0;pwned\x07", "\x1b]8;;http://evil.example/\x1b\\",
           "\x07", "\x08\x08\x08", "\u202e", "\u202a", "\u2066", "\u2069", "\u200b", "\u200d",
           "\u2060", "\ufeff", "\x9b31m", "\x1bc")
POISON = "".join(HOSTILE)
FRENCH = "« L’Été — 10\u00a0% à Kyiv\u202f! »"
# What must never be printed or stored: ESC, C0/C1 controls but \n \t, bidi, zero-width.
FORBIDDEN = set("\x1b\x07\x08\x9b\x9d\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f")


def assert_clean(text: str) -> None:
    found = sorted({f"U+{ord(c):04X}" for c in text if c in FORBIDDEN
                    or (ord(c) < 32 and c not in "\n\t")})
    assert not found, found
    assert "]0;pwned" not in text and "[31m" not in text      # no sequence left half-eaten


def test_safe_text_removes_every_kind_and_keeps_french():
    for bad in HOSTILE:
        assert_clean(safe_text(f"avant{bad}après"))
        assert safe_text(f"avant{bad}après") == "avantaprès"
    assert safe_text(FRENCH + "\nligne\tsuivante") == FRENCH + "\nligne\tsuivante"
    assert safe_line("Le\u202e Monde\n\x1b[2J" + " très long" * 40, 60).endswith("…")
    assert len(safe_line("x " * 100, 60)) <= 60


PLAIN_FIELDS = {"title", "heading", "headings", "meta_title", "meta_description", "tags"}


def poisoned(value, key: str = ""):
    """``value`` with control characters around every plain-text field of an answer."""
    if isinstance(value, dict):
        return {k: poisoned(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [poisoned(v, key) for v in value]
    if isinstance(value, str) and key in PLAIN_FIELDS:
        return f"\x1b[2J\x1b]0;pwned\x07{value}\u200b\u202e\x08 {FRENCH}{POISON}"
    if isinstance(value, str) and key == "paragraphs":
        return value + " \x1b]0;pwned\x07\u2066"
    return value


def poisoned_handler():
    """The honest scripted model, with control characters in every plain-text field of every
    answer (the first draft and the SEO repairs alike)."""
    honest = make_smart_handler()

    def handler(request):
        reply = honest(request)
        if not isinstance(reply.json, dict):
            return reply
        return Reply(json=poisoned(reply.json))
    return handler


def draft_cli(tmp_path: Path, llm: FakeLLM, *extra: str) -> subprocess.CompletedProcess:
    source = tmp_path / "source.txt"
    source.write_text(SEED.read_text(encoding="utf-8") + f"\n\nRéférence {uuid.uuid4().hex}.\n",
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WP_", "OPENAI_", "PUBLISHER_"))}
    env.update(OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="k", PUBLISHER_MODEL="test-model",
               PUBLISHER_DB=f"sqlite:///{tmp_path}/state.db")
    return subprocess.run([*PUBLISHER, "draft", str(source), "--dry-run", "--out",
                           str(tmp_path / "out"), *extra], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def test_the_models_control_characters_reach_neither_terminal_nor_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with FakeLLM(poisoned_handler()) as llm:
        human = draft_cli(tmp_path / "a", llm)
        as_json = draft_cli(tmp_path / "b", llm, "--json")
    assert human.returncode == 0, human.stderr
    assert "title:" in human.stdout
    assert_clean(human.stdout + human.stderr)
    assert_clean(as_json.stdout + as_json.stderr)
    data = json.loads(as_json.stdout)
    assert_clean(json.dumps(data, ensure_ascii=False))        # no \u001b escape either
    payload_file = next((tmp_path / "b" / "out").rglob("payload.json"))
    payload = json.loads(payload_file.read_text(encoding="utf-8"))
    assert FRENCH in payload["title"]                          # French typography intact
    for field in ("title", "content", "excerpt"):
        assert_clean(payload[field])
    assert_clean(" ".join(payload["tags"]) + json.dumps(payload["meta"], ensure_ascii=False))
    assert_clean(" ".join(data["seo"]["outline"]) + data["seo"]["meta_title"])


def test_feed_item_titles_lose_their_escapes():
    # feedparser itself maps C1 bytes (\x9b) to their cp1252 letters: only the rest is ours.
    FEED_POISON = POISON.replace("\x9b31m", "")
    rss = f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
      <title>Flux{POISON}</title>
      <item><title>Kyiv\u202e gagne{FEED_POISON} du terrain {FRENCH}</title>
        <link>https://news.test/a</link>
        <description>&lt;b&gt;Texte&lt;/b&gt;&#x1b;]0;pwned&#x7; du résumé</description></item>
    </channel></rss>""".encode("utf-8")
    result = parse_feed(rss, "https://news.test/feed.xml")
    item = result.items[0]
    for text in (result.title, item.title, item.summary):
        assert_clean(text)
    assert item.title == f"Kyiv gagne du terrain {FRENCH}"


def test_a_pages_site_name_title_and_author_lose_their_escapes():
    html = PAGE.read_text(encoding="utf-8")
    html = html.replace("La Gazette du Matin", f"Gazette{POISON}")
    html = html.replace("Claire Martin", "Anne\u202e Dupont\x1b[0m")
    source = extract(html, "https://gazette.test/2023/09/otan-kiev.html")
    for text in (source.site_name, source.title, source.author, source.text):
        assert_clean(text)
    assert source.site_name.startswith("Gazette")


def test_a_servers_error_text_is_printed_without_its_escapes(tmp_path):
    """Text that never went through a parser (an LLM server's error body, quoted in the
    error line and the --json failure) is made safe where it is printed."""
    hostile = f"model \x1b]0;pwned\x07\x1b[2Jnot found\u202e here{POISON}"

    def refuse(request):
        return Reply(status=403, error=hostile)
    with FakeLLM(refuse) as llm:
        human = draft_cli(tmp_path, llm)
        as_json = draft_cli(tmp_path, llm, "--json")
    assert human.returncode != 0 and "Error:" in human.stderr
    assert "not found" in human.stderr                     # the server's words, made safe
    assert_clean(human.stdout + human.stderr)
    assert_clean(as_json.stdout + as_json.stderr)
    assert json.loads(as_json.stdout)["outcome"] == "failed"


def test_the_renderer_strips_them_from_any_html_it_is_given():
    """The last gate before WordPress (a hand-edited folder's content goes through it too)."""
    from publisher.render.sanitize import clean_document, clean_inline, clean_text
    doc = (f"<!-- wp:paragraph -->\n<p>Texte{POISON} {FRENCH}</p>\n<!-- /wp:paragraph -->")
    for out in (clean_document(doc), clean_inline(f"a{POISON}b"), clean_text(f"T{POISON}")):
        assert_clean(out)
    assert FRENCH.replace("\u00a0", "&nbsp;") in clean_document(doc)    # nh3 writes NBSP so
