"""The status line of `draft` and `feed` (progress.Display) written to a real stream: log
records and story lines land above it, the stage and elapsed time in it, each drafted
story's edit link printed, and the log handlers given back afterwards."""

from __future__ import annotations

import io
import logging
import time
from types import SimpleNamespace

from publisher.progress import Display


def drafted(title: str, link: str):
    return SimpleNamespace(kind="drafted", reason="", title=title, edit_link=link, link="")


def test_log_lines_and_edit_links_print_above_the_status_line():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        display = Display(stream=stream)
        assert handler.stream is not stream                 # records go through the display
        display.start(2)
        display("write", 120, 4.0)                           # the LLM's progress callback
        logging.getLogger("publisher.test").warning("Story 1 failed; it will be tried again.")
        display.story(drafted("Le Conseil d'État valide la réforme",
                              "http://wp.local/wp-admin/post.php?post=7&action=edit"))
        time.sleep(0.7)                                      # one tick of the elapsed time
        display.clear()
    finally:
        root.removeHandler(handler)
    assert handler.stream is stream                          # given back
    text = stream.getvalue()
    lines = [line.split("\r")[-1] for line in text.split("\n")]
    assert "Story 1 failed; it will be tried again." in lines
    edit = next(line for line in lines if line.startswith("drafted"))
    assert edit.endswith("http://wp.local/wp-admin/post.php?post=7&action=edit")
    assert "rédaction · 120 tokens · 30.0 tokens/s" in text  # the stage, French as the UI
    assert "1/2 stories" in text and "00:0" in text         # stories done, elapsed time


def test_a_title_cannot_move_the_cursor_or_clear_the_terminal():
    stream = io.StringIO()
    display = Display(stream=stream)
    display.story(drafted("Titre\x1b[2J\x1b[1;1H piégé", "http://wp.local/?p=1"))
    display.clear()
    assert "\x1b[2J" not in stream.getvalue() and "Titre" in stream.getvalue()
