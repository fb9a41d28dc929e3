"""Is the article French, paragraph by paragraph, and is it free of Markdown?

Language is detected, never assumed: a model handed an English source, or a long English
quote, sometimes answers in English, or leaves a paragraph in English after a rewrite. Each
paragraph long enough to judge (``MIN_WORDS`` words) is given a language:

1. Stop words (the short grammatical words that make up ~40 % of any running text) from nine
   lists decide the clear cases at no cost: a paragraph whose best language holds at least
   ``CLEAR_RATIO`` of its words and ``CLEAR_MARGIN`` times the next one's share. Words shared
   by two languages ("de", "la", "en" in French, Spanish and Catalan) count for both, the
   distinctive ones decide. On news prose this settles every paragraph of the fixtures.
2. Anything less clear (Catalan next to French, Portuguese next to Spanish, a paragraph
   half in a quoted language) goes to py3langid (a naive Bayes byte n-gram model, no network)
   restricted to ``LANGUAGES``. Its model takes ~0.7 s of CPU to load, so it is imported and
   loaded only when a paragraph needs it, once per process.

An article is French when its whole text is and no judged paragraph is in another language.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache

from ..models import Article, Block, Section
from ..measure import per_version
from ..words import count_words, visible

STOP_WORDS = {
    "fr": set("""le la les un une des du de d l et est sont a ont été être au aux ce cette ces
        qui que qu dans pour par sur avec sans pas ne n plus se s il elle ils elles nous vous
        leur leurs son sa ses mais ou où comme c j y en lors selon aussi très tout tous depuis
        entre après avant alors dont été avait était sera déjà à cet nos notre votre vos afin
        si ni donc car encore puis chez vers sous contre ceux celle celui lui eux on""".split()),
    "en": set("""the of and to in is are was were be been has have had that this these those
        for on with as by at from it its which who whom their they he she we will would said
        not but or a an there than also after before into over about more most can could""".split()),
    "es": set("""el la los las un una unos de del y en que es son fue por para con sin no se
        su sus al lo como pero más muy ha han había este esta estos también según sobre entre
        desde hasta cuando donde ya le les""".split()),
    "de": set("""der die das den dem des ein eine einen einem und ist sind war waren nicht mit
        zu von auf für sich im es auch als wird wurde hat haben bei nach aus über noch wie
        dass oder aber nur vor um seine ihre""".split()),
    "it": set("""il lo la i gli le un uno una di del dello della dei degli delle dell a al alla
        ai agli alle all da dal dalla dai in nel nella nei negli nelle nell su sul sulla con per
        tra fra e è che non si ha hanno sono era anche come ma più questo questa essere stato
        stata loro suo sua suoi sue ci ne l d se o ed dopo quando secondo""".split()),
    "pt": set("""o a os as um uma uns umas de do da dos das em no na nos nas por pelo pela para
        com sem e é que não se ao aos à às seu sua seus suas mais como mas foi ser está estão
        também sobre entre ele ela eles já quando onde este esta isso ou tem têm há até após
        segundo""".split()),
    "ca": set("""el la els les l un una uns unes de d del dels a al als en per amb i o que és
        són no es s va van ha han seu seva seus seves més com però també aquest aquesta sobre
        entre quan on ja li hi ho fins després segons durant""".split()),
    "nl": set("""de het een en van in is op te dat die voor met zijn niet aan er ook als bij
        door naar om tot uit over maar dan wordt werd heeft hebben hij zij ze wij we nog wel al
        meer deze dit zou kan worden was waren geen haar hun""".split()),
    "ro": set("""și şi în de la a al ale cu pe care este sunt nu din un o să se că mai pentru
        fost lor acest această după ca au fi unei unui el ea prin către despre dar sau iar
        între""".split()),
}
# The languages a paragraph is told apart from (py3langid's codes): French, its neighbours
# that share its stop words, and the languages sources commonly come in.
LANGUAGES = ("fr", "en", "es", "it", "pt", "ca", "nl", "de", "ro")
MIN_WORDS = 12          # below this there is not enough text to tell
MIN_RATIO = 0.15        # news prose runs at 0.3–0.5 in its own language
CLEAR_RATIO = 0.20      # stop words decide alone when the best language holds this share…
CLEAR_MARGIN = 3.0      # …and, against every other language, its own distinctive stop words
CLEAR_FLOOR = 2         # outnumber the other's this many times, and are at least this many

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


def _members() -> dict[str, frozenset[str]]:
    """Each stop word → the languages whose list has it."""
    found: dict[str, set[str]] = {}
    for lang, words in STOP_WORDS.items():
        for word in words:
            found.setdefault(word, set()).add(lang)
    return {word: frozenset(langs) for word, langs in found.items()}


_MEMBERS = _members()


def _stop_counts(tokens: list[str]) -> list[tuple[frozenset[str], int]]:
    """(languages, count) of each distinct stop word of ``tokens``."""
    counts = Counter(tokens)            # each distinct word looked up once, not each token
    return [(_MEMBERS[t], n) for t, n in counts.items() if t in _MEMBERS]


def _scores(tokens: list[str]) -> dict[str, float]:
    if not tokens:
        return {lang: 0.0 for lang in STOP_WORDS}
    found = dict.fromkeys(STOP_WORDS, 0)
    for langs, n in _stop_counts(tokens):
        for lang in langs:
            found[lang] += n
    return {lang: n / len(tokens) for lang, n in found.items()}


@lru_cache(maxsize=2048)       # the gate asks again of the same paragraphs and sources
def detect_language(text: str) -> str:
    """One of ``LANGUAGES``, or "und" when the text is too short or holds no stop word of
    any of them (a list of names, figures)."""
    tokens = _tokens(text)
    if len(tokens) < MIN_WORDS:
        return "und"
    scores = _scores(tokens)
    best = max(scores, key=scores.get)
    if scores[best] < MIN_RATIO:
        return "und"
    return _quick(best, scores, tokens) or identify(text) or best


def quick_language(text: str) -> str | None:
    """The stop words' answer when it is clear, else None (py3langid would be asked)."""
    tokens = _tokens(text)
    if len(tokens) < MIN_WORDS:
        return None
    scores = _scores(tokens)
    return _quick(max(scores, key=scores.get), scores, tokens)


