"""Scale-out benchmark: stories per minute with 1, 2 and 4 `publisher worker` processes
against a rate-limited scripted LLM, on PostgreSQL, drafting into a real local WordPress.

    .venv/bin/python bench/scale.py                      # 40 stories at 1, 2, 4 workers
    .venv/bin/python bench/scale.py --stories 24 --workers 1,2

Each pass: a fresh PostgreSQL database (scripts/pg-local), one feed of ``--stories`` distinct
stories, N workers started and idle, then `publisher feed --enqueue`; the clock runs from the
moment everything is queued until the last story's outcome is recorded. The scripted LLM
(the test suite's, tests/test_scale_workers.py) answers each call after ``--llm-delay``
seconds — a model's generation time — and refuses (429) past ``--llm-rpm`` requests per
``--window`` seconds, as a provider does past its quota; publisher is given the same limit
(PUBLISHER_LLM_RPM), so it should never be refused. Results are appended to BENCHMARKS.md
under "## Scale-out (workers)" (that section only is replaced on the next run).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select                       # noqa: E402

from publisher.state import Store                         # noqa: E402
from publisher.state.db import outcomes                   # noqa: E402
from tests.support.feedsite import FeedSite               # noqa: E402
from tests.support.crash import new_nonce                 # noqa: E402
from tests.support.wordpress import start_wp_site         # noqa: E402
from tests.test_scale_workers import (CountingLLM, CountingProxy, Newsroom, base_env,  # noqa: E402
                                      cli, ensure_category, fresh_pg_database, max_in_window,
                                      scale_pg, start_worker, stop, write_sites)

HEADING = "## Scale-out (workers)"


def one_pass(workers: int, args, site, admin_pg: str) -> dict:
    """Draft ``args.stories`` stories with ``workers`` workers; the figures of the pass."""
    llm = CountingLLM(limit=args.llm_rpm, window=args.window, delay=args.llm_delay).start()
    db_gen = fresh_pg_database(admin_pg)
    db = next(db_gen)
    procs = []
    with tempfile.TemporaryDirectory(prefix="publisher-bench-scale-") as tmp, \
            FeedSite() as feeds, CountingProxy(site.url) as proxy:
        tmp = Path(tmp)
        nonce = new_nonce()
        url = Newsroom(feeds, nonce).feed("bench", args.stories)
        sites_file = write_sites(tmp / "sites.toml", [
            {"name": "bench-scale", "url": proxy.url, "user": site.users["author"].username,
             "password_env": "BENCH_WP_PASSWORD", "feeds": [url], "category": "Bench"}])
        env = base_env(llm, db, sites_file, PUBLISHER_LLM_RPM=str(args.llm_rpm),
                       PUBLISHER_LLM_RETRIES="5",
                       BENCH_WP_PASSWORD=site.users["author"].app_password)
        try:
            procs = [start_worker(env, tmp, f"bench-w{i}", args.concurrency)
                     for i in range(1, workers + 1)]
            queued = cli(env, tmp, "feed", "--enqueue", "--no-progress", "--json")
            if queued.returncode != 0:
                raise SystemExit(f"feed --enqueue failed: {queued.stderr[-2000:]}")
            started = time.monotonic()
            done = wait_all(db, args.stories, timeout=args.timeout)
            seconds = time.monotonic() - started
        finally:
            stop(procs)
            llm.close()
            next(db_gen, None)
    writes = [r.purpose for r in llm.requests]
    return {"workers": workers, "stories": done, "seconds": round(seconds, 1),
            "per_minute": round(done / seconds * 60, 1), "llm_requests": len(llm.requests),
            "llm_per_story": round(len(writes) / max(done, 1), 2), "refused_429": llm.refused,
            "llm_max_window": max_in_window(llm.arrivals, args.window),
            "wp_requests": len(proxy.arrivals)}


def wait_all(db: str, total: int, timeout: float) -> int:
    store = Store(db, migrate=False)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with store.engine.connect() as conn:
                done = conn.scalar(select(func.count()).select_from(outcomes)) or 0
            if done >= total:
                return done
            time.sleep(0.5)
        raise SystemExit(f"only {done}/{total} stories done after {timeout:.0f} s")
    finally:
        store.close()


def render(results: list[dict], args) -> str:
    base = results[0]["per_minute"]
    cap = args.llm_rpm * 60 / args.window / max(results[0]["llm_per_story"], 1)
    lines = [HEADING, "",
             f"{args.stories} stories per pass, one WordPress site, PostgreSQL; the scripted LLM "
             f"answers in {args.llm_delay:g} s and allows {args.llm_rpm} requests per "
             f"{args.window:g} s (publisher's PUBLISHER_LLM_RPM set to the same); each worker "
             f"drafts {args.concurrency} stories at once. Produced by `bench/scale.py`.", "",
             "| workers | stories/min | speed-up | wall s | LLM calls/story | max LLM calls "
             f"in {args.window:g} s | 429s | WordPress requests |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['workers']} | {r['per_minute']} | ×{r['per_minute'] / base:.2f} | "
                     f"{r['seconds']} | {r['llm_per_story']} | {r['llm_max_window']} "
                     f"(limit {args.llm_rpm}) | {r['refused_429']} | {r['wp_requests']} |")
    lines += ["", f"The LLM limit alone caps throughput at ≈ {cap:.0f} stories/min "
                  f"({args.llm_rpm} calls per {args.window:g} s ÷ "
                  f"{results[0]['llm_per_story']} calls a story).", ""]
    return "\n".join(lines)


def append_section(path: Path, section: str, heading: str = HEADING) -> None:
    """Replace our section (from its heading to the next "## " or the end), or append it;
    the rest of the file is left exactly as it is (it belongs to bench/run.py)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""   # read just before writing
    start = text.find(heading)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    path.write_text(text, encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=40)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--llm-rpm", type=int, default=30)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--llm-delay", type=float, default=1.5)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    parser.add_argument("--json", default="")
    args = parser.parse_args(argv)
    admin_pg = scale_pg()
    site = start_wp_site("bench-scale")
    ensure_category(site, "Bench")
    results = []
    for n in (int(w) for w in args.workers.split(",")):
        results.append(one_pass(n, args, site, admin_pg))
        print(json.dumps(results[-1]), flush=True)
    section = render(results, args)
    print(section)
    append_section(Path(args.out), section)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
