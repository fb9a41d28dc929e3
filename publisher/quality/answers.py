"""Answers that are not (only) an article, and what code can do about them.

Weak and small models answer the JSON schema with something else in its fields:

- **their own instructions** (a title « POUR CHAQUE ÉLÉMENT SIGNALÉ », a paragraph « MISSION :
  rédige… », « Réponds avec l'objet JSON … »). A sentence, heading or field is an echo when
  most of its word n-grams (6 words, fewer for a short piece) are n-grams of publisher's own
  prompts (``publisher/writer/prompts/*.txt``, placeholders and numbers read as wildcards), or
  when it is one of the prompts' capitalised labels (CONTRAINTES, CONSIGNES…) or starts with
  one followed by a colon. Echoed sentences, headings and fields are dropped; an echoed title,
  or a body that was mostly echo, cannot be repaired (``echo_share``);
- **escape sequences written out** (``\\n\\n``, ``\\"``, ``\\u00e9`` as text): a literal
  ``\\n\\n`` is a paragraph break, other escapes are the character they stand for;
- **JSON left in the text** (a paragraph that is a fragment of the answer's own object):
  dropped;
- **names and addresses absent from the sources** in the SEO suggestions (keyphrase, meta
  title and description, tags) and the title: an invented tag is dropped, an invented
  suggestion cleared (the SEO stage then builds its own from the article), an invented URL
  removed; a title naming what no source names is flagged for the editor.

Everything here is deterministic and costs a few milliseconds per article: the prompts'
n-grams are built once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Iterable, Sequence

from ..models import Article, Block, Section, Source, Suggestions
from ..measure import per_version
from ..words import count_words, visible
from .structure import fingerprint

CONCLUSION_HEADING = "Ce qu'il faut retenir"     # the writer's default (writer/write.py)
NGRAM = 6                # words per n-gram compared with the prompts
MIN_NGRAM = 4            # a piece of fewer words is compared with the prompts' labels only
ECHO_SHARE = 0.5         # a piece whose n-grams are this much prompt text is an echo…
COVERED_SHARE = 0.75     # …or whose words lie this much in 4-word runs of the prompts
MIN_KEPT_WORDS = 3       # what is left of a paragraph after its echoed sentences are dropped

# --- the prompts' text -----------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\$\{?\w+\}?|\{\w+\}")
_UPPER_RUN = re.compile(r"[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’]+(?:\s+[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’]*)*")
_WILD = "#"              # a placeholder or a number: matches any number


def _words(text: str) -> list[str]:
    """Folded words, numbers and placeholders as one wildcard."""
    return [_WILD if w.isdigit() else w for w in fingerprint(text).split()]


def prompt_texts() -> tuple[str, ...]:
    """Every prompt publisher sends, as written in ``writer/prompts``."""
    folder = resources.files("publisher.writer").joinpath("prompts")
    return tuple(entry.read_text("utf-8") for entry in sorted(folder.iterdir(),
                                                              key=lambda e: e.name)
                 if entry.name.endswith(".txt"))


_INDEX: tuple | None = None


def _prompt_index() -> tuple[dict[int, frozenset[tuple[str, ...]]], frozenset[str]]:
    """The prompts' n-grams and labels, built once per process (the prompts ship with the
    package: nothing about the articles seen)."""
    global _INDEX
    if _INDEX is None:
        _INDEX = _build_index()         # built whole, then assigned: thread-safe
    return _INDEX


def _build_index() -> tuple[dict[int, frozenset[tuple[str, ...]]], frozenset[str]]:
    """The prompts' n-grams (for n = MIN_NGRAM … NGRAM) and their capitalised labels."""
    grams: dict[int, set[tuple[str, ...]]] = {n: set() for n in range(MIN_NGRAM, NGRAM + 1)}
    labels: set[str] = set()
    for text in prompt_texts():
        for line in text.splitlines():
            words = _words(_PLACEHOLDER.sub(" 0 ", line))
            for n in grams:
                grams[n].update(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
            for run in _UPPER_RUN.findall(_PLACEHOLDER.sub(" ", line)):
                if len(run) >= 4:
                    labels.add(fingerprint(run))
    return {n: frozenset(g) for n, g in grams.items()}, frozenset(labels)


def _is_label(piece: str) -> bool:
    """A prompt label on its own (« CONTRAINTES », « Pour chaque élément signalé ») or at the
    head of the piece followed by a colon (« MISSION : rédige… »)."""
    _, labels = _prompt_index()
    text = piece.strip().strip(":—–-").strip()
    key = fingerprint(text)
    if key in labels and (" " in key or text.isupper()):
        return True
    head, colon, _ = piece.partition(":")
    head = head.strip()
    return bool(colon) and head.isupper() and fingerprint(head) in labels


@lru_cache(maxsize=4096)
def is_echo(piece: str) -> bool:
    """Is this sentence, heading or field publisher's own prompt text? Either most of its
    6-word runs are runs of the prompts, or most of its words lie in 4-word runs of the
    prompts (a model stitching two instructions together)."""
    if not piece or not piece.strip():
        return False
    if _is_label(piece):
        return True
    words = _words(piece)
    if len(words) < MIN_NGRAM:
        return False
    grams, _ = _prompt_index()
    n = min(NGRAM, len(words))
    runs = len(words) - n + 1
    if sum(tuple(words[i:i + n]) in grams[n] for i in range(runs)) >= ECHO_SHARE * runs:
        return True
    covered = [False] * len(words)
    known = grams[MIN_NGRAM]
    for i in range(len(words) - MIN_NGRAM + 1):
        if tuple(words[i:i + MIN_NGRAM]) in known:
            covered[i:i + MIN_NGRAM] = [True] * MIN_NGRAM
    return sum(covered) >= COVERED_SHARE * len(words)


# --- sentences ---------------------------------------------------------------------------------

_UNITS = re.compile(r"\n+|(?<=[.!?…»])\s+(?=[«\"“A-ZÀ-ÖØ-Þ0-9-])")


def _units(text: str) -> list[str]:
    """Lines, then sentences: the pieces an echo is dropped by."""
    return [u for u in _UNITS.split(text) if u and u.strip()]


# --- escape sequences written as text -------------------------------------------------------

_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}(?:\\u[0-9a-fA-F]{4})?|[nrt\"'/\\])")
_BREAK = re.compile(r"\s*(?:\\r)?\\n\s*(?:\\r)?\\n\s*")       # a paragraph break, written out


