"""Which SEO repair call a draft is worth: never a rewrite of the whole text; a small call for
the introduction and subheadings when the keyphrase is missing there, a meta-only call when
only the meta fields fail red, none for readability scores (advice for the editor)."""

from publisher.models import Check
from publisher.pipeline import seo_repair_kind
from publisher.writer.write import suggest_meta, suggest_parts
from publisher.writer.llm import LLM
from tests.support.fakellm import Reply, scripted_article, settings_for
from publisher.writer.write import article_from_json

SOURCE = open("tests/fixtures/seeds/000_26b4b37e47165035.txt", encoding="utf-8").read()


def checks(**statuses):
    return [Check(id=i, label=i, status=s) for i, s in statuses.items()]


def test_keyphrase_missing_from_introduction_or_subheadings_asks_for_those_parts():
    assert seo_repair_kind(checks(keyphrase_in_introduction="bad")) == "parts"
    assert seo_repair_kind(checks(keyphrase_in_subheadings="bad",
                                  meta_description_length="bad")) == "parts"


def test_only_red_meta_fields_ask_for_the_small_call():
    assert seo_repair_kind(checks(sentence_length="bad", keyphrase_in_title="bad")) == "meta"
    assert seo_repair_kind(checks(meta_description_length="ok")) == ""


def test_readability_and_source_bound_checks_ask_nothing():
    assert seo_repair_kind(checks(sentence_length="bad", transition_words="bad",
                                  passive_voice="bad", paragraph_length="bad",
                                  keyphrase_density="bad", flesch_reading_ease="bad",
                                  text_length="bad")) == ""


def test_suggest_parts_sends_a_small_request_and_changes_only_those_parts(fake_llm):
    article = article_from_json(scripted_article(SOURCE, 770))
    headings = [f"Stoltenberg : partie {i}" for i in range(len(article.sections))]
    fake_llm.script(Reply(json={"lead": "Jens Stoltenberg était à Kiev jeudi. Il a parlé.",
                                "headings": headings, "meta_title": "Stoltenberg à Kiev",
                                "meta_description": "Jens Stoltenberg était à Kiev."}))
    revised, usage = suggest_parts(article, "Stoltenberg", ["Placez la requête."],
                                   LLM(settings_for(fake_llm, llm_retries=0)))
    assert revised.intro[0].text.startswith("Jens Stoltenberg était à Kiev")
    assert revised.intro[1:] == article.intro[1:]
    assert [s.heading for s in revised.sections] == headings
    assert [s.blocks for s in revised.sections] == [s.blocks for s in article.sections]
    assert revised.suggestions.meta_title == "Stoltenberg à Kiev"
    request = fake_llm.requests[0]
    assert request.purpose == "seo_parts" and usage.requests == 1
    assert request["max_tokens"] <= 1024              # a small answer, not an article


def test_parts_with_the_wrong_number_of_headings_keep_the_old_ones(fake_llm):
    article = article_from_json(scripted_article(SOURCE, 770))
    fake_llm.script(Reply(json={"lead": "", "headings": ["Un seul"], "meta_title": "",
                                "meta_description": ""}))
    revised, _ = suggest_parts(article, "Stoltenberg", [], LLM(settings_for(fake_llm)))
    assert revised.sections == article.sections and revised.intro == article.intro


def test_suggest_meta_sends_a_small_request_and_keeps_the_article(fake_llm):
    article = article_from_json(scripted_article(SOURCE, 770))
    fake_llm.script(Reply(json={"meta_title": "OTAN : <b>Stoltenberg</b> à Kiev",
                                "meta_description": "Jens Stoltenberg était à Kiev."}))
    revised, usage = suggest_meta(article, "Stoltenberg", ["Écrivez une méta-description."],
                                  LLM(settings_for(fake_llm, llm_retries=0)))
    assert revised.sections == article.sections and revised.title == article.title
    assert revised.suggestions.meta_title == "OTAN : Stoltenberg à Kiev"
    assert usage.purpose == "seo_meta"
    request = fake_llm.requests[0]
    assert request.purpose == "seo_meta" and request["max_tokens"] <= 2048
    assert "« Stoltenberg »" in request.prompt
