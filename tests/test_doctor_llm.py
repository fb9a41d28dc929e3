"""`publisher doctor` probes the LLM server once: models, structured output, streaming, usage
in the stream; it names what is missing with its fix and remembers what works in the state
database. Scripted servers on random ports, through the real openai client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from publisher import doctor
from publisher.config import Settings
from publisher.state.db import Store
from publisher.writer.probe import probe, probe_models
from tests.support.fakellm import FakeLLM, Reply, make_smart_handler
from tests.support.fakelocal import free_port, ollama

PUBLISHER = [sys.executable, "-c", "from publisher.cli import main; main()"]
SEED = Path(__file__).resolve().parent / "fixtures" / "seeds" / "000_26b4b37e47165035.txt"
OK = '{"ok": true}'

# llama-cpp-python's server (0.3.x) validates the request with pydantic and answers 500:
PYDANTIC_500 = {"error": {
    "message": "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': "
               "\"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': "
               "{'expected': \"'text' or 'json_object'\"}}]",
    "type": "internal_server_error", "param": None, "code": None}}
# A FastAPI server's own 422 (no "error" key: a "detail" list):
FASTAPI_422 = {"detail": [{"type": "literal_error", "loc": ["body", "response_format", "type"],
                           "msg": "Input should be 'text' or 'json_object'",
                           "input": "json_schema"}]}


def settings_at(url: str, db: str, **env) -> Settings:
    return Settings.from_mapping({"OPENAI_BASE_URL": url, "PUBLISHER_MODEL": "test-model",
                                  "PUBLISHER_DB": db, **env})


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path}/state.db"


def by_name(results) -> dict:
    return {r.name: r for r in results}


def remembered(db: str, url: str, model: str = "test-model"):
    with Store(db) as store:
        return store.llm_capability(url.rstrip("/"), model)


def answers_ok(request):
    return OK


def refuses_json_schema_with(status: int, body: dict):
    def handler(request):
        if request.response_format == "json_schema":
            return Reply(status=status, raw_body=json.dumps(body))
        return OK
    return handler


# --- what works -------------------------------------------------------------------------------

def test_a_server_that_supports_everything_is_ok_and_remembered(db):
    with FakeLLM(answers_ok) as server:
        results = by_name(doctor.check_llm(settings_at(server.base_url, db)))
        url = server.base_url
        kinds = [(r.response_format, bool(r.get("stream"))) for r in server.requests]
    assert {n: r.status for n, r in results.items()} == {
        "llm": "ok", "llm structured output": "ok", "llm streaming": "ok"}
    assert "test-model" in results["llm"].detail
    assert "json_schema" in results["llm structured output"].detail
    assert "usage" in results["llm streaming"].detail
    assert kinds == [("json_schema", False), ("json_schema", True)]
    row = remembered(db, url)
    assert row["mode"] == "json_schema" and row["stream_usage"] == "yes" and row["detail"] == ""


# --- structured output refused: json_object, remembered ------------------------------------

@pytest.mark.parametrize("status", [400, 422, 500, 501])
def test_json_schema_refused_is_json_object_only_and_remembered(db, status):
    with FakeLLM(answers_ok, json_schema_supported=False, refusal_status=status) as server:
        results = by_name(doctor.check_llm(settings_at(server.base_url, db)))
        url = server.base_url
        formats = [r.response_format for r in server.requests]
    line = results["llm structured output"]
    assert line.status == "warn"
    assert line.detail.startswith("json_object only (json_schema refused with "
                                  f"{status}: ")
    assert "falls back automatically" in line.fix
    assert formats.count("json_schema") == 1, "one refusal, never asked again"
    assert results["llm"].status == "ok" and results["llm streaming"].status == "ok"
    row = remembered(db, url)
    assert row["mode"] == "json_object" and f"json_schema refused with {status}" in row["detail"]


@pytest.mark.parametrize("status, body", [(500, PYDANTIC_500), (422, FASTAPI_422)],
                         ids=["llama-cpp-python-500", "fastapi-422"])
def test_real_servers_refusal_bodies_are_read_as_refusals(db, status, body):
    with FakeLLM(refuses_json_schema_with(status, body)) as server:
        found = probe(settings_at(server.base_url, db))
        results = by_name(doctor.probe_results(found))
    assert found.mode == "json_object" and found.ok
    assert f"json_schema refused with {status}" in found.refusal
    assert "Input should be 'text' or 'json_object'" in found.refusal
    assert results["llm structured output"].status == "warn"


def test_a_server_refusing_both_json_modes_works_in_text(db):
    with FakeLLM(answers_ok, json_schema_supported=False,
                 json_object_supported=False) as server:
        found = probe(settings_at(server.base_url, db))
        doctor._remember(settings_at(server.base_url, db), found)
        url = server.base_url
    assert found.mode == "text" and found.ok
    assert "json_schema refused with 400" in found.refusal
    assert "json_object refused with 400" in found.refusal
    assert remembered(db, url)["mode"] == "text"


def test_a_stream_without_usage_is_said_and_remembered(db):
    with FakeLLM(answers_ok, stream_usage=False) as server:
        results = by_name(doctor.check_llm(settings_at(server.base_url, db)))
        url = server.base_url
    assert "no usage chunk" in results["llm streaming"].detail
    assert "counts the tokens itself" in results["llm streaming"].fix
    assert remembered(db, url)["stream_usage"] == "no"


# --- what does not work: never [ok] --------------------------------------------------------

def test_a_server_that_cannot_stream_fails_since_publisher_streams_every_request(db):
    def no_stream(request):
        if request.get("stream"):
            return Reply(status=400, error="streaming is not supported")
        return OK
    with FakeLLM(no_stream) as server:
        found = probe(settings_at(server.base_url, db))
        results = by_name(doctor.probe_results(found))
    assert found.mode == "json_schema" and found.streaming is False and not found.ok
    assert results["llm streaming"].status == "fail"
    assert "streaming is not supported" in results["llm streaming"].detail
    assert "publisher streams every request" in results["llm streaming"].fix


def test_a_server_refusing_stream_options_is_told_apart_from_one_that_cannot_stream(db):
    def old_server(request):
        if request.get("stream_options"):
            return Reply(status=400, error="Unrecognized request argument supplied: "
                                           "stream_options")
        return OK
    with FakeLLM(old_server) as server:
        found = probe(settings_at(server.base_url, db))
        results = by_name(doctor.probe_results(found))
        streamed = [bool(r.get("stream_options")) for r in server.requests if r.get("stream")]
    assert streamed == [True, False]
    assert found.streaming is True and found.stream_usage is False and not found.ok
    line = results["llm streaming"]
    assert line.status == "fail" and "stream_options" in line.detail
    assert "upgrade the server" in line.fix


def test_a_model_not_served_fails_with_the_fix(db):
    with FakeLLM(answers_ok, models=("llama3.1:8b",), reject_unknown_models=True) as server:
        results = doctor.check_llm(settings_at(server.base_url, db))
        url = server.base_url
        chat_requests = len(server.requests)
    assert [r.status for r in results] == ["fail"]
    assert "does not serve model test-model" in results[0].detail
    assert f"`curl {url}/models`" in results[0].fix
    assert "ollama pull test-model" in results[0].fix and "llama3.1:8b" in results[0].fix
    assert chat_requests == 0
    assert remembered(db, url) is None


def test_probe_models_asks_the_models_list_only(db):
    with FakeLLM(answers_ok, models=("llama3.1:8b",), reject_unknown_models=True) as server:
        absent = probe_models(settings_at(server.base_url, db))
        chat_requests = len(server.requests)
    with FakeLLM(answers_ok) as server:
        served = probe_models(settings_at(server.base_url, db))
    assert absent.requests == 1 and chat_requests == 0
    assert [p.topic for p in absent.problems if p.fatal] == ["models"]
    assert absent.models == ("llama3.1:8b",) and absent.model_served is False
    assert served.ok and served.model_served is True and served.requests == 1


def test_a_server_that_refuses_every_request_is_not_ok(db):
    with FakeLLM(lambda request: Reply(status=500, error="CUDA error: out of memory")) as server:
        results = doctor.check_llm(settings_at(server.base_url, db))
        url = server.base_url
    assert results[0].name == "llm" and results[0].status == "fail"
    assert "500" in results[0].detail and "out of memory" in results[0].detail
    assert all(r.status != "ok" for r in results)
    assert remembered(db, url) is None


def test_an_unreachable_server_fails(db):
    url = f"http://127.0.0.1:{free_port()}/v1"
    results = doctor.check_llm(settings_at(url, db))
    assert [r.status for r in results] == ["fail"]
    assert "cannot reach" in results[0].detail and "OPENAI_BASE_URL" in results[0].fix


# --- publisher doctor, as users run it ---------------------------------------------------------

def run_cli(args, env_extra, cwd):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WP_", "OPENAI_", "PUBLISHER_"))}
    env.update(env_extra)
    return subprocess.run([*PUBLISHER, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def run_doctor(env_extra, cwd):
    return run_cli(["doctor"], env_extra, cwd)


def test_doctor_reports_json_object_only_for_llama_cpp_python(tmp_path, db):
    with FakeLLM(refuses_json_schema_with(500, PYDANTIC_500)) as server:
        result = run_doctor({"OPENAI_BASE_URL": server.base_url, "PUBLISHER_MODEL": "test-model",
                             "PUBLISHER_DB": db}, tmp_path)
        url = server.base_url
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[warn] llm structured output: json_object only (json_schema refused with 500" \
        in result.stdout
    assert "publisher falls back automatically" in result.stdout
    assert remembered(db, url)["mode"] == "json_object"


def test_the_next_draft_starts_with_the_mode_doctor_found(tmp_path, db):
    smart = make_smart_handler()

    def handler(request):
        return OK if request.purpose == "probe" else smart(request)
    with FakeLLM(handler, json_schema_supported=False, refusal_status=500) as server:
        env = {"OPENAI_BASE_URL": server.base_url, "PUBLISHER_MODEL": "test-model",
               "PUBLISHER_DB": db}
        assert run_doctor(env, tmp_path).returncode == 0
        probed = len(server.requests)
        result = run_cli(["draft", str(SEED), "--dry-run", "--out", str(tmp_path / "d")], env,
                         tmp_path)
        drafted = server.requests[probed:]
    assert result.returncode == 0, result.stderr
    assert drafted and all(r.response_format == "json_object" for r in drafted)


def test_doctor_exit_code_is_not_zero_when_the_model_is_not_served(tmp_path, db):
    with FakeLLM(answers_ok, models=("other",), reject_unknown_models=True) as server:
        result = run_doctor({"OPENAI_BASE_URL": server.base_url, "PUBLISHER_MODEL": "test-model",
                             "PUBLISHER_DB": db}, tmp_path)
    assert result.returncode == 2
    assert "[FAIL] llm:" in result.stdout and "[ok  ] llm" not in result.stdout
    assert "ollama pull test-model" in result.stdout


def test_doctor_names_the_local_server_it_finds_and_probes_it(tmp_path, db):
    with ollama(handler=answers_ok, models=("nomic-embed-text:latest", "qwen2.5:7b")) as server:
        result = run_doctor({"PUBLISHER_LOCAL_LLM_PORTS": f"{free_port()},{server.port}",
                             "PUBLISHER_DB": db}, tmp_path)
        url = server.base_url
        models = {r["model"] for r in server.requests}
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Ollama 0.5.7 found at {url} with model qwen2.5:7b" in result.stdout
    assert "[ok  ] llm structured output: json_schema" in result.stdout
    assert models == {"qwen2.5:7b"}
    assert remembered(db, url, "qwen2.5:7b")["mode"] == "json_schema"


def test_doctor_with_no_llm_and_no_local_server_says_what_to_set(tmp_path, db):
    port = free_port()
    result = run_doctor({"PUBLISHER_LOCAL_LLM_PORTS": str(port), "PUBLISHER_DB": db}, tmp_path)
    assert result.returncode == 2
    assert f"[FAIL] llm: no LLM configured; no local server answered on 127.0.0.1 port {port}" \
        in result.stdout
    assert "OPENAI_API_KEY" in result.stdout and "OPENAI_BASE_URL" in result.stdout
