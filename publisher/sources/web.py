"""A news page on the web → a Source: download through ``net.Http``, extract with trafilatura.

trafilatura finds the article body among navigation, ads and footers and reads the page's
metadata (title, site name, author, date, main image). What it lets through (a share row, a
photo credit, "Publicité" inside the body) goes through the same cleaner as pasted text.
"""

from __future__ import annotations

import logging
import re

import requests

from ..errors import FetchError, SourceError
from ..models import Source
from ..net import Http, redact
from ..textsafe import safe_line, safe_text
from .clean import clean, is_sentence, words

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)
MIN_ARTICLE_WORDS = 40       # below this, what trafilatura found is a teaser, not an article
META_CHARS = 300             # a title, site name or author longer than this is not one


def download(url: str, *, http: Http) -> tuple[str, str, str]:
    """GET a page: (final URL, media type, decoded text). Errors name the URL."""
    resp = http.get_public(url)
    final = resp.url or url
    if resp.status_code >= 400:
        raise _http_error(final, resp.status_code)
    media = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media and media not in HTML_TYPES + TEXT_TYPES:
        raise SourceError(f"{redact(final)} is {media}, not a web page; save the article text "
                          "to a file and give that file instead", reason="not_html")
    return final, media or "text/html", _decode(resp)


def extract(html: str, url: str = "") -> Source:
    """The article in ``html``, cleaned, with the page's metadata."""
    import trafilatura      # ~0.3 s of CPU to import: only a web page pays for it
    # Escape sequences go before parsing: the parser drops a bare ESC but would keep its
    # parameters ("[31m", "]0;title") as visible text in the title or site name.
    html = safe_text(html)
    doc = trafilatura.bare_extraction(
        html, url=url or None, with_metadata=True, include_comments=False,
        include_tables=False, include_images=False)
    where = redact(url) if url else "this page"
    if doc is None or not (doc.text or "").strip():
        raise SourceError(f"{where}: no article text found on the page; open it in a browser, "
                          "copy the article and give it as a text file", reason="no_article")
    title = _text(doc.title)
    body = _with_standfirst(_drop_title(doc.text, title), _text(doc.description))
    cleaned = clean(body, detect_title=not title)
    if words(cleaned.text) < MIN_ARTICLE_WORDS:
        raise SourceError(f"{where}: only {words(cleaned.text)} words of article text found "
                          "(a teaser, paywall or index page?); copy the full article into a "
                          "text file and give that instead", reason="no_article")
    return Source(text=cleaned.text, title=title or cleaned.title, url=url,
                  site_name=_text(doc.sitename) or cleaned.site_name,
                  author=_text(doc.author) or cleaned.author,
                  date=_text(doc.date) or cleaned.date, image=safe_line(doc.image),
                  origin=url, removed=cleaned.removed)


def _http_error(url: str, status: int) -> FetchError:
    if status == 404 or status == 410:
        hint = "the page does not exist (any more); check the address"
    elif status in (401, 403):
        hint = "the site refuses access (paywall or bot block); copy the article into a file"
    elif status == 429:
        hint = "the site is rate-limiting us; try again later"
    else:
        hint = "the site failed; try again later or copy the article into a file"
    return FetchError(f"{redact(url)}: HTTP {status}, {hint}", url=url, status=status)


def _decode(resp: requests.Response) -> str:
    """Honour a charset the server declares; otherwise let trafilatura guess (meta charset,
    UTF-8, then detection), because requests' ISO-8859-1 default garbles French pages."""
    if "charset=" in resp.headers.get("Content-Type", "").lower():
        return resp.text
    from trafilatura.utils import decode_file
    return decode_file(resp.content)


def _drop_title(text: str, title: str) -> str:
    """trafilatura sometimes repeats the <h1> as the first line: it is the title, not body."""
    lines = text.split("\n")
    if title and lines and _same(lines[0], title):
        lines = lines[1:]
    return "\n".join(lines)


def _with_standfirst(text: str, description: str) -> str:
    """Put the standfirst back as the lead: trafilatura skips the article header where it
    sits, but the page's description carries it. Skipped when it is a truncated excerpt
    ("…") or already in the body."""
    if (not is_sentence(description) or words(description) < 12
            or description.rstrip().endswith(("…", "...")) or _squash(description)[:60]
            in _squash(text)):
        return text
    return description + "\n" + text


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", text).lower()


def _same(a: str, b: str) -> bool:
    return _squash(a) == _squash(b)


def _text(value: object) -> str:
    """A metadata field as one safe line (a page's og:site_name may carry escapes)."""
    return safe_line(str(value), META_CHARS) if value else ""
