"""BENCHMARKS.md from one run's figures. Of the previous file, two things are kept as they
were: the hand-written analysis between the markers ``<!-- notes -->`` and ``<!-- /notes -->``,
and every ``## `` section this module does not write (other benchmarks, such as
bench/scale.py's "Scale-out (workers)", append their own)."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from pathlib import Path

RATIO_TARGET = 1.10
OVERHEAD_TARGET = 0.100
STARTUP_TARGET = 0.300
NOTES = re.compile(r"<!-- notes -->.*?<!-- /notes -->", re.S)


OURS = ("Summary", "1. ", "2. ", "3. ", "4. ", "5. ", "6. ", "Analysis")


def render(results: dict, previous: Path) -> str:
    old = previous.read_text(encoding="utf-8") if previous.is_file() else ""
    parts = [_header(results), _summary(results), _articles(results), _overhead(results),
             _llm(results), _wordpress(results), _feed(results), _startup_memory(results),
             _notes(old), *_others(old)]
    return "\n\n".join(p.strip() for p in parts if p) + "\n"


def _others(old: str) -> list[str]:
    """The previous file's ``## `` sections written by someone else, in their order."""
    sections = re.split(r"\n(?=## )", old)[1:]
    return [sec for sec in sections if not sec[3:].startswith(OURS)]


# --- helpers ---------------------------------------------------------------------------------

def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _verdict(value: float, target: float, unit: str = "ms") -> str:
    if value <= target:
        return "**pass**"
    over = value - target
    amount = f"{over * 1000:.0f} ms" if unit == "ms" else f"{over:.3f}"
    return f"**miss** by {amount} ({value / target:.2f}× the target)"


