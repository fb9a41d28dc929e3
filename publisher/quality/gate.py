"""The quality gate every article passes before it goes anywhere.

    answer (escapes, prompt echo, JSON, invented names) ─► clean (Markdown, repeats)
        ─► language (translate once) ─► facts (fix once) ─► length (expand thin sections,
        ≤ max_repairs rounds) ─► final checks ─► Report (warnings, repairs, blocking)

Repairs are targeted writer calls; everything that can be fixed without a model (Markdown
marks, a paragraph said twice, escape sequences written as text, the model's own instructions
copied into the answer, a tag naming what no source names) is fixed in code, on the first
answer and on every repair's answer alike. A repair is kept only if it improves what it was
asked to fix (an expansion must add words, a translation raise the French share, a facts fix
leave fewer untraceable claims without cutting more than their sentences); a discarded repair
is said in the report. What cannot be fixed is never hidden: it becomes a warning in the
Report that travels with the article, and under ``strict`` a QualityError.

Some articles must never reach WordPress: ``Report.blocking`` names why (``under_half_length``,
``not_french``, ``prompt_echo``, ``not_an_article``), each with its French warning. A source
too thin for the target is flagged, never padded: expansion asks for material from the source,
and when there is none the article stays short and says so. With ``llm=None`` the gate only
checks and repairs in code (``push``, tests).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

from ..errors import LLMError, QualityError
from ..models import Article, Brief, Check, Report, Source, Usage
from . import answers, facts, language, structure
from ..measure import measure
from ..words import count_words, section_words

log = logging.getLogger(__name__)

THIN_SOURCE_RATIO = 0.4     # a source under 40 % of the target cannot honestly fill it
EXPANSION_MARGIN = 1.15     # models undershoot the words they are asked for
ECHO_LIMIT = 0.5            # an answer whose body is this much prompt text is not an article
BLOCKING_RATIO = 0.5        # under half the target, an article is not a draft to push
MIN_PARAGRAPH_WORDS = 12    # an answer without one paragraph this long is not an article
PARTIAL_TRANSLATION = 0.5   # from this French share up, only the foreign paragraphs are sent
FIX_SLACK = 1.2             # a facts fix may cut the flagged sentences and a fifth more…
FIX_SLACK_WORDS = 5         # …plus a few words of rewording around them
REPAIR_NAMES = {"translate": "réécriture en français",
                "fix_facts": "correction des chiffres et citations",
                "expand": "développement des sections"}
BLOCKING = {
    "under_half_length": "Article bloqué : {words} mots, moins de la moitié des {target} "
                         "demandés — gardé en brouillon local, non envoyé à WordPress",
    "not_french": "Article bloqué : il n'est pas entièrement en français — gardé en brouillon "
                  "local, non envoyé à WordPress",
    "prompt_echo": "Article bloqué : le modèle a recopié ses consignes au lieu d'écrire "
                   "l'article — gardé en brouillon local, non envoyé à WordPress",
    "not_an_article": "Article bloqué : la réponse du modèle n'est pas un article (aucun "
                      "paragraphe rédigé) — gardé en brouillon local, non envoyé à WordPress",
}


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
    echo: bool = False             # the answer was mostly the prompt, or its title is
    not_article: bool = False      # no paragraph written at all

    @property
    def target(self) -> int:
        return self.brief.min_words

    @property
    def words(self) -> int:
        return measure(self.article).words

    @property
    def refused(self) -> bool:
        """Nothing worth repairing: no call is spent on it."""
        return self.echo or self.not_article


def run_gate(article: Article, sources: Sequence[Source] | Source, brief: Brief, llm: Any,
             *, max_repairs: int = 2, strict: bool = False) -> tuple[Article, Report]:
    """Check ``article`` against ``sources`` and ``brief``, repair what can be repaired, and
    return the article with its Report. Raises QualityError under ``strict`` when the article
    stays short, is not in French or is not an article; the error carries ``.article`` and
    ``.report``."""
    run = _Run(article, [sources] if isinstance(sources, Source) else list(sources), brief, llm)
    _thin_source(run)
    _first_answer(run)
    if not run.refused:
        _language(run)
    if not run.foreign and not run.refused:     # repairing a foreign text is waste
        _facts(run)
        _length(run, max_repairs)
        _facts(run)               # expansions may bring new figures: if no fix was spent yet
    report = _report(run)
    if strict:
        _raise_if_failed(run.article, report)
    return run.article, report


# --- the steps --------------------------------------------------------------------------

def _thin_source(run: _Run) -> None:
    available = sum(count_words(s.text) for s in run.sources)
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


@dataclass
class _Cleaned:
    article: Article
    notes: list[str]
    echo_share: float           # share of the answer's body that was the prompt copied back
    title_echo: bool
    json_share: float = 0.0     # share that was JSON left as text


def _cleaned(article: Article, sources: list[Source]) -> _Cleaned:
    """The repairs that need no model, on any answer: escapes written as text, the prompt
    copied back, JSON residue, invented names and addresses in the SEO suggestions, Markdown
    marks, repeated paragraphs, empty sections."""
    notes: list[str] = []
    fixed, done = answers.clean_answer(article)
    if done.escapes:
        notes.append(f"Séquences d'échappement écrites en toutes lettres (\\n, \\\") "
                     f"corrigées dans {done.escapes} texte(s)")
    if done.echoed_words or done.echoed_headings:
        shown = " ; ".join(f"« {p} … »" for p in done.echoed_pieces[:2])
        notes.append(f"Consignes recopiées par le modèle retirées : {done.echoed_words} mot(s), "
                     f"{done.echoed_headings} intertitre(s)" + (f" ({shown})" if shown else ""))
    if done.json_words:
        notes.append(f"Fragments de JSON retirés du texte : {done.json_words} mot(s)")
    notes += done.cleared
    fixed, invented = answers.check_suggestions(fixed, sources)
    notes += invented.notes
    leaks = language.markdown_leaks(fixed)
    if leaks:
        fixed = language.clean_markdown(fixed)
        notes.append(f"Markdown converti ou retiré ({len(leaks)} reste(s))")
    fixed, repeated = structure.remove_repetitions(fixed)
    notes += repeated
    return _Cleaned(fixed, notes, answers.echo_share(article, done), done.title_echo,
                    answers.json_share(article, done))


def _first_answer(run: _Run) -> None:
    cleaned = _cleaned(run.article, run.sources)
    run.article = cleaned.article
    run.repairs += cleaned.notes
    run.echo = cleaned.title_echo or cleaned.echo_share >= ECHO_LIMIT
    run.not_article = not run.echo and (cleaned.json_share >= ECHO_LIMIT
                                        or not _has_paragraph(run.article))


def _has_paragraph(article: Article) -> bool:
    return any(p.words >= MIN_PARAGRAPH_WORDS for p in language.paragraphs(article))


def _language(run: _Run) -> None:
    expected = run.brief.language or "fr"
    if expected != "fr" or language.is_french(run.article):
        return
    before = language.article_language(run.article)
    share = language.french_share(run.article)
    # A French article with a few foreign paragraphs: only those are sent to translate.
    foreign = [] if before not in ("fr", "und") or share < PARTIAL_TRANSLATION else \
        language.foreign_paragraphs(run.article)
    candidate = _attempt(run, "translate", lambda w: w.rewrite_in_french(
        run.article, run.sources, run.brief, run.llm, paragraphs=[p.text for p in foreign]))
    if candidate is not None:
        after = language.french_share(candidate.article)
        if after > share and foreign:
            _keep(run, candidate)
            left = len(language.foreign_paragraphs(run.article))
            run.repairs.append(f"Paragraphes traduits en français : {len(foreign) - left} sur "
                               f"{len(foreign)}")
        elif after > share:
            _keep(run, candidate)
            found = language.article_language(run.article)
            run.repairs.append(f"Article réécrit en français (langue détectée : {before} → "
                               f"{found})")
        else:
            run.repairs.append(f"Réécriture en français écartée : elle ne rendait pas le "
                               f"texte plus français ({share:.0%} → {after:.0%} des mots)")
    run.foreign = language.article_language(run.article) not in (expected, "und")


def _facts(run: _Run) -> None:
    if run.facts_fixed:
        return
    claims = _untraceable(run, run.article)
    if not claims or run.llm is None:
        return
    run.facts_fixed = True
    before = run.article
    candidate = _attempt(run, "fix_facts", lambda w: w.fix_claims(
        before, claims, run.sources, run.llm))
    if candidate is None:
        return
    left = _untraceable(run, candidate.article)
    lost = measure(before).words - measure(candidate.article).words
    allowed = sum(facts.claim_span_words(b.visible_text, claims) for b in _blocks(before))
    if len(left) > len(claims):
        run.repairs.append(f"Correction des chiffres et citations écartée : elle laissait "
                           f"{len(left)} élément(s) introuvable(s) au lieu de {len(claims)}")
    elif lost > allowed * FIX_SLACK + FIX_SLACK_WORDS:
        run.repairs.append(f"Correction des chiffres et citations écartée : elle retirait "
                           f"{lost} mots quand les passages signalés en comptent {allowed}")
    else:
        _keep(run, candidate)
        run.repairs.append(f"Chiffres et citations corrigés : {len(claims) - len(left)} sur "
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
        before, share = run.words, language.french_share(run.article)
        current = run.article
        answered: list[int] = []
        candidate = _attempt(run, "expand", lambda w: w.expand_sections(
            current, headings, run.sources, run.brief, run.llm, words_needed=needed),
            adjust=lambda new: _no_shorter_sections(current, new, answered))
        if candidate is None:
            return
        named = ", ".join(f"« {h} »" for h in headings)
        after = measure(candidate.article).words
        if after < before or (answered and answered[0] < before and after == before):
            run.repairs.append(f"Développement écarté ({named}) : la réponse ramenait "
                               f"l'article de {before} à {min(answered or [after])} mots")
            return
        if language.french_share(candidate.article) < share:
            run.repairs.append(f"Développement écarté ({named}) : les sections revenaient "
                               "dans une autre langue")
            return
        if after == before:         # the model found nothing more to say: stop asking
            run.repairs.append(f"Développement demandé ({named}) : aucune matière nouvelle "
                               "dans la source")
            return
        _keep(run, candidate)
        run.repairs.append(f"Sections développées ({named}) : {before} → {run.words} mots")
        if answered and answered[0] < after:
            run.repairs.append("Sections rendues plus courtes par le développement gardées "
                               "telles qu'elles étaient")


def _no_shorter_sections(before: Article, after: Article, answered: list[int]) -> Article:
    """An expansion's answer in which a section came back shorter than it was keeps that
    section as it was (the writer puts rewrites back in place: same sections, same order).
    ``answered`` receives the answer's own word count."""
    answered.append(measure(after).words)
    if len(before.all_sections) != len(after.all_sections):
        return after
    pairs = list(zip(before.all_sections, after.all_sections))
    kept = [old if section_words(new) < section_words(old) else new
            for old, new in pairs]
    if all(k is new for k, (_, new) in zip(kept, pairs)):
        return after
    return replace(after, sections=tuple(kept[:-1]), conclusion=kept[-1])


