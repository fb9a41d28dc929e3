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
week later is a new article).

Stories are built oldest item first. An item joins the story whose *core* (its first
CORE_SIZE reports from different outlets) it matches for more than half, else it starts a
story; the same canonical link always joins the story that has it. Matching one member is
not enough: single-link grouping let one item that mentions two unrelated events (a hostile
page pasting both) merge them into one draft crediting that page. Order does not matter:
items are sorted first.

Only pairs that share a blocking key are compared (``blocking_keys``): a figure, or one of
each item's key words (its names, then its rarest words, that another item also uses).
Comparing every pair cost about 50 s of CPU for 2,000 items; blocking keeps it near linear
(bench/feed_group.py, BENCHMARKS.md).

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
from collections import Counter, defaultdict
from itertools import combinations
from typing import Sequence, TypeVar
from urllib.parse import urlsplit

from ..models import Source
from .fetch import FeedItem, story_identity

THRESHOLD = 0.25
FIGURE_WEIGHT = 0.15
QUOTE_WEIGHT = 0.05
MAX_DAYS_APART = 4
MIN_SHARED_WORDS = 4      # below this, overlap between two short titles is luck, not evidence
CORE_SIZE = 3             # a story's core: its first three reports, which a newcomer must match
KEY_BUDGET = 200          # an item's key words lead to at most this many other items
MIN_KEYS = 3              # other words are keys only for an item with fewer names and figures

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
_NAME = re.compile(r"\b[A-ZÀ-ÖØ-Þ][\w'-]{3,}")
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
        self.names = content_words(" ".join(_NAME.findall(text))) & self.words
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
    the order of their first item. The result does not depend on the input order: items are
    placed oldest first (then by identity), whatever order the feeds listed them in."""
    feats = [Features(item, source) for item, source in items]
    order = sorted(range(len(items)), key=lambda i: _order_key(items[i][0], feats[i]))
    story_of = _cluster(feats, order, _matches(feats))
    groups: dict[int, list] = {}
    for index, pair in enumerate(items):
        groups.setdefault(story_of[index], []).append(pair)
    return list(groups.values())


def blocking_keys(feats: Sequence[Features]) -> list[set]:
    """What two items must share to be compared at all: a figure, or one of their key words.
    Key words are the item's names (capitalised words: people, places, bodies), rarest first,
    among those another item of the batch also uses; its other words, rarest first, only while
    it has fewer than MIN_KEYS keys; all while the items they lead to stay within KEY_BUDGET. A word most of the batch uses says nothing
    about which event it was, and would bring back the all-pairs cost."""
    frequency = Counter(word for f in feats for word in f.words)
    keys = []
    for f in feats:
        ranked = sorted((w not in f.names, frequency[w], w) for w in f.words if frequency[w] > 1)
        chosen, spent = {("fig", x) for x in f.figures}, 0
        for other, count, word in ranked:
            if spent + count > KEY_BUDGET or other and len(chosen) >= MIN_KEYS:
                break
            chosen.add(word)
            spent += count
        keys.append(chosen)
    return keys


def candidate_pairs(feats: Sequence[Features]) -> set[tuple[int, int]]:
    """The pairs (i < j) worth comparing: those that share a blocking key."""
    postings: dict = defaultdict(list)
    for index, keys in enumerate(blocking_keys(feats)):
        for key in keys:
            postings[key].append(index)
    return {pair for members in postings.values() for pair in combinations(members, 2)}


def _matches(feats: Sequence[Features]) -> dict[int, dict[int, float]]:
    """Which items are the same story, among the candidate pairs: for each item, the others
    it matches and their similarity."""
    matched: dict[int, dict[int, float]] = defaultdict(dict)
    for i, j in candidate_pairs(feats):
        if same_story(feats[i], feats[j]):
            matched[i][j] = matched[j][i] = similarity(feats[i], feats[j])
    return matched


def _cluster(feats: Sequence[Features], order: list[int],
             matched: dict[int, dict[int, float]]) -> dict[int, int]:
    """Each item, in ``order``, joins the story whose core it matches best, or starts one.
    The same article (same canonical link) always joins the story that already has it.
    A story's core is its first CORE_SIZE reports from different outlets: several items of
    one site count once, so a site cannot fill a core with its own bridging items."""
    story_of: dict[int, int] = {}
    cores: dict[int, list[int]] = {}
    by_identity: dict[str, int] = {}
    for i in order:
        story = by_identity.get(feats[i].identity)
        if story is None:
            story = _best_story(matched.get(i, {}), story_of, cores)
        if story is None:
            story, cores[i] = i, []
        core = cores[story]
        if len(core) < CORE_SIZE and _outlet(feats[i]) not in {_outlet(feats[m]) for m in core}:
            core.append(i)
        story_of[i] = story
        by_identity.setdefault(feats[i].identity, story)
    return story_of


def _outlet(feat: Features) -> str:
    return urlsplit(feat.identity).hostname or feat.identity


def _best_story(neighbours: dict[int, float], story_of: dict[int, int],
                cores: dict[int, list[int]]) -> int | None:
    """The story whose core the item matches for more than half, best share then best mean
    similarity; None when no story's core agrees. Matching one member is not enough: that is
    how one item mentioning two events would bridge them."""
    best, best_score = None, (0.0, 0.0)
    for story in sorted({story_of[j] for j in neighbours if j in story_of}):
        core = cores[story]
        hits = [neighbours[m] for m in core if m in neighbours]
        if 2 * len(hits) <= len(core):
            continue
        score = (len(hits) / len(core), sum(hits) / len(core))
        if score > best_score:
            best, best_score = story, score
    return best


def _order_key(item: FeedItem, feat: Features) -> tuple:
    # Oldest first, so a story's core is its first reports; undated items after the dated.
    stamp = feat.published.isoformat() if feat.published else "~"
    return (stamp, feat.identity, item.guid, item.feed_url, item.title)


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
