"""One story through the stages, in order. The only module that knows the order.

    sources ─► writer ─► quality ─► seo ─► render ─► Draft (+ SeoMeta, Report)

No I/O of its own: the LLM is passed in (its HTTP lives in writer/llm.py), pushing to WordPress
and recording state are done by the caller (``publisher.api`` or the feed workflows), so each
step can be checkpointed separately.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

from .models import Article, Brief, Draft, Report, SeoMeta, Source, Usage

SEO_META_KEYS = {
    "yoast": ("_yoast_wpseo_title", "_yoast_wpseo_metadesc", "_yoast_wpseo_focuskw"),
    "rankmath": ("rank_math_title", "rank_math_description", "rank_math_focus_keyword"),
}


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


@dataclass(frozen=True)
class Prepared:
    article: Article
    seo: SeoMeta
    report: Report
    draft: Draft


def story_hash(sources: list[Source]) -> str:
    """Identity of what was written from: the same sources give the same hash, in any order."""
    joined = "\n".join(sorted(s.content_hash for s in sources))
    return hashlib.sha256(joined.encode()).hexdigest()[:24]


def french(brief: Brief) -> Brief:
    """publisher writes French, whatever a brief asks: the brief may set length and tone only
    (the asked language is reported to the editor by ``finish``)."""
    return brief if brief.language == "fr" else replace(brief, language="fr")


def write(sources: list[Source], brief: Brief, llm) -> tuple[Article, list[Usage]]:
    from .writer.write import write_article
    article, usage = write_article(sources, french(brief), llm)
    return article, list(usage)


def finish(article: Article, write_usage: list[Usage], sources: list[Source], brief: Brief,
           llm, options: Options) -> Prepared:
    """Quality gate, SEO, rendering: everything after the first LLM answer."""
    from .quality.gate import run_gate
    from .render.blocks import render_article
    from .seo.build import build_seo
    from .seo.checks import seo_checks
    from .seo.fix import improve

    # --strict is enforced by the caller, after the draft is saved: tokens spent are never lost.
    article, report = run_gate(article, sources, french(brief), llm,
                               max_repairs=options.max_repairs)
    if brief.language != "fr":
        report = replace(report, warnings=(
            *report.warnings, f"Le brief demandait la langue « {brief.language} » : "
            "publisher rédige toujours en français."))
    seo = build_seo(article, sources, site_tags=list(options.site_tags),
                    categories=list(options.categories), default_category=options.category)
    article, seo, fixes = improve(article, seo)
    report = replace(report, usage=(*write_usage, *report.usage),
                     repairs=(*report.repairs, *fixes),
                     checks=(*report.checks, *seo_checks(article, seo)))
    content = render_article(article, sources)
    draft = make_draft(article, seo, report, content, sources, options)
    return Prepared(article, seo, report, draft)


def make_draft(article: Article, seo: SeoMeta, report: Report, content: str,
               sources: list[Source], options: Options) -> Draft:
    return Draft(
        title=article.title, content=content, excerpt=seo.excerpt, slug=seo.slug,
        status=options.status, date=options.date, tags=seo.tags,
        categories=(seo.category,) if seo.category else (),
        meta=seo_meta(seo, report, sources, options.seo_plugin),
        image=options.image or _first_image(sources), image_alt=options.image_alt or article.title,
        image_credit=options.image_credit, source_url=_first_url(sources),
        source_hash=story_hash(sources), word_count=report.word_count,
        warnings=report.warnings)


def seo_meta(seo: SeoMeta, report: Report, sources: list[Source], plugin: str) -> dict[str, str]:
    values = (seo.meta_title, seo.meta_description, seo.keyphrase)
    meta: dict[str, str] = {}
    for name, keys in SEO_META_KEYS.items():
        if plugin in (name, "both"):
            meta.update(zip(keys, values))
    meta["publisher_source_url"] = _first_url(sources)
    meta["publisher_source_hash"] = story_hash(sources)
    meta["publisher_report"] = json.dumps(report.to_dict(), ensure_ascii=False)
    return meta


def _first_url(sources: list[Source]) -> str:
    return next((s.url for s in sources if s.url), "")


def _first_image(sources: list[Source]) -> str:
    # Images found on source pages belong to their publishers: never reuse them silently.
    return ""
