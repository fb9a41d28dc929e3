"""The quality gate every article passes before it goes anywhere.

    clean (Markdown, repeats) ─► language (rewrite once) ─► facts (fix once)
        ─► length (expand thin sections, ≤ max_repairs rounds) ─► final checks ─► Report

Repairs are targeted writer calls; everything that can be fixed without a model (Markdown
marks, a paragraph said twice, an empty section) is fixed in code. What cannot be fixed is
never hidden: it becomes a warning in the Report that travels with the article, and under
``strict`` a QualityError. A source too thin for the target is flagged, never padded: expansion
asks for material from the source, and when there is none the article stays short and says so.
With ``llm=None`` the gate only checks (``push``, tests).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..errors import LLMError, QualityError
from ..models import Article, Brief, Check, Report, Source, Usage
from . import facts, language, structure
from .memo import article_word_count, section_word_count, word_count

log = logging.getLogger(__name__)

THIN_SOURCE_RATIO = 0.4     # a source under 40 % of the target cannot honestly fill it
EXPANSION_MARGIN = 1.15     # models undershoot the words they are asked for
REPAIR_NAMES = {"translate": "réécriture en français",
                "fix_facts": "correction des chiffres et citations",
                "expand": "développement des sections"}


@dataclass
class _Run:
    """What one gate run has done so far."""

    article: Article
    sources: list[Source]
    brief: Brief
    llm: Any
    usage: list[Usage] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts_fixed: bool = False
    foreign: bool = False          # still not French after the rewrite: no more repairs
    thin_source: bool = False      # too little source to expand from without padding

    @property
    def target(self) -> int:
        return self.brief.min_words

    @property
    def words(self) -> int:
        return article_word_count(self.article)


def run_gate(article: Article, sources: Sequence[Source] | Source, brief: Brief, llm: Any,
             *, max_repairs: int = 2, strict: bool = False) -> tuple[Article, Report]:
    """Check ``article`` against ``sources`` and ``brief``, repair what can be repaired, and
    return the article with its Report. Raises QualityError under ``strict`` when the article
    stays short or is not in French; the error carries ``.article`` and ``.report``."""
    run = _Run(article, [sources] if isinstance(sources, Source) else list(sources), brief, llm)
    _thin_source(run)
    _clean(run)
    _language(run)
    if not run.foreign:           # repairing the facts or length of a foreign text is waste
        _facts(run)
        _length(run, max_repairs)
        _facts(run)               # expansions may bring new figures: if no fix was spent yet
    report = _report(run)
    if strict:
        _raise_if_failed(run.article, report)
    return run.article, report


# --- the steps --------------------------------------------------------------------------

def _thin_source(run: _Run) -> None:
    available = sum(word_count(s.text) for s in run.sources)
    if available < THIN_SOURCE_RATIO * run.target:
        run.thin_source = True
        run.warnings.append(_thin_message(available, run.target))


def _thin_message(available: int, target: int, words: int = 0) -> str:
    """What a thin source means for the editor: a short article to complete or, when the
    first draft already reached the target anyway, words the source cannot all support."""
    head = f"Source trop mince : {available} mots pour {target} demandés — "
    if words >= target:
        return head + (f"l'article en compte pourtant {words} : vérifier qu'il ne contient "
                       "ni remplissage ni ajout absent de la source")
    return head + ("l'article ne sera pas allongé par du remplissage ; à compléter par la "
                   "rédaction")


def _clean(run: _Run) -> None:
    """The repairs that need no model: Markdown marks, repeated paragraphs, empty sections."""
    leaks = language.markdown_leaks(run.article)
    if leaks:
        run.article = language.clean_markdown(run.article)
        run.repairs.append(f"Markdown converti ou retiré ({len(leaks)} reste(s))")
    run.article, done = structure.remove_repetitions(run.article)
    run.repairs += done


def _language(run: _Run) -> None:
    expected = run.brief.language or "fr"
    found = language.detect_language(language.article_text(run.article))
    if found == expected or expected != "fr":
        return
    before = found
    if _repair(run, "translate", lambda w: w.rewrite_in_french(
            run.article, run.sources, run.brief, run.llm)):
        _clean(run)
        found = language.detect_language(language.article_text(run.article))
        run.repairs.append(f"Article réécrit en français (langue détectée : {before} → {found})")
    run.foreign = found not in (expected, "und")


def _facts(run: _Run) -> None:
    if run.facts_fixed:
        return
    claims = _untraceable(run)
    if not claims or run.llm is None:
        return
    run.facts_fixed = True
    if _repair(run, "fix_facts", lambda w: w.fix_claims(
            run.article, claims, run.sources, run.llm)):
        _clean(run)
        left = len(_untraceable(run))
        run.repairs.append(f"Chiffres et citations corrigés : {len(claims) - left} sur "
                           f"{len(claims)} introuvables dans la source")


def _length(run: _Run, max_repairs: int) -> None:
    if run.thin_source:             # all an expansion could add is padding
        return
    for _ in range(max_repairs if run.llm is not None else 0):
        deficit = run.target - run.words
        if deficit <= 0:
            return
        headings = thin_sections(run.article, run.target)
        needed = math.ceil(deficit * EXPANSION_MARGIN)
        before = run.words
        if not _repair(run, "expand", lambda w: w.expand_sections(
                run.article, headings, run.sources, run.brief, run.llm, words_needed=needed)):
            return
        _clean(run)
        named = ", ".join(f"« {h} »" for h in headings)
        if run.words <= before:         # the model found nothing more to say: stop asking
            run.repairs.append(f"Développement demandé ({named}) : aucune matière nouvelle "
                               "dans la source")
            return
        run.repairs.append(f"Sections développées ({named}) : {before} → {run.words} mots")


def _repair(run: _Run, purpose: str, call: Callable[[Any], tuple[Article, Usage]]) -> bool:
    """One writer call; a failed repair leaves the article as it was, with a warning."""
    if run.llm is None:
        return False
    from ..writer import write      # the writer imports quality.length: import it late
    try:
        run.article, usage = call(write)
    except LLMError as err:
        log.warning("repair %s failed: %s", purpose, err)
        run.warnings.append(f"Réparation impossible ({REPAIR_NAMES[purpose]}) : {err}")
        return False
    run.usage.append(usage)
    return True


def thin_sections(article: Article, target: int) -> list[str]:
    """Body sections below their share of the target (and with room under the 300-word
    ceiling), thinnest first; at least the thinnest one."""
    body = list(article.sections) or [article.conclusion]
    share = min(target / len(body), structure.MAX_SECTION_WORDS)
    body.sort(key=section_word_count)
    thin = [s.heading for s in body if section_word_count(s) < share]
    return thin or [body[0].heading]


def _untraceable(run: _Run) -> list[str]:
    return facts.untraceable(run.article, run.sources, check_quotes=_sources_french(run))


def _sources_french(run: _Run) -> bool:
    """Quotes can only be verbatim when the source is French; a translation cannot be."""
    text = "\n\n".join(s.text for s in run.sources)
    return language.detect_language(text) in ("fr", "und")


# --- the report ---------------------------------------------------------------------------

def _report(run: _Run) -> Report:
    article, words = run.article, run.words
    lang = language.detect_language(language.article_text(article))
    leaks = language.markdown_leaks(article)
    claims = _untraceable(run)
    issues = structure.check_structure(article)
    warnings = list(run.warnings)
    if run.thin_source and words >= run.target:     # the promise "not padded" no longer holds
        available = sum(word_count(s.text) for s in run.sources)
        stale = _thin_message(available, run.target)
        warnings = [_thin_message(available, run.target, words) if w == stale else w
                    for w in warnings]
    if not _sources_french(run):
        warnings.append("Source en langue étrangère : les citations traduites sont à vérifier "
                        "mot à mot par la rédaction")
    warnings += _final_warnings(run, words, lang, leaks, claims, issues)
    return Report(word_count=words, target_words=run.target,
                  warnings=tuple(dict.fromkeys(warnings)), repairs=tuple(run.repairs),
                  untraceable=tuple(claims), checks=tuple(_checks(run, words, lang, leaks,
                                                                  claims, issues)),
                  usage=tuple(run.usage), sources=tuple(_source_line(s) for s in run.sources))


def _final_warnings(run, words, lang, leaks, claims, issues) -> list[str]:
    warnings = []
    if words < run.target:
        warnings.append(short_message(words, run.target))
    if lang != "fr":
        warnings.append(f"L'article n'est pas en français (langue détectée : {lang})")
    elif foreign := language.foreign_sections(run.article):
        warnings += [f"La section « {h} » n'est pas en français" for h in foreign]
    if leaks:
        warnings.append("Reste de Markdown : " + " ; ".join(leaks[:5]))
    if claims:
        warnings.append(f"{len(claims)} chiffre(s) ou citation(s) introuvable(s) dans la "
                        "source : à vérifier avant publication")
    warnings += [issue.message for issue in issues]
    return warnings


def short_message(words: int, target: int) -> str:
    return (f"Article trop court : {words} mots sur {target} demandés — la source ne contient "
            "pas assez de matière ; à compléter par la rédaction")


def _checks(run, words, lang, leaks, claims, issues) -> list[Check]:
    codes = {issue.code for issue in issues}
    available = sum(word_count(s.text) for s in run.sources)

    def check(id_, label, ok, detail="", soft=False):
        return Check(id_, label, "good" if ok else ("ok" if soft else "bad"), detail)

    return [
        check("min_words", f"Longueur : au moins {run.target} mots", words >= run.target,
              f"{words} mots"),
        check("language_fr", "Article rédigé en français", lang == "fr",
              f"langue détectée : {lang}"),
        check("no_markdown", "Aucun reste de Markdown (##, **)", not leaks, "; ".join(leaks[:3])),
        check("facts_traceable", "Chiffres et citations retrouvés dans la source", not claims,
              "; ".join(claims[:5])),
        check("h2_count", f"Au moins {structure.MIN_H2} intertitres H2",
              "few_h2" not in codes, f"{len(run.article.outline)} intertitres H2"),
        check("no_empty_section", "Aucune section vide", "empty_section" not in codes),
        check("section_length", f"Aucune section de plus de {structure.MAX_SECTION_WORDS} mots",
              "long_section" not in codes, soft=True),
        check("no_duplicates", "Ni intertitre ni paragraphe en double",
              not codes & {"duplicate_heading", "duplicate_paragraph"}),
        check("source_length", "Source assez fournie pour la longueur demandée",
              available >= THIN_SOURCE_RATIO * run.target, f"{available} mots de source",
              soft=True),
    ]


def _source_line(source: Source) -> str:
    return f"{source.label} — {source.url}" if source.url else source.label


def _raise_if_failed(article: Article, report: Report) -> None:
    if any(c.id == "language_fr" and c.status == "bad" for c in report.checks):
        err = QualityError("L'article n'est pas en français, même après réécriture : relancez "
                           "sans --strict pour l'enregistrer signalé", reason="not_french")
    elif report.short:
        err = QualityError(short_message(report.word_count, report.target_words)
                           + " (--strict)", reason="too_short")
    else:
        return
    err.article, err.report = article, report
    raise err
