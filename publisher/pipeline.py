"""One story through the stages, in order. The only module that knows the order.

    lookup ─► related ─► writer ─► quality ─► seo ─► render ─► Draft (+ SeoMeta, Report)
      ─► push ─► Outcome

No I/O of its own: it works over three declared ports, passed in — the LLM (:class:`LLMPort`,
writer/llm.py's client), a WordPress client (wordpress/port.py's ``WordPressPort``) and the
store (state/db.py's ``StorePort``) — and runs each external call through a step hook
(:class:`Step`): ``direct`` for the interactive path (``publisher.api``), DBOS steps for the
durable feed workflow (``publisher.workflows``), which so checkpoints every call and never
pays the LLM twice for a resumed story.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Protocol, TypeVar

from .errors import PublisherError, WordPressError
from .models import (DRAFTED, SKIPPED, Article, Brief, Draft, Outcome, PostResult, RelatedPosts,
                     Report, SeoMeta, Source, Usage)

if TYPE_CHECKING:          # the ports, named for the reader; none is needed to run
    from .state.db import StorePort
    from .wordpress.port import WordPressPort

log = logging.getLogger(__name__)

SEO_META_KEYS = {
    "yoast": ("_yoast_wpseo_title", "_yoast_wpseo_metadesc", "_yoast_wpseo_focuskw"),
    "rankmath": ("rank_math_title", "rank_math_description", "rank_math_focus_keyword"),
}
# Always written: the companion plugin prints them where no SEO plugin is active, and the
# editor panel edits them there.
OWN_SEO_KEYS = ("publisher_meta_title", "publisher_meta_description", "publisher_focus_keyphrase")


@dataclass(frozen=True)
class Options:
    """What the user asked for this story (CLI flags or feed settings)."""

    status: str = "draft"
    date: str = ""
    strict: bool = False
    max_repairs: int = 2
    image: str = ""
    image_alt: str = ""
    image_credit: str = ""
    category: str = ""
    categories: tuple[str, ...] = ()   # the site's categories, when known
    site_tags: tuple[str, ...] = ()    # the site's existing tags, when known
    seo_plugin: str = "both"
    related: RelatedPosts | None = None   # the site's posts near the story (related_posts)


@dataclass(frozen=True)
class Prepared:
    article: Article
    seo: SeoMeta
    report: Report
    draft: Draft


T = TypeVar("T")
R = TypeVar("R")


class LLMPort(Protocol):
    """What the stages ask of the LLM (writer/llm.py's ``LLM``; the workflow's ``DurableLLM``
    records each answer as a step)."""

    model: str

    def complete_json(self, messages: list[dict], schema: dict, *, purpose: str,
                      max_tokens: int | None = None) -> tuple[dict, Usage]:
        ...


class Step(Protocol):
    """Runs one external call of a story: ``step("related", fn, *args)`` returns ``fn(*args)``.
    The durable workflow checkpoints it under ``name``; a resumed story gets the recorded
    answer back instead of calling again."""

    def __call__(self, name: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        ...


def direct(name: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """The interactive path's step hook: nothing to checkpoint, the call runs now."""
    return fn(*args, **kw)


def prepare(sources: list[Source], brief: Brief, options: Options, llm: LLMPort,
            wordpress: WordPressPort | None = None, step: Step = direct) -> Prepared:
    """related → write → gate → SEO → render: everything between the lookup and the push.
    ``wordpress`` (a WordPressPort, None for a dry run) is searched once for related posts."""
    options = replace(options, related=step("related", related_posts, wordpress, sources))
    article, usage = write(sources, brief, llm, options.related)
    return finish(article, usage, sources, brief, llm, options)


# --- one story, start to outcome -------------------------------------------------------------

@dataclass(frozen=True)
class Story:
    """One story to take from its sources to its outcome."""

    sources: tuple[Source, ...]
    brief: Brief
    options: Options
    update: bool = False          # rewrite the post already drafted from these same sources
    keep_status: bool = False     # with ``update``: the post keeps the status it has

    @property
    def source_hash(self) -> str:
        return story_hash(list(self.sources))


