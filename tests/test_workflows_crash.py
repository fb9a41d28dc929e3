"""A feed run SIGKILLed at each point of a story, then run again: exactly one draft, and no
second LLM call where the model had already answered.

The kill is real: ``PUBLISHER_CRASH_AT=<point>`` makes the process SIGKILL itself there (the
fault-injection hook in publisher/workflows.py); "during the LLM call" is done from outside,
the scripted server holding the request while the test kills the process.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time

import pytest

from tests.support.crash import newsroom, site  # noqa: F401  (fixtures)
from tests.support.crash import cli_env, drafts, run_cli, start_cli
from tests.support.fakellm import smart_handler


@pytest.fixture
def env(fake_llm, wp_site, tmp_path):
    fake_llm.handler = smart_handler
    return cli_env(fake_llm, wp_site, tmp_path)


def writes(fake_llm) -> int:
    return [r.purpose for r in fake_llm.requests].count("write")


def posts_rows(tmp_path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "publisher.db") as db:
        return db.execute("SELECT post_id, story_id FROM publisher_posts").fetchall()


@pytest.mark.parametrize("point", ["llm_call", "after_llm", "after_post_created",
                                   "before_outcome"])
def test_killed_at_each_point_then_run_again_gives_exactly_one_draft(
        point, env, tmp_path, newsroom, fake_llm, wp_site):
    url = newsroom.one_story("001")
    crashed = run_cli(env, tmp_path, "feed", "--no-progress", "--concurrency", "1", url,
                      crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-3000:]
    if point in ("after_post_created", "before_outcome"):
        assert len(drafts(wp_site, newsroom.nonce)) == 1      # WordPress had it already

    again = run_cli(env, tmp_path, "feed", "--no-progress", url)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "feed: 0 new, 1 drafted" in again.stdout          # resumed, not polled again
    assert len(drafts(wp_site, newsroom.nonce)) == 1
    assert writes(fake_llm) == 1          # the answer recorded before the kill was replayed
    assert len(posts_rows(tmp_path)) == 1


def test_killed_while_the_llm_is_answering_gives_one_draft(
        env, tmp_path, newsroom, fake_llm, wp_site):
    held, release = threading.Event(), threading.Event()

    def holding(request):
        if request.purpose == "write" and not held.is_set():
            held.set()
            release.wait(60)              # the answer that never arrives
        return smart_handler(request)

    fake_llm.handler = holding
    url = newsroom.one_story("004")
    proc = start_cli(env, tmp_path, "feed", "--no-progress", url)
    try:
        assert held.wait(120), "the LLM was never asked"
        proc.kill()
        proc.wait(30)
    finally:
        release.set()
    again = run_cli(env, tmp_path, "feed", "--no-progress", url)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "1 drafted" in again.stdout
    assert len(drafts(wp_site, newsroom.nonce)) == 1
    assert writes(fake_llm) == 2          # unanswered, so asked again: once


def test_watch_polls_until_stopped_and_resumes_unfinished_work(
        env, tmp_path, newsroom, fake_llm, wp_site):
    url = newsroom.one_story("001")
    crashed = run_cli(env, tmp_path, "feed", "--no-progress", url, crash_at="after_llm")
    assert crashed.returncode == -signal.SIGKILL
    later = newsroom.site.feed(f"/{newsroom.nonce}/plus.xml",
                               [newsroom.page("004", "plus", "Le Plus")])
    proc = start_cli(env, tmp_path, "watch", "--every", "2s", url, later)
    try:
        deadline = time.monotonic() + 180
        while len(drafts(wp_site, newsroom.nonce)) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        assert len(drafts(wp_site, newsroom.nonce)) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    assert writes(fake_llm) == 2
    with sqlite3.connect(tmp_path / "publisher.db") as db:     # the watcher cleaned up
        assert db.execute("SELECT count(*) FROM workflow_schedules").fetchone() == (0,)
