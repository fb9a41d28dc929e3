"""How much of one source the model is sent: at most PUBLISHER_MAX_SOURCE_CHARS characters.

A 1.9 MB page (an archive, a live blog, a whole report) once became three requests of 460k
tokens each: the cost of a hundred articles for one, and over most models' context. A source
longer than the cap keeps its beginning (where a news article puts what matters), cut at the
last paragraph end before the cap, else the last sentence end, else the last space. The cut
is logged when it happens and shown in the editor's report (``cut_notes``), and every later
stage (keyphrase, facts check, credit) sees the same text the model saw.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from ..models import Source

log = logging.getLogger(__name__)

DEFAULT_MAX_CHARS = 60_000          # ~15k tokens of French: five times a long article
_SENTENCE_END = re.compile(r"[.!?»…]\s")


def cap_source(source: Source, max_chars: int = DEFAULT_MAX_CHARS) -> Source:
    """``source`` with its text cut to ``max_chars`` at a clean boundary (unchanged if it
    fits); ``cut_from`` keeps the length it had."""
    text = source.text
    if len(text) <= max_chars:
        return source
    cut = _boundary(text, max_chars)
    log.warning("%s: its text is %d characters; only the first %d go to the model "
                "(PUBLISHER_MAX_SOURCE_CHARS=%d)", _where(source), len(text), cut, max_chars)
    return replace(source, text=text[:cut].rstrip(), cut_from=len(text))


def cut_notes(sources: list[Source]) -> list[str]:
    """The editor's report lines (French) for the sources that were cut."""
    return [f"Source « {s.label} » tronquée : seuls les {len(s.text):,} premiers caractères "
            f"sur {s.cut_from:,} ont été envoyés au modèle (PUBLISHER_MAX_SOURCE_CHARS)."
            .replace(",", "\u202f") for s in sources if s.cut_from]


def _boundary(text: str, limit: int) -> int:
    """Where to cut: a paragraph end, else a sentence end, else a space, in the last half
    before ``limit``; ``limit`` itself when the text has none of them there."""
    window = text[:limit]
    floor = limit // 2
    paragraph = window.rfind("\n\n")
    if paragraph >= floor:
        return paragraph
    sentences = [m.end() - 1 for m in _SENTENCE_END.finditer(window, floor)]
    if sentences:
        return sentences[-1]
    space = window.rfind(" ")
    return space if space >= floor else limit


def _where(source: Source) -> str:
    return source.origin or source.url or source.label
