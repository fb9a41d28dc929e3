"""Where one draft's time goes, stage by stage, measured inside the real run.

``StageTimer`` wraps a few of publisher's own functions (the ones that run each stage) with a
timer that calls straight through: behaviour is unchanged, and the cost is two
``perf_counter()`` calls per stage call. Times are *exclusive*: a stage's time excludes the
timed stages it calls, so the LLM's HTTP call (``LLM._create``) and WordPress's
(``Http.request``) come out of the writer, SEO and push stages, and the rows add up to the
wall time. A function that no longer exists (code moves on) is listed as missing, never an
error.
"""

from __future__ import annotations

import functools
import importlib
import threading
import time

# (label, module, attribute path): each stage by the function that runs it.
STAGES = [
    ("sources: load, extract, clean", "publisher.api", "load_inputs"),
    ("state: open + migrate", "publisher.api", "open_store"),
    ("LLM client set-up", "publisher.api", "make_llm"),
    ("WordPress: open the site (client side)", "publisher.api", "open_site"),
    ("SEO plan: keyphrase before writing", "publisher.seo.plan", "plan_keyphrase"),
    ("writer: prompts, parse", "publisher.pipeline", "write"),
    ("LLM HTTP call (openai client + model)", "publisher.writer.llm", "LLM._create"),
    ("quality gate", "publisher.quality.gate", "run_gate"),
    ("SEO: keyphrase choice", "publisher.seo.build", "choose_keyphrase"),
    ("SEO: build meta, slug, tags", "publisher.seo.build", "build_seo"),
    ("SEO: deterministic fixes", "publisher.seo.fix", "improve"),
    ("SEO: checks", "publisher.seo.checks", "seo_checks"),
    ("SEO: checks", "publisher.seo.fix", "seo_checks"),          # fix.py's own binding
    ("SEO: part repair prompt, parse", "publisher.writer.write", "suggest_parts"),
    ("SEO: meta repair prompt, parse", "publisher.writer.write", "suggest_meta"),
    ("SEO: stage glue (explanations, choice)", "publisher.pipeline", "seo_stage"),
    ("render: blocks + sanitize", "publisher.render.blocks", "render_article"),
    ("draft payload", "publisher.pipeline", "make_draft"),
    ("WordPress: push (client side)", "publisher.api", "_push"),
    ("WordPress HTTP (requests + server)", "publisher.net", "Http.request"),
    ("state: record LLM call", "publisher.state.db", "Store.record_llm_call"),
    ("state: record post", "publisher.state.db", "Store.record_post"),
    ("state: record outcome", "publisher.state.db", "Store.record_outcome"),
    ("api.draft glue", "publisher.api", "draft"),
]
IO_STAGES = ("LLM HTTP call (openai client + model)", "WordPress HTTP (requests + server)")


class StageTimer:
    def __init__(self, stages=STAGES):
        self.stages = stages
        self.times: dict[str, float] = {}
        self.missing: list[str] = []
        self._saved: list[tuple[object, str, object]] = []
        self._local = threading.local()

    def __enter__(self) -> "StageTimer":
        for label, module, path in self.stages:
            owner, name = _resolve(module, path)
            if owner is None:
                self.missing.append(f"{module}.{path}")
                continue
            original = owner.__dict__[name]
            self._saved.append((owner, name, original))
            setattr(owner, name, self._wrap(label, original))
        return self

    def __exit__(self, *exc) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()

    def take(self) -> dict[str, float]:
        """The times since the last take(), and start again."""
        times, self.times = self.times, {}
        return times

    def _wrap(self, label: str, fn):
        timer = self

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            stack = timer._stack()
            stack.append(0.0)                  # time spent in timed callees
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                inner = stack.pop()
                timer.times[label] = timer.times.get(label, 0.0) + elapsed - inner
                if stack:
                    stack[-1] += elapsed
        return timed

    def _stack(self) -> list[float]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        return self._local.stack


def _resolve(module: str, path: str):
    """(object holding the attribute, attribute name), or (None, "") when it is gone."""
    try:
        owner = importlib.import_module(module)
    except ImportError:
        return None, ""
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part, None)
        if owner is None:
            return None, ""
    if name not in getattr(owner, "__dict__", {}) or not callable(owner.__dict__[name]):
        return None, ""
    return owner, name
