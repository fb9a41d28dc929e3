"""Deterministic fixes for failed SEO checks, none of which invents content.

    meta title / description failing      → rebuilt by the builders (they only reuse the
                                            article's own words)
    keyphrase not in the introduction,    → the keyphrase is chosen again among the phrases of
    the subheadings or the title            the title, introduction and subheadings (changing
                                            the keyphrase is a legitimate fix), then the title,
                                            description and slug follow it
    too many long sentences               → split at « ; », « : », « , mais », « , et »,
                                            « , car », « , puis » only outside quotations, when
                                            the second half opens with a subject and both halves
                                            keep a verb and at least five words

What remains red goes to the editor in the report, or to one LLM repair call: ``failing()``
gives the ids, ``repair_instructions()`` the French instructions for the prompt.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from ..models import Article, Block, Check, SeoMeta
from ..quality.length import count_words
from . import build, french, text
from .checks import LONG_SENTENCE, failing, seo_checks

log = logging.getLogger(__name__)

_KEYPHRASE_CHECKS = {"keyphrase_in_introduction", "keyphrase_in_subheadings",
                     "keyphrase_density", "keyphrase_in_title", "keyphrase_length"}

REPAIR_HINTS = {
    "keyphrase_in_introduction": "Placez la requête cible « {kp} » dans une phrase du premier "
                                 "paragraphe, sans ajouter d’information.",
    "keyphrase_in_subheadings": "Reprenez la requête cible « {kp} » (ou l’essentiel de ses "
                                "mots) dans 30 à 75 % des intertitres H2/H3.",
    "keyphrase_density": "Employez la requête cible « {kp} » entre 0,5 et 3 % du texte, "
                         "naturellement.",
    "keyphrase_in_title": "Commencez le titre SEO par « {kp} » (60 caractères au plus).",
    "keyphrase_in_meta_description": "Écrivez une méta-description de 120 à 156 caractères, "
                                     "en phrases complètes, contenant « {kp} ».",
    "meta_description_length": "Écrivez une méta-description de 120 à 156 caractères, en "
                               "phrases complètes, contenant « {kp} ».",
    "meta_title_width": "Raccourcissez le titre SEO à 60 caractères au plus, sans couper de mot.",
    "sentence_length": "Coupez les phrases de plus de 20 mots (au plus 25 % des phrases), sans "
                       "toucher aux citations.",
    "transition_words": "Ajoutez des mots de transition (en effet, par ailleurs, cependant, "
                        "ainsi…) pour qu’au moins 30 % des phrases en contiennent.",
    "passive_voice": "Tournez à l’actif les phrases passives hors citations (au plus 10 %).",
    "paragraph_length": "Coupez les paragraphes de plus de 150 mots.",
    "subheading_distribution": "Ajoutez un intertitre H2 ou H3 tous les 300 mots au plus.",
    "flesch_reading_ease": "Simplifiez : phrases plus courtes, mots plus courants.",
    "text_length": "Développez le texte à partir des sources jusqu’à l’objectif de mots.",
}


def repair_instructions(check_ids: list[str], keyphrase: str) -> list[str]:
    """French instructions for a repair prompt, one per failing check that words can fix."""
    seen = dict.fromkeys(REPAIR_HINTS[i].format(kp=keyphrase) for i in check_ids
                         if i in REPAIR_HINTS)
    return list(seen)


def improve(article: Article, seo: SeoMeta, *, min_words: int = 700
            ) -> tuple[Article, SeoMeta, list[str]]:
    """Apply every safe fix; return the article, the metadata and the fixes applied (French)."""
    fixes: list[str] = []
    failed = set(failing(seo_checks(article, seo, min_words=min_words)))
    if "sentence_length" in failed:
        article, split = split_long_sentences(article)
        if split:
            fixes.append(f"{split} phrase(s) de plus de {LONG_SENTENCE} mots coupée(s) à un "
                         "point-virgule, deux-points ou une conjonction, hors citations.")
            failed = set(failing(seo_checks(article, seo, min_words=min_words)))
    seo, more = _fix_keyphrase(article, seo, failed)
    fixes += more
    failed = set(failing(seo_checks(article, seo, min_words=min_words)))
    seo, more = _fix_metadata(article, seo, failed)
    fixes += more
    for fix in fixes:
        log.info("seo fix: %s", fix)
    return article, seo, fixes


def _fix_keyphrase(article: Article, seo: SeoMeta, failed: set[str]) -> tuple[SeoMeta, list[str]]:
    if not failed & _KEYPHRASE_CHECKS:
        return seo, []
    better = build.choose_keyphrase(article, seo.keyphrase)
    if not better or french.tokens(better) == french.tokens(seo.keyphrase):
        return seo, []
    new = replace(seo, keyphrase=better, meta_title=build.meta_title(article, better),
                  meta_description=build.meta_description(article, better,
                                                          article.suggestions.meta_description),
                  slug=build.make_slug(better, article.title))
    return new, [f"Requête cible remplacée : « {seo.keyphrase} » → « {better} », présente dans "
                 "l’introduction, les intertitres ou le titre ; titre SEO, méta-description et "
                 "slug refaits en conséquence."]


def _fix_metadata(article: Article, seo: SeoMeta, failed: set[str]) -> tuple[SeoMeta, list[str]]:
    fixes: list[str] = []
    kp = seo.keyphrase
    if failed & {"meta_title_width", "keyphrase_in_title"}:
        title = build.meta_title(article, kp)
        if title != seo.meta_title:
            fixes.append(f"Titre SEO refait ({len(seo.meta_title)} → {len(title)} caractères).")
            seo = replace(seo, meta_title=title)
    if failed & {"meta_description_length", "keyphrase_in_meta_description"}:
        desc = build.meta_description(article, kp, article.suggestions.meta_description)
        if desc != seo.meta_description:
            fixes.append(f"Méta-description refaite ({len(seo.meta_description)} → "
                         f"{len(desc)} caractères).")
            seo = replace(seo, meta_description=desc)
    if failed & {"keyphrase_in_slug", "slug"}:
        slug = build.make_slug(kp, article.title)
        if slug != seo.slug:
            fixes.append(f"Slug refait : « {slug} ».")
            seo = replace(seo, slug=slug)
    return seo, fixes


# --- splitting long sentences ---------------------------------------------------------------

_SUBJECTS = frozenset(french.fold(w) for w in """il elle ils elles on nous vous je j ce c cela
ceci ces cette cet le la les l un une des son sa ses leur leurs notre nos votre vos mon ma mes
tous chaque plusieurs certains certaines aucun aucune ceux celui celle celles personne rien
moscou kiev""".split())
_SUBORDINATE_START = re.compile(r"^(si|s'|lorsqu|quand|alors qu|bien qu|parce qu|comme|"
                                r"puisqu|tandis qu|même si|dès qu|avant qu|après qu|afin qu|"
                                r"pour qu)", re.IGNORECASE)
# (pattern, what replaces it: the end of the first sentence + the start of the second)
_CUTS = (
    (re.compile(r"\s*;\s+"), ""),
    (re.compile(r",\s+mais\s+"), "Mais "),
    (re.compile(r",\s+car\s+"), "Car "),
    (re.compile(r",\s+puis\s+"), "Puis "),
    (re.compile(r",\s+et\s+"), ""),
    (re.compile(r"\s+:\s+"), ""),
)
_VERB_FORMS = frozenset(french.fold(w) for w in """est sont a ont était étaient sera seront fut
furent peut peuvent doit doivent va vont fait font dit reste restent semble semblent vient
viennent prend prennent avait avaient aura auront serait seraient pourrait pourraient devrait
devraient faut""".split())


def _has_verb(words: list[str]) -> bool:
    for word in words:
        low = french.fold(word)
        if low in _VERB_FORMS or re.search(r"(ait|aient|era|eront|erait|ent|ons|ez)$", low) \
                and not low.endswith("ment") and len(low) > 4:
            return True
    return False


def _quote_depth_map(sentence: str) -> list[int]:
    depth, out, straight = 0, [], False
    for char in sentence:
        if char in "«“":
            depth += 1
        elif char in "»”":
            depth = max(0, depth - 1)
        elif char == '"':
            straight = not straight
        out.append(depth + straight)
    return out


def _halves_ok(left: str, right: str) -> bool:
    lw, rw = left.split(), right.split()
    if len(lw) < 5 or len(rw) < 5 or _SUBORDINATE_START.match(french.normalize_spaces(left)):
        return False
    first = french.normalize_spaces(rw[0])
    starts_subject = (french.fold(first).split("'")[0] in _SUBJECTS
                      or (first[:1].isupper() and not french.is_stop(first)))
    return starts_subject and _has_verb(lw) and _has_verb(rw[1:] or rw)


def split_sentence(sentence: str) -> list[str]:
    """One long sentence as two (or more) sentences when a safe cut exists, else itself."""
    if count_words(sentence) <= LONG_SENTENCE:
        return [sentence]
    depth = _quote_depth_map(sentence)
    middle = len(sentence) / 2
    options = []
    for pattern, opener in _CUTS:
        for match in pattern.finditer(sentence):
            if depth[match.start()] or depth[min(match.end(), len(sentence) - 1)]:
                continue
            left, right = sentence[:match.start()].rstrip(" ,"), sentence[match.end():]
            if _halves_ok(left, right):
                options.append((abs(match.start() - middle), left, opener, right))
    if not options:
        return [sentence]
    _, left, opener, right = min(options, key=lambda o: o[0])
    right = opener + right if opener else right[:1].upper() + right[1:]
    return [*split_sentence(left + "."), *split_sentence(right)]


def _split_paragraph(paragraph: str) -> tuple[str, int]:
    if "<" in paragraph:            # inline markup: leave it to the editor or the LLM
        return paragraph, 0
    out, count = paragraph, 0
    for sentence in french.split_sentences(paragraph):
        parts = split_sentence(sentence)
        if len(parts) > 1 and sentence in out:
            out = out.replace(sentence, " ".join(parts), 1)
            count += 1
    return out, count


def split_long_sentences(article: Article) -> tuple[Article, int]:
    """Split the long sentences of paragraph blocks (quotes and lists are left alone)."""
    total = 0

    def fix_block(block: Block) -> Block:
        nonlocal total
        if block.kind != "paragraph":
            return block
        new_text, n = _split_paragraph(block.text)
        total += n
        return replace(block, text=new_text) if n else block

    intro = tuple(fix_block(b) for b in article.intro)
    sections = tuple(replace(s, blocks=tuple(fix_block(b) for b in s.blocks))
                     for s in article.sections)
    conclusion = replace(article.conclusion,
                         blocks=tuple(fix_block(b) for b in article.conclusion.blocks))
    return replace(article, intro=intro, sections=sections, conclusion=conclusion), total


# --- what could not be fixed, and why -------------------------------------------------------

def explain(article: Article, seo: SeoMeta, checks: list[Check],
            sources_text: str = "") -> dict[str, str]:
    """For each check still not green, why no deterministic fix applies (French, for the
    report's warnings); the numbers are measured, not assumed."""
    reasons = {}
    for check in checks:
        if check.status == "good":
            continue
        why = _EXPLAIN.get(check.id)
        reasons[check.id] = why(article, seo, sources_text) if why else _REWRITE.lstrip(": ")
    return reasons


def _fr(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


_REWRITE = ": à reprendre par l’appel de réparation ou la rédaction."


def _best_candidate(article: Article, measure) -> tuple[float, str]:
    pool = build.keyphrase_candidates(article) or [""]
    return max((measure(p), p) for p in pool)


def _why_density(article: Article, seo: SeoMeta, _: str) -> str:
    body = text.body(article)
    words = max(1, count_words(body))
    best, phrase = _best_candidate(article,
                                   lambda p: 100 * text.keyphrase_matches(body, p) / words)
    return (f"aucune expression de 2 à 4 mots du titre, de l’introduction ou des intertitres "
            f"n’atteint 0,5 % du texte (la meilleure, « {phrase} », {_fr(best)} %) ; "
            f"répéter une requête {_REWRITE}")


def _why_subheadings(article: Article, seo: SeoMeta, _: str) -> str:
    hits, heads = text.heading_share(article, seo.keyphrase)
    return (f"{hits} intertitre(s) sur {heads} reprennent « {seo.keyphrase} » et aucune autre "
            f"requête possible ne sert mieux l’ensemble des critères ; modifier les intertitres "
            f"{_REWRITE}")


def _why_description(article: Article, seo: SeoMeta, _: str) -> str:
    return (f"aucune suite de phrases entières de l’article entre {build.DESC_MIN} et "
            f"{build.DESC_MAX} caractères ne contient « {seo.keyphrase} » ; en écrire une "
            f"{_REWRITE}")


def _why_sentences(article: Article, seo: SeoMeta, _: str) -> str:
    from .checks import long_sentences
    stuck = [s for s in long_sentences(text.sentences(article)) if len(split_sentence(s)) == 1]
    return (f"{len(stuck)} phrase(s) de plus de {LONG_SENTENCE} mots n’ont aucune coupure sûre "
            f"(« ; », « , mais », « , et » + sujet…) hors citations ; les raccourcir {_REWRITE}")


def _why_flesch(article: Article, seo: SeoMeta, sources_text: str) -> str:
    mine = french.flesch_reading_ease(text.sentences(article))
    if sources_text:
        theirs = french.flesch_reading_ease(
            [s for p in sources_text.split("\n") for s in french.split_sentences(p)])
        return (f"score {_fr(mine)} ; les sources elles-mêmes obtiennent {_fr(theirs)} (phrases et mots "
                f"longs repris d’elles) ; simplifier {_REWRITE}")
    return f"score {_fr(mine)} : phrases et mots longs ; simplifier {_REWRITE}"


def _why_intro(article: Article, seo: SeoMeta, _: str) -> str:
    return (f"aucune requête possible ne figure à la fois dans le premier paragraphe et dans "
            f"le reste ; y placer « {seo.keyphrase} » {_REWRITE}")


_EXPLAIN = {
    "keyphrase_density": _why_density,
    "keyphrase_in_subheadings": _why_subheadings,
    "keyphrase_in_meta_description": _why_description,
    "meta_description_length": _why_description,
    "keyphrase_in_introduction": _why_intro,
    "sentence_length": _why_sentences,
    "flesch_reading_ease": _why_flesch,
}
