"""The gate end to end: the real writer and openai client against the scripted local server.

Articles are made of the seeds' own sentences, so every figure and quote in them is
traceable; each test then breaks one thing (length, language, facts) and checks the repair
asked of the server, the calls it counted, and what the Report tells the editor.
"""

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from publisher.errors import QualityError
from publisher.models import Brief, Source
from publisher.quality.gate import run_gate, thin_sections
from publisher.quality.language import detect_language
from publisher.quality.length import article_words, count_words
from publisher.writer.llm import LLM
from publisher.writer.write import article_from_json
from tests.support.fakellm import Reply, settings_for

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
NATO = ("000_26b4b37e47165035.txt", "001_d05b7e9e265a6ab9.txt", "002_367df188a69f6029.txt")
REUTERS = "003_b7a23fd024b318f7.txt"
HEADINGS = ["La visite surprise de Stoltenberg", "Des munitions pour les alliés",
            "Le bouclier aérien ukrainien", "Un effort partagé entre alliés",
            "La réponse de Moscou", "Vers l'adhésion à l'Alliance"]
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«\"])")


def seed(name: str) -> str:
    return (SEEDS / name).read_text("utf-8")


def french_paragraphs(*names: str, size: int = 70) -> list[str]:
    """The seeds' French paragraphs (captions and the English instruction line left out),
    long ones cut at sentence ends into chunks of about ``size`` words."""
    chunks = []
    for name in names:
        for para in (p.strip() for p in seed(name).splitlines()):
            if count_words(para) < 12 or detect_language(para) != "fr":
                continue
            chunk: list[str] = []
            for sentence in _SENTENCE_END.split(para):
                chunk.append(sentence)
                if count_words(" ".join(chunk)) >= size:
                    chunks.append(" ".join(chunk))
                    chunk = []
            if chunk:
                chunks.append(" ".join(chunk))
    return chunks


def take(pool: list[str], words: int) -> list[str]:
    taken = []
    while count_words(" ".join(taken)) < words:
        taken.append(pool[len(taken)])
    return taken


def section(heading: str, paragraphs: list[str]) -> dict:
    return {"heading": heading, "level": 2, "paragraphs": paragraphs, "bullets": [],
            "quote": None}


def article_json(paragraphs: list[str], sections: int = 4) -> dict:
    """Intro, ``sections`` body H2 and a conclusion, the paragraphs dealt out in order."""
    body = paragraphs[1:-1]
    per = -(-len(body) // sections)
    return {"title": "Stoltenberg à Kiev : l'OTAN promet davantage de soutien",
            "introduction": paragraphs[:1],
            "sections": [section(HEADINGS[i], body[i * per:(i + 1) * per])
                         for i in range(sections)],
            "conclusion": {"heading": "Ce qu'il faut retenir", "paragraphs": paragraphs[-1:]},
            "keyphrase": "Stoltenberg Kiev", "meta_title": "", "meta_description": "",
            "tags": []}


def sources(*names: str) -> list[Source]:
    return [Source(text=seed(n), site_name=f"Seed {n[:3]}", url=f"https://example.com/{n[:3]}")
            for n in names]


@pytest.fixture
def llm(fake_llm):
    return LLM(settings_for(fake_llm, llm_retries=0))


BRIEF = Brief(min_words=700)
POOL = french_paragraphs(*NATO)
GOOD = article_json(take(POOL, 760))
INVENTED = ("Selon Jens Stoltenberg, l’OTAN débloquera aussi 3,7 milliards d’euros "
            "supplémentaires. « Nous ne céderons jamais devant Moscou », a-t-il lancé.")


def test_a_good_article_passes_without_any_call(fake_llm, llm):
    article = article_from_json(GOOD)
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)
    assert fake_llm.requests == []
    assert fixed == article
    assert report.warnings == () and report.repairs == () and report.untraceable == ()
    assert report.word_count == article_words(article) >= 700
    assert {c.id: c.status for c in report.checks} == dict.fromkeys(
        ["min_words", "language_fr", "no_markdown", "facts_traceable", "h2_count",
         "no_empty_section", "section_length", "no_duplicates", "source_length"], "good")
    assert report.sources == ("Seed 000 — https://example.com/000",
                              "Seed 001 — https://example.com/001",
                              "Seed 002 — https://example.com/002")


def test_a_450_word_article_is_expanded_once_over_700(fake_llm, llm):
    used = take(POOL, 430)
    article = article_from_json(article_json(used))
    assert 420 <= article_words(article) <= 480
    thin = thin_sections(article, 700)
    fresh = iter(POOL[len(used):])
    expanded = [section(s.heading, [b.text for b in s.blocks] + [next(fresh), next(fresh)])
                for s in article.sections if s.heading in thin]
    fake_llm.script(Reply(json={"sections": expanded}, prompt_tokens=1500,
                          completion_tokens=700))

    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)

    assert fake_llm.purposes() == ["expand"]
    prompt = fake_llm.requests[0].prompt
    assert all(h in prompt for h in thin)
    deficit = 700 - article_words(article)
    assert f"Il manque environ {-(-deficit * 115 // 100)} mots" in prompt
    assert report.word_count == article_words(fixed) >= 700
    assert not report.short and report.untraceable == ()
    assert len(report.repairs) == 1 and report.repairs[0].startswith("Sections développées")
    assert (report.llm_calls, report.tokens_in, report.tokens_out) == (1, 1500, 700)
    assert not any("trop court" in w for w in report.warnings)


