"""Which SEO repair call a draft is worth: the whole text only when a text check is red, a
small meta-only call when only the meta fields fail, none when nothing a model can fix fails."""

from publisher.models import Check
from publisher.pipeline import seo_repair_kind
from publisher.writer.write import suggest_meta
from publisher.writer.llm import LLM
from tests.support.fakellm import Reply, scripted_article, settings_for
from publisher.writer.write import article_from_json

SOURCE = open("tests/fixtures/seeds/000_26b4b37e47165035.txt", encoding="utf-8").read()


def checks(**statuses):
    return [Check(id=i, label=i, status=s) for i, s in statuses.items()]


def test_a_red_text_check_asks_for_a_rewrite():
    assert seo_repair_kind(checks(sentence_length="bad", keyphrase_in_title="bad")) == "text"


def test_only_meta_fields_failing_ask_for_the_small_call():
    assert seo_repair_kind(checks(sentence_length="ok", meta_description_length="ok")) == "meta"


def test_orange_text_checks_and_source_bound_checks_ask_nothing():
    assert seo_repair_kind(checks(transition_words="ok", flesch_reading_ease="bad",
                                  text_length="bad")) == ""


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
