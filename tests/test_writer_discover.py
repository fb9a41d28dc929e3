"""Finding a local OpenAI-compatible server when no LLM is configured: fake servers that look
like Ollama, llama.cpp, LM Studio, vLLM… on random ports (never the real usual ones), and
`publisher draft` run as users run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.config import LOCAL_LLM_PORTS, Settings, parse_ports
from publisher.errors import ConfigError, LLMNotConfigured
from publisher.writer.discover import choose_model, scan, use_local_llm
from tests.support.fakellm import make_smart_handler
from tests.support.fakelocal import (SilentListener, free_port, lm_studio, llama_cpp,
                                     llama_cpp_python, not_an_llm, old_ollama, ollama, vllm)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "fixtures" / "seeds" / "000_26b4b37e47165035.txt"
PUBLISHER = [sys.executable, "-c", "from publisher.cli import main; main()"]


def settings(**env) -> Settings:
    return Settings.from_mapping({"PUBLISHER_DB": "sqlite://", **env})


# --- the search ----------------------------------------------------------------------------

def test_finds_ollama_on_the_port_list_and_chooses_a_chat_model():
    with ollama(models=("nomic-embed-text:latest", "qwen2.5:7b")) as server:
        result = scan((free_port(), server.port))
        url = server.base_url
    assert len(result.found) == 1
    found = result.usable
    assert found.server == "Ollama 0.5.7"
    assert found.base_url == url == f"http://127.0.0.1:{found.port}/v1"
    assert found.models == ("nomic-embed-text:latest", "qwen2.5:7b")
    assert found.model == "qwen2.5:7b"


@pytest.mark.parametrize("make, name", [
    (llama_cpp, "llama.cpp"), (llama_cpp_python, "llama-cpp-python"),
    (lm_studio, "LM Studio"), (vllm, "vLLM"),
])
def test_recognises_the_server(make, name):
    with make() as server:
        found = scan((server.port,)).usable
    assert found is not None and found.server == name
    assert found.model == server.models[0]


def test_an_unknown_server_is_still_used_under_a_neutral_name():
    with ollama() as server:
        server.owned_by, server.routes = "someone", {}      # no Ollama route left
        found = scan((server.port,)).usable
    assert found.server == "an OpenAI-compatible server" and found.model == "qwen2.5:7b"


def test_llama_cpp_is_recognised_by_its_props_when_nothing_else_says_so():
    with llama_cpp() as server:
        server.owned_by, server.server_header = "", ""
        found = scan((server.port,)).usable
    assert found.server == "llama.cpp"
    assert ("GET", "/props") in server.hits


def test_an_ollama_without_v1_models_is_read_from_api_tags():
    with old_ollama(models=("llama3:latest",)) as server:
        found = scan((server.port,)).usable
    assert found.server == "Ollama 0.1.30"
    assert found.models == ("llama3:latest",) and found.model == "llama3:latest"
    assert found.base_url.endswith("/v1")
    assert ("GET", "/api/tags") in server.hits


def test_another_web_application_on_a_port_is_not_taken_for_an_llm():
    with not_an_llm() as web:
        result = scan((web.port,))
    assert result.found == () and result.usable is None
    assert ("GET", "/v1/models") in web.hits


def test_a_server_that_never_answers_is_given_up():
    with SilentListener() as silent, vllm() as server:
        result = scan((silent.port, server.port), read_timeout=0.2)
        assert [f.port for f in result.found] == [server.port]


def test_the_first_usable_server_in_port_order_wins():
    with vllm() as first, lm_studio() as second:
        assert scan((first.port, second.port)).usable.port == first.port
        assert scan((second.port, first.port)).usable.port == second.port


def test_a_server_with_only_embedding_models_is_passed_over_and_named():
    with ollama(models=("nomic-embed-text:latest",)) as embed_only, vllm() as chat:
        result = scan((embed_only.port, chat.port))
        assert result.usable.port == chat.port
        nothing = scan((embed_only.port,))
    assert nothing.usable is None
    with pytest.raises(LLMNotConfigured) as err:
        with ollama(models=("nomic-embed-text:latest",)) as embed_only:
            use_local_llm(settings(PUBLISHER_LOCAL_LLM_PORTS=str(embed_only.port)))
    assert "serves no chat model" in str(err.value) and "ollama pull" in str(err.value)


# --- the model ------------------------------------------------------------------------------

def test_publisher_model_is_used_when_the_server_has_it():
    models = ("qwen2.5:7b-instruct", "llama3.1:8b")
    assert choose_model(models, "llama3.1:8b") == ("llama3.1:8b", "")
    assert choose_model(("llama3:latest",), "llama3") == ("llama3:latest", "")


def test_otherwise_a_chat_or_instruct_model_rather_than_an_embedding_model():
    assert choose_model(("nomic-embed-text", "mxbai-embed-large", "llama3.1:8b"))[0] == \
        "llama3.1:8b"
    assert choose_model(("Qwen2.5-7B", "Qwen2.5-7B-Instruct"))[0] == "Qwen2.5-7B-Instruct"
    assert choose_model(("base-a", "base-b"))[0] == "base-a"
    assert choose_model(("nomic-embed-text",)) == ("", "")
    assert choose_model(()) == ("", "")


def test_a_publisher_model_the_server_lacks_is_said_and_another_chosen():
    model, note = choose_model(("llama3.1:8b",), "qwen2.5:14b")
    assert model == "llama3.1:8b" and "PUBLISHER_MODEL=qwen2.5:14b is not served" in note


# --- settings -------------------------------------------------------------------------------

def test_settings_carry_the_server_found_and_say_it_in_one_line():
    lines = []
    with lm_studio() as server:
        found = use_local_llm(settings(PUBLISHER_LOCAL_LLM_PORTS=f"{free_port()},{server.port}"),
                              say=lines.append)
        url = server.base_url
    assert found.openai_base_url == url
    assert found.model == "qwen2.5-7b-instruct" and found.llm_configured
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "LM Studio" in lines[0] and url in lines[0]
    assert "qwen2.5-7b-instruct" in lines[0]


def test_nothing_found_says_what_to_set_and_where_it_looked():
    port = free_port()
    with pytest.raises(LLMNotConfigured) as err:
        use_local_llm(settings(PUBLISHER_LOCAL_LLM_PORTS=str(port)))
    message = str(err.value)
    assert "OPENAI_API_KEY" in message and "OPENAI_BASE_URL" in message
    assert f"127.0.0.1 port {port}" in message and "PUBLISHER_LOCAL_LLM_PORTS" in message


def test_a_configured_llm_is_never_searched_for():
    with vllm() as server:
        configured = settings(OPENAI_BASE_URL="http://127.0.0.1:9/v1",
                              PUBLISHER_LOCAL_LLM_PORTS=str(server.port))
        assert use_local_llm(configured) is configured
    assert server.hits == []


def test_the_port_list_setting():
    assert parse_ports(LOCAL_LLM_PORTS) == (11434, 1234, 8080, 8000)
    assert settings().local_llm_port_list == (11434, 1234, 8080, 8000)
    assert settings(PUBLISHER_LOCAL_LLM_PORTS="8081, 11435").local_llm_port_list == (8081, 11435)
    assert settings(PUBLISHER_LOCAL_LLM_PORTS="off").local_llm_port_list == ()
    with pytest.raises(ConfigError, match="PUBLISHER_LOCAL_LLM_PORTS"):
        settings(PUBLISHER_LOCAL_LLM_PORTS="11434,ollama")
    with pytest.raises(LLMNotConfigured, match="off"):
        use_local_llm(settings(PUBLISHER_LOCAL_LLM_PORTS="off"))


# --- publisher draft, as users run it ----------------------------------------------------------

def run(args, env_extra, *, cwd):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WP_", "OPENAI_", "PUBLISHER_"))}
    env.update(env_extra)
    return subprocess.run([*PUBLISHER, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_draft_uses_the_local_server_it_finds_and_says_which(tmp_path):
    with ollama(handler=make_smart_handler(), models=("nomic-embed-text:latest", "qwen2.5:7b")) as server:
        result = run(["draft", str(SEED), "--dry-run", "--out", str(tmp_path / "d")],
                     {"PUBLISHER_LOCAL_LLM_PORTS": f"{free_port()},{server.port}",
                      "PUBLISHER_DB": f"sqlite:///{tmp_path}/state.db"}, cwd=tmp_path)
        url = server.base_url
    assert result.returncode == 0, result.stderr
    line = next(l for l in result.stderr.splitlines() if "no LLM configured" in l)
    assert "Ollama 0.5.7" in line and url in line and "qwen2.5:7b" in line
    assert server.requests, "the draft was written by the server found"
    assert {r["model"] for r in server.requests} == {"qwen2.5:7b"}
    assert (tmp_path / "d" / "payload.json").is_file()


def test_draft_with_nothing_found_prints_what_to_set_and_exits_2(tmp_path):
    port = free_port()
    result = run(["draft", str(SEED), "--dry-run"],
                 {"PUBLISHER_LOCAL_LLM_PORTS": str(port),
                  "PUBLISHER_DB": f"sqlite:///{tmp_path}/state.db"}, cwd=tmp_path)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert message.count("\n") == 0, "one line"
    for needle in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "Ollama", "vLLM", "LM Studio",
                   "PUBLISHER_MODEL", str(port)):
        assert needle in message
