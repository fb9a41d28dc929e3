"""Is the article French, and is it free of Markdown?

Language is detected, never assumed: a model handed an English source, or a long English
quote, sometimes answers in English. Detection counts stop words (the short grammatical words
that make up ~40 % of any running text) from four lists; it needs no network and no model, and
on a few dozen words of news prose it is unambiguous. Words shared by two languages
("de", "la", "en" in French and Spanish) count for both, the distinctive ones decide.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from functools import lru_cache

from ..models import Article, Block, Section
from .length import visible

STOP_WORDS = {
    "fr": set("""le la les un une des du de d l et est sont a ont été être au aux ce cette ces
        qui que qu dans pour par sur avec sans pas ne n plus se s il elle ils elles nous vous
        leur leurs son sa ses mais ou où comme c j y en lors selon aussi très tout tous depuis
        entre après avant alors dont été avait était sera déjà""".split()),
    "en": set("""the of and to in is are was were be been has have had that this these those
        for on with as by at from it its which who whom their they he she we will would said
        not but or an there than also after before into over about more most can could""".split()),
    "es": set("""el la los las un una unos de del y en que es son fue por para con sin no se
        su sus al lo como pero más muy ha han había este esta estos también según sobre entre
        desde hasta cuando donde ya le les""".split()),
    "de": set("""der die das den dem des ein eine einen einem und ist sind war waren nicht mit
        zu von auf für sich im es auch als wird wurde hat haben bei nach aus über noch wie
        dass oder aber nur vor um seine ihre""".split()),
}
MIN_WORDS = 12          # below this there is not enough text to tell
MIN_RATIO = 0.15        # news prose runs at 0.3–0.5 in its own language

_TOKEN = re.compile(r"[^\W\d_]+")
_APOSTROPHES = {"’": "'", "‘": "'", "ʼ": "'", "`": "'"}


def _tokens(text: str) -> list[str]:
    # "l'OTAN" → "l", "otan": French elisions must count as the stop word they are.
    text = visible(text)
    for char, plain in _APOSTROPHES.items():     # str.replace: much faster than translate here
        if char in text:
            text = text.replace(char, plain)
    return _TOKEN.findall(text.casefold())


def language_scores(text: str) -> dict[str, float]:
    return _scores(_tokens(text))


def _scores(tokens: list[str]) -> dict[str, float]:
    if not tokens:
        return {lang: 0.0 for lang in STOP_WORDS}
    counts = Counter(tokens)            # each distinct word looked up once, not each token
    return {lang: sum(n for t, n in counts.items() if t in words) / len(tokens)
            for lang, words in STOP_WORDS.items()}


@lru_cache(maxsize=256)        # the gate asks again of the same article and sources
def detect_language(text: str) -> str:
    """"fr", "en", "es", "de", or "und" when the text is too short or matches none."""
    tokens = _tokens(text)
    if len(tokens) < MIN_WORDS:
        return "und"
    scores = _scores(tokens)
    best = max(scores, key=scores.get)
    return best if scores[best] >= MIN_RATIO else "und"


def article_text(article: Article) -> str:
    parts = [article.title, *(b.visible_text for b in article.intro)]
    for section in article.all_sections:
        parts += [section.heading, *(b.visible_text for b in section.blocks)]
    return "\n\n".join(parts)


def foreign_sections(article: Article, expected: str = "fr") -> list[str]:
    """Headings of sections long enough to judge that are written in another language."""
    found = []
    for section in article.all_sections:
        text = "\n".join(b.visible_text for b in section.blocks)
        lang = detect_language(text)
        if lang not in (expected, "und"):
            found.append(section.heading)
    return found


# --- Markdown left in the text ---------------------------------------------------------

_MARKDOWN = [
    (re.compile(r"(?m)^\s{0,3}#{1,6}\s*\S.*$"), "intertitre Markdown"),
    (re.compile(r"#{2,}"), "intertitre Markdown"),
    (re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"), "gras Markdown"),
    (re.compile(r"(?<![\w*])\*(?![\s*])[^*\n]+(?<![\s*])\*(?![\w*])"), "italique Markdown"),
    (re.compile(r"\[[^\]\n]+\]\((?:https?://|/)[^)\s]*\)"), "lien Markdown"),
    (re.compile(r"(?m)^\s*[-*+]\s+\S"), "liste Markdown"),
    (re.compile(r"`[^`\n]+`"), "code Markdown"),
]


def _pieces(article: Article):
    yield article.title
    for block in article.intro:
        yield from (block.text, *block.items, block.cite)
    for section in article.all_sections:
        yield section.heading
        for block in section.blocks:
            yield from (block.text, *block.items, block.cite)


def markdown_leaks(article: Article) -> list[str]:
    """Each Markdown leftover as "what: excerpt", in reading order, without repeats."""
    leaks: list[str] = []
    for piece in filter(None, _pieces(article)):
        for leak in _piece_leaks(piece):
            if leak not in leaks:
                leaks.append(leak)
    return leaks


@lru_cache(maxsize=1024)        # checked before and after each repair: mostly the same pieces
def _piece_leaks(piece: str) -> tuple[str, ...]:
    """The leaks of one piece of text, in order, one per stretch of text."""
    found: list[str] = []
    taken: set[int] = set()              # a "## Titre" line is one leak, not two
    for pattern, what in _MARKDOWN:
        for match in pattern.finditer(piece):
            span = set(range(*match.span()))
            if not span & taken:
                found.append(f"{what} : {match.group(0).strip()[:60]}")
            taken |= span
    return tuple(found)


_BOLD = re.compile(r"\*\*([^*\n]+)\*\*|__([^_\n]+)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?![\s*])([^*\n]+)(?<![\s*])\*(?![\w*])")
_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|/)[^)\s]*)\)")
_HASHES = re.compile(r"(?m)^\s{0,3}#{1,6}\s*|#{2,}\s*")
_BULLET = re.compile(r"(?m)^\s*[-*+]\s+")
_CODE = re.compile(r"`([^`\n]+)`")


def _inline(text: str) -> str:
    text = _BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    text = _LINK.sub(r'<a href="\2">\1</a>', text)
    text = _CODE.sub(r"\1", text)
    return _BULLET.sub("", _HASHES.sub("", text)).strip()


def _plain(text: str) -> str:
    """Headings and citations hold no markup at all: the Markdown is dropped, not converted."""
    text = _BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    text = _ITALIC.sub(r"\1", _CODE.sub(r"\1", text))
    return _HASHES.sub("", text).strip()


def _block(block: Block) -> Block:
    return replace(block, text=_inline(block.text), items=tuple(_inline(i) for i in block.items),
                   cite=_plain(block.cite))


def _section(section: Section) -> Section:
    return replace(section, heading=_plain(section.heading),
                   blocks=tuple(_block(b) for b in section.blocks))


def clean_markdown(article: Article) -> Article:
    """The same article with Markdown turned into the inline HTML the renderer accepts
    (<strong>, <em>, <a>) and heading marks dropped. Deterministic, so no LLM call is spent."""
    return replace(article, title=_plain(article.title),
                   intro=tuple(_block(b) for b in article.intro),
                   sections=tuple(_section(s) for s in article.sections),
                   conclusion=_section(article.conclusion))
