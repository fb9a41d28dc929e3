"""The parts of an Article the SEO checks look at, as plain visible text."""

from __future__ import annotations

import re
import unicodedata

from ..models import Article, Block
from ..quality.length import visible
from . import french


def block_text(block: Block) -> str:
    """A block as one paragraph of visible text (list items joined as sentences)."""
    if block.kind == "list":
        items = [_as_sentence(i) for i in block.items if i.strip()]
        return _clean(" ".join([block.text, *items]) if block.text else " ".join(items))
    return _clean(block.text)


def _as_sentence(item: str) -> str:
    item = item.strip()
    return item if re.search(r"[.!?…»\"]$", item) else item + "."


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", visible(text)).strip()


def first_paragraph(article: Article) -> str:
    """Yoast's « introduction »: the first paragraph of the text."""
    for block in article.intro:
        text = block_text(block)
        if text:
            return text
    return ""


def paragraphs(article: Article) -> list[str]:
    """Every body paragraph in reading order: introduction, sections, conclusion."""
    blocks = [*article.intro, *(b for s in article.all_sections for b in s.blocks)]
    return [t for t in (block_text(b) for b in blocks) if t]


def headings(article: Article) -> list[str]:
    """H2 and H3 subheadings, conclusion included."""
    return [_clean(s.heading) for s in article.all_sections if s.heading.strip()]


def body(article: Article) -> str:
    """What Yoast analyses as the text: paragraphs and subheadings, title excluded."""
    parts = [block_text(b) for b in article.intro]
    for section in article.all_sections:
        parts.append(_clean(section.heading))
        parts.extend(block_text(b) for b in section.blocks)
    return "\n\n".join(p for p in parts if p)


def sentences(article: Article) -> list[str]:
    """Sentences of the paragraphs (subheadings are not sentences)."""
    return [s for p in paragraphs(article) for s in french.split_sentences(p)]


def sections_text(article: Article) -> list[tuple[str, str]]:
    """(heading, text under it) with the introduction first under the heading ""."""
    out = [("", " ".join(block_text(b) for b in article.intro))]
    for section in article.all_sections:
        out.append((_clean(section.heading), " ".join(block_text(b) for b in section.blocks)))
    return out


# --- keyphrase matching, as Yoast SEO does it for a language with function words -----------

def _content_set(keyphrase: str) -> set[str]:
    return set(french.content_words(keyphrase))


def in_one_sentence(text: str, keyphrase: str) -> bool:
    """Every content word of the keyphrase in one sentence of ``text``."""
    wanted = _content_set(keyphrase)
    return bool(wanted) and any(wanted <= set(french.tokens(s))
                                for s in french.split_sentences(text))


def intro_match(article: Article, keyphrase: str) -> str:
    """« sentence » when all content words share a sentence of the first paragraph,
    « paragraph » when they are only spread over it, « » otherwise."""
    intro = first_paragraph(article)
    wanted = _content_set(keyphrase)
    if not wanted or not intro:
        return ""
    if in_one_sentence(intro, keyphrase):
        return "sentence"
    return "paragraph" if wanted <= set(french.tokens(intro)) else ""


def reflects(heading: str, keyphrase: str) -> bool:
    """A subheading reflects the topic when it holds at least half of the keyphrase's content
    words (Yoast's rule for languages with function-word support, French included)."""
    wanted = _content_set(keyphrase)
    found = wanted & set(french.tokens(heading))
    return bool(wanted) and 2 * len(found) >= len(wanted)


def heading_share(article: Article, keyphrase: str) -> tuple[int, int]:
    """(subheadings reflecting the keyphrase, subheadings)."""
    heads = headings(article)
    return sum(reflects(h, keyphrase) for h in heads), len(heads)


def keyphrase_matches(text: str, keyphrase: str) -> int:
    """Yoast's count: per sentence, how many times all content words occur (the least frequent
    one decides), summed over the sentences."""
    wanted = _content_set(keyphrase)
    if not wanted:
        return 0
    total = 0
    for paragraph in text.split("\n\n"):
        for sentence in french.split_sentences(paragraph):
            toks = french.tokens(sentence)
            total += min(toks.count(w) for w in wanted)
    return total


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
