"""How wide a title is in Google's results, in pixels, without a browser.

Google's desktop results show titles in Arial 20 px inside a 600 px wide column; longer titles
are cut with « … ». Yoast SEO's snippet preview measures the SEO title in that font and its
« SEO title width » assessment is green from 1 to 600 px, red above (Yoast SEO, scoring
documentation, « SEO title width », PageTitleWidthAssessment). We approximate the browser's
measurement with Arial's advance widths (the Helvetica/Arial AFM metrics, in 1/1000 em); accents
and ligature-free letters take the width of their base letter, which is how Arial draws them.
The error against a browser is a few pixels on a 60-character title.
"""

from __future__ import annotations

import unicodedata

from .rules import TITLE_FONT_PX, TITLE_MAX_PX  # noqa: F401  (kept importable from here)

_W = {
    " ": 278, "!": 278, '"': 355, "#": 556, "$": 556, "%": 889, "&": 667, "'": 191, "(": 333,
    ")": 333, "*": 389, "+": 584, ",": 278, "-": 333, ".": 278, "/": 278, ":": 278, ";": 278,
    "<": 584, "=": 584, ">": 584, "?": 556, "@": 1015, "[": 278, "\\": 278, "]": 278,
    "^": 469, "_": 556, "`": 333, "{": 334, "|": 260, "}": 334, "~": 584,
    "A": 667, "B": 667, "C": 722, "D": 722, "E": 667, "F": 611, "G": 778, "H": 722, "I": 278,
    "J": 500, "K": 667, "L": 556, "M": 833, "N": 722, "O": 778, "P": 667, "Q": 778, "R": 722,
    "S": 667, "T": 611, "U": 722, "V": 667, "W": 944, "X": 667, "Y": 667, "Z": 611,
    "a": 556, "b": 556, "c": 500, "d": 556, "e": 556, "f": 278, "g": 556, "h": 556, "i": 222,
    "j": 222, "k": 500, "l": 222, "m": 833, "n": 556, "o": 556, "p": 556, "q": 556, "r": 333,
    "s": 500, "t": 278, "u": 556, "v": 500, "w": 722, "x": 500, "y": 500, "z": 500,
    "«": 556, "»": 556, "’": 222, "‘": 222, "“": 333, "”": 333, "–": 556, "—": 1000,
    "…": 1000, "€": 556, "œ": 944, "Œ": 1000, "æ": 889, "Æ": 1000, "ß": 611, "°": 400,
    "\u00a0": 278, "\u202f": 167, "\u2009": 167,
}
_DIGIT = 556
_UNKNOWN = 556                       # an average lowercase letter
WIDTHS, DEFAULT_UNITS = _W, _UNKNOWN  # exported to the editor panel by rules.as_dict()


def _char_width(char: str) -> int:
    if char in _W:
        return _W[char]
    if char.isdigit():
        return _DIGIT
    base = unicodedata.normalize("NFD", char)[0]
    return _W.get(base, _UNKNOWN)


def text_width_px(text: str, font_px: float) -> float:
    """Width of ``text`` in Arial at ``font_px``, in pixels (not rounded)."""
    return sum(_char_width(c) for c in text) * font_px / 1000


def title_width_px(text: str) -> float:
    """Width of ``text`` in Arial 20 px, in pixels (Google's and Yoast's title font)."""
    return round(sum(_char_width(c) for c in text) * TITLE_FONT_PX / 1000, 1)
