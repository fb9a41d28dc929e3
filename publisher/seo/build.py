"""SEO metadata from the article and its sources: keyphrase, meta title, meta description, slug,
tags, category, excerpt and outline. Pure functions: no I/O, no LLM call.

The LLM's proposals (``Article.suggestions``) are used when they pass the same rules as our own
candidates, otherwise replaced; every builder is deterministic, so the same article always gives
the same SeoMeta (and the same slug).

    keyphrase          2–4 words, present verbatim (case and accents aside) in the text
    meta title         ≤ 60 characters and ≤ 600 px (see width.py), keyphrase at the start,
                       never a cut word nor a dangling separator
    meta description   120–156 characters (Yoast's green range), keyphrase inside, whole sentences
    slug               ASCII, French stop words dropped, ≤ 60 characters, keyphrase words first
    excerpt            ≤ 55 words (WordPress's own automatic excerpt length), whole sentences
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from slugify import slugify

from ..measure import measure, per_version
from ..models import Article, SeoMeta, Source
from ..words import count_words
from . import french, text
from .rules import DESC_MAX, DESC_MIN, EXCERPT_MAX_WORDS, KEYPHRASE_WORDS, SLUG_MAX, \
    TITLE_MAX_CHARS, TITLE_MAX_PX
from .tags import build_tags, choose_category
from .width import title_width_px

__all__ = ["build_seo", "choose_keyphrase", "meta_title", "meta_description", "make_slug",
           "build_tags", "choose_category", "make_excerpt", "title_width_px",
           "keyphrase_candidates"]


def build_seo(article: Article, sources: Sequence[Source] = (), *, site_tags: Iterable[str] = (),
              categories: Iterable[str] = (), default_category: str = "") -> SeoMeta:
    hints = article.suggestions
    keyphrase = choose_keyphrase(article, hints.keyphrase)
    plain = text.plain                 # SEO fields are text: WordPress and themes print them raw
    return SeoMeta(
        keyphrase=plain(keyphrase),
        meta_title=plain(meta_title(article, keyphrase)),
        meta_description=plain(meta_description(article, keyphrase, hints.meta_description)),
        slug=make_slug(keyphrase, article.title),
        tags=tuple(t for t in map(plain, build_tags(article, sources, hints.tags,
                                                    list(site_tags))) if t),
        category=plain(choose_category(article, list(categories), default_category)),
        excerpt=plain(make_excerpt(article)),
        outline=tuple(plain(h) for h in article.outline),
    )


# --- keyphrase ------------------------------------------------------------------------------

_SURFACE_WORD = re.compile(r"[^\W_]+(?:[-’'][^\W_]+)*")
_CLAUSE_BREAK = re.compile(r"[,.;:!?…«»\"“”()\[\]/|]|\s[-–—]\s|[–—]")
_ELIDED = re.compile(r"^(l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)(['’])(.+)$",
                     re.IGNORECASE)


@dataclass(frozen=True)
class _Unit:
    surface: str
    glue: str          # what joins it to the previous unit: "" after an elision, " " otherwise
    stop: bool


def _units(chunk: str) -> list[_Unit]:
    units: list[_Unit] = []
    glue = " "
    for match in _SURFACE_WORD.finditer(chunk):
        word = match.group()
        elided = _ELIDED.match(word)
        if elided:
            units.append(_Unit(elided.group(1) + elided.group(2), glue, True))
            word, glue = elided.group(3), ""
        units.append(_Unit(word, glue, french.is_stop(word) or word.isdigit()))
        glue = " "
    return units


def _ngrams(source: str) -> Iterable[str]:
    """Phrases of 2–4 words that neither start nor end with a stop word, never crossing
    punctuation, spelled as in ``source``."""
    low, high = KEYPHRASE_WORDS
    for chunk in _CLAUSE_BREAK.split(source):
        units = _units(chunk)
        for i, first in enumerate(units):
            if first.stop:
                continue
            words = 1
            for j in range(i + 1, len(units)):
                words += units[j].glue == " "
                if words > high:
                    break
                if not units[j].stop and words >= low:
                    yield first.surface + "".join(u.glue + u.surface for u in units[i + 1:j + 1])


def keyphrase_candidates(article: Article) -> list[str]:
    """Distinct candidate phrases from the title, the introduction and the subheadings."""
    return list(_candidates(article))


@per_version
def _candidates(article: Article) -> tuple[str, ...]:
    sources = [article.title, *(text.block_text(b) for b in article.intro),
               *measure(article).headings]
    seen: dict[tuple[str, ...], str] = {}
    for source in sources:
        for phrase in _ngrams(source):
            seen.setdefault(french.token_tuple(phrase), phrase)
    return tuple(seen.values())


def keyphrase_score(article: Article, phrase: str) -> tuple:
    """How well ``phrase`` serves the Yoast checks, best first when sorted descending:
    (checks it lets pass, reads as a noun phrase, found in a subheading, occurrences, in the
    title, prefers 2–3 words). (-1,) when it is not in the text."""
    measured = measure(article)
    occurrences = french.phrase_count(measured.body_tokens, phrase)
    if not occurrences:
        return (-1,)
    words = max(1, measured.body_words)
    density = 100 * text.keyphrase_matches(measured.body, phrase) / words
    hits, heads = text.heading_share(article, phrase)
    share = hits / heads if heads else 0.0
    satisfied = sum((
        text.intro_match(article, phrase) == "sentence",
        0.3 <= share <= 0.75 or (heads == 1 and hits == 1),
        0.5 <= density <= 3.0,
        _fits_a_description(article, phrase),
    ))
    size = len(phrase.split())
    return (satisfied, _noun_like(phrase), hits > 0, min(occurrences, 12),
            french.contains_phrase(article.title, phrase), -abs(size - 2.5))


_VERB_LIKE = re.compile(r"(er|ir|é|ée|és|ées|ait|aient|[^m]ent)$")


def _noun_like(phrase: str) -> bool:
    """Neither edge word looks like a verb (« faut retenir », « OTAN d’envoyer » read badly
    as a keyphrase); capitalised words are names."""
    edges = {phrase.split()[0], re.split(r"['’]", phrase.split()[-1])[-1]}
    return not any(w[:1].islower() and len(w) > 4 and _VERB_LIKE.search(w.lower())
                   for w in edges)


def _valid_keyphrase(phrase: str) -> bool:
    low, high = KEYPHRASE_WORDS
    words = phrase.split()
    return (low <= len(words) <= high and not french.is_stop(words[0])
            and not french.is_stop(words[-1]))


def choose_keyphrase(article: Article, suggestion: str = "") -> str:
    """The LLM's suggestion when it is 2–4 words, present verbatim in the text and serves the
    checks at least as well as our best candidate; otherwise the best extracted candidate."""
    body = measure(article).body
    best_score, best = _best_candidate(article)
    suggestion = re.sub(r"\s+", " ", suggestion or "").strip(" .,;:«»\"'")
    if suggestion and _valid_keyphrase(suggestion):
        mine = keyphrase_score(article, suggestion)
        if mine[0] >= 0 and mine[:1] >= best_score[:1]:
            return _surface_form(suggestion, body)
    return _surface_form(best, body) if best else ""


def _fits_a_description(article: Article, phrase: str) -> bool:
    """Some run of whole sentences could be the meta description with ``phrase`` in it
    (``description_ok``). A run without every content word of the phrase cannot match, so
    only the runs holding them all are counted."""
    wanted = frozenset(french.content_words(phrase))
    return any(wanted <= words and 1 <= text.keyphrase_matches(w, phrase) <= 2
               for w, words in _description_windows(article))


@per_version
def _best_candidate(article: Article) -> tuple[tuple, str]:
    """(score, phrase) of the best extracted candidate, ((-1,), "") when none is in the text.
    Per article: the keyphrase is chosen, then checked again after each fix of the same text."""
    pool = sorted(_candidates(article))
    fragments = _fragments(pool, measure(article).body_tokens)
    scored = sorted(((_with_fragment(keyphrase_score(article, p), p in fragments), p)
                     for p in pool), key=lambda sp: sp[0], reverse=True)
    return scored[0] if scored and scored[0][0][0] >= 0 else ((-1,), "")


def _fragments(pool: list[str], body_tokens: Sequence[str]) -> set[str]:
    """Candidates that only ever occur inside a longer candidate (« général de l’OTAN »
    inside « secrétaire général de l’OTAN »): the longer one names the thing."""
    toks = {p: french.token_tuple(p) for p in pool}
    counts = {p: french.phrase_count(body_tokens, p) for p in pool}
    # Tokens hold no space, so a run of tokens inside another is a substring between spaces.
    same_count: dict[int, list[tuple[int, str]]] = {}
    for q, qt in toks.items():
        same_count.setdefault(counts[q], []).append((len(qt), f" {' '.join(qt)} "))
    out = set()
    for p, pt in toks.items():
        if not counts[p]:
            continue
        run = f" {' '.join(pt)} "
        if any(size > len(pt) and run in joined for size, joined in same_count[counts[p]]):
            out.add(p)
    return out


def _with_fragment(score: tuple, fragment: bool) -> tuple:
    """Slot « not a fragment » in after (checks satisfied, noun-like)."""
    return score if score[0] < 0 else (*score[:2], not fragment, *score[2:])


def _surface_form(phrase: str, body: str) -> str:
    """The phrase as the article spells it most often (« OTAN », not « Otan »)."""
    wanted = french.token_tuple(phrase)
    forms: dict[str, int] = {}
    for paragraph in body.split("\n\n"):
        for form, n in _spellings(paragraph).get(wanted, {}).items():
            forms[form] = forms.get(form, 0) + n
    if not forms:
        return phrase
    return max(sorted(forms), key=lambda f: (forms[f], f[:1].islower()))


@lru_cache(maxsize=256)
def _spellings(paragraph: str) -> dict[tuple[str, ...], dict[str, int]]:
    """Every 2–4-word phrase of one paragraph by its tokens: {spelling: occurrences}. Per
    paragraph, since the passes before and after a fix share most of them. Shared: read only."""
    out: dict[tuple[str, ...], dict[str, int]] = {}
    for candidate in _ngrams(paragraph):
        forms = out.setdefault(french.token_tuple(candidate), {})
        forms[candidate] = forms.get(candidate, 0) + 1
    return out


# --- meta title -----------------------------------------------------------------------------

_SEPARATORS = (" : ", " – ", " — ", " | ", " - ", ", ", " ; ")
def fits_title(candidate: str) -> bool:
    return (0 < len(candidate) <= TITLE_MAX_CHARS
            and title_width_px(candidate) <= TITLE_MAX_PX)


def _nested_ok(value: str, opening: str, closing: str) -> bool:
    depth = 0
    for char in _marks(opening, closing).findall(value):     # the marks only, found in C
        depth += (char == opening) - (char == closing)
        if depth < 0:
            return False
    return depth == 0


@lru_cache(maxsize=16)
def _marks(opening: str, closing: str) -> re.Pattern:
    return re.compile(f"[{re.escape(opening + closing)}]" if opening + closing else "(?!)")


def _tidy_end(candidate: str) -> str:
    """Drop unbalanced quotes or brackets, a dangling separator, stop word or elided article
    at the end, until nothing changes."""
    previous = None
    while previous != candidate:
        previous = candidate
        if not _nested_ok(candidate, "«", "»"):
            candidate = re.sub(r"\s*[«»]\s*", " ", candidate).strip()
        if not _nested_ok(candidate, "(", ")"):
            candidate = re.sub(r"\s*[()]\s*", " ", candidate).strip()
        candidate = candidate.rstrip(" ,;:–—|-/«([“")
        words = candidate.split(" ")
        if len(words) > 1 and (french.is_stop(words[-1]) or words[-1][-1:] in "'’"):
            candidate = " ".join(words[:-1])
    return candidate


def shorten_title(candidate: str) -> str:
    """Fit a title: cut at the last clause separator that leaves ≥ 25 characters, else at the
    last whole word; never inside a word."""
    candidate = _tidy_end(re.sub(r"\s+", " ", candidate).strip())
    if fits_title(candidate):
        return candidate
    for sep in _SEPARATORS:
        parts = candidate.split(sep)
        for k in range(len(parts) - 1, 0, -1):
            head = _tidy_end(sep.join(parts[:k]))
            if len(head) >= 25 and fits_title(head):
                return head
    words, kept = candidate.split(" "), ""
    for word in words:
        trial = f"{kept} {word}".strip()
        if not fits_title(trial):
            break
        kept = trial
    return _tidy_end(kept)


def _capitalize(value: str) -> str:
    return value[:1].upper() + value[1:] if value else value


def _title_candidates(article: Article, keyphrase: str) -> list[tuple[str, bool]]:
    """(candidate, had to be shortened): the article's title, the suggested SEO title, and
    each of them led by the keyphrase (« Kp : rest », the rest never repeating a head part
    before its own « : »)."""
    bases = [re.sub(r"\s+", " ", b).strip() for b in
             (article.title, article.suggestions.meta_title) if b.strip()]
    raw = list(bases)
    for base in bases:
        if text.starts_with(base, keyphrase):
            continue
        rest = _without_phrase(base, keyphrase) if french.contains_phrase(base, keyphrase) \
            else base
        head, sep, tail = rest.partition(" : ")
        if sep and not french.contains_phrase(head, keyphrase) and count_words(tail) >= 3:
            rest = tail
        raw.append(f"{_capitalize(keyphrase)} : {rest}")
    out = []
    for candidate in raw:
        short = _capitalize(shorten_title(candidate.rstrip(" .…")))
        out.append((short, short != _capitalize(candidate.rstrip(" .…"))))
    return out


def _without_phrase(base: str, keyphrase: str) -> str:
    """``base`` minus its (first) occurrence of the keyphrase and the words gluing it in, so
    « Kp : … Kp … » never repeats itself; the base itself when that would break it."""
    pattern = r"\W+".join(re.escape(w) for w in re.findall(r"[^\W_]+", keyphrase))
    match = re.search(pattern, french.normalize_spaces(base), re.IGNORECASE)
    if not match:
        return base
    before, after = base[:match.start()].strip(), base[match.end():].strip(" ,:;–—-")
    if before.endswith((",", ":", "–", "—")) or not before:
        return _capitalize(after) if count_words(after) >= 3 else base
    return base


def meta_title(article: Article, keyphrase: str) -> str:
    """The SEO title: the best candidate that fits (60 characters, 600 px) and holds the
    keyphrase; keyphrase-first candidates first, then those that fit without cutting, then the
    article's own title, then the longest."""
    candidates = dict(reversed(_title_candidates(article, keyphrase)))
    good = [c for c in candidates if c and fits_title(c) and french.contains_phrase(c, keyphrase)]
    pool = good or [c for c in candidates if c] or [_capitalize(keyphrase)]
    return max(pool, key=lambda c: (text.starts_with(c, keyphrase), not candidates.get(c, True),
                                    c == article.title.strip(), len(c), c))


