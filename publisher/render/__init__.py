"""Render stage: Article → sanitized Gutenberg blocks, and the editor's preview / dry-run folder.

    render_article(article, sources, link_policy="host") -> str     blocks.py
    clean_inline(html, allowed_links, mode="host") -> str          sanitize.py
    clean_document(html, allowed_links, mode="host") -> str        sanitize.py
    render_preview(draft, seo, report, site_url="") -> str         preview.py
    write_dry_run(folder, draft, seo, report, site_url="") -> Path preview.py
    read_dry_run(folder) -> (Draft, payload dict)                  preview.py
"""

from .blocks import render_article
from .preview import read_dry_run, render_preview, write_dry_run
from .sanitize import clean_document, clean_inline, clean_text

__all__ = ["render_article", "clean_inline", "clean_document", "clean_text", "render_preview",
           "write_dry_run", "read_dry_run"]
