"""The live line ``publisher draft`` shows on a terminal while the model writes:

    write · 812 tokens · 11.8 tokens/s · 1 min 09 s

One line on stderr, rewritten in place (at most five times a second), erased when the call
ends so that log lines and the result print cleanly. Nothing is shown when stderr is not a
terminal, with ``-q``, or with ``--json``.
"""

from __future__ import annotations

import sys
import threading
import time

STAGES = {"write": "rédaction", "expand": "développement", "translate": "traduction",
          "fix_facts": "correction des faits", "seo_parts": "référencement",
          "seo_meta": "méta-données"}


def elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


class LiveLine:
    """A ``progress(purpose, tokens, seconds)`` callback for writer.llm.LLM."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.width = 0
        self.lock = threading.Lock()
        self.started = time.monotonic()

    @classmethod
    def for_terminal(cls, *, quiet: bool, as_json: bool) -> "LiveLine | None":
        if quiet or as_json or not sys.stderr.isatty():
            return None
        return cls()

    def __call__(self, purpose: str, tokens: int, seconds: float) -> None:
        rate = tokens / seconds if seconds > 0 else 0.0
        line = (f"{STAGES.get(purpose, purpose)} · {tokens} tokens · {rate:.1f} tokens/s · "
                f"{elapsed(time.monotonic() - self.started)}")
        with self.lock:
            pad = max(0, self.width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self.stream.flush()
            self.width = len(line)

    def clear(self) -> None:
        with self.lock:
            if self.width:
                self.stream.write("\r" + " " * self.width + "\r")
                self.stream.flush()
                self.width = 0
