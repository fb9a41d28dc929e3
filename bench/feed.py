"""Feed throughput: ``publisher feed URL --concurrency N`` on a local 20-item RSS feed.

The feed and its article pages are served on loopback by ``FeedServer``. Items are built from
the five seeds, four editions of each: an edition starts a quarter of the seed's sentences
further on (web furniture left out, so the extracted texts, hashes and story identities all
differ) and is dated six days after the previous item, beyond the grouping rule's four-day
window (feeds/group.py), so each item is a story of its own and the run drafts 20 articles,
the same work at every concurrency. Each run starts from an empty
site and a fresh state database and is timed from the command's start to its exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "tests" / "fixtures" / "seeds"
PUBLISHER = REPO / ".venv" / "bin" / "publisher"


class FeedServer:
    """RSS feed + article pages on 127.0.0.1, from a dict of routes."""

    def __init__(self):
        self.routes: dict[str, tuple[bytes, str]] = {}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True

    def __enter__(self) -> "FeedServer":
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def build(self, items: int, feed_path: str = "/feed.xml") -> str:
        """Publish ``items`` article pages and a feed at ``feed_path`` listing them (the first
        ``items`` of the same series each time); returns the feed URL."""
        entries = []
        start = datetime(2024, 1, 1, 8, 0, tzinfo=timezone.utc)
        for index in range(items):
            seed = sorted(SEEDS.glob("*.txt"))[index % 5]
            edition = index // 5
            paragraphs = _edition(_sentences(seed), edition)
            title = f"{_title(paragraphs[0])} (édition {edition + 1})"
            path = f"/actu/{index:02d}-{seed.stem[:3]}-{edition}.html"
            self.routes[path] = (_page(title, paragraphs), "text/html; charset=utf-8")
            entries.append((path, title, start + timedelta(days=6 * index)))
        self.routes[feed_path] = (self._rss(entries), "application/rss+xml; charset=utf-8")
        return self.url(feed_path)

    def _rss(self, entries) -> bytes:
        items = "".join(
            f"<item><title>{escape(title)}</title><link>{self.url(path)}</link>"
            f"<guid isPermaLink=\"false\">bench{path}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(title)}</description></item>\n"
            for path, title, when in entries)
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                f"<title>Banc d'essai</title><link>{self.url('/')}</link>"
                f"<description>Flux local du benchmark</description><language>fr</language>\n"
                f"{items}</channel></rss>").encode("utf-8")


def _sentences(seed: Path) -> list[str]:
    """The seed's sentences; line 1 (the editor's instruction) and furniture lines left out."""
    from tests.support.fakellm import split_sentences
    lines = seed.read_text(encoding="utf-8").splitlines()[1:]
    return split_sentences("\n".join(lines))


def _edition(sentences: list[str], edition: int) -> list[str]:
    """Edition k starts k quarters of the way through, in paragraphs of three sentences."""
    start = edition * len(sentences) // 4
    rotated = sentences[start:] + sentences[:start]
    return [" ".join(rotated[i:i + 3]) for i in range(0, len(rotated), 3)]


def _title(first: str) -> str:
    words = first.split()
    return " ".join(words[:10]).rstrip(",;:") + ("…" if len(words) > 10 else "")


def _page(title: str, paragraphs: list[str]) -> bytes:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>{escape(title)} | Banc d'essai</title>
<meta property="og:site_name" content="Banc d'essai">
<meta property="og:title" content="{escape(title)}">
</head><body><header><nav><a href="/">Accueil</a> <a href="/monde">Monde</a></nav></header>
<main><article><h1>{escape(title)}</h1>
{body}
</article></main><footer>© Banc d'essai — tous droits réservés</footer></body></html>""".encode()


def _handler(server: FeedServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body, kind = server.routes.get(self.path.split("?", 1)[0],
                                           (b"<h1>introuvable</h1>", "text/html"))
            self.send_response(200 if self.path.split("?", 1)[0] in server.routes else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


# --- one timed run of the real command ----------------------------------------------------------

@dataclass
class FeedRun:
    concurrency: int
    items: int                  # items in the feed this run read
    wall: float
    exit_code: int
    drafted: int
    summary: dict
    wp_requests: int
    llm_calls: int
    llm_seconds: float          # Σ generation time charged over the run
    peak_llm: int               # most LLM requests in flight at once
    wp_seconds: float           # Σ time WordPress took over the run
    first_llm: float            # seconds from the command's start to its first LLM request
    after_last: float           # seconds from the last LLM answer / WordPress reply to exit
    wp_after_first: float       # Σ WordPress time from the first LLM request on
    stderr_tail: str = ""

    @property
    def per_article(self) -> float:
        return self.wall / self.drafted if self.drafted else float("nan")

    def scaled_wall(self, items: int) -> float:
        """Sequential runs: the wall time for ``items`` items, from this run's fixed costs
        (before the first LLM request, after the last reply) and its time per story."""
        if items == self.drafted or not self.drafted:
            return self.wall
        per_story = (self.wall - self.first_llm - self.after_last) / self.drafted
        return self.first_llm + self.after_last + items * per_story

    def per_story_publisher(self) -> float:
        """Sequential runs only: per story, the time between the first LLM request and the
        last answer that was neither the model's nor WordPress's."""
        middle = self.wall - self.first_llm - self.after_last
        other = middle - self.llm_seconds - self.wp_after_first
        return other / self.drafted if self.drafted else float("nan")


def run_feed(feed_url: str, items: int, concurrency: int, env: dict[str, str],
             workdir: Path, llm, proxy) -> FeedRun:
    """``publisher feed FEED --concurrency N --json`` in a fresh folder and database."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **env, "PUBLISHER_DB": f"sqlite:///{workdir}/state.db",
           "PUBLISHER_DRAFTS_DIR": str(workdir / "drafts"), "PUBLISHER_ALLOW_PRIVATE_URLS": "1"}
    cmd = [str(PUBLISHER), "feed", feed_url, "--concurrency", str(concurrency), "--json",
           "--no-progress"]
    calls_at, hits_at = len(llm.calls), proxy.mark()
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=3600)
    wall = time.perf_counter() - started
    calls, hits = llm.calls_since(calls_at), proxy.hits_since(hits_at)
    summary = _json_tail(proc.stdout)
    ends = [c.arrived + c.generation for c in calls] + [h.started + h.seconds for h in hits]
    first = min((c.arrived for c in calls), default=started + wall)
    return FeedRun(concurrency, items, wall, proc.returncode, int(summary.get("drafted") or 0),
                   summary, len(hits), len(calls), sum(c.generation for c in calls),
                   _peak(calls), sum(h.seconds for h in hits),
                   first - started, started + wall - max(ends, default=started),
                   sum(h.seconds for h in hits if h.started >= first),
                   "\n".join(proc.stderr.strip().splitlines()[-5:]))


def _json_tail(stdout: str) -> dict:
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return {}


def _peak(calls) -> int:
    events = sorted([(c.arrived, 1) for c in calls] +
                    [(c.arrived + c.generation, -1) for c in calls])
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak
