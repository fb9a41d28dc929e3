"""Configuration-class failures stop the work at once with exit 2 and one line that says what
to fix: `draft`, `feed`, `watch` and `worker` as subprocesses against the scripted OpenAI-compatible
server (which counts every request, GET /models included) and the real local WordPress."""

from __future__ import annotations

import json

import pytest

from tests.support.crash import newsroom, site  # noqa: F401  (fixtures)
from tests.support.crash import cli_env, drafts, run_cli, summary_json
from tests.support.fakellm import Reply, smart_handler
from tests.support.feedsite import seed_text


@pytest.fixture
def absent_model_env(fake_llm, wp_site, tmp_path):
    fake_llm.reject_unknown_models = True            # as Ollama or vLLM answer: 404
    fake_llm.handler = smart_handler
    return cli_env(fake_llm, wp_site, tmp_path, PUBLISHER_MODEL="gpt-absent-1")


def one_line_naming_the_model(proc, service: bool = False) -> str:
    """The one error line (a service, `watch`, logs its INFO lines about it too)."""
    lines = proc.stderr.strip().splitlines()
    if service:
        lines = [line for line in lines if not line.startswith("INFO ")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "gpt-absent-1" in lines[0]
    assert "/models" in lines[0] or "publisher doctor" in lines[0]   # how to list them
    return lines[0]


def test_draft_with_a_model_the_server_lacks_exits_2_after_one_request(
        absent_model_env, fake_llm, tmp_path):
    article = tmp_path / "article.txt"
    article.write_text(seed_text("004"), encoding="utf-8")
    proc = run_cli(absent_model_env, tmp_path, "draft", "-q", str(article))
    assert proc.returncode == 2, proc.stderr[-3000:]
    one_line_naming_the_model(proc)
    assert len(fake_llm.hits) <= 1


def test_feed_with_a_model_the_server_lacks_exits_2_before_any_story(
        absent_model_env, fake_llm, tmp_path, newsroom, wp_site):
    proc = run_cli(absent_model_env, tmp_path, "feed", "--no-progress", newsroom.two_stories())
    assert proc.returncode == 2, proc.stderr[-3000:]
    line = one_line_naming_the_model(proc)
    assert "test-model" in line                          # what the server does serve
    assert len(fake_llm.hits) <= 1 and fake_llm.requests == []
    assert drafts(wp_site, newsroom.nonce) == []


def test_watch_with_a_model_the_server_lacks_exits_2_at_start(
        absent_model_env, fake_llm, tmp_path, newsroom):
    proc = run_cli(absent_model_env, tmp_path, "watch", "--every", "30s",
                   newsroom.one_story(), timeout=120)
    assert proc.returncode == 2, proc.stderr[-3000:]
    one_line_naming_the_model(proc, service=True)
    assert len(fake_llm.hits) <= 1


def test_worker_with_a_model_the_server_lacks_exits_2_at_start(
        absent_model_env, fake_llm, tmp_path):
    proc = run_cli(absent_model_env, tmp_path, "worker", timeout=120)
    assert proc.returncode == 2, proc.stderr[-3000:]
    one_line_naming_the_model(proc, service=True)
    assert len(fake_llm.hits) <= 1 and fake_llm.requests == []


@pytest.mark.parametrize("args", [["--cron", "every day"], ["--cron", "61 * * * *"],
                                  ["--every", "7m"]])
def test_watch_refuses_a_schedule_it_cannot_read_in_one_line(
        fake_llm, wp_site, tmp_path, newsroom, args):
    env = cli_env(fake_llm, wp_site, tmp_path)
    proc = run_cli(env, tmp_path, "watch", *args, newsroom.one_story(), timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    [line] = [l for l in proc.stderr.strip().splitlines() if not l.startswith("INFO ")]
    assert line.startswith("Error: --") and ("--cron" in line or "--every" in line)
    assert fake_llm.hits == []                           # nothing contacted first


def test_a_key_refused_mid_run_stops_before_the_next_story_and_the_next_run_drafts_them(
        fake_llm, wp_site, tmp_path, newsroom):
    fake_llm.handler = lambda request: Reply(status=401, error="Incorrect API key provided")
    env = cli_env(fake_llm, wp_site, tmp_path, PUBLISHER_RETRY_BACKOFF="3600")
    url = newsroom.two_stories()
    first = run_cli(env, tmp_path, "feed", "--no-progress", "--concurrency", "1", url)
    assert first.returncode == 2, first.stderr[-3000:]
    assert "Error: " in first.stderr and "401" in first.stderr
    assert len(fake_llm.requests) == 1                   # the second story never asked
    rows = json.loads(run_cli(env, tmp_path, "history", "--json").stdout)
    assert [r["story_status"] for r in rows] == ["retrying"]

    fake_llm.handler = smart_handler                     # the key is fixed
    second = run_cli(env, tmp_path, "feed", "--no-progress", "--json", url)
    assert second.returncode == 0, second.stderr[-3000:]
    assert summary_json(second)["drafted"] == 2          # no wait: no attempt was counted
    assert len(drafts(wp_site, newsroom.nonce)) == 2
