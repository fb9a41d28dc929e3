"""Poll one RSS or Atom feed: conditional GET through ``net.Http``, parse with feedparser.

Never raises for a feed problem: a feed that is down, gone or garbled comes back as a
``FeedResult`` with status ``"failed"`` and a named reason, so one bad feed never stops a run.

Reasons: ``unreachable`` (refused, timeout, DNS), ``http_<status>``, ``malformed`` (not a
feed and nothing usable in it), ``empty`` (a valid feed without items; status stays ``ok``),
and the network guard's own (``unsafe_url``, ``too_large``, ``too_many_redirects``).

Items are kept only when their link is an http(s) address: a ``javascript:``, ``data:`` or
``file:`` link (or any other scheme) is left out with the reason ``unsafe_link``, logged, and
listed in ``FeedResult.skipped``, so it never reaches the source loader (which would read a
bare name as a local file). A feed longer than ``max_items`` (PUBLISHER_FEED_MAX_ITEMS, 50 by
default) keeps its newest items and says how many it left out (``FeedResult.left_out``):
a 10,000-item archive feed is not 10,000 page requests.

Validators (ETag, Last-Modified) are remembered in the store when the poll succeeds. A runner
that wants at-least-once handling passes ``remember=False`` and calls ``remember_feed()`` once
the items are safely queued: otherwise a crash in between would leave them behind a 304.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
import requests
from bs4 import BeautifulSoup

from ..errors import PublisherError
from ..net import Http
from ..textsafe import safe_text

if TYPE_CHECKING:
    from ..state.db import Store

log = logging.getLogger(__name__)

UNREACHABLE = {"connection_failed", "timeout", "dns_failed", "network"}

# Query parameters that only say where a click came from: they never change the article.
TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "twclid",
    "mc_cid", "mc_eid", "xtor", "xtref", "_ga", "_gl", "ocid", "cmpid", "ncid", "sr_share",
    "ref_src", "ref_url", "spm", "__twitter_impression", "ito", "s_cid", "wt_mc", "wt.mc_id",
}
TRACKING_PREFIXES = ("utm_", "at_", "mtm_", "pk_", "ns_", "hsa_", "oly_")


@dataclass(frozen=True)
class FeedItem:
    guid: str
    link: str
    title: str
    summary: str = ""                 # plain text, tags stripped
    published: str = ""               # ISO 8601 UTC ("2023-09-28T10:15:00Z"), "" if unknown
    feed_url: str = ""


@dataclass(frozen=True)
class FeedResult:
    url: str
    status: Literal["ok", "not_modified", "failed"]
    reason: str = ""
    error: str = ""
    items: list[FeedItem] = field(default_factory=list)
    etag: str = ""
    last_modified: str = ""
    title: str = ""
    left_out: int = 0                                    # older items beyond max_items
    skipped: tuple[tuple[str, str], ...] = ()            # (item link or title, reason)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def fetch_feed(url: str, http: Http, store: "Store | None" = None, *,
               remember: bool = True, max_items: int | None = None) -> FeedResult:
    """Fetch and parse one feed; see the module docstring for statuses and reasons.
    ``max_items``: keep only that many of the newest items (None: all)."""
    etag, last_modified = store.feed_cache(url) if store else ("", "")
    try:
        resp = http.get_public(url, headers=_conditional_headers(etag, last_modified))
    except PublisherError as exc:
        reason = "unreachable" if exc.reason in UNREACHABLE else exc.reason
        return _finish(FeedResult(url, "failed", reason, str(exc)), store, remember)
    except requests.RequestException as exc:       # the body broke off after the headers
        return _finish(FeedResult(url, "failed", "unreachable",
                                  f"{url}: the connection broke while reading the feed "
                                  f"({type(exc).__name__}); try again later"), store, remember)
    if resp.status_code == 304:
        result = FeedResult(url, "not_modified", etag=resp.headers.get("ETag") or etag,
                            last_modified=resp.headers.get("Last-Modified") or last_modified)
        return _finish(result, store, remember)
    if resp.status_code >= 400:
        return _finish(FeedResult(url, "failed", f"http_{resp.status_code}",
                                  f"{url} answered HTTP {resp.status_code}; check the feed address"),
                       store, remember)
    result = parse_feed(resp.content, url, headers=dict(resp.headers), max_items=max_items)
    return _finish(result, store, remember)


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None, *,
               max_items: int | None = None) -> FeedResult:
    """Turn a feed document into items (at most ``max_items``, the newest). Bozo feeds that
    still have entries are accepted."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    response_headers = {"content-location": url}
    if headers.get("content-type"):
        response_headers["content-type"] = headers["content-type"]
    parsed = feedparser.parse(body, response_headers=response_headers)
    broken = _broken(parsed)
    if not parsed.entries and (broken or not parsed.get("version")):
        return FeedResult(url, "failed", "malformed",
                          f"{url} is not a readable RSS or Atom feed ({broken or 'no feed'}); "
                          "open it in a browser and check the address")
    if broken:
        log.warning("feed %s is not well-formed (%s); keeping its %d entries", url, broken,
                    len(parsed.entries))
    items, skipped, left_out = _newest_items(parsed.entries, url, max_items)
    return FeedResult(url, "ok", "" if items else "empty", items=items,
                      left_out=left_out, skipped=tuple(skipped),
                      etag=headers.get("etag", ""), last_modified=headers.get("last-modified", ""),
                      title=safe_text(parsed.feed.get("title", "")))


