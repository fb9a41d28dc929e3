"""The real local WordPress the benchmark drafts into (``scripts/wp-local``, site ``bench``).

Between measured passes the site is emptied of posts and tags with the administrator's
Application Password, straight to WordPress (not through the timing proxy), so every pass
measures the same work: a new post, and its tags created on a site that does not have them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
WP_LOCAL = REPO / "scripts" / "wp-local"


class SiteUnavailable(RuntimeError):
    """scripts/wp-local could not start the site; the message says why."""


@dataclass(frozen=True)
class Site:
    url: str
    users: dict          # role → {"username", "app_password", …} as wp-local prints them

    def env(self, role: str = "author", url: str | None = None) -> dict[str, str]:
        user = self.users[role]
        return {"WP_URL": url or self.url, "WP_USERNAME": user["username"],
                "WP_APP_PASSWORD": user["app_password"]}

    def _admin(self) -> tuple[str, str]:
        user = self.users["administrator"]
        return user["username"], user["app_password"]

    def reset(self) -> int:
        """Delete every post and tag; returns how many objects went."""
        gone = 0
        for route, params in (("posts", {"status": "any", "context": "edit"}), ("tags", {})):
            gone += self._delete_all(route, params)
        return gone

    def _delete_all(self, route: str, params: dict) -> int:
        gone = 0
        with requests.Session() as http:
            http.auth = self._admin()
            while True:
                resp = http.get(f"{self.url}/wp-json/wp/v2/{route}", timeout=60,
                                params={**params, "per_page": 100, "_fields": "id"})
                resp.raise_for_status()
                ids = [item["id"] for item in resp.json()]
                if not ids:
                    return gone
                for item_id in ids:
                    http.delete(f"{self.url}/wp-json/wp/v2/{route}/{item_id}",
                                params={"force": "true"}, timeout=60).raise_for_status()
                    gone += 1


def start_site(name: str = "bench") -> Site:
    """Start (or reuse) the pretty-permalink site ``name`` with the companion plugin."""
    cmd = [sys.executable, str(WP_LOCAL), "start", "--name", name, "--permalinks", "pretty"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SiteUnavailable(f"scripts/wp-local start failed: {exc}") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise SiteUnavailable(f"scripts/wp-local start failed: {last}; run "
                              "`sudo scripts/wp-local install` first")
    info = json.loads(proc.stdout)
    return Site(url=info["url"], users=info["users"])
