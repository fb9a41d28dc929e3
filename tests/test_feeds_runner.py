"""The feed runner's pure parts: the summary line and exit code, options parsing, the feeds
file, story workflow IDs, and telling a dead executor from a live one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone

import click
import pytest

from publisher.cli.feeds import every_to_cron, feed_urls, parse_since
from publisher.errors import ConfigError
from publisher.feeds.fetch import FeedItem, FeedResult
from publisher.feeds.group import group_id
from publisher.feeds.runner import Failure, Summary, read_feed_list
from publisher.models import Brief, Source
from publisher.pipeline import Options
from publisher.workflows import StoryJob, StoryResult, executor_dead, executor_id


def drafted(tokens=1000, cost=0.001):
    return StoryResult("s1", "drafted", input_tokens=tokens, output_tokens=0, cost=cost)


def test_summary_line_counts_and_names_every_reason():
    summary = Summary(new=6)
    for result in (drafted(6000, 0.002), drafted(6840, 0.0021),
                   StoryResult("s3", "skipped", "already_drafted"),
                   Failure("s4", "failed", "http_404", "gone", "Titre")):
        summary.add_story(result)
    summary.add_feed(FeedResult("http://a.test/flux", "failed", "malformed"), 0)
    assert summary.line() == ("feed: 6 new, 2 drafted, 1 skipped (already_drafted), "
                              "2 failed (http_404, malformed) · 12 840 tokens · $0.0041")
    assert summary.exit_code == 1


def test_a_clean_run_exits_0_even_with_skips():
    summary = Summary(new=1)
    summary.add_story(StoryResult("s", "skipped", "already_drafted"))
    summary.add_feed(FeedResult("http://a.test/vide", "ok", "empty"), 0)
    assert summary.exit_code == 0
    assert summary.skipped == Counter({"already_drafted": 1, "empty": 1})
    assert summary.line("retry") == ("retry: 1 new, 0 drafted, 2 skipped (already_drafted, "
                                     "empty) · 0 tokens · $0.0000")


def test_summary_json_keeps_each_story_and_feed():
    summary = Summary(new=1)
    summary.add_story(drafted())
    data = summary.to_dict()
    assert data["stories"][0]["kind"] == "drafted" and data["tokens"] == 1000


def test_since_takes_dates_and_ages():
    assert parse_since("2024-05-01") == datetime(2024, 5, 1, tzinfo=timezone.utc)
    age = datetime.now(timezone.utc) - parse_since("2d")
    assert 2 * 86400 - 5 < age.total_seconds() < 2 * 86400 + 5
    assert parse_since(None) is None
    with pytest.raises(click.BadParameter):
        parse_since("last tuesday")


@pytest.mark.parametrize("every, cron", [("30s", "*/30 * * * * *"), ("15m", "0 */15 * * * *"),
                                         ("2h", "0 0 */2 * * *")])
def test_every_becomes_a_cron_schedule(every, cron):
    assert every_to_cron(every) == cron


@pytest.mark.parametrize("every", ["7m", "0s", "soon", "90s"])
def test_every_refuses_what_cron_cannot_say(every):
    with pytest.raises(click.BadParameter):
        every_to_cron(every)


def test_feeds_file_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "feeds.txt"
    path.write_text("# nos sources\nhttp://a.test/rss\n\nhttp://b.test/atom  # Atom\n",
                    encoding="utf-8")
    assert read_feed_list(path) == ["http://a.test/rss", "http://b.test/atom"]
    assert feed_urls((str(path), "http://c.test/rss"), None) == [
        "http://a.test/rss", "http://b.test/atom", "http://c.test/rss"]


def test_a_missing_feeds_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="feeds file"):
        read_feed_list(tmp_path / "absent.txt")


def _job(texts, attempt=0):
    sources = tuple(Source(text=t, url=f"http://x.test/{i}") for i, t in enumerate(texts))
    items = [FeedItem(guid=str(i), link=s.url, title="") for i, s in enumerate(sources)]
    return StoryJob(group_id(items), sources, Brief(), Options(), attempt=attempt)


def test_the_workflow_id_is_the_story_and_its_content():
    job = _job(["un", "deux"])
    assert job.workflow_id == _job(["un", "deux"]).workflow_id
    assert job.workflow_id.startswith(f"story-{job.story_id}-")
    assert _job(["un", "deux modifié"]).workflow_id != job.workflow_id   # new text, new run
    assert _job(["un", "deux"], attempt=2).workflow_id == job.workflow_id + "-r2"


def test_story_ids_ignore_item_order_and_tracking_parameters():
    a = FeedItem(guid="1", link="http://x.test/a?utm_source=rss", title="")
    b = FeedItem(guid="2", link="http://x.test/b", title="")
    same_a = FeedItem(guid="9", link="http://X.test/a", title="")
    assert group_id([a, b]) == group_id([b, same_a])


def test_this_process_is_alive_and_a_finished_one_is_dead():
    assert not executor_dead(executor_id())
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    host = socket.gethostname()
    assert executor_dead(f"{host}:{child.stdout.strip()}:12345")
    assert not executor_dead(f"other-host:{os.getpid()}:1")     # never judged from here
    assert not executor_dead("local")
