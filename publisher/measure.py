"""One article version measured once: its words, paragraphs, headings, sentences and folded
tokens, as the quality gate and the SEO checks read them.

The rules (what a word, a sentence, the visible text and folding are) live in ``words.py``;
this module applies them to an article and hands the result out as one frozen value,
``Measured``. ``measure(article)`` computes it the first time an article object is asked about
and returns the same value for as long as that object lives: the gate, the keyphrase choice,
every SEO check and every fix read one article's numbers without counting again, and a new
version (any ``dataclasses.replace``) is measured afresh. ``per_version`` keeps a stage's own
readings of the same version beside it. Nothing is kept once the article is gone, so there is
no memo to size or to clear.
"""

from __future__ import annotations

import functools
import re
import weakref
from dataclasses import dataclass
from typing import Callable, Hashable, TypeVar

from .models import Article, Block
from .words import count_words, sentences, tokens, visible

_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?…»\"]$")


@dataclass(frozen=True)
class Measured:
    """An article's measures. Texts are visible text (inline tags out, spaces collapsed);
    ``paragraphs`` and ``sentences`` are the body's in reading order (introduction, sections,
    conclusion), subheadings excluded (they are not sentences)."""

    words: int                                  # as an editor counts: headings in, title out
    introduction: str                           # Yoast's « introduction »: the first paragraph
    paragraphs: tuple[str, ...]
    paragraph_words: tuple[int, ...]
    headings: tuple[str, ...]                   # H2 and H3, conclusion's included
    sections: tuple[tuple[str, str], ...]       # (heading, text under it), introduction first
    section_words: tuple[int, ...]              # words of each of ``sections``' text
    under_headings: tuple[int, ...]             # words under each of article.all_sections
    body: str                                   # paragraphs and subheadings, as Yoast reads it
    body_words: int                             # words of ``body`` (quotes' credits out)

    # The SEO stage's readings, computed on first use (still once per version): the gate
    # measures every answer and repair, most of which the SEO stage never sees.
    @functools.cached_property
    def body_tokens(self) -> tuple[str, ...]:
        """Folded tokens of ``body``."""
        return tokens(self.body)

    @functools.cached_property
    def sentences(self) -> tuple[str, ...]:
        return tuple(s for p in self.paragraphs for s in sentences(p))

    @functools.cached_property
    def sentence_words(self) -> tuple[int, ...]:
        return tuple(map(count_words, self.sentences))


def block_text(block: Block) -> str:
    """A block as one paragraph of visible text (list items joined as sentences)."""
    if block.kind == "list":
        items = [_as_sentence(i) for i in block.items if i.strip()]
        return _clean(" ".join([block.text, *items]) if block.text else " ".join(items))
    return _clean(block.text)


def _as_sentence(item: str) -> str:
    item = item.strip()
    return item if _SENTENCE_END.search(item) else item + "."


def _clean(text: str) -> str:
    return _SPACES.sub(" ", visible(text)).strip()


def _compute(article: Article) -> Measured:
    """Each block is counted once (its visible text, credits included, for the editor's count;
    its SEO paragraph for the readability checks); the totals are sums, since no word spans
    two blocks."""
    intro = [(block_text(b), count_words(b.visible_text)) for b in article.intro]
    sections, parts = [("", " ".join(t for t, _ in intro))], [t for t, _ in intro if t]
    paragraphs, under, words = list(parts), [], sum(n for _, n in intro)
    for section in article.all_sections:
        heading, texts = _clean(section.heading), [block_text(b) for b in section.blocks]
        sections.append((heading, " ".join(texts)))
        parts += [heading, *texts]
        paragraphs += [t for t in texts if t]
        under.append(sum(count_words(b.visible_text) for b in section.blocks))
        words += count_words(heading) + under[-1]
    sizes = tuple(map(count_words, paragraphs))
    body = "\n\n".join(p for p in parts if p)
    return Measured(
        words=words, introduction=next((t for t, _ in intro if t), ""),
        paragraphs=tuple(paragraphs), paragraph_words=sizes,
        headings=tuple(h for h, _ in sections[1:] if h), sections=tuple(sections),
        section_words=tuple(count_words(t) for _, t in sections), under_headings=tuple(under),
        body=body, body_words=sum(sizes) + sum(count_words(h) for h, _ in sections[1:]))


# id(article) → (a weak reference to it, its measures, what was derived from it): an entry
# leaves with its article. No lock: single dict operations are atomic, and an id is reused only
# after the weak reference's callback has run (CPython clears weak references before it frees
# the object).
_HELD: dict[int, tuple[weakref.ref, Measured, dict]] = {}


def _entry(article: Article) -> tuple[weakref.ref, Measured, dict]:
    key = id(article)
    held = _HELD.get(key)
    if held is not None and held[0]() is article:
        return held

    def forget(ref: weakref.ref, key: int = key, table: dict = _HELD) -> None:
        # ``table`` bound now: at interpreter exit the module's globals may already be None
        if table.get(key, (None,))[0] is ref:
            table.pop(key, None)

    held = (weakref.ref(article, forget), _compute(article), {})
    _HELD[key] = held
    return held


def measure(article: Article) -> Measured:
    """The article's measures, computed once per article object (see the module's doc)."""
    return _entry(article)[1]


_T = TypeVar("_T")


def remember(article: Article, key: Hashable, compute: Callable[[], _T]) -> _T:
    """``compute()``, once per article object and ``key`` (a stage's reading of this version
    with some other value, e.g. the SEO checks with one SeoMeta); computed afresh when ``key``
    cannot be hashed (a value built with lists)."""
    derived = _entry(article)[2]
    try:
        if key in derived:
            return derived[key]
    except TypeError:
        return compute()
    derived[key] = value = compute()
    return value


def per_version(fn: Callable[[Article], _T]) -> Callable[[Article], _T]:
    """For a stage's own reading of an article built on its measures (the SEO stage's
    keyphrase candidates, its sentence windows): computed once per article object, kept with
    its measures. ``fn`` must return an immutable value: every caller gets the same one."""
    @functools.wraps(fn)
    def once(article: Article) -> _T:
        derived = _entry(article)[2]
        if fn not in derived:
            derived[fn] = fn(article)
        return derived[fn]
    return once
