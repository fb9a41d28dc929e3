"""A real model's speed, and what publisher asks of it: one bundled example drafted by the real
CLI against the real llama.cpp server with Gemma 3 270M (scripts/llm-local), through the
recording proxy of the test lane (tests/support/llmproxy.py).

    .venv/bin/python -m bench.llm_real [--example examples/otan-stoltenberg-kiev.txt]
                                       [--timeout 900] [--json FILE]

Reports the model, every LLM request (purpose, response_format, stream, status, tokens in and
out, time to first token, tokens/s), the article's wall time and outcome, and prints a markdown
snippet for BENCHMARKS.md.

How each figure is obtained:
- output tokens: the server's usage when it sends one; llama-cpp-python 0.3.16 sends none in a
  stream (it ignores stream_options), so the stream's content chunks are counted (one per
  token on this server);
- generation seconds: first content chunk → end of the stream (prompt evaluation excluded);
  for an answer that is not streamed, the whole request;
- tokens/s = Σ output tokens ÷ Σ generation seconds over the article's successful requests;
- wall: the `publisher draft` process, start to exit (start-up and the prompt evaluation
  included);
- server start: `scripts/llm-local install` (a no-op when done) + `start` until the server
  answers;
- load: the machine's 1-minute load average before and after (the server shares the CPU with
  whatever else runs: compare figures measured at similar loads).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.llmproxy import ChatRecord, LlmProxy, draft_cli, llm_local  # noqa: E402

DEFAULT_EXAMPLE = ROOT / "examples" / "otan-stoltenberg-kiev.txt"


def start_server(state: Path) -> dict:
    """Install (a no-op when done) and start a fresh server of the benchmark's own."""
    for args, timeout in ((("install",), 3600), (("start",), 300)):
        done = llm_local(*args, timeout=timeout, state=state)
        if done.returncode:
            sys.exit(f"scripts/llm-local {args[0]} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def request_row(r: ChatRecord) -> dict:
    usage = r.usage or {}
    ok = r.status == 200
    return {"purpose": r.purpose, "response_format": r.response_format or "none",
            "stream": r.stream, "status": r.status,
            "tokens_in": usage.get("prompt_tokens"), "tokens_out": r.output_tokens if ok else 0,
            "usage_sent": bool(r.usage), "first_token_s": _round(r.first_token),
            "generation_s": round(r.generation_seconds, 2) if ok else 0.0,
            "seconds": round(r.seconds, 2), "finish_reason": r.finish_reason,
            "tokens_per_s": round(r.output_tokens / r.generation_seconds, 1) if ok else None,
            "cut": r.client_gone, "answer": _ends(r.content or r.error)}


def _ends(text: str, size: int = 300) -> str:
    """The start and end of an answer (JSON output only): enough to see what the model did."""
    return text if len(text) <= 2 * size else f"{text[:size]} […] {text[-size:]}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


HEADING = "## Real model on this machine"


def measure(example: Path, server: dict, timeout: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-llm-real-"))
    load_before = os.getloadavg()[0]
    with LlmProxy(server["base_url"]) as proxy:
        run = draft_cli(example, proxy, server["model"], work,
                        db=f"sqlite:///{work / 'state.db'}", timeout=timeout)
    rows = [request_row(r) for r in proxy.chat()]
    out = sum(r["tokens_out"] for r in rows)
    gen = sum(r["generation_s"] for r in rows)
    data = run.data or {}
    return {"model": server["model"], "example": example.name, "wall_s": round(run.seconds, 1),
            "exit_code": run.returncode, "outcome": data.get("outcome"),
            "reason": data.get("reason"), "words": data.get("word_count"),
            "requests": len(rows), "tokens_out": out, "generation_s": round(gen, 1),
            "tokens_per_s": round(out / gen, 1) if gen else None,
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
            "date": time.strftime("%Y-%m-%d"), "rows": rows}


def markdown(res: dict) -> str:
    lines = [
        f"### Real model: llama-cpp-python 0.3.16 server, {res['model']} (Q4_K_M), CPU, "
        f"{os.cpu_count()} cores ({res['date']})",
        "",
        "| article | outcome | wall | LLM requests | output tokens | generation | tokens/s | load |",
        "|---|---|---:|---:|---:|---:|---:|---|",
        f"| `{res['example']}` | {res['outcome']}{' (' + res['reason'] + ')' if res['reason'] else ''}"
        f" | {res['wall_s']:.0f} s | {res['requests']} | {res['tokens_out']} "
        f"| {res['generation_s']:.0f} s | {res['tokens_per_s']} "
        f"| {res['load_before']} → {res['load_after']} |",
        "",
        "| # | purpose | response_format | stream | status | tokens in | tokens out | first token | tokens/s | finish |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for i, r in enumerate(res["rows"], 1):
        lines.append(f"| {i} | {r['purpose'] or '?'} | {r['response_format']} | {r['stream']} "
                     f"| {r['status']} | {r['tokens_in'] if r['tokens_in'] is not None else '–'} "
                     f"| {r['tokens_out']}{'' if r['usage_sent'] else '*'} "
                     f"| {_seconds(r['first_token_s'])} | {r['tokens_per_s'] or '–'} "
                     f"| {r['finish_reason'] or '–'} |")
    lines += ["", "\\* counted from the stream's chunks: the server sent no usage. "
              f"Server start (install check + start until /v1/models answers): "
              f"{res.get('server_start_s', '?')} s."]
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", type=Path, default=DEFAULT_EXAMPLE)
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="kill the draft after this many seconds (its item deadline is 2/3)")
    parser.add_argument("--json", help="write the figures as JSON here")
    parser.add_argument("--out", default="",
                        help="replace the '## Real model' section of this file (BENCHMARKS.md)")
    args = parser.parse_args(argv)
    state = Path(tempfile.mkdtemp(prefix="bench-llm-local-"))
    started = time.monotonic()
    server = start_server(state)
    start_s = time.monotonic() - started
    try:
        res = measure(args.example.resolve(), server, args.timeout)
    finally:
        llm_local("stop", timeout=60, state=state)
    res["server_start_s"] = round(start_s, 1)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1, ensure_ascii=False))
    text = markdown(res)
    print(text)
    if args.out:
        from bench.scale import append_section
        append_section(Path(args.out), f"{HEADING}\n\n`python -m bench.llm_real --out "
                       f"BENCHMARKS.md` — the real CLI drafting one bundled example against the "
                       f"test lane's real server (scripts/llm-local), through its recording "
                       f"proxy.\n\n{text}\n", HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
