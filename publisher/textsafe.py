"""Text that cannot drive a terminal or reorder what a reader sees.

``safe_text`` removes, from any string that enters publisher (the model's answer, a source or
feed, a page's metadata) or leaves it (everything the CLI prints):

- terminal escape sequences, whole: ANSI CSI (``ESC [ … m``, also the 8-bit ``\\x9b``), OSC
  (``ESC ] … BEL`` / ``ESC \\``: window titles, hyperlinks), and any other ``ESC x``;
- the remaining C0/C1 control characters (BEL, backspace, carriage return, DEL…) except the
  newline and the tab, which text legitimately holds;
- bidirectional overrides and isolates (U+202A–202E, U+2066–2069) and marks (U+200E, U+200F,
  U+061C), which make a title read differently from what it holds;
- zero-width characters (U+200B–200D, U+2060–2064, U+FEFF, U+180E), which hide words from
  every check and from the editor.

French text is left exactly as it is: accents, « », —, ’, no-break and narrow no-break spaces.
"""

from __future__ import annotations

import re

# Sequences first, so their parameters ("[31m", "]0;title") do not survive as visible junk.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"            # CSI … final byte
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"   # OSC … BEL / ST
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"       # DCS, SOS, PM, APC … ST
    r"|\x1b[ -/]*[0-~]?")                            # any other escape (ESC c, ESC ( B…)
_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"                   # C0 (not \t \n), DEL, C1
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u061c\u180e]")


def safe_text(text: str) -> str:
    """``text`` without escape sequences, control, bidi or zero-width characters."""
    if not text:
        return text
    return _CHARACTERS.sub("", _SEQUENCES.sub("", text))


def safe_line(text: str, limit: int = 0) -> str:
    """A one-line label (site name, author, feed title): safe, whitespace collapsed, and cut
    at ``limit`` characters on a word boundary with "…" when ``limit`` is given."""
    line = " ".join(safe_text(str(text or "")).split())
    if limit and len(line) > limit:
        line = line[:limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-–—") + "…"
    return line


def safe_data(value):
    """``value`` (JSON-like: dict, list, tuple, str…) with every string made safe."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_data(k): safe_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(safe_data(v) for v in value)
    return value