# --- meta description -----------------------------------------------------------------------

_ENDS_SENTENCE = re.compile(r"[.!?]\s*[»”\")]?$")


def _balanced(value: str) -> bool:
    return _nested_ok(value, "«", "»") and _nested_ok(value, "(", ")") \
        and value.count('"') % 2 == 0


def description_ok(value: str, keyphrase: str | None, low: int = DESC_MIN) -> bool:
    """Length in range, whole sentences, balanced quotes, and (unless ``keyphrase`` is None)
    the keyphrase once or twice as Yoast counts it."""
    if not (low <= len(value) <= DESC_MAX and _well_formed(value)):
        return False
    return keyphrase is None or 1 <= text.keyphrase_matches(value, keyphrase) <= 2


@lru_cache(maxsize=2048)
def _well_formed(value: str) -> bool:
    """Ends a sentence, quotes and brackets balanced (the length aside)."""
    return bool(_ENDS_SENTENCE.search(value)) and _balanced(value)


@per_version
def _windows(article: Article) -> tuple[str, ...]:
    """Runs of 1–3 consecutive whole sentences, in reading order (per article: keyphrase
    scoring asks once per candidate)."""
    sentences = measure(article).sentences
    return tuple(dict.fromkeys(" ".join(sentences[i:j]) for i in range(len(sentences))
                               for j in range(i + 1, min(i + 4, len(sentences) + 1))))


