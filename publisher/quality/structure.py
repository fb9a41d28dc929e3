"""The article's shape: enough H2, no empty or over-long section, nothing said twice.

The 300-word ceiling per section is Yoast's "subheading distribution" rule (text following a
subheading should not exceed 300 words); three H2 is the least that gives a reader an outline.
Duplicates are what a model produces when asked for more words than the source holds, so they
are removed here deterministically rather than counted towards the length.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache

from ..models import Article, Block, Section
from ..measure import measure, per_version
from ..words import count_words, fold, section_words, visible

MIN_H2 = 3
MAX_SECTION_WORDS = 300
# A paragraph shorter than this may legitimately recur ("Lire aussi", a one-line attribution).
MIN_DUPLICATE_WORDS = 4


@dataclass(frozen=True)
class Issue:
    """One structural problem. ``code`` is stable; ``message`` is French, for the editor."""

    code: str        # few_h2 | empty_section | long_section | duplicate_heading | duplicate_paragraph
    message: str
    heading: str = ""


def check_structure(article: Article) -> list[Issue]:
    return [*_h2_count(article), *_empty_sections(article), *_long_sections(article),
            *_duplicate_headings(article), *_duplicate_paragraphs(article)]


def _h2_count(article: Article) -> list[Issue]:
    count = len(article.outline)
    if count >= MIN_H2:
        return []
    return [Issue("few_h2", f"Seulement {count} intertitre(s) H2 : il en faut au moins {MIN_H2}")]


def _has_children(sections: tuple[Section, ...], index: int) -> bool:
    """An H2 followed by its H3 is not empty even without a paragraph of its own."""
    following = sections[index + 1] if index + 1 < len(sections) else None
    return sections[index].level == 2 and following is not None and following.level > 2


def _empty_sections(article: Article) -> list[Issue]:
    sections, sizes = article.all_sections, measure(article).under_headings
    return [Issue("empty_section", f"La section « {s.heading} » est vide", s.heading)
            for i, s in enumerate(sections)
            if sizes[i] == 0 and not _has_children(sections, i)]


def _long_sections(article: Article) -> list[Issue]:
    issues = []
    for s, words in zip(article.all_sections, measure(article).under_headings):
        if words > MAX_SECTION_WORDS:
            issues.append(Issue(
                "long_section",
                f"La section « {s.heading} » fait {words} mots ({MAX_SECTION_WORDS} au plus) : "
                "à scinder par un intertitre", s.heading))
    return issues


_ALNUM = re.compile(r"[^\W_]+")


@lru_cache(maxsize=4096)        # every block and sentence, at every check and repetition sweep
def fingerprint(text: str) -> str:
    """Text reduced to its folded letters and digits, so that spacing, case, accents,
    ligatures and typography do not hide a repetition."""
    return " ".join(_ALNUM.findall(fold(visible(text))))


def _duplicate_headings(article: Article) -> list[Issue]:
    seen: set[str] = set()
    issues = []
    for s in article.all_sections:
        key = fingerprint(s.heading)
        if key in seen:
            issues.append(Issue("duplicate_heading",
                                f"L'intertitre « {s.heading} » apparaît deux fois", s.heading))
        seen.add(key)
    return issues


def _blocks(article: Article):
    """Every body block with the heading it sits under ("" for the intro)."""
    for block in article.intro:
        yield "", block
    for section in article.all_sections:
        for block in section.blocks:
            yield section.heading, block


# Two paragraphs sharing this much of their word triples are one paragraph said twice (a
# model looping rewords a word or two, or cuts the copy short).
NEAR_DUPLICATE = 0.8
# Not words.sentences: this one cuts the raw text (inline markup kept) so that the paragraph can
# be put back together without its repeated sentences; a cut after « M. » only risks keeping a
# copy, never dropping a sentence said once.
_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[«\"“A-ZÀ-ÖØ-Þ0-9])")
MIN_REPEATED_SENTENCE_WORDS = 6


@lru_cache(maxsize=1024)
def _shingles(key: str) -> frozenset[tuple[str, ...]]:
    words = key.split()
    return frozenset(tuple(words[i:i + 3]) for i in range(len(words) - 2))


class _Seen:
    """The paragraphs read so far, to tell whether the next one repeats one of them."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.sizes: list[int] = []
        self.index: dict[tuple[str, ...], list[int]] = {}   # word triple → paragraphs with it

    def repeats(self, text: str) -> bool:
        """Is ``text`` a paragraph already read (or nearly)? Records it otherwise."""
        key = fingerprint(text)
        if count_words(text) < MIN_DUPLICATE_WORDS:
            self.keys.add(key)
            return False
        if key in self.keys:
            return True
        mine = _shingles(key)
        if len(mine) >= 3:
            common = Counter(i for shingle in mine for i in self.index.get(shingle, ()))
            for other, shared in common.items():
                union = len(mine) + self.sizes[other] - shared
                if shared >= NEAR_DUPLICATE * union or shared >= 0.9 * len(mine):
                    return True
            number = len(self.sizes)
            self.sizes.append(len(mine))
            for shingle in mine:
                self.index.setdefault(shingle, []).append(number)
        self.keys.add(key)
        return False


