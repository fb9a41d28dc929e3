"""A source too thin for the target is flagged for the editor, never padded: the writer is
asked for what the sources can carry, and the article is reported short."""

from pathlib import Path

from publisher.api import DraftRequest, draft
from publisher.models import Brief, Source
from publisher.pipeline import writing_brief
from tests.support.fakellm import FakeLLM, make_smart_handler, settings_for

SEED = Path(__file__).parent / "fixtures" / "seeds" / "003_b7a23fd024b318f7.txt"


def test_thin_sources_cap_what_the_writer_is_asked():
    thin = [Source(text=" ".join(["mot"] * 100))]
    assert writing_brief(thin, Brief(min_words=700)).min_words == 250
    full = [Source(text=" ".join(["mot"] * 400))]
    assert writing_brief(full, Brief(min_words=700)).min_words == 700


def test_a_thin_source_gives_a_short_flagged_article(tmp_path):
    thin = tmp_path / "thin.txt"
    thin.write_text(" ".join(SEED.read_text(encoding="utf-8").split()[:120]), encoding="utf-8")
    with FakeLLM(make_smart_handler()) as llm:
        outcome = draft(DraftRequest((str(thin),), dry_run=True, out_dir=str(tmp_path / "d")),
                        settings_for(llm, PUBLISHER_DB=f"sqlite:///{tmp_path}/s.db"))
        asked = llm.requests[0].prompt
    assert "700" not in asked.split("<<<SOURCE")[0]
    assert outcome.report.short
    assert any("mince" in w or "court" in w for w in outcome.report.warnings)
