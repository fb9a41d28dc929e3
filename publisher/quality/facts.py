"""Figures and quotations in the article, checked against the source(s).

A model paraphrases well and misquotes easily: it rounds "2,4 milliards" up, turns
"milliards" into "millions", or polishes a quotation. Every figure (number, amount, date,
percentage) and every direct quotation (« … », "…", “…”, quote blocks) of the article must be
found in a source:

- a quotation is traceable when its normalised text (case, accents, spaces, apostrophes and
  quote marks ignored) is a run of whole words of one source; cuts marked by an ellipsis or
  square brackets ("[…]", "[Zelensky]") are allowed, altered words are not;
- a figure is traceable when a source holds the same value at the same scale
  ("2,4 milliards" = "2.4 billion" = "2 400 millions"); a percentage must be a percentage
  there too, and a currency named on both sides must be the same. Spelled-out numbers in the
  source count ("deux ans" makes "2 ans" traceable).

List ordinals ("1. ", "2) ") are structure, not facts, and are ignored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Iterable, Sequence

from ..models import Article, Source
from ..words import QUOTE_MARKS, claim_core, holds_claim  # noqa: F401  (facts.holds_claim)
from .length import STRIP_MARKS, visible

# --- normalisation shared by quotes --------------------------------------------------------

_QUOTE_MARKS = QUOTE_MARKS
_TYPO = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'",
                       "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-",
                       "œ": "oe", "æ": "ae", **{q: " " for q in _QUOTE_MARKS}})
_ELLIPSIS = re.compile(r"\[\s*[^\]]*\]|\(\s*(?:…|\.\.\.)\s*\)|…|\.{3}")




@lru_cache(maxsize=256)        # a source is normalised again for every quote checked in it
def normalise(text: str) -> str:
    """Lower case, no accents, one kind of apostrophe and dash, no quote marks, single spaces,
    no space before punctuation (French typography puts one, English none)."""
    text = visible(text).casefold().translate(_TYPO)
    text = unicodedata.normalize("NFKD", text).translate(STRIP_MARKS)
    text = " ".join(text.split())
    return re.sub(r" (?=[,.;:!?)])|(?<=\() ", "", text)


# --- quotations ----------------------------------------------------------------------------

_QUOTE_PATTERNS = [
    re.compile(r"«\s*(.+?)\s*»", re.S),
    re.compile(r"“\s*(.+?)\s*”", re.S),
    re.compile(r"„\s*(.+?)\s*[“”]", re.S),
    re.compile(r"\"\s*(.+?)\s*\"", re.S),
]
_HAS_LETTER = re.compile(r"[^\W\d_]")


def find_quotes(text: str) -> list[str]:
    """Direct quotations in ``text``, without their marks, in reading order."""
    return list(_quotes(text))


@lru_cache(maxsize=1024)
def _quotes(text: str) -> tuple[str, ...]:
    text = visible(text)
    found = [m for pattern in _QUOTE_PATTERNS for m in pattern.finditer(text)]
    return tuple(m.group(1) for m in sorted(found, key=lambda m: m.start())
                 if _HAS_LETTER.search(m.group(1)))


def _fragments(quote: str) -> list[str]:
    """The quote's pieces between cuts, trimmed of the punctuation a quote may gain or lose
    at its edges."""
    pieces = (normalise(p).strip(" ,.;:!?-'") for p in _ELLIPSIS.split(quote))
    return [p for p in pieces if _HAS_LETTER.search(p)]


def _in_order(fragments: list[str], haystack: str) -> bool:
    position = 0
    for fragment in fragments:
        match = re.compile(rf"(?<!\w){re.escape(fragment)}(?!\w)").search(haystack, position)
        if not match:
            return False
        position = match.end()
    return True


def quote_traceable(quote: str, sources: Sequence[str]) -> bool:
    return _quote_traceable(quote, tuple(sources))


@lru_cache(maxsize=1024)        # each gate run checks the same quotes against the same sources
def _quote_traceable(quote: str, sources: tuple[str, ...]) -> bool:
    fragments = _fragments(quote)
    if not fragments:
        return True
    return any(_in_order(fragments, normalise(source)) for source in sources)


# --- figures -------------------------------------------------------------------------------

_SP = r"[^\S\n]"
_SCALES = {"milliard": 9, "milliards": 9, "md": 9, "mds": 9, "mrd": 9, "mrds": 9, "bn": 9,
           "billion": 9, "billions": 9, "million": 6, "millions": 6, "mn": 6, "m": 6,
           "millier": 3, "milliers": 3, "mille": 3, "k": 3}
_UNITS = [("pct", r"%|pour\s*cents?|percent|per\s+cent"),
          ("eur", r"d['’]\s*euros?|euros?|€|eur\b"),
          ("usd", r"de\s+dollars?|dollars?|\$|usd\b"),
          ("gbp", r"de\s+livres\s+sterling|£")]
_SPELLED = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14,
    "quinze": 15, "seize": 16, "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40,
    "cinquante": 50, "soixante": 60, "cent": 100, "cents": 100,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "hundred": 100,
    # Ordinals: "la première visite" makes "1re visite" traceable.
    "premier": 1, "première": 1, "deuxième": 2, "second": 2, "seconde": 2, "troisième": 3,
    "quatrième": 4, "cinquième": 5, "dixième": 10, "first": 1, "third": 3,
}
_NUMBER = (rf"(?P<pre>[$€£]{_SP}?)?(?<![\d.,])"
           rf"(?P<num>\d{{1,3}}(?:{_SP}\d{{3}})+(?:,\d+)?(?!\d)|\d+(?:[.,]\d+)*)")
_SPELLED_NUMBER = rf"(?<![\w-])(?P<word>(?:{'|'.join(_SPELLED)})(?:-(?:et-)?(?:{'|'.join(_SPELLED)}))*)(?![\w-])"
_TAIL = (rf"(?:{_SP}*(?P<scale>{'|'.join(sorted(_SCALES, key=len, reverse=True))})(?![^\W\d_]))?"
         rf"(?:{_SP}*(?P<unit>{'|'.join(f'(?P<{k}>{p})' for k, p in _UNITS)}))?")
_FIGURE = re.compile(_NUMBER + _TAIL, re.I)
_SPELLED_FIGURE = re.compile(_SPELLED_NUMBER + _TAIL, re.I)
_ORDINAL = re.compile(r"^\s*\d{1,2}\s*(?:[.)]|[-–—]\s)\s*")


@dataclass(frozen=True)
class Figure:
    text: str                     # as written, e.g. "2,4 milliards d'euros"
    raw: frozenset[Decimal]       # the number's possible values ("1,000" is 1 or 1000)
    exponent: int                 # scale word: 9 for milliards, 0 for none
    unit: str                     # "pct", "eur", "usd", "gbp" or ""

    @property
    def values(self) -> frozenset[Decimal]:
        return frozenset(v.scaleb(self.exponent).normalize() for v in self.raw)


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text).normalize()
    except InvalidOperation:
        return None


def parse_number(text: str) -> frozenset[Decimal]:
    """Every reading of a written number: "10 000" → 10000, "2,4" and "2.4" → 2.4, and the
    ambiguous "1,000" / "1.000" → both 1 and 1000 (French and English disagree)."""
    digits = re.sub(r"\s", "", text)
    seps = re.findall(r"[.,]", digits)
    if not seps:
        candidates = [digits]
    elif len(set(seps)) == 2:        # "1.234,5" or "1,234.5": the last one is the decimal mark
        mark = digits[max(digits.rfind("."), digits.rfind(","))]
        thousands = "," if mark == "." else "."
        candidates = [digits.replace(thousands, "").replace(mark, ".")]
    elif len(seps) > 1:              # "1.000.000": thousands only
        candidates = [digits.replace(seps[0], "")]
    else:
        whole, frac = re.split(r"[.,]", digits)
        candidates = [f"{whole}.{frac}"] + ([whole + frac] if len(frac) == 3 else [])
    return frozenset(d for d in map(_decimal, candidates) if d is not None)


def _spelled_value(word: str) -> Decimal | None:
    parts = [p for p in word.casefold().split("-") if p != "et"]
    total = 0
    for i, part in enumerate(parts):
        value = _SPELLED.get(part)
        if value is None:
            return None
        if value in (20, 100) and i > 0 and total < value:   # quatre-vingts, deux-cents
            total *= value
        else:
            total += value
    return Decimal(total)


def _unit(match: re.Match) -> str:
    pre = (match.groupdict().get("pre") or "").strip()
    if pre:
        return {"$": "usd", "€": "eur", "£": "gbp"}[pre]
    return next((k for k, _ in _UNITS if match.group(k)), "")


def _figure(match: re.Match, spelled: bool) -> Figure | None:
    if spelled:
        value = _spelled_value(match.group("word"))
        raw = frozenset([value]) if value is not None else frozenset()
    else:
        raw = parse_number(match.group("num"))
    if not raw:
        return None
    scale = (match.group("scale") or "").casefold()
    if scale in ("m", "mn", "k") and not match.group("unit"):
        scale = ""            # "5 m" is metres, "5 mn" minutes; "5 M€" is millions of euros
    return Figure(match.group(0).strip(), raw, _SCALES.get(scale, 0),
                  "" if spelled and not scale and not match.group("unit") else _unit(match))


def find_figures(text: str, *, spelled: bool = False) -> list[Figure]:
    """Figures in ``text``. ``spelled`` also reads numbers written in words (for sources)."""
    return list(_figures(text, spelled))


@lru_cache(maxsize=1024)        # the same sources and paragraphs at every gate run
def _figures(text: str, spelled: bool) -> tuple[Figure, ...]:
    text = visible(text)
    figures = [_figure(m, False) for m in _FIGURE.finditer(text)]
    if spelled:
        figures += [_figure(m, True) for m in _SPELLED_FIGURE.finditer(text)]
    return tuple(f for f in figures if f is not None)


def _same_unit(ours: Figure, theirs: Figure) -> bool:
    if ours.unit == "pct" or theirs.unit == "pct":
        return ours.unit == theirs.unit
    return not ours.unit or not theirs.unit or ours.unit == theirs.unit


def figure_traceable(figure: Figure, known: Iterable[Figure]) -> bool:
    for other in known:
        if not _same_unit(figure, other):
            continue
        if figure.exponent and figure.values & other.values:
            return True
        # An unscaled number ("en 2024", "40 drones") only has to be the same number.
        if not figure.exponent and figure.raw & other.raw:
            return True
    return False


# --- the article against its sources ------------------------------------------------------

def _source_texts(sources: Sequence[Source] | Source | str) -> list[str]:
    if isinstance(sources, (Source, str)):
        sources = [sources]
    texts = []
    for source in sources:
        if isinstance(source, str):
            texts.append(source)
        else:
            texts.append("\n\n".join(filter(None, (source.title, source.date, source.text))))
    return texts


def _article_pieces(article: Article) -> list[tuple[str, bool]]:
    """Every visible text of the article, each flagged True when it is a quotation block."""
    pieces: list[tuple[str, bool]] = [(article.title, False)]
    blocks = list(article.intro)
    for section in article.all_sections:
        pieces.append((section.heading, False))
        blocks += section.blocks
    for block in blocks:
        pieces.append((block.text, block.kind == "quote"))
        pieces += [(item, False) for item in block.items]
    return [(visible(text), is_quote) for text, is_quote in pieces if text]


def _strip_quotes(text: str) -> str:
    for pattern in _QUOTE_PATTERNS:
        text = pattern.sub(" ", text)
    return text


def _claims(article: Article) -> tuple[list[str], list[Figure]]:
    quotes: list[str] = []
    figures: list[Figure] = []
    for text, is_quote in _article_pieces(article):
        if is_quote:
            quotes.append(text.strip().strip(_QUOTE_MARKS).strip())
            continue
        quotes += find_quotes(text)
        # A figure inside a quotation is checked with the quotation, not twice.
        figures += find_figures(_ORDINAL.sub("", _strip_quotes(text)))
    return quotes, figures


def untraceable(article: Article, sources: Sequence[Source] | Source | str,
                *, check_quotes: bool = True) -> list[str]:
    """Figures and quotations of the article found in no source, as the article writes them
    (quotations between « »), in reading order, without repeats. ``check_quotes=False`` when
    the sources are in another language: a translated quotation cannot be verbatim."""
    texts = _source_texts(sources)
    known = [f for t in texts for f in find_figures(t, spelled=True)]
    quotes, figures = _claims(article)
    missing: list[str] = []
    if check_quotes:
        missing += [f"« {q} »" for q in quotes if not quote_traceable(q, texts)]
    missing += [f.text for f in figures if not figure_traceable(f, known)]
    return list(dict.fromkeys(missing))


# --- where the claims are -------------------------------------------------------------------

# claim_core and holds_claim live in publisher/words.py: the writer's fix_claims uses them too.

_BOUNDARY = re.compile(r"[.!?…](?=\s|$)")


def claim_span_words(text: str, claims: Sequence[str]) -> int:
    """Words of the sentences of ``text`` that hold one of ``claims``: what removing those
    claims may cost at most."""
    text = visible(text)
    covered: list[tuple[int, int]] = []
    for claim in claims:
        core = claim_core(claim)
        position = text.find(core) if core else -1
        while position >= 0:
            before = [m.end() for m in _BOUNDARY.finditer(text, 0, position)]
            after = _BOUNDARY.search(text, position + len(core))
            covered.append((before[-1] if before else 0, after.end() if after else len(text)))
            position = text.find(core, position + len(core))
    merged: list[list[int]] = []
    for start, end in sorted(covered):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return sum(len(re.findall(r"\S*[^\W_]\S*", text[s:e])) for s, e in merged)


# --- where the editor starts checking --------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_PASSAGE_CHARS = 300
_FR_STOP = frozenset("""le la les un une des du de d l et est sont a ont ete etre au aux ce cette
    ces qui que qu dans pour par sur avec sans pas ne n plus se s il elle ils elles nous vous leur
    leurs son sa ses mais ou comme c j y en selon aussi tres tout tous depuis entre apres avant
    alors dont avait etait sera deja cet nos notre votre vos afin si ni donc car encore""".split())


def _keywords(text: str) -> dict[str, int]:
    """Words that tell a sentence apart, with their weight: a number weighs more than a word."""
    return {w: (3 if w.isdigit() else 1) for w in _WORD.findall(normalise(text))
            if w.isdigit() or (len(w) > 2 and w not in _FR_STOP)}


def _sentences(text: str) -> list[str]:
    out = []
    for paragraph in re.split(r"\n\s*\n", text):
        out += [s.strip() for s in re.split(r"(?<=[.!?…])\s+", " ".join(paragraph.split()))]
    return [s for s in out if _HAS_LETTER.search(s)]


def nearest_passage(claim: str, sources: Sequence[Source] | Source | str) -> str:
    """The source sentence sharing most with an untraceable ``claim`` (its figures weigh
    most), cut to about 300 characters: where the editor starts checking. "" when no sentence
    shares a word with it."""
    wanted = _keywords(claim_core(claim))
    best, best_score = "", 0
    for text in _source_texts(sources):
        for sentence in _sentences(text):
            found = _keywords(sentence)
            score = sum(weight for word, weight in wanted.items() if word in found)
            if score > best_score:
                best, best_score = sentence, score
    if len(best) <= _PASSAGE_CHARS:
        return best
    return best[:_PASSAGE_CHARS].rsplit(" ", 1)[0] + " …"
