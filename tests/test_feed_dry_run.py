"""`publisher feed --dry-run`: local feeds and pages, the scripted OpenAI-compatible server,
one dry-run folder per story, and no WordPress: WP_URL points at a local decoy server that
counts every request it gets."""

from __future__ import annotations

import json

import pytest

from tests.support.crash import site  # noqa: F401  (fixtures)
from tests.support.crash import Newsroom, cli_env, drafts, new_nonce, run_cli, summary_json
from tests.support.fakellm import smart_handler
from tests.support.feedsite import FeedSite


@pytest.fixture
def decoy():
    """Where WP_URL points: any request it gets would be WordPress contacted."""
    with FeedSite() as server:
        yield server


def dry_env(fake_llm, wp_site, tmp_path, decoy):
    fake_llm.handler = smart_handler
    return cli_env(fake_llm, wp_site, tmp_path, WP_URL=decoy.url("/"),
                   PUBLISHER_DRAFTS_DIR=str(tmp_path / "drafts"))


def test_feed_dry_run_writes_one_folder_per_story_and_touches_no_wordpress(
        fake_llm, wp_site, tmp_path, site, decoy):
    newsroom = Newsroom(site, new_nonce())
    urls = [newsroom.two_stories(), *newsroom.kyiv_feeds()]    # 5 items, 3 stories
    env = dry_env(fake_llm, wp_site, tmp_path, decoy)

    proc = run_cli(env, tmp_path, "feed", "--dry-run", "--no-progress", *urls)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "feed --dry-run: 5 new, 0 drafted, 3 written to folders (dry run)" in proc.stdout
    folders = sorted((tmp_path / "drafts").iterdir())
    assert len(folders) == 3
    for folder in folders:
        payload = json.loads((folder / "payload.json").read_text(encoding="utf-8"))
        assert payload["title"] and payload["content"]
        assert (folder / "preview.html").is_file()
        assert str(folder) in proc.stdout                 # each story's line names its folder
    assert [r.purpose for r in fake_llm.requests].count("write") == 3
    assert sum(decoy.hits.values()) == 0                  # WordPress never contacted
    assert drafts(wp_site, newsroom.nonce) == []


def test_a_dry_run_marks_nothing_seen_so_the_real_run_drafts_every_story(
        fake_llm, wp_site, tmp_path, site, decoy):
    newsroom = Newsroom(site, new_nonce())
    url = newsroom.two_stories()
    dry = run_cli(dry_env(fake_llm, wp_site, tmp_path, decoy), tmp_path, "feed", "--dry-run",
                  "--json", url)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert summary_json(dry)["written"] == 2

    real = run_cli(cli_env(fake_llm, wp_site, tmp_path), tmp_path, "feed", "--json", url)
    assert real.returncode == 0, real.stderr[-3000:]
    assert (summary_json(real)["new"], summary_json(real)["drafted"]) == (2, 2)
    assert len(drafts(wp_site, newsroom.nonce)) == 2
    assert sum(decoy.hits.values()) == 0


def test_feed_dry_run_needs_no_wordpress_settings(fake_llm, tmp_path, site):
    newsroom = Newsroom(site, new_nonce())
    fake_llm.handler = smart_handler
    env = {k: v for k, v in cli_env(fake_llm, _NoSite(), tmp_path).items()
           if not k.startswith("WP_")}
    env["PUBLISHER_DRAFTS_DIR"] = str(tmp_path / "drafts")
    proc = run_cli(env, tmp_path, "feed", "--dry-run", "--no-progress", newsroom.one_story())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(list((tmp_path / "drafts").iterdir())) == 1


class _NoSite:
    """cli_env's WordPress part, empty: this run has no site at all."""

    def env(self, _user: str) -> dict:
        return {}
