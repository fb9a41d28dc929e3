"""The sites file: parsing, what it refuses (with the fix), and each site's settings."""

from __future__ import annotations

import pytest

from publisher.config import Settings
from publisher.errors import ConfigError
from publisher.sites import (load_sites, parse_sites, schedule_to_cron, select, settings_for,
                             site_named)

SITES = """
[sites.alpha]
url = "https://alpha.example"
user = "bot-alpha"
password_env = "ALPHA_WP_PASSWORD"
feeds = ["https://feeds.example/a.xml", "https://feeds.example/b.xml"]
category = "Régions"
author = "redaction"
status = "pending"
schedule = "15m"
requests_per_minute = 90

[sites.beta]
url = "https://beta.example"
user = "bot-beta"
password_env = "BETA_WP_PASSWORD"
"""


@pytest.fixture
def sites_file(tmp_path):
    path = tmp_path / "sites.toml"
    path.write_text(SITES, encoding="utf-8")
    return path


def test_a_sites_file_describes_each_site(sites_file):
    settings = Settings.from_mapping({"PUBLISHER_SITES": str(sites_file), "PUBLISHER_WP_RPM": "30"})
    alpha, beta = load_sites(settings)
    assert (alpha.name, alpha.url, alpha.user, alpha.category, alpha.status) == (
        "alpha", "https://alpha.example", "bot-alpha", "Régions", "pending")
    assert alpha.feeds == ("https://feeds.example/a.xml", "https://feeds.example/b.xml")
    assert (alpha.schedule, alpha.author) == ("15m", "redaction")
    assert alpha.wp_limit(settings) == 90 and beta.wp_limit(settings) == 30
    assert (beta.status, beta.feeds) == ("draft", ())


def test_a_site_reads_its_password_from_the_variable_it_names(sites_file):
    settings = Settings.from_mapping({"PUBLISHER_SITES": str(sites_file),
                                      "PUBLISHER_CATEGORY": "Divers"})
    alpha, beta = load_sites(settings)
    mine = alpha.settings(settings, {"ALPHA_WP_PASSWORD": "abcd efgh ijkl"})
    assert (mine.wp_url, mine.wp_username, mine.wp_app_password) == (
        "https://alpha.example", "bot-alpha", "abcd efgh ijkl")
    assert (mine.default_category, mine.default_status) == ("Régions", "pending")
    assert beta.settings(settings, {"BETA_WP_PASSWORD": "x"}).default_category == "Divers"
    with pytest.raises(ConfigError, match="BETA_WP_PASSWORD"):
        beta.settings(settings, {})


def test_without_a_sites_file_the_wp_settings_are_the_one_site():
    settings = Settings.from_mapping({"WP_URL": "https://solo.example", "WP_USERNAME": "u",
                                      "WP_APP_PASSWORD": "p" * 24})
    (site,) = load_sites(settings)
    assert site.implicit and site.name == "default" and site.url == "https://solo.example"
    assert site.settings(settings) is settings
    assert settings_for(settings, None) is settings


@pytest.mark.parametrize("text, message", [
    ("", "no \\[sites.NAME\\]"),
    ('[sites.a]\nurl = "u"\nuser = "x"\npassword_env = "P"\npassword = "secret"\n',
     "never put a password"),
    ('[sites.a]\nurl = "u"\nuser = "x"\npassword_env = "abcd efgh ijkl"\n', "variable NAME"),
    ('[sites.a]\nuser = "x"\npassword_env = "P"\n', "url is missing"),
    ('[sites.a]\nurl = "u"\nuser = "x"\npassword_env = "P"\nstatus = "publish"\n',
     "draft or pending"),
    ('[sites.a]\nurl = "u"\nuser = "x"\npassword_env = "P"\ncolour = "red"\n', "unknown key"),
    ('[sites."a b"]\nurl = "u"\nuser = "x"\npassword_env = "P"\n', "site name"),
    ('[sites.a]\nurl = "u"\nuser = "x"\npassword_env = "P"\nfeeds = ["f"]\n'
     '[sites.b]\nurl = "v"\nuser = "y"\npassword_env = "Q"\nfeeds = ["f"]\n', "give each feed"),
    ('[sites.a]\nurl = "u"\nuser = "x"\npassword_env = "P"\nschedule = "61 * * * *"\n',
     "site a: schedule '61 \\* \\* \\* \\*': use 30s, 5m, 1h or a cron line"),
])
def test_a_wrong_sites_file_is_refused_with_the_fix(text, message):
    import tomllib
    with pytest.raises(ConfigError, match=message):
        parse_sites(tomllib.loads(text))