def _attempt(run: _Run, purpose: str, call: Callable[[Any], tuple[Article, Usage]],
             adjust: Callable[[Article], Article] | None = None) -> _Cleaned | None:
    """One writer call, its answer cleaned in code; None (the article left as it was, with a
    note) when the call failed or the answer was mostly the prompt copied back. ``adjust``
    sees the answer first (before any cleaning changes its shape)."""
    if run.llm is None:
        return None
    # late import: writer.write loads openai (~0.3 s); seo/ and the preview import quality/
    from ..writer import write
    try:
        article, usage = call(write)
    except LLMError as err:
        log.warning("repair %s failed: %s", purpose, err)
        run.warnings.append(f"Réparation impossible ({REPAIR_NAMES[purpose]}) : {err}")
        spent = getattr(err, "usage", None)     # a failed repair was still asked (and paid)
        if spent is not None and spent.requests:
            run.usage.append(spent)
        return None
    if usage.requests:              # 0 when the writer found nothing to ask
        run.usage.append(usage)
    if adjust is not None:
        article = adjust(article)
    cleaned = _cleaned(article, run.sources)
    if cleaned.echo_share >= ECHO_LIMIT or (cleaned.title_echo and not
                                            answers.is_echo(run.article.title)):
        run.repairs.append(f"Réparation écartée ({REPAIR_NAMES[purpose]}) : la réponse "
                           "recopiait les consignes au lieu de les appliquer")
        return None
    if cleaned.json_share >= ECHO_LIMIT:
        run.repairs.append(f"Réparation écartée ({REPAIR_NAMES[purpose]}) : la réponse "
                           "n'était que du JSON laissé en texte")
        return None
    return cleaned