@per_version
def _description_windows(article: Article) -> tuple[tuple[str, frozenset[str]], ...]:
    """(window, its words) for the windows a meta description could be, the keyphrase aside
    (``description_ok``)."""
    return tuple((w, frozenset(french.token_tuple(w))) for w in _windows(article)
                 if description_ok(w, None))


def meta_description(article: Article, keyphrase: str, suggestion: str = "") -> str:
    """Whole sentences: the suggestion when it passes; else the article's first run of 1–3
    sentences holding the keyphrase in 120–156 characters (100+ if nothing longer fits); else
    a run without it; as a last resort the introduction cut at a word, closed with « … »."""
    suggestion = re.sub(r"\s+", " ", suggestion or "").strip()
    if description_ok(suggestion, keyphrase):
        return suggestion
    windows = _windows(article)
    for low, phrase in ((DESC_MIN, keyphrase), (100, keyphrase), (DESC_MIN, None)):
        fitting = [w for w in windows if description_ok(w, phrase, low)]
        if fitting:
            return min(fitting, key=lambda w: ("«" in w or '"' in w, windows.index(w)))
    first = measure(article).introduction or article.title
    return _cut_words(first, DESC_MAX - 1) + "…"


def _cut_words(value: str, limit: int) -> str:
    if len(value) <= limit:
        return value.rstrip(" .")
    head = value[:limit + 1].rsplit(" ", 1)[0]
    return _tidy_end(head)