def _newest_items(entries, feed_url: str, max_items: int | None):
    """The usable items, newest first until ``max_items``, returned in feed order; the
    skipped ones with their reason; how many entries were never looked at. Entries are
    converted only as needed: a huge feed costs its parse, not its items."""
    ranked = sorted(range(len(entries)), key=lambda i: _entry_age(entries[i], i))
    kept: list[int] = []
    items: dict[int, FeedItem] = {}
    skipped: list[tuple[str, str]] = []
    for index in ranked:
        if max_items is not None and len(kept) >= max_items:
            break
        item = _item(entries[index], feed_url)
        if item.link and not _web_link(item.link):
            skipped.append((item.link[:80] or item.title, "unsafe_link"))
            log.warning("feed %s: item %r skipped (unsafe_link): its link is not an http(s) "
                        "address", feed_url, item.title[:80] or item.guid[:80])
        elif item.link or item.summary:
            kept.append(index)
            items[index] = item
    left_out = len(entries) - len(kept) - len(skipped)
    if max_items is not None and left_out:
        log.warning("feed %s: %d items, kept the %d newest; %d older ones left out "
                    "(PUBLISHER_FEED_MAX_ITEMS)", feed_url, len(entries), len(kept), left_out)
    return [items[i] for i in sorted(kept)], skipped, left_out


def _entry_age(entry, position: int) -> tuple:
    # Newest first; undated entries after the dated ones, in feed order (feeds list the
    # newest first).
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return (0, -calendar.timegm(stamp), position) if stamp else (1, 0, position)


def _web_link(link: str) -> bool:
    parts = urlsplit(link)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _broken(parsed) -> str:
    """Why the document is not well-formed, or "" (a wrong Content-Type or a corrected
    encoding is how many real feeds are served: not worth a failure)."""
    exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if exc is None or isinstance(exc, feedparser.ThingsNobodyCaresAboutButMe):
        return ""
    return f"{type(exc).__name__}: {exc}"[:200]


def remember_feed(store: "Store", result: FeedResult) -> None:
    """Save the poll in the store: validators after a success, only the status otherwise."""
    if result.status == "failed":
        store.save_feed_cache(result.url, None, None, f"failed:{result.reason}")
    else:
        store.save_feed_cache(result.url, result.etag, result.last_modified, result.status)


def unseen(items: list[FeedItem], store: "Store") -> list[FeedItem]:
    """The items this store has not marked yet (``Store.mark_item``), in feed order."""
    return [i for i in items if not store.item_seen(i.feed_url, i.guid)]


def _finish(result: FeedResult, store: "Store | None", remember: bool) -> FeedResult:
    if result.status == "failed":
        log.warning("feed %s failed: %s", result.url, result.reason)
    if store is not None and remember:
        remember_feed(store, result)
    return result


def _conditional_headers(etag: str, last_modified: str) -> dict[str, str]:
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
                         "text/xml;q=0.8, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _item(entry, feed_url: str) -> FeedItem:
    link = urljoin(feed_url, entry.get("link", "").strip()) if entry.get("link") else ""
    summary = _plain(entry.get("summary", "") or _first_content(entry))
    title = _plain(entry.get("title", ""))
    guid = entry.get("id") or link or "sha:" + hashlib.sha256(
        (title + "\n" + summary).encode()).hexdigest()[:20]
    return FeedItem(guid=guid, link=link, title=title, summary=summary,
                    published=_iso(entry.get("published_parsed") or entry.get("updated_parsed")),
                    feed_url=feed_url)


def _first_content(entry) -> str:
    content = entry.get("content") or []
    return content[0].get("value", "") if content else ""


def _plain(html: str) -> str:
    if "<" in html:
        html = BeautifulSoup(html, "html.parser").get_text(" ", strip=True)
    # After the parser, which turns &#27; into a real ESC: an item's escapes stop here.
    return re.sub(r"[ \t\r\n\f\v]+", " ", safe_text(html)).strip()   # keeps no-break spaces


def _iso(struct) -> str:
    if not struct:
        return ""
    from datetime import datetime, timezone
    stamp = datetime.fromtimestamp(calendar.timegm(struct), tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- identity -------------------------------------------------------------------------------

def canonical_url(url: str) -> str:
    """One spelling per article: lowercase scheme and host, no default port, no fragment,
    no tracking parameters, remaining parameters sorted."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host       # IPv6 literal
    if parts.port and (scheme, parts.port) not in (("http", 80), ("https", 443)):
        host += f":{parts.port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not _tracking(k))
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def _tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def story_identity(item: FeedItem) -> str:
    """What makes two items the same article: the canonical link, else the feed's GUID."""
    if item.link:
        return canonical_url(item.link)
    return f"guid:{item.guid}"