def _keep(run: _Run, cleaned: _Cleaned) -> None:
    run.article = cleaned.article
    run.repairs += cleaned.notes


def _blocks(article: Article):
    yield from article.intro
    for section in article.all_sections:
        yield from section.blocks


def thin_sections(article: Article, target: int) -> list[str]:
    """Body sections below their share of the target (and with room under the 300-word
    ceiling), thinnest first; at least the thinnest one."""
    body = list(article.sections) or [article.conclusion]
    share = min(target / len(body), structure.MAX_SECTION_WORDS)
    body.sort(key=section_words)
    thin = [s.heading for s in body if section_words(s) < share]
    return thin or [body[0].heading]


def _untraceable(run: _Run, article: Article) -> list[str]:
    return facts.untraceable(article, run.sources, check_quotes=_sources_french(run))


def _sources_french(run: _Run) -> bool:
    """Quotes can only be verbatim when the source is French; a translation cannot be."""
    text = "\n\n".join(s.text for s in run.sources)
    return language.detect_language(text) in ("fr", "und")


# --- the report ---------------------------------------------------------------------------

def _report(run: _Run) -> Report:
    article, words = run.article, run.words
    lang = language.article_language(article)
    foreign = language.foreign_paragraphs(article)
    leaks = language.markdown_leaks(article)
    claims = _untraceable(run, article)
    issues = structure.check_structure(article)
    warnings = list(run.warnings)
    if run.thin_source and words >= run.target:     # the promise "not padded" no longer holds
        available = sum(count_words(s.text) for s in run.sources)
        stale = _thin_message(available, run.target)
        warnings = [_thin_message(available, run.target, words) if w == stale else w
                    for w in warnings]
    if not _sources_french(run):
        warnings.append("Source en langue étrangère : les citations traduites sont à vérifier "
                        "mot à mot par la rédaction")
    warnings += _final_warnings(run, words, lang, foreign, leaks, claims, issues)
    blocking = _blocking(run, words, lang, foreign)
    warnings += [BLOCKING[code].format(words=words, target=run.target) for code in blocking]
    return Report(word_count=words, target_words=run.target,
                  warnings=tuple(dict.fromkeys(warnings)), repairs=tuple(run.repairs),
                  untraceable=tuple(claims),
                  passages=tuple(facts.nearest_passage(c, run.sources) for c in claims),
                  checks=tuple(_checks(run, words, lang, foreign, leaks, claims, issues)),
                  usage=tuple(run.usage), sources=tuple(_source_line(s) for s in run.sources),
                  blocking=blocking)


