"""Words as an editor counts them, and the text a reader sees: one module below every stage,
so the writer (which may not import quality/) and the quality checks measure alike.

The French rule, one for everything: a word is a run of non-space characters that contains at
least one letter or digit. So ``l’OTAN``, ``aujourd’hui``, ``a-t-il`` and ``2,4`` are one word
each (as LibreOffice Writer, Microsoft Word and Google Docs count them), while a lone « or —
is not a word. Counting elisions as two words would flatter the length by ~5 % on news French;
we prefer never to claim 700 words that an editor's tool shows as 670.
"""

from __future__ import annotations

import re
import unicodedata

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
