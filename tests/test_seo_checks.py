"""Each SEO and readability check, at its thresholds."""

from dataclasses import replace

import pytest

from publisher.models import Article, Block, Section
from publisher.seo.build import build_seo
from publisher.seo.checks import CHECK_IDS, failing, seo_checks
from tests.test_seo_build import article

SHORT = "Le chat dort sur le tapis."                     # 6 words, easy French
LONG = ("Le secrétaire général de l’organisation atlantique a longuement détaillé devant "
        "les journalistes rassemblés à Kiev les engagements financiers pris par les alliés.")


def by_id(art: Article, seo=None, **kw) -> dict:
    seo = seo or build_seo(art, [])
    return {c.id: c for c in seo_checks(art, seo, **kw)}


def plain(paragraphs_per_section: list[list[str]], intro=(SHORT,), heads=None) -> Article:
    heads = heads or [f"Partie {i}" for i in range(len(paragraphs_per_section))]
    sections = [Section(h, tuple(Block(text=p) for p in ps))
                for h, ps in zip(heads, paragraphs_per_section)]
    return Article("Un titre", tuple(Block(text=t) for t in intro), tuple(sections[:-1]),
                   sections[-1])


def test_ids_are_stable_labels_french_statuses_known():
    checks = seo_checks(article(), build_seo(article(), []))
    assert [c.id for c in checks] == list(CHECK_IDS)
    assert all(c.status in ("good", "ok", "bad") for c in checks)
    assert all(c.label and c.detail for c in checks)
    assert by_id(article())["keyphrase_in_introduction"].label == "Requête cible dans l’introduction"


def test_full_article_is_green_on_keyphrase_checks():
    checks = by_id(article(keyphrase="Jens Stoltenberg"), min_words=300)
    for check_id in ("keyphrase_length", "keyphrase_in_title", "keyphrase_in_introduction",
                     "keyphrase_in_slug", "keyphrase_in_meta_description",
                     "keyphrase_in_subheadings", "keyphrase_density", "meta_title_width",
                     "meta_description_length", "slug", "excerpt_length", "text_length"):
        assert checks[check_id].status == "good", checks[check_id]


def test_keyphrase_in_title_good_ok_bad():
    art = article()
    seo = build_seo(art, [])
    assert by_id(art, replace(seo, meta_title="Jens Stoltenberg à Kiev"))[
        "keyphrase_in_title"].status == "good"
    assert by_id(art, replace(seo, meta_title="Avec Jens Stoltenberg à Kiev"))[
        "keyphrase_in_title"].status == "good"          # function words before it do not count
    assert by_id(art, replace(seo, meta_title="Kiev reçoit Jens Stoltenberg"))[
        "keyphrase_in_title"].status == "ok"
    assert by_id(art, replace(seo, meta_title="L’OTAN à Kiev"))[
        "keyphrase_in_title"].status == "bad"


def test_keyphrase_in_introduction_good_ok_bad():
    art = article()
    seo = replace(build_seo(art, []), keyphrase="Stoltenberg Zelenskyy")
    assert by_id(art, seo)["keyphrase_in_introduction"].status == "ok"     # two sentences
    assert by_id(art, replace(seo, keyphrase="Jens Stoltenberg"))[
        "keyphrase_in_introduction"].status == "good"
    assert by_id(art, replace(seo, keyphrase="alliés partagent"))[
        "keyphrase_in_introduction"].status == "bad"


def test_keyphrase_in_slug_and_meta_description():
    art = article()
    seo = replace(build_seo(art, []), keyphrase="Jens Stoltenberg")
    assert by_id(art, replace(seo, slug="jens-stoltenberg-kiev"))["keyphrase_in_slug"].status \
        == "good"
    assert by_id(art, replace(seo, slug="stoltenberg-kiev"))["keyphrase_in_slug"].status == "ok"
    assert by_id(art, replace(seo, slug="otan-kiev"))["keyphrase_in_slug"].status == "bad"
    checks = by_id(art, replace(seo, meta_description="L’OTAN promet des armes."))
    assert checks["keyphrase_in_meta_description"].status == "bad"
    assert checks["meta_description_length"].status == "ok"
    assert "24 caractères" in checks["meta_description_length"].detail


