"""writer.llm against the scripted server, through the real openai client."""

import socket

import pytest

from publisher.config import Settings
from publisher.errors import LLMError, LLMNotConfigured
from publisher.writer.llm import LLM, LLMTruncated, parse_json_object
from tests.support.fakellm import (FakeLLM, Reply, dropped, malformed_json, rate_limited,
                                   server_error, settings_for, slow)

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["title", "n"],
          "properties": {"title": {"type": "string"}, "n": {"type": "integer"}}}
MESSAGES = [{"role": "system", "content": "Réponds en JSON."},
            {"role": "user", "content": "Donne un titre."}]
GOOD = {"title": "Un titre", "n": 3}


def make_llm(fake, recorder=None, **extra) -> LLM:
    return LLM(settings_for(fake, **extra), recorder, backoff=0.01)


def ask(llm, **kw):
    return llm.complete_json(MESSAGES, SCHEMA, purpose="write", **kw)


def test_structured_output_request_and_answer(fake_llm):
    fake_llm.script(Reply(json=GOOD))
    data, usage = ask(make_llm(fake_llm))
    assert data == GOOD
    request = fake_llm.requests[0]
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["strict"] is True
    assert request["response_format"]["json_schema"]["schema"] == SCHEMA
    assert request.purpose == "write" and request["model"] == "test-model"
    assert request.headers["authorization"] == "Bearer test-key"
    assert usage.purpose == "write" and usage.finish_reason == "stop"


def test_json_schema_refused_falls_back_once_and_remembers():
    with FakeLLM(json_schema_supported=False) as fake:
        fake.script(Reply(json=GOOD), Reply(json=GOOD))
        llm = make_llm(fake)
        assert ask(llm)[0] == GOOD
        assert ask(llm)[0] == GOOD
        assert [r.response_format for r in fake.requests] == [
            "json_schema", "json_object", "json_object"]
        # without server-side enforcement, the model is shown the schema
        assert '"required"' in fake.requests[1].prompt


def test_falls_back_to_plain_text_and_digs_json_out():
    with FakeLLM(json_schema_supported=False, json_object_supported=False) as fake:
        fake.script('Voici le JSON :\n```json\n{"title": "Un titre", "n": 3}\n```\nBonne lecture')
        data, _ = ask(make_llm(fake))
        assert data == GOOD
        assert [r.response_format for r in fake.requests] == ["json_schema", "json_object", ""]


def test_malformed_json_is_asked_again_once(fake_llm):
    fake_llm.script(malformed_json(), Reply(json=GOOD, completion_tokens=10))
    data, usage = ask(make_llm(fake_llm))
    assert data == GOOD
    assert len(fake_llm.requests) == 2
    assert "pas un objet JSON utilisable" in fake_llm.requests[1].prompt
    assert usage.output_tokens > 10            # both calls are counted


def test_missing_keys_count_as_invalid(fake_llm):
    fake_llm.script(Reply(json={"title": "x"}), Reply(json={"title": "x"}))
    with pytest.raises(LLMError, match="invalid JSON twice.*missing keys: n"):
        ask(make_llm(fake_llm))


def test_rate_limit_honours_retry_after_then_succeeds(fake_llm):
    fake_llm.script(rate_limited(0), Reply(json=GOOD))
    assert ask(make_llm(fake_llm))[0] == GOOD
    assert len(fake_llm.requests) == 2


def test_server_errors_give_up_after_the_configured_retries(fake_llm):
    fake_llm.script(*[server_error() for _ in range(5)])
    with pytest.raises(LLMError) as err:
        ask(make_llm(fake_llm, llm_retries=2))
    assert len(fake_llm.requests) == 3
    message = str(err.value)
    assert "gave up after 2 retries" in message and fake_llm.base_url in message
    assert "test-key" not in message
    assert err.value.reason == "llm_unavailable"


def test_other_client_errors_are_not_retried(fake_llm):
    fake_llm.script(Reply(status=400, error="messages[1].content is too long"))
    with pytest.raises(LLMError, match="rejected the write request.*too long"):
        ask(make_llm(fake_llm))
    assert len(fake_llm.requests) == 1


def test_timeout_gives_a_clear_error(fake_llm):
    fake_llm.script(slow(5), slow(5))
    # Streaming: no first token within PUBLISHER_LLM_FIRST_TOKEN_TIMEOUT, asked once more, then
    # a clear error naming the setting to raise.
    with pytest.raises(LLMError, match="did not start answering write twice.*no first token "
                       "within 0.3 s.*PUBLISHER_LLM_FIRST_TOKEN_TIMEOUT"):
        ask(make_llm(fake_llm, llm_first_token_timeout=0.3, llm_retries=1))
    assert len(fake_llm.requests) == 2
    assert len(fake_llm.requests) == 2


def test_dropped_connection_is_retried(fake_llm):
    fake_llm.script(dropped(), Reply(json=GOOD))
    assert ask(make_llm(fake_llm))[0] == GOOD