class Turns(Protocol[R]):
    """The caller's side of one story, where the two ways of running it differ: `draft` asks
    now, writes dry-run folders and raises; the feed workflow checkpoints each call as a step
    and records the retries' standing. The order stays :func:`run_story`'s."""

    def lookup(self, source_hash: str) -> Found:
        """The post already made from these sources (``Found()``: none, or no site)."""
        ...

    def llm(self) -> LLMPort:
        """The story's LLM, made only once the lookup found nothing to reuse."""
        ...

    def push(self, draft: Draft, status: str | None, found: Found) -> PostResult:
        ...

    def kept_back(self, prepared: Prepared) -> R:
        """The gate refused the answer: kept where an editor can read it, never pushed."""
        ...

    def unpushed(self, prepared: Prepared) -> R | None:
        """The outcome of a story not to push (a dry run, --strict and short); None: push."""
        ...

    def failed(self, err: PublisherError, prepared: Prepared | None) -> R:
        """Record the failure; raise it, or return its outcome."""
        ...

    def record(self, outcome: Outcome) -> R:
        """Record the outcome; what the caller shows of it (an Outcome, a StoryResult)."""
        ...


def run_story(story: Story, turns: Turns[R], wordpress: WordPressPort | None = None,
              step: Step = direct) -> R:
    """lookup → related → write → gate → SEO → render → push → the recorded outcome: the one
    composition `publisher draft`, the feed workflow and the worker all run."""
    found = turns.lookup(story.source_hash)
    if found.post is not None and not story.update:   # an editor may be working on it
        return turns.record(Outcome(SKIPPED, reason="already_drafted", post=found.post))
    sources = list(story.sources)
    try:
        prepared = prepare(sources, story.brief, story.options, turns.llm(), wordpress, step)
    except PublisherError as err:           # history must say why
        return turns.failed(err, None)
    if prepared.report.blocked:             # not an article WordPress may ever hold
        return turns.kept_back(prepared)
    unpushed = turns.unpushed(prepared)
    if unpushed is not None:
        return unpushed
    # An editor may have moved the post on (pending review): a rewrite leaves that be.
    status = None if story.keep_status and found.post is not None else story.options.status
    try:
        post = turns.push(prepared.draft, status, found)
    except PublisherError as err:           # the article is paid for: the caller keeps it
        return turns.failed(err, prepared)
    return turns.record(Outcome(DRAFTED, post=post, draft=prepared.draft,
                                report=prepared.report, seo=prepared.seo))


# --- the story's WordPress side: the lookup before writing, the push after ------------------

@dataclass(frozen=True)
class Found:
    """What the source-hash lookup found: the post as WordPress gave it (handed on to the
    push, so that create_post need not ask again) and as a result to show; None, None when
    WordPress holds no post from these sources."""

    raw: dict | None = None
    post: PostResult | None = None


def lookup(wordpress: WordPressPort, source_hash: str, store: StorePort | None = None,
           site: str = "") -> Found:
    """The post ``wordpress`` (a WordPressPort) already holds for these sources, checked
    before any token is spent: asked to WordPress, else (XML-RPC without the companion
    plugin) found through the ``store``'s records of ``site`` (its front URL)."""
    raw = wordpress.find_by_source_hash(source_hash)
    if not raw and store is not None and not wordpress.supports_hash_lookup():
        raw = _recorded_post(wordpress, store, site, source_hash)
    if not raw:
        return Found()
    return Found(raw, _as_result(wordpress, raw))


def _as_result(wordpress: WordPressPort, post: dict) -> PostResult:
    title = post.get("title") or {}
    title = title.get("raw", "") if isinstance(title, dict) else str(title)
    return PostResult(id=int(post["id"]), status=post.get("status", ""),
                      slug=post.get("slug", ""), link=post.get("link", ""),
                      edit_link=wordpress.edit_link(int(post["id"])), reused=True,
                      warnings=(f"already drafted from these sources: « {title} »; "
                                "use --update to rewrite it",))


def _recorded_post(wordpress: WordPressPort, store: StorePort, site: str,
                   source_hash: str) -> dict | None:
    """The post we made on ``site`` from these sources, if WordPress still has it."""
    row = store.post_for_hash(site, source_hash)
    if not row:
        return None
    try:
        post = wordpress.get_post(int(row["post_id"]))
    except WordPressError as err:
        if err.status == 404:               # deleted since: writing it again is wanted
            return None
        raise
    return None if post.get("status") == "trash" else post