def has_escapes(text: str) -> bool:
    return "\\" in text and bool(_ESCAPE.search(text))


def _unescape_one(match: re.Match) -> str:
    seq = match.group(0)
    if seq[1] == "u":
        codes = [int(part, 16) for part in re.findall(r"[0-9a-fA-F]{4}", seq)]
        raw = b"".join(c.to_bytes(2, "big") for c in codes)
        return raw.decode("utf-16-be", errors="replace")
    return {"n": " ", "r": " ", "t": " "}.get(seq[1], seq[1])


def unescape(text: str) -> str:
    """Escapes as the characters they stand for; a written-out line break is a space."""
    if not has_escapes(text):
        return text
    return re.sub(r"[ \t]{2,}", " ", _ESCAPE.sub(_unescape_one, text)).strip()


def _split_escaped(text: str) -> list[str]:
    """A paragraph whose text holds written-out blank lines is several paragraphs."""
    if not has_escapes(text):
        return [text]
    return [p for p in (unescape(part) for part in _BREAK.split(text)) if p]


# --- the article, piece by piece --------------------------------------------------------------

_JSON = re.compile(r'^\s*[\[{]|"\w+"\s*:\s*[\["{]|^\s*"?(?:heading|paragraphs|bullets|title|'
                   r'introduction|sections|conclusion|keyphrase|meta_title|meta_description|'
                   r'tags|quote|cite|level)"?\s*:', re.I)


def looks_like_json(text: str) -> bool:
    """A fragment of the answer's JSON object left as text."""
    return bool(_JSON.search(text)) and text.count('"') >= 2


