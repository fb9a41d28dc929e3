"""Run ``publisher`` as a real subprocess against the local servers, and look at the results.

    newsroom = Newsroom(site, nonce)               # pages and feeds built from the seeds
    env = cli_env(fake_llm, wp_site, tmp_path)     # a temp PUBLISHER_DB, loopback allowed
    proc = run_cli(env, tmp_path, "feed", url, crash_at="after_llm")   # SIGKILLed at that point
    drafts(wp_site, nonce)                          # the posts WordPress holds for this test

Every test gets its own nonce in its pages' paths, so the attribution links of its drafts
carry it and WordPress search finds exactly this test's posts on the shared site.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from tests.support.feedsite import FeedSite, Page, seed_text

PUBLISHER = str(Path(sys.executable).with_name("publisher"))
# Settings the test process may carry that must not leak into the CLI under test.
_OURS = ("WP_", "OPENAI_", "PUBLISHER_")

KYIV = (("000", "Le Courrier de l'Est", "courrier"), ("002", "La Gazette du Nord", "gazette"),
        ("003", "L'Écho des Alpes", "echo"))


def new_nonce() -> str:
    return "n" + uuid.uuid4().hex[:10]


# Fixtures for the tests that run feeds through the CLI (import them by name).

@pytest.fixture
def site():
    """A local news site serving pages and feeds (FeedSite), closed after the test."""
    with FeedSite() as server:
        yield server


@pytest.fixture
def newsroom(site):
    """The seed stories published on ``site`` under this test's own nonce."""
    return Newsroom(site, new_nonce())


def cli_env(fake_llm, wp_site, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env.update({"OPENAI_BASE_URL": fake_llm.base_url, "OPENAI_API_KEY": "test-key",
                "PUBLISHER_MODEL": "test-model", **wp_site.env("author"),
                "PUBLISHER_DB": f"sqlite:///{tmp_path}/publisher.db",
                "PUBLISHER_ALLOW_PRIVATE_URLS": "1", "PUBLISHER_LLM_RETRIES": "0",
                "PUBLISHER_HTTP_TIMEOUT": "10"})
    env.update(extra)
    return env


def run_cli(env: dict, cwd: Path, *args: str, crash_at: str | None = None,
            timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(env)
    if crash_at:
        env["PUBLISHER_CRASH_AT"] = crash_at
    return subprocess.run([PUBLISHER, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def start_cli(env: dict, cwd: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([PUBLISHER, *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def summary_json(proc: subprocess.CompletedProcess) -> dict:
    """The run's --json object (the last line of stdout)."""
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no JSON on stdout; stderr:\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1])


def drafts(wp_site, nonce: str) -> list[dict]:
    """This test's posts on the site (any status), found by the nonce in their links."""
    resp = requests.get(wp_site.api("/wp/v2/posts"), auth=wp_site.auth("author"), timeout=30,
                        params={"search": nonce, "status": "any", "context": "edit",
                                "per_page": 100})
    resp.raise_for_status()
    return resp.json()


class Newsroom:
    """Outlets publishing the seed stories on a FeedSite, under this test's nonce."""

    def __init__(self, site: FeedSite, nonce: str):
        self.site, self.nonce = site, nonce
        self.when = datetime(2023, 9, 28, 12, 0, tzinfo=timezone.utc)

    def page(self, seed: str, outlet: str, site_name: str, title: str = "") -> Page:
        text = seed_text(seed)
        title = title or text.split(".")[0][:90]
        # The nonce in the text too: another test drafting the same seed has another source
        # hash, so WordPress never answers "already drafted" across tests.
        extra = f"Cette dépêche porte la référence {self.nonce} dans nos archives de rédaction."
        return self.site.article(f"/{self.nonce}/{outlet}/{seed}.html", text, title=title,
                                 site_name=site_name, published=self.when, extra=extra)

    def kyiv_feeds(self) -> list[str]:
        """Three outlets, one feed each, the same story (Stoltenberg in Kyiv, Sept. 2023)."""
        return [self.site.feed(f"/{self.nonce}/{outlet}.xml", [self.page(seed, outlet, name)])
                for seed, name, outlet in KYIV]

    def two_stories(self) -> str:
        """One feed, two unrelated stories (seeds 001 and 004)."""
        pages = [self.page("001", "depeches", "Les Dépêches"),
                 self.page("004", "depeches", "Les Dépêches")]
        return self.site.feed(f"/{self.nonce}/depeches.xml", pages)

    def one_story(self, seed: str = "004") -> str:
        return self.site.feed(f"/{self.nonce}/solo.xml",
                              [self.page(seed, "solo", "Le Solitaire")])