def test_meta_title_width_and_slug_format():
    art = article()
    seo = build_seo(art, [])
    assert by_id(art, replace(seo, meta_title=art.title))["meta_title_width"].status == "bad"
    checks = by_id(art, replace(seo, slug="défense-aérienne"))
    assert checks["slug"].status == "bad"


def test_keyphrase_density_counts_sentences_holding_all_content_words():
    sentences = ["Jens Stoltenberg arrive à Kiev."] + [SHORT] * 99      # ~ 606 words
    art = plain([[" ".join(sentences[:50])], [" ".join(sentences[50:])]])
    seo = replace(build_seo(art, []), keyphrase="Jens Stoltenberg")
    check = by_id(art, seo)["keyphrase_density"]
    assert check.status == "bad" and "1 occurrence" in check.detail
    art4 = plain([[" ".join(["Jens Stoltenberg arrive à Kiev."] * 4 + [SHORT] * 46)],
                  [" ".join([SHORT] * 50)]])
    assert by_id(art4, seo)["keyphrase_density"].status == "good"


def test_text_length_uses_the_brief_target():
    art = plain([[" ".join([SHORT] * 60)]])                   # 360 words + headings
    assert by_id(art, min_words=700)["text_length"].status == "ok"
    assert by_id(art, min_words=300)["text_length"].status == "good"
    assert by_id(plain([[SHORT]]), min_words=700)["text_length"].status == "bad"


@pytest.mark.parametrize("words,status", [(290, "good"), (320, "ok"), (400, "bad")])
def test_subheading_distribution(words, status):
    body = " ".join([SHORT] * (words // 6))
    art = plain([[body[:len(body) // 2], body[len(body) // 2:]], [SHORT]])
    assert by_id(art)["subheading_distribution"].status == status


@pytest.mark.parametrize("words,status", [(144, "good"), (174, "ok"), (210, "bad")])
def test_paragraph_length(words, status):
    art = plain([[" ".join([SHORT] * (words // 6))], [SHORT]])
    check = by_id(art)["paragraph_length"]
    assert check.status == status
    assert f"{words // 6 * 6} mots" in check.detail


@pytest.mark.parametrize("long_count,status", [(2, "good"), (3, "ok"), (5, "bad")])
def test_sentence_length(long_count, status):
    sentences = [LONG] * long_count + [SHORT] * (10 - long_count)
    art = plain([[" ".join(sentences)], [SHORT] * 0 or [SHORT]], intro=())
    # 11 sentences: the section's 10 and the conclusion's one
    check = by_id(art)["sentence_length"]
    assert check.status == status
    assert f"{long_count} phrase(s) sur 11" in check.detail


@pytest.mark.parametrize("with_transition,status", [(3, "good"), (2, "ok"), (1, "bad")])
def test_transition_words(with_transition, status):
    linked = "Par ailleurs, le chat dort sur le tapis."
    paragraph = " ".join([linked] * with_transition + [SHORT] * (10 - with_transition))
    art = plain([[paragraph] * 4, [paragraph]], intro=())     # 5 × 10 sentences, > 200 words
    assert by_id(art)["transition_words"].status == status


def test_transition_words_not_required_in_short_texts():
    assert by_id(plain([[SHORT] * 3]))["transition_words"].status == "good"


@pytest.mark.parametrize("passive,status", [(1, "good"), (2, "ok"), (4, "bad")])
def test_passive_voice(passive, status):
    passive_sentence = "Les contrats sont signés par les alliés."
    art = plain([[" ".join([passive_sentence] * passive + [SHORT] * (14 - passive))], [SHORT]],
                intro=())
    check = by_id(art)["passive_voice"]
    assert check.status == status
    assert f"{passive} phrase(s) sur 15" in check.detail


def test_flesch_reading_ease_bands():
    easy = plain([[" ".join([SHORT] * 20)], [SHORT]])
    hard = plain([[" ".join([LONG] * 20)], [LONG]])
    assert by_id(easy)["flesch_reading_ease"].status == "good"
    check = by_id(hard)["flesch_reading_ease"]
    assert check.status == "bad" and "Score" in check.detail


def test_failing_lists_ids_not_green():
    checks = seo_checks(plain([[SHORT]]), build_seo(plain([[SHORT]]), []))
    ids = failing(checks)
    assert "text_length" in ids and all(i in CHECK_IDS for i in ids)