def short_case(fake_llm) -> tuple:
    """A 330-word source: the first expansion adds its last sentences, the second finds
    nothing more, and the article stays short."""
    pool = french_paragraphs(REUTERS, size=25)
    article = article_from_json(article_json(pool[:-2], sections=2))
    grown = [section(s.heading, [b.text for b in s.blocks] + pool[-2 + i:][:1])
             for i, s in enumerate(article.sections[:2])]
    fake_llm.script(Reply(json={"sections": grown}),
                    Reply(json={"sections": grown}))
    return article, sources(REUTERS)


def test_an_article_that_stays_short_is_flagged_after_two_rounds(fake_llm, llm):
    article, srcs = short_case(fake_llm)
    fixed, report = run_gate(article, srcs, BRIEF, llm)
    assert fake_llm.purposes() == ["expand", "expand"]
    assert article_words(article) < report.word_count < 700
    assert report.short
    assert (f"Article trop court : {report.word_count} mots sur 700 demandés — la source ne "
            "contient pas assez de matière ; à compléter par la rédaction") in report.warnings
    assert next(c for c in report.checks if c.id == "min_words").status == "bad"
    assert report.llm_calls == 2
    assert report.repairs[1].endswith("aucune matière nouvelle dans la source")


def test_strict_turns_a_short_article_into_a_quality_error(fake_llm, llm):
    article, srcs = short_case(fake_llm)
    with pytest.raises(QualityError, match=r"^Article trop court : \d+ mots sur 700") as err:
        run_gate(article, srcs, BRIEF, llm, strict=True)
    assert err.value.reason == "too_short"
    assert "\n" not in str(err.value)
    assert err.value.report.llm_calls == 2 and err.value.article.sections


ENGLISH = {
    "title": "Stoltenberg in Kyiv: NATO promises more support",
    "introduction": ["NATO Secretary General Jens Stoltenberg said on Thursday that Ukrainian "
                     "forces are gradually gaining ground, during a surprise visit to Kyiv."],
    # Three different paragraphs: near-identical ones would be dropped as repetitions.
    "sections": [section(h, [p]) for h, p in (
        ("The visit", "Stoltenberg arrived in Kyiv unannounced and was received by President "
                      "Zelensky, who thanked the allies for the support they have given since "
                      "the start of the war."),
        ("Ammunition contracts", "The alliance said that its agency had signed contracts for "
                                 "ammunition, and that the first deliveries would reach the "
                                 "Ukrainian army before the winter."),
        ("Air defence", "Both men insisted on air defence, which they described as the most "
                        "urgent need after a summer of drone strikes against the country's "
                        "power plants."))],
    "conclusion": {"heading": "What to remember",
                   "paragraphs": ["The alliance signed contracts worth 2.4 billion euros and "
                                  "will keep supporting Ukraine for as long as it takes."]},
    "keyphrase": "", "meta_title": "", "meta_description": "", "tags": []}


def test_an_english_draft_is_caught_and_rewritten_in_french(fake_llm, llm):
    article = article_from_json(ENGLISH)
    fake_llm.script(Reply(json=GOOD))
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)
    assert fake_llm.purposes() == ["translate"]
    assert fixed == article_from_json(GOOD)
    assert report.repairs == ("Article réécrit en français (langue détectée : en → fr)",)
    assert next(c for c in report.checks if c.id == "language_fr").status == "good"
    assert report.warnings == ()


def test_an_english_draft_that_stays_english_is_an_error_under_strict(fake_llm, llm):
    fake_llm.script(Reply(json=ENGLISH))
    with pytest.raises(QualityError, match="pas en français") as err:
        run_gate(article_from_json(ENGLISH), sources(*NATO), BRIEF, llm, strict=True)
    assert err.value.reason == "not_french"
    # No expansion is spent on a text that is not French: one call, the rewrite.
    assert fake_llm.purposes() == ["translate"]
    assert "L'article n'est pas en français (langue détectée : en)" in err.value.report.warnings


def invented_json() -> dict:
    data = article_json(take(POOL, 760))
    data["sections"][1]["paragraphs"].append(INVENTED)
    return data


def test_invented_figure_and_quote_are_listed_after_a_failed_fix(fake_llm, llm):
    fake_llm.script(Reply(json=invented_json()))      # the model "fixes" nothing
    fixed, report = run_gate(article_from_json(invented_json()), sources(*NATO), BRIEF, llm)
    assert fake_llm.purposes() == ["fix_facts"]
    prompt = fake_llm.requests[0].prompt
    assert "3,7 milliards d’euros" in prompt and "Nous ne céderons jamais devant Moscou" in prompt
    assert set(report.untraceable) == {"3,7 milliards d’euros",
                                       "« Nous ne céderons jamais devant Moscou »"}
    assert report.repairs == ("Chiffres et citations corrigés : 0 sur 2 introuvables dans la "
                              "source",)
    assert report.llm_calls == len(fake_llm.requests) == 1
    assert any(w.startswith("2 chiffre(s) ou citation(s) introuvable(s)")
               for w in report.warnings)


