"""A real WordPress on loopback for the tests, started by ``scripts/wp-local``.

Fixtures (session scope), each a :class:`WPSite`:

- ``wp_site``        pretty permalinks, companion plugin (site name ``pytest``)
- ``wp_plain_site``  plain permalinks (``/?p=1``), companion plugin (``pytest-plain``)
- ``wp_bare_site``   pretty permalinks, no plugin: SEO meta is not registered (``pytest-bare``)

Use ``site.settings("author")`` for a ``publisher.config.Settings`` pointed at the site with
that role's Application Password, and ``site.users["editor"].password`` for a browser login.
A second run reuses the running sites (well under a second each). When WordPress cannot be
started, tests are skipped with the reason, except under CI=true where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import pytest

from publisher.config import Settings

__all__ = ["WPUser", "WPSite", "start_wp_site", "wp_site", "wp_plain_site", "wp_bare_site"]

WP_LOCAL = Path(__file__).resolve().parents[2] / "scripts" / "wp-local"
ROLES = ("administrator", "editor", "author", "contributor", "subscriber")


@dataclass(frozen=True)
class WPUser:
    username: str
    password: str       # login password (wp-login.php, XML-RPC)
    app_password: str   # Application Password (REST Basic auth)
    id: int


@dataclass(frozen=True)
class WPSite:
    name: str
    url: str            # http://127.0.0.1:PORT, no trailing slash
    admin_url: str      # http://127.0.0.1:PORT/wp-admin/
    permalinks: str     # "pretty" | "plain"
    plugin: bool        # companion mu-plugin installed?
    users: Mapping[str, WPUser]

    def auth(self, role: str = "author") -> tuple[str, str]:
        """(username, app_password): Basic auth for ``requests``."""
        user = self.users[role]
        return user.username, user.app_password

    def env(self, role: str = "author") -> dict[str, str]:
        user = self.users[role]
        return {"WP_URL": self.url, "WP_USERNAME": user.username,
                "WP_APP_PASSWORD": user.app_password}

    def settings(self, role: str = "author", **overrides: str) -> Settings:
        """Settings for this site as ``role``; overrides are more env keys (PUBLISHER_DB=…)."""
        return Settings.from_mapping({**self.env(role), **overrides})

    def api(self, route: str) -> str:
        """REST URL of ``route`` (e.g. "/wp/v2/posts") that works with either permalink style."""
        if self.permalinks == "pretty":
            return f"{self.url}/wp-json{route}"
        return f"{self.url}/?rest_route={route}"


def _parse(info: dict) -> WPSite:
    users = {role: WPUser(u["username"], u["password"], u["app_password"], int(u["id"]))
             for role, u in info["users"].items()}
    return WPSite(name=info["name"], url=info["url"], admin_url=info["admin_url"],
                  permalinks=info["permalinks"], plugin=bool(info["plugin"]),
                  users=MappingProxyType(users))


def start_wp_site(name: str, *, permalinks: str = "pretty", plugin: bool = True) -> WPSite:
    """Start (or reuse) site ``name``; skips the test (fails under CI=true) if it cannot."""
    cmd = [sys.executable, str(WP_LOCAL), "start", "--name", name, "--permalinks", permalinks]
    if not plugin:
        cmd.append("--no-plugin")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"{type(exc).__name__}: {exc}")
    if proc.returncode != 0:
        _unavailable(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else
                     f"exit code {proc.returncode}")
    return _parse(json.loads(proc.stdout))


def _unavailable(reason: str):
    message = f"WordPress not available: run scripts/wp-local install ({reason})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def wp_site() -> WPSite:
    return start_wp_site("pytest", permalinks="pretty", plugin=True)


@pytest.fixture(scope="session")
def wp_plain_site() -> WPSite:
    return start_wp_site("pytest-plain", permalinks="plain", plugin=True)


@pytest.fixture(scope="session")
def wp_bare_site() -> WPSite:
    return start_wp_site("pytest-bare", permalinks="pretty", plugin=False)
