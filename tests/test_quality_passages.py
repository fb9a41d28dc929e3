"""Each untraceable claim comes with the source sentence nearest to it, so the editor knows where
to start checking (shown in the block editor's publisher panel)."""

import json

from publisher.models import Source
from publisher.quality.facts import nearest_passage
from publisher.quality.gate import run_gate
from publisher.writer.write import article_from_json
from tests.test_quality_facts import SOURCE
from tests.test_quality_gate import BRIEF, NATO, invented_json, sources


def test_a_changed_figure_points_to_the_sentence_with_the_real_one():
    passage = nearest_passage("3,7 milliards d’euros de contrats", [Source(text=SOURCE)])
    assert passage.startswith("Stoltenberg a ajouté que l’OTAN avait obtenu 2,4 milliards")
    assert passage.endswith("munitions.")


def test_an_altered_quotation_points_to_the_quotation_in_the_source():
    claim = "« Je suis allé à Kiev cette semaine pour demander au président ce qu'il veut »"
    assert "Je suis retourné à Kiev cette semaine" in nearest_passage(claim, SOURCE)


def test_a_claim_sharing_no_word_with_the_sources_has_no_passage():
    assert nearest_passage("« Nous irons jusqu'au bout »", [Source(text=SOURCE)]) == ""


def test_a_long_sentence_is_cut_at_a_word():
    long = "Les alliés ont discuté " + "des munitions et des stocks " * 30 + "pendant deux jours."
    passage = nearest_passage("des stocks de munitions", long)
    assert 100 < len(passage) <= 302 and passage.endswith(" …")


def test_the_report_pairs_each_untraceable_claim_with_its_passage():
    _, report = run_gate(article_from_json(invented_json()), sources(*NATO), BRIEF, None)
    assert len(report.passages) == len(report.untraceable) == 2
    by_claim = dict(zip(report.untraceable, report.passages))
    assert "milliards d’euros" in by_claim["3,7 milliards d’euros"]
    stored = json.loads(json.dumps(report.to_dict()))     # as the publisher_report meta
    assert stored["passages"] == list(report.passages)