def test_unreadable_or_invalid_toml_says_so(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_sites(Settings.from_mapping({"PUBLISHER_SITES": str(tmp_path / "none.toml")}))
    bad = tmp_path / "bad.toml"
    bad.write_text("[sites.a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_sites(Settings.from_mapping({"PUBLISHER_SITES": str(bad)}))


def test_site_selection(sites_file):
    sites = load_sites(Settings.from_mapping({"PUBLISHER_SITES": str(sites_file)}))
    assert [s.name for s in select(sites, None)] == ["alpha", "beta"]
    assert [s.name for s in select(sites, "beta")] == ["beta"]
    with pytest.raises(ConfigError, match="known: alpha, beta"):
        select(sites, "gamma")
    with pytest.raises(ConfigError, match="choose one with --site"):
        site_named(sites, None)


@pytest.mark.parametrize("schedule, cron", [
    ("30s", "*/30 * * * * *"), ("15m", "0 */15 * * * *"), ("2h", "0 0 */2 * * *"),
    ("*/10 6-22 * * *", "0 */10 6-22 * * *"), ("0 0 8 * * 1-5", "0 0 8 * * 1-5"),
])
def test_schedules(schedule, cron):
    assert schedule_to_cron(schedule) == cron


@pytest.mark.parametrize("schedule", ["7m", "0m", "often", "1 2 3", "61 * * * *",
                                      "every day at 8 am", "0 0 8 * * 9"])
def test_bad_schedules_are_refused(schedule):
    with pytest.raises(ConfigError):
        schedule_to_cron(schedule)


def test_a_site_password_is_read_where_every_other_setting_was(sites_file, tmp_path,
                                                                monkeypatch):
    env_file = tmp_path / "newsroom.env"
    env_file.write_text(f"PUBLISHER_SITES={sites_file}\nALPHA_WP_PASSWORD=from the file\n",
                        encoding="utf-8")
    env_file.chmod(0o600)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("BETA_WP_PASSWORD=a stray file\n", encoding="utf-8")
    settings = Settings.load(env_file, environ={})
    alpha, beta = load_sites(settings)
    assert alpha.settings(settings).wp_app_password == "from the file"
    assert "from the file" not in repr(settings)
    from publisher.redaction import scrub
    assert "from the file" not in scrub("a log line quoting from the file"), "never logged"
    with pytest.raises(ConfigError, match="BETA_WP_PASSWORD.*--env-file"):
        beta.settings(settings)              # ./.env was not the settings file: not read
    settings = Settings.load(env_file, environ={"ALPHA_WP_PASSWORD": "from the environment"})
    assert alpha.settings(settings).wp_app_password == "from the environment"


def test_opening_a_site_without_connecting_gives_its_settings_and_options(sites_file):
    from publisher.sites import open_site
    settings = Settings.from_mapping({"PUBLISHER_SITES": str(sites_file),
                                      "ALPHA_WP_PASSWORD": "abcd efgh ijkl"})
    opened = open_site(settings, "alpha", connect=False)
    assert opened.client is None and opened.name == "alpha"
    assert opened.settings.wp_url == "https://alpha.example"
    assert (opened.options.status, opened.options.category) == ("pending", "Régions")
    with pytest.raises(ConfigError, match="choose one with --site"):
        open_site(settings, None, connect=False)
