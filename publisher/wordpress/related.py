"""Related posts: what the site already published near the story, asked once before writing.

    find_related(client, terms, story)   → models.RelatedPosts

One request, ``GET /wp/v2/posts?search=…&status=publish`` in the view context (an Author may
list other people's posts only there), serves two uses:

- the writer may link the most related posts (internal links, Yoast's « Liens internes »);
- their focus keyphrases (publisher's own, Yoast's or Rank Math's meta, which the companion
  plugin shows over REST) tell which keyphrases the site already uses, so the plan can pick
  another and the checks can say so (Yoast's « Requête cible déjà utilisée »).

The posts are ranked by the words their titles share with the story, WordPress's relevance
order breaking ties; one whose title shares none is not offered (its keyphrase still counts).
A failed request is a warning (``reason="search_failed"``), never a failed draft; a transport
that cannot search (XML-RPC raises Unsupported) is ``reason="unsupported"``.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Iterable

from ..errors import NetworkError, WordPressError
from ..models import RelatedPost, RelatedPosts
from .port import Unsupported, WordPressPort
from ..seo import french

log = logging.getLogger(__name__)

KEYPHRASE_META = ("publisher_focus_keyphrase", "_yoast_wpseo_focuskw", "rank_math_focus_keyword")
PER_PAGE = 20                # enough to see the keyphrases near the story, one small answer
FIELDS = "id,link,title," + ",".join(f"meta.{key}" for key in KEYPHRASE_META)
_TAG = re.compile(r"<[^>]*>")


def find_related(client: WordPressPort, terms: str, story: Iterable[str] = ()) -> RelatedPosts:
    """The site's published posts matching ``terms``, the most related to ``story`` (the
    sources' titles and keyphrase) first."""
    site = client.site_url
    if not terms.strip():
        return RelatedPosts(site_url=site, reason="")
    try:
        found = client.search_published(terms, FIELDS, PER_PAGE)
    except Unsupported:                 # XML-RPC: said, not a failure
        return RelatedPosts(site_url=site, reason="unsupported")
    except (WordPressError, NetworkError) as err:
        log.warning("related posts not searched: %s", err)
        # The report is French: the status or the named reason, the whole message in the log.
        status = getattr(err, "status", None)
        return RelatedPosts(site_url=site, reason="search_failed",
                            error=f"HTTP {status}" if status else err.reason)
    if not isinstance(found, list):
        return RelatedPosts(site_url=site, reason="search_failed", error="réponse illisible")
    posts, others = _ranked([post for post in map(_post, found) if post], story)
    shown = any(isinstance(item, dict) and isinstance(item.get("meta"), dict)
                and set(item["meta"]) & set(KEYPHRASE_META) for item in found)
    return RelatedPosts(site_url=site, posts=posts, others=others, keyphrases_shown=shown,
                        reason="")


def _post(item) -> RelatedPost | None:
    """One search answer as a RelatedPost; None for what is not a post with a link."""
    if not isinstance(item, dict) or not item.get("link") or not item.get("id"):
        return None
    title = item.get("title")
    title = title.get("rendered", "") if isinstance(title, dict) else str(title or "")
    meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
    keyphrase = next((str(meta[k]).strip() for k in KEYPHRASE_META if str(meta.get(k) or "")
                      .strip()), "")
    return RelatedPost(id=int(item["id"]), title=_plain(title), url=str(item["link"]),
                       keyphrase=keyphrase)


def _plain(rendered: str) -> str:
    """A rendered title (``&rsquo;``, ``<em>``) as one line of text."""
    return " ".join(html.unescape(_TAG.sub("", rendered)).split())


def _ranked(posts: list[RelatedPost], story: Iterable[str]
            ) -> tuple[tuple[RelatedPost, ...], tuple[RelatedPost, ...]]:
    """(posts whose title shares words with the story, most first; the others). The search
    matched words anywhere in a post: a title about something else is no link to offer."""
    wanted = {w for phrase in story for w in french.content_words(phrase)}
    shared = {p.id: len(wanted & set(french.content_words(p.title))) for p in posts}
    # sorted() is stable: WordPress's relevance order decides between equal titles.
    ranked = sorted(posts, key=lambda p: -shared[p.id])
    return (tuple(p for p in ranked if shared[p.id]), tuple(p for p in ranked if not shared[p.id]))
