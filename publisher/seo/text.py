"""The parts of an Article the SEO checks look at, as plain visible text, and keyphrase
matching as Yoast SEO does it for French.

The article's texts are read from its ``Measured`` value (``publisher/measure.py``: computed
once per article version, shared by the gate, the keyphrase choice, the checks and the fixes);
the views that are lists come out as new lists. Matching memoizes only what it asks of short
strings (a keyphrase's content words, one sentence's tokens) and the body's word index.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from ..measure import block_text, measure  # noqa: F401  (block_text: build.py reads it here)
from ..models import Article
from . import french

def first_paragraph(article: Article) -> str:
    """Yoast's « introduction »: the first paragraph of the text."""
    return measure(article).introduction


def paragraphs(article: Article) -> list[str]:
    """Every body paragraph in reading order: introduction, sections, conclusion."""
    return list(measure(article).paragraphs)


def headings(article: Article) -> list[str]:
    """H2 and H3 subheadings, conclusion included."""
    return list(measure(article).headings)


def body(article: Article) -> str:
    """What Yoast analyses as the text: paragraphs and subheadings, title excluded."""
    return measure(article).body


def sentences(article: Article) -> list[str]:
    """Sentences of the paragraphs (subheadings are not sentences)."""
    return list(measure(article).sentences)


def sentence_tuple(article: Article) -> tuple[str, ...]:
    """``sentences(article)`` as a shared, immutable tuple (no copy: for hot loops)."""
    return measure(article).sentences


def sections_text(article: Article) -> list[tuple[str, str]]:
    """(heading, text under it) with the introduction first under the heading ""."""
    return list(measure(article).sections)


# --- keyphrase matching, as Yoast SEO does it for a language with function words -----------

@functools.lru_cache(maxsize=4096)
def _content_set(keyphrase: str) -> frozenset[str]:
    return frozenset(french.content_words(keyphrase))


@functools.lru_cache(maxsize=1024)
def _token_set(text: str) -> frozenset[str]:
    return frozenset(french.token_tuple(text))


def in_one_sentence(text: str, keyphrase: str) -> bool:
    """Every content word of the keyphrase in one sentence of ``text``."""
    wanted = _content_set(keyphrase)
    return bool(wanted) and any(wanted <= _token_set(s) for s in french.sentence_tuple(text))


def intro_match(article: Article, keyphrase: str) -> str:
    """« sentence » when all content words share a sentence of the first paragraph,
    « paragraph » when they are only spread over it, « » otherwise."""
    intro = first_paragraph(article)
    wanted = _content_set(keyphrase)
    if not wanted or not intro:
        return ""
    if in_one_sentence(intro, keyphrase):
        return "sentence"
    return "paragraph" if wanted <= _token_set(intro) else ""


def reflects(heading: str, keyphrase: str) -> bool:
    """A subheading reflects the topic when it holds at least half of the keyphrase's content
    words (Yoast's rule for languages with function-word support, French included)."""
    wanted = _content_set(keyphrase)
    found = wanted & _token_set(heading)
    return bool(wanted) and 2 * len(found) >= len(wanted)


def heading_share(article: Article, keyphrase: str) -> tuple[int, int]:
    """(subheadings reflecting the keyphrase, subheadings)."""
    heads = measure(article).headings
    return sum(reflects(h, keyphrase) for h in heads), len(heads)


def keyphrase_matches(text: str, keyphrase: str) -> int:
    """Yoast's count: per sentence, how many times all content words occur (the least frequent
    one decides), summed over the sentences."""
    wanted = _content_set(keyphrase)
    if not wanted:
        return 0
    index = _word_index(text)
    postings = [index.get(w) for w in wanted]
    if not all(postings):
        return 0
    rarest = min(postings, key=len)           # only sentences holding it can count
    return sum(min(p.get(i, 0) for p in postings) for i in rarest)


@functools.lru_cache(maxsize=256)
def _word_index(text: str) -> dict[str, dict[int, int]]:
    """word → {sentence number: occurrences} over the sentences of each paragraph of ``text``
    (paragraphs split at blank lines, as ``keyphrase_matches`` reads them). Shared: read only."""
    index: dict[str, dict[int, int]] = {}
    number = 0
    for paragraph in text.split("\n\n"):
        for sentence in french.sentence_tuple(paragraph):
            for token in french.token_tuple(sentence):
                counts = index.setdefault(token, {})
                counts[number] = counts.get(number, 0) + 1
            number += 1
    return index


def starts_with(candidate: str, keyphrase: str) -> bool:
    """The keyphrase opens ``candidate``, function words before it aside (Yoast's rule for the
    SEO title)."""
    toks, wanted = french.tokens(candidate), french.tokens(keyphrase)
    while toks and toks[0] in french.STOP_WORDS and toks[:len(wanted)] != wanted:
        toks = toks[1:]
    return bool(wanted) and toks[:len(wanted)] == wanted


_TAG = re.compile(r"<[^>]*>?")
_SCHEME = re.compile(r"(?i)\b(javascript|vbscript|data)\s*:")


def plain(value: str) -> str:
    """A field shown as text (meta, tags, excerpt): tags and stray angle brackets dropped, and a
    colon after a script scheme word spaced the French way (« javascript : ») so no consumer
    can mistake it for a URL."""
    value = _TAG.sub("", value or "").replace("<", "").replace(">", "")
    value = "".join(c for c in value if unicodedata.category(c) not in ("Cc", "Co", "Cs"))
    return " ".join(_SCHEME.sub(lambda m: f"{m.group(1)} :", value).split())
