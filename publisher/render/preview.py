"""The editor's preview page and the dry-run folder.

``render_preview`` builds one standalone HTML page (inline CSS, no script, nothing loaded from
outside, ``lang="fr"``): the article as it will read, a Google-style search result cut where
Google cuts, the checklist in green/orange/red, the outline, tags, length, warnings,
untraceable claims, sources and LLM usage. Every dynamic string is escaped; the article body is
sanitized once more (a person may have edited it) and its block comments stripped.

``write_dry_run`` writes the folder ``publisher push DIR`` reads back (``read_dry_run``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

from ..models import Check, Draft, Report, SeoMeta
from ..seo import rules
from ..seo.width import text_width_px
from . import folder as checked, sanitize
from .folder import CONTENT_HASH, FORMAT


# Google's result title is 20px Arial cut near 600px; the snippet 14px Arial cut near 920px
# (two lines) and ~160 characters, whichever comes first: the numbers and the Arial widths
# are seo/rules.py's, shared with the checks and the editor panel of the companion plugin.
TITLE_PX, TITLE_SIZE = rules.TITLE_MAX_PX, rules.TITLE_FONT_PX
DESC_PX, DESC_SIZE, DESC_CHARS = rules.DESC_CUT_PX, rules.DESC_FONT_PX, rules.DESC_CUT_CHARS
ELLIPSIS = " …"
STATUS = rules.STATUS             # status → (group heading, one, many)
POST_STATUS = {"draft": "brouillon", "pending": "en attente de relecture",
               "future": "planifié", "publish": "publié", "private": "privé"}


# ---------------------------------------------------------------------------- SERP maths

def text_width(text: str, size_px: float) -> float:
    """Rendered width in px of ``text`` in Arial at ``size_px`` (estimate, ±3 %)."""
    return text_width_px(text, size_px)


def cut(text: str, max_px: float, size_px: float, max_chars: int = 10_000) -> tuple[str, bool]:
    """``text`` as Google shows it: whole if it fits, else cut at a word and ended by " …"."""
    text = " ".join(text.split())
    if text_width(text, size_px) <= max_px and len(text) <= max_chars:
        return text, False
    words, shown = text.split(" "), ""
    for word in words:
        candidate = f"{shown} {word}".strip()
        fits = text_width(candidate + ELLIPSIS, size_px) <= max_px
        if not fits or len(candidate) + len(ELLIPSIS) > max_chars:
            break
        shown = candidate
    if not shown:                            # one enormous word: cut inside it
        shown = words[0]
        while shown and text_width(shown + ELLIPSIS, size_px) > max_px:
            shown = shown[:-1]
    return shown.rstrip(" ,;:.-–—") + ELLIPSIS, True


@dataclass(frozen=True)
class Serp:
    """One search result as Google would draw it, plus the numbers an editor tunes."""

    site: str
    crumbs: str
    title: str
    title_cut: bool
    title_px: int
    description: str
    description_cut: bool
    description_chars: int
    title_chars: int = 0


def serp(seo: SeoMeta, *, site_url: str = "", slug: str = "", fallback_title: str = "",
         fallback_description: str = "") -> Serp:
    host = urlsplit(site_url).hostname or "votre-site.fr"
    root = f"https://{host}" if not site_url else site_url.rstrip("/").split("?")[0]
    path = (seo.slug or slug).strip("/")
    path, _ = cut(path, 300, 12) if path else ("", False)
    crumbs = f"{root} › {path}" if path else root
    full_title = seo.meta_title or fallback_title
    title, title_cut = cut(full_title, TITLE_PX, TITLE_SIZE)
    full_desc = seo.meta_description or fallback_description
    desc, desc_cut = cut(full_desc, DESC_PX, DESC_SIZE, DESC_CHARS)
    return Serp(host.removeprefix("www."), crumbs, title, title_cut,
                round(text_width(" ".join(full_title.split()), TITLE_SIZE)), desc, desc_cut,
                len(" ".join(full_desc.split())), len(" ".join(full_title.split())))


# ---------------------------------------------------------------------------- page parts

def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _panel(title: str, body: str, cls: str = "") -> str:
    return f'<section class="panel {cls}"><h2>{_e(title)}</h2>{body}</section>'


def _items(values: Iterable[str], cls: str = "plain") -> str:
    lis = "".join(f"<li>{_e(v)}</li>" for v in values)
    return f'<ul class="{cls}">{lis}</ul>' if lis else '<p class="muted">Aucun.</p>'


def _facts(claims: Iterable[str], passages: Iterable[str]) -> str:
    """Each untraceable figure or quotation with the source sentence nearest to it, as the
    block-editor panel shows them: where the editor starts checking."""
    nearest = list(passages)
    lis = "".join(
        f"<li>{_e(claim)}" + (f'<blockquote class="passage">Passage le plus proche : '
                              f"{_e(nearest[i])}</blockquote>" if i < len(nearest) and nearest[i]
                              else "") + "</li>"
        for i, claim in enumerate(claims))
    return f'<ul class="plain warn">{lis}</ul>'


def _serp_panel(s: Serp) -> str:
    initial = _e(s.site[:1].upper() or "?")
    notes = [rules.title_note(s.title_chars, s.title_px)
             + (rules.TITLE_CUT_NOTE if s.title_cut else ""),
             rules.description_note(s.description_chars)
             + (rules.DESCRIPTION_CUT_NOTE if s.description_cut else "")]
    body = (f'<div class="serp" id="serp"><div class="site"><span class="favicon">{initial}'
            f'</span><span><span class="site-name">{_e(s.site)}</span><br>'
            f'<span class="crumbs">{_e(s.crumbs)}</span></span></div>'
            f'<span class="title" id="serp-title">{_e(s.title)}</span>'
            f'<div class="desc" id="serp-description">{_e(s.description)}</div></div>'
            f'<ul class="serp-notes">{"".join(f"<li>{_e(n)}</li>" for n in notes)}</ul>')
    return _panel("Aperçu dans Google", body)


def _check_item(check: Check) -> str:
    status = check.status if check.status in STATUS else "ok"
    detail = f'<span class="check-detail">{_e(check.detail)}</span>' if check.detail else ""
    return (f'<li class="check {status}" data-check="{_e(check.id)}" '
            f'title="{_e(STATUS[status][0])}"><span class="dot"></span>'
            f'<span><span class="check-label">{_e(check.label)}</span>{detail}</span></li>')


def _count(status: str, n: int) -> str:
    word = STATUS[status][1] if n < 2 else STATUS[status][2]
    return f'<span class="{status}"><span class="dot"></span>{n} {_e(word)}</span>'


def _checks_panel(checks: tuple[Check, ...]) -> str:
    if not checks:
        return _panel("Contrôles SEO et lisibilité", '<p class="muted">Aucun contrôle.</p>')
    counts = "".join(_count(k, sum(c.status == k for c in checks)) for k in STATUS)
    groups = []
    for key, (title, *_) in STATUS.items():   # problems first: what the editor must fix
        found = [c for c in checks if (c.status if c.status in STATUS else "ok") == key]
        if found:
            groups.append(f'<h3 class="group">{_e(title)}</h3><ul class="checks">'
                          f'{"".join(map(_check_item, found))}</ul>')
    body = f'<div class="summary">{counts}</div>{"".join(groups)}'
    return _panel("Contrôles SEO et lisibilité", body, "checklist")


def _facts_panel(draft: Draft, seo: SeoMeta) -> str:
    tags = "".join(f'<span class="tag">{_e(t)}</span>' for t in (seo.tags or draft.tags))
    category = seo.category or ", ".join(draft.categories)
    rows = [("Requête cible", _e(seo.keyphrase) or '<span class="muted">—</span>'),
            ("Slug", _e(seo.slug or draft.slug)),
            ("Catégorie", _e(category) or '<span class="muted">—</span>'),
            ("Étiquettes", tags or '<span class="muted">—</span>'),
            ("Statut", _e(POST_STATUS.get(draft.status, draft.status))
             + (f" ({_e(draft.date)})" if draft.date else ""))]
    body = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return _panel("Référencement", f'<dl class="facts">{body}</dl>')


def _length_panel(draft: Draft, report: Report) -> str:
    words = report.word_count or draft.word_count
    target = report.target_words or 700
    ratio = min(words / target, 1.0) if target else 1.0
    color = "#1e8e3e" if words >= target else "#d93025"
    verdict = "objectif atteint" if words >= target else f"il manque {target - words} mots"
    body = (f'<p id="word-count"><strong>{words} mots</strong> pour un objectif de {target}'
            f' — {_e(verdict)}</p><div class="meter"><span style="width:{ratio:.0%};'
            f'background:{color}"></span></div>')
    return _panel("Longueur", body)


def outline_of(draft: Draft, seo: SeoMeta) -> tuple[str, ...]:
    if seo.outline:
        return seo.outline
    found = re.findall(r"<h2[^>]*>(.*?)</h2>", draft.content, re.S)
    return tuple(sanitize.clean_text(h) for h in found)


def _outline_panel(outline: tuple[str, ...]) -> str:
    lis = "".join(f"<li>{_e(h)}</li>" for h in outline)
    body = f'<ol class="outline">{lis}</ol>' if lis else '<p class="muted">Aucun intertitre.</p>'
    return _panel("Plan (intertitres H2)", body)


def _notes_panels(draft: Draft, report: Report) -> str:
    warnings = list(dict.fromkeys((*report.warnings, *draft.warnings)))
    parts = [_panel("Avertissements", _items(warnings, "plain warn"), "warnings")]
    if report.untraceable:
        parts.append(_panel("Chiffres et citations introuvables dans les sources",
                            _facts(report.untraceable, report.passages), "untraceable"))
    if report.injections:
        parts.append(_panel("Instructions suspectes dans les sources (ignorées)",
                            _items(report.injections, "plain warn"), "injections"))
    if report.repairs:
        parts.append(_panel("Corrections automatiques", _items(report.repairs)))
    sources = report.sources or tuple(u for u in (draft.source_url,) if u)
    parts.append(_panel("Sources", _items(sources)))
    return "".join(parts)


def _usage_panel(report: Report) -> str:
    cost = f"{report.cost:.4f}".replace(".", ",")
    head = (f"<p>{report.llm_calls} appel(s), {report.tokens_in} jetons en entrée, "
            f"{report.tokens_out} en sortie, coût estimé {cost} $</p>")
    rows = "".join(f"<tr><td>{_e(u.purpose)}</td><td>{_e(u.model)}</td>"
                   f'<td class="num">{u.input_tokens}</td><td class="num">{u.output_tokens}</td>'
                   f'<td class="num">{u.seconds:.1f} s</td></tr>' for u in report.usage)
    table = ('<table class="usage"><tr><th>Étape</th><th>Modèle</th><th class="num">Entrée</th>'
             f'<th class="num">Sortie</th><th class="num">Durée</th></tr>{rows}</table>'
             if rows else "")
    return _panel("Utilisation du modèle", head + table, "usage")


def _article(draft: Draft) -> str:
    body = sanitize.strip_delimiters(sanitize.clean_document(draft.content, mode="any"))
    excerpt = f'<p class="excerpt">{_e(draft.excerpt)}</p>' if draft.excerpt else ""
    image = ""
    if draft.image:
        credit = f" — crédit : {_e(draft.image_credit)}" if draft.image_credit else ""
        image = (f'<div class="image">Image à la une : {_e(draft.image)}'
                 f"{' — texte alternatif : ' + _e(draft.image_alt) if draft.image_alt else ''}"
                 f"{credit}</div>")
    return (f'<article class="post"><div class="post-body"><h1 id="post-title">'
            f"{_e(draft.title)}</h1>{excerpt}{image}{body}</div></article>")


def _css() -> str:
    return resources.files(__package__).joinpath("preview.css").read_text(encoding="utf-8")


def render_preview(draft: Draft, seo: SeoMeta, report: Report, *, site_url: str = "") -> str:
    """The standalone preview page (a string of HTML) for one draft."""
    snippet = serp(seo, site_url=site_url, slug=draft.slug, fallback_title=draft.title,
                   fallback_description=draft.excerpt)
    aside = "".join([_checks_panel(report.checks),
                     _length_panel(draft, report), _facts_panel(draft, seo),
                     _outline_panel(outline_of(draft, seo)), _notes_panels(draft, report),
                     _usage_panel(report)])
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return (f'<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Aperçu — {_e(draft.title)}</title><style>{_css()}</style></head><body>"
            f'<header class="bar"><strong>Aperçu du brouillon</strong>'
            f'<span class="status">non publié</span><span class="meta">'
            f"{_e(snippet.crumbs)}</span></header>"
            f'<main><div class="main-col">{_serp_panel(snippet)}{_article(draft)}</div>'
            f"<aside>{aside}</aside></main></body></html>\n")


# ---------------------------------------------------------------------------- dry-run folder

def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_dry_run(folder: Path, draft: Draft, seo: SeoMeta, report: Report, *,
                  site_url: str = "") -> Path:
    """Write a dry-run folder and return it. Files:

    ``payload.json`` — format ``publisher-draft/1``: one JSON object holding every field of
        ``Draft.to_dict()`` at the top level (title, content, excerpt, slug, status, date, tags,
        categories, meta, image, image_alt, image_credit, source_url, source_hash,
        word_count, warnings), plus ``"seo"`` (SeoMeta fields), ``"report"``
        (``Report.to_dict()``) and ``"format": "publisher-draft/1"``.
    ``content.html`` — the Gutenberg block HTML. A person may edit it; ``publisher push DIR``
        then uses it instead of ``payload["content"]`` (see ``read_dry_run``). Its SHA-256 as
        written is kept in the payload (``content_html_sha256``) so that an edit of
        ``payload["content"]`` alone is not overridden by the untouched file.
    ``preview.html`` — the editor's preview page (``render_preview``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    html = draft.content + "\n"
    payload = {**draft.to_dict(), "seo": asdict(seo), "report": report.to_dict(),
               "format": FORMAT, CONTENT_HASH: _sha256(html)}
    (folder / "payload.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n",
                                         encoding="utf-8")
    (folder / "content.html").write_text(html, encoding="utf-8")
    (folder / "preview.html").write_text(render_preview(draft, seo, report, site_url=site_url),
                                         encoding="utf-8")
    return folder


def read_dry_run(folder: Path) -> tuple[Draft, dict[str, Any]]:
    """(Draft, raw payload) from a dry-run folder; an edited ``content.html`` wins.

    The folder is checked as outside input (``folder.py``: no symbolic links, a schema, no status or date
    from it, every field cleaned). The edited HTML is sanitized again (no script, style,
    iframe, event handler; only our block types survive) but its links are the editor's own
    choice, so any http(s) link stays. The cleaning notes travel in ``Draft.warnings``.
    """
    folder = Path(folder)
    payload = checked.load_payload(folder)
    html = checked.read_file(folder, "content.html", checked.MAX_CONTENT)
    # content.html as written is no edit: then the payload's content (maybe edited) stands.
    if html is not None and _sha256(html) != payload.get(CONTENT_HASH):
        payload = {**payload, "content": html.strip()}
    draft, notes = checked.cleaned(Draft.from_dict(payload), folder / "payload.json")
    clean = sanitize.clean_document(draft.content, mode="any").strip()
    return Draft.from_dict({**draft.to_dict(), "content": clean,
                            "warnings": [*draft.warnings, *notes]}), payload
