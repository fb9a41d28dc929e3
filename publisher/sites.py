"""Several WordPress sites, described in a TOML file (``PUBLISHER_SITES=sites.toml``).

    [sites.lemonde-local]                    # the site's name: --site lemonde-local
    url = "https://local.example.com"
    user = "publisher-bot"
    password_env = "LEMONDE_WP_PASSWORD"     # the NAME of the variable holding the password
    feeds = ["https://a.example/rss", "https://b.example/rss"]
    category = "Actualités"                  # default category (must exist on the site)
    author = "redaction"                     # WordPress user the drafts are filed under
    status = "draft"                         # draft | pending
    schedule = "15m"                         # poll the feeds every 15 min (or a cron line)
    requests_per_minute = 120                # WordPress requests per limit window (optional)

Passwords never live in the file: each site names the environment variable (or .env key) that
holds its Application Password. Without a sites file, the WP_* settings are the one site,
named "default" — the zero-configuration case.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from croniter import croniter

from .config import Settings
from .errors import ConfigError, WordPressError
from .limits import site_http
from .models import PostResult
from .net import Http
from .pipeline import Options, file_under_author  # noqa: F401 (its home before pipeline.push)
from .redaction import remember
from .wordpress import WordPressPort, open_client

log = logging.getLogger(__name__)

DEFAULT = "default"
STATUSES = ("draft", "pending")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
KEYS = {"url", "user", "password_env", "feeds", "category", "author", "status", "schedule",
        "requests_per_minute"}


@dataclass(frozen=True)
class Site:
    name: str
    url: str
    user: str
    password_env: str = ""
    feeds: tuple[str, ...] = ()
    category: str = ""
    author: str = ""
    status: str = "draft"
    schedule: str = ""
    requests_per_minute: int | None = None    # None: PUBLISHER_WP_RPM
    implicit: bool = False                     # the WP_* settings, no sites file

    @property
    def key(self) -> str:
        """What the site is called in workflow IDs, queue partitions and stats."""
        return self.name

    def settings(self, base: Settings, environ: dict | None = None, *,
                 password: bool = True) -> Settings:
        """``base`` pointed at this site: its URL, login, category and status; its password
        too unless ``password=False`` (a dry run talks to no WordPress)."""
        if self.implicit:
            return base
        secret = _password(self, base, environ) if password else ""
        return replace(base, wp_url=self.url, wp_username=self.user, wp_app_password=secret,
                       default_category=self.category or base.default_category,
                       default_status=self.status or base.default_status)

    def wp_limit(self, base: Settings) -> int:
        return self.requests_per_minute if self.requests_per_minute is not None else base.wp_rpm


def _password(site: Site, base: Settings, environ: dict | None) -> str:
    # The variables every other setting came from (--env-file or .env, then the environment);
    # settings made by hand, with none, read the process environment.
    values = environ if environ is not None else (base.env or os.environ)
    password = values.get(site.password_env, "")
    if not password:
        raise ConfigError(f"site {site.name}: the variable {site.password_env} named by its "
                          "password_env is not set; export it (or put it in the --env-file, "
                          "by default .env) with the site's Application Password")
    remember(password, site.user)       # scrubbed from logs and errors like WP_APP_PASSWORD
    return password


def load_sites(settings: Settings) -> list[Site]:
    """The sites of ``settings.sites_file``, or the one implicit site from WP_*."""
    if not settings.sites_file:
        return [Site(DEFAULT, settings.wp_url, settings.wp_username,
                     category=settings.default_category, status=settings.default_status,
                     implicit=True)]
    return parse_sites(_read(settings.sites_file), settings.sites_file)


def _read(path: str) -> dict:
    try:
        import tomllib
    except ImportError:                       # Python 3.10
        raise ConfigError("PUBLISHER_SITES needs Python 3.11 or later (tomllib)") from None
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"PUBLISHER_SITES={path}: cannot read it ({exc.strerror}); give the "
                          "path of a sites TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from None


def parse_sites(data: dict, where: str = "sites file") -> list[Site]:
    tables = data.get("sites")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{where}: no [sites.NAME] table; describe at least one site")
    sites = [_site(name, table, where) for name, table in tables.items()]
    _check_feeds_unique(sites, where)
    return sites


def _site(name: str, table: dict, where: str) -> Site:
    if not _NAME.match(name):
        raise ConfigError(f"{where}: site name {name!r} must be letters, digits, '.', '_' or "
                          "'-' (at most 40)")
    if "password" in table or "app_password" in table:
        raise ConfigError(f"{where}: site {name}: never put a password in the file; set "
                          "password_env to the name of a variable holding it")
    unknown = set(table) - KEYS
    if unknown:
        raise ConfigError(f"{where}: site {name}: unknown key(s) {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(sorted(KEYS))}")
    for key in ("url", "user", "password_env"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise ConfigError(f"{where}: site {name}: {key} is missing")
    if not _ENV_NAME.match(table["password_env"]):
        raise ConfigError(f"{where}: site {name}: password_env must be a variable NAME "
                          "(e.g. SITE_A_WP_PASSWORD), not the password")
    status = table.get("status", "draft")
    if status not in STATUSES:
        raise ConfigError(f"{where}: site {name}: status {status!r} must be draft or pending")
    feeds = table.get("feeds", [])
    if not isinstance(feeds, list) or not all(isinstance(f, str) for f in feeds):
        raise ConfigError(f"{where}: site {name}: feeds must be a list of URLs")
    rpm = table.get("requests_per_minute")
    if rpm is not None and (not isinstance(rpm, int) or rpm < 1):
        raise ConfigError(f"{where}: site {name}: requests_per_minute must be a positive integer")
    if table.get("schedule"):           # refused with the site named, not at the worker's start
        _check_schedule(str(table["schedule"]), f"{where}: site {name}")
    return Site(name=name, url=table["url"].strip(), user=table["user"].strip(),
                password_env=table["password_env"], feeds=tuple(feeds),
                category=table.get("category", ""), author=table.get("author", ""),
                status=status, schedule=str(table.get("schedule", "")),
                requests_per_minute=rpm)


def _check_feeds_unique(sites: list[Site], where: str) -> None:
    # Items are remembered per feed URL: one feed feeding two sites would draft each item
    # for the first site only.
    owner: dict[str, str] = {}
    for site in sites:
        for feed in site.feeds:
            if feed in owner and owner[feed] != site.name:
                raise ConfigError(f"{where}: feed {feed} is listed under sites {owner[feed]} "
                                  f"and {site.name}; give each feed to one site")
            owner[feed] = site.name


def select(sites: list[Site], name: str | None) -> list[Site]:
    """All the sites (no name), or the one called ``name``."""
    if not name:
        return sites
    for site in sites:
        if site.name == name:
            return [site]
    known = ", ".join(s.name for s in sites)
    raise ConfigError(f"--site {name}: no such site (known: {known}); check PUBLISHER_SITES")


def site_named(sites: list[Site], name: str | None) -> Site:
    """The one site a single-article command works on."""
    if not name and len(sites) == 1:
        return sites[0]
    if not name:
        raise ConfigError(f"{len(sites)} sites in PUBLISHER_SITES: choose one with --site NAME "
                          f"({', '.join(s.name for s in sites)})")
    return select(sites, name)[0]


def settings_for(settings: Settings, name: str | None, *, password: bool = True) -> Settings:
    """``settings`` pointed at the site called ``name`` (the WP_* site when there is no file)."""
    if not name and not settings.sites_file:
        return settings
    return site_named(load_sites(settings), name).settings(settings, password=password)


# --- opening a site: the one way every command (draft, push, feed, worker, doctor) does it ---

@dataclass(frozen=True)
class OpenSite:
    """A site ready for work: its settings, its WordPress client (requests under the site's
    limit, credentials checked), the pipeline options its stories start from, and the user id
    its posts are filed under."""

    site: Site
    settings: Settings
    client: WordPressPort | None            # None: WordPress not configured, or not wanted
    options: Options
    author_id: int | None = None            # the site's ``author``; None: the login's own

    @property
    def name(self) -> str:
        return self.site.name


def open_site(settings: Settings, name: str | Site | None = None, *, shared=None,
              deadline: float | None = None, connect: bool = True) -> OpenSite:
    """The site called ``name`` (the WP_* one without a sites file), opened: everything that
    can be wrong with it is found here, before a token is spent. ``shared`` (state.limits.
    Limits) puts its WordPress requests under the shared limit; ``connect=False`` (a dry run)
    or a site without WP_URL opens no client."""
    site = name if isinstance(name, Site) else site_named(load_sites(settings), name)
    mine = site.settings(settings, password=connect)
    options = Options(status=mine.default_status, category=mine.default_category,
                      seo_plugin=mine.seo_plugin)
    if not connect or not mine.wordpress_configured:
        return OpenSite(site, mine, None, options)
    mine.require_wordpress()
    client = site_client(site, settings, shared, deadline)
    try:
        client.check_auth()
        categories = tuple(client.category_names())
        author = _author(site, client)
    except WordPressError as err:     # wrong password, not WordPress: fix the settings
        if site.implicit:
            raise
        raise ConfigError(f"site {site.name}: {err}", reason=err.reason) from None
    return OpenSite(site, mine, client, replace(options, categories=categories), author)


def site_client(site: Site, settings: Settings, shared=None,
                deadline: float | None = None) -> WordPressPort:
    """A site's WordPress client, each request under the site's shared limit (when there is
    a limit and ``shared``) and within ``deadline``."""
    mine = site.settings(settings)
    limit = site.wp_limit(settings)
    if limit and shared is not None:
        return open_client(mine, site_http(mine, shared, limit, deadline=deadline))
    return open_client(mine, Http(timeout=mine.http_timeout,
                                  allow_private=mine.allow_private_urls, deadline=deadline))


def _author(site: Site, client: WordPressPort) -> int | None:
    if not site.author:
        return None
    found = client.author_id(site.author)
    if found is None:
        raise ConfigError(f"site {site.name}: author {site.author!r} is not a user who can "
                          "write on the site; fix author in the sites file (a WordPress login)")
    return found


def _check_schedule(schedule: str, where: str) -> None:
    try:
        schedule_to_cron(schedule)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None


def schedule_to_cron(schedule: str) -> str:
    """A site's ``schedule``: ``30s``/``5m``/``2h`` (dividing a minute, hour or day), or a
    cron line (five fields, or six with seconds first)."""
    match = re.match(r"^(\d+)\s*([smh])$", schedule.strip().lower())
    if not match:
        fields = schedule.split()
        cron = ("0 " if len(fields) == 5 else "") + " ".join(fields)
        # croniter, as `watch --cron` checks: "61 * * * *" would only fail at the first poll.
        if len(fields) in (5, 6) and croniter.is_valid(cron, second_at_beginning=True):
            return cron
        raise ConfigError(f"schedule {schedule!r}: use 30s, 5m, 1h or a cron line "
                          '(five fields, e.g. "*/10 6-22 * * *")')
    n, unit = int(match[1]), match[2]
    size = {"s": 60, "m": 60, "h": 24}[unit]
    if n < 1 or n >= size or size % n:
        raise ConfigError(f"schedule {schedule!r}: must divide a minute, hour or day evenly; "
                          "use a cron line for other schedules")
    return {"s": f"*/{n} * * * * *", "m": f"0 */{n} * * * *", "h": f"0 0 */{n} * * *"}[unit]
