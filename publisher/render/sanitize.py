"""The allow-list every piece of LLM text goes through before it can reach WordPress.

Whatever the model returns (or a hostile source page makes it return), only these survive:
``<strong> <em> <a href> <br>`` inline, and, in a whole document, the block-level tags that our
Gutenberg markup uses (``<p> <h2>…<h6> <ul> <ol> <li> <blockquote> <cite>``) with two fixed
classes. Script, style, iframe, svg… are removed *with their contents*; every attribute other
than ``href`` is dropped; ``href`` must be an absolute http(s) URL that the link policy allows,
else the ``<a>`` is unwrapped to its text. Text such as ``<script>`` written as text comes out
escaped (``&lt;script&gt;``), never live.

WordPress itself expands two things in a post's text when it renders it, so both are defused
here too (``_defuse``): shortcodes (``[embed]``, ``[video]``, ``[gallery]``…, any ``[name]``)
have their brackets written as ``&#091;``/``&#093;``, which read the same and never run; and a
URL alone in its paragraph (which WordPress would auto-embed: an iframe, a player, a request
to that host) becomes a link when the link policy allows its host, else plain text without
its scheme. Any other URL in the text has its colon written ``&#058;``, so no line of text can
ever match WordPress's auto-embed patterns. Brackets in an ``href`` are percent-encoded. The
entities have three digits because WordPress stores them so (kses pads them): what is pushed
is what is stored.

Link policies (``mode``), given the URLs of the sources:
    "host"   the link's host is one of the sources' hosts (``www.`` ignored)  ← default
    "exact"  the link is one of the sources' URLs (fragment ignored)
    "none"   no link survives
    "any"    any http(s) link survives: for HTML an editor wrote by hand, never for LLM output

nh3 strips every comment, Gutenberg's block delimiters included, so ``clean_document`` swaps
each allowed delimiter for a private-use placeholder, sanitizes the whole document in one nh3
pass (so container blocks such as lists and quotes keep their structure), then rebuilds the
delimiters itself from a canonical form. A placeholder can only survive in text, so a comment
can only come back where the document had one, and only as a delimiter we wrote.
"""

from __future__ import annotations

import json
import re
from functools import partial
from html import escape, unescape
from typing import Iterable, Literal
from urllib.parse import quote, urlsplit

import nh3

from ..textsafe import safe_text

LinkMode = Literal["host", "exact", "none", "any"]

INLINE_TAGS = frozenset({"strong", "em", "b", "i", "a", "br"})
BLOCK_TAGS = INLINE_TAGS | {"p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote",
                            "cite"}
# Removed with everything inside them: their text is code or chrome, never article prose.
DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "noscript",
                               "template", "svg", "math", "textarea", "select", "title",
                               "xmp", "noembed", "noframes", "frameset", "head"})
CLASSES = {**{f"h{n}": {"wp-block-heading"} for n in range(2, 7)},
           "blockquote": {"wp-block-quote"}, "p": {"publisher-sources"}}

# Block names we emit, and the only attributes each may carry (name → validator).
BLOCK_ATTRS = {
    "paragraph": {"className": lambda v: v == "publisher-sources"},
    "heading": {"level": lambda v: type(v) is int and 2 <= v <= 6},
    "list": {"ordered": lambda v: type(v) is bool},
    "list-item": {},
    "quote": {},
}

_OPEN, _CLOSE = "\ue000", "\ue001"          # placeholder brackets (Unicode private use area)
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_COMMENT = re.compile(r"<!--(.*?)(?:-->|--!>|$)", re.S)
_DELIMITER = re.compile(r"\s*(/)?wp:([a-z][a-z0-9-]*)\s*(\{.*\})?\s*(/)?\s*", re.S)
_BARE_ANCHOR = re.compile(r"<a>(.*?)</a>", re.S)
_RENAME = re.compile(r"<(/?)(b|i)>")
_EMPTY_CLASS = re.compile(r'(<[a-z0-9]+) class=""')
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_URL_SAFE = "-._~:/?#[]@!$&'()*+,;=%"     # RFC 3986 characters; anything else gets %-encoded
_AUTHORITY = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#]*", re.I)
_TAG_SPLIT = re.compile(r"(<[^>]*>)")         # nh3 output: text never holds a raw "<"
_TEXT_URL = re.compile(r"\b(https?)://", re.I)
_BARE_URL = r"(https?://[^\s<>\"]+)"
# A URL alone in a block (WordPress's "URL in its own paragraph" auto-embed pattern).
_URL_BLOCK = re.compile(rf"(<(p|li|cite|h[2-6])(?: [^>]*)?>)\s*{_BARE_URL}\s*(</\2>)", re.I)
_URL_ONLY = re.compile(rf"\s*{_BARE_URL}\s*", re.I)


