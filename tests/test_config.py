"""Settings: PUBLISHER_DB as a plain path or a URL, the feed and source caps, and the
PUBLISHER_* names no setting reads (issue 13, parts 3 and 5)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.config import Settings, database_url, unknown_keys
from publisher.errors import ConfigError
from publisher.state.db import Store

PUBLISHER = [sys.executable, "-c", "from publisher.cli import main; main()"]


def _clean_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WP_", "OPENAI_", "PUBLISHER_"))}
    return {**env, **extra}


def test_a_relative_db_path_is_the_sqlite_file_under_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_mapping({"PUBLISHER_DB": "state/publisher.db"})
    assert settings.db == f"sqlite:///{tmp_path}/state/publisher.db"
    with Store(settings.db) as store:
        store.mark_source("story-1", "https://news.test/a", "", "Titre")
    assert (tmp_path / "state" / "publisher.db").stat().st_size > 0


def test_an_absolute_path_and_a_home_path_are_accepted(tmp_path):
    assert database_url(str(tmp_path / "p.db")) == f"sqlite:///{tmp_path}/p.db"
    home = database_url("~/publisher/p.db")
    assert "~" not in home and home == "sqlite:///" + str(Path.home() / "publisher" / "p.db")


@pytest.mark.parametrize("url", ["sqlite:////var/lib/publisher/p.db", "sqlite:///rel.db",
                                 "postgresql://publisher@db.internal/publisher",
                                 "postgres://u:pw@localhost:5432/p"])
def test_urls_are_kept_as_they_are(url):
    assert Settings.from_mapping({"PUBLISHER_DB": url}).db == url


def test_the_default_db_is_still_a_url():
    assert Settings.from_mapping({}).db.startswith("sqlite:///")


def test_the_cli_accepts_a_plain_db_path(tmp_path):
    """What the issue met: ``PUBLISHER_DB=/path/publisher.db`` was refused (URL required)."""
    path = tmp_path / "data" / "publisher.db"
    proc = subprocess.run([*PUBLISHER, "history", "--json"], cwd=tmp_path, text=True,
                          capture_output=True, timeout=120,
                          env=_clean_env(PUBLISHER_DB=str(path)))
    assert proc.returncode == 0, proc.stderr
    assert path.is_file() and "not a database URL" not in proc.stderr


def test_feed_and_source_caps_have_defaults_and_can_be_set():
    default = Settings.from_mapping({})
    assert (default.feed_max_items, default.max_source_chars) == (50, 60_000)
    custom = Settings.from_mapping({"PUBLISHER_FEED_MAX_ITEMS": "500",
                                    "PUBLISHER_MAX_SOURCE_CHARS": "20000"})
    assert (custom.feed_max_items, custom.max_source_chars) == (500, 20_000)


@pytest.mark.parametrize("key, value", [("PUBLISHER_FEED_MAX_ITEMS", "0"),
                                        ("PUBLISHER_MAX_SOURCE_CHARS", "10"),
                                        ("PUBLISHER_FEED_MAX_ITEMS", "many")])
def test_caps_that_make_no_sense_are_configuration_errors(key, value):
    with pytest.raises(ConfigError, match=key):
        Settings.from_mapping({key: value})


def test_unknown_publisher_keys_come_with_the_nearest_known_one():
    found = dict(unknown_keys(["PUBLISHER_MODLE", "PUBLISHER_FEED_MAX_ITEM", "PUBLISHER_DB",
                               "PUBLISHER_WIBBLE_WOBBLE", "WP_URL", "HOME",
                               "PUBLISHER_TEST_PG"]))
    assert found == {"PUBLISHER_MODLE": "PUBLISHER_MODEL",
                     "PUBLISHER_FEED_MAX_ITEM": "PUBLISHER_FEED_MAX_ITEMS",
                     "PUBLISHER_WIBBLE_WOBBLE": ""}
    assert unknown_keys(["PUBLISHER_LEMONDE_PASSWORD"], known=["PUBLISHER_LEMONDE_PASSWORD"]) == []