def push(wordpress: WordPressPort, draft: Draft, *, status: str | None = None,
         found: Found = Found(), looked_up: bool = False, author_id: int | None = None,
         site: str = "") -> PostResult:
    """Create the post (or rewrite the one ``found``), filed under the site's author.

    ``looked_up``: the lookup just asked WordPress, so create_post takes ``found`` as its
    answer instead of asking again. The status comes from the caller only, never from a
    payload: the client refuses "publish" unless it is passed here explicitly."""
    if found.post is not None and not wordpress.supports_hash_lookup():   # it cannot find it
        post = _update_known(wordpress, found.post, draft, status)
    elif looked_up:
        post = wordpress.create_post(draft, status=status, existing=found.raw, looked_up=True)
    else:
        post = wordpress.create_post(draft, status=status)
    post = file_under_author(wordpress, post, author_id, site)
    return replace(post, warnings=tuple(dict.fromkeys((*wordpress.warnings, *post.warnings))))


def _update_known(wordpress: WordPressPort, known: PostResult, draft: Draft,
                  status: str | None) -> PostResult:
    """--update of a post found through our records: rewrite it, as the REST client does for
    a post it finds by hash; a published one is left as it is."""
    if known.status not in ("draft", "pending", "auto-draft"):
        return replace(known, warnings=(f"post {known.id} from the same sources is already "
                                        f"{known.status}: left unchanged",))
    return replace(wordpress.update_post(known.id, draft, status=status), reused=True)


def file_under_author(wordpress: WordPressPort, post: PostResult, author_id: int | None,
                      site: str = "") -> PostResult:
    """The post filed under the site's author. Needs an account allowed to edit others'
    posts (Editor): otherwise the post stays under its creator, with a warning. Setting it
    again (a replayed step) changes nothing."""
    if not author_id or post.reused and post.status not in ("draft", "pending", "auto-draft"):
        return post
    try:
        wordpress.set_author(post.id, author_id)
    except PublisherError as err:
        message = f"post left under its creator, not filed under the site's author: {err}"
        log.warning("site %s: post %s %s", site or "default", post.id, message)
        return replace(post, warnings=(*post.warnings, message))
    return post


def story_hash(sources: list[Source]) -> str:
    """Identity of what was written from: the same sources give the same hash, in any order."""
    joined = "\n".join(sorted(s.content_hash for s in sources))
    return hashlib.sha256(joined.encode()).hexdigest()[:24]


def french(brief: Brief) -> Brief:
    """publisher writes French, whatever a brief asks: the brief may set length and tone only
    (the asked language is reported to the editor by ``finish``)."""
    return brief if brief.language == "fr" else replace(brief, language="fr")


# A model asked for far more words than its sources hold pads or invents; the gate flags the
# article as short instead (same 40 % rule as the gate's "source trop mince" warning).
THIN_SOURCE_SHARE = 0.4
THIN_SOURCE_STRETCH = 2.5


def writing_brief(sources: list[Source], brief: Brief) -> Brief:
    """What the writer is asked: the brief in French, its length capped to what thin sources
    can honestly carry (the gate still measures against the real target and flags it)."""
    from .quality.length import count_words
    brief = french(brief)
    found = sum(count_words(s.text) for s in sources)
    if found < brief.min_words * THIN_SOURCE_SHARE:
        return replace(brief, min_words=max(150, int(found * THIN_SOURCE_STRETCH)))
    return brief


def related_posts(site, sources: list[Source]) -> RelatedPosts:
    """The site's published posts near the story, asked once before writing (the request is
    wordpress/related.py's); without a site (dry run), an empty answer that says so."""
    if site is None:
        return RelatedPosts()
    from .seo.plan import keyphrase_candidates, search_terms
    from .wordpress.related import find_related
    story = [s.title for s in sources if s.title] + keyphrase_candidates(sources)[:5]
    return find_related(site, search_terms(sources), story)


def write(sources: list[Source], brief: Brief, llm,
          related: RelatedPosts | None = None) -> tuple[Article, list[Usage]]:
    """One generation, around a focus keyphrase chosen from the sources first (so that the
    article can be written for it, instead of rewritten for it), one that no other post of
    the site already has when the sources offer another; the writer may link the site's
    related posts."""
    from .seo.plan import plan_keyphrase
    from .writer.write import write_article
    related = related or RelatedPosts()
    article, usage = write_article(sources, writing_brief(sources, brief), llm,
                                   keyphrase=plan_keyphrase(sources, _taken(related)),
                                   related=related.offered)
    return article, list(usage)


def _taken(related: RelatedPosts) -> list[str]:
    return [p.keyphrase for p in related.found if p.keyphrase]


