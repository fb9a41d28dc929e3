"""Language detection by stop words, and Markdown leftovers (found and converted)."""

from pathlib import Path

import pytest

from publisher.models import Article, Block, Section
from publisher.quality.language import (clean_markdown, detect_language, foreign_sections,
                                        markdown_leaks)

SEEDS = sorted((Path(__file__).parent / "fixtures" / "seeds").glob("*.txt"))

ENGLISH = ("NATO Secretary General Jens Stoltenberg said on Thursday that Ukrainian forces are "
           "gradually gaining ground in their counteroffensive, during a surprise visit to Kyiv. "
           "He also announced that the alliance had signed contracts worth 2.4 billion euros.")
SPANISH = ("El secretario general de la OTAN, Jens Stoltenberg, afirmó este jueves que las "
           "fuerzas ucranianas están ganando terreno de forma progresiva en su contraofensiva, "
           "durante una visita sorpresa a Kiev.")
GERMAN = ("Der Nato-Generalsekretär Jens Stoltenberg hat bei einem Überraschungsbesuch in Kiew "
          "gesagt, dass die ukrainischen Truppen bei ihrer Gegenoffensive nach und nach an "
          "Boden gewinnen.")
FRENCH = ("L’OTAN a obtenu 2,4 milliards d’euros de contrats pour des munitions, a déclaré "
          "jeudi Jens Stoltenberg lors d’une visite surprise à Kiev, où il s’est entretenu avec "
          "le président ukrainien.")


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_every_seed_is_french(seed):
    assert detect_language(seed.read_text("utf-8")) == "fr"


@pytest.mark.parametrize("text, lang", [(ENGLISH, "en"), (SPANISH, "es"), (GERMAN, "de"),
                                        (FRENCH, "fr")])
def test_detects_the_four_languages(text, lang):
    assert detect_language(text) == lang


def test_too_short_or_wordless_text_is_undetermined():
    assert detect_language("Stoltenberg à Kiev") == "und"
    assert detect_language("2,4 — 155 — 2024 " * 10) == "und"


def article(*paragraphs: str, heading: str = "Le contexte", title: str = "Titre") -> Article:
    return Article(title, (Block(text=FRENCH),),
                   (Section(heading, tuple(Block(text=p) for p in paragraphs)),),
                   Section("Conclusion", (Block(text=FRENCH),)))


def test_an_english_section_inside_a_french_article_is_named():
    assert foreign_sections(article(ENGLISH, heading="Background")) == ["Background"]
    assert foreign_sections(article(FRENCH)) == []


def test_markdown_leftovers_are_listed():
    leaks = markdown_leaks(article("Il a dit **ceci** et *cela*, voir [Reuters](https://r.com).",
                                   heading="## Le contexte"))
    assert leaks == ["intertitre Markdown : ## Le contexte", "gras Markdown : **ceci**",
                     "italique Markdown : *cela*",
                     "lien Markdown : [Reuters](https://r.com)"]


def test_plain_french_with_stars_in_words_is_not_markdown():
    assert markdown_leaks(article("Le prix (5 * 3) et l’astérisque * seul.", FRENCH)) == []


def test_clean_markdown_converts_inline_and_drops_heading_marks():
    fixed = clean_markdown(article("Il a dit **ceci** et *cela*, voir [Reuters](https://r.com).",
                                   "- un point de liste", heading="## Le **contexte**",
                                   title="# Titre"))
    assert fixed.title == "Titre"
    assert fixed.sections[0].heading == "Le contexte"
    assert fixed.sections[0].blocks[0].text == \
        'Il a dit <strong>ceci</strong> et <em>cela</em>, voir <a href="https://r.com">Reuters</a>.'
    assert fixed.sections[0].blocks[1].text == "un point de liste"
    assert markdown_leaks(fixed) == []
