"""One article through the real ``publisher.api.draft()``, timed from outside.

    wall      perf_counter() around draft(): loading the seed to the post created
    llm       Σ generation time the speed-limited server charged (exact: it sleeps it)
    wp        Σ time the timing proxy waited for WordPress
    overhead  wall − llm − wp: extraction, cleaning, quality gate, SEO, rendering, state,
              and the HTTP clients' own work (openai, requests, the loopback hop)
    limit     Σ (first token + output tokens / speed) over the calls: the same as llm
    ratio     wall / limit
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from publisher import api as publisher_api
from publisher.api import DraftRequest, draft
from publisher.config import Settings

from .llm_server import SpeedLimitedLLM
from .wp_proxy import TimingProxy


@dataclass
class ArticleRun:
    seed: str
    outcome: str
    wall: float
    llm: float                 # = limit
    llm_client: float          # Σ Usage.seconds, as the writer saw each call
    wp: float
    wp_requests: int
    routes: Counter
    calls: int
    purposes: list[str]
    tokens_in: int
    tokens_out: int
    cost: float
    words: int
    reused: bool = False
    warnings: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)   # exclusive seconds, StageTimer

    @property
    def overhead(self) -> float:
        return self.wall - self.llm - self.wp

    @property
    def ratio(self) -> float:
        return self.wall / self.llm if self.llm else float("nan")

    @property
    def repair_calls(self) -> int:
        return sum(1 for p in self.purposes if p != "write")


def draft_one(seed: Path, settings: Settings, llm: SpeedLimitedLLM,
              proxy: TimingProxy) -> ArticleRun:
    calls_at, hits_at = len(llm.calls), proxy.mark()
    started = time.perf_counter()
    # Through the module, so that a StageTimer's wrapper of api.draft is the one called.
    outcome = publisher_api.draft(DraftRequest((str(seed),)), settings)
    wall = time.perf_counter() - started
    calls, hits = llm.calls_since(calls_at), proxy.hits_since(hits_at)
    report = outcome.report
    usage = report.usage if report else ()
    return ArticleRun(
        seed=seed.name, outcome=outcome.kind, wall=wall,
        llm=sum(c.generation for c in calls), llm_client=sum(u.seconds for u in usage),
        wp=sum(h.seconds for h in hits), wp_requests=len(hits),
        routes=Counter(h.route for h in hits), calls=len(calls),
        purposes=[c.purpose for c in calls],
        tokens_in=sum(c.input_tokens for c in calls),
        tokens_out=sum(c.output_tokens for c in calls),
        cost=report.cost if report else 0.0, words=report.word_count if report else 0,
        reused=bool(outcome.post and outcome.post.reused),
        warnings=list(report.warnings) if report else [],
        repairs=list(report.repairs) if report else [])


# --- where the overhead goes --------------------------------------------------------------

# Waiting, not working: time the profiler sees in these is the LLM's or WordPress's.
BLOCKING = ("recv_into", "recv", "poll", "select", "acquire", "sleep", "wait", "connect",
            "accept", "sendall", "readinto")

@dataclass
class Profile:
    wall: float
    top_publisher: list[tuple[str, int, float, float]]   # name, calls, own s, cumulative s
    top_cpu: list[tuple[str, int, float]]                # name, calls, own s


def profile_one(seed: Path, settings: Settings) -> Profile:
    """cProfile one draft() (run with a fast LLM so the waiting is small)."""
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    draft(DraftRequest((str(seed),)), settings)
    profiler.disable()
    wall = time.perf_counter() - started
    stats = pstats.Stats(profiler).stats          # (file, line, name) → (cc, nc, tt, ct, callers)
    return Profile(wall, _top_publisher(stats), _top_cpu(stats))


def _label(key) -> str:
    file, line, name = key
    if "/publisher/" in file:
        file = "publisher/" + file.split("/publisher/", 1)[1]
    elif "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    elif file == "~":
        return name
    else:
        file = Path(file).name
    return f"{file}:{line} {name}"


def _top_publisher(stats, count: int = 12):
    rows = [(_label(k), nc, tt, ct) for k, (_, nc, tt, ct, _) in stats.items()
            if "/publisher/" in k[0] and "/site-packages/" not in k[0]
            and k[2] not in ("draft", "finish", "write", "_ask", "complete_json")]
    return sorted(rows, key=lambda r: -r[2])[:count]


def _top_cpu(stats, count: int = 12):
    rows = [(_label(k), nc, tt) for k, (_, nc, tt, _, _) in stats.items()
            if not any(b in k[2] for b in BLOCKING)]
    return sorted(rows, key=lambda r: -r[2])[:count]