def passage(number: int, paragraphs: list[str]) -> dict:
    """One passage of a fix_facts answer: the writer sends only the flagged blocks."""
    return {**section(f"Passage {number}", paragraphs)}


def test_a_successful_fix_leaves_nothing_untraceable(fake_llm, llm):
    # The invented paragraph is the only passage sent; the model empties it.
    fake_llm.script(Reply(json={"sections": [passage(1, [])]}))
    fixed, report = run_gate(article_from_json(invented_json()), sources(*NATO), BRIEF, llm)
    assert fake_llm.purposes() == ["fix_facts"]
    sent = re.search(r"<<<ARTICLE>>>\n(.*?)\n<<<FIN ARTICLE>>>", fake_llm.requests[0].prompt,
                     re.S).group(1)
    assert [p["paragraphs"] for p in json.loads(sent)["sections"]] == [[INVENTED]]
    assert fixed == article_from_json(GOOD)
    assert report.untraceable == ()
    assert report.repairs == ("Chiffres et citations corrigés : 2 sur 2 introuvables dans la "
                              "source",)


def test_without_an_llm_the_gate_only_checks():
    article = article_from_json(invented_json())
    fixed, report = run_gate(article, sources(*NATO), BRIEF, None)
    assert fixed == article and report.usage == () and report.repairs == ()
    assert len(report.untraceable) == 2


def test_markdown_and_repeats_are_fixed_in_code(fake_llm, llm):
    data = article_json(take(POOL, 760))
    data["sections"][2]["paragraphs"].append(data["sections"][1]["paragraphs"][0])
    data["introduction"] = ["Il l’a dit en __gras__ : " + data["introduction"][0]]
    article = article_from_json(data)
    first = replace(article.sections[0], heading="## " + HEADINGS[0])
    article = replace(article, sections=(first, *article.sections[1:]))
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)
    assert fake_llm.requests == []
    assert report.repairs == ("Markdown converti ou retiré (2 reste(s))",
                              "1 paragraphe(s) répété(s) supprimé(s)")
    assert fixed.sections[0].heading == HEADINGS[0]
    assert fixed.intro[0].text.startswith("Il l’a dit en <strong>gras</strong>")
    assert next(c for c in report.checks if c.id == "no_duplicates").status == "good"


def test_a_thin_source_is_flagged_from_the_start_and_not_padded(fake_llm, llm):
    thin = Source(text=" ".join(seed(REUTERS).split()[:120]))
    article = article_from_json(article_json(french_paragraphs(REUTERS, size=25)[:4], 2))
    _, report = run_gate(article, [thin], BRIEF, llm)
    assert "expand" not in fake_llm.purposes()
    assert report.short
    assert report.warnings[0].startswith(
        f"Source trop mince : {count_words(thin.text)} mots pour 700 demandés")
    assert next(c for c in report.checks if c.id == "source_length").status == "ok"


def test_thin_sections_are_those_below_their_share():
    article = article_from_json(article_json(take(POOL, 430)))
    thin = thin_sections(article, 700)
    assert thin and set(thin) <= {s.heading for s in article.sections}
    thick = {**article_json(take(POOL, 430)), "sections": [
        section("Long", take(POOL, 250)), section("Court", POOL[:1])]}
    assert thin_sections(article_from_json(thick), 700) == ["Court"]


def test_a_failed_repair_keeps_the_article_and_says_so(fake_llm, llm):
    article = article_from_json(invented_json())
    fake_llm.script(Reply(status=500, error="boom"))
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)
    assert fixed == article and fake_llm.purposes() == ["fix_facts"]
    assert any(w.startswith("Réparation impossible (correction des chiffres et citations)") for w in report.warnings)
    assert len(report.untraceable) == 2
    # the failed request is still counted (--json, the report and the database agree)
    assert [(u.purpose, u.requests, u.status) for u in report.usage] == [("fix_facts", 1, "500")]


def test_a_thin_source_whose_article_reached_the_target_is_not_called_unpadded(fake_llm, llm):
    # The first write is asked the full length whatever the source: 236 words of source gave
    # 778 words, and the report still promised "l'article ne sera pas allongé par du
    # remplissage". The editor must be told to look for filler instead.
    thin = Source(text=" ".join(seed(REUTERS).split()[:120]))
    article = article_from_json(article_json(take(POOL, 760)))
    _, report = run_gate(article, [thin], BRIEF, llm)
    assert not report.short and "expand" not in fake_llm.purposes()
    warning = next(w for w in report.warnings if w.startswith("Source trop mince"))
    assert "ne sera pas allongé" not in warning
    assert f"l'article en compte pourtant {report.word_count}" in warning and "remplissage" in warning
