"""`publisher stats`: outcomes and LLM usage per site and day, throughput, queue depth and
workers, read from the state database (SQLite here; PostgreSQL in test_scale_workers)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from publisher.config import Settings
from publisher.models import Outcome, PostResult, Usage
from publisher.state import Store
from publisher.state.limits import claim_worker
from publisher import stats
from tests.support.crash import PUBLISHER


def _fill(db: str) -> None:
    with Store(db) as store:
        post = PostResult(id=1, status="draft", slug="s", link="l", edit_link="e")
        for i in range(3):
            store.record_outcome(f"a{i}", Outcome("drafted", post=post), site="alpha")
        store.record_outcome("a9", Outcome("failed", reason="http_404"), site="alpha")
        store.record_outcome("b1", Outcome("skipped", reason="already_drafted"), site="beta")
        store.record_llm_call(Usage("m", "write", 1000, 500, cost=0.01), "a0", site="alpha")
        store.record_llm_call(Usage("m", "seo_fix", 200, 100, cost=0.002), "a0", site="alpha")
        store.record_llm_call(Usage("m", "write", 10, 5), "b1", site="beta")
        claim_worker(store, "w1", 4242, lambda row, now: True)


def test_stats_per_site_and_day(tmp_path):
    db = f"sqlite:///{tmp_path}/publisher.db"
    _fill(db)
    report = stats.collect(Settings.from_mapping({"PUBLISHER_DB": db}))
    assert report["sites"]["alpha"] == {"drafted": 3, "skipped": {}, "failed": {"http_404": 1},
                                        "total": 4}
    assert report["sites"]["beta"]["skipped"] == {"already_drafted": 1}
    usage = {u["site"]: u for u in report["usage"]}
    assert (usage["alpha"]["calls"], usage["alpha"]["tokens"]) == (2, 1800)
    assert usage["alpha"]["cost"] == 0.012
    assert report["throughput"]["drafted_10min"] == 3
    assert report["queue"] == {"queued": 0, "running": 0, "sites": {}, "workers": {}}
    assert [w["worker_id"] for w in report["workers"]] == ["w1"]
    text = stats.render(report)
    assert "alpha" in text and "3 drafted; failed: http_404 1" in text
    only = stats.collect(Settings.from_mapping({"PUBLISHER_DB": db}), site="beta")
    assert list(only["sites"]) == ["beta"] and [u["site"] for u in only["usage"]] == ["beta"]


def test_stats_command_prints_json(tmp_path):
    db = f"sqlite:///{tmp_path}/publisher.db"
    _fill(db)
    proc = subprocess.run([PUBLISHER, "stats", "--json"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={"PUBLISHER_DB": db, "PATH": "/usr/bin:/bin",
                                                       "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["sites"]["alpha"]["drafted"] == 3
    plain = subprocess.run([PUBLISHER, "stats"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=120, env={"PUBLISHER_DB": db, "PATH": "/usr/bin:/bin",
                                             "HOME": str(tmp_path)})
    assert "tokens and cost per site and day" in plain.stdout
    assert Path(tmp_path / "publisher.db").exists()