# ---------------------------------------------------------------------------- links

def _host_key(url: str) -> tuple[str, int | None] | None:
    """(host without ``www.``, explicit port) of an absolute http(s) URL, else None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if "@" in parts.netloc:                 # user:pass@ hides the real host from readers
        return None
    host = parts.hostname.lower().rstrip(".")
    return (host[4:] if host.startswith("www.") else host), port


def _exact_key(url: str) -> str | None:
    key = _host_key(url)
    if key is None:
        return None
    parts = urlsplit(url.strip())
    return f"{key[0]}:{key[1]}{parts.path or '/'}?{parts.query}"


def safe_url(url: str) -> str:
    """``url`` with every character outside RFC 3986 percent-encoded (spaces, quotes, ``<``,
    backslashes, tabs, accents), so what we check is exactly what a browser will follow.
    Brackets after the host are encoded too: WordPress reads ``[…]`` even in an attribute."""
    url = quote(url.strip(), safe=_URL_SAFE)
    head = _AUTHORITY.match(url)                  # an IPv6 host keeps its brackets
    cut = head.end() if head else 0
    return url[:cut] + url[cut:].replace("[", "%5B").replace("]", "%5D")


class LinkPolicy:
    """Decides whether an href may stay, given the sources' URLs and a mode."""

    def __init__(self, allowed_links: Iterable[str] = (), mode: LinkMode = "host"):
        if mode not in ("host", "exact", "none", "any"):
            raise ValueError(f"unknown link policy {mode!r}: use host, exact, none or any")
        self.mode = mode
        links = [u for u in allowed_links if u]
        self.hosts = {k for k in map(_host_key, links) if k}
        self.urls = {k for k in map(_exact_key, links) if k}

    def allows(self, url: str) -> bool:
        """Whether ``safe_url(url)`` may be linked."""
        url = safe_url(url)
        if self.mode == "none" or _host_key(url) is None:
            return False
        if self.mode == "any":
            return True
        if self.mode == "exact":
            return _exact_key(url) in self.urls
        return _host_key(url) in self.hosts


def _attribute_filter(policy: LinkPolicy, tag: str, attr: str, value: str) -> str | None:
    if tag == "a" and attr == "href":
        return safe_url(value) if policy.allows(value) else None
    if attr == "class":                      # allowed_classes has already filtered the values
        return value
    return None


# ---------------------------------------------------------------------------- inline

def _nh3(html: str, tags: Iterable[str], policy: LinkPolicy) -> str:
    tags = set(tags)
    out = nh3.clean(
        html, tags=tags, clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={"a": {"href"}} if "a" in tags else {},
        attribute_filter=partial(_attribute_filter, policy),
        allowed_classes={t: c for t, c in CLASSES.items() if t in tags},
        url_schemes={"http", "https"}, link_rel=None, strip_comments=True)
    out = _RENAME.sub(lambda m: f"<{m[1]}{'strong' if m[2] == 'b' else 'em'}>", out)
    out = _EMPTY_CLASS.sub(r"\1", out)     # every class refused: drop the empty attribute
    # An <a> whose href was refused is left bare by nh3: keep only its text.
    return _BARE_ANCHOR.sub(r"\1", out)


def clean_inline(html: str, allowed_links: Iterable[str] = (), *,
                 mode: LinkMode = "host") -> str:
    """One paragraph's worth of LLM HTML → safe inline HTML (strong, em, a href, br).

    ``<b>``/``<i>`` become ``<strong>``/``<em>``; runs of whitespace become one space (a
    newline inside a Gutenberg paragraph is not a line break, ``<br>`` is). Shortcodes and
    bare URLs are defused (see the module docstring).
    """
    html = _untrusted(html)
    policy = LinkPolicy(allowed_links, mode)
    # Spaces again after nh3: removed tags leave double spaces.
    out = _SPACES.sub(" ", _nh3(_SPACES.sub(" ", html), INLINE_TAGS, policy)).strip()
    alone = _URL_ONLY.fullmatch(out)
    return _defuse(_bare_url(alone[1], policy) if alone else out)


def clean_text(html: str) -> str:
    """Text only (headings, labels): every tag dropped, script-like contents removed, escaped,
    shortcodes and URLs defused."""
    html = _untrusted(html)
    return _defuse(_SPACES.sub(" ", _nh3(html, (), LinkPolicy(mode="none"))).strip())


def _untrusted(html: str) -> str:
    """Input without our placeholder characters, nor terminal escapes, bidi overrides and
    zero-width characters (a hand-edited folder reaches WordPress through here too)."""
    return safe_text(html).replace(_OPEN, "").replace(_CLOSE, "")


