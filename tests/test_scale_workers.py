"""Scale-out end to end: a real PostgreSQL (scripts/pg-local), two real local WordPress sites
behind counting proxies, four local feeds (64 stories), the scripted LLM counting requests
per window, and three `publisher worker` processes — one SIGKILLed in the middle of a story
and restarted under the same identity.

Site A's feeds are queued by `publisher feed --enqueue --site scale-a`; site B's by the
workers' own scheduled poll (its `schedule` in the sites file). What must hold:
  - every story drafted exactly once, on its own site, with that site's category;
  - the story the killed worker held completes once, after its restart;
  - the LLM requests counted by the scripted server never exceed the limit in any window;
  - the WordPress requests counted at each site never exceed that site's limit in any window;
  - `publisher stats --json` accounts for every story, per site, with its tokens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from tests.support.crash import PUBLISHER, new_nonce
from tests.support.fakellm import FakeLLM, Reply, make_smart_handler, rate_limited
from tests.support.feedsite import FeedSite, seed_text
from tests.support.wordpress import start_wp_site
from tests.support.wpproxy import WpProxy
from tests.test_state_backends import PG_SKIP, ROOT, fresh_pg_database, pg_url

LLM_LIMIT, WP_LIMIT, WINDOW = 30, 100, 10.0     # requests per WINDOW seconds
STORIES_PER_FEED = 16
SEEDS = ("000", "001", "002", "003", "004", "louvre_a", "otan_suede", "tgv", "vendanges")


# --- the harness (bench/scale.py uses it too) --------------------------------------------------

class CountingLLM(FakeLLM):
    """The scripted LLM, recording when each chat request arrived; with ``limit`` it behaves
    as a provider does past its quota (429) — ``refused`` counts those answers."""

    def __init__(self, *, limit: int = 0, window: float = 60.0, delay: float = 0.0):
        self.arrivals: list[float] = []
        self.refused = 0
        self.limit, self.window, self.delay = limit, window, delay
        self._count_lock = threading.Lock()
        inner = make_smart_handler()

        def handler(request):
            now = time.monotonic()
            with self._count_lock:
                recent = [t for t in self.arrivals if t > now - self.window]
                self.arrivals.append(now)
                if self.limit and len(recent) >= self.limit:
                    self.refused += 1
                    return rate_limited(1)
            reply = inner(request)
            if self.delay and isinstance(reply, Reply):
                reply.delay = self.delay
            return reply

        super().__init__(handler, models=("test-model",))


class CountingProxy(WpProxy):
    """WpProxy that also records when each request reached the site."""

    def __init__(self, target: str):
        super().__init__(target)
        self.arrivals: list[float] = []

    def _forward(self, method, path, headers, body):
        with self._lock:
            self.arrivals.append(time.monotonic())
        return super()._forward(method, path, headers, body)


def max_in_window(times: list[float], window: float) -> int:
    """The most events in any window of ``window`` seconds (half-open, sliding)."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def scale_pg() -> str:
    """A PostgreSQL admin URL: PUBLISHER_TEST_PG, or scripts/pg-local (initialised and started
    when needed). Skips without one; under CI=true it fails."""
    url = pg_url()
    if not url:
        try:
            done = subprocess.run([str(ROOT / "scripts" / "pg-local"), "start"], check=True,
                                  capture_output=True, text=True, timeout=120)
            url = done.stdout.strip().splitlines()[-1]
        except (subprocess.SubprocessError, OSError, IndexError) as exc:
            message = f"{PG_SKIP} ({type(exc).__name__})"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
    return url


def ensure_category(site, name: str) -> int:
    auth = site.auth("administrator")
    found = requests.get(site.api("/wp/v2/categories"), params={"search": name}, auth=auth,
                         timeout=30).json()
    for term in found:
        if term["name"] == name:
            return term["id"]
    resp = requests.post(site.api("/wp/v2/categories"), json={"name": name}, auth=auth,
                         timeout=30)
    resp.raise_for_status()
    return resp.json()["id"]


def site_posts(site, nonce: str) -> list[dict]:
    posts, page = [], 1
    while True:
        resp = requests.get(site.api("/wp/v2/posts"), auth=site.auth("administrator"),
                            timeout=60, params={"search": nonce, "status": "any",
                                                "context": "edit", "per_page": 100,
                                                "page": page})
        resp.raise_for_status()
        posts += resp.json()
        if page >= int(resp.headers.get("X-WP-TotalPages", 1)):
            return posts
        page += 1


