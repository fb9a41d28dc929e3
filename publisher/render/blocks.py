"""Article → Gutenberg block markup, as WordPress 6.1+ stores it.

The markup is what the 6.1 block editor itself saves, so an editor opening the draft sees
blocks, not "this block contains unexpected content":

    <!-- wp:paragraph -->
    <p>…</p>
    <!-- /wp:paragraph -->

    <!-- wp:heading -->                                  (H3: <!-- wp:heading {"level":3} -->)
    <h2 class="wp-block-heading">…</h2>
    <!-- /wp:heading -->

    <!-- wp:list -->                                     (6.1 made list items inner blocks)
    <ul><!-- wp:list-item -->
    <li>…</li>
    <!-- /wp:list-item --></ul>
    <!-- /wp:list -->

    <!-- wp:quote -->                                    (6.1: the quotation is inner blocks)
    <blockquote class="wp-block-quote"><!-- wp:paragraph -->
    <p>…</p>
    <!-- /wp:paragraph --><cite>…</cite></blockquote>
    <!-- /wp:quote -->

``wp-block-heading`` is what 6.2+ saves; 6.1 keeps it as a custom class, so both accept it.
Every piece of LLM text goes through ``sanitize.clean_inline`` (headings: ``clean_text``), and
the finished document once more through ``sanitize.clean_document``.
"""

from __future__ import annotations

import logging
import re
from html import escape, unescape
from typing import Iterable
from urllib.parse import urlsplit

from ..models import Article, Block, Section, Source
from ..textsafe import safe_line
from . import sanitize
from .sanitize import LinkMode, delimiter

log = logging.getLogger(__name__)

SOURCES_CLASS = "publisher-sources"
CREDIT_CHARS = 60             # an outlet's name; a longer "site name" is a sentence in disguise
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


def _block(name: str, inner: str, attrs: dict | None = None) -> str:
    return f"{delimiter(name, attrs)}\n{inner}\n{delimiter(name, closing=True)}"


def paragraph(inner_html: str, attrs: dict | None = None) -> str:
    cls = f' class="{attrs["className"]}"' if attrs and "className" in attrs else ""
    return _block("paragraph", f"<p{cls}>{inner_html}</p>", attrs)


def heading(inner_html: str, level: int = 2) -> str:
    level = min(max(level, 2), 6)
    tag = f"h{level}"
    inner = f'<{tag} class="wp-block-heading">{inner_html}</{tag}>'
    return _block("heading", inner, {"level": level} if level != 2 else None)


def list_block(items_html: Iterable[str]) -> str:
    items = "\n\n".join(_block("list-item", f"<li>{item}</li>") for item in items_html)
    return _block("list", f"<ul>{items}</ul>")


def quote(text_html: str, cite_html: str = "") -> str:
    cite = f"<cite>{cite_html}</cite>" if cite_html else ""
    return _block("quote", f'<blockquote class="wp-block-quote">{paragraph(text_html)}{cite}'
                           "</blockquote>")


class _Renderer:
    """Holds the link policy so each block is cleaned against the same sources."""

    def __init__(self, links: Iterable[str], mode: LinkMode):
        self.links, self.mode = set(links), mode

    def inline(self, html: str) -> str:
        return sanitize.clean_inline(html, self.links, mode=self.mode)

    def paragraphs(self, text: str) -> list[str]:
        # The LLM sometimes packs several paragraphs into one; each becomes its own block.
        parts = (self.inline(p) for p in _BLANK_LINE.split(text or ""))
        return [paragraph(p) for p in parts if p]

    def block(self, block: Block) -> list[str]:
        kind = getattr(block, "kind", "paragraph")
        if kind == "paragraph":
            return self.paragraphs(block.text)
        if kind == "list":
            items = [i for i in (self.inline(x) for x in block.items) if i]
            return [list_block(items)] if items else self.paragraphs(block.text)
        if kind == "quote":
            text, cite = self.inline(block.text), self.inline(block.cite)
            return [quote(text, cite)] if text else []
        log.warning("unknown block kind %r rendered as a plain paragraph", kind)
        text = sanitize.clean_text(block.visible_text)
        return [paragraph(text)] if text else []

    def section(self, section: Section) -> list[str]:
        out = []
        title = sanitize.clean_text(section.heading)
        if title:
            out.append(heading(title, section.level))
        for block in section.blocks:
            out.extend(self.block(block))
        return out


def credit_label(source: Source) -> str:
    """The name a source is credited by, as safe HTML text: a page's og:site_name is whatever
    its author typed, so markup is dropped (not shown), control and bidi characters removed,
    and the length capped; nothing left → the host, else "source"."""
    for name in (source.label, urlsplit(source.url).hostname or "" if source.url else ""):
        text = unescape(sanitize.clean_text(name))        # tags gone, back to plain text
        label = escape(safe_line(text, CREDIT_CHARS), quote=False)
        if label:
            return label
    return "source"


def attribution(sources: Iterable[Source]) -> str:
    """"Source : <a href=…>Label</a>" or "Sources : A, B et C"; no URL → credited by name."""
    seen: dict[str, str] = {}
    for src in sources:
        url = sanitize.safe_url(src.url) if sanitize.LinkPolicy(mode="any").allows(src.url) else ""
        label = credit_label(src)
        key = url or label
        if key not in seen:
            seen[key] = f'<a href="{escape(url)}">{label}</a>' if url else label
    if not seen:
        return ""
    names = list(seen.values())
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]
    word = "Source" if len(names) == 1 else "Sources"
    return paragraph(f"{word} : {listed}", {"className": SOURCES_CLASS})


def render_article(article: Article, sources: Iterable[Source] = (), *,
                   link_policy: LinkMode = "host", site_links: Iterable[str] = ()) -> str:
    """The post body: intro, sections, conclusion, then the sources' attribution.

    Links written by the LLM survive only if ``link_policy`` allows them against the sources'
    URLs (default: same host as a source) or ``site_links`` (the site's related posts, which
    quality/links.py already held the article to); the attribution links every source that
    has a URL.
    """
    sources = tuple(sources)
    links = {s.url for s in sources if s.url} | set(site_links)
    r = _Renderer(links, link_policy)
    parts: list[str] = []
    for block in article.intro:
        parts.extend(r.block(block))
    for section in article.all_sections:
        parts.extend(r.section(section))
    credit = attribution(sources)
    if credit:
        parts.append(credit)
    html = "\n\n".join(parts)
    # Attribution links are the sources themselves: allow them exactly, whatever the policy.
    clean = sanitize.clean_document(html, links, mode="exact" if link_policy == "none" else
                                    link_policy)
    if clean != html:
        log.warning("the block sanitizer changed the rendered article; keeping its version")
    return clean
