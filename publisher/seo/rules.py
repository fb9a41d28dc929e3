"""The SEO thresholds and their French wording, in one place.

The builders (``build.py``), the checks (``checks.py``), the dry-run preview
(``render/preview.py``) and the block-editor panel of the companion plugin all read these
numbers, so the editor never sees two ranges for one field. The panel is JavaScript: it reads
``wordpress-plugin/publisher-companion/rules.json``, which ``export()`` writes from this module
(``python -m publisher.seo.rules`` regenerates it; a test keeps the two equal). Where each
number comes from is documented in the table of ``checks.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

# --- meta title: Google's result title is Arial 20 px in a 600 px column (Yoast: 600 px) ----
TITLE_MAX_CHARS = 60
TITLE_FONT_PX = 20
TITLE_MAX_PX = 600.0

# --- meta description: Yoast's green range; Google cuts the snippet near 920 px of Arial
# 14 px (two lines) or ~160 characters, whichever comes first -------------------------------
DESC_MIN, DESC_MAX = 120, 156
DESC_FONT_PX = 14
DESC_CUT_PX = 920
DESC_CUT_CHARS = 160

# --- keyphrase ------------------------------------------------------------------------------
KEYPHRASE_WORDS = (2, 4)            # green
KEYPHRASE_MAX_WORDS = 8             # above: red
KEYPHRASE_IN_DESCRIPTION = (1, 2)   # matches in the meta description
KEYPHRASE_DENSITY = (0.5, 3.0)      # % of the words
KEYPHRASE_SUBHEADINGS = (30, 75)    # % of the H2/H3 that reflect it

# --- slug, tags, excerpt, text ---------------------------------------------------------------
SLUG_MAX = 60
TAGS = (3, 8)
EXCERPT_MAX_WORDS = 55              # WordPress's own automatic excerpt length
YOAST_MIN_WORDS = 300
SECTION_MAX, SECTION_OK = 300, 350
PARAGRAPH_MAX, PARAGRAPH_OK = 150, 200
LONG_SENTENCE = 20
SENTENCE_SHARE_GOOD, SENTENCE_SHARE_OK = 25.0, 30.0
TRANSITION_GOOD, TRANSITION_OK = 30.0, 20.0
PASSIVE_GOOD, PASSIVE_OK = 10.0, 15.0
FLESCH_GOOD, FLESCH_OK = 60.0, 50.0

# --- wording shared by the preview page and the panel ----------------------------------------
# status → (group heading, one, many), as Yoast's traffic lights
STATUS = {"bad": ("Problèmes", "problème", "problèmes"),
          "ok": ("Améliorations", "amélioration", "améliorations"),
          "good": ("Bons résultats", "bon résultat", "bons résultats")}
# {name} placeholders, filled by str.format in Python and by a replace in the panel
TITLE_NOTE = "Titre SEO : {chars} caractères (max. {max_chars}), {px} px (max. {max_px} px)"
DESCRIPTION_NOTE = "Méta-description : {chars} caractères (recommandé : {min} à {max})"
TITLE_CUT_NOTE = " — coupé par Google"
DESCRIPTION_CUT_NOTE = " — coupée par Google"

RULES_JSON = (Path(__file__).resolve().parents[2] / "wordpress-plugin" / "publisher-companion"
              / "rules.json")


def title_note(chars: int, px: float) -> str:
    return TITLE_NOTE.format(chars=chars, max_chars=TITLE_MAX_CHARS, px=round(px),
                             max_px=round(TITLE_MAX_PX))


def description_note(chars: int) -> str:
    return DESCRIPTION_NOTE.format(chars=chars, min=DESC_MIN, max=DESC_MAX)


def as_dict() -> dict:
    """Every rule as plain JSON values, with the Arial advance widths the pixel counts use."""
    from .width import DEFAULT_UNITS, WIDTHS   # late import: width.py imports this module
    return {
        "title": {"max_chars": TITLE_MAX_CHARS, "max_px": TITLE_MAX_PX, "font_px": TITLE_FONT_PX},
        "description": {"min": DESC_MIN, "max": DESC_MAX, "font_px": DESC_FONT_PX,
                        "cut_px": DESC_CUT_PX, "cut_chars": DESC_CUT_CHARS},
        "keyphrase": {"words": list(KEYPHRASE_WORDS), "max_words": KEYPHRASE_MAX_WORDS,
                      "in_description": list(KEYPHRASE_IN_DESCRIPTION),
                      "density": list(KEYPHRASE_DENSITY),
                      "subheadings": list(KEYPHRASE_SUBHEADINGS)},
        "slug_max": SLUG_MAX, "tags": list(TAGS), "excerpt_max_words": EXCERPT_MAX_WORDS,
        "text": {"yoast_min_words": YOAST_MIN_WORDS, "section": [SECTION_MAX, SECTION_OK],
                 "paragraph": [PARAGRAPH_MAX, PARAGRAPH_OK], "long_sentence": LONG_SENTENCE,
                 "sentence_share": [SENTENCE_SHARE_GOOD, SENTENCE_SHARE_OK],
                 "transition": [TRANSITION_GOOD, TRANSITION_OK],
                 "passive": [PASSIVE_GOOD, PASSIVE_OK], "flesch": [FLESCH_GOOD, FLESCH_OK]},
        "wording": {"status": {k: list(v) for k, v in STATUS.items()},
                    "title_note": TITLE_NOTE, "description_note": DESCRIPTION_NOTE,
                    "title_cut_note": TITLE_CUT_NOTE,
                    "description_cut_note": DESCRIPTION_CUT_NOTE},
        # 1/1000 em per character; a letter with an accent takes its base letter's width
        "arial_units": {"default": DEFAULT_UNITS, "chars": dict(sorted(WIDTHS.items()))},
    }


def export(path: Path = RULES_JSON) -> Path:
    """Write rules.json for the companion plugin's editor panel."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(export())
