"""LLM calls, output tokens and check scores per article, with a scripted model that follows
the brief (tests/support/fakellm.py's smart handler), over the bundled examples and the test
fixtures. No timing: this is the "how many generations" half of the speed story.

    .venv/bin/python -m bench.calls [--json FILE] [--out BENCHMARKS.md]

For each article: requests the server received (by purpose), output tokens (the server's own
count), words, and the SEO/readability checks by status. The totals line is what issue 17
asks: calls per article ≤ 1.15, output tokens ≤ 1.2 × one write.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import append_section  # noqa: E402
from publisher import api  # noqa: E402
from publisher.api import DraftRequest  # noqa: E402
from tests.support.fakellm import FakeLLM, _usage, make_smart_handler, settings_for  # noqa: E402

HEADING = "## LLM calls per article"
ARTICLES = sorted(ROOT.glob("examples/*.txt")) + sorted(ROOT.glob("tests/fixtures/seeds/*.txt"))


def one(path: Path, fake: FakeLLM, work: Path) -> dict:
    start = len(fake.requests)
    settings = settings_for(fake, PUBLISHER_DB=f"sqlite:///{work / 'state.db'}",
                            PUBLISHER_DRAFTS_DIR=str(work / "drafts"))
    outcome = api.draft(DraftRequest((str(path),), dry_run=True), settings)
    requests = fake.requests[start:]
    report = outcome.report
    checks = Counter(c.status for c in report.checks) if report else Counter()
    writes = [r for r in requests if r.purpose == "write"]
    return {"article": path.name, "outcome": outcome.kind, "calls": len(requests),
            "purposes": [r.purpose for r in requests],
            "tokens_out": sum(r.completion_tokens for r in requests),
            "write_tokens": sum(r.completion_tokens for r in writes),
            "words": report.word_count if report else 0,
            "good": checks["good"], "ok": checks["ok"], "bad": checks["bad"],
            "checks": {c.id: c.status for c in report.checks} if report else {}}


class CountingLLM(FakeLLM):
    """The smart handler, with each request's completion tokens kept on the request."""

    def __init__(self):
        inner = make_smart_handler()

        def handler(request):
            reply = inner(request)
            request.completion_tokens = (_usage(request, reply)["completion_tokens"]
                                         if reply.status < 400 else 0)
            return reply
        super().__init__(handler)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the rows as JSON here")
    parser.add_argument("--out", default="", help="replace this section of BENCHMARKS.md")
    args = parser.parse_args(argv)
    import tempfile
    rows = []
    with CountingLLM() as fake, tempfile.TemporaryDirectory() as tmp:
        for path in ARTICLES:
            rows.append(one(path, fake, Path(tmp)))
    lines = [HEADING, "", "`python -m bench.calls` — the scripted model follows the brief (it "
             "writes around the keyphrase it is given); every request the server received is "
             "counted, with its output tokens.", "",
             "| article | outcome | calls | purposes | out tokens | ÷ write | words | "
             "checks good/ok/bad |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = r["tokens_out"] / r["write_tokens"] if r["write_tokens"] else 0
        lines.append(f"| {r['article']} | {r['outcome']} | {r['calls']} | "
                     f"{' '.join(r['purposes'])} | {r['tokens_out']} | {ratio:.2f} | "
                     f"{r['words']} | {r['good']}/{r['ok']}/{r['bad']} |")
    n = len(rows)
    calls = sum(r["calls"] for r in rows) / n
    tokens = sum(r["tokens_out"] for r in rows) / max(1, sum(r["write_tokens"] for r in rows))
    lines += ["", f"**{n} articles: {calls:.2f} LLM calls per article (target ≤ 1.15), output "
                  f"tokens {tokens:.2f} × one write (target ≤ 1.2); checks good "
                  f"{sum(r['good'] for r in rows)}, ok {sum(r['ok'] for r in rows)}, bad "
                  f"{sum(r['bad'] for r in rows)}.**", ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        append_section(Path(args.out), text, HEADING)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
