"""The article's shape: enough H2, no empty or over-long section, nothing said twice.

The 300-word ceiling per section is Yoast's "subheading distribution" rule (text following a
subheading should not exceed 300 words); three H2 is the least that gives a reader an outline.
Duplicates are what a model produces when asked for more words than the source holds, so they
are removed here deterministically rather than counted towards the length.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from ..models import Article, Block, Section
from .length import visible
from .memo import section_word_count, word_count

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
    sections = article.all_sections
    return [Issue("empty_section", f"La section « {s.heading} » est vide", s.heading)
            for i, s in enumerate(sections)
            if section_word_count(s) == 0 and not _has_children(sections, i)]


def _long_sections(article: Article) -> list[Issue]:
    issues = []
    for s in article.all_sections:
        words = section_word_count(s)
        if words > MAX_SECTION_WORDS:
            issues.append(Issue(
                "long_section",
                f"La section « {s.heading} » fait {words} mots ({MAX_SECTION_WORDS} au plus) : "
                "à scinder par un intertitre", s.heading))
    return issues


@lru_cache(maxsize=1024)        # every block, at every check and repetition sweep
def fingerprint(text: str) -> str:
    """Text reduced to its letters and digits, so that spacing, case, accents and typography
    do not hide a repetition."""
    text = unicodedata.normalize("NFKD", visible(text).casefold())
    return " ".join(re.findall(r"[^\W_]+", "".join(c for c in text if not unicodedata.combining(c))))


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


def _duplicate_paragraphs(article: Article) -> list[Issue]:
    seen: set[str] = set()
    issues = []
    for heading, block in _blocks(article):
        key = fingerprint(block.visible_text)
        if word_count(block.visible_text) < MIN_DUPLICATE_WORDS:
            continue
        if key in seen:
            excerpt = " ".join(visible(block.visible_text).split()[:8])
            issues.append(Issue("duplicate_paragraph",
                                f"Paragraphe répété : « {excerpt} … »", heading))
        seen.add(key)
    return issues


def remove_repetitions(article: Article) -> tuple[Article, list[str]]:
    """Drop later copies of a paragraph and body sections left empty; return what was done
    (French, for the report). Safe: nothing the reader has not already read is removed."""
    seen: set[str] = set()
    dropped = 0

    def keep(block: Block) -> bool:
        nonlocal dropped
        key = fingerprint(block.visible_text)
        if word_count(block.visible_text) >= MIN_DUPLICATE_WORDS and key in seen:
            dropped += 1
            return False
        seen.add(key)
        return True

    intro = tuple(b for b in article.intro if keep(b))
    sections = tuple(replace(s, blocks=tuple(b for b in s.blocks if keep(b)))
                     for s in article.sections)
    conclusion = replace(article.conclusion,
                         blocks=tuple(b for b in article.conclusion.blocks if keep(b)))
    sections, pruned = _prune_empty(sections)
    done = []
    if dropped:
        done.append(f"{dropped} paragraphe(s) répété(s) supprimé(s)")
    done += [f"Section vide « {h} » supprimée" for h in pruned]
    if not done:
        return article, []
    return replace(article, intro=intro, sections=sections, conclusion=conclusion), done


def _prune_empty(sections: tuple[Section, ...]) -> tuple[tuple[Section, ...], list[str]]:
    kept, pruned = [], []
    for i, s in enumerate(sections):
        if section_word_count(s) == 0 and not _has_children(sections, i):
            pruned.append(s.heading)
        else:
            kept.append(s)
    return tuple(kept), pruned
