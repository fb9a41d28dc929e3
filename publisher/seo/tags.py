"""Tags and category: who and what the article is about, in the site's own vocabulary.

Tags are the article's people, organisations and places (runs of capitalised words that are
not only a sentence's first word, and acronyms such as OTAN or UE), then its topics (the LLM's
suggestions and the site's tags that the text really uses). They are normalised so that
« OTAN », « Otan » and « l’OTAN » are one tag, singular and plural are one tag, spelling
variants of one name (« Zelensky », « Zelenskyy ») are one tag, and an existing site tag that
matches (case and accents aside) is used as the site spells it.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence

from ..models import Article, Source
from . import french, text

TAGS_MIN, TAGS_MAX = 3, 8

# Capitalised words that are titles or calendar words, never a tag on their own.
_GENERIC = frozenset(french.fold(w) for w in """monsieur madame président présidente premier
première ministre secrétaire général générale porte-parole chef directeur directrice
lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril mai juin
juillet août septembre octobre novembre décembre états etats état etat alliance alliés
gouvernement parlement conseil ministère selon aujourd'hui photo crédit publicité défense
affaires intérieur armées plusieurs parti""".split())
_CONNECTORS = frozenset("de du des la le d' von van der al el bin".split())
_ALIASES = {"kyiv": "kiev", "kiyv": "kiev", "kiew": "kiev"}
_CAPITAL = re.compile(r"^[A-ZÀ-ÖØ-Þ]")
_ACRONYM = re.compile(r"^[A-ZÀ-ÖØ-Þ]{2,6}$")
_WORD = re.compile(r"[^\W_]+(?:[-’'][^\W_]+)*|[«»“”\"(),;:.!?—–]|\s[-–—]\s")
_ELIDED = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’](?=.)", re.IGNORECASE)


def tag_key(name: str) -> str:
    """The comparison form: folded, elided article dropped, each word singular, aliases."""
    name = _ELIDED.sub("", french.normalize_spaces(name.strip()))
    words = french.tokens(name)
    if not all(_CAPITAL.match(w) for w in name.split()):
        words = [_singular(w) for w in words]      # a proper name keeps its final s
    return " ".join(_ALIASES.get(w, w) for w in words)


def _singular(word: str) -> str:
    return re.sub(r"(?<=[a-z]{3})[sx]$", "", word)


def _runs(sentence: str) -> Iterable[tuple[str, bool]]:
    """(capitalised run, starts the sentence) for each run of capitalised words."""
    run: list[str] = []
    first = True
    at_start = True
    for match in _WORD.finditer(french.normalize_spaces(sentence)):
        word = match.group()
        if "'" in word or "’" in word:           # only then can it start with an elision
            word = _ELIDED.sub("", word)
        if not word[:1].isalnum():
            yield from _flush(run, at_start)
            run, first = [], word.strip() in "«“\":.!?"
            continue
        if _ACRONYM.match(word):                 # « l’OTAN Jens Stoltenberg »: two names
            yield from _flush(run, at_start)
            yield from _flush([word], first)
            run, first = [], False
            continue
        if _CAPITAL.match(word) or (run and word.lower() in _CONNECTORS):
            if not run:
                at_start = first
            run.append(word)
        else:
            yield from _flush(run, at_start)
            run = []
        first = False
    yield from _flush(run, at_start)


def _flush(run: list[str], at_start: bool) -> Iterable[tuple[str, bool]]:
    while run and (run[-1].lower() in _CONNECTORS or french.is_stop(run[-1])):
        run = run[:-1]
    while run and (french.is_stop(run[0]) or french.fold(run[0]) in _GENERIC):
        run, at_start = run[1:], False
    if run:
        yield " ".join(run), at_start


def _entities(texts: Iterable[str]) -> tuple[Counter, Counter, dict[str, Counter]]:
    """Counts of entity keys mid-sentence and at sentence start, and their spellings."""
    mid, start, forms = Counter(), Counter(), {}
    for paragraph in texts:
        for key, at_start, run in _paragraph_entities(paragraph):
            (start if at_start else mid)[key] += 1
            forms.setdefault(key, Counter())[run] += 1
    return mid, start, forms


@lru_cache(maxsize=1024)        # the sources and most paragraphs come back at every pass
def _paragraph_entities(paragraph: str) -> tuple[tuple[str, bool, str], ...]:
    """(key, opens a sentence, spelling) of each entity mention of one paragraph, in order."""
    found = []
    for sentence in french.sentence_tuple(paragraph):
        for run, at_start in _runs(sentence):
            key = tag_key(run)
            if len(key) < 2 or key in _GENERIC:
                continue
            found.append((key, at_start and not _ACRONYM.match(run), run))
    return tuple(found)


def _merge_variants(counts: Counter, forms: dict[str, Counter], *marks: set[str]) -> None:
    """Fold a surname into the full name, and near-identical spellings into the commonest;
    ``marks`` (sets of keys) follow their keys into the merged one."""
    keys = sorted(counts, key=lambda k: (-counts[k], k))
    for key in keys:
        longer = [k for k in keys if k != key and counts.get(k) and
                  ((_surname_of(key, k) and not _is_acronym(key, forms))
                   or _same_name(k, key))]
        if not counts.get(key) or not longer:
            continue
        target = max(longer, key=lambda k: (len(k.split()), counts[k]))
        if len(target.split()) > len(key.split()) or counts[target] >= counts[key]:
            counts[target] += counts.pop(key)
            forms.setdefault(target, Counter()).update(forms.pop(key, Counter()))
            for mark in marks:
                if key in mark:
                    mark.add(target)


def _surname_of(key: str, full: str) -> bool:
    """« zelensky » is the surname of « volodymyr zelenskyy »: last words alike."""
    if " " in key or " " not in full:
        return False
    last = full.rsplit(" ", 1)[1]
    return last == key or _same_name(last, key)


def _is_acronym(key: str, forms: dict[str, Counter]) -> bool:
    return any(_ACRONYM.match(f) for f in forms.get(key, ()))


@lru_cache(maxsize=16384)      # every pair of names, at every pass
def _same_name(a: str, b: str) -> bool:
    if min(len(a), len(b)) < 6 or len(a.split()) != len(b.split()):
        return False
    # difflib's upper bounds of ratio(), cheapest first (real_quick_ratio, quick_ratio): most
    # pairs are ruled out without building a SequenceMatcher
    if 2.0 * min(len(a), len(b)) / (len(a) + len(b)) < 0.88:
        return False
    if 2.0 * sum((Counter(a) & Counter(b)).values()) / (len(a) + len(b)) < 0.88:
        return False
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.88


def _display(key: str, forms: Counter) -> str:
    spellings = sorted(forms, key=lambda f: (tag_key(f) != key, -forms[f], f.isupper(), f))
    return spellings[0]


def _article_texts(article: Article) -> list[str]:
    return [article.title, *text.headings(article), *text.paragraphs(article)]


def _site_map(site_tags: Sequence[str]) -> dict[str, str]:
    return {tag_key(t): t.strip() for t in site_tags if t.strip()}


def build_tags(article: Article, sources: Sequence[Source] = (),
               suggestion_tags: Iterable[str] = (), site_tags: Sequence[str] = ()) -> tuple[str, ...]:
    """3–8 tags: the article's entities (mentioned at least twice in the article and its
    sources, at least once in the article), then suggested and site tags the article uses."""
    mid, start, forms = _entities(_article_texts(article))
    src_mid, _, src_forms = _entities(s.text for s in sources)
    in_article = set(mid) | set(start)
    mid_sentence = set(mid) | set(src_mid)          # seen somewhere not opening a sentence
    counts = Counter({k: 2 * mid[k] + start[k] + src_mid[k] for k in in_article | set(src_mid)})
    forms = {k: Counter({f: 3 * n for f, n in c.items()}) for k, c in forms.items()}
    for key, spellings in src_forms.items():          # the article's spelling wins
        forms.setdefault(key, Counter()).update(spellings)
    _merge_variants(counts, forms, in_article, mid_sentence)
    ranked = [k for k in sorted(counts, key=lambda k: (-counts[k], k))
              if counts[k] >= 3 and k in in_article and k in mid_sentence]
    site = _site_map(site_tags)
    chosen: dict[str, str] = {}
    for key in ranked:
        chosen.setdefault(key, site.get(key) or _display(key, forms[key]))
    for tag in _topics(article, suggestion_tags, site):
        chosen.setdefault(tag_key(tag), site.get(tag_key(tag), tag))
    return tuple(list(chosen.values())[:TAGS_MAX])


def _topics(article: Article, suggestion_tags: Iterable[str], site: dict[str, str]) -> list[str]:
    """Suggested tags present in the article, then site tags present in it twice or more."""
    body = text.body(article) + "\n\n" + article.title
    body_tokens = french.tokens(body)
    out = [t.strip() for t in suggestion_tags
           if t.strip() and (french.phrase_count(body_tokens, t) or tag_key(t) in site)]
    out += [tag for key, tag in sorted(site.items())
            if french.phrase_count(body_tokens, tag) >= 2]
    return out


# --- category -------------------------------------------------------------------------------

# Words that point to a usual French news category (folded), beyond the category's own name.
CATEGORY_HINTS = {
    "international": "otan ukraine russie kiev moscou guerre alliance diplomatie etats-unis "
                     "europe onu chine iran pays etranger",
    "monde": "otan ukraine russie kiev moscou guerre alliance diplomatie etats-unis europe onu "
             "chine iran pays etranger",
    "politique": "gouvernement ministre president election parlement depute senat parti vote",
    "economie": "euros milliards millions entreprises marche croissance inflation banque "
                "emploi budget",
    "defense": "armee militaire armes munitions defense soldats missiles otan",
    "societe": "justice education sante police ecole famille",
    "sport": "match championnat equipe joueur coupe",
    "culture": "film livre musique exposition festival",
    "sciences": "recherche scientifique etude climat espace",
}


def choose_category(article: Article, categories: Sequence[str] = (),
                    default: str = "") -> str:
    """The site category whose name (and usual vocabulary) the article uses most, title and
    subheadings counting triple; ``default`` when no category is given or none matches."""
    if not categories:
        return default
    weighted = french.tokens(" ".join([article.title] * 3 + text.headings(article) * 3
                                      + text.paragraphs(article)))
    counts = Counter(_singular(t) for t in weighted)
    best, best_score = default, 0
    for category in categories:
        words = set(tag_key(category).split())
        for word in list(words):
            words |= {_singular(h) for h in CATEGORY_HINTS.get(word, "").split()}
        score = sum(counts[w] for w in words if w not in french.STOP_WORDS)
        if score > best_score:
            best, best_score = category, score
    return best
