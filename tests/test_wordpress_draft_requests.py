"""How many WordPress requests one `publisher draft` costs (api.draft, in process, the scripted
model, the real local WordPress behind a counting proxy)."""

from __future__ import annotations

import pytest

from publisher import api
from publisher.config import Settings
from tests.support.wpproxy import WpProxy
from tests.test_cli import llm_env, smart_llm  # noqa: F401  (fixtures)
from tests.test_review_api import _unique_seed

pytestmark = pytest.mark.wordpress


def _settings(llm_env, site, url: str, tmp_path) -> Settings:
    return Settings.from_mapping({**llm_env, **site.env("author"), "WP_URL": url,
                                  "PUBLISHER_DRAFTS_DIR": str(tmp_path / "drafts")})


def test_a_draft_asks_each_thing_of_wordpress_once(llm_env, wp_site, tmp_path, smart_llm):
    seed = _unique_seed(tmp_path)
    with WpProxy(wp_site.url) as proxy:
        settings = _settings(llm_env, wp_site, proxy.url, tmp_path)
        outcome = api.draft(api.DraftRequest(inputs=(str(seed),)), settings)
        sent = list(proxy.requests)
        assert outcome.kind == "drafted", outcome
        # two source-hash lookups: before any token, and again just before the create (another
        # run may have drafted these sources during the LLM's minute)
        assert proxy.count("GET", "publisher_source_hash=") == 2, sent
        # and one search for the site's related posts (internal links, keyphrase reuse)
        assert proxy.count("GET", "search=") == 1, sent
        assert proxy.count("GET", "/wp/v2/posts") == 3, sent
        assert proxy.count("GET", "/wp/v2/categories") == 1, sent   # the listing gave the id
        assert proxy.count("POST", "/wp/v2/tags") == 0, sent     # new tags: one batch at most
        assert proxy.count("POST", "/batch/v1") <= 1, sent
        assert proxy.count("POST", "/wp/v2/posts") == 1, sent
        # site page, users/me, categories, posts schema, 2 hash lookups, related search, tags,
        # batch, create
        assert len(sent) <= 10, sent
        # --update: the one lookup finds the post, which is rewritten, not created again.
        before = len(proxy.requests)
        again = api.draft(api.DraftRequest(inputs=(str(seed),), update=True), settings)
        sent = proxy.requests[before:]
        assert again.kind == "drafted" and again.post.id == outcome.post.id and again.post.reused
        assert sum(1 for m, p in sent if m == "GET" and "publisher_source_hash=" in p) == 1, sent
        assert not any(m == "POST" and p.rstrip("/").endswith("/wp/v2/posts") for m, p in sent)