def _blocking(run: _Run, words: int, lang: str, foreign) -> tuple[str, ...]:
    codes = []
    if words < BLOCKING_RATIO * run.target:
        codes.append("under_half_length")
    if (run.brief.language or "fr") == "fr" and (lang not in ("fr", "und") or foreign):
        codes.append("not_french")
    if run.echo or answers.is_echo(run.article.title):
        codes.append("prompt_echo")
    if run.not_article or not _has_paragraph(run.article):
        codes.append("not_an_article")
    return tuple(codes)


def _final_warnings(run, words, lang, foreign, leaks, claims, issues) -> list[str]:
    warnings = []
    if words < run.target:
        warnings.append(short_message(words, run.target))
    if lang != "fr":
        warnings.append(f"L'article n'est pas en français (langue détectée : {lang})")
    warnings += [f"Paragraphe qui n'est pas en français : {language.describe(p)}"
                 for p in foreign]
    if leaks:
        warnings.append("Reste de Markdown : " + " ; ".join(leaks[:5]))
    if claims:
        warnings.append(f"{len(claims)} chiffre(s) ou citation(s) introuvable(s) dans la "
                        "source : à vérifier avant publication")
    if run.sources and (names := answers.invented_names(run.article.title, run.sources)):
        warnings.append("Le titre nomme " + ", ".join(f"« {n} »" for n in names)
                        + ", absent(s) des sources : à vérifier")
    warnings += [issue.message for issue in issues]
    return warnings


def short_message(words: int, target: int) -> str:
    return (f"Article trop court : {words} mots sur {target} demandés — la source ne contient "
            "pas assez de matière ; à compléter par la rédaction")


def _checks(run, words, lang, foreign, leaks, claims, issues) -> list[Check]:
    codes = {issue.code for issue in issues}
    available = sum(count_words(s.text) for s in run.sources)

    def check(id_, label, ok, detail="", soft=False):
        return Check(id_, label, "good" if ok else ("ok" if soft else "bad"), detail)

    return [
        check("min_words", f"Longueur : au moins {run.target} mots", words >= run.target,
              f"{words} mots"),
        check("language_fr", "Article rédigé en français", lang == "fr" and not foreign,
              f"langue détectée : {lang}" + (f" ; {len(foreign)} paragraphe(s) dans une autre "
                                             "langue" if foreign else "")),
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
    if reason := next((c for c in ("prompt_echo", "not_an_article")
                       if c in report.blocking), ""):
        err = QualityError(BLOCKING[reason].split(" — ")[0] + " (--strict)", reason=reason)
    elif any(c.id == "language_fr" and c.status == "bad" for c in report.checks):
        err = QualityError("L'article n'est pas en français, même après réécriture : relancez "
                           "sans --strict pour l'enregistrer signalé", reason="not_french")
    elif report.short:
        err = QualityError(short_message(report.word_count, report.target_words)
                           + " (--strict)", reason="too_short")
    else:
        return
    err.article, err.report = article, report
    raise err