class Newsroom:
    """Feeds of distinct stories: each story's date is five days from any other's, so the
    grouping never takes two of them for one event."""

    def __init__(self, site: FeedSite, nonce: str):
        self.site, self.nonce = site, nonce
        self.start = datetime(2023, 1, 2, 8, 0, tzinfo=timezone.utc)
        self.count = 0

    def feed(self, name: str, stories: int) -> str:
        pages = []
        for _ in range(stories):
            index, self.count = self.count, self.count + 1
            seed = SEEDS[index % len(SEEDS)]
            text = seed_text(seed)
            title = f"{text.split('.')[0][:70]} ({name} {index})"
            extra = (f"Cette dépêche porte la référence {self.nonce} et le numéro {index} "
                     f"dans les archives du flux {name}.")
            pages.append(self.site.article(f"/{self.nonce}/{name}/{index}.html", text,
                                           title=title, site_name=f"Le {name}",
                                           published=self.start + timedelta(days=5 * index),
                                           extra=extra))
        return self.site.feed(f"/{self.nonce}/{name}.xml", pages)


def write_sites(path: Path, sites: list[dict]) -> Path:
    lines = []
    for site in sites:
        lines.append(f"[sites.{site['name']}]")
        for key, value in site.items():
            if key != "name":
                lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def base_env(llm, db: str, sites_file: Path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WP_", "OPENAI_",
                                                                     "PUBLISHER_"))}
    env.update({"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "test-key",
                "PUBLISHER_MODEL": "test-model", "PUBLISHER_DB": db,
                "PUBLISHER_SITES": str(sites_file), "PUBLISHER_ALLOW_PRIVATE_URLS": "1",
                "PUBLISHER_LLM_RETRIES": "3", "PUBLISHER_HTTP_TIMEOUT": "30",
                "PUBLISHER_MIN_WORDS": "150", "PUBLISHER_LIMIT_WINDOW": str(WINDOW)})
    env.update(extra)
    return env


def start_worker(env: dict, cwd: Path, name: str, concurrency: int = 4,
                 **extra: str) -> subprocess.Popen:
    logs = Path(os.environ.get("SCALE_TEST_LOGS") or cwd)      # to keep them for a post-mortem
    log = open(logs / f"{name}.log", "a", encoding="utf-8")
    return subprocess.Popen([PUBLISHER, "worker", "--worker-id", name, "--concurrency",
                             str(concurrency)], env={**env, **extra}, cwd=cwd,
                            stdout=log, stderr=subprocess.STDOUT, text=True)