@dataclass
class _Tally:
    """What one pass is doing (mutable while it runs)."""

    escapes: int = 0
    echoed_words: int = 0
    echoed_pieces: list[str] = field(default_factory=list)
    echoed_headings: int = 0
    json_words: int = 0
    cleared: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Cleanup:
    """What one pass did, for the report."""

    escapes: int = 0                   # texts whose escape sequences were fixed
    echoed_words: int = 0              # words of prompt text dropped from the body
    echoed_pieces: tuple[str, ...] = ()                # excerpts, for the report
    echoed_headings: int = 0
    json_words: int = 0                # words of JSON residue dropped from the body
    title_echo: bool = False
    cleared: tuple[str, ...] = ()      # French notes on the suggestions cleared

    @property
    def changed(self) -> bool:
        return bool(self.escapes or self.echoed_words or self.echoed_headings
                    or self.json_words or self.cleared)


@lru_cache(maxsize=2048)        # the same paragraphs come back before and after each repair
def _echoed_units(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(units, the echoed ones) of a paragraph, list item or quotation."""
    units = tuple(_units(text))
    return units, tuple(u for u in units if is_echo(visible(u)))


def _clean_text(text: str, run: _Tally) -> str:
    """A paragraph, list item or quotation without its echoed sentences or JSON residue."""
    if looks_like_json(text):
        run.json_words += count_words(text)
        return ""
    units, echoed = _echoed_units(text)
    if not echoed:
        return text
    run.echoed_words += sum(count_words(u) for u in echoed)
    run.echoed_pieces += [" ".join(visible(u).split()[:8]) for u in echoed]
    kept = " ".join(u.strip() for u in units if u not in echoed)
    if count_words(kept) < MIN_KEPT_WORDS:
        run.echoed_words += count_words(kept)
        return ""
    return kept


def _block(block: Block, run: _Tally) -> list[Block]:
    pieces = [block.text, *block.items, block.cite]
    if any(has_escapes(p) for p in pieces if p):
        run.escapes += 1
        if block.kind == "paragraph":
            return [b for part in _split_escaped(block.text)
                    for b in _block(Block("paragraph", part), run)]
        block = replace(block, text=unescape(block.text),
                        items=tuple(unescape(i) for i in block.items), cite=unescape(block.cite))
    if block.kind == "list":
        items = tuple(i for i in (_clean_text(i, run) for i in block.items) if i)
        return [replace(block, items=items)] if items else []
    text = _clean_text(block.text, run)
    return [replace(block, text=text)] if text else []


def _blocks(blocks: Iterable[Block], run: _Tally) -> tuple[Block, ...]:
    return tuple(b for block in blocks for b in _block(block, run))


def _plain(text: str, run: _Tally) -> str:
    if has_escapes(text):
        run.escapes += 1
        return " ".join(unescape(text).split())
    return text


@per_version                    # the gate cleans the same answer when it checks it again
def clean_answer(article: Article) -> tuple[Article, Cleanup]:
    """The article without escape sequences written as text, prompt echoes and JSON residue,
    and what was done. An echoed heading goes, its paragraphs join the section before (the
    introduction for the first one); an echoed conclusion heading becomes the default one."""
    run = _Tally()
    title = _plain(article.title, run)
    intro = list(_blocks(article.intro, run))
    sections: list[Section] = []
    for section in article.sections:
        heading = _plain(section.heading, run)
        blocks = _blocks(section.blocks, run)
        if is_echo(heading):
            run.echoed_headings += 1
            if sections:
                sections[-1] = replace(sections[-1], blocks=sections[-1].blocks + blocks)
            else:
                intro += blocks
            continue
        sections.append(replace(section, heading=heading, blocks=blocks))
    heading = _plain(article.conclusion.heading, run)
    if is_echo(heading):
        run.echoed_headings += 1
        heading = CONCLUSION_HEADING
    conclusion = replace(article.conclusion, heading=heading,
                         blocks=_blocks(article.conclusion.blocks, run))
    suggestions = _suggestions(article.suggestions, run)
    done = Cleanup(run.escapes, run.echoed_words, tuple(run.echoed_pieces),
                   run.echoed_headings, run.json_words, is_echo(title), tuple(run.cleared))
    if not done.changed:
        return article, done
    return Article(title, tuple(intro), tuple(sections), conclusion, suggestions), done


def _suggestions(hints: Suggestions, run: _Tally) -> Suggestions:
    fields = {}
    for name in ("keyphrase", "meta_title", "meta_description"):
        value = _plain(getattr(hints, name), run)
        if is_echo(value):
            run.cleared.append(f"{_FIELD_NAMES[name]} recopié(e) des consignes, effacé(e)")
            value = ""
        fields[name] = value
    tags = []
    for tag in hints.tags:
        tag = _plain(tag, run)
        if is_echo(tag):
            run.cleared.append(f"Étiquette « {tag} » recopiée des consignes, retirée")
        elif tag:
            tags.append(tag)
    return Suggestions(tags=tuple(tags), **fields)


def body_words(article: Article) -> int:
    """Words of the body blocks (headings and title left out)."""
    blocks = [*article.intro, *(b for s in article.all_sections for b in s.blocks)]
    return sum(count_words(b.visible_text) for b in blocks)


def echo_share(before: Article, run: Cleanup) -> float:
    """Share of the answer's body that was prompt text."""
    total = body_words(before)
    return run.echoed_words / total if total else 0.0


def json_share(before: Article, run: Cleanup) -> float:
    """Share of the answer's body that was JSON residue."""
    total = body_words(before)
    return run.json_words / total if total else 0.0


# --- names and addresses the sources do not have ---------------------------------------------

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"«»]+|\b[a-z0-9][\w-]*(?:\.[\w-]+)*\."
                  r"(?:com|org|net|fr|io|info|eu|be|ch|ca|uk|de|news|tv|co|gov|int|ai)"
                  r"(?:/[^\s<>\"«»]*)?(?![\w.])")
