"""Deterministic fixes: they repair what they can without inventing a word."""

from dataclasses import replace

import pytest

from publisher.models import Block, Section
from publisher.quality.length import count_words
from publisher.seo import french
from publisher.seo.build import build_seo
from publisher.seo.checks import seo_checks
from publisher.seo.fix import (explain, improve, repair_instructions, split_long_sentences,
                               split_sentence)
from tests.test_seo_build import article


@pytest.mark.parametrize("sentence,parts", [
    ("Les forces ukrainiennes avancent lentement dans le sud du pays depuis plusieurs semaines ; "
     "elles ont repris trois villages près de la ligne de front jeudi soir.",
     ["Les forces ukrainiennes avancent lentement dans le sud du pays depuis plusieurs semaines.",
      "Elles ont repris trois villages près de la ligne de front jeudi soir."]),
    ("Les soldats ukrainiens font face à des combats très acharnés dans l’est du pays, mais "
     "ils gagnent progressivement du terrain selon le secrétaire général.",
     ["Les soldats ukrainiens font face à des combats très acharnés dans l’est du pays.",
      "Mais ils gagnent progressivement du terrain selon le secrétaire général."]),
    ("La moitié du soutien militaire engagé en faveur de l’Ukraine vient des États-Unis, et "
     "l’autre moitié provient des pays européens alliés de l’OTAN et du Canada.",
     ["La moitié du soutien militaire engagé en faveur de l’Ukraine vient des États-Unis.",
      "L’autre moitié provient des pays européens alliés de l’OTAN et du Canada."]),
])
def test_split_at_safe_points(sentence, parts):
    assert count_words(sentence) > 20
    assert split_sentence(sentence) == parts


@pytest.mark.parametrize("sentence", [
    # « , et » joining two objects, not two clauses: the second half has no verb
    "Le président a remercié les partenaires internationaux pour leur aide militaire constante, "
    "et les pays européens alliés de l’OTAN pour leurs livraisons.",
    # the cut would fall inside a quotation, which must stay verbatim
    "« Les forces avancent lentement dans le sud du pays ; elles ont repris trois villages "
    "près de la ligne de front », a déclaré Jens Stoltenberg.",
    # a colon that introduces a quotation
    "S’exprimant lors d’une conférence de presse conjointe à Kiev jeudi, Stoltenberg a déclaré : "
    "« Aujourd’hui, vos forces avancent. »",
    # a subordinate clause first: « Si … » alone is not a sentence
    "Si les alliés livrent les munitions promises avant l’hiver prochain, et si les stocks "
    "suivent, l’armée ukrainienne pourra tenir ses positions.",
    # no safe point at all
    "Le secrétaire général de l’OTAN a fait un voyage surprise à Kiev pour rencontrer le "
    "président ukrainien Volodymyr Zelensky et discuter de la contre-offensive.",
])
def test_no_split_when_unsafe(sentence):
    assert split_sentence(sentence) == [sentence]


def test_short_sentences_untouched():
    assert split_sentence("Il pleut ; il vente.") == ["Il pleut ; il vente."]


def test_split_long_sentences_keeps_quotes_and_lists():
    long_one = ("Les forces ukrainiennes avancent lentement dans le sud du pays depuis des "
                "semaines ; elles ont repris trois villages près de la ligne de front jeudi.")
    art = article(sections=[("Le front", [long_one]), ("Autre", ["Rien."])], filler=False)
    art = replace(art, sections=(*art.sections, Section("Citation", (
        Block(kind="quote", text=long_one, cite="Un officier"),
        Block(kind="list", items=(long_one,))))))
    fixed, n = split_long_sentences(art)
    assert n == 1
    assert fixed.sections[0].blocks[0].text.count(".") == 2
    assert fixed.sections[-1].blocks == art.sections[-1].blocks


def test_improve_rebuilds_a_too_long_meta_title_and_a_short_description():
    art = article(keyphrase="Jens Stoltenberg")
    seo = build_seo(art, [])
    broken = replace(seo, meta_title=art.title, meta_description="Trop court.")
    _, fixed, fixes = improve(art, broken)
    assert len(fixed.meta_title) <= 60
    assert 120 <= len(fixed.meta_description) <= 156
    assert any(f.startswith("Titre SEO refait") for f in fixes)
    assert any(f.startswith("Méta-description refaite") for f in fixes)
    statuses = {c.id: c.status for c in seo_checks(art, fixed)}
    assert statuses["meta_title_width"] == statuses["meta_description_length"] == "good"


def test_improve_changes_a_keyphrase_missing_from_the_introduction():
    art = article()
    seo = replace(build_seo(art, []), keyphrase="alliés de l’OTAN")   # only in a late section
    assert {c.id: c.status for c in seo_checks(art, seo)}["keyphrase_in_introduction"] == "bad"
    _, fixed, fixes = improve(art, seo)
    assert fixed.keyphrase != seo.keyphrase
    assert french.contains_phrase(art.intro[0].text, fixed.keyphrase)
    assert french.tokens(fixed.keyphrase)[0] in fixed.slug
    assert any("Requête cible remplacée" in f for f in fixes)
    statuses = {c.id: c.status for c in seo_checks(art, fixed)}
    assert statuses["keyphrase_in_introduction"] == "good"
    assert statuses["keyphrase_in_subheadings"] == "good"


def test_improve_splits_long_sentences_when_too_many():
    long_one = ("Les soldats ukrainiens font face à des combats très acharnés dans l’est du pays, "
                "mais ils gagnent progressivement du terrain selon le secrétaire général.")
    art = article(sections=[("Jens Stoltenberg au front", [long_one] * 3),
                            ("Jens Stoltenberg et les alliés", [long_one])], filler=False)
    seo = build_seo(art, [])
    before = {c.id: c for c in seo_checks(art, seo)}["sentence_length"]
    fixed_art, _, fixes = improve(art, seo)
    after = {c.id: c for c in seo_checks(fixed_art, seo)}["sentence_length"]
    assert before.status != "good" and after.status == "good"
    assert any("coupée" in f for f in fixes)


def test_improve_on_a_clean_article_changes_nothing():
    art = article(keyphrase="Jens Stoltenberg")
    seo = build_seo(art, [])
    assert improve(art, seo) == (art, seo, [])


def test_repair_instructions_for_failing_ids():
    lines = repair_instructions(["transition_words", "keyphrase_density", "unknown"],
                                "Jens Stoltenberg")
    assert len(lines) == 2
    assert "« Jens Stoltenberg »" in lines[1]


def test_explain_says_why_with_numbers():
    art = article()
    seo = replace(build_seo(art, []), keyphrase="Jens Stoltenberg", meta_description="Court.")
    reasons = explain(art, seo, seo_checks(art, seo), "Une source. Une autre phrase.")
    assert "meta_description_length" in reasons
    assert "120" in reasons["meta_description_length"]
