"""The state store, on SQLite and (when available) PostgreSQL: same tests, same answers."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, insert

from publisher.errors import ConfigError
from publisher.models import Outcome, PostResult, Usage
from publisher.state import MIGRATIONS, Store
from publisher.state import db as statedb
from tests.test_state_backends import db_url  # noqa: F401  (fixture)


def _post(post_id=7, status="draft", slug="stoltenberg-kiev"):
    return PostResult(id=post_id, status=status, slug=slug, link=f"http://wp.test/?p={post_id}",
                      edit_link=f"http://wp.test/wp-admin/post.php?post={post_id}&action=edit")


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()


def _columns(store: Store) -> dict[str, set[str]]:
    insp = inspect(store.engine)
    return {t: {c["name"] for c in insp.get_columns(t)}
            for t in insp.get_table_names() if t.startswith("publisher_")}


def _expected_columns() -> dict[str, set[str]]:
    return {t.name: {c.name for c in t.columns} for t in (statedb.schema, *statedb.TABLES)}


# --- schema and migrations ------------------------------------------------------------------

def test_fresh_database_gets_every_table_and_the_latest_version(db_url):
    with Store(db_url) as store:
        assert store.schema_version() == len(MIGRATIONS)
        assert _columns(store) == _expected_columns()
        assert store.migrate() == []                      # idempotent
        assert store.schema_version() == len(MIGRATIONS)


def test_upgrade_from_version_1_keeps_rows_and_reaches_the_current_schema(db_url):
    with Store(db_url, migrate=False) as old:
        assert old.schema_version() == 0
        assert old.migrate(target=1) == [1]               # the previous release's schema
        assert "publisher_feeds" not in _columns(old)
        old.record_outcome("story-a", Outcome("skipped", reason="too_short"))
        old.record_llm_call(Usage("gpt-4o-mini", "write", 100, 50, cost=0.01), "story-a")
    with Store(db_url, migrate=False) as new:
        assert new.migrate() == list(range(2, len(MIGRATIONS) + 1))
        assert _columns(new) == _expected_columns()
        assert new.history()[0]["reason"] == "too_short"
        assert new.usage_totals("story-a")["calls"] == 1
        new.save_feed_cache("http://feed.test/rss", "e1", "", "ok")
        assert new.feed_cache("http://feed.test/rss") == ("e1", "")


def test_a_database_from_a_newer_publisher_is_refused(db_url):
    with Store(db_url) as store:
        with store.engine.begin() as conn:
            conn.execute(insert(statedb.schema).values(version=99, name="future",
                                                       applied_at=statedb.now()))
    with pytest.raises(ConfigError, match="upgrade publisher"):
        Store(db_url)


def test_sqlite_creates_the_folder_and_uses_wal(tmp_path):
    path = tmp_path / "deep" / "er" / "publisher.db"
    with Store(f"sqlite:///{path}") as store:
        assert path.exists()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_url_spellings():
    assert statedb.engine_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert statedb.engine_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert statedb.engine_url("sqlite:////x/p.db") == "sqlite:////x/p.db"
    with pytest.raises(ConfigError, match="not supported"):
        Store("mysql://u@h/d")
    with pytest.raises(ConfigError, match="not a database URL"):
        Store("not a url")


# --- records --------------------------------------------------------------------------------

def test_history_is_newest_first_with_links_title_and_post_status(store):
    store.mark_source("s1", "https://news.test/a", "hash1", "Stoltenberg à Kiev")
    store.record_outcome("s1", Outcome("failed", reason="llm_failed", error="timeout"))
    store.record_post("http://wp.test/", "s1", "hash1", _post())
    store.record_outcome("s1", Outcome("drafted", post=_post()), attempts=2)
    store.record_outcome("s2", Outcome("skipped", reason="not_french"))
    rows = store.history()
    assert [r["kind"] for r in rows] == ["skipped", "drafted", "failed"]
    drafted = rows[1]
    assert drafted["edit_link"].endswith("post=7&action=edit")
    assert drafted["link"] == "http://wp.test/?p=7"
    assert (drafted["title"], drafted["source_url"]) == ("Stoltenberg à Kiev", "https://news.test/a")
    assert (drafted["post_status"], drafted["slug"], drafted["attempts"]) == ("draft", "stoltenberg-kiev", 2)
    assert rows[0]["title"] == "" and rows[0]["post_id"] is None
    assert len(store.history(limit=1)) == 1


def test_failed_story_ids_are_those_whose_latest_outcome_failed(store):
    store.record_outcome("a", Outcome("failed", reason="http_500"))
    store.record_outcome("b", Outcome("failed", reason="llm_failed"))
    store.record_outcome("a", Outcome("drafted", post=_post()))
    store.record_outcome("c", Outcome("skipped", reason="too_short"))
    store.record_outcome("d", Outcome("dry_run"))
    store.record_outcome("d", Outcome("failed", reason="auth_failed"))
    assert store.failed_story_ids() == ["b", "d"]


def test_usage_totals_overall_and_per_story(store):
    assert store.usage_totals() == {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost": 0.0}
    store.record_llm_call(Usage("gpt-4o-mini", "write", 1000, 800, 3.5, 0.00063, "stop"), "s1")
    store.record_llm_call(Usage("gpt-4o-mini", "expand", 200, 300, 1.0, 0.00021, "length"), "s1")
    store.record_llm_call(Usage("gpt-4o", "seo_fix", 10, 20, 0.2, 0.0001))
    assert store.usage_totals("s1") == {"calls": 2, "input_tokens": 1200, "output_tokens": 1100,
                                        "cost": 0.00084}
    assert store.usage_totals()["calls"] == 3
    assert store.usage_totals("nobody")["calls"] == 0


def test_posts_by_story_and_by_source_hash_and_reuse_updates(store):
    assert store.post_for_story("s1") is None
    store.record_post("http://wp.test/", "s1", "hash1", _post())
    store.record_post("http://wp.test", "s1", "hash1", _post(status="pending", slug="renamed"))
    found = store.post_for_story("s1")
    assert (found["post_id"], found["status"], found["slug"]) == (7, "pending", "renamed")
    assert store.post_for_hash("http://wp.test/", "hash1")["post_id"] == 7
    assert store.post_for_hash("http://other.test", "hash1") is None
    assert store.post_for_hash("http://wp.test", "hash2") is None
    store.record_post("http://other.test", "s1", "hash1", _post(post_id=3))
    assert store.post_for_story("s1")["site"] == "http://other.test"
    assert len(store.dump()["publisher_posts"]) == 2


def test_mark_source_keeps_the_first_sighting(store):
    store.mark_source("s1", "https://news.test/a", "h1", "Titre")
    first = store.dump()["publisher_sources"][0]["first_seen"]
    store.mark_source("s1", "https://news.test/a", "h2", "Titre corrigé")
    (row,) = store.dump()["publisher_sources"]
    assert (row["first_seen"], row["source_hash"], row["title"]) == (first, "h2", "Titre corrigé")


def test_feed_cache_keeps_validators_on_failure_and_forgets_them_when_dropped(store):
    url = "http://feeds.test/rss.xml"
    assert store.feed_cache(url) == ("", "")
    store.save_feed_cache(url, '"v1"', "Wed, 01 Nov 2023 10:00:00 GMT", "ok")
    store.save_feed_cache(url, None, None, "failed")
    assert store.feed_cache(url) == ('"v1"', "Wed, 01 Nov 2023 10:00:00 GMT")
    assert store.feed_status(url)["last_status"] == "failed"
    store.save_feed_cache(url, '"v2"', "", "ok")
    assert store.feed_cache(url) == ('"v2"', "")


def test_feed_items_are_seen_once_per_feed(store):
    assert not store.item_seen("http://f.test/a", "guid-1")
    store.mark_item("http://f.test/a", "guid-1", "story", "https://n.test/1", "Titre", "2023-09-28T10:00:00Z")
    store.mark_item("http://f.test/a", "guid-1", "story", "https://n.test/1", "Titre", "")
    assert store.item_seen("http://f.test/a", "guid-1")
    assert not store.item_seen("http://f.test/b", "guid-1")
    assert len(store.dump()["publisher_feed_items"]) == 1


# --- secrets --------------------------------------------------------------------------------

def test_no_secret_reaches_the_database(db_url):
    """A run's worth of records, with secrets in the places they could sneak in: none stored."""
    from publisher.config import Settings
    settings = Settings.from_mapping({
        "WP_URL": "http://wp.test", "WP_USERNAME": "editor",
        "WP_APP_PASSWORD": "abcd EFGH ijkl MNOP qrst UVWX", "OPENAI_API_KEY": "sk-test-9f8e7d6c5b4a",
        "PUBLISHER_DB": db_url})
    url_password = "hunter2-url-pw"
    with Store(settings.db, secrets=settings.secrets()) as store:
        store.mark_source("s1", f"https://reader:{url_password}@news.test/a", "h", "Titre")
        store.record_llm_call(Usage(settings.model, "write", 10, 20), "s1")
        store.record_outcome("s1", Outcome(
            "failed", reason="auth_failed",
            error=f"401 for editor:{settings.wp_app_password} with key {settings.openai_api_key}"))
        store.record_post(settings.wp_url, "s1", "h", _post())
        store.save_feed_cache(f"http://u:{url_password}@feeds.test/rss", "e", "", "ok")
        store.mark_item("http://feeds.test/rss", "g", "s1", "https://n.test/1", "Titre", "")
        dumped = repr(store.dump()) + repr(store)
    assert "auth_failed" in dumped and "editor:***" in dumped
    for secret in (*settings.secrets(), url_password):
        assert secret not in dumped


def test_an_in_memory_store_works_for_throwaway_runs():
    with Store("sqlite://") as store:
        store.record_outcome("s", Outcome("skipped", reason="already_drafted"))
        assert store.history()[0]["reason"] == "already_drafted"
