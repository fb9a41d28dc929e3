"""publisher's benchmark: one command, results in BENCHMARKS.md.

    .venv/bin/python bench/run.py                 # full run, ~9 minutes on 2 cores
    .venv/bin/python bench/run.py --quick         # ~2 minutes: fewer seeds, smaller feed

What runs: a local OpenAI-compatible server answering at a fixed speed (bench/llm_server.py),
the real local WordPress (scripts/wp-local, site ``bench``) behind a timing proxy
(bench/wp_proxy.py), and the real product: ``publisher.api.draft()`` for each seed, the
``publisher`` command for start-up and memory, ``publisher feed`` for throughput. See
bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))       # `bench` and `tests.support` as packages, run from anywhere

from bench import feed as feed_bench            # noqa: E402
from bench import measure, process, report      # noqa: E402
from bench.llm_server import SpeedLimitedLLM    # noqa: E402
from bench.site import SiteUnavailable, start_site   # noqa: E402
from bench.stages import StageTimer             # noqa: E402
from bench.wp_proxy import TimingProxy          # noqa: E402

SEEDS = sorted((REPO / "tests" / "fixtures" / "seeds").glob("*.txt"))
FAST = (1e6, 0.0)         # tokens/s, first token: "no model time" for warm-up, profile, memory


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="1 seed, 4-item feed at concurrency 1 and 4, faster feed model")
    p.add_argument("--tokens-per-second", type=float, default=80.0,
                   help="model output speed for the per-article runs (default 80)")
    p.add_argument("--first-token-ms", type=float, default=300.0,
                   help="time to the first token, per call (default 300)")
    p.add_argument("--feed-tokens-per-second", type=float, default=None,
                   help="model speed for the feed runs (default 160, quick 320)")
    p.add_argument("--feed-items", type=int, default=None, help="feed size (default 20, quick 4)")
    p.add_argument("--sequential-items", type=int, default=None,
                   help="items the --concurrency 1 run reads, its time scaled to the feed size "
                        "(default 5, quick 2; give the feed size to measure it all)")
    p.add_argument("--concurrency", default=None,
                   help="feed concurrency levels, comma-separated (default 1,4,8; quick 1,4)")
    p.add_argument("--model", default="gpt-4o-mini", help="model name: prices come from "
                   "publisher's table or PUBLISHER_PRICES (default gpt-4o-mini)")
    p.add_argument("--site", default="bench", help="scripts/wp-local site name (default bench)")
    p.add_argument("--no-feed", action="store_true", help="skip the feed throughput runs")
    p.add_argument("--out", default=str(REPO / "BENCHMARKS.md"), help="Markdown report")
    p.add_argument("--json", default="", help="also write the raw figures as JSON here")
    args = p.parse_args(argv)
    args.feed_items = args.feed_items or (4 if args.quick else 20)
    args.sequential_items = min(args.feed_items, args.sequential_items or (2 if args.quick else 5))
    args.feed_tokens_per_second = args.feed_tokens_per_second or (320.0 if args.quick else 160.0)
    levels = args.concurrency or ("1,4" if args.quick else "1,4,8")
    args.levels = [int(x) for x in levels.split(",") if x.strip()]
    return args


def machine_facts() -> dict:
    def git(*cmd):
        try:
            return subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except OSError:
            return ""
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(), "load_before": os.getloadavg()[0],
            "commit": git("rev-parse", "--short", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--", "publisher")),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def llm_env(llm: SpeedLimitedLLM, model: str) -> dict[str, str]:
    return {"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "bench-key",
            "PUBLISHER_MODEL": model, "PUBLISHER_LLM_TIMEOUT": "600"}


def settings_for(env: dict[str, str], work: Path):
    from publisher.config import Settings
    return Settings.from_mapping({**os.environ, **env, "PUBLISHER_DB": f"sqlite:///{work}/state.db",
                                  "PUBLISHER_DRAFTS_DIR": str(work / "drafts")})


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the passes -------------------------------------------------------------------------------

def articles_pass(seeds, settings, llm, proxy, site, args) -> tuple[list, list[str]]:
    llm.set_speed(args.tokens_per_second, args.first_token_ms / 1000)
    site.reset()
    runs = []
    with StageTimer() as timer:
        for seed in seeds:
            timer.take()
            run = measure.draft_one(seed, settings, llm, proxy)
            run.stages = timer.take()
            _log_article(run)
            runs.append(run)
    return runs, timer.missing


def _log_article(run: measure.ArticleRun) -> None:
    log(f"{run.seed}: {run.wall:.2f} s, limit {run.llm:.2f} s, ratio {run.ratio:.3f}, "
        f"overhead {run.overhead * 1000:.0f} ms, {run.wp_requests} WP requests, "
        f"LLM calls {'+'.join(run.purposes)}")


def warm_and_profile(seeds, settings, llm, proxy, site) -> measure.Profile:
    """A first draft pays imports and connection set-up once: done unmeasured, then profiled."""
    llm.set_speed(*FAST)
    site.reset()
    measure.draft_one(seeds[0], settings, llm, proxy)
    site.reset()
    return measure.profile_one(seeds[-1], settings)


def memory_pass(seeds, env, llm, site, work: Path) -> list[process.Memory]:
    llm.set_speed(*FAST)
    site.reset()
    out = []
    for seed in seeds:
        mem = process.draft_memory(seed, env, work / f"mem-{seed.stem[:3]}")
        log(f"memory {seed.name}: {mem.peak_mib:.0f} MiB peak (exit {mem.exit_code})")
        out.append(mem)
    return out


def feed_available() -> str:
    """'' when `publisher feed` exists, else why not."""
    proc = subprocess.run([str(process.PUBLISHER), "feed", "--help"], capture_output=True,
                          text=True, timeout=60)
    return "" if proc.returncode == 0 else "feed command not available yet"


def feed_pass(env, llm, proxy, site, args, work: Path) -> dict:
    missing = "skipped (--no-feed)" if args.no_feed else feed_available()
    if missing:
        return {"skipped": missing}
    llm.set_speed(args.feed_tokens_per_second, args.first_token_ms / 1000)
    runs = []
    with feed_bench.FeedServer() as server:
        url = server.build(args.feed_items)
        short = server.build(args.sequential_items, "/sequential.xml")
        for level in args.levels:
            site.reset()
            items = args.sequential_items if level == 1 else args.feed_items
            run = feed_bench.run_feed(short if level == 1 else url, items, level, env,
                                      work / f"feed-c{level}", llm, proxy)
            log(f"feed --concurrency {level}: {run.wall:.1f} s, {run.drafted} drafted, "
                f"exit {run.exit_code}, peak {run.peak_llm} LLM calls in flight")
            runs.append(run)
    return {"items": args.feed_items, "tokens_per_second": args.feed_tokens_per_second,
            "runs": runs}


def main(argv=None) -> int:
    args = parse_args(argv)
    command = ".venv/bin/python bench/run.py" + "".join(
        " " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    seeds = SEEDS[:1] if args.quick else SEEDS
    facts = machine_facts()
    log("publisher --help start-up")
    startup = process.startup(5 if args.quick else 10)
    try:
        site = start_site(args.site)
    except SiteUnavailable as exc:
        log(str(exc))
        return 2
    work = Path(tempfile.mkdtemp(prefix="publisher-bench-"))
    started = time.perf_counter()
    with SpeedLimitedLLM(model=args.model) as llm, TimingProxy(site.url) as proxy:
        env = {**site.env("author", url=proxy.url), **llm_env(llm, args.model)}
        settings = settings_for(env, work)
        log("warm-up and profile")
        profile = warm_and_profile(seeds, settings, llm, proxy, site)
        log("peak memory, one process per article")
        memory = memory_pass(seeds, {**env, "PUBLISHER_DB": f"sqlite:///{work}/mem.db"},
                             llm, site, work)
        log(f"articles at {args.tokens_per_second:g} tokens/s, "
            f"{args.first_token_ms:g} ms to first token")
        articles, missing = articles_pass(seeds, settings, llm, proxy, site, args)
        feed = feed_pass(env, llm, proxy, site, args, work)
        site.reset()
    facts["load_after"] = os.getloadavg()[0]
    facts["bench_seconds"] = time.perf_counter() - started
    results = {"command": command, "facts": facts, "args": vars(args), "startup": startup,
               "articles": articles, "missing_stages": missing, "profile": profile,
               "memory": memory, "feed": feed, "prices": settings.price_of(args.model)}
    Path(args.out).write_text(report.render(results, Path(args.out)), encoding="utf-8")
    log(f"wrote {args.out}")
    if args.json:
        Path(args.json).write_text(json.dumps(_plain(results), indent=1, default=str))
    return 0


def _plain(value):
    if hasattr(value, "__dataclass_fields__"):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