_NAME_WORD = re.compile(r"[^\W\d_][\w’'-]*")
_ELISION = re.compile(r"^(?:l|d|qu|j|n|s|c|m|t)['’]", re.I)
_CONNECTORS = frozenset("de du des la le d l von van der al el bin et".split())
# Names written differently in the sources' language: either spelling is the same name.
_ALIASES = {"otan": "nato", "nato": "otan", "onu": "un", "ue": "eu", "eu": "ue",
            "kiev": "kyiv", "kyiv": "kiev", "kiyv": "kiev", "kyiiv": "kiev",
            "moscou": "moscow", "moscow": "moscou", "washington": "washington",
            "bruxelles": "brussels", "brussels": "bruxelles", "londres": "london",
            "london": "londres", "pekin": "beijing", "beijing": "pekin"}


@lru_cache(maxsize=64)
def _vocabulary(texts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w for t in texts for w in fingerprint(t).split())


def _source_texts(sources: Sequence[Source]) -> tuple[str, ...]:
    return tuple(t for s in sources for t in (s.text, s.title, s.site_name, s.author, s.url,
                                              s.origin) if t)


def _known(word: str, vocabulary: frozenset[str]) -> bool:
    """Every part of ``word`` (« États-Unis »: etats, unis) is a word of the sources."""
    return all(_known_part(part, vocabulary)
               for part in fingerprint(_ELISION.sub("", word)).split())


def _known_part(key: str, vocabulary: frozenset[str]) -> bool:
    if key in vocabulary or _ALIASES.get(key) in vocabulary:
        return True
    if len(key) < 5:
        return False
    # Transliterations and inflections: Zelensky / Zelenskyy / Zelenski, Russie / Russia.
    return any(abs(len(w) - len(key)) <= 2 and w[:3] == key[:3] and _close(key, w)
               for w in vocabulary)


def _close(a: str, b: str) -> bool:
    """One edit apart, or one is the other with up to two more letters at the end."""
    if a.startswith(b) or b.startswith(a):
        return True
    if len(a) != len(b) and abs(len(a) - len(b)) != 1:
        return False
    short, long_ = sorted((a, b), key=len)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i + (len(short) == len(long_)):] == long_[i + 1:]


