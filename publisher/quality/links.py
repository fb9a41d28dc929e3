"""The links the writer put into the article, held to what it was offered of the site.

The writer is shown the site's related posts (title and URL, as data) and may link one to
three of them. What it wrote is checked here, before rendering:

- a link to one of the offered posts is kept, with the post's exact URL (scheme, ``www.``, a
  trailing slash or a fragment aside, the model's spelling is replaced by WordPress's);
- any other link to the site (a post it guessed, a tag page, a relative path), a second link
  to the same post and links past the first ``MAX_LINKS`` posts are unwrapped to their text;
- links elsewhere are left to the renderer's sanitizer, which keeps only the sources' hosts.

    keep_site_links(article, related) → (article, notes for the report)
    linked_posts(article, related)    → the offered posts the article links to
"""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape
from urllib.parse import urlsplit

from ..models import Article, Block, RelatedPost, RelatedPosts, Section

MAX_LINKS = 3
WEB = ("http", "https")
_LINK = re.compile(r"<a\b[^>]*?\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))[^>]*>(.*?)"
                   r"</a\s*>", re.I | re.S)


def keep_site_links(article: Article, related: RelatedPosts | None) -> tuple[Article, list[str]]:
    """``article`` with only the offered posts linked on the site's host; what was unwrapped,
    in French, for the report."""
    if related is None or not (related.site_url or related.posts):
        return article, []                 # no site known: the sanitizer alone decides
    walk = _Walk(related)
    article = replace(article, intro=walk.blocks(article.intro),
                      sections=tuple(walk.section(s) for s in article.sections),
                      conclusion=walk.section(article.conclusion))
    notes = [f"Lien interne retiré (pas un article du site proposé, ou en trop) : {url}"
             for url in dict.fromkeys(walk.dropped)]
    return article, notes


def linked_posts(article: Article, related: RelatedPosts | None) -> list[RelatedPost]:
    """The offered posts ``article`` links to, in the order of their first link."""
    if related is None:
        return []
    by_key = {_key(p.url): p for p in related.offered}
    found = (by_key.get(_key(_href(m))) for block in _all_blocks(article)
             for text in (block.text, *block.items, block.cite) for m in _LINK.finditer(text))
    return list(dict.fromkeys(p for p in found if p is not None))


class _Walk:
    """One pass over the article's blocks, remembering which posts are already linked."""

    def __init__(self, related: RelatedPosts):
        self.offered = {_key(p.url): p for p in related.offered}
        self.hosts = {_host(u) for u in (related.site_url, *(p.url for p in related.posts)) if u}
        self.linked: set[str] = set()
        self.dropped: list[str] = []

    def section(self, section: Section) -> Section:
        return replace(section, blocks=self.blocks(section.blocks))

    def blocks(self, blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        return tuple(replace(b, text=self.text(b.text), items=tuple(map(self.text, b.items)),
                             cite=self.text(b.cite)) for b in blocks)

    def text(self, text: str) -> str:
        return _LINK.sub(self.link, text) if text and "<" in text else text

    def link(self, match: re.Match) -> str:
        url, label = _href(match).strip(), match.group(4)
        post = self.offered.get(_key(url))
        if post is not None and post.url not in self.linked and len(self.linked) < MAX_LINKS:
            self.linked.add(post.url)
            return f'<a href="{escape(post.url)}">{label}</a>'
        scheme, host = _scheme(url), _host(url)
        elsewhere = bool(scheme or host) and (scheme not in WEB or host not in self.hosts)
        if post is None and elsewhere:     # another host, or javascript: — the sanitizer's
            return match.group(0)
        # Only a web address is repeated in the report; a relative path is named as such.
        self.dropped.append(url if scheme in WEB else "(adresse relative)")
        return label


def _href(match: re.Match) -> str:
    return next((g for g in match.groups()[:3] if g is not None), "")


def _scheme(url: str) -> str:
    try:
        return urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""


def _host(url: str) -> str:
    """host[:port] without ``www.``; "" for a relative or unreadable URL."""
    try:
        parts = urlsplit(url.strip())
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return ""
    host = host[4:] if host.startswith("www.") else host
    return f"{host}:{port}" if host and port else host


def _key(url: str) -> str:
    """What two spellings of one post's URL share: host, path without its last slash, query."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    host = _host(url)
    return f"{host}{parts.path.rstrip('/') or '/'}?{parts.query}" if host else ""


def _all_blocks(article: Article):
    yield from article.intro
    for section in article.all_sections:
        yield from section.blocks
