"""Reason codes are declared once, in errors.py: every reason the package spells (a
``reason="…"`` given to an error or an outcome, an error class's ``reason = "…"``) is one of
``errors.REASONS``, so history, stats and the retry rules never meet a misspelt one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from publisher.errors import (CONFIG, CONTENT, CONFIG_REASONS, CONTENT_REASONS, INPUT_REASONS,
                              REASONS, TRANSIENT, TRANSIENT_REASONS, failure_class)

PACKAGE = Path(__file__).resolve().parents[1] / "publisher"
# RelatedPosts.reason says why no related post was asked or found (models.py): a note shown
# to the editor, not a failure's reason.
OTHER_VOCABULARY = {"RelatedPosts"}


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def spelled_reasons() -> dict[str, set[str]]:
    """Each reason written as a string in publisher/, with the modules that write it."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            values = []
            if isinstance(node, ast.Call) and _called(node) not in OTHER_VOCABULARY:
                values = [k.value for k in node.keywords if k.arg == "reason"]
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "reason" for t in node.targets):
                values = [node.value]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.setdefault(value.value, set()).add(path.name)
    return found


def test_every_reason_the_code_spells_is_declared():
    spelled = spelled_reasons()
    assert {"too_short", "llm_timeout", "unsupported", "is_directory"} <= set(spelled), \
        "the walk sees reasons in errors, outcomes and error classes"
    undeclared = {reason: sorted(where) for reason, where in spelled.items()
                  if reason not in REASONS and not re.fullmatch(r"http_\d{3}", reason)}
    assert undeclared == {}, "declare these in errors.py (and give each its class)"


def test_each_reason_has_one_class():
    groups = [CONFIG_REASONS, CONTENT_REASONS, TRANSIENT_REASONS, INPUT_REASONS]
    assert sum(len(g) for g in groups) == len(REASONS), "a reason declared twice"
    assert all(failure_class(r) == CONFIG for r in CONFIG_REASONS)
    assert all(failure_class(r) == CONTENT for r in CONTENT_REASONS)
    assert all(failure_class(r) == TRANSIENT for r in TRANSIENT_REASONS | INPUT_REASONS)
