"""Failed stories come back by themselves: `publisher feed` as a subprocess, feeds and pages
on a local HTTP server, the scripted OpenAI-compatible server failing (5xx) on purpose, and
the real local WordPress holding the drafts. The backoff is made short with
PUBLISHER_RETRY_BACKOFF; the maximum of attempts with PUBLISHER_MAX_ATTEMPTS."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from tests.support.crash import newsroom, site  # noqa: F401  (fixtures)
from tests.support.crash import cli_env, drafts, run_cli, summary_json
from tests.support.fakellm import server_error, smart_handler


def feed(env, tmp_path, *args):
    return run_cli(env, tmp_path, "feed", "--no-progress", *args)


def until_due(env, tmp_path) -> float:
    """Seconds until the last planned retry, as `history --json` shows it."""
    rows = json.loads(run_cli(env, tmp_path, "history", "--json").stdout)
    planned = [r["next_attempt"] for r in rows if r["story_status"] == "retrying"]
    assert planned, rows
    last = datetime.strptime(max(planned), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return max(0.0, (last - datetime.now(timezone.utc)).total_seconds())


def writes(fake_llm) -> int:
    return [r.purpose for r in fake_llm.requests].count("write")


def test_stories_the_llm_failed_are_drafted_once_by_a_later_plain_run(
        fake_llm, wp_site, tmp_path, newsroom):
    fake_llm.handler = smart_handler
    fake_llm.script(server_error(503, "overloaded"), server_error(502, "bad gateway"))
    env = cli_env(fake_llm, wp_site, tmp_path, PUBLISHER_RETRY_BACKOFF="15")
    url = newsroom.two_stories()

    first = feed(env, tmp_path, "--json", url)
    assert first.returncode == 1, first.stderr[-3000:]
    assert summary_json(first)["failed"] == {"llm_unavailable": 2}
    assert drafts(wp_site, newsroom.nonce) == []
    assert "tried again from" in first.stderr            # a plain sentence says what comes next

    early = feed(env, tmp_path, url)                     # the wait is not over: nothing yet
    assert early.returncode == 0, early.stderr[-3000:]
    assert "feed: 0 new, 0 drafted" in early.stdout
    asked = len(fake_llm.requests)

    time.sleep(until_due(env, tmp_path) + 0.5)           # PUBLISHER_RETRY_BACKOFF=15 s
    second = feed(env, tmp_path, url)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "feed: 0 new, 2 drafted" in second.stdout
    assert writes(fake_llm) == 4 and len(fake_llm.requests) > asked
    assert len(drafts(wp_site, newsroom.nonce)) == 2

    third = feed(env, tmp_path, url)                     # drafted: never again
    assert "feed: 0 new, 0 drafted" in third.stdout
    assert writes(fake_llm) == 4
    assert len(drafts(wp_site, newsroom.nonce)) == 2
    history = run_cli(env, tmp_path, "history").stdout.splitlines()
    statuses = [line.split()[2] for line in history]
    assert sorted(statuses) == ["drafted", "drafted", "failed", "failed"]
    assert all("(Les Dépêches)" in line for line in history)     # the outlet of each story


def test_a_story_failing_more_than_the_maximum_is_abandoned_and_history_says_so(
        fake_llm, wp_site, tmp_path, newsroom):
    fake_llm.handler = lambda request: server_error(500, "down for good")
    env = cli_env(fake_llm, wp_site, tmp_path, PUBLISHER_RETRY_BACKOFF="0",
                  PUBLISHER_MAX_ATTEMPTS="2")
    url = newsroom.one_story("004")

    assert feed(env, tmp_path, url).returncode == 1      # attempt 1: retrying
    second = feed(env, tmp_path, url)                    # attempt 2: the maximum
    assert second.returncode == 1, second.stderr[-3000:]
    assert "1 failed (llm_unavailable)" in second.stdout
    assert "abandoned after 2 attempt(s)" in second.stderr
    asked = len(fake_llm.requests)

    third = feed(env, tmp_path, url)                     # abandoned: not tried again
    assert third.returncode == 0 and "feed: 0 new, 0 drafted" in third.stdout
    assert len(fake_llm.requests) == asked

    latest = run_cli(env, tmp_path, "history").stdout.splitlines()[0]
    assert "abandoned" in latest and "llm_unavailable" in latest and "attempt 2" in latest
    assert "Le Solitaire" in latest                      # the outlet, and the title below
    [row] = json.loads(run_cli(env, tmp_path, "history", "--json", "--limit", "1").stdout)
    assert (row["story_status"], row["failed_attempts"], row["next_attempt"]) == (
        "abandoned", 2, "")
    assert drafts(wp_site, newsroom.nonce) == []
    stats = run_cli(env, tmp_path, "stats").stdout
    assert "abandoned: llm_unavailable 1" in stats


def test_retry_abandon_gives_up_on_a_story_by_hand(fake_llm, wp_site, tmp_path, newsroom):
    fake_llm.handler = smart_handler
    fake_llm.script(server_error(503, "overloaded"))
    env = cli_env(fake_llm, wp_site, tmp_path, PUBLISHER_RETRY_BACKOFF="0")
    url = newsroom.one_story("001")
    first = feed(env, tmp_path, "--json", url)
    assert first.returncode == 1
    story = summary_json(first)["stories"][0]["story_id"]

    gone = run_cli(env, tmp_path, "retry", "--abandon", story)
    assert gone.returncode == 0, gone.stderr[-3000:]
    assert gone.stdout.startswith(f"abandoned {story} (llm_unavailable)")
    assert "feed: 0 new, 0 drafted" in feed(env, tmp_path, url).stdout
    assert "retry: 0 new, 0 drafted" in run_cli(env, tmp_path, "retry", "--no-progress").stdout
    assert writes(fake_llm) == 1 and drafts(wp_site, newsroom.nonce) == []
    unknown = run_cli(env, tmp_path, "retry", "--abandon", "nosuchstory")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