def _table(head: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _median(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


# --- sections --------------------------------------------------------------------------------

def _header(r: dict) -> str:
    f, a = r["facts"], r["args"]
    price_in, price_out = r["prices"]
    dirty = " (with uncommitted changes under publisher/)" if f["dirty"] else ""
    return f"""# Benchmarks

Produced by `{r["command"]}` on {f["date"]}, commit `{f["commit"]}`{dirty}, in
{f["bench_seconds"]:.0f} s. Re-run that command to refresh this file (see `bench/README.md`).

**Machine**: {f["nproc"]} CPU ({f["cpu"]}), Python {f["python"]}, {f["platform"]}. Load average
{f["load_before"]:.2f} before and {f["load_after"]:.2f} after the run: other work shared the
machine, so absolute times carry noise; the ratios and counts do not depend on it.

**Set-up**: the LLM is a local OpenAI-compatible server (`bench/llm_server.py`, the test suite's
scripted server) answering at **{a["tokens_per_second"]:g} output tokens/s after
{a["first_token_ms"]:g} ms to the first token**, streamed chunk by chunk at that pace as a real
local server does; publisher reads every answer as a stream (first-token and between-chunk
clocks, `writer/llm.py`), so the end-to-end time holds the model's own generation time, the
physical limit the ratios compare against. Token counts are the server's
(≈ 4 characters a token), priced as `{a["model"]}` at ${price_in:g} / ${price_out:g} per million
input / output tokens. WordPress is the real local site (`scripts/wp-local`: `php -S` with 4
workers, MariaDB, companion plugin) behind a timing proxy (`bench/wp_proxy.py`); the site is
emptied of posts and tags before each pass, so each draft is a new post whose tags are
created. Publisher runs as an author with default settings (700 words, draft)."""


def _summary(r: dict) -> str:
    arts = r["articles"]
    worst = max(a.ratio for a in arts)
    overhead = _median(a.overhead for a in arts)
    startup = r["startup"].median
    rows = [
        ["End-to-end ÷ pure generation time, worst article", "≤ 1.10", f"{worst:.3f}",
         _verdict(worst, RATIO_TARGET, "x")],
        ["Time outside LLM and WordPress, median per article", "≤ 100 ms", _ms(overhead),
         _verdict(overhead, OVERHEAD_TARGET)],
        ["`publisher --help` start-up, median", "≤ 300 ms", _ms(startup),
         _verdict(startup, STARTUP_TARGET)],
    ]
    calls = _median(a.calls for a in arts)
    wp = _median(a.wp_requests for a in arts)
    cost = statistics.mean(a.cost for a in arts)
    repaired = sum(1 for a in arts if a.repair_calls)
    mem = max(m.peak_mib for m in r["memory"]) if r["memory"] else float("nan")
    facts = [f"LLM calls per article: median {calls:g}; repair call needed for {repaired} of "
             f"{len(arts)} articles",
             f"Cost per article: ${cost:.5f} mean at the configured prices",
             f"WordPress HTTP requests per draft: median {wp:g} (`publisher draft`)",
             f"Peak memory of one `publisher draft` process: {mem:.0f} MiB at most"]
    feed = r["feed"]
    if "runs" in feed and feed["runs"]:
        base, best = feed["runs"][0], feed["runs"][-1]
        facts.append(f"Feed of {feed['items']} items: ×{_baseline(feed) / best.wall:.2f} "
                     f"faster at `--concurrency {best.concurrency}` than at {base.concurrency}")
    else:
        facts.append(f"Feed throughput: not measured: {feed.get('skipped')}")
    return ("## Summary\n\n" + _table(["Measure", "Target", "Result", "Verdict"], rows) +
            "\n\nWithout a target: " + "; ".join(facts) + ".")


def _articles(r: dict) -> str:
    rows = []
    for a in r["articles"]:
        rows.append([a.seed, a.outcome, a.words, f"{a.wall:.2f}", f"{a.llm:.2f}",
                     f"{a.wp:.3f}", f"{a.overhead * 1000:.0f}", f"{a.ratio:.3f}",
                     "pass" if a.ratio <= RATIO_TARGET else "miss"])
    arts = r["articles"]
    rows.append(["**median**", "", "", f"{_median(a.wall for a in arts):.2f}",
                 f"{_median(a.llm for a in arts):.2f}", f"{_median(a.wp for a in arts):.3f}",
                 f"{_median(a.overhead for a in arts) * 1000:.0f}",
                 f"{_median(a.ratio for a in arts):.3f}", ""])
    return ("## 1. End-to-end time per article\n\n`publisher.api.draft()` on each seed "
            "(`tests/fixtures/seeds/`), in one process after an unmeasured warm-up draft. "
            "*Limit* is the pure generation time of the tokens the article needed "
            "(Σ first token + output ÷ speed over its LLM calls); *ratio* = wall ÷ limit "
            "(target ≤ 1.10).\n\n" +
            _table(["seed", "outcome", "words", "wall s", "limit (LLM) s", "WordPress s",
                    "overhead ms", "ratio", "≤ 1.10"], rows))


def _overhead(r: dict) -> str:
    arts, prof = r["articles"], r["profile"]
    over = [a.overhead for a in arts]
    client = _median((a.llm_client - a.llm) for a in arts)
    top = [[f"`{name}`", calls, f"{own * 1000:.0f}", f"{cum * 1000:.0f}"]
           for name, calls, own, cum in prof.top_publisher]
    cpu = [[f"`{name}`", calls, f"{own * 1000:.0f}"] for name, calls, own in prof.top_cpu]
    missing = r.get("missing_stages") or []
    gone = (f" Not found in this version, so not timed: {', '.join(missing)}."
            if missing else "")
    return f"""## 2. Time outside the LLM and WordPress

*Overhead* = wall − LLM generation − time the proxy waited for WordPress: extraction, cleaning,
quality gate, SEO, rendering, state, plus the HTTP clients' own work. Median
**{_ms(_median(over))}** (min {_ms(min(over))}, max {_ms(max(over))}; target ≤ 100 ms). Of it, the
`openai` client's share (its measured call time minus the server's generation time) is a median
{_ms(client)} per article.

Where it goes, stage by stage, measured inside the very runs of section 1 (`bench/stages.py`
wraps the function that runs each stage with a pass-through timer; times are exclusive, so the
LLM and WordPress HTTP calls are their own rows and the rows add up to the wall time).{gone}

{_stage_table(arts)}

In detail: one draft of `{arts[-1].seed}` under `cProfile` with an instant model
({prof.wall * 1000:.0f} ms wall under the profiler, which roughly doubles pure-Python time, so
read the shares rather than the absolute values). publisher functions by own time:

{_table(["function", "calls", "own ms", "cumulative ms"], top)}

Everything by own time, waiting on sockets and locks left out:

{_table(["function", "calls", "own ms"], cpu)}"""


def _stage_table(arts) -> str:
    from .stages import IO_STAGES
    names = list(dict.fromkeys(n for a in arts for n in a.stages))
    rows = []
    for name in names:
        values = [a.stages.get(name, 0.0) for a in arts]
        rows.append([name, f"{_median(values) * 1000:.1f}", f"{max(values) * 1000:.1f}"])
    cpu = [sum(v for n, v in a.stages.items() if n not in IO_STAGES) for a in arts]
    rows.append(["**all but the two HTTP rows**", f"**{_median(cpu) * 1000:.0f}**",
                 f"{max(cpu) * 1000:.0f}"])
    return _table(["stage (exclusive)", "median ms", "max ms"], rows)


def _llm(r: dict) -> str:
    arts = r["articles"]
    rows = [[a.seed, a.calls, ", ".join(f"{p}×{n}" for p, n in Counter(a.purposes).items()),
             a.tokens_in, a.tokens_out, f"{a.cost:.5f}", a.repair_calls, _seo_repair(a)]
            for a in arts]
    n = len(arts)
    rows.append(["**mean**", f"{sum(a.calls for a in arts) / n:.1f}", "",
                 f"{sum(a.tokens_in for a in arts) / n:.0f}",
                 f"{sum(a.tokens_out for a in arts) / n:.0f}",
                 f"{sum(a.cost for a in arts) / n:.5f}",
                 f"{sum(a.repair_calls for a in arts) / n:.2f}", ""])
    repaired = sum(1 for a in arts if a.repair_calls)
    kinds = Counter(p for a in arts for p in a.purposes if p != "write")
    why = ", ".join(f"{p} ×{n}" for p, n in kinds.most_common()) or "none"
    return ("## 3. LLM calls, tokens and cost per article\n\n"
            "Counted by the server; cost as publisher reports it (`Report.cost`). A *repair "
            "call* is any call after the first draft (expand, translate, fix_facts, seo_parts, seo_meta). "
            f"Repair calls were needed for **{repaired} of {n}** articles ({why}). The "
            "scripted model always writes to the length asked, so length repairs (expand) "
            "are a floor here: a real model that undershoots pays one more call, with the "
            "article in its prompt, per round.\n\n" +
            _table(["seed", "calls", "purposes", "tokens in", "tokens out", "cost USD",
                    "repair calls", "SEO repair"], rows))


def _seo_repair(article) -> str:
    """Whether publisher kept the SEO rewrite, from the French note it leaves in the report."""
    for note in article.repairs:
        if note.startswith("Réparation SEO appliquée"):
            return "kept: " + note.split(":", 1)[1].strip()[:160]
        if note.startswith("Réparation SEO écartée"):
            return "discarded (no improvement)"
    return "—"


def _wordpress(r: dict) -> str:
    arts = r["articles"]
    rows = [[a.seed, a.wp_requests, f"{a.wp * 1000:.0f}",
             ", ".join(f"{route} ×{n}" for route, n in a.routes.items())] for a in arts]
    routes: Counter = Counter()
    for a in arts:
        routes.update(a.routes)
    per = [[f"`{route}`", f"{n / len(arts):.1f}"] for route, n in routes.most_common()]
    text = ("## 4. WordPress HTTP requests per draft\n\nCounted at the proxy. Each "
            "`publisher draft` starts cold: it discovers the API, checks the login and reads "
            "the categories before spending a token, then looks the source hash up (no "
            "duplicates), resolves tags in one lookup and creates the missing ones (one "
            "request each), and creates the post; the create answer doubles as the meta "
            "read-back.\n\n" +
            _table(["seed", "requests", "WordPress ms", "by route"], rows) +
            "\n\nMean per draft, by route:\n\n" + _table(["route", "per draft"], per))
    feed = r["feed"]
    if feed.get("runs"):
        runs = [f"{run.wp_requests / run.drafted:.1f} at `--concurrency {run.concurrency}`"
                for run in feed["runs"] if run.drafted]
        text += ("\n\nIn a feed run (one client for the whole run), requests per drafted "
                 "article, feed set-up included: " + ", ".join(runs) + ".")
    return text


def _baseline(feed: dict) -> float:
    """Wall time of the first level for the whole feed (a sequential run is scaled)."""
    base = feed["runs"][0]
    return base.scaled_wall(feed["items"]) if base.concurrency == 1 else base.wall


def _feed(r: dict) -> str:
    feed = r["feed"]
    if not feed.get("runs"):
        return f"## 5. Feed throughput\n\nNot measured: {feed.get('skipped')}."
    base, base_wall = feed["runs"][0], _baseline(feed)
    rows = []
    for run in feed["runs"]:
        whole = run.scaled_wall(feed["items"]) if run.concurrency == 1 else run.wall
        rows.append([run.concurrency, f"{run.drafted}/{run.items}", f"{run.wall:.1f}",
                     f"{whole:.1f}" + ("*" if run.items != feed["items"] else ""),
                     f"{whole / feed['items']:.2f}", f"×{base_wall / whole:.2f}",
                     f"×{min(run.concurrency, feed['items']) / base.concurrency:g}",
                     run.peak_llm, run.llm_calls, f"{run.llm_seconds:.0f}",
                     f"{run.wp_seconds:.1f}", f"{run.first_llm:.1f}", f"{run.after_last:.1f}",
                     run.exit_code])
    failed = [f"`--concurrency {run.concurrency}` exit {run.exit_code}: {run.stderr_tail}"
              for run in feed["runs"] if run.exit_code]
    tail = ("\n\nFailures:\n\n" + "\n".join(f"- {f}" for f in failed)) if failed else ""
    scaled = ""
    if base.items != feed["items"]:
        scaled = (f"\n\n\\* The sequential run read the first {base.items} items only (at one "
                  f"story after another, {feed['items']} would take most of the time budget); "
                  f"its time for {feed['items']} is its fixed costs (before the first LLM "
                  "request, after the last reply) plus "
                  f"{feed['items']} × its measured time per story. Give `--sequential-items "
                  f"{feed['items']}` to measure it outright.")
    return (f"## 5. Feed throughput\n\n`publisher feed FEED --concurrency N --json` (a fresh "
            f"process, state database and empty site each time) on a local RSS feed of "
            f"{feed['items']} items, each linking to a local article page (the seeds, four "
            "editions each starting at a different sentence, dated six days apart so none "
            "are grouped into one story; `bench/feed.py`). The model answers at "
            f"{feed['tokens_per_second']:g} tokens/s here (same first-token delay) to fit the "
            "time budget; with a slower model the LLM's share, and so the speed-up, is larger. "
            "The fake server has no concurrency limit of its own.\n\n" +
            _table(["concurrency", "drafted", "wall s", f"wall for {feed['items']} items s",
                    "s / article", "speed-up", "ideal", "peak LLM calls in flight",
                    "LLM calls", "Σ generation s", "Σ WordPress s", "to 1st LLM call s",
                    "after last reply s", "exit"], rows) + scaled + tail + "\n\n" +
            _feed_breakdown(base))


def _feed_breakdown(run) -> str:
    if run.concurrency != 1 or not run.drafted:
        return ""
    return (f"Where the sequential run's {run.wall:.1f} s go: {run.first_llm:.1f} s before the "
            "first LLM request (imports, workflow engine start, feed fetch, extraction and "
            f"grouping of every item, login), {run.llm_seconds:.1f} s of generation, "
            f"{run.wp_after_first:.1f} s of WordPress after that, {run.after_last:.1f} s "
            "from the last reply to exit (engine shutdown), and "
            f"**{run.per_story_publisher() * 1000:.0f} ms per story** of publisher's own work "
            "between LLM and WordPress calls (workflow steps recorded in the database, quality "
            "gate, SEO, rendering, queue pick-up).")


def _startup_memory(r: dict) -> str:
    s = r["startup"]
    rows = [[m.seed, f"{m.peak_mib:.0f}", f"{m.seconds:.2f}", m.exit_code] for m in r["memory"]]
    return (f"## 6. Start-up and memory\n\n`publisher --help`, {len(s.runs)} runs after one "
            f"unmeasured: median **{_ms(s.median)}** (min {_ms(min(s.runs))}, max "
            f"{_ms(max(s.runs))}; target ≤ 300 ms: {_verdict(s.median, STARTUP_TARGET)}). A bare "
            f"`python -c pass` of the same interpreter takes {_ms(s.baseline_median)}.\n\n"
            "Peak memory: `publisher draft SEED --json` in its own process (instant model, real "
            "WordPress), peak resident set size from `wait4`:\n\n" +
            _table(["seed", "peak RSS MiB", "process s", "exit"], rows))


def _notes(old: str) -> str:
    found = NOTES.search(old)
    body = found.group(0) if found else ("<!-- notes -->\n(Analysis: edit between these "
                                         "markers; bench/run.py keeps it.)\n<!-- /notes -->")
    return "## Analysis\n\n" + body