def _quick(best: str, scores: dict[str, float], tokens: list[str]) -> str | None:
    return best if scores[best] >= CLEAR_RATIO and _clear(best, tokens) else None


def _clear(best: str, tokens: list[str]) -> bool:
    """Against every other language, the stop words only ``best`` has clearly outnumber the
    ones only the other has ("le", "et", "des" against Catalan's "el", "i", "dels")."""
    stops = _stop_counts(tokens)
    for other in STOP_WORDS:
        if other == best:
            continue
        mine = theirs = 0
        for langs, n in stops:
            if best in langs:
                if other not in langs:
                    mine += n
            elif other in langs:
                theirs += n
        if mine < CLEAR_FLOOR or mine < CLEAR_MARGIN * theirs:
            return False
    return True


_IDENTIFIER = None


def identify(text: str) -> str:
    """py3langid's answer among ``LANGUAGES`` (loaded on first use: ~0.7 s of CPU); "" when
    py3langid is not installed."""
    global _IDENTIFIER
    if _IDENTIFIER is None:
        try:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier
        except ImportError:          # not installed: the stop words' best guess stands
            return ""
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
        identifier.set_languages(list(LANGUAGES))
        _IDENTIFIER = identifier            # one object, assigned whole: thread-safe enough
    return _IDENTIFIER.classify(visible(text))[0]


def article_text(article: Article) -> str:
    parts = [article.title, *(b.visible_text for b in article.intro)]
    for section in article.all_sections:
        parts += [section.heading, *(b.visible_text for b in section.blocks)]
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Paragraph:
    """One body block as the language check sees it."""

    where: str          # "l'introduction" or « heading »
    text: str
    words: int
    lang: str           # one of LANGUAGES, or "und" when too short to judge


def paragraphs(article: Article) -> list[Paragraph]:
    """Every body block (paragraph, list, quotation) with its language, in reading order."""
    return list(_paragraphs(article))


@per_version
def _paragraphs(article: Article) -> tuple[Paragraph, ...]:
    found = []
    blocks = [("l'introduction", b) for b in article.intro]
    blocks += [(f"« {s.heading} »", b) for s in article.all_sections for b in s.blocks]
    for where, block in blocks:
        text = block.visible_text
        found.append(Paragraph(where, text, count_words(text), detect_language(text)))
    return tuple(found)


def foreign_paragraphs(article: Article, expected: str = "fr") -> list[Paragraph]:
    """Paragraphs long enough to judge that are written in another language."""
    return [p for p in _paragraphs(article) if p.lang not in (expected, "und")]


def french_share(article: Article) -> float:
    """Share of the judged words that are in French paragraphs (1.0 when none can be judged):
    what a translation must raise to be kept."""
    judged = [p for p in _paragraphs(article) if p.lang != "und"]
    total = sum(p.words for p in judged)
    return sum(p.words for p in judged if p.lang == "fr") / total if total else 1.0


def article_language(article: Article) -> str:
    """The language of the article's whole text ("und" when too short to tell)."""
    return detect_language(article_text(article))


def is_french(article: Article) -> bool:
    """French as a whole, and no paragraph long enough to judge in another language."""
    return article_language(article) in ("fr", "und") and not foreign_paragraphs(article)


def describe(paragraph: Paragraph) -> str:
    """« Paragraph excerpt … » (en, in « heading »): how the report names a foreign one."""
    excerpt = " ".join(visible(paragraph.text).split()[:10])
    return f"« {excerpt} … » ({paragraph.lang}, dans {paragraph.where})"


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
