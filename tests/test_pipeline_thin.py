"""A source too thin for the target is flagged for the editor, never padded: the writer is
asked for what the sources can carry, and the article is reported short."""

import json
from pathlib import Path

import pytest

from publisher.api import DraftRequest, draft
from publisher.errors import QualityError
from publisher.models import Brief, Source
from publisher.pipeline import writing_brief
from tests.support.fakellm import FakeLLM, make_smart_handler, settings_for

SEED = Path(__file__).parent / "fixtures" / "seeds" / "003_b7a23fd024b318f7.txt"


def test_thin_sources_cap_what_the_writer_is_asked():
    thin = [Source(text=" ".join(["mot"] * 100))]
    assert writing_brief(thin, Brief(min_words=700)).min_words == 250
    full = [Source(text=" ".join(["mot"] * 400))]
    assert writing_brief(full, Brief(min_words=700)).min_words == 700


def test_a_thin_source_gives_a_short_flagged_article_kept_back_when_under_half(tmp_path):
    thin = tmp_path / "thin.txt"
    thin.write_text(" ".join(SEED.read_text(encoding="utf-8").split()[:120]), encoding="utf-8")
    with FakeLLM(make_smart_handler()) as llm:
        with pytest.raises(QualityError) as err:
            draft(DraftRequest((str(thin),), dry_run=True, out_dir=str(tmp_path / "d")),
                  settings_for(llm, PUBLISHER_DB=f"sqlite:///{tmp_path}/s.db"))
        asked = llm.requests[0].prompt
    assert "700" not in asked.split("<<<SOURCE")[0]          # not padded to the target
    # ~300 words for 700: under half, so kept as a folder, flagged, never pushed
    assert err.value.reason == "under_half_length"
    report = json.loads((tmp_path / "d" / "payload.json").read_text())["report"]
    assert report["word_count"] < 350
    assert any("mince" in w for w in report["warnings"])


def test_a_thin_source_above_half_the_target_is_drafted_short_and_flagged(tmp_path):
    with FakeLLM(make_smart_handler()) as llm:
        outcome = draft(DraftRequest((str(SEED),), dry_run=True, out_dir=str(tmp_path / "d"),
                                     min_words=1500),
                        settings_for(llm, PUBLISHER_DB=f"sqlite:///{tmp_path}/s.db"))
    assert outcome.kind == "dry_run" and outcome.report.short and not outcome.report.blocked
    assert any("mince" in w or "court" in w for w in outcome.report.warnings)