def test_unreachable_server_names_the_url():
    with socket.socket() as sock:                 # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings.from_mapping({"OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
                                      "PUBLISHER_LLM_RETRIES": "1"})
    with pytest.raises(LLMError, match=rf"cannot reach the LLM at http://127.0.0.1:{port}/v1"
                                       r".*is Ollama") as err:
        LLM(settings, backoff=0.01).complete_json(MESSAGES, SCHEMA, purpose="write")
    assert err.value.reason == "llm_unreachable"


def test_bad_key_says_check_openai_api_key():
    with FakeLLM(api_key="the-right-key") as fake:
        with pytest.raises(LLMError, match="check OPENAI_API_KEY") as err:
            ask(make_llm(fake))
        assert "test-key" not in str(err.value) and "the-right-key" not in str(err.value)
        assert len(fake.requests) == 0


def test_unknown_model_says_how_to_list_models():
    with FakeLLM(reject_unknown_models=True, models=("llama3.2",)) as fake:
        with pytest.raises(LLMError, match=r"PUBLISHER_MODEL=test-model is not served by "
                                           r"http://127.0.0.1:\d+/v1; list models"):
            ask(make_llm(fake))
        assert LLM(settings_for(fake)).list_models() == ["llama3.2"]


def test_local_server_needs_no_key(fake_llm):
    fake_llm.script(Reply(json=GOOD))
    settings = Settings.from_mapping({"OPENAI_BASE_URL": fake_llm.base_url,
                                      "PUBLISHER_MODEL": "test-model"})
    assert LLM(settings).complete_json(MESSAGES, SCHEMA, purpose="write")[0] == GOOD
    assert fake_llm.requests[0].headers["authorization"] == "Bearer not-needed"


def test_not_configured_says_what_to_set():
    with pytest.raises(LLMNotConfigured) as err:
        LLM(Settings())
    assert "OPENAI_API_KEY" in str(err.value) and "OPENAI_BASE_URL" in str(err.value)


def test_usage_and_cost_go_to_the_recorder(fake_llm):
    fake_llm.script(Reply(json=GOOD, prompt_tokens=1000, completion_tokens=2000))
    recorded = []
    llm = make_llm(fake_llm, recorded.append, PUBLISHER_MODEL="gpt-4o-mini")
    _, usage = ask(llm)
    assert len(recorded) == 1 and recorded[0] == usage
    assert (usage.input_tokens, usage.output_tokens) == (1000, 2000)
    assert usage.model == "gpt-4o-mini"
    assert usage.cost == pytest.approx((1000 * 0.15 + 2000 * 0.60) / 1e6)
    assert usage.seconds > 0


def test_every_call_is_recorded_even_the_failed_parse(fake_llm):
    fake_llm.script(malformed_json(), Reply(json=GOOD))
    recorded = []
    ask(make_llm(fake_llm, recorded.append))
    assert [u.purpose for u in recorded] == ["write", "write"]


def test_cut_answer_raises_truncated_with_its_cost(fake_llm):
    fake_llm.script(Reply(content='{"title": "Un ti', finish_reason="length",
                          completion_tokens=50))
    with pytest.raises(LLMTruncated) as err:
        ask(make_llm(fake_llm), max_tokens=50)
    assert err.value.usage.output_tokens == 50
    assert fake_llm.requests[0]["max_tokens"] == 50
    assert len(fake_llm.requests) == 1            # no "invalid JSON" re-ask for a cut answer


def test_complete_json_despite_length_is_kept_and_flagged(fake_llm):
    fake_llm.script(Reply(json=GOOD, finish_reason="length"))
    data, usage = ask(make_llm(fake_llm))
    assert data == GOOD and usage.finish_reason == "length"


def test_switches_to_max_completion_tokens_when_asked(fake_llm):
    fake_llm.script(Reply(status=400, error="Unsupported parameter: 'max_tokens' is not "
                          "supported with this model. Use 'max_completion_tokens' instead."),
                    Reply(json=GOOD))
    assert ask(make_llm(fake_llm), max_tokens=300)[0] == GOOD
    assert fake_llm.requests[1]["max_completion_tokens"] == 300
    assert "max_tokens" not in fake_llm.requests[1]


@pytest.mark.parametrize("text", [
    '{"title": "Un titre", "n": 3}',
    '```json\n{"title": "Un titre", "n": 3}\n```',
    '<think>je réfléchis {pas du json}</think>\n{"title": "Un titre", "n": 3}',
    'Bien sûr ! {"title": "Un titre", "n": 3} Voilà.',
])
def test_parse_json_object_finds_the_object(text):
    assert parse_json_object(text, SCHEMA) == GOOD


@pytest.mark.parametrize("text,problem", [
    ("", "empty"), ("pas de json ici", "no JSON object"), ('{"title": "x",', "no JSON object"),
    ("[1, 2]", "not an object"), ('{"title": "x"}', "missing keys: n"),
])
def test_parse_json_object_says_what_is_wrong(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_json_object(text, SCHEMA)