def related_notes(sources: list[Source], related: RelatedPosts | None) -> list[str]:
    """What the editor should know about the site search: it failed, or the keyphrase the
    sources suggested first was another post's, so the next one was written for."""
    from .seo.plan import keyphrase_key, plan_keyphrase
    if related is None:
        return []
    if related.reason == "search_failed":
        return [f"Articles du site non consultés ({related.error}) : ni liens internes, ni "
                "contrôle de la requête cible déjà utilisée."]
    first, chosen = plan_keyphrase(sources), plan_keyphrase(sources, _taken(related))
    owner = next((p for p in related.found if first and p.keyphrase
                  and keyphrase_key(p.keyphrase) == keyphrase_key(first)), None)
    if owner is None or chosen == first:
        return []
    return [f"Requête cible « {first} » déjà utilisée par « {owner.title} » ({owner.url}) : "
            f"article rédigé autour de « {chosen} »."]


def finish(article: Article, write_usage: list[Usage], sources: list[Source], brief: Brief,
           llm, options: Options) -> Prepared:
    """Quality gate, SEO, rendering: everything after the first LLM answer."""
    from .quality.gate import run_gate
    from .quality.injection import flag as flag_injections
    from .render.blocks import render_article
    from .sources.cap import cut_notes

    brief_fr = french(brief)
    article, report = run_gate(article, sources, brief_fr, llm, max_repairs=options.max_repairs)
    report = replace(report, warnings=(*report.warnings, *cut_notes(sources)))
    if brief.language != "fr":
        report = replace(report, warnings=(
            *report.warnings, f"Le brief demandait la langue « {brief.language} » : "
            "publisher rédige toujours en français."))
    report = replace(report, usage=(*write_usage, *report.usage), warnings=(
        *report.warnings, *related_notes(sources, options.related)))
    # An article the gate refuses is kept back, not polished: no SEO call is spent on it.
    article, seo, report = seo_stage(article, report, sources, brief_fr,
                                     None if report.blocked else llm, options)
    # Orders hidden in the sources were not obeyed; the editor still learns which they were.
    report = flag_injections(report, sources, article)
    content = render_article(article, sources, site_links=[
        p.url for p in (options.related.offered if options.related else ())])
    draft = make_draft(article, seo, report, content, sources, options)
    return Prepared(article, seo, report, draft)


# After the one generation, the LLM is asked again only for a red check that decides whether
# the article ranks for its keyphrase, and only for the part that fails: the introduction's
# first paragraph and the subheadings (keyphrase missing there), or the meta fields (when the
# builders could not make them from the article's own words). Readability scores (sentence
# length, transition words, passive voice, paragraph length, density…) are the editor's advice
# in the report: a whole rewrite for them costs a second generation and risks the facts.
SEO_PART_REPAIRABLE = ("keyphrase_in_introduction", "keyphrase_in_subheadings")
SEO_META_REPAIRABLE = ("keyphrase_in_title", "meta_title_width", "keyphrase_in_meta_description",
                       "meta_description_length")


def seo_stage(article: Article, report: Report, sources: list[Source], brief: Brief, llm,
              options: Options) -> tuple[Article, SeoMeta, Report]:
    """Build and check the SEO layer; fix deterministically, then, only for a red check that
    decides the ranking, one small call for the failing part, kept only if it makes the checks
    better without hurting the quality gate."""
    from .seo.checks import failing
    from .seo.fix import repair_instructions

    article, seo, fixes, checks = _seo_pass(article, sources, brief, options)
    report = replace(report, repairs=(*report.repairs, *fixes))
    kind = seo_repair_kind(checks)
    if llm is not None and kind:
        todo = [c for c in failing(checks) if c in SEO_PART_REPAIRABLE + SEO_META_REPAIRABLE]
        article, seo, report, checks = _seo_repair(
            article, seo, report, checks, repair_instructions(todo, seo.keyphrase),
            sources, brief, llm, options, parts=kind == "parts")
    from .seo.checks import site_checks
    return article, seo, replace(report, checks=(*report.checks, *_explained(
        article, seo, checks, sources), *site_checks(article, seo, options.related)))


def seo_repair_kind(checks) -> str:
    """"parts" (introduction and subheadings, with the meta fields), "meta" (the meta fields
    only) or "" (no call)."""
    red = {c.id for c in checks if c.status == "bad"}
    if red & set(SEO_PART_REPAIRABLE):
        return "parts"
    if red & set(SEO_META_REPAIRABLE):
        return "meta"
    return ""


