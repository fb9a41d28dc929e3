"""writer.llm streams every call: slow models finish, silences and cut streams are handled,
refusals of a response_format are negotiated once and remembered — all against the scripted
server through the real openai client."""

import pytest

from publisher.errors import LLMError
from publisher.state.db import Store
from publisher.writer.llm import LLM, format_refused
from tests.support.fakellm import REFUSALS, FakeLLM, Reply, server_error, settings_for

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["title", "body"],
          "properties": {"title": {"type": "string"}, "body": {"type": "string"}}}
MESSAGES = [{"role": "user", "content": "Écris un court article en JSON."}]
LONG = {"title": "Un titre", "body": " ".join(f"mot{i}" for i in range(120))}


def make_llm(fake, recorder=None, store=None, **extra) -> LLM:
    return LLM(settings_for(fake, **extra), recorder, backoff=0.01, capabilities=store)


def ask(llm):
    return llm.complete_json(MESSAGES, SCHEMA, purpose="write", max_tokens=500)


def test_every_request_streams_and_asks_for_usage(fake_llm):
    fake_llm.script(Reply(json=LONG, completion_tokens=321))
    data, usage = ask(make_llm(fake_llm))
    assert data == LONG
    request = fake_llm.requests[0]
    assert request["stream"] is True
    assert request["stream_options"] == {"include_usage": True}
    assert usage.output_tokens == 321 and usage.requests == 1 and usage.status == "200"


def test_a_slow_stream_longer_than_every_timeout_completes_in_one_request():
    # ~125 chunks at 60 chunks/s: the answer takes ~2 s, four times the silence allowed and
    # twice the first-token timeout, yet no chunk is ever late: it must complete, once.
    with FakeLLM(tokens_per_second=60) as fake:
        fake.script(Reply(json=LONG))
        seen = []
        llm = make_llm(fake, llm_timeout=0.5, llm_first_token_timeout=1.0)
        llm.progress = lambda purpose, tokens, seconds: seen.append((purpose, tokens))
        data, usage = ask(llm)
    assert data == LONG and len(fake.requests) == 1 and usage.requests == 1
    assert usage.seconds > 1.0
    assert seen and seen[-1][0] == "write" and seen[-1][1] > seen[0][1]


def test_a_silence_mid_stream_is_cut_and_asked_once_more(fake_llm):
    fake_llm.script(Reply(json=LONG, pause_after=(20, 5.0)), Reply(json=LONG))
    recorded = []
    data, usage = ask(make_llm(fake_llm, recorded.append, llm_timeout=0.5))
    assert data == LONG
    assert len(fake_llm.requests) == 2 and usage.requests == 2
    assert recorded[0].status.startswith("cut: no new token within 0.5 s")
    assert recorded[0].output_tokens > 0          # streamed before the cut: paid for
    assert recorded[1].status == "200"


def test_a_dropped_stream_is_asked_once_more_then_fails_with_its_reason(fake_llm):
    fake_llm.script(Reply(json=LONG, cut_after=10), Reply(json=LONG, cut_after=10))
    with pytest.raises(LLMError, match="stopped answering write twice") as err:
        ask(make_llm(fake_llm))
    assert err.value.reason == "llm_timeout"
    assert len(fake_llm.requests) == 2 and err.value.usage.requests == 2


def test_no_first_token_in_time_is_asked_once_more(fake_llm):
    fake_llm.script(Reply(json=LONG, first_token_delay=3.0), Reply(json=LONG))
    data, usage = ask(make_llm(fake_llm, llm_first_token_timeout=0.5))
    assert data == LONG and usage.requests == 2


def test_a_server_that_sends_no_usage_gets_its_tokens_counted():
    with FakeLLM(stream_usage=False) as fake:
        fake.script(Reply(json=LONG))
        _, usage = ask(make_llm(fake))
    assert usage.status == "200 (usage counted)"
    assert 100 < usage.output_tokens < 200          # one per streamed piece
    assert usage.input_tokens > 0


@pytest.mark.parametrize("status", sorted(REFUSALS))
def test_every_kind_of_refusal_falls_back_at_once_and_is_remembered(status, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    with FakeLLM(json_schema_supported=False, refusal_status=status) as fake:
        fake.script(Reply(json=LONG), Reply(json=LONG))
        recorded = []
        _, usage = ask(make_llm(fake, recorded.append, store))
        # the refusal is not retried as a transient error: one refused request, then json_object
        assert [r.response_format for r in fake.requests] == ["json_schema", "json_object"]
        assert usage.requests == 2 and recorded[0].status == f"{status} refused"
        # a new LLM (the next article, the next process) starts with what works
        ask(make_llm(fake, None, store))
        assert [r.response_format for r in fake.requests][2:] == ["json_object"]
        remembered = store.llm_capability(fake.base_url, "test-model")
    assert remembered["mode"] == "json_object" and "refused" in remembered["detail"]


def test_a_plain_server_error_is_not_mistaken_for_a_refusal(fake_llm):
    fake_llm.script(server_error(500, "CUDA out of memory"), Reply(json=LONG))
    _, usage = ask(make_llm(fake_llm))
    assert [r.response_format for r in fake_llm.requests] == ["json_schema", "json_schema"]
    assert usage.requests == 2


def test_format_refused_reads_real_server_bodies():
    import httpx
    import openai

    def error(status, message):
        response = httpx.Response(status, request=httpx.Request("POST", "http://x/v1"))
        return openai.APIStatusError(message, response=response,
                                     body={"error": {"message": message}})

    assert all(format_refused(error(s, m)) for s, m in REFUSALS.items())
    assert not format_refused(error(500, "internal error"))
    assert not format_refused(error(404, "model 'json_schema-model' not found"))
    assert not format_refused(error(429, "Rate limit reached for response_format"))
