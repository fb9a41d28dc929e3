"""workflows.py keeps no per-process wiring in module globals (issue 16): each engine hands
its own to one DBOS configured instance, which recovery finds by class and config name."""

from __future__ import annotations

import ast
from pathlib import Path

from publisher import workflows
from publisher.config import Settings, database_url

SOURCE = Path(workflows.__file__).read_text(encoding="utf-8")


def test_no_function_rebinds_a_module_global():
    tree = ast.parse(SOURCE)
    rebound = [name for node in ast.walk(tree) if isinstance(node, ast.Global)
               for name in node.names]
    assert rebound == []


def test_no_module_level_name_is_a_slot_filled_later():
    """A module-level ``x: T | None = None`` is the shape of wiring set at launch."""
    tree = ast.parse(SOURCE)
    slots = [node.target.id for node in tree.body
             if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
             and isinstance(node.value, ast.Constant) and node.value.value is None]
    assert slots == []


def test_every_story_step_is_a_method_of_the_configured_instance():
    assert issubclass(workflows.Stories, workflows.DBOSConfiguredInstance)
    for name in ("story_workflow", "llm_step", "keep_step", "lookup_step", "outcome_step",
                 "collect_step", "commit_step"):
        assert callable(getattr(workflows.Stories, name)), name
        assert not hasattr(workflows, name), f"{name} is still a module-level function"


def _settings(tmp_path: Path, name: str) -> Settings:
    return Settings(db=database_url(str(tmp_path / f"{name}.db")),
                    drafts_dir=str(tmp_path / name))


def test_each_engine_in_a_process_brings_and_withdraws_its_own_wiring(tmp_path):
    first = workflows.launch(_settings(tmp_path, "first"), mode="enqueue")
    try:
        assert workflows._scheduled_stories() is first.stories
        assert first.runtime.settings.db.endswith("first.db")
        first_runtime = first.runtime
    finally:
        first.close()
    assert workflows._dbos_instances().get(workflows._instance_key()) is None
    second = workflows.launch(_settings(tmp_path, "second"), mode="enqueue")
    try:
        assert workflows._scheduled_stories() is second.stories
        assert second.runtime.settings.db.endswith("second.db")
        assert second.runtime is not first_runtime
    finally:
        second.close()
    assert first.stories is None and second.stories is None
