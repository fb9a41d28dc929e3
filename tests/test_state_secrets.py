"""A real run (publisher.api.draft, dry run, real openai client against the local fake LLM)
leaves no secret in any state table."""

from __future__ import annotations

import json
from pathlib import Path

from publisher import api
from publisher.state import Store
from tests.support.fakellm import FakeLLM, make_smart_handler, settings_for

SEED = Path(__file__).parent / "fixtures" / "seeds" / "000_26b4b37e47165035.txt"


def test_a_dry_run_stores_usage_and_outcome_but_no_secret(tmp_path):
    secrets = {"OPENAI_API_KEY": "sk-run-secret-5a4b3c2d1e", "WP_APP_PASSWORD": "abcd EFGH ijkl MNOP"}
    with FakeLLM(make_smart_handler()) as fake:
        settings = settings_for(fake, PUBLISHER_DB=f"sqlite:///{tmp_path}/state/publisher.db",
                                WP_USERNAME="editor", **secrets)
        outcome = api.draft(api.DraftRequest(inputs=(str(SEED),), dry_run=True,
                                             out_dir=str(tmp_path / "drafts")), settings)
    assert outcome.kind == "dry_run"
    with Store(settings.db) as store:
        rows = store.dump()
    assert rows["publisher_outcomes"][0]["kind"] == "dry_run"
    assert rows["publisher_llm_calls"] and rows["publisher_llm_calls"][0]["input_tokens"] > 0
    dumped = json.dumps(rows, ensure_ascii=False, default=str)
    for secret in secrets.values():
        assert secret not in dumped
    raw = b"".join(p.read_bytes() for p in (tmp_path / "state").iterdir())   # WAL files too
    for secret in secrets.values():
        assert secret.encode() not in raw
