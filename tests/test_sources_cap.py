"""A source longer than PUBLISHER_MAX_SOURCE_CHARS is cut before it reaches the model, with a
warning in the log and in the editor's report (issue 14, class 10: a 1.9 MB source became
three 460k-token requests). The model is the scripted server, reached by the real client."""

from __future__ import annotations

import json
from pathlib import Path

from publisher.api import DraftRequest, draft
from publisher.config import Settings
from publisher.models import Source
from publisher.sources.cap import cap_source, cut_notes
from publisher.sources.load import load_source
from tests.support.fakellm import FakeLLM, make_smart_handler, settings_for

SEED = Path(__file__).parent / "fixtures" / "seeds" / "002_367df188a69f6029.txt"


def _seed_body() -> str:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    return "\n".join(lines[1:] if lines[0].startswith("Make this article") else lines)


def _huge_file(tmp_path, size: int) -> Path:
    """The seed, then filler paragraphs (an archive page's worth) until ``size`` characters."""
    body = _seed_body()
    filler = ("Archives : une dépêche plus ancienne sur un tout autre sujet, reprise ici "
              "parmi des centaines d'autres pour remplir la page. ")
    paragraphs, length = [body], len(body)
    while length < size:
        paragraphs.append(filler * 6)
        length += len(paragraphs[-1]) + 2
    path = tmp_path / "archive.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return path


def test_a_text_within_the_cap_is_left_alone():
    source = Source(text="Un paragraphe.\n\nUn autre.")
    assert cap_source(source, 1000) is source and cut_notes([source]) == []


def test_a_long_text_is_cut_at_a_paragraph_end_before_the_cap():
    paragraphs = [f"Paragraphe {n} : " + "des mots et encore des mots. " * 20 for n in range(200)]
    source = Source(text="\n\n".join(paragraphs), site_name="Le Journal")
    cut = cap_source(source, 10_000)
    assert len(cut.text) <= 10_000 and cut.cut_from == len(source.text)
    assert source.text.startswith(cut.text) and cut.text.endswith("mots.")
    assert len(cut.text) > 5_000                           # the boundary is near the cap
    [note] = cut_notes([cut, Source(text="court")])
    assert "« Le Journal » tronquée" in note and "PUBLISHER_MAX_SOURCE_CHARS" in note


def test_a_text_without_paragraphs_is_cut_at_a_sentence_then_a_space():
    one_block = "Une phrase assez longue pour compter. " * 600
    cut = cap_source(Source(text=one_block), 5_000)
    assert cut.text.endswith("compter.") and len(cut.text) <= 5_000
    words = "mot " * 5_000
    assert cap_source(Source(text=words), 5_000).text.endswith("mot")


def test_load_source_applies_the_setting_and_logs_the_cut(tmp_path, caplog):
    path = _huge_file(tmp_path, 1_900_000)                  # just under the 2 MB file limit
    settings = Settings.from_mapping({"PUBLISHER_MAX_SOURCE_CHARS": "20000"})
    with caplog.at_level("WARNING", logger="publisher.sources.cap"):
        source, _ = load_source(str(path), settings=settings)
    assert len(source.text) <= 20_000 and source.cut_from > 1_800_000
    assert source.text.startswith(_seed_body().split("\n")[0].strip()[:40])
    [line] = [r.getMessage() for r in caplog.records]
    assert str(path) in line and "only the first" in line and "=20000" in line


def test_the_model_is_sent_the_cut_text_and_the_report_says_so(tmp_path):
    path = _huge_file(tmp_path, 1_900_000)
    with FakeLLM(make_smart_handler()) as llm:
        outcome = draft(DraftRequest((str(path),), dry_run=True, out_dir=str(tmp_path / "d")),
                        settings_for(llm, PUBLISHER_DB=f"sqlite:///{tmp_path}/s.db",
                                     PUBLISHER_MAX_SOURCE_CHARS="30000"))
        prompts = [request.prompt for request in llm.requests]
    assert prompts and max(len(p) for p in prompts) < 30_000 + 20_000   # cap + instructions
    assert outcome.kind == "dry_run"
    report = json.loads((tmp_path / "d" / "payload.json").read_text())["report"]
    assert any("tronquée" in w and "PUBLISHER_MAX_SOURCE_CHARS" in w for w in report["warnings"])
