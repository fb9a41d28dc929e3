"""Real model speeds: `publisher draft` against a model that streams at 80, 12 and 5 tokens/s.

    .venv/bin/python -m bench.speed [--speeds 80,12,5] [--articles 5,1,1] [--cpu-runs 5]

For each speed, `publisher draft ARTICLE --dry-run --json` runs as a user runs it (its own
process, imports and all) against the test suite's scripted server (real HTTP, the real openai
client, answers streamed at the given speed: bench/llm_server.py). Reported per speed: LLM
requests and output tokens per article, the generation time the server charged (first token +
output tokens ÷ speed: the physical limit) and the end-to-end wall time ÷ that limit.

Then the CPU one draft process spends with an instant model (user + system time of the child,
median of --cpu-runs), the budget of issue 17 being 1.5 s.

The results replace the "## Real model speeds" section of BENCHMARKS.md (--out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.llm_server import SpeedLimitedLLM  # noqa: E402
from bench.scale import append_section  # noqa: E402
from tests.support.fakellm import FakeLLM, make_smart_handler  # noqa: E402

HEADING = "## Real model speeds"
ARTICLES = sorted(ROOT.glob("examples/*.txt"))
PUBLISHER = [str(ROOT / ".venv" / "bin" / "publisher")]


def env_for(base_url: str, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WP_", "OPENAI_", "PUBLISHER_"))}
    env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY="bench", PUBLISHER_MODEL="gpt-4o-mini",
               PUBLISHER_DB=f"sqlite:///{work}/state.db", PUBLISHER_DRAFTS_DIR=str(work / "d"))
    return env


def draft(article: Path, env: dict, work: Path) -> tuple[float, dict, float]:
    """(wall seconds, --json output, CPU seconds of the child) of one draft process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([*PUBLISHER, "draft", str(article), "--dry-run", "--json", "-q"],
                          env=env, cwd=work, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=3600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"draft of {article.name} failed: {done.stderr.strip()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, json.loads(done.stdout), cpu


def at_speed(speed: float, count: int, first: float) -> dict:
    rows = []
    with SpeedLimitedLLM(tokens_per_second=speed, first_token_delay=first) as server, \
            tempfile.TemporaryDirectory() as tmp:
        for article in ARTICLES[:count]:
            mark = len(server.calls)
            wall, out, _ = draft(article, env_for(server.base_url, Path(tmp)), Path(tmp))
            calls = server.calls_since(mark)
            generation = sum(c.generation for c in calls)
            rows.append({"article": article.name, "wall": wall, "generation": generation,
                         "calls": len(calls), "printed_calls": out["llm"]["calls"],
                         "tokens_out": sum(c.output_tokens for c in calls),
                         "write_tokens": sum(c.output_tokens for c in calls
                                             if c.purpose == "write"),
                         "words": out.get("word_count", 0)})
            print(f"  {speed:g} tok/s {article.name}: {wall:.1f} s for {generation:.1f} s of "
                  f"generation, {len(calls)} call(s)", file=sys.stderr)
    return {"speed": speed, "first": first, "rows": rows}


def cpu_runs(count: int) -> list[float]:
    with FakeLLM(make_smart_handler()) as server, tempfile.TemporaryDirectory() as tmp:
        return [draft(ARTICLES[1], env_for(server.base_url, Path(tmp)), Path(tmp))[2]
                for _ in range(count)]


def section(results: list[dict], cpu: list[float], command: str) -> str:
    lines = [HEADING, "",
             f"`{command}` — {platform.node() or 'this machine'}, {os.cpu_count()} cores, "
             f"{time.strftime('%Y-%m-%d')}. Each draft is its own `publisher draft --dry-run` "
             "process (start-up included) against the scripted server streaming at the given "
             "speed; the limit is the generation time the server charged (first token + output "
             "tokens ÷ speed).", "",
             "| speed | articles | LLM calls / article | output tokens ÷ one write | "
             "generation (limit) | end-to-end | ÷ limit (worst) |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        rows = r["rows"]
        n = len(rows)
        ratio = max(x["wall"] / x["generation"] for x in rows)
        lines.append(
            f"| {r['speed']:g} tokens/s | {n} | {sum(x['calls'] for x in rows) / n:.2f} | "
            f"{sum(x['tokens_out'] for x in rows) / sum(x['write_tokens'] for x in rows):.2f} | "
            f"{statistics.mean(x['generation'] for x in rows):.1f} s | "
            f"{statistics.mean(x['wall'] for x in rows):.1f} s | {ratio:.3f} |")
    lines += ["", f"CPU of one `publisher draft --dry-run` process with an instant model "
                  f"(user + system, {len(cpu)} runs): median **{statistics.median(cpu):.2f} s** "
                  f"(runs: {', '.join(f'{c:.2f}' for c in cpu)}; budget 1.5 s).", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeds", default="80,12,5")
    parser.add_argument("--articles", default="5,1,1", help="articles per speed")
    parser.add_argument("--first-token", type=float, default=0.5)
    parser.add_argument("--cpu-runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    speeds = [float(s) for s in args.speeds.split(",")]
    counts = [int(c) for c in args.articles.split(",")]
    results = [at_speed(s, c, args.first_token) for s, c in zip(speeds, counts)]
    cpu = cpu_runs(args.cpu_runs)
    text = section(results, cpu, "python -m bench.speed " + " ".join(argv or sys.argv[1:]))
    print(text)
    if args.out:
        append_section(Path(args.out), text, HEADING)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