def _bare_url(url_html: str, policy: LinkPolicy) -> str:
    """A URL that stood alone in its block: a link if the policy allows it, else its text
    without the scheme (WordPress auto-embeds only http(s) URLs, even after an editor
    re-saves the post)."""
    url = unescape(url_html)
    if policy.allows(url):
        return f'<a href="{escape(safe_url(url))}">{url_html}</a>'
    return re.sub(r"^https?://", "", url_html, flags=re.I)


def _defuse(html: str) -> str:
    """Brackets and URL colons of every text node as entities (tags are left alone)."""
    parts = _TAG_SPLIT.split(html)
    for i in range(0, len(parts), 2):       # even indexes: text between tags
        text = parts[i].replace("[", "&#091;").replace("]", "&#093;")
        parts[i] = _TEXT_URL.sub(r"\1&#058;//", text)
    return "".join(parts)


# ---------------------------------------------------------------------------- documents

def delimiter(name: str, attrs: dict | None = None, *, closing: bool = False) -> str:
    """The canonical Gutenberg comment for a block we allow (attrs already validated)."""
    if closing:
        return f"<!-- /wp:{name} -->"
    payload = f" {json.dumps(attrs, separators=(',', ':'), ensure_ascii=False)}" if attrs else ""
    return f"<!-- wp:{name}{payload} -->"


def _parse_delimiter(body: str) -> tuple[str, str, dict] | None:
    """("open"|"close", name, attrs) for an allowed delimiter comment body, else None."""
    m = _DELIMITER.fullmatch(body)
    if not m or m[2] not in BLOCK_ATTRS or m[4]:       # self-closing blocks: none of ours
        return None
    if m[1]:
        return None if m[3] else ("close", m[2], {})
    try:
        attrs = json.loads(m[3]) if m[3] else {}
    except ValueError:
        return None
    rules = BLOCK_ATTRS[m[2]]
    if not isinstance(attrs, dict):
        return None
    kept = {k: v for k, v in attrs.items() if k in rules and rules[k](v)}
    return "open", m[2], kept


def _to_placeholders(html: str) -> tuple[str, list[tuple[str, str, dict]]]:
    found: list[tuple[str, str, dict]] = []

    def swap(m: re.Match) -> str:
        parsed = _parse_delimiter(m[1])
        if parsed is None:
            return ""                        # any other comment: gone
        found.append(parsed)
        return f"{_OPEN}{len(found) - 1}{_CLOSE}"

    html = _untrusted(html)
    return _COMMENT.sub(swap, html), found


def _balanced(order: list[int], found: list[tuple[str, str, dict]]) -> set[int]:
    """Indexes of delimiters that pair up properly; strays and unclosed openers are dropped."""
    keep: set[int] = set()
    stack: list[int] = []
    for i in order:
        kind, name, _ = found[i]
        if kind == "open":
            stack.append(i)
        elif stack and found[stack[-1]][1] == name:
            keep.update((stack.pop(), i))
        elif name in [found[j][1] for j in stack]:   # close the inner ones left open
            while found[stack[-1]][1] != name:
                stack.pop()
            keep.update((stack.pop(), i))
    return keep


def clean_document(html: str, allowed_links: Iterable[str] = (), *,
                   mode: LinkMode = "host") -> str:
    """A whole Gutenberg document → the same document holding only allowed tags and blocks.

    Block delimiters for paragraph, heading, list, list-item and quote are kept (rebuilt in
    canonical form, unknown attributes dropped); any other comment, ``wp:html`` included, is
    removed. Delimiters that do not pair up are dropped, so the result always parses.
    """
    swapped, found = _to_placeholders(html)
    policy = LinkPolicy(allowed_links, mode)
    out = _nh3(swapped, BLOCK_TAGS, policy)
    out = _defuse(_URL_BLOCK.sub(lambda m: m[1] + _bare_url(m[3], policy) + m[4], out))
    order = [int(m[1]) for m in _PLACEHOLDER.finditer(out)]
    keep = _balanced(order, found)

    def restore(m: re.Match) -> str:
        i = int(m[1])
        if i not in keep:
            return ""
        kind, name, attrs = found[i]
        return delimiter(name, attrs, closing=kind == "close")

    out = _PLACEHOLDER.sub(restore, out)
    return _BLANK_LINES.sub("\n\n", out)    # removed blocks leave runs of blank lines


def strip_delimiters(html: str) -> str:
    """The HTML a reader sees: block comments removed (for the preview)."""
    return _COMMENT.sub("", html)