def names(text: str, *, whole: bool = False) -> list[str]:
    """Capitalised names in ``text``: runs of capitalised words (with de, du, von… inside) and
    acronyms. A lone capitalised word opening a sentence is a name only in a tag or keyphrase
    (``whole``), where there is no sentence."""
    found: list[str] = []
    run: list[str] = []
    start = True

    def flush() -> None:
        while run and run[-1].casefold() in _CONNECTORS:
            run.pop()
        if run and (len(run) > 1 or whole or not run_start or _acronym(run[0])):
            found.append(" ".join(run))
        run.clear()

    run_start = True
    for match in re.finditer(r"[^\W\d_][\w’'-]*|[.!?:;«»\"“”()|—–]", text):
        word = match.group(0)
        if not word[0].isalpha():
            flush()
            start = word in ".!?:«\"“|—–"
            continue
        bare = _ELISION.sub("", word)
        if bare[:1].isupper():
            if not run:
                run_start = start
            run.append(word)
        elif run and word.casefold() in _CONNECTORS:
            run.append(word)
        else:
            flush()
        start = False
    flush()
    return found


def _acronym(word: str) -> bool:
    bare = _ELISION.sub("", word)
    return len(bare) >= 2 and bare.isupper()


def invented_names(text: str, sources: Sequence[Source], *, whole: bool = False) -> list[str]:
    """Names in ``text`` one of whose words no source has (aliases and spelling variants
    allowed)."""
    vocabulary = _vocabulary(_source_texts(sources))
    return [n for n in names(text, whole=whole)
            if not all(_known(w, vocabulary) for w in n.split()
                       if w.casefold() not in _CONNECTORS)]


def invented_urls(text: str, sources: Sequence[Source]) -> list[str]:
    """Web addresses in ``text`` that no source gives (the host at least must be there)."""
    known = " ".join(_source_texts(sources)).casefold()
    found = []
    for url in _URL.findall(text):
        host = re.sub(r"(?i)^(?:https?://)?(?:www\.)?", "", url).split("/")[0].casefold()
        if host.rstrip(".") not in known:
            found.append(url.rstrip(".,;:"))
    return found


_FIELD_NAMES = {"keyphrase": "Expression clé proposée", "meta_title": "Méta-titre proposé",
                "meta_description": "Méta-description proposée"}


@dataclass
class Invented:
    """What the SEO suggestions and the title claim that no source has."""

    notes: list[str] = field(default_factory=list)      # repairs done, French
    title: list[str] = field(default_factory=list)      # names and URLs left in the title


def check_suggestions(article: Article, sources: Sequence[Source]) -> tuple[Article, Invented]:
    """Drop invented tags, clear invented suggestions, remove invented URLs (title included);
    the names a title invents are returned for a warning (a title is not rebuilt in code)."""
    found = Invented()
    if not sources:
        return article, found
    hints = article.suggestions
    fields = {}
    for name in ("keyphrase", "meta_title", "meta_description"):
        value = getattr(hints, name)
        urls = invented_urls(value, sources)
        for url in urls:
            value = " ".join(value.replace(url, " ").split()).strip(" -–—:|,")
        if urls:
            found.notes.append(f"{_FIELD_NAMES[name]} : adresse absente des sources retirée "
                               f"({', '.join(urls)})")
        bad = invented_names(value, sources, whole=name == "keyphrase")
        if bad:
            found.notes.append(f"{_FIELD_NAMES[name]} effacé(e) : « {', '.join(bad)} » "
                               "absent des sources (reconstruit(e) à partir de l'article)")
            value = ""
        fields[name] = value
    tags = []
    for tag in hints.tags:
        bad = invented_urls(tag, sources) or invented_names(tag, sources, whole=True)
        if bad:
            found.notes.append(f"Étiquette « {tag} » retirée : absente des sources")
        else:
            tags.append(tag)
    title = article.title
    for url in invented_urls(title, sources):
        title = " ".join(title.replace(url, " ").split()).strip(" -–—:|,")
        found.notes.append(f"Adresse absente des sources retirée du titre ({url})")
    found.title = invented_names(title, sources)
    new = Suggestions(tags=tuple(tags), **fields)
    if new == hints and title == article.title:
        return article, found
    return replace(article, title=title, suggestions=new), found
