"""Items that tell the same story become one article, not five.

The similarity of two items, between 0 and about 1.5:

    S = J(content words)                      Jaccard over accent-folded, crudely stemmed
                                              words of 4+ letters, stop words removed (0
                                              when fewer than MIN_SHARED_WORDS are shared:
                                              two one-word titles are not a story)
      + 0.15 × min(shared figures, 2)         "2,4 milliards", "40 drones", "12 %": numbers
                                              with what they count, the surest sign two
                                              reports describe the same event
      + 0.05 × (shares a quoted 5-word run)   the same quotation; small, because leaders
                                              repeat stock lines ("aussi longtemps qu'il le
                                              faudra") from one event to the next

Two items are the same story when S >= THRESHOLD (0.25), or when their canonical links are
equal; never when both carry publication dates more than MAX_DAYS_APART apart (a follow-up a
week later is a new article). Groups are the connected components of that relation
(single link, via union-find): feed batches are small and a story's reports tend to
resemble each other pairwise, so chaining has not been a problem in practice.

Tuned on the five seed articles (tests/fixtures/seeds/), all about Stoltenberg, Zelensky and
NATO: 000, 002 and 003 report the September 2023 Kyiv visit (S 0.35–0.66: shared
"2,4 milliards", "40 drones", "gagnent progressivement du terrain"); 001 is the April 2023
visit (S 0.16 with 000: same people, different event, no shared figure) and 004 the Brussels
defence ministers' meeting (S <= 0.18): both stay apart. Word overlap alone would barely
separate them (0.16 for 000–001 against 0.19 for 000–003), which is why figures weigh so much.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime, timezone
from itertools import combinations
from typing import Sequence, TypeVar

from ..models import Source
from .fetch import FeedItem, story_identity

THRESHOLD = 0.25
FIGURE_WEIGHT = 0.15
QUOTE_WEIGHT = 0.05
MAX_DAYS_APART = 4
MIN_SHARED_WORDS = 4      # below this, overlap between two short titles is luck, not evidence

STOP_WORDS = frozenset("""
    alors ainsi apres aupres aussi autre autres avant avec avoir avait avaient ayant cela celle
    celles celui ceux cette chaque comme comment contre dans depuis des deux dont donc elle elles
    encore entre etait etaient etre fait faire font leur leurs lors lorsque mais meme moins notre
    nous nos par parmi pendant plus pour pourrait quand quel quelle quelles quels sans selon
    sera seront sont sous tandis tous tout toute toutes tres une vers votre vous ete deja
    declare declaration ajoute affirme souligne indique explique annonce precise estime
    jeudi mercredi mardi lundi vendredi samedi dimanche semaine annee jour jours hier aujourd
    selon notamment egalement ailleurs cette cours ceci afin dire dit
""".split())

_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"(?<![\w,.])(\d{1,3}(?:[  .]\d{3})+|\d+(?:[.,]\d+)?)\s*(%|[^\W\d_]+)?")
_QUOTE = re.compile(r"[«\"“]([^»\"”]{12,400})[»\"”]")
_UNITS = ("milliard", "million", "%", "pour", "euro", "dollar")

Pair = TypeVar("Pair")


def fold(text: str) -> str:
    """Lowercase, no accents, typographic apostrophes made plain."""
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in text if not unicodedata.combining(c))


def content_words(text: str) -> frozenset[str]:
    words = set()
    for word in _WORD.findall(fold(text)):
        if len(word) < 4 or word.isdigit() or word in STOP_WORDS:
            continue
        words.add(re.sub(r"[sx]$", "", word)[:7])   # plural and gender endings count as one word
    return frozenset(words)


def figures(text: str) -> frozenset[tuple[str, str]]:
    """Numbers with the word after them ("2,4", "milliard"). Years and bare small numbers are
    left out: "2023" or "deux ans" say nothing about which event it was."""
    found = set()
    for number, unit in _NUMBER.findall(fold(text)):
        value = re.sub(r"[  .](?=\d{3}\b)", "", number).replace(".", ",")
        unit = (unit or "")[:8].rstrip("s")
        if re.fullmatch(r"(19|20)\d\d", value):
            continue
        if "," not in value and int(value) < 10 and not unit.startswith(_UNITS):
            continue
        found.add((value, unit))
    return frozenset(found)


def quote_runs(text: str, size: int = 5) -> frozenset[tuple[str, ...]]:
    runs = set()
    for quoted in _QUOTE.findall(text.replace("’", "'")):
        words = _WORD.findall(fold(quoted))
        runs.update(tuple(words[i:i + size]) for i in range(len(words) - size + 1))
    return frozenset(runs)


class Features:
    """What the similarity looks at, computed once per item."""

    def __init__(self, item: FeedItem, source: Source | None):
        text = _text(item, source)
        self.identity = story_identity(item)
        self.words = content_words(text)
        self.figures = figures(text)
        self.quotes = quote_runs(text)
        self.published = _date(item.published or (source.date if source else ""))


def similarity(a: Features, b: Features) -> float:
    shared = len(a.words & b.words)
    score = shared / len(a.words | b.words) if shared >= MIN_SHARED_WORDS else 0.0
    score += FIGURE_WEIGHT * min(len(a.figures & b.figures), 2)
    score += QUOTE_WEIGHT * bool(a.quotes & b.quotes)
    return score


def same_story(a: Features, b: Features) -> bool:
    if a.published and b.published and abs((a.published - b.published).days) > MAX_DAYS_APART:
        return False
    return a.identity == b.identity or similarity(a, b) >= THRESHOLD


def group_items(items: Sequence[tuple[FeedItem, Source | None]]) -> list[list[tuple[FeedItem, Source | None]]]:
    """Partition ``(item, source)`` pairs into stories, each group in input order, groups in
    the order of their first item."""
    feats = [Features(item, source) for item, source in items]
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in combinations(range(len(items)), 2):
        if root(i) != root(j) and same_story(feats[i], feats[j]):
            parent[max(root(i), root(j))] = min(root(i), root(j))
    groups: dict[int, list] = {}
    for index, pair in enumerate(items):
        groups.setdefault(root(index), []).append(pair)
    return list(groups.values())


def group_id(group: Sequence[tuple[FeedItem, Source | None]] | Sequence[FeedItem]) -> str:
    """A stable story ID for a group: the same items give the same ID, whatever their order."""
    items = [g[0] if isinstance(g, tuple) else g for g in group]
    identities = sorted({story_identity(item) for item in items})
    return hashlib.sha256("\n".join(identities).encode("utf-8")).hexdigest()[:20]


def _text(item: FeedItem, source: Source | None) -> str:
    if source is not None and source.text.strip():
        return f"{source.title or item.title}\n{source.text}"
    return f"{item.title}\n{item.summary}"


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed
