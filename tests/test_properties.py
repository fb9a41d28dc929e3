"""Property-based tests (hypothesis) over the stages that handle text from the open web and
from the model: the source cleaner, the SEO builders and the renderer.

Whatever text they are given (random Unicode mixed with hostile fragments: script tags, event
handlers, javascript:/data: links, forged Gutenberg comments, the sanitizer's own placeholder
characters), they never crash, and what they emit holds no live HTML beyond the allow-list:
only our tags, only ``href`` and our classes, only http(s) links to the sources' hosts, only
our block comments.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings, strategies as st

from publisher.models import Article, Block, Section, Source, Suggestions
from publisher.render.blocks import render_article
from publisher.render.sanitize import BLOCK_ATTRS, BLOCK_TAGS
from publisher.seo.build import build_seo
from publisher.sources.clean import clean_text

PROPS = settings(max_examples=200, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SOURCES = (Source(text="…", url="https://www.source.example/article/1", site_name="Source"),
           Source(text="…", site_name="AFP"))
ALLOWED_HOSTS = {"www.source.example", "source.example"}

HOSTILE = [
    "<script>alert(1)</script>", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>", "<svg/onload=alert(1)>", '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>', '<a href=" javascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', '<a href="http://evil.example/">e</a>',
    '<a href="https://www.source.example/ok">s</a>',
    '<a href="https://evil.example@source.example/">',
    '<a href="//evil.example/">p</a>', "<a href='vbscript:msgbox(1)'>v</a>",
    '<a href="https://source.example/x" onclick="steal()">c</a>', "<iframe src=//evil.example>",
    "<style>*{display:none}</style>", "<!-- wp:html --><script>x</script><!-- /wp:html -->",
    "<!-- wp:paragraph -->", "<!-- /wp:paragraph -->", "-->", "<!--", "--!>", "\ue000", "\ue001",
    "\ue0000\ue001", '<p class="evil">', "<b>gras</b>", "<i>", "</em>", "&lt;script&gt;", "&#60;",
    "<math><mi xlink:href=javascript:alert(1)>", "<form action=//evil.example>",
    "<object data=x>", "<meta http-equiv=refresh content=0;url=//evil.example>",
    "« citation »", "l’OTAN", "1 200 mots", "\x00", "\u202e", "\n", "  ", "Publicité", "Lire aussi",
]
fragments = st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE))
texts = st.lists(fragments, max_size=8).map("".join)
words = st.lists(st.one_of(st.sampled_from(["OTAN", "Ukraine", "Kiev", "défense", "l’aide",
                                            "Stoltenberg", "milliards", "2023"]), fragments),
                 min_size=1, max_size=12).map(" ".join)


def blocks():
    paragraph = st.builds(Block, kind=st.just("paragraph"), text=texts)
    bullets = st.builds(Block, kind=st.just("list"),
                        items=st.lists(texts, max_size=4).map(tuple))
    quote = st.builds(Block, kind=st.just("quote"), text=texts, cite=texts)
    return st.one_of(paragraph, bullets, quote)


sections = st.builds(Section, heading=words, blocks=st.lists(blocks(), max_size=3).map(tuple),
                     level=st.sampled_from([2, 2, 3]))
suggestions = st.builds(Suggestions, keyphrase=words, meta_title=words, meta_description=texts,
                        tags=st.lists(words, max_size=5).map(tuple))
articles = st.builds(Article, title=words, intro=st.lists(blocks(), max_size=2).map(tuple),
                     sections=st.lists(sections, max_size=4).map(tuple), conclusion=sections,
                     suggestions=suggestions)


class Audit(HTMLParser):
    """Every tag, attribute and comment a browser would see in the HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in BLOCK_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name == "href" and tag == "a":
                self._href(value or "")
            elif name != "class":
                self.problems.append(f"attribute {name} on <{tag}>")

    handle_startendtag = handle_starttag

    def _href(self, value: str):
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or parts.hostname not in ALLOWED_HOSTS \
                or "@" in parts.netloc:
            self.problems.append(f"link {value!r}")

    def handle_comment(self, data):
        body = data.strip()
        name = body.lstrip("/").removeprefix("wp:").split(" ", 1)[0]
        if not body.lstrip("/").startswith("wp:") or name not in BLOCK_ATTRS:
            self.problems.append(f"comment <!--{data}-->")


def audit(html: str) -> list[str]:
    parser = Audit()
    parser.feed(html)
    parser.close()
    lowered = html.lower()
    for needle in ("<script", "javascript:", "vbscript:", "data:text", "\ue000", "\ue001"):
        if needle in lowered:
            parser.problems.append(f"raw {needle!r}")
    return parser.problems


# --- the source cleaner -------------------------------------------------------------------

@PROPS
@given(raw=st.lists(st.one_of(texts, st.just("\n"), st.just("\n\n")), max_size=12).map("".join))
def test_the_cleaner_never_crashes_and_returns_tidy_paragraphs(raw):
    body, removed, title = clean_text(raw)
    assert isinstance(body, str) and isinstance(title, str) and isinstance(removed, tuple)
    assert "\r" not in body and "\n\n\n" not in body
    assert all(p == p.strip() and p for p in body.split("\n\n")) or body == ""


# --- the SEO builders ---------------------------------------------------------------------

@PROPS
@given(article=articles)
def test_seo_builders_never_crash_and_make_clean_slugs(article):
    seo = build_seo(article, SOURCES, site_tags=["OTAN", "Défense"], categories=["Monde"])
    assert all(isinstance(v, str) for v in (seo.keyphrase, seo.meta_title,
                                            seo.meta_description, seo.excerpt, *seo.tags))
    assert seo.slug == "" or all(part.isascii() and part.isalnum() and part.islower() or
                                 part.isdigit() for part in seo.slug.split("-"))


@PROPS
@given(article=articles)
def test_seo_fields_are_plain_text(article):
    seo = build_seo(article, SOURCES, site_tags=["OTAN", "Défense"], categories=["Monde"])
    for value in (seo.keyphrase, seo.meta_title, seo.meta_description, seo.excerpt, *seo.tags):
        assert audit(value) == [], value


# --- the renderer -------------------------------------------------------------------------

@PROPS
@given(article=articles)
def test_rendered_articles_hold_only_allowed_markup(article):
    html = render_article(article, SOURCES)
    assert audit(html) == []


@PROPS
@given(article=articles)
def test_without_sources_no_link_survives(article):
    html = render_article(article, ())
    assert "<a " not in html and audit(html) == []
