"""How the CLI shows an Outcome: a short human summary, or one JSON object (``--json``).

Everything the CLI prints goes through ``echo`` / ``echo_json``: titles, warnings and error
messages carry text from models, pages, feeds and servers, and a terminal escape or a bidi
override in them must not reach the terminal (``textsafe``).
"""

from __future__ import annotations

import json
import logging

import click

from .models import DRY_RUN, FAILED, SKIPPED, Outcome
from .textsafe import safe_data, safe_text


def echo(text: object = "", **kwargs) -> None:
    """click.echo, with escape sequences, control, bidi and zero-width characters removed."""
    click.echo(safe_text(str(text)), **kwargs)


def echo_json(data: object, **kwargs) -> None:
    """One JSON document: strings made safe first (json.dumps would keep a bidi override raw
    and turn ESC into a \\u001b that a consumer decodes), then the text once more for the
    values ``default=str`` formats."""
    click.echo(safe_text(json.dumps(safe_data(data), ensure_ascii=False, default=str)),
               **kwargs)


class SafeLog(logging.Filter):
    """Log lines quote servers and pages: the formatted message loses its escapes too."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = safe_text(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


def as_dict(outcome: Outcome) -> dict:
    """The JSON contract of ``draft --json`` / ``push --json`` (documented in the README)."""
    post, draft, report, seo = outcome.post, outcome.draft, outcome.report, outcome.seo
    warnings = list(report.warnings if report else (draft.warnings if draft else ()))
    if post:
        warnings += [w for w in post.warnings if w not in warnings]
    data = {
        "outcome": outcome.kind,
        "id": post.id if post else None,
        "status": post.status if post else (draft.status if draft else None),
        "slug": post.slug if post else (draft.slug if draft else None),
        "link": post.link if post else None,
        "edit_link": post.edit_link if post else None,
        "word_count": report.word_count if report else (draft.word_count if draft else None),
        "warnings": warnings,
        "folder": outcome.folder or None,
        "reason": outcome.reason or None,
        "error": outcome.error or None,
    }
    if seo:
        data["seo"] = {"keyphrase": seo.keyphrase, "meta_title": seo.meta_title,
                       "meta_description": seo.meta_description, "tags": list(seo.tags),
                       "category": seo.category, "outline": list(seo.outline)}
    if report:
        data["llm"] = {"calls": report.llm_calls, "tokens_in": report.tokens_in,
                       "tokens_out": report.tokens_out, "cost": report.cost}
        data["untraceable"] = list(report.untraceable)
        data["injections"] = list(report.injections)
    return data


def show(outcome: Outcome, *, as_json: bool, wordpress: bool) -> None:
    if as_json:
        echo_json(as_dict(outcome))
        return
    for line in summary_lines(outcome, wordpress):
        echo(line)


def summary_lines(outcome: Outcome, wordpress: bool) -> list[str]:
    lines: list[str] = []
    post, draft, report, seo = outcome.post, outcome.draft, outcome.report, outcome.seo
    if outcome.kind == DRY_RUN:
        why = "" if wordpress else " (WordPress is not configured: set WP_URL, WP_USERNAME, WP_APP_PASSWORD to push)"
        lines.append(f"Dry run: nothing pushed{why}.")
        lines.append(f"  folder:  {outcome.folder}")
        lines.append(f"  preview: {outcome.folder}/preview.html")
        lines.append(f"  push it: publisher push {outcome.folder}")
    elif outcome.kind == SKIPPED and post:
        lines.append(f"Skipped ({outcome.reason}): #{post.id} ({post.status}) already holds "
                     "these sources; nothing spent. Use --update to rewrite it.")
        lines.append(f"  edit: {post.edit_link}")
        return lines
    elif post:
        verb = "Updated" if post.reused else "Created"
        lines.append(f"{verb} {post.status} #{post.id}: {draft.title if draft else ''}")
        lines.append(f"  link: {post.link}")
        lines.append(f"  edit: {post.edit_link}")
    if draft and not post:
        lines.append(f"  title: {draft.title}")
    if report:
        short = "  ⚠ SHORT" if report.short else ""
        lines.append(f"  words: {report.word_count} / {report.target_words}{short}")
        lines.append(f"  LLM: {report.llm_calls} calls, {report.tokens_in} in / "
                     f"{report.tokens_out} out tokens, ${report.cost:.4f}")
    if seo:
        lines.append(f"  keyphrase: {seo.keyphrase}  ·  slug: {seo.slug}")
        lines.append(f"  meta title ({len(seo.meta_title)}): {seo.meta_title}")
        lines.append(f"  meta description ({len(seo.meta_description)}): {seo.meta_description}")
        lines.append(f"  tags: {', '.join(seo.tags)}" + (f"  ·  category: {seo.category}" if seo.category else ""))
        lines.append("  outline:")
        lines.extend(f"    - {h}" for h in seo.outline)
    warnings = list(report.warnings) if report else []
    if post:
        warnings += [w for w in post.warnings if w not in warnings]
    if report and report.untraceable:
        warnings.append("to verify (not found in the sources): " + " | ".join(report.untraceable))
    lines.extend(f"  warning: {w}" for w in warnings)
    return lines


def exit_code(outcome: Outcome) -> int:
    return 1 if outcome.kind == FAILED else 0
