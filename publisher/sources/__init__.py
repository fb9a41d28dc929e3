"""Stage 1: inputs → cleaned ``Source`` objects and the editor's ``Brief``.

    load.py    file, stdin ("-"), http(s) URL, or several at once
    web.py     a web page → article text and metadata (trafilatura)
    clean.py   pasted-page junk removed by documented rules; title, byline, dateline kept
    brief.py   the instruction line at the top: length, tone, language — nothing else
"""

from .brief import split_brief
from .clean import clean_text
from .load import load_source, load_sources, source_from_text
from .web import extract

__all__ = ["load_source", "load_sources", "source_from_text", "clean_text", "split_brief",
           "extract"]
