"""SEO and readability checks in French, modelled on Yoast SEO's published assessments.

Each check returns a ``models.Check`` with a stable ``id``, a French label, a status (good =
green, ok = orange, bad = red, as Yoast's traffic lights) and a detail that gives the numbers.
Sources: Yoast SEO's scoring documentation in its repository (packages/yoastseo/src/scoring/
assessments/scoringDocumentation/« SCORING SEO.md » and « SCORING READABILITY.md ») and the
French researcher (packages/yoastseo/src/languageProcessing/languages/fr/). Where we differ
from Yoast, the table says so and why.

| id                             | good                        | ok                    | bad             | source |
|--------------------------------|-----------------------------|-----------------------|-----------------|--------|
| keyphrase_length               | 2–4 words                   | 5–8 words             | none, > 8       | Yoast « Keyphrase length » (1–4 content words green, 5–8 orange, > 8 red); the brief asks 2–4 words |
| keyphrase_in_title             | at the start of the SEO title (function words aside) | elsewhere / content words only | absent | Yoast « Keyphrase in SEO title » |
| keyphrase_in_introduction      | content words in one sentence of the 1st paragraph | spread over the paragraph | absent | Yoast « Keyphrase in introduction » |
| keyphrase_in_slug              | all content words (> 2 words: more than half) | some | none | Yoast « Keyphrase in slug » |
| keyphrase_in_meta_description  | 1–2 matches                 | —                     | 0, > 2          | Yoast « Keyphrase in meta description » |
| keyphrase_in_subheadings       | 30–75 % of H2/H3 reflect it (or the only one does) | — | < 30 %, > 75 % | Yoast « Keyphrase in subheadings »: a heading reflects it with ≥ half its content words |
| keyphrase_density              | 0.5–3 %                     | —                     | < 0.5 %, > 3 %  | Yoast « Keyphrase density » (texts of 100+ words); matches counted as Yoast does: per sentence holding all content words |
| text_length                    | ≥ the brief's target (700)  | 300 – target          | < 300           | Yoast « Text length » (300 words green); we require the brief's target |
| meta_title_width               | ≤ 60 characters and ≤ 600 px | —                    | longer, empty   | Yoast « SEO title width » (600 px, Arial 20 px: see width.py); 60 characters is the brief's cap |
| meta_description_length        | 120–156 characters, whole sentence | shorter, longer, cut | empty | Yoast « Meta description length » (120–156 green, outside orange) |
| slug                           | ASCII, ≤ 60 characters      | longer                | empty, non-ASCII | the brief; WordPress keeps any slug but short ASCII ones survive sharing |
| tags_count                     | 3–8 tags                    | 1–2, > 8              | none            | the brief (Yoast has no tag check) |
| excerpt_length                 | 1–55 words                  | > 55 words            | empty           | WordPress's automatic excerpt length (``excerpt_length`` filter default 55) |
| subheading_distribution        | every stretch ≤ 300 words   | 300–350 words         | > 350 words     | Yoast « Subheading distribution » |
| paragraph_length               | every paragraph ≤ 150 words | 150–200 words         | > 200 words     | Yoast « Paragraph length » |
| sentence_length                | ≤ 25 % of sentences > 20 words | 25–30 %            | > 30 %          | Yoast « Sentence length » (French uses the default 20 words) |
| transition_words               | ≥ 30 % of sentences         | 20–30 %               | < 20 %          | Yoast « Transition words » (texts over 200 words; below that, good) |
| passive_voice                  | ≤ 10 % of sentences         | 10–15 %               | > 15 %          | Yoast « Passive voice » (French: periphrastic passive) |
| flesch_reading_ease            | ≥ 60                        | 50–60                 | < 50            | Kandel & Moles' French Flesch: 207 − 1.015 × words/sentence − 73.6 × syllables/word, as Yoast's French researcher computes it, with Yoast's default bands (no French override) |
| internal_links                 | 1–3 links to the related posts offered | nothing related on the site, or not asked (dry run, XML-RPC, search failed) | related posts offered, none linked | Yoast « Internal links » (none: red); site_checks(), after the others |
| keyphrase_already_used         | no other post of the site has it as focus keyphrase | one has, or not verifiable | several have | Yoast « Previously used keyphrase » (once: orange, more: red), among the posts the related search found |

Matching is case-, accent- and apostrophe-insensitive (« l’OTAN » holds « OTAN »), on whole
words, without Yoast Premium's word forms. Readability checks read the paragraphs (lists and
quotes included), not the subheadings, which are not sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from ..measure import Measured, measure, remember
from ..models import Article, Check, RelatedPosts, SeoMeta
from ..words import count_words
from . import french, text
from .rules import (DESC_MAX, DESC_MIN, EXCERPT_MAX_WORDS, FLESCH_GOOD, FLESCH_OK,
                    KEYPHRASE_DENSITY, KEYPHRASE_IN_DESCRIPTION, KEYPHRASE_MAX_WORDS,
                    KEYPHRASE_SUBHEADINGS, KEYPHRASE_WORDS, LONG_SENTENCE, PARAGRAPH_MAX,
                    PARAGRAPH_OK, PASSIVE_GOOD, PASSIVE_OK, SECTION_MAX, SECTION_OK,
                    SENTENCE_SHARE_GOOD, SENTENCE_SHARE_OK, SLUG_MAX, TAGS, TITLE_MAX_CHARS,
                    TITLE_MAX_PX, TRANSITION_GOOD, TRANSITION_OK, YOAST_MIN_WORDS)
from .plan import keyphrase_key
from .width import title_width_px


@dataclass(frozen=True)
class _Ctx:
    """What every check reads: the article, its measures (counted once) and the metadata."""

    article: Article
    measured: Measured
    seo: SeoMeta
    min_words: int

    @property
    def body(self) -> str:
        return self.measured.body

    @property
    def sentences(self) -> tuple[str, ...]:
        return self.measured.sentences

    @property
    def words(self) -> int:
        return self.measured.words


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _fr(value: float) -> str:
    """A number as a French reader writes it: 33,3 not 33.3."""
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _band(value: float, good: Callable[[float], bool], ok: Callable[[float], bool]) -> str:
    return "good" if good(value) else "ok" if ok(value) else "bad"


# --- keyphrase checks -----------------------------------------------------------------------

def _keyphrase_length(c: _Ctx) -> Check:
    n = len(c.seo.keyphrase.split())
    low, high = KEYPHRASE_WORDS
    status = "bad" if n == 0 or n > KEYPHRASE_MAX_WORDS else "good" if low <= n <= high else "ok"
    return Check("keyphrase_length", "Longueur de la requête cible", status,
                 f"« {c.seo.keyphrase} » : {n} mot(s) ; recommandé : {low} à {high}.")


def _keyphrase_in_title(c: _Ctx) -> Check:
    kp, title = c.seo.keyphrase, c.seo.meta_title
    if kp and french.contains_phrase(title, kp) and text.starts_with(title, kp):
        status, detail = "good", "La requête cible ouvre le titre SEO."
    elif kp and (french.contains_phrase(title, kp)
                 or set(french.content_words(kp)) <= set(french.tokens(title))):
        status, detail = "ok", "La requête cible est dans le titre SEO, mais pas au début."
    else:
        status, detail = "bad", "Le titre SEO ne contient pas la requête cible."
    return Check("keyphrase_in_title", "Requête cible dans le titre SEO", status, detail)


def _keyphrase_in_intro(c: _Ctx) -> Check:
    where = text.intro_match(c.article, c.seo.keyphrase) if c.seo.keyphrase else ""
    status, detail = {
        "sentence": ("good", "Le premier paragraphe contient la requête cible dans une phrase."),
        "paragraph": ("ok", "Les mots de la requête cible sont dans le premier paragraphe, "
                            "mais pas dans la même phrase."),
    }.get(where, ("bad", "Le premier paragraphe ne contient pas la requête cible."))
    return Check("keyphrase_in_introduction", "Requête cible dans l’introduction", status, detail)


def _keyphrase_in_slug(c: _Ctx) -> Check:
    wanted = french.content_words(c.seo.keyphrase) if c.seo.keyphrase else []
    slug_words = set(c.seo.slug.split("-"))
    found = [w for w in wanted if w in slug_words]
    enough = len(found) == len(wanted) if len(wanted) <= 2 else 2 * len(found) > len(wanted)
    status = "good" if wanted and enough else "ok" if found else "bad"
    return Check("keyphrase_in_slug", "Requête cible dans le slug", status,
                 f"{len(found)} mot(s) sur {len(wanted)} de la requête cible dans "
                 f"« {c.seo.slug} ».")


def _keyphrase_in_description(c: _Ctx) -> Check:
    n = text.keyphrase_matches(c.seo.meta_description, c.seo.keyphrase) if c.seo.keyphrase else 0
    low, high = KEYPHRASE_IN_DESCRIPTION
    status = "good" if low <= n <= high else "bad"
    return Check("keyphrase_in_meta_description", "Requête cible dans la méta-description",
                 status, f"Requête cible trouvée {n} fois (recommandé : {low} ou {high}).")


def _keyphrase_in_subheadings(c: _Ctx) -> Check:
    hits, heads = text.heading_share(c.article, c.seo.keyphrase)
    share, (low, high) = _pct(hits, heads), KEYPHRASE_SUBHEADINGS
    if heads == 0:
        status = "good" if c.words <= YOAST_MIN_WORDS else "bad"
    elif heads == 1:
        status = "good" if hits else "bad"
    else:
        status = "good" if low <= share <= high else "bad"
    detail = (f"{hits} intertitre(s) H2/H3 sur {heads} reprennent la requête cible "
              f"({_fr(share)} % ; recommandé : {low} à {high} %).")
    return Check("keyphrase_in_subheadings", "Requête cible dans les intertitres", status, detail)


def _keyphrase_density(c: _Ctx) -> Check:
    n = text.keyphrase_matches(c.body, c.seo.keyphrase) if c.seo.keyphrase else 0
    density = round(100 * n / c.words, 2) if c.words else 0.0
    low, high = KEYPHRASE_DENSITY
    status = "good" if low <= density <= high else "bad"
    return Check("keyphrase_density", "Densité de la requête cible", status,
                 f"{n} occurrence(s) pour {c.words} mots : {_fr(density)} % "
                 f"(recommandé : {_fr(low)} à {_fr(high)} %).")


# --- metadata checks ------------------------------------------------------------------------

def _text_length(c: _Ctx) -> Check:
    status = _band(c.words, lambda w: w >= c.min_words, lambda w: w >= YOAST_MIN_WORDS)
    return Check("text_length", "Longueur du texte", status,
                 f"{c.words} mots ; objectif : {c.min_words} (minimum Yoast : {YOAST_MIN_WORDS}).")


def _meta_title_width(c: _Ctx) -> Check:
    title = c.seo.meta_title
    px = title_width_px(title)
    good = 0 < len(title) <= TITLE_MAX_CHARS and px <= TITLE_MAX_PX
    return Check("meta_title_width", "Longueur du titre SEO", "good" if good else "bad",
                 f"{len(title)} caractères (max. {TITLE_MAX_CHARS}), {px:.0f} px "
                 f"(max. {TITLE_MAX_PX:.0f} px).")


def _meta_description_length(c: _Ctx) -> Check:
    desc = c.seo.meta_description
    n = len(desc)
    whole = bool(re.search(r"[.!?]\s*[»”\")]?$", desc))
    if not desc:
        status = "bad"
    else:
        status = "good" if DESC_MIN <= n <= DESC_MAX and whole else "ok"
    ending = "finit sur une phrase complète" if whole else "ne finit pas sur une phrase complète"
    return Check("meta_description_length", "Longueur de la méta-description", status,
                 f"{n} caractères (recommandé : {DESC_MIN} à {DESC_MAX}) ; {ending}.")


def _slug(c: _Ctx) -> Check:
    slug = c.seo.slug
    ascii_ok = bool(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug))
    status = "bad" if not ascii_ok else "good" if len(slug) <= SLUG_MAX else "ok"
    return Check("slug", "Slug", status,
                 f"« {slug} » : {len(slug)} caractères (max. {SLUG_MAX}), "
                 f"{'ASCII' if ascii_ok else 'caractères non ASCII ou vide'}.")


def _tags_count(c: _Ctx) -> Check:
    n = len(c.seo.tags)
    low, high = TAGS
    status = "good" if low <= n <= high else "bad" if n == 0 else "ok"
    return Check("tags_count", "Étiquettes", status,
                 f"{n} étiquette(s) (recommandé : {low} à {high}).")


def _excerpt_length(c: _Ctx) -> Check:
    n = count_words(c.seo.excerpt)
    status = "bad" if n == 0 else "good" if n <= EXCERPT_MAX_WORDS else "ok"
    return Check("excerpt_length", "Extrait", status,
                 f"{n} mots (max. {EXCERPT_MAX_WORDS}).")


# --- readability checks ---------------------------------------------------------------------

def _subheading_distribution(c: _Ctx) -> Check:
    stretches = [(h or "introduction", n)
                 for (h, _), n in zip(c.measured.sections, c.measured.section_words)]
    longest_name, longest = max(stretches, key=lambda s: s[1])
    if len(stretches) == 1:
        status = "good" if longest <= SECTION_MAX else "bad"
    else:
        status = _band(longest, lambda w: w <= SECTION_MAX, lambda w: w <= SECTION_OK)
    over = sum(1 for _, w in stretches if w > SECTION_MAX)
    return Check("subheading_distribution", "Répartition des intertitres", status,
                 f"Passage le plus long : {longest} mots (« {longest_name} ») ; "
                 f"{over} passage(s) au-delà de {SECTION_MAX} mots.")


def _paragraph_length(c: _Ctx) -> Check:
    sizes = c.measured.paragraph_words or (0,)
    longest = max(sizes)
    status = _band(longest, lambda w: w <= PARAGRAPH_MAX, lambda w: w <= PARAGRAPH_OK)
    over = sum(1 for w in sizes if w > PARAGRAPH_MAX)
    return Check("paragraph_length", "Longueur des paragraphes", status,
                 f"Paragraphe le plus long : {longest} mots ; {over} au-delà de "
                 f"{PARAGRAPH_MAX} mots.")


def long_sentences(sentences: Sequence[str]) -> list[str]:
    return [s for s in sentences if count_words(s) > LONG_SENTENCE]


def _sentence_length(c: _Ctx) -> Check:
    n_long = sum(1 for n in c.measured.sentence_words if n > LONG_SENTENCE)
    share = _pct(n_long, len(c.sentences))
    status = _band(share, lambda s: s <= SENTENCE_SHARE_GOOD, lambda s: s <= SENTENCE_SHARE_OK)
    return Check("sentence_length", "Longueur des phrases", status,
                 f"{n_long} phrase(s) sur {len(c.sentences)} dépassent {LONG_SENTENCE} mots "
                 f"({_fr(share)} % ; max. recommandé : {SENTENCE_SHARE_GOOD:.0f} %).")


def _transition_words(c: _Ctx) -> Check:
    n = sum(1 for s in c.sentences if french.has_transition(s))
    share = _pct(n, len(c.sentences))
    if c.words <= 200:
        status = "good"
    else:
        status = _band(share, lambda s: s >= TRANSITION_GOOD, lambda s: s >= TRANSITION_OK)
    return Check("transition_words", "Mots de transition", status,
                 f"{n} phrase(s) sur {len(c.sentences)} contiennent un mot de transition "
                 f"({_fr(share)} % ; recommandé : au moins {TRANSITION_GOOD:.0f} %).")


def _passive_voice(c: _Ctx) -> Check:
    n = sum(1 for s in c.sentences if french.is_passive(s))
    share = _pct(n, len(c.sentences))
    status = _band(share, lambda s: s <= PASSIVE_GOOD, lambda s: s <= PASSIVE_OK)
    return Check("passive_voice", "Voix passive", status,
                 f"{n} phrase(s) sur {len(c.sentences)} à la voix passive "
                 f"({_fr(share)} % ; max. recommandé : {PASSIVE_GOOD:.0f} %).")


def _flesch(c: _Ctx) -> Check:
    score = french.flesch_reading_ease(c.sentences)
    status = _band(score, lambda s: s >= FLESCH_GOOD, lambda s: s >= FLESCH_OK)
    return Check("flesch_reading_ease", "Facilité de lecture (Flesch, français)", status,
                 f"Score {_fr(score)} (≥ {FLESCH_GOOD:.0f} : facile à lire ; "
                 f"{FLESCH_OK:.0f}–{FLESCH_GOOD:.0f} : assez difficile ; "
                 f"< {FLESCH_OK:.0f} : difficile).")


_CHECKS = (
    _keyphrase_length, _keyphrase_in_title, _keyphrase_in_intro, _keyphrase_in_slug,
    _keyphrase_in_description, _keyphrase_in_subheadings, _keyphrase_density, _text_length,
    _meta_title_width, _meta_description_length, _slug, _tags_count, _excerpt_length,
    _subheading_distribution, _paragraph_length, _sentence_length, _transition_words,
    _passive_voice, _flesch,
)
CHECK_IDS = (
    "keyphrase_length", "keyphrase_in_title", "keyphrase_in_introduction", "keyphrase_in_slug",
    "keyphrase_in_meta_description", "keyphrase_in_subheadings", "keyphrase_density",
    "text_length", "meta_title_width", "meta_description_length", "slug", "tags_count",
    "excerpt_length", "subheading_distribution", "paragraph_length", "sentence_length",
    "transition_words", "passive_voice", "flesch_reading_ease",
)


def seo_checks(article: Article, seo: SeoMeta, *, min_words: int = 700,
               measured: Measured | None = None) -> list[Check]:
    """Every SEO and readability check, in a stable order. The checks read the article's
    ``Measured`` value (given, or the one ``measure`` keeps for this article version)."""
    def run() -> tuple[Check, ...]:
        ctx = _Ctx(article, measured or measure(article), seo, min_words)
        return tuple(check(ctx) for check in _CHECKS)

    # improve() and the pipeline check the same version with the same metadata again
    return list(remember(article, (seo_checks, seo, min_words), run))


def failing(checks: list[Check]) -> list[str]:
    """Ids of the checks that are not green: what a repair prompt is asked to fix."""
    return [c.id for c in checks if c.status != "good"]


# --- the site: internal links and keyphrases already used (one search, pipeline.related_posts)

SITE_CHECK_IDS = ("internal_links", "keyphrase_already_used")
NOT_ASKED = {
    "dry_run": "essai à blanc, aucun site WordPress consulté",
    "unsupported": "le site est joint par XML-RPC, sans recherche d'articles",
    "search_failed": "la recherche d'articles du site a échoué",
    "not_asked": "le site n'a pas été consulté avant la rédaction",
}


def site_checks(article: Article, seo: SeoMeta, related: RelatedPosts | None) -> list[Check]:
    """The checks that need the site's other posts; neutral (orange, « non vérifié ») when
    the site was not asked."""
    related = related or RelatedPosts(reason="not_asked")
    return [_internal_links(article, related), _keyphrase_already_used(seo, related)]


def _not_asked(related: RelatedPosts) -> str:
    return f"Non vérifié : {NOT_ASKED.get(related.reason, related.reason)}."


def _internal_links(article: Article, related: RelatedPosts) -> Check:
    from ..quality.links import linked_posts
    label = "Liens internes"
    if not related.asked:
        return Check("internal_links", label, "ok", _not_asked(related))
    if not related.offered:
        return Check("internal_links", label, "ok", "Aucun article publié du site ne traite "
                                                    "de ce sujet : rien à lier.")
    linked = linked_posts(article, related)
    if not linked:
        titles = " ; ".join(f"« {p.title} » ({p.url})" for p in related.offered[:3])
        return Check("internal_links", label, "bad", "Aucun lien vers les articles du site sur "
                     f"ce sujet ; liez-en un ou deux : {titles}.")
    titles = " ; ".join(f"« {p.title} »" for p in linked)
    return Check("internal_links", label, "good",
                 f"{len(linked)} lien(s) vers des articles du site : {titles}.")


def _keyphrase_already_used(seo: SeoMeta, related: RelatedPosts) -> Check:
    label = "Requête cible déjà utilisée"
    if not related.asked:
        return Check("keyphrase_already_used", label, "ok", _not_asked(related))
    if not related.keyphrases_shown:
        return Check("keyphrase_already_used", label, "ok", "Non vérifiable : le site ne montre "
                     "pas les requêtes cibles de ses articles (extension compagnon absente).")
    mine = keyphrase_key(seo.keyphrase)
    users = [p for p in related.found if mine and keyphrase_key(p.keyphrase) == mine]
    if not users:
        return Check("keyphrase_already_used", label, "good", f"« {seo.keyphrase} » n'est la "
                     "requête cible d'aucun autre article du site sur ce sujet.")
    where = " ; ".join(f"« {p.title} » ({p.url})" for p in users[:3])
    return Check("keyphrase_already_used", label, "ok" if len(users) == 1 else "bad",
                 f"« {seo.keyphrase} » est déjà la requête cible de {len(users)} article(s) "
                 f"du site : {where} ; choisissez-en une autre pour ne pas leur faire "
                 "concurrence.")
