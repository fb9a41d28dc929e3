"""Words as an editor counts them, and the text a reader sees: one module below every stage,
so the writer (which may not import quality/) and the quality checks measure alike.

The French rule, one for everything: a word is a run of non-space characters that contains at
least one letter or digit. So ``l’OTAN``, ``aujourd’hui``, ``a-t-il`` and ``2,4`` are one word
each (as LibreOffice Writer, Microsoft Word and Google Docs count them), while a lone « or —
is not a word. Counting elisions as two words would flatter the length by ~5 % on news French;
we prefer never to claim 700 words that an editor's tool shows as 670.

The same module holds the other ways the stages read text, each defined once: the visible text
(inline tags out), folding (case, accents, ligatures, apostrophes), word tokens for matching
and the split into sentences. ``publisher/measure.py`` applies them to an article once.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .models import Article, Block, Section

_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"\S*[^\W_]\S*")


class _Marks(dict):
    """code point → None for a combining mark (dropped by ``str.translate``), itself otherwise;
    filled as characters are met, so accents go in one C-level pass."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.combining(chr(code)) else code
        self[code] = value
        return value


# ``unicodedata.normalize("NFKD", text).translate(STRIP_MARKS)``: the text without accents
# (the facts check and the repetition sweep compare texts that way).
STRIP_MARKS = _Marks()


def visible(text: str) -> str:
    """Text as a reader sees it: inline tags removed, entities left alone (rare in our text)."""
    return _TAG.sub(" ", text)


@lru_cache(maxsize=4096)        # a block a repair left alone is counted once, not per version
def count_words(text: str) -> int:
    return len(_WORD.findall(visible(text)))


def block_words(block: Block) -> int:
    return count_words(block.visible_text)


def section_words(section: Section) -> int:
    """Words under a section's heading, the heading itself not included."""
    return sum(block_words(b) for b in section.blocks)


def article_words(article: Article) -> int:
    """The article's visible words: title excluded, headings included, as an editor counts them
    in the post body."""
    total = sum(block_words(b) for b in article.intro)
    for section in article.all_sections:
        total += count_words(section.heading) + section_words(section)
    return total


# --- folding, tokens and sentences (the SEO matching and the readability checks) ------------

_APOSTROPHES = {"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'",
                "\u00a0": " ", "\u202f": " ", "\u2009": " "}
_LIGATURES = {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"}
_TOKEN = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"\s+")


def normalize_spaces(text: str) -> str:
    """Typographic apostrophes → ', non-breaking spaces → space (case and accents kept)."""
    # str.replace per character is an order of magnitude faster than str.translate with a
    # dict on non-ASCII text; each character maps to one plain character, so order is moot
    for char, plain in _APOSTROPHES.items():
        if char in text:
            text = text.replace(char, plain)
    return text


@lru_cache(maxsize=16384)       # words and phrases asked again at every pass (stop words, names)
def fold(text: str) -> str:
    """Lowercase, accents and ligatures removed, apostrophes and spaces normalized: the form in
    which « l’OTAN », « L'Otan » and « l'otan » compare equal."""
    if text.isascii() and "`" not in text:     # nothing to normalize or strip
        return text.lower()
    text = normalize_spaces(text)
    for lig, plain in _LIGATURES.items():
        text = text.replace(lig, plain)
    return unicodedata.normalize("NFKD", text).translate(STRIP_MARKS).lower()


@lru_cache(maxsize=4096)        # a keyphrase candidate, a sentence: asked of every version
def tokens(text: str) -> tuple[str, ...]:
    """Folded word tokens of the visible text; apostrophes and hyphens separate tokens
    (l’OTAN → l, otan), so an elided article never hides the word behind it."""
    return tuple(_TOKEN.findall(fold(visible(text))))


_ABBREVIATIONS = frozenset(fold(a) for a in
                           "M Mme Mmes Mlle MM Dr Pr St Ste Me etc cf av apr env n° No p pp "
                           "vol chap éd J.-C Gal Gén Col Lt Cdt".split())
_SENTENCE_END = re.compile(r"[.!?…]+(?:\s*[»”\")])?(?=\s+[«\"“(]?\s*[A-ZÀ-ÖØ-Þ0-9])")


@lru_cache(maxsize=4096)        # a paragraph a fix left alone is split once, not per version
def sentences(text: str) -> tuple[str, ...]:
    """Sentences of one paragraph's visible text. Splits after . ! ? … (and a closing » or ")
    when the next word starts with a capital or a digit; not after « M. », « Mme », initials
    (« J. »). A piece without a word (a lone « — ») is no sentence."""
    text = _SPACES.sub(" ", visible(text)).strip()
    found, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if _is_abbreviation(text[start:match.start()]):
            continue
        found.append(text[start:match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        found.append(tail)
    return tuple(s for s in found if count_words(s))


def _is_abbreviation(before: str) -> bool:
    last = before.rsplit(" ", 1)[-1]
    if len(last) == 1 and last.isupper():
        return True                          # an initial: « Jens J. Stoltenberg »
    return fold(last) in _ABBREVIATIONS


# --- where a claim (a figure, a quotation) sits in a text ------------------------------------

QUOTE_MARKS = "«»“”„‟\"‹›"


def claim_core(claim: str) -> str:
    """The text to look for: a figure as written, a quotation without its « » marks."""
    return claim.strip().strip(QUOTE_MARKS + " ").strip()


def holds_claim(text: str, claim: str) -> bool:
    """Does ``text`` (a paragraph, item or quotation) hold ``claim`` as the facts check's
    ``untraceable`` lists it?"""
    core = claim_core(claim)
    return bool(core) and core in visible(text)