def cli(env: dict, cwd: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([PUBLISHER, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def stats(env: dict, cwd: Path) -> dict:
    proc = cli(env, cwd, "stats", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def held_by(db: str, worker: str) -> list[str]:
    """Story workflows PENDING under ``worker`` (what it held when it died)."""
    from dbos import DBOSClient
    from publisher.state.db import engine_url
    client = DBOSClient(system_database_url=engine_url(db), application_name="publisher")
    try:
        rows = client.list_workflows(status="PENDING", executor_id=worker, name="publisher.story",
                                     load_input=False, load_output=False)
        return [r.workflow_id for r in rows]
    finally:
        client.destroy()


def statuses(db: str, ids: list[str]) -> dict[str, str]:
    from dbos import DBOSClient
    from publisher.state.db import engine_url
    client = DBOSClient(system_database_url=engine_url(db), application_name="publisher")
    try:
        return {r.workflow_id: r.status for r in client.list_workflows(
            workflow_ids=ids, load_input=False, load_output=False)}
    finally:
        client.destroy()


def stop(procs) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- the test ----------------------------------------------------------------------------------

@pytest.fixture
def pg_db():
    yield from fresh_pg_database(scale_pg())


@pytest.fixture(scope="module")
def wp_sites():
    return start_wp_site("scale-a"), start_wp_site("scale-b")


def test_three_workers_two_sites_four_feeds_each_story_once_within_limits(
        pg_db, wp_sites, tmp_path):
    site_a, site_b = wp_sites
    category = {"scale-a": ensure_category(site_a, "Région A"),
                "scale-b": ensure_category(site_b, "Région B")}
    llm = CountingLLM().start()
    procs: list[subprocess.Popen] = []
    with FeedSite() as feeds, CountingProxy(site_a.url) as proxy_a, \
            CountingProxy(site_b.url) as proxy_b:
        nonce = new_nonce()
        newsroom = Newsroom(feeds, nonce)
        feeds_a = [newsroom.feed(f"a{i}", STORIES_PER_FEED) for i in (1, 2)]
        feeds_b = [newsroom.feed(f"b{i}", STORIES_PER_FEED) for i in (1, 2)]
        sites_file = write_sites(tmp_path / "sites.toml", [
            {"name": "scale-a", "url": proxy_a.url, "user": site_a.users["author"].username,
             "password_env": "SCALE_A_PASSWORD", "feeds": feeds_a, "category": "Région A",
             "requests_per_minute": WP_LIMIT},
            {"name": "scale-b", "url": proxy_b.url, "user": site_b.users["author"].username,
             "password_env": "SCALE_B_PASSWORD", "feeds": feeds_b, "category": "Région B",
             "schedule": "3s", "requests_per_minute": WP_LIMIT},
        ])
        env = base_env(llm, pg_db, sites_file, PUBLISHER_LLM_RPM=str(LLM_LIMIT),
                       PUBLISHER_LLM_CONCURRENCY="6", PUBLISHER_SITE_CONCURRENCY="5",
                       SCALE_A_PASSWORD=site_a.users["author"].app_password,
                       SCALE_B_PASSWORD=site_b.users["author"].app_password)
        try:
            doctor = cli(env, tmp_path, "doctor")
            assert "scale-a: wordpress login" in doctor.stdout, doctor.stdout + doctor.stderr
            assert "scale-b: wordpress login" in doctor.stdout

            procs = [start_worker(env, tmp_path, "scale-w1"),
                     start_worker(env, tmp_path, "scale-w2", PUBLISHER_CRASH_AT="after_llm"),
                     start_worker(env, tmp_path, "scale-w3")]
            queued = cli(env, tmp_path, "feed", "--enqueue", "--site", "scale-a", "--json",
                         "--no-progress")
            assert queued.returncode == 0, queued.stderr[-3000:]
            summary = json.loads(queued.stdout.splitlines()[-1])
            assert (summary["new"], summary["queued"], summary["drafted"]) == (32, 32, 0)

            # scale-w2 kills itself once it holds a story whose LLM answer is recorded.
            assert procs[1].wait(180) == -signal.SIGKILL, (tmp_path / "scale-w2.log").read_text()
            held = held_by(pg_db, "scale-w2")
            assert held, "the killed worker held no story"
            procs[1] = start_worker(env, tmp_path, "scale-w2")          # same identity

            report = wait_for(env, tmp_path, lambda r: _done(r) >= 64, timeout=240)
            assert set(statuses(pg_db, held).values()) == {"SUCCESS"}
        finally:
            stop(procs)
            llm.close()
        logs = {p.name: p.read_text()[-3000:] for p in
                Path(os.environ.get("SCALE_TEST_LOGS") or tmp_path).glob("scale-w*.log")}

    assert [p.returncode for p in procs] == [0, 0, 0], logs
    # Every story drafted once, on its own site, with that site's category.
    for site, proxy, prefix in ((site_a, proxy_a, "/a"), (site_b, proxy_b, "/b")):
        posts = site_posts(site, nonce)
        hashes = [p["meta"].get("publisher_source_hash") for p in posts]
        assert len(posts) == 32 and len(set(hashes)) == 32, (site.name, len(posts))
        for post in posts:
            assert f"/{nonce}{prefix}" in post["content"]["raw"], post["title"]["raw"]
            assert category[site.name] in post["categories"], post["categories"]
    assert report["sites"]["scale-a"]["drafted"] == 32, report["sites"]
    assert report["sites"]["scale-b"]["drafted"] == 32, report["sites"]
    assert not report["sites"]["scale-a"]["failed"] and not report["sites"]["scale-b"]["failed"]
    usage = {u["site"]: u for u in report["usage"]}
    assert usage["scale-a"]["tokens"] > 0 and usage["scale-b"]["tokens"] > 0
    assert report["queue"]["queued"] == report["queue"]["running"] == 0
    # The story killed after its LLM answer was recorded is not asked again; a request the
    # killed worker had in flight (unanswered) may be: at most one per story it held.
    writes = [r.purpose for r in llm.requests].count("write")
    assert 64 <= writes <= 64 + len(held) - 1, (writes, held)
    # Limits held across the three workers, counted where they matter.
    assert max_in_window(llm.arrivals, WINDOW) <= LLM_LIMIT
    assert max_in_window(proxy_a.arrivals, WINDOW) <= WP_LIMIT
    assert max_in_window(proxy_b.arrivals, WINDOW) <= WP_LIMIT
    assert len(llm.arrivals) > LLM_LIMIT and len(proxy_a.arrivals) > WP_LIMIT   # they bit


def _done(report: dict) -> int:
    return sum(s["total"] for s in report["sites"].values())


def wait_for(env, cwd, condition, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    report = stats(env, cwd)
    while not condition(report) and time.monotonic() < deadline:
        time.sleep(2)
        report = stats(env, cwd)
    assert condition(report), json.dumps(report, indent=1)[:3000]
    return report
