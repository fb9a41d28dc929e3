"""One generation per article for a model that follows the brief, and a refused request format
paid for once per server — counted over the bundled examples and the test fixtures, through
the real openai client against the scripted server."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher import api
from publisher.api import DraftRequest
from publisher.state.db import Store
from tests.support.fakellm import REFUSALS, FakeLLM, make_smart_handler, settings_for

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = sorted(ROOT.glob("examples/*.txt")) + sorted(ROOT.glob("tests/fixtures/seeds/*.txt"))


def draft(path: Path, server: FakeLLM, tmp_path: Path):
    settings = settings_for(server, PUBLISHER_DB=f"sqlite:///{tmp_path}/state.db",
                            PUBLISHER_DRAFTS_DIR=str(tmp_path / "drafts"))
    return api.draft(DraftRequest((str(path),), dry_run=True), settings)


def test_a_model_that_follows_the_brief_is_asked_about_once_per_article(tmp_path):
    outcomes = []
    with FakeLLM(make_smart_handler()) as server:
        for path in ARTICLES:
            outcomes.append(draft(path, server, tmp_path))
        requests = list(server.requests)
    writes = [r for r in requests if r.purpose == "write"]
    assert len(writes) == len(ARTICLES)                  # never a second full generation
    assert len(requests) / len(ARTICLES) <= 1.15
    assert not [r.purpose for r in requests if r.purpose in ("seo_fix", "translate")]
    # what each report counts is what the server received
    assert sum(o.report.llm_calls for o in outcomes) == len(requests)
    # the keyphrase was chosen before writing, and the article was written around it
    for outcome, request in zip(outcomes, writes):
        assert "Expression clé imposée : « " in request.prompt
        assert [c.id for c in outcome.report.checks if c.status == "bad" and c.id in (
            "keyphrase_in_introduction", "keyphrase_in_subheadings", "keyphrase_in_title")] == []


@pytest.mark.parametrize("status", sorted(REFUSALS))
def test_a_server_refusing_json_schema_costs_one_refused_request_not_one_per_article(
        status, tmp_path):
    with FakeLLM(make_smart_handler(), json_schema_supported=False,
                 refusal_status=status) as server:
        first = draft(ARTICLES[0], server, tmp_path)
        asked_first = len(server.requests)
        second = draft(ARTICLES[1], server, tmp_path)
        formats = [r.response_format for r in server.requests]
    assert first.kind == second.kind == "dry_run"
    assert formats.count("json_schema") == 1 and formats[0] == "json_schema"
    assert set(formats[1:]) == {"json_object"}
    # each report counts its requests, the refused one included
    assert first.report.llm_calls == asked_first
    assert second.report.llm_calls == len(formats) - asked_first
    with Store(f"sqlite:///{tmp_path}/state.db") as store:
        statuses = [row["status"] for row in store.dump()["publisher_llm_calls"]]
    assert statuses.count(f"{status} refused") == 1
