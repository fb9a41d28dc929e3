"""The SEO plan, chosen from the sources *before* the article is written, so that one
generation can place the focus keyphrase where the checks look for it.

    plan_keyphrase(sources)   2–4 words the story is about: a phrase of the source's title or
                              lead (where its subject is named), the one the sources repeat
                              most, reading as a noun phrase; with ``taken`` (the focus
                              keyphrases of the site's other posts), the best one not taken
    search_terms(sources)     what to ask the site for its related posts (the names of the
                              best keyphrase, else its content words)
    placement_rules(...)      the French rules the writer is given, with the numbers of
                              seo/checks.py (title, introduction, 30–75 % of subheadings,
                              density, meta lengths), so a model that follows the brief passes
                              them without a second call

Pure functions, no I/O: the same sources always give the same plan.
"""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence

from ..models import Source
from . import french
from .build import DESC_MAX, DESC_MIN, TITLE_MAX_CHARS, _ngrams, _noun_like

LEAD_WORDS = 60              # the subject of a news story is named in its first sentences
DENSITY = (0.5, 3.0)         # keyphrase occurrences per 100 words (seo/checks.py)
SEARCH_WORDS = 3             # WordPress's search wants every word: a few, names first


def plan_keyphrase(sources: Sequence[Source], taken: Iterable[str] = ()) -> str:
    """The focus keyphrase to write around, "" when the sources offer none. A keyphrase
    already the focus of another post of the site (``taken``) would compete with it in search
    results (Yoast's « expression clé déjà utilisée »): the next candidate is chosen, unless
    every candidate is taken."""
    ranked = keyphrase_candidates(sources)
    used = {keyphrase_key(k) for k in taken if k}
    return next((k for k in ranked if keyphrase_key(k) not in used), ranked[0] if ranked else "")


def keyphrase_key(phrase: str) -> frozenset[str]:
    """What makes two keyphrases the same one: their content words, case, accents, elisions
    and order aside (« défense de l'OTAN » and « OTAN défense » compete)."""
    return frozenset(french.content_words(phrase)) if phrase.strip() else frozenset()


def search_terms(sources: Sequence[Source]) -> str:
    """The words the related-posts search asks for: the names in the best keyphrase (what
    other posts on the subject share), else its content words, as the sources spell them."""
    ranked = keyphrase_candidates(sources)
    if not ranked:
        return ""
    words = [w.split("'")[-1].strip("-") for w in ranked[0].replace("’", "'").split()]
    words = [w for w in words if w and not french.is_stop(w)]
    names = [w for w in words if w[:1].isupper()] if _named(ranked[0]) else []
    return " ".join(dict.fromkeys((names or words)[:SEARCH_WORDS]))


def keyphrase_candidates(sources: Sequence[Source]) -> list[str]:
    """Every phrase of the sources' titles and leads that could be the focus keyphrase, the
    best first."""
    try:
        return list(_candidates(tuple(sources)))
    except TypeError:               # a Source built with a list somewhere: no memo
        return list(_candidates.__wrapped__(tuple(sources)))


@lru_cache(maxsize=8)       # the search, the plan and the report ask for the same sources
def _candidates(sources: tuple[Source, ...]) -> tuple[str, ...]:
    lead = [s.title for s in sources if s.title]
    lead += [" ".join(s.text.split()[:LEAD_WORDS]) for s in sources]
    spelled: dict[tuple[str, ...], str] = {}
    in_title: set[tuple[str, ...]] = set()
    for index, chunk in enumerate(lead):
        for phrase in _ngrams(chunk):
            key = french.token_tuple(phrase)
            spelled.setdefault(key, phrase)
            if index < sum(1 for s in sources if s.title):
                in_title.add(key)
    counts = _occurrences(sources, set(spelled))
    ranked = sorted(spelled, reverse=True, key=lambda k: (
        counts[k] >= 2, _noun_like(spelled[k]), _named(spelled[k]),
        (k in in_title) + min(counts[k], 6) / 2, -abs(len(k) - 2.5), spelled[k]))
    return tuple(spelled[k] for k in ranked)


def _named(phrase: str) -> bool:
    """Holds a name (« Jens Stoltenberg », « défense de l'OTAN »): what readers search for."""
    return any(word[:1].isupper() for word in phrase.split()[1:]) or phrase[:2].isupper()


def _occurrences(sources: Sequence[Source], wanted: set[tuple[str, ...]]) -> Counter:
    """How often each wanted phrase occurs in all the sources (one pass over the tokens)."""
    counts: Counter = Counter()
    sizes = {len(k) for k in wanted}
    for source in sources:
        tokens = french.tokens(source.text)
        for size in sizes:
            for i in range(len(tokens) - size + 1):
                key = tuple(tokens[i:i + size])
                if key in wanted:
                    counts[key] += 1
    return counts


def placement_rules(keyphrase: str, words: int, headings: int) -> list[str]:
    """What the writer must do with the keyphrase, as numbered checks count it."""
    low = max(2, math.ceil(words * DENSITY[0] / 100))
    high = max(low + 1, math.floor(words * DENSITY[1] / 100 * 0.5))
    share = (max(1, math.ceil(headings * 0.3)), max(1, math.floor(headings * 0.75)))
    return [
        f"Expression clé imposée : « {keyphrase} » (telle quelle, accords compris).",
        "Elle ouvre le titre de l'article et le méta-titre (méta-titre de "
        f"{TITLE_MAX_CHARS} caractères au plus, sans mot coupé).",
        "Elle figure dans la première phrase de l'introduction.",
        f"Elle figure dans {share[0]} à {share[1]} des {headings} intertitres de section "
        "(jamais dans tous).",
        f"Elle revient de {low} à {high} fois dans l'ensemble du texte, naturellement.",
        f"Méta-description : de {DESC_MIN} à {DESC_MAX} caractères, phrases complètes terminées "
        "par un point, avec l'expression clé une fois.",
    ]
