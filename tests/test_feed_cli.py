"""`publisher feed` end to end: the CLI as a subprocess, feeds and article pages served by a
local HTTP server, the scripted OpenAI-compatible server counting requests, and the real local
WordPress holding the drafts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.crash import newsroom, site  # noqa: F401  (fixtures)
from tests.support.crash import cli_env, drafts, run_cli, start_cli, summary_json
from tests.support.fakellm import server_error, smart_handler
from tests.support.feedsite import closed_port


BROKEN = (Path(__file__).parent / "fixtures" / "feeds" / "malformed.xml").read_bytes()


@pytest.fixture
def env(fake_llm, wp_site, tmp_path):
    fake_llm.handler = smart_handler
    return cli_env(fake_llm, wp_site, tmp_path)


def feed(env, tmp_path, *args, **kw):
    return run_cli(env, tmp_path, "feed", "--no-progress", *args, **kw)


def test_the_same_feed_run_twice_gives_its_drafts_once(env, tmp_path, newsroom, site,
                                                       fake_llm, wp_site):
    url = newsroom.two_stories()
    first = feed(env, tmp_path, url)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "feed: 2 new, 2 drafted" in first.stdout
    calls = len(fake_llm.requests)
    assert calls >= 2
    assert len(drafts(wp_site, newsroom.nonce)) == 2

    second = feed(env, tmp_path, url)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "feed: 0 new, 0 drafted" in second.stdout
    assert len(fake_llm.requests) == calls            # not one token more
    assert len(drafts(wp_site, newsroom.nonce)) == 2


def test_the_second_poll_is_a_conditional_get(env, tmp_path, newsroom, site):
    url = newsroom.one_story()
    path = url.split("/", 3)[3]
    assert feed(env, tmp_path, url).returncode == 0
    assert feed(env, tmp_path, url).returncode == 0
    assert site.not_modified["/" + path] == 1


def test_one_story_from_three_outlets_gives_one_draft_crediting_all_three(
        env, tmp_path, newsroom, wp_site):
    urls = newsroom.kyiv_feeds()
    proc = feed(env, tmp_path, "--json", *urls)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = summary_json(proc)
    assert (summary["new"], summary["drafted"]) == (3, 1)
    posts = drafts(wp_site, newsroom.nonce)
    assert len(posts) == 1
    content = posts[0]["content"]["raw"]
    for outlet in ("Le Courrier de l", "La Gazette du Nord", "L'Écho des Alpes"):
        assert outlet.replace("'", "&#039;") in content or outlet in content, outlet


def test_bad_feeds_and_a_dead_link_get_named_outcomes_while_the_rest_is_drafted(
        env, tmp_path, newsroom, site, wp_site):
    good = newsroom.one_story("004")
    ok_page = newsroom.page("001", "mixte", "Le Mixte")
    gone = newsroom.page("002", "mixte", "Le Mixte")
    mixed = site.feed(f"/{newsroom.nonce}/mixte.xml", [ok_page, gone],
                      links={gone.path: f"/{newsroom.nonce}/disparu.html"})
    malformed = site.raw(f"/{newsroom.nonce}/casse.xml", BROKEN, "application/rss+xml")
    empty = site.feed(f"/{newsroom.nonce}/vide.xml", [])
    down = f"http://127.0.0.1:{closed_port()}/flux.xml"

    proc = feed(env, tmp_path, "--json", good, mixed, malformed, empty, down)
    assert proc.returncode == 1, proc.stderr[-3000:]
    summary = summary_json(proc)
    assert summary["drafted"] == 2
    assert summary["failed"] == {"http_404": 1, "malformed": 1, "unreachable": 1}
    assert summary["skipped"] == {"empty": 1}
    by_url = {f["url"]: f for f in summary["feeds"]}
    assert by_url[down]["reason"] == "unreachable" and by_url[malformed]["reason"] == "malformed"
    assert len(drafts(wp_site, newsroom.nonce)) == 2


def test_the_summary_line_names_the_failures(env, tmp_path, newsroom, site):
    page = newsroom.page("001", "x", "X")
    url = site.feed(f"/{newsroom.nonce}/x.xml", [page],
                    links={page.path: f"/{newsroom.nonce}/absent.html"})
    proc = feed(env, tmp_path, url)
    assert proc.returncode == 1
    assert "feed: 1 new, 0 drafted, 1 failed (http_404) · 0 tokens · $0.0000" in proc.stdout
    assert "http_404" in run_cli(env, tmp_path, "history").stdout


def test_deleting_the_database_between_runs_gives_no_second_draft(
        env, tmp_path, newsroom, fake_llm, wp_site):
    url = newsroom.one_story("001")
    assert feed(env, tmp_path, url).returncode == 0
    calls = len(fake_llm.requests)
    for path in tmp_path.glob("publisher.db*"):
        path.unlink()
    proc = feed(env, tmp_path, url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "1 skipped (already_drafted)" in proc.stdout
    assert len(fake_llm.requests) == calls               # WordPress was asked first
    assert len(drafts(wp_site, newsroom.nonce)) == 1


def test_two_runs_started_at_the_same_moment_give_no_duplicate(
        env, tmp_path, newsroom, fake_llm, wp_site):
    urls = [newsroom.two_stories(), *newsroom.kyiv_feeds()]
    runs = [start_cli(env, tmp_path, "feed", "--no-progress", *urls) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, err[-3000:]
    assert len(drafts(wp_site, newsroom.nonce)) == 3
    assert [r.purpose for r in fake_llm.requests].count("write") == 3


def test_a_wrong_password_is_a_configuration_error_before_any_token(
        fake_llm, wp_site, tmp_path, newsroom):
    env = cli_env(fake_llm, wp_site, tmp_path, WP_APP_PASSWORD="xxxx xxxx xxxx xxxx xxxx xxxx")
    proc = feed(env, tmp_path, newsroom.one_story())
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error:")
    assert fake_llm.requests == []


def test_no_feed_given_is_a_usage_error(env, tmp_path):
    proc = feed(env, tmp_path)
    assert proc.returncode == 2
    assert "no feed given" in proc.stderr


def test_limit_leaves_the_rest_for_the_next_run(env, tmp_path, newsroom, wp_site):
    url = newsroom.two_stories()
    first = feed(env, tmp_path, "--limit", "1", url)
    assert "feed: 1 new, 1 drafted" in first.stdout, first.stderr[-3000:]
    second = feed(env, tmp_path, url)
    assert "feed: 1 new, 1 drafted" in second.stdout, second.stderr[-3000:]
    assert len(drafts(wp_site, newsroom.nonce)) == 2


def test_since_skips_older_items(env, tmp_path, newsroom):
    url = newsroom.two_stories()                   # published 2023-09-28
    proc = feed(env, tmp_path, "--since", "2024-01-01", url)
    assert proc.returncode == 0
    assert "feed: 0 new, 0 drafted" in proc.stdout


def test_retry_drafts_an_item_whose_page_is_back(env, tmp_path, newsroom, site, wp_site):
    page = newsroom.page("004", "retour", "Le Retour")
    missing = f"/{newsroom.nonce}/retour/plus-tard.html"
    url = site.feed(f"/{newsroom.nonce}/retour.xml", [page], links={page.path: missing})
    assert feed(env, tmp_path, url).returncode == 1
    site.routes[missing] = site.routes[page.path]        # the page is published at last
    proc = run_cli(env, tmp_path, "retry", "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "retry: 1 new, 1 drafted" in proc.stdout
    assert len(drafts(wp_site, newsroom.nonce)) == 1
    again = run_cli(env, tmp_path, "retry", "--no-progress")
    assert "retry: 0 new, 0 drafted" in again.stdout


def test_retry_runs_a_story_the_llm_failed_once_more(env, tmp_path, newsroom, fake_llm,
                                                     wp_site):
    fake_llm.script(server_error(503, "overloaded"))     # the first write fails for good
    url = newsroom.one_story("002")
    first = feed(env, tmp_path, url)
    assert first.returncode == 1
    assert "1 failed (llm_unavailable)" in first.stdout
    proc = run_cli(env, tmp_path, "retry", "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "retry: 0 new, 1 drafted" in proc.stdout
    assert len(drafts(wp_site, newsroom.nonce)) == 1
    assert "retry: 0 new, 0 drafted" in run_cli(env, tmp_path, "retry", "--no-progress").stdout


def test_progress_bar_on_request_and_plain_lines_otherwise(env, tmp_path, newsroom):
    url = newsroom.one_story("003")
    proc = run_cli(env, tmp_path, "feed", "--progress", url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "] 1/1" in proc.stderr                       # the bar, on stderr
    assert proc.stdout.splitlines() == [proc.stdout.strip()]   # stdout: the summary only
    plain = run_cli(env, tmp_path, "feed", newsroom.two_stories())   # no terminal: lines
    assert [line.split()[0] for line in plain.stdout.splitlines()] == ["drafted", "drafted",
                                                                       "feed:"]
