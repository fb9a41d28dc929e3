"""`draft --site NAME` and a feed story for the same site open the site the same way
(sites.open_site): the same post fields (author, category, status, meta) and the same shared
limits, on the real local WordPress with the scripted LLM. The site's password lives only in
the file given with --env-file: both commands must find it there.

Before: `draft --site` filed the post under the login (not the site's author), sent its
WordPress requests and LLM calls outside the shared limits, and looked the password up in
./.env only."""

from __future__ import annotations

import json
import os

import pytest

from publisher.state.db import Store
from publisher.state.limits import Limits
from tests.support.crash import PUBLISHER
from tests.support.fakellm import smart_handler
from tests.support.feedsite import FeedSite
from tests.test_scale_workers import Newsroom, ensure_category, site_posts, write_sites

pytestmark = pytest.mark.wordpress

CATEGORY = "Parité des chemins"
SEO_META = ("_yoast_wpseo_title", "_yoast_wpseo_metadesc", "_yoast_wpseo_focuskw",
            "rank_math_title", "rank_math_description", "rank_math_focus_keyword")


def run(env: dict, cwd, *args: str):
    import subprocess
    return subprocess.run([PUBLISHER, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def used(db: str, scope: str) -> int:
    with Store(db) as store:
        return Limits(store).used(scope, 3600)


def post_fields(post: dict) -> dict:
    meta = post.get("meta") or {}
    return {"author": post["author"], "categories": post["categories"],
            "status": post["status"],
            "seo meta": sorted(k for k in SEO_META if str(meta.get(k) or "").strip()),
            "source meta": sorted(k for k in ("publisher_source_url", "publisher_source_hash")
                                  if meta.get(k))}


@pytest.fixture
def newsroom_site(fake_llm, wp_site, tmp_path):
    """Two stories on a local news site, a sites file naming one WordPress site (editor
    login, author, category, pending, a request limit) and the password in an env file."""
    fake_llm.handler = smart_handler
    category = ensure_category(wp_site, CATEGORY)
    with FeedSite() as feeds:
        newsroom = Newsroom(feeds, "p" + os.urandom(5).hex())
        draft_feed = newsroom.feed("direct", 1)          # its one page is drafted by hand
        story_feed = newsroom.feed("flux", 1)
        sites = write_sites(tmp_path / "sites.toml", [{
            "name": "parity", "url": wp_site.url, "user": wp_site.users["editor"].username,
            "password_env": "PARITY_WP_PASSWORD", "feeds": [story_feed],
            "category": CATEGORY, "status": "pending",
            "author": wp_site.users["author"].username, "requests_per_minute": 500}])
        env_file = tmp_path / "site.env"
        env_file.write_text(f"PARITY_WP_PASSWORD={wp_site.users['editor'].app_password}\n",
                            encoding="utf-8")
        env_file.chmod(0o600)
        db = f"sqlite:///{tmp_path}/publisher.db"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("WP_", "OPENAI_", "PUBLISHER_", "PARITY_"))}
        env.update({"OPENAI_BASE_URL": fake_llm.base_url, "OPENAI_API_KEY": "test-key",
                    "PUBLISHER_MODEL": "test-model", "PUBLISHER_DB": db,
                    "PUBLISHER_SITES": str(sites), "PUBLISHER_ALLOW_PRIVATE_URLS": "1",
                    "PUBLISHER_LLM_RETRIES": "0", "PUBLISHER_LLM_RPM": "1000"})
        page = draft_feed.rsplit("/", 1)[0] + "/direct/0.html"
        yield dict(env=env, env_file=str(env_file), db=db, page=page, category=category,
                   nonce=newsroom.nonce)


def test_draft_site_and_a_feed_story_make_the_same_post_under_the_same_limits(
        newsroom_site, fake_llm, wp_site, tmp_path):
    s = newsroom_site
    wp_scope = f"wp:{wp_site.url.rstrip('/')}"
    llm_scope = f"llm-rpm:{fake_llm.base_url.rsplit('/v1', 1)[0]}"

    drafted = run(s["env"], tmp_path, "draft", "--site", "parity", "--env-file", s["env_file"],
                  "--min-words", "150", "--json", "-q", s["page"])
    assert drafted.returncode == 0, drafted.stderr[-3000:]
    by_draft = json.loads(drafted.stdout.splitlines()[-1])
    draft_llm_calls = len(fake_llm.requests)
    after_draft = used(s["db"], wp_scope), used(s["db"], llm_scope)

    fed = run(s["env"], tmp_path, "feed", "--site", "parity", "--env-file", s["env_file"],
              "--min-words", "150", "--json", "--no-progress")
    assert fed.returncode == 0, fed.stderr[-3000:]
    assert json.loads(fed.stdout.splitlines()[-1])["drafted"] == 1
    feed_llm_calls = len(fake_llm.requests) - draft_llm_calls
    after_feed = used(s["db"], wp_scope), used(s["db"], llm_scope)

    posts = {p["id"]: p for p in site_posts(wp_site, s["nonce"])}
    assert len(posts) == 2
    by_hand = posts.pop(by_draft["id"])
    (by_feed,) = posts.values()
    assert post_fields(by_hand) == post_fields(by_feed)
    assert by_hand["author"] == wp_site.users["author"].id        # the site's author, not
    assert s["category"] in by_hand["categories"]                 # the login (editor)
    assert by_hand["status"] == "pending"
    assert post_fields(by_hand)["seo meta"], "the SEO meta reached WordPress"

    # Every LLM request of either path took a permit of the shared limit, and both paths'
    # WordPress requests were counted against the site's budget.
    assert after_draft[1] == draft_llm_calls > 0
    assert after_feed[1] - after_draft[1] == feed_llm_calls > 0
    assert after_draft[0] > 0 and after_feed[0] > after_draft[0]


def test_a_site_password_in_the_env_file_is_found_and_a_missing_one_named(
        newsroom_site, fake_llm, tmp_path):
    s = newsroom_site
    found = run(s["env"], tmp_path, "draft", "--site", "parity", "--env-file", s["env_file"],
                "--dry-run", "--out", str(tmp_path / "out"), "--min-words", "150", "-q",
                s["page"])
    assert found.returncode == 0, found.stderr[-3000:]
    fake_llm.requests.clear()
    missing = run(s["env"], tmp_path, "draft", "--site", "parity", "--min-words", "150", "-q",
                  s["page"])
    assert missing.returncode == 2, missing.stderr[-3000:]
    assert "PARITY_WP_PASSWORD" in missing.stderr and "--env-file" in missing.stderr
    assert fake_llm.requests == [], "nothing is spent before the site is opened"
    # A dry run talks to no WordPress: the site's category and status, no password needed.
    dry = run(s["env"], tmp_path, "draft", "--site", "parity", "--dry-run", "--json", "-q",
              "--out", str(tmp_path / "dry"), "--min-words", "150", s["page"])
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert json.loads(dry.stdout.splitlines()[-1])["outcome"] == "dry_run"
