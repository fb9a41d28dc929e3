"""publisher: news article in, SEO-ready French WordPress draft out.

The Python API (the CLI is a thin layer over it)::

    from publisher import Settings, DraftRequest, draft, push
    outcome = draft(DraftRequest(("article.txt",), dry_run=True), Settings.load())
    outcome.folder, outcome.report.word_count, outcome.seo.meta_title

Imports are lazy so that ``publisher --help`` starts fast.
"""

__version__ = "0.1.0"

__all__ = ["draft", "push", "DraftRequest", "Options", "Settings", "Outcome", "Draft",
           "Article", "Report", "SeoMeta", "Source", "PostResult", "PublisherError"]

_WHERE = {
    "draft": "api", "push": "api", "DraftRequest": "api", "Options": "pipeline",
    "Settings": "config", "PublisherError": "errors",
    "Outcome": "models", "Draft": "models", "Article": "models", "Report": "models",
    "SeoMeta": "models", "Source": "models", "PostResult": "models",
}


def __getattr__(name):
    if name in _WHERE:
        import importlib
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'publisher' has no attribute {name!r}")
