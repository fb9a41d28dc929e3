"""A site of the sites file, end to end on the real local WordPress: `publisher feed --site`
drafts with the site's category, status and author, the password read from the variable the
site names; a wrong --site or a missing password variable is a configuration error."""

from __future__ import annotations

import json

from tests.support.crash import cli_env, new_nonce, run_cli
from tests.support.fakellm import smart_handler
from tests.support.feedsite import FeedSite
from tests.test_scale_workers import Newsroom, ensure_category, site_posts, write_sites


def test_feed_for_one_site_uses_its_category_status_and_author(fake_llm, wp_site, tmp_path):
    fake_llm.handler = smart_handler
    category = ensure_category(wp_site, "Sites Régionaux")
    with FeedSite() as feeds:
        nonce = new_nonce()
        url = Newsroom(feeds, nonce).feed("solo", 1)
        sites = write_sites(tmp_path / "sites.toml", [
            {"name": "other", "url": wp_site.url, "user": "nobody", "password_env": "NOPE"},
            {"name": "regional", "url": wp_site.url, "user": wp_site.users["editor"].username,
             "password_env": "REGIONAL_PASSWORD", "feeds": [url], "category": "Sites Régionaux",
             "status": "pending", "author": wp_site.users["author"].username}])
        env = cli_env(fake_llm, wp_site, tmp_path, PUBLISHER_SITES=str(sites),
                      REGIONAL_PASSWORD=wp_site.users["editor"].app_password)
        for key in ("WP_URL", "WP_USERNAME", "WP_APP_PASSWORD"):
            env.pop(key)
        proc = run_cli(env, tmp_path, "feed", "--site", "regional", "--json", "--no-progress",
                       "--min-words", "150")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert json.loads(proc.stdout.splitlines()[-1])["drafted"] == 1

        unknown = run_cli(env, tmp_path, "feed", "--site", "nowhere")
        assert unknown.returncode == 2 and "no such site" in unknown.stderr
        missing = run_cli(env, tmp_path, "feed", "--site", "other", url)
        assert missing.returncode == 2 and "NOPE" in missing.stderr
        history = run_cli(env, tmp_path, "history", "--site", "regional", "--json")
        assert [row["site_name"] for row in json.loads(history.stdout)] == ["regional"]

    (post,) = site_posts(wp_site, nonce)
    assert post["status"] == "pending"
    assert category in post["categories"]
    assert post["author"] == wp_site.users["author"].id