@per_version                    # the same article is swept, then checked
def _repeated(article: Article) -> tuple[bool, ...]:
    """For each body block in reading order: does it repeat (or nearly) one read before?"""
    seen = _Seen()
    return tuple(seen.repeats(block.visible_text) for _, block in _blocks(article))


def _duplicate_paragraphs(article: Article) -> list[Issue]:
    issues = []
    for (heading, block), repeated in zip(_blocks(article), _repeated(article)):
        if repeated:
            excerpt = " ".join(visible(block.visible_text).split()[:8])
            issues.append(Issue("duplicate_paragraph",
                                f"Paragraphe répété : « {excerpt} … »", heading))
    return issues


def _without_repeated_sentences(block: Block) -> tuple[Block, int]:
    """A paragraph that says one sentence again (a model stuck in a loop) without the copies."""
    if block.kind != "paragraph" or block.text.count(".") < 2:
        return block, 0
    sentences = _SENTENCE.split(block.text)
    kept, keys = [], set()
    for sentence in sentences:
        key = fingerprint(sentence)
        if key in keys and count_words(sentence) >= MIN_REPEATED_SENTENCE_WORDS:
            continue
        keys.add(key)
        kept.append(sentence)
    if len(kept) == len(sentences):
        return block, 0
    return replace(block, text=" ".join(kept)), len(sentences) - len(kept)


def remove_repetitions(article: Article) -> tuple[Article, list[str]]:
    """Drop later copies (exact or near) of a paragraph, sentences a paragraph repeats, and
    body sections left empty; return what was done (French, for the report). Safe: nothing the
    reader has not already read is removed."""
    sentences = 0

    def unlooped(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        nonlocal sentences
        out = []
        for block in blocks:
            block, repeated = _without_repeated_sentences(block)
            sentences += repeated
            out.append(block)
        return tuple(out)

    if any(b.text.count(".") >= 2 for _, b in _blocks(article)):
        article = replace(article, intro=unlooped(article.intro),
                          sections=tuple(replace(s, blocks=unlooped(s.blocks))
                                         for s in article.sections),
                          conclusion=replace(article.conclusion,
                                             blocks=unlooped(article.conclusion.blocks)))
    flags = iter(_repeated(article))
    dropped = 0

    def keep(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        nonlocal dropped
        out = []
        for block in blocks:
            if next(flags):
                dropped += 1
            else:
                out.append(block)
        return tuple(out)

    intro = keep(article.intro)
    sections = tuple(replace(s, blocks=keep(s.blocks)) for s in article.sections)
    conclusion = replace(article.conclusion, blocks=keep(article.conclusion.blocks))
    sections, pruned = _prune_empty(sections)
    done = []
    if dropped:
        done.append(f"{dropped} paragraphe(s) répété(s) supprimé(s)")
    if sentences:
        done.append(f"{sentences} phrase(s) répétée(s) dans un même paragraphe supprimée(s)")
    done += [f"Section vide « {h} » supprimée" for h in pruned]
    if not done:
        return article, []
    return replace(article, intro=intro, sections=sections, conclusion=conclusion), done


def _prune_empty(sections: tuple[Section, ...]) -> tuple[tuple[Section, ...], list[str]]:
    kept, pruned = [], []
    for i, s in enumerate(sections):
        if section_words(s) == 0 and not _has_children(sections, i):
            pruned.append(s.heading)
        else:
            kept.append(s)
    return tuple(kept), pruned
