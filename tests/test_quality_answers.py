"""Answers that are not an article: the prompt copied back, escape sequences written as text,
paragraphs said twice, names and addresses no source has in the SEO fields, and repairs that
make things worse. Each is repaired in code, or refused with a named reason; none reaches a
draft.

The writer and the gate talk to the scripted local server through the real openai client;
the weak model's answers come from tests/support/badmodel.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from publisher.api import DraftRequest, draft
from publisher.errors import QualityError
from publisher.models import Brief, Report, Source
from publisher.quality.answers import is_echo
from publisher.quality.gate import BLOCKING, run_gate
from publisher.quality.length import article_words, count_words
from publisher.writer.llm import LLM
from publisher.writer.write import _messages, article_from_json, write_prompt
from tests.support.badmodel import (INVENTED_ORG, INVENTED_URL, bad_handler, echo_article,
                                    prompt_lines, with_echo, with_escapes, with_invented_meta,
                                    with_repeats)
from tests.support.fakellm import (INVENTED_FIGURE, FakeLLM, Reply, scripted_article,
                                   settings_for)
from tests.test_quality_gate import (BRIEF, GOOD, INVENTED, NATO, POOL, article_json, section,
                                     sources, take)

SEEDS = sorted((Path(__file__).parent / "fixtures" / "seeds").glob("*.txt"))
FIX_PROMPT = (Path(__file__).parent.parent / "publisher" / "writer" / "prompts" / "fix.txt")


@pytest.fixture
def llm(fake_llm):
    return LLM(settings_for(fake_llm, llm_retries=0))


def write_request_prompt() -> str:
    """What the model is shown for a first draft of the NATO seeds."""
    messages = _messages(write_prompt(sources(*NATO), Brief()))
    return "\n\n".join(m["content"] for m in messages)


def body_text(article) -> str:
    parts = [article.title, *(b.visible_text for b in article.intro)]
    for s in article.all_sections:
        parts += [s.heading, *(b.visible_text for b in s.blocks)]
    return "\n".join(parts)


# --- the prompt copied back -----------------------------------------------------------------

def test_an_answer_made_of_its_own_instructions_is_refused_without_a_call(fake_llm, llm):
    article = article_from_json(echo_article(write_request_prompt()))
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)
    assert fake_llm.requests == []                  # nothing is spent on it
    assert "prompt_echo" in report.blocking and "under_half_length" in report.blocking
    assert BLOCKING["prompt_echo"] in report.warnings
    assert not any(line in body_text(fixed) for line in prompt_lines(write_request_prompt()))
    with pytest.raises(QualityError) as err:
        run_gate(article, sources(*NATO), BRIEF, llm, strict=True)
    assert err.value.reason == "prompt_echo"


def test_prompt_lines_inside_a_real_article_are_removed_in_code():
    prompt = write_request_prompt()
    spoiled = article_from_json(with_echo(GOOD, prompt))
    fixed, report = run_gate(spoiled, sources(*NATO), BRIEF, None)
    assert fixed == article_from_json(GOOD)
    assert report.blocking == ()
    assert any(r.startswith("Consignes recopiées par le modèle retirées") for r in report.repairs)


@pytest.mark.parametrize("piece", [
    "POUR CHAQUE ÉLÉMENT SIGNALÉ", "CONTRAINTES", "MISSION : rédige…",
    "Réponds avec l'objet JSON {\"sections\": [...]} contenant seulement les sections réécrites",
    "Il manque environ 230 mots à l'article, qui doit en compter au moins 700.",
    "Ne change rien d'autre : le reste de chaque passage reste mot pour mot."])
def test_pieces_of_the_prompts_are_echoes(piece):
    assert is_echo(piece)


def test_no_sentence_of_real_french_news_is_an_echo():
    for seed in SEEDS:
        text = re.sub(r"\s+", " ", seed.read_text("utf-8"))
        sentences = re.split(r"(?<=[.!?»])\s+", text)
        assert [s for s in sentences if is_echo(s)] == [], seed.name
    assert not is_echo("Ce qu'il faut retenir") and not is_echo("Sources")


def test_a_fix_answered_with_its_own_instructions_changes_nothing(fake_llm, llm):
    data = article_json(take(POOL, 760))
    data["sections"][1]["paragraphs"].append(INVENTED)
    lines = prompt_lines(FIX_PROMPT.read_text("utf-8"))
    fake_llm.script(Reply(json={"sections": [section("Passage 1", lines[:3])]}))
    fixed, report = run_gate(article_from_json(data), sources(*NATO), BRIEF, llm)
    assert fake_llm.purposes() == ["fix_facts"]
    assert not any(line in body_text(fixed) for line in lines)
    assert "POUR CHAQUE" not in body_text(fixed)
    # The echo was dropped in code, so the passage came back empty: the invented sentences
    # are gone, and the repair says what it removed.
    assert report.untraceable == ()
    assert any(r.startswith("Consignes recopiées") for r in report.repairs)
    assert report.blocking == ()


# --- escape sequences written as text ------------------------------------------------------

def test_escape_sequences_written_as_text_are_fixed_in_code():
    spoiled = with_escapes({**GOOD, "meta_title": "Stoltenberg à Kiev : l’OTAN promet",
                            "meta_description": "Le secrétaire général de l’OTAN a promis à "
                                                "Kiev davantage de munitions.",
                            "tags": ["OTAN", "Ukraine"]})
    assert "\\n\\n" in spoiled["sections"][0]["paragraphs"][0]
    fixed, report = run_gate(article_from_json(spoiled), sources(*NATO), BRIEF, None)
    good = article_from_json(GOOD)
    assert (fixed.title, fixed.intro[1:], fixed.sections, fixed.conclusion) == \
        (good.title, good.intro[1:], good.sections, good.conclusion)
    assert fixed.suggestions.meta_title == "Stoltenberg à Kiev : l’OTAN promet"
    assert fixed.suggestions.meta_description.startswith("Le secrétaire général de l’OTAN")
    assert fixed.suggestions.tags == ("OTAN", "Ukraine")
    assert "\\" not in body_text(fixed) + "".join(fixed.suggestions.tags)
    assert any(r.startswith("Séquences d'échappement écrites en toutes lettres")
               for r in report.repairs)


# --- paragraphs said twice --------------------------------------------------------------------

def test_a_paragraph_said_twice_or_nearly_is_removed():
    fixed, report = run_gate(article_from_json(with_repeats(GOOD)), sources(*NATO), BRIEF, None)
    assert fixed == article_from_json(GOOD)
    assert "2 paragraphe(s) répété(s) supprimé(s)" in report.repairs
    assert next(c for c in report.checks if c.id == "no_duplicates").status == "good"


def test_a_sentence_a_paragraph_loops_on_is_said_once():
    data = article_json(take(POOL, 760))
    loop = "Les alliés ont promis de soutenir l’Ukraine aussi longtemps que nécessaire."
    data["sections"][0]["paragraphs"].append(f"{loop} {loop} {loop}")
    fixed, report = run_gate(article_from_json(data), sources(*NATO), BRIEF, None)
    assert fixed.sections[0].blocks[-1].text == loop
    assert "2 phrase(s) répétée(s) dans un même paragraphe supprimée(s)" in report.repairs


# --- names and addresses no source has --------------------------------------------------------

def test_invented_names_and_urls_leave_the_seo_fields():
    src = Source(text=SEEDS[0].read_text("utf-8"), site_name="Seed 000")
    spoiled = article_from_json(with_invented_meta(scripted_article(src.text, 800)))
    fixed, report = run_gate(spoiled, [src], BRIEF, None)
    hints = fixed.suggestions
    assert hints.keyphrase == "" and hints.meta_title == ""
    assert INVENTED_URL not in hints.meta_description and "global-defense" not in \
        hints.meta_description
    assert INVENTED_ORG not in hints.tags and INVENTED_URL not in hints.tags
    assert hints.tags == spoiled.suggestions.tags[:3]
    assert f"Étiquette « {INVENTED_ORG} » retirée : absente des sources" in report.repairs
    # A title is not rebuilt in code: the editor is told.
    assert f"Le titre nomme « {INVENTED_ORG} », absent(s) des sources : à vérifier" in \
        report.warnings


def test_names_the_sources_have_are_kept():
    src = Source(text=SEEDS[0].read_text("utf-8"), site_name="Seed 000")
    article = article_from_json(scripted_article(src.text, 800))
    fixed, report = run_gate(article, [src], BRIEF, None)
    assert fixed.suggestions == article.suggestions and fixed.title == article.title
    assert not any("absent" in r for r in (*report.repairs, *report.warnings))


# --- repairs kept only if they improve -------------------------------------------------------

def test_an_expansion_that_shrinks_the_article_is_discarded(fake_llm, llm):
    article = article_from_json(article_json(take(POOL, 430)))
    before = article_words(article)
    short = [section(s.heading, [" ".join(s.blocks[0].text.split()[:12])])
             for s in article.sections]
    fake_llm.script(Reply(json={"sections": short}))
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)
    assert fixed == article and report.word_count == before
    assert fake_llm.purposes() == ["expand"]        # no second round after a shrink
    assert any(r.startswith("Développement écarté") and f"de {before} à" in r
               for r in report.repairs)
    assert report.llm_calls == 1


def test_a_tiny_article_is_never_kept_shorter_and_is_blocked(fake_llm, llm):
    tiny = {"title": "L’OTAN et l’Ukraine", "introduction": [
        "Le secrétaire général de l’OTAN, Jens Stoltenberg, a rencontré le président "
        "ukrainien à Kiev jeudi."],
        "sections": [section("Le contexte", ["Les alliés ont promis davantage de munitions."])],
        "conclusion": {"heading": "Ce qu'il faut retenir", "paragraphs": []},
        "keyphrase": "", "meta_title": "", "meta_description": "", "tags": []}
    article = article_from_json(tiny)
    fake_llm.script(Reply(json={"sections": [section("Le contexte", ["Des munitions."])]}))
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)
    words = article_words(article)
    assert fixed == article and report.word_count == words < 350
    assert any(r.startswith("Développement écarté") and f"de {words} à" in r
               for r in report.repairs)
    assert report.blocking == ("under_half_length",)
    assert BLOCKING["under_half_length"].format(words=words, target=700) in report.warnings


def test_an_expansion_keeps_the_sections_that_grew_and_not_those_that_shrank(fake_llm, llm):
    article = article_from_json(article_json(take(POOL, 430)))
    first, second = article.sections[0], article.sections[1]
    fresh = POOL[len(take(POOL, 430)):]
    grown = section(first.heading, [b.text for b in first.blocks] + fresh[:2])
    shrunk = section(second.heading, [" ".join(second.blocks[0].text.split()[:10])])
    fake_llm.script(Reply(json={"sections": [grown, shrunk]}))
    from publisher.quality import gate
    headings = [first.heading, second.heading]
    original = gate.thin_sections
    try:
        gate.thin_sections = lambda a, t: headings      # ask for exactly these two
        fixed, report = run_gate(article, sources(*NATO), BRIEF, llm, max_repairs=1)
    finally:
        gate.thin_sections = original
    assert fixed.sections[1] == second
    assert len(fixed.sections[0].blocks) == len(first.blocks) + 2
    assert any(r.startswith("Sections développées") for r in report.repairs)


def test_a_facts_fix_that_leaves_more_untraceable_claims_is_discarded(fake_llm, llm):
    data = article_json(take(POOL, 760))
    data["sections"][1]["paragraphs"].append(INVENTED)
    article = article_from_json(data)
    worse = INVENTED + f" Le programme coûtera {INVENTED_FIGURE} et 12 % de plus en 2031."
    fake_llm.script(Reply(json={"sections": [section("Passage 1", [worse])]}))
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)
    assert fixed == article
    assert report.repairs[-1].startswith("Correction des chiffres et citations écartée : elle "
                                         "laissait")
    assert len(report.untraceable) == 2


def test_a_facts_fix_that_cuts_more_than_the_flagged_sentences_is_discarded(fake_llm, llm):
    data = article_json(take(POOL, 760))
    flagged = data["sections"][1]["paragraphs"][0] + " " + INVENTED
    data["sections"][1]["paragraphs"][0] = flagged
    article = article_from_json(data)
    fake_llm.script(Reply(json={"sections": [section("Passage 1", [])]}))   # all of it goes
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)
    prompt = fake_llm.requests[0].prompt
    sent = json.loads(re.search(r"<<<ARTICLE>>>\n(.*?)\n<<<FIN ARTICLE>>>", prompt,
                                re.S).group(1))
    assert [p["paragraphs"] for p in sent["sections"]] == [[flagged]]   # only that passage
    assert fixed == article
    assert report.repairs[-1] == (
        f"Correction des chiffres et citations écartée : elle retirait {count_words(flagged)} "
        f"mots quand les passages signalés en comptent {count_words(INVENTED)}")


# --- blocking in the report -----------------------------------------------------------------

def test_blocking_travels_in_the_report_dict():
    article = article_from_json(article_json(take(POOL, 200), sections=3))
    _, report = run_gate(article, sources(*NATO), BRIEF, None)
    assert report.blocking == ("under_half_length",) and report.blocked
    assert report.to_dict()["blocking"] == ("under_half_length",)
    assert json.loads(json.dumps(report.to_dict()))["blocking"] == ["under_half_length"]
    assert Report().blocking == () and not Report().blocked


# --- the whole draft, from a weak model -------------------------------------------------------

def _draft(handler, tmp_path, seed=SEEDS[0]):
    """publisher draft --dry-run of a seed against a weak model: (the report and SEO as the
    folder keeps them, payload.json, the purposes the server saw, the refusal if any)."""
    refused = None
    with FakeLLM(handler) as server:
        settings = settings_for(server, PUBLISHER_DB=f"sqlite:///{tmp_path}/s.db")
        try:
            draft(DraftRequest((str(seed),), dry_run=True, out_dir=str(tmp_path / "d")),
                  settings)
        except QualityError as err:          # a blocked article is kept, not drafted
            refused = err
        purposes = server.purposes()
    payload = json.loads((tmp_path / "d" / "payload.json").read_text("utf-8"))
    return payload["report"], payload, purposes, refused


def test_a_draft_from_a_model_that_echoes_its_prompt_is_refused(tmp_path):
    report, payload, purposes, refused = _draft(
        bad_handler(lambda data, request: echo_article(request.prompt)), tmp_path)
    assert "prompt_echo" in report["blocking"] and refused.reason == report["blocking"][0]
    assert purposes[0] == "write"
    assert not {"translate", "expand", "fix_facts"} & set(purposes)   # no repair spent on it
    text = payload["content"]
    assert "MISSION" not in text and "CONTRAINTES" not in text
    assert not re.search(r"Les faits viennent uniquement des sources fournies", text)


def test_a_draft_from_a_model_that_writes_escapes_has_none(tmp_path):
    report, payload, _, refused = _draft(
        bad_handler(lambda data, request: with_escapes(data)), tmp_path)
    fields = [payload["title"], payload["content"], *payload["tags"],
              *payload["meta"].values()]
    assert not any(re.search(r"\\[nt\"]|\\u00e9", f) for f in fields
                   if not f.startswith("{"))              # publisher_report is JSON itself
    assert payload["content"].count("<p>") >= 8
    assert report["blocking"] == [] and refused is None
    assert any(r.startswith("Séquences d'échappement") for r in report["repairs"])


def test_a_draft_from_a_model_that_repeats_itself_says_it_once(tmp_path):
    report, payload, _, refused = _draft(
        bad_handler(lambda data, request: with_repeats(data)), tmp_path)
    paragraphs = re.findall(r"<p>(.*?)</p>", payload["content"], re.S)
    assert len(paragraphs) == len(set(paragraphs)) >= 8
    assert "2 paragraphe(s) répété(s) supprimé(s)" in report["repairs"]
    assert refused is None


def test_a_draft_from_a_model_that_invents_an_organisation_keeps_it_out_of_the_seo(tmp_path):
    report, payload, _, refused = _draft(
        bad_handler(lambda data, request: with_invented_meta(data)), tmp_path)
    seo = payload["seo"]
    for value in (seo["keyphrase"], seo["meta_title"], seo["meta_description"], *seo["tags"],
                  *payload["tags"]):
        assert INVENTED_ORG not in value and "global-defense" not in value
    assert seo["keyphrase"] and seo["meta_description"]      # rebuilt from the article
    assert any(w.startswith(f"Le titre nomme « {INVENTED_ORG} »") for w in report["warnings"])
    assert refused is None


def test_a_translation_answered_with_the_prompt_is_discarded(tmp_path):
    report, payload, purposes, refused = _draft(
        bad_handler(lambda data, request: echo_article(request.prompt),
                    purposes=("translate",), lang="en"), tmp_path)
    assert purposes[:2] == ["write", "translate"]
    assert any(r.startswith("Réparation écartée (réécriture en français)")
               for r in report["repairs"])
    assert "not_french" in report["blocking"] and refused.reason == "not_french"
    assert "POUR CHAQUE" not in payload["title"] and "MISSION" not in payload["content"]


# --- JSON left as text, and an answer with nothing written ------------------------------------

def test_an_answer_that_is_its_json_as_text_is_not_an_article(fake_llm, llm):
    as_text = json.dumps(GOOD, ensure_ascii=False)
    data = {"title": GOOD["title"], "introduction": [as_text[:900], as_text[900:1800]],
            "sections": [], "conclusion": {"heading": "Ce qu'il faut retenir",
                                           "paragraphs": []},
            "keyphrase": "", "meta_title": "", "meta_description": "", "tags": []}
    fixed, report = run_gate(article_from_json(data), sources(*NATO), BRIEF, llm)
    assert fake_llm.requests == []
    assert "not_an_article" in report.blocking and "prompt_echo" not in report.blocking
    assert '"heading"' not in body_text(fixed)
    assert any(r.startswith("Fragments de JSON retirés du texte") for r in report.repairs)
    with pytest.raises(QualityError) as err:
        run_gate(article_from_json(data), sources(*NATO), BRIEF, llm, strict=True)
    assert err.value.reason == "not_an_article"


def test_an_expansion_answered_in_english_is_discarded(fake_llm, llm):
    article = article_from_json(article_json(take(POOL, 430)))
    english = [section(s.heading, [b.text for b in s.blocks] + [
        "The alliance also said that the allies would keep delivering ammunition to the "
        "Ukrainian army for as long as it takes, and that new contracts would be signed soon.",
        "Observers noted that the visit came at a particularly tense diplomatic moment, with "
        "the winter approaching and the energy network of the country under attack."])
        for s in article.sections]
    fake_llm.script(Reply(json={"sections": english}))
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm, max_repairs=1)
    assert fixed == article
    assert any(r.startswith("Développement écarté") and "autre langue" in r
               for r in report.repairs)
    assert report.blocking == ()
