"""`publisher draft` and the LLM, as a user sees them: a live line on a terminal while the
model writes (none with -q or --json, none off a terminal), and every request counted — the
refused, retried and cut ones included — in --json, the report and the state database, checked
against the scripted server's own count."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.state.db import Store
from tests.support.fakellm import (FakeLLM, Reply, make_smart_handler, malformed_json,
                                   server_error)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "fixtures" / "seeds" / "000_26b4b37e47165035.txt"
PUBLISHER = [sys.executable, "-c", "from publisher.cli import main; main()"]


def env_for(server: FakeLLM, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WP_", "OPENAI_", "PUBLISHER_"))}
    env.update({"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test-key",
                "PUBLISHER_MODEL": "test-model", "PUBLISHER_DB": f"sqlite:///{tmp_path}/s.db",
                "PUBLISHER_DRAFTS_DIR": str(tmp_path / "drafts")})
    return env


def run_on_a_terminal(args: list[str], env: dict, cwd: Path) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal; return (exit code, what the terminal got)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*PUBLISHER, *args], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=120)
    os.close(leader)
    return proc.returncode, seen.decode("utf-8", "replace")


def slow_server() -> FakeLLM:
    # ~40 pieces a second: an article takes a few seconds, long enough to be watched.
    return FakeLLM(make_smart_handler(), tokens_per_second=400)


def test_a_terminal_sees_a_live_line_while_the_model_writes(tmp_path):
    with slow_server() as server:
        code, screen = run_on_a_terminal(["draft", str(SEED), "--dry-run"],
                                         env_for(server, tmp_path), tmp_path)
    assert code == 0, screen
    assert "rédaction · " in screen and " tokens/s · " in screen
    assert "\r" in screen                      # rewritten in place, not one line per update


def test_quiet_and_json_show_no_live_line(tmp_path):
    with slow_server() as server:
        env = env_for(server, tmp_path)
        for flag in ("-q", "--json"):
            code, screen = run_on_a_terminal(["draft", str(SEED), "--dry-run", flag], env,
                                             tmp_path)
            assert code == 0, screen
            assert "tokens/s" not in screen


def test_json_counts_every_request_refused_retried_and_cut(tmp_path):
    handler = make_smart_handler()
    with FakeLLM(handler, json_schema_supported=False, refusal_status=500) as server:
        # json_schema refused (500, pydantic body) -> json_object: a 503, a stream cut short,
        # then the answer.
        server.script(server_error(503, "overloaded"))
        first = {"n": 0}

        def cut_once(request):
            reply = handler(request)
            first["n"] += 1
            return Reply(json=json.loads(reply.text()), cut_after=5) if first["n"] == 1 \
                else reply
        server.handler = cut_once
        env = {**env_for(server, tmp_path), "PUBLISHER_LLM_RETRIES": "2"}
        result = subprocess.run([*PUBLISHER, "draft", str(SEED), "--dry-run", "--json"],
                                env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=120, stdin=subprocess.DEVNULL)
        requests = list(server.requests)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert [r.response_format for r in requests[:3]] == ["json_schema", "json_object",
                                                         "json_object"]
    assert printed["llm"]["calls"] == len(requests) >= 4
    with Store(env["PUBLISHER_DB"]) as store:
        rows = store.dump()["publisher_llm_calls"]
    assert len(rows) == len(requests)
    assert [r["status"] for r in rows[:3]] == ["500 refused", "503", rows[2]["status"]]
    assert rows[2]["status"].startswith("cut: ")
    payload = json.loads(next((tmp_path / "drafts").glob("*/payload.json")).read_text())
    assert payload["report"]["llm_calls"] == len(requests)


def test_a_failed_draft_still_counts_its_requests_in_json(tmp_path):
    with FakeLLM() as server:
        server.script(*[server_error(503, "overloaded")] * 3)
        env = {**env_for(server, tmp_path), "PUBLISHER_LLM_RETRIES": "2"}
        result = subprocess.run([*PUBLISHER, "draft", str(SEED), "--dry-run", "--json"],
                                env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=120, stdin=subprocess.DEVNULL)
        count = len(server.requests)
    assert result.returncode == 1
    printed = json.loads(result.stdout)
    assert printed["outcome"] == "failed" and printed["reason"] == "llm_unavailable"
    assert printed["llm"]["calls"] == count == 3


EMPTY_ARTICLE = {"title": "Titre", "introduction": [], "sections": [], "conclusion": {},
                 "keyphrase": "", "meta_title": "", "meta_description": "", "tags": []}


@pytest.mark.parametrize("answer", [malformed_json, lambda: Reply(json=EMPTY_ARTICLE)],
                         ids=["garbled twice", "valid JSON without a body"])
def test_a_repair_that_fails_still_counts_its_requests(tmp_path, answer):
    # The real llama.cpp lane found it: an English first draft, a translation whose answer is
    # unusable (garbled JSON asked again; or JSON with no body, as Gemma 270M answered) —
    # those requests were paid but left out of --json and the report.
    smart = make_smart_handler(lang="en")

    def handler(request):
        if "<<<ARTICLE>>>" in request.prompt:
            return answer()
        return smart(request)

    with FakeLLM(handler) as server:
        result = subprocess.run([*PUBLISHER, "draft", str(SEED), "--dry-run", "--json"],
                                env=env_for(server, tmp_path), cwd=tmp_path, capture_output=True,
                                text=True, timeout=120, stdin=subprocess.DEVNULL)
        requests = list(server.requests)
    translations = [r for r in requests if "<<<ARTICLE>>>" in r.prompt]
    assert translations, "the gate asked for a translation"
    printed = json.loads(result.stdout)
    assert printed["llm"]["calls"] == len(requests), result.stderr
    with Store(f"sqlite:///{tmp_path}/s.db") as store:
        assert len(store.dump()["publisher_llm_calls"]) == len(requests)
