"""The scripted server itself speaks the protocol the real openai client expects."""

import openai
import pytest

from tests.support.fakellm import FakeLLM, Reply, dropped, rate_limited, slow


def client(fake, timeout=5.0):
    return openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0, timeout=timeout)


def test_scripted_reply_and_recorded_request(fake_llm):
    fake_llm.script(Reply(json={"a": 1}, prompt_tokens=11, completion_tokens=7))
    resp = client(fake_llm).chat.completions.create(
        model="test-model", messages=[{"role": "user", "content": "salut"}],
        extra_headers={"X-Publisher-Purpose": "write"})
    assert resp.choices[0].message.content == '{"a": 1}'
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens) == (11, 7)
    assert fake_llm.requests[0].purpose == "write"
    assert fake_llm.requests[0].prompt == "salut"


def test_streaming_with_usage_chunk(fake_llm):
    fake_llm.script(Reply(content="un deux trois", finish_reason="length"))
    stream = client(fake_llm).chat.completions.create(
        model="test-model", messages=[{"role": "user", "content": "x"}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "un deux trois"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].usage.completion_tokens > 0


def test_errors_drop_and_delay(fake_llm):
    fake_llm.script(rate_limited(3), dropped(), slow(5))
    c = client(fake_llm, timeout=0.3)
    ask = dict(model="test-model", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.RateLimitError) as err:
        c.chat.completions.create(**ask)
    assert err.value.response.headers["retry-after"] == "3"
    with pytest.raises(openai.APIConnectionError):
        c.chat.completions.create(**ask)
    with pytest.raises(openai.APITimeoutError):
        c.chat.completions.create(**ask)


def test_json_schema_refusal_and_models_list():
    with FakeLLM(json_schema_supported=False, models=("a", "b")) as fake:
        fake.script(Reply(content="{}"))
        c = client(fake)
        with pytest.raises(openai.BadRequestError, match="json_schema not supported"):
            c.chat.completions.create(
                model="a", messages=[{"role": "user", "content": "x"}],
                response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": {}}})
        assert fake.pending == 1                      # the refusal did not use the script
        assert [m.id for m in c.models.list()] == ["a", "b"]


def test_empty_script_fails_loudly(fake_llm):
    with pytest.raises(openai.BadRequestError, match="no scripted reply left"):
        client(fake_llm).chat.completions.create(
            model="test-model", messages=[{"role": "user", "content": "x"}])
