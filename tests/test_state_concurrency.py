"""Several processes share one state database (feed workers, a CLI run, a cron job)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from publisher.state import MIGRATIONS, Store
from tests.test_state_backends import db_url  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]

WORKER = """
import sys
from publisher.models import Outcome, Usage
from publisher.state import Store
url, name = sys.argv[1], sys.argv[2]
store = Store(url)                      # every worker migrates: must not trip over the others
for i in range(40):
    store.record_llm_call(Usage("gpt-4o-mini", "write", 1, 1), f"{name}-{i}")
    store.mark_source(f"shared-{i}", "https://n.test/x", "h", "t")
    store.record_outcome(f"{name}-{i}", Outcome("dry_run"))
store.close()
"""


def test_processes_migrate_and_write_at_the_same_time(db_url):
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, db_url, f"w{n}"], cwd=ROOT,
                                stderr=subprocess.PIPE, text=True) for n in range(4)]
    errors = [w.communicate(timeout=120)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], errors
    with Store(db_url) as store:
        assert store.schema_version() == len(MIGRATIONS)
        assert store.usage_totals()["calls"] == 160
        assert len(store.history(limit=1000)) == 160
        assert len(store.dump()["publisher_sources"]) == 40
        assert len(store.dump()["publisher_schema"]) == len(MIGRATIONS)