# --- slug -----------------------------------------------------------------------------------

_SLUG_STOP = sorted(french.STOP_WORDS)


def _slug_words(value: str) -> list[str]:
    value = re.sub(r"(\d)[,.](\d)", r"\1-\2", french.normalize_spaces(value))
    value = re.sub(r"(?i)\b(aujourd|prud|presqu)'(h|i)", r"\1\2", value)   # not elisions
    words = slugify(value, stopwords=_SLUG_STOP).split("-")
    return [w for w in words if w and (len(w) > 1 or w.isdigit())]


def make_slug(keyphrase: str, title: str) -> str:
    """ASCII, lowercase, French stop words dropped, keyphrase words first then the title's
    other words, each once, cut at a whole word under 60 characters."""
    words = list(dict.fromkeys(_slug_words(keyphrase) + _slug_words(title)))
    slug = ""
    for word in words:
        trial = f"{slug}-{word}" if slug else word
        if len(trial) > SLUG_MAX:
            break
        slug = trial
    return slug or slugify(title)[:SLUG_MAX].strip("-")


# --- excerpt --------------------------------------------------------------------------------

def make_excerpt(article: Article) -> str:
    """Whole sentences of the introduction up to 55 words; a first sentence longer than that
    is cut at a word and ends with « … »."""
    sentences = [s for p in (text.block_text(b) for b in article.intro)
                 for s in french.split_sentences(p)]
    kept: list[str] = []
    for sentence in sentences:
        if count_words(" ".join([*kept, sentence])) > EXCERPT_MAX_WORDS:
            break
        kept.append(sentence)
    if kept:
        return " ".join(kept)
    first = sentences[0] if sentences else article.title
    words = first.split()
    return " ".join(words[:EXCERPT_MAX_WORDS - 1]).rstrip(" ,;:") + "…" \
        if len(words) >= EXCERPT_MAX_WORDS else first
