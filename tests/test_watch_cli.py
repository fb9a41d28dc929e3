"""`publisher watch` as a service: a story the LLM failed (5xx) at one poll is drafted by a
later poll once its wait is over, exactly once; the real local WordPress and the scripted
OpenAI-compatible server."""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.support.crash import Newsroom, cli_env, drafts, new_nonce, run_cli, start_cli
from tests.support.fakellm import server_error, smart_handler
from tests.support.feedsite import FeedSite


@pytest.fixture
def newsroom():
    with FeedSite() as site:
        yield Newsroom(site, new_nonce())


def writes(fake_llm) -> int:
    return [r.purpose for r in fake_llm.requests].count("write")


def test_watch_retries_a_failed_story_at_a_later_poll_and_drafts_it_once(
        fake_llm, wp_site, tmp_path, newsroom):
    fake_llm.handler = smart_handler
    fake_llm.script(server_error(503, "overloaded"))     # the first write fails
    env = cli_env(fake_llm, wp_site, tmp_path, PUBLISHER_RETRY_BACKOFF="1")
    proc = start_cli(env, tmp_path, "watch", "--every", "2s", newsroom.one_story("001"))
    try:
        deadline = time.monotonic() + 180
        while not drafts(wp_site, newsroom.nonce) and time.monotonic() < deadline:
            time.sleep(1)
        time.sleep(5)                                     # two more polls: nothing more
        assert len(drafts(wp_site, newsroom.nonce)) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    assert writes(fake_llm) == 2                          # the failed one, the retry
    assert "it will be tried again" in err
    rows = json.loads(run_cli(env, tmp_path, "history", "--json").stdout)
    assert [(r["kind"], r["story_status"]) for r in rows] == [("drafted", "drafted"),
                                                              ("failed", "drafted")]
