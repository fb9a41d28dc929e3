"""publisher/measure.py: an article version measured once, with the numbers the plain
definitions in publisher/words.py give, and nothing kept once the article is gone."""

from __future__ import annotations

import dataclasses
import gc
from dataclasses import replace
from pathlib import Path

import pytest

from publisher import measure as measure_module
from publisher import words
from publisher.measure import block_text, measure, remember
from publisher.models import Article, Block, Section
from publisher.seo.build import build_seo
from publisher.seo.checks import CHECK_IDS, seo_checks
from publisher.sources.clean import clean_text
from publisher.writer.write import article_from_json
from tests.support.fakellm import scripted_article

SEEDS = sorted((Path(__file__).parent / "fixtures" / "seeds").glob("*.txt"))


def seed_article(seed: Path) -> Article:
    body, _, _ = clean_text(seed.read_text("utf-8"))
    return article_from_json(scripted_article(body, 760))


def mixed_article() -> Article:
    """An empty first block, inline markup, a list, a quotation with its credit, an H3."""
    return Article(
        title="Titre non compté",
        intro=(Block(kind="paragraph", text=" "),
               Block(kind="paragraph", text="M. Dupont a parlé <em>hier</em> soir. "
                                            "L’OTAN a répondu à 2,4 milliards.")),
        sections=(
            Section("Les <strong>faits</strong>", (
                Block(kind="list", text="Trois points :", items=("un", "deux.", "  ")),
                Block(kind="quote", text="« Nous tiendrons. »", cite="Jens Stoltenberg"))),
            Section("Un détail", (Block(kind="paragraph", text="Rien de plus — vraiment."),),
                    level=3),
        ),
        conclusion=Section("En bref", (Block(kind="paragraph", text="Fin. Suite demain."),)),
    )


def plain_measures(article: Article) -> dict:
    """The same measures the slow way: every text counted on its own."""
    blocks = [*article.intro, *(b for s in article.all_sections for b in s.blocks)]
    paragraphs = [t for t in map(block_text, blocks) if t]
    heads = [" ".join(words.visible(s.heading).split()) for s in article.all_sections]
    body = "\n\n".join(t for t in [*map(block_text, article.intro),
                                   *(x for s, h in zip(article.all_sections, heads)
                                     for x in (h, *map(block_text, s.blocks)))] if t)
    said = [s for p in paragraphs for s in words.sentences(p)]
    return {"words": words.article_words(article), "paragraphs": tuple(paragraphs),
            "paragraph_words": tuple(words.count_words(p) for p in paragraphs),
            "headings": tuple(h for h in heads if h), "body": body,
            "body_words": words.count_words(body), "body_tokens": words.tokens(body),
            "sentences": tuple(said),
            "sentence_words": tuple(words.count_words(s) for s in said),
            "under_headings": tuple(words.section_words(s) for s in article.all_sections)}


@pytest.mark.parametrize("article", [mixed_article(), *map(seed_article, SEEDS[:3])],
                         ids=["mixed", *(p.stem[:3] for p in SEEDS[:3])])
def test_measures_are_the_plain_definitions(article):
    measured = measure(article)
    for name, expected in plain_measures(article).items():
        assert getattr(measured, name) == expected, name
    assert sum(measured.section_words) == sum(measured.paragraph_words)


def test_what_an_editor_counts_in_a_mixed_article():
    measured = measure(mixed_article())
    assert measured.introduction.startswith("M. Dupont a parlé hier soir.")   # empty block skipped
    assert measured.sentences[:2] == ("M. Dupont a parlé hier soir.",      # « M. » ends nothing
                                      "L’OTAN a répondu à 2,4 milliards.")
    assert measured.headings == ("Les faits", "Un détail", "En bref")
    # the credit is a word the editor sees in the post, but no sentence of the text
    assert measured.words == measured.body_words + 2
    assert measured.sections[1] == ("Les faits", "Trois points : un. deux. « Nous tiendrons. »")
    assert "otan" in measured.body_tokens and "l" in measured.body_tokens


def test_one_article_object_is_measured_once_and_a_new_version_afresh():
    article = mixed_article()
    first = measure(article)
    assert measure(article) is first
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.words = 0                                                  # type: ignore[misc]
    longer = replace(article, conclusion=Section("En bref", (
        Block(kind="paragraph", text="Fin. Suite demain, avec trois mots."),)))
    assert measure(longer) is not first
    assert measure(longer).words == first.words + 3          # « avec trois mots »


def test_nothing_is_kept_once_the_article_is_gone():
    article = seed_article(SEEDS[0])
    key = id(article)
    measure(article)
    assert key in measure_module._HELD
    del article
    gc.collect()
    assert key not in measure_module._HELD


def test_an_article_built_with_lists_is_measured_like_the_same_with_tuples():
    article = seed_article(SEEDS[1])
    listed = replace(article, intro=list(article.intro),
                     sections=[replace(s, blocks=list(s.blocks)) for s in article.sections])
    assert measure(listed) == measure(article)


def test_a_reading_of_a_version_is_kept_with_it_and_nowhere_else():
    article, calls = mixed_article(), []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert remember(article, ("reading", 1), compute) == 1
    assert remember(article, ("reading", 1), compute) == 1          # the same version: kept
    assert remember(article, ("reading", [1]), compute) == 2        # unhashable: computed
    assert remember(replace(article, title="Autre"), ("reading", 1), compute) == 3


def test_checks_kept_for_a_version_come_out_as_a_new_list_each_time():
    article = seed_article(SEEDS[0])
    seo = build_seo(article)
    first = seo_checks(article, seo)
    first.clear()
    assert seo_checks(article, seo) == seo_checks(replace(article, title=article.title), seo)
    assert len(seo_checks(article, seo)) == len(CHECK_IDS)
