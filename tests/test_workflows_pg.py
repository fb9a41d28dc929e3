"""The same feed run on PostgreSQL (PUBLISHER_DB=postgresql://…): engine and publisher tables
in one database, two overlapping runs, one draft per story. Skipped without a PostgreSQL
(PUBLISHER_TEST_PG, or scripts/pg-local start once)."""

from __future__ import annotations

import os

import pytest

from tests.support.crash import Newsroom, cli_env, drafts, new_nonce, start_cli
from tests.support.fakellm import smart_handler
from tests.support.feedsite import FeedSite
from tests.test_state_backends import PG_SKIP, fresh_pg_database, pg_url


@pytest.fixture
def pg_db():
    url = pg_url()
    if not url:
        if os.environ.get("CI", "").lower() == "true":     # CI must not hide these tests
            pytest.fail(PG_SKIP, pytrace=False)
        pytest.skip(PG_SKIP)
    yield from fresh_pg_database(url)


def test_two_overlapping_runs_on_postgresql_draft_each_story_once(pg_db, fake_llm, wp_site,
                                                                  tmp_path):
    fake_llm.handler = smart_handler
    with FeedSite() as site:
        newsroom = Newsroom(site, new_nonce())
        urls = [newsroom.two_stories(), *newsroom.kyiv_feeds()]
        env = cli_env(fake_llm, wp_site, tmp_path, PUBLISHER_DB=pg_db)
        runs = [start_cli(env, tmp_path, "feed", "--no-progress", *urls) for _ in range(2)]
        outputs = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, err[-3000:]
    assert len(drafts(wp_site, newsroom.nonce)) == 3
    assert [r.purpose for r in fake_llm.requests].count("write") == 3
