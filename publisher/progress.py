"""The one progress display of ``publisher draft`` and ``publisher feed`` on a terminal:

    drafted   Le Conseil d'État valide la réforme…   https://site/wp-admin/post.php?post=7&action=edit
    WARNING publisher.workflows: Story 3f2a… failed (llm_unavailable); it will be tried again…
    rédaction · 812 tokens · 11.8 tokens/s [##########----------] 1/2 stories · 01:09

One status line at the bottom of stderr (tqdm): the stage (the LLM call under way, with its
tokens and speed, or what the run is doing), the stories done, the elapsed time. Log records
and the story lines (each drafted story with its edit link) are printed *above* it, never
through it. Nothing is shown when stderr is not a terminal (cron gets plain lines), with
``-q``, or with ``--json``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from tqdm import tqdm

STAGES = {"write": "rédaction", "expand": "développement", "translate": "traduction",
          "fix_facts": "correction des faits", "seo_parts": "référencement",
          "seo_meta": "méta-données"}
TICK = 0.5                      # seconds between two redraws of the elapsed time
FALLBACK_SIZE = (80, 24)        # columns and lines, when the terminal does not say


def elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


class _AboveBar:
    """A stream for the log handlers while the bar is shown: each record goes above it."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        if text.strip():
            tqdm.write(text.rstrip("\n"), file=self.stream)

    def flush(self) -> None:
        self.stream.flush()


class Display:
    """The status line, as the LLM's ``progress(purpose, tokens, seconds)`` callback and as
    the feed runner's Progress (start, stage, feed, story)."""

    def __init__(self, stream=None, total: int | None = None):
        self.stream = stream or sys.stderr
        self.lock = threading.Lock()
        cols, lines = (None, None) if _size_known(self.stream) else FALLBACK_SIZE
        self.bar = tqdm(total=total, file=self.stream, dynamic_ncols=cols is None,
                        ncols=cols, nrows=lines, leave=False,
                        ascii=" #", unit=" stories", bar_format=self._format(total))
        self.bar.set_description_str("démarrage")
        self._handlers = _log_handlers_to(self.stream, _AboveBar(self.stream))
        self._stop = threading.Event()
        threading.Thread(target=self._tick, name="publisher-progress", daemon=True).start()

    @classmethod
    def for_terminal(cls, *, quiet: bool = False, as_json: bool = False) -> "Display | None":
        if quiet or as_json or not sys.stderr.isatty():
            return None
        return cls()

    @staticmethod
    def _format(total: int | None) -> str:
        if total is None:
            return "{desc} · {elapsed}"
        return "{desc} [{bar:20}] {n_fmt}/{total_fmt} stories · {elapsed}"

    def _tick(self) -> None:
        while not self._stop.wait(TICK):            # the elapsed time moves on its own
            with self.lock:
                if not self._stop.is_set():
                    self.bar.refresh()

    # --- the LLM's callback (draft, and the stories a feed run drafts) -----------------------

    def __call__(self, purpose: str, tokens: int, seconds: float) -> None:
        rate = tokens / seconds if seconds > 0 else 0.0
        self.stage(f"{STAGES.get(purpose, purpose)} · {tokens} tokens · {rate:.1f} tokens/s")

    def stage(self, text: str) -> None:
        with self.lock:
            self.bar.set_description_str(text, refresh=True)

    # --- the feed runner's Progress ----------------------------------------------------------

    def start(self, total: int) -> None:
        with self.lock:
            self.bar.total = total
            self.bar.bar_format = self._format(total)
            self.bar.set_description_str("rédaction des articles", refresh=True)

    def feed(self, result, new: int) -> None:
        if result.status == "failed" or result.reason:
            label = "feed failed" if result.status == "failed" else "feed skipped"
            self.line(f"{label:13} {result.reason:16} {result.url}")

    def story(self, result) -> None:
        where = getattr(result, "edit_link", "") or getattr(result, "link", "")
        self.line(f"{result.kind:13} {result.reason or '':16} {result.title[:70]}  {where}"
                  .rstrip())
        with self.lock:
            self.bar.update(1)

    def line(self, text: str) -> None:
        """A line above the status line (which is drawn again under it)."""
        from .textsafe import safe_text      # titles come from pages and models
        with self.lock:
            tqdm.write(safe_text(text), file=self.stream)

    def clear(self) -> None:
        """Erase the status line and give the log handlers their stream back."""
        self._stop.set()
        with self.lock:
            self.bar.close()
        for handler, stream in self._handlers:
            handler.setStream(stream)


# ``publisher draft`` knew it by this name.
LiveLine = Display


def _size_known(stream) -> bool:
    """Whether the terminal says how big it is. A pseudo-terminal nobody sized (docker exec
    -t, some CI runners, a script's pty) answers 0 × 0, and tqdm then draws nothing (a line
    trimmed to -1 columns, below the last of -1 lines): such a terminal gets a fixed size."""
    try:
        return os.get_terminal_size(stream.fileno()).columns > 0
    except (AttributeError, OSError, ValueError):
        return False


def _log_handlers_to(stream, proxy) -> list[tuple[logging.StreamHandler, object]]:
    """Point the root logger's handlers that write to ``stream`` at ``proxy``; returns what
    to restore."""
    swapped = []
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is stream:
            swapped.append((handler, handler.setStream(proxy)))
    return swapped