def _seo_pass(article, sources, brief, options):
    from .quality.links import keep_site_links
    from .seo.build import build_seo
    from .seo.checks import seo_checks
    from .seo.fix import improve

    # Before any measure: a link the writer was not offered is no part of the article.
    article, unlinked = keep_site_links(article, options.related)
    seo = build_seo(article, sources, site_tags=list(options.site_tags),
                    categories=list(options.categories), default_category=options.category)
    article, seo, fixes = improve(article, seo, min_words=brief.min_words)
    fixes = [*unlinked, *fixes]
    if options.category:               # the user's --category always wins over detection
        seo = replace(seo, category=options.category)
    return article, seo, fixes, seo_checks(article, seo, min_words=brief.min_words)


def _seo_repair(article, seo, report, checks, instructions, sources, brief, llm, options, *,
                parts: bool):
    from .errors import LLMError
    from .quality.gate import run_gate
    from .writer.write import suggest_meta, suggest_parts

    try:
        if parts:
            revised, usage = suggest_parts(article, seo.keyphrase, instructions, llm)
        else:
            revised, usage = suggest_meta(article, seo.keyphrase, instructions, llm)
    except LLMError as err:
        note = f"Réparation SEO non appliquée : le modèle a échoué ({err.reason})."
        return article, seo, replace(report, warnings=(*report.warnings, note)), checks
    report = replace(report, usage=(*report.usage, usage))
    revised, gate = run_gate(revised, sources, brief, None)     # checks only, no more calls
    revised, new_seo, fixes, new_checks = _seo_pass(revised, sources, brief, options)
    if not _better(gate, new_checks, report, checks):
        note = "Réparation SEO écartée : elle n'améliorait pas les contrôles sans dégrader l'article."
        return article, seo, replace(report, repairs=(*report.repairs, note)), checks
    kept = replace(gate, usage=report.usage, repairs=(
        *report.repairs, "Réparation SEO appliquée : " + " ; ".join(instructions), *fixes))
    return revised, new_seo, kept, new_checks


def _better(gate: Report, new_checks, report: Report, checks) -> bool:
    good = lambda cs: sum(c.status == "good" for c in cs)          # noqa: E731
    bad = lambda cs: sum(c.status == "bad" for c in cs)            # noqa: E731
    return (good(new_checks) > good(checks) and bad(gate.checks) <= bad(report.checks)
            and len(gate.untraceable) <= len(report.untraceable)
            and (gate.word_count >= gate.target_words or gate.word_count >= report.word_count))


def _explained(article, seo, checks, sources):
    """Every check not green says why it could not be fixed, right where the editor reads it."""
    from .seo.fix import explain

    reasons = explain(article, seo, list(checks), "\n\n".join(s.text for s in sources))
    return tuple(replace(c, detail=f"{c.detail} — {reasons[c.id]}" if c.detail else reasons[c.id])
                 if c.id in reasons else c for c in checks)


def make_draft(article: Article, seo: SeoMeta, report: Report, content: str,
               sources: list[Source], options: Options) -> Draft:
    return Draft(
        title=article.title, content=content, excerpt=seo.excerpt, slug=seo.slug,
        status=options.status, date=options.date, tags=seo.tags,
        categories=(seo.category,) if seo.category else (),
        meta=seo_meta(seo, report, sources, options.seo_plugin),
        # Only an image the user gives: pictures on source pages belong to their publishers.
        image=options.image, image_alt=options.image_alt or article.title,
        image_credit=options.image_credit, source_url=_first_url(sources),
        source_hash=story_hash(sources), word_count=report.word_count,
        warnings=report.warnings)


def seo_meta(seo: SeoMeta, report: Report, sources: list[Source], plugin: str) -> dict[str, str]:
    values = (seo.meta_title, seo.meta_description, seo.keyphrase)
    meta: dict[str, str] = dict(zip(OWN_SEO_KEYS, values))
    for name, keys in SEO_META_KEYS.items():
        if plugin in (name, "both"):
            meta.update(zip(keys, values))
    meta["publisher_source_url"] = _first_url(sources)
    meta["publisher_source_hash"] = story_hash(sources)
    meta["publisher_report"] = json.dumps(report.to_dict(), ensure_ascii=False)
    meta.update(review_meta(report))
    return meta


def review_meta(report: Report) -> dict[str, str]:
    """What the editor must confirm before publishing, and the record of AI assistance (its
    date and disclosure line are added at push, from the site's settings)."""
    model = next((u.model for u in report.usage if u.purpose == "write"),
                 report.usage[0].model if report.usage else "")
    return {"publisher_to_verify": "1" if report.untraceable else "",
            "publisher_ai": json.dumps({"model": model}, ensure_ascii=False)}


def _first_url(sources: list[Source]) -> str:
    return next((s.url for s in sources if s.url), "")
