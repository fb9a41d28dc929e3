"""Figures and quotations against the source: tricky French typography, no false positives on
the real seeds."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from publisher.models import Article, Block, Section, Source
from publisher.quality.facts import (find_figures, find_quotes, parse_number, quote_traceable,
                                     untraceable)

SEEDS = sorted((Path(__file__).parent / "fixtures" / "seeds").glob("*.txt"))

SOURCE = (
    "Stoltenberg a ajouté que l’OTAN avait obtenu 2,4 milliards d’euros de contrats pour des "
    "munitions. Ces accords, qui comprennent 1 milliard d’euros de commandes fermes, couvrent "
    "l’artillerie de 155 millimètres. « Aujourd’hui, vos forces avancent. » Moscou a lancé plus "
    "de 40 drones. Près de 100 milliards d’euros de soutien. Au moins 14 autres chars d’ici le "
    "début de 2024. Une armée de 10 000 soldats. La guerre dure depuis deux ans. "
    "« Je suis retourné à Kiev cette semaine pour demander au président [Zelenskyy] ce dont il "
    "a besoin pour gagner », a écrit Shapps. Stoltenberg a déclaré que la « place légitime » "
    "de l'Ukraine était dans l'alliance."
)


def article(*paragraphs: str, heading: str = "Le contexte") -> Article:
    return Article("Titre sans chiffre", (),
                   (Section(heading, tuple(Block(text=p) for p in paragraphs)),),
                   Section("Conclusion", (Block(text="Une conclusion."),)))


def missing(*paragraphs: str, source: str = SOURCE) -> list[str]:
    return untraceable(article(*paragraphs), [Source(text=source)])


@pytest.mark.parametrize("written, values", [
    ("2,4", {Decimal("2.4")}), ("2.4", {Decimal("2.4")}), ("10 000", {Decimal(10000)}),
    ("10\u00a0000", {Decimal(10000)}), ("10\u202f000", {Decimal(10000)}),
    ("1,000", {Decimal(1), Decimal(1000)}), ("1.234,5", {Decimal("1234.5")}),
])
def test_numbers_read_in_french_and_english(written, values):
    assert parse_number(written) == values


def test_figures_carry_scale_and_unit():
    found = {f.text: (f.values, f.unit) for f in find_figures(
        "2,4 milliards d’euros (2,53 milliards de dollars), 3,7\u00a0%, 5 M€, 155 millimètres")}
    assert found["2,4 milliards d’euros"] == ({Decimal("2.4E9")}, "eur")
    assert found["2,53 milliards de dollars"] == ({Decimal("2.53E9")}, "usd")
    assert found["3,7\u00a0%"] == ({Decimal("3.7")}, "pct")
    assert found["5 M€"] == ({Decimal("5E6")}, "eur")
    assert found["155"] == ({Decimal(155)}, "")      # millimètres is a unit, not a scale


def test_figures_from_the_source_are_traceable_whatever_the_spacing():
    assert missing("L’OTAN a signé pour 2,4\u00a0milliards d'euros de contrats, dont "
                   "1 milliard d’euros de commandes fermes, pour des obus de 155 mm.",
                   "Environ 100 milliards d’euros, 40 drones, 14 autres chars en 2024, "
                   "10\u202f000 soldats, 10000 soldats.") == []


def test_english_decimal_point_matches_french_comma():
    assert untraceable(article("Un contrat de 2,4 milliards d’euros."),
                       [Source(text="NATO signed 2.4 billion euros of contracts.")]) == []


def test_spelled_out_number_in_the_source_counts():
    assert missing("La guerre dure depuis 2 ans.") == []
    assert missing("Sa 1re visite, 4 questions et 90 chars.",
                   source="Sa première visite, quatre questions et quatre-vingt-dix chars.") == []
    assert missing("Il y a 3 ans.", source="Il y a deux ans.") == ["3"]


def test_invented_or_altered_figures_are_listed():
    assert missing("L’OTAN a obtenu 3,7 milliards d’euros.") == ["3,7 milliards d’euros"]
    # The right number at the wrong scale is a different fact.
    assert missing("L’OTAN a obtenu 2,4 millions d’euros.") == ["2,4 millions d’euros"]
    assert missing("Le contrat vaut 2,4 milliards de dollars.") == ["2,4 milliards de dollars"]
    assert missing("Une hausse de 40 %.") == ["40 %"]
    assert missing("Une armée de 12 000 soldats en 2025.") == ["12 000", "2025"]


def test_list_ordinals_are_structure_not_facts():
    art = Article("Titre", (Block(kind="list", items=("1. Les munitions", "2) Les chars")),),
                  (Section("Les enjeux", (Block(text="Un texte."),)),),
                  Section("Conclusion", (Block(text="Fin."),)))
    assert untraceable(art, [Source(text=SOURCE)]) == []


def test_quotes_found_in_reading_order_whatever_the_marks():
    text = 'Il a dit « Aujourd’hui, vos forces avancent » puis "oui" et “non merci”.'
    assert find_quotes(text) == ["Aujourd’hui, vos forces avancent", "oui", "non merci"]


@pytest.mark.parametrize("quote", [
    "Aujourd'hui, vos forces avancent.",                # ' for ’, no French spaces
    "aujourd’hui,\u00a0vos forces avancent",            # case, NBSP, no final stop
    "[…] vos forces avancent",                          # cut at the start
    "Je suis retourné à Kiev […] pour gagner",          # cut in the middle
    "demander au président [Zelensky] ce dont il a besoin",   # bracketed insertion
    "place légitime",
])
def test_quotes_match_through_typography_and_cuts(quote):
    assert quote_traceable(quote, [SOURCE])


@pytest.mark.parametrize("quote", [
    "Aujourd’hui, nos forces avancent.",                # one word changed
    "vos forces avancent vite",                         # a word added at the end
    "pour gagner […] Je suis retourné à Kiev",          # fragments out of order
    "lace légitime",                                    # not on a word boundary
])
def test_altered_quotes_are_not_traceable(quote):
    assert not quote_traceable(quote, [SOURCE])


def test_untraceable_lists_the_quote_and_skips_figures_inside_quotes():
    found = missing("Il a lancé : « Nous aurons 50 chars demain ». Puis « Aujourd’hui, vos "
                    "forces avancent. »")
    assert found == ["« Nous aurons 50 chars demain »"]


def test_quote_blocks_are_checked_verbatim():
    art = Article("Titre", (Block(kind="quote", text="« La paix à tout prix »", cite="X"),),
                  (Section("Les enjeux", (Block(text="Un texte."),)),),
                  Section("Conclusion", (Block(text="Fin."),)))
    assert untraceable(art, [Source(text=SOURCE)]) == ["« La paix à tout prix »"]


def test_inline_html_attributes_are_not_quotes():
    assert missing('Selon <a href="https://example.com/2031">Reuters</a>, <strong>40 '
                   'drones</strong>.') == []


def seed_article(text: str) -> Article:
    """An article made of the seed's own sentences: everything in it is traceable."""
    paragraphs = [p.strip() for p in re.split(r"\n+", text) if p.strip()]
    sections = tuple(Section(f"Partie {chr(65 + i)}", (Block(text=p),))
                     for i, p in enumerate(paragraphs[1:-1]))
    return Article(paragraphs[0][:80], (Block(text=paragraphs[0]),), sections,
                   Section("Conclusion", (Block(text=paragraphs[-1]),)))


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_no_false_positive_on_seed_sentences(seed):
    text = seed.read_text("utf-8")
    assert untraceable(seed_article(text), [Source(text=text)]) == []


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_seed_quotes_requoted_in_other_marks_stay_traceable(seed):
    text = seed.read_text("utf-8")
    quotes = find_quotes(text)
    assert quotes, "every seed quotes someone"
    requoted = " ".join(f"“{q.upper()}”" for q in quotes)
    assert untraceable(article(requoted), [Source(text=text)]) == []
