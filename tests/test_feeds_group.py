"""Grouping feed items by story, on the five real seeds and on invented unrelated articles."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from publisher.feeds.fetch import FeedItem
from publisher.feeds.group import (THRESHOLD, Features, blocking_keys,
                                   candidate_pairs, figures, group_id, group_items, same_story,
                                   similarity)
from publisher.models import Source

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = sorted((FIXTURES / "seeds").glob("*.txt"))
ARTICLES = FIXTURES / "feeds" / "articles"


def _pair(path: Path, *, published: str = "") -> tuple[FeedItem, Source]:
    """A seed or article as a feed item with its fetched text (the editor's instruction line,
    which the sources stage removes, is dropped here too)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if lines[0].startswith("Make this article"):
        lines = lines[1:]
    name = path.stem
    item = FeedItem(guid=name, link=f"https://{name[:3]}.news.test/{name}", title="",
                    published=published, feed_url="https://feeds.test/rss")
    return item, Source(text="\n".join(lines), url=item.link)


def _names(groups) -> list[list[str]]:
    return [[item.guid[:3] for item, _ in group] for group in groups]


@pytest.fixture
def seeds():
    return [_pair(p) for p in SEEDS]


@pytest.fixture
def articles():
    return {p.stem: _pair(p) for p in sorted(ARTICLES.glob("*.txt"))}


def test_the_seeds_make_three_stories(seeds):
    # 000, 002, 003: the September 2023 Kyiv visit; 001: the April 2023 visit; 004: Brussels.
    assert _names(group_items(seeds)) == [["000", "002", "003"], ["001"], ["004"]]


def test_the_threshold_sits_between_same_story_and_same_actors(seeds):
    f = {item.guid[:3]: Features(item, source) for item, source in seeds}
    same = [similarity(f[a], f[b]) for a, b in (("000", "002"), ("000", "003"), ("002", "003"))]
    other = [similarity(f[a], f[b]) for a, b in (("000", "001"), ("001", "004"), ("000", "004"),
                                                 ("002", "004"), ("003", "004"))]
    assert min(same) >= THRESHOLD + 0.05
    assert max(other) <= THRESHOLD - 0.05


def test_shared_figures_are_what_tie_the_kyiv_reports(seeds):
    f = {item.guid[:3]: Features(item, source) for item, source in seeds}
    assert ("2,4", "milliard") in f["000"].figures & f["002"].figures & f["003"].figures
    assert ("40", "drone") in f["002"].figures & f["003"].figures
    assert not f["000"].figures & f["004"].figures


def test_grouping_does_not_depend_on_input_order(seeds, articles):
    pairs = seeds + list(articles.values())
    expected = {frozenset(i.guid for i, _ in g) for g in group_items(pairs)}
    ids = {group_id(g) for g in group_items(pairs)}
    for seed in range(5):
        shuffled = pairs[:]
        random.Random(seed).shuffle(shuffled)
        groups = group_items(shuffled)
        assert {frozenset(i.guid for i, _ in g) for g in groups} == expected
        assert {group_id(g) for g in groups} == ids


def test_unrelated_articles_stay_apart_and_two_reports_of_one_strike_join(seeds, articles):
    groups = _names(group_items(seeds + list(articles.values())))
    assert ["lou", "lou"] in groups                                  # louvre_a + louvre_b
    for name in ("otan_suede", "tgv", "vendanges"):
        assert [name[:3]] in groups
    assert ["000", "002", "003"] in groups and ["004"] in groups and ["001"] in groups


def test_the_same_link_from_two_feeds_is_one_story_even_without_text():
    a = FeedItem("feed-a-1", "https://n.test/a?utm_source=rss", "Titre A", feed_url="https://a.test/rss")
    b = FeedItem("feed-b-9", "https://N.test/a#haut", "Un autre titre", feed_url="https://b.test/rss")
    c = FeedItem("feed-b-10", "https://n.test/b", "Titre A", feed_url="https://b.test/rss")
    groups = group_items([(a, None), (b, None), (c, None)])
    assert [[i.guid for i, _ in g] for g in groups] == [["feed-a-1", "feed-b-9"], ["feed-b-10"]]


def test_reports_days_apart_are_different_stories(articles):
    a = _pair(ARTICLES / "louvre_a.txt", published="2023-10-03T09:00:00Z")
    b = _pair(ARTICLES / "louvre_b.txt", published="2023-10-03T18:30:00+02:00")
    late = _pair(ARTICLES / "louvre_b.txt", published="2023-10-20T08:00:00Z")
    assert len(group_items([a, b])) == 1
    assert len(group_items([a, late])) == 2


def test_summaries_are_used_when_there_is_no_source_text():
    one = FeedItem("1", "https://a.test/1", "Grève au Louvre",
                   "Le musée a fermé : 30 000 visiteurs attendus, 120 postes réclamés, "
                   "8,9 millions d'entrées l'an dernier.")
    two = FeedItem("2", "https://b.test/2", "Le Louvre fermé par une grève",
                   "Les agents réclament 120 postes ; 8,9 millions de visiteurs l'an passé.")
    three = FeedItem("3", "https://c.test/3", "Vendanges précoces en Bourgogne",
                     "Une récolte estimée à 1,3 million d'hectolitres, en recul de 12 %.")
    groups = group_items([(one, Source(text="")), (two, None), (three, None)])
    assert [[i.guid for i, _ in g] for g in groups] == [["1", "2"], ["3"]]


def test_group_id_is_stable_and_depends_only_on_the_set_of_stories(seeds):
    kyiv = [seeds[0], seeds[2], seeds[3]]
    assert group_id(kyiv) == group_id(list(reversed(kyiv))) == group_id([p[0] for p in kyiv])
    assert group_id(kyiv) != group_id(kyiv[:2])
    assert len(group_id(kyiv)) == 20 and int(group_id(kyiv), 16) >= 0
    moved = FeedItem("other-guid", seeds[0][0].link + "?utm_campaign=x", "")
    assert group_id([moved]) == group_id([seeds[0]])           # same article, same ID


@pytest.mark.parametrize("text, expected", [
    ("2,4 milliards d'euros", {("2,4", "milliard")}),
    ("plus de 40 drones Shahed", {("40", "drone")}),
    ("en 2023, deux ans après, 3 soldats", set()),               # years and small counts: noise
    ("1 milliard d'euros", {("1", "milliard")}),
    ("30 000 visiteurs et 12 % de baisse", {("30000", "visiteur"), ("12", "%")}),
])
def test_figures(text, expected):
    assert figures(text) == expected


# --- an item cannot bridge two stories (issue 14, class 10) -----------------------------------

def _dated(pair, published: str):
    item, source = pair
    return FeedItem(item.guid, item.link, item.title, published=published,
                    feed_url=item.feed_url), source


@pytest.mark.parametrize("when", ["2023-09-27T06:00:00Z",       # before every report: the core
                                  "2023-09-28T15:00:00Z",       # between them
                                  "2023-09-30T23:00:00Z"])      # after them all
def test_a_hostile_item_mentioning_two_stories_does_not_merge_them(seeds, articles, when):
    louvre = [_dated(articles["louvre_a"], "2023-09-28T08:00:00Z"),
              _dated(articles["louvre_b"], "2023-09-28T20:00:00Z")]
    kyiv = [_dated(seeds[i], f"2023-09-2{8 + i // 3}T1{i}:00:00Z") for i in (0, 2, 3)]
    text = louvre[0][1].text + "\n\n" + kyiv[1][1].text          # both stories, pasted
    hostile = (FeedItem("evil", "https://evil.test/both", "", published=when,
                        feed_url="https://evil.test/rss"),
               Source(text=text, url="https://evil.test/both", site_name="Evil"))
    f_hostile = Features(*hostile)
    assert all(same_story(f_hostile, Features(*p)) for p in louvre + kyiv)   # it matches each
    groups = group_items([*louvre, hostile, *kyiv])
    as_sets = [{item.guid for item, _ in g} for g in groups]
    louvre_ids, kyiv_ids = {p[0].guid for p in louvre}, {p[0].guid for p in kyiv}
    assert not any(louvre_ids & g and kyiv_ids & g for g in as_sets)      # two stories
    assert sum("evil" in g for g in as_sets) == 1
    credited = [g for g in groups if any(s.site_name == "Evil" for _, s in g)]
    assert len(credited) == 1                                    # on one story at most


def test_a_story_is_joined_only_by_items_that_match_its_core():
    # c resembles b only (a shared figure pair), not a: single-link grouping chained it in.
    a = FeedItem("a", "https://a.test/1", "Grève au Louvre : le musée fermé",
                 "Les agents réclament 120 postes ; 30 000 visiteurs refoulés jeudi matin.")
    b = FeedItem("b", "https://b.test/2", "Le Louvre fermé par une grève des agents",
                 "Les agents réclament 120 postes et 8,9 millions d'euros de primes.")
    c = FeedItem("c", "https://c.test/3", "Primes : 8,9 millions d'euros pour 120 postes",
                 "Budget des hôpitaux de Lyon : 120 postes et 8,9 millions d'euros.")
    fa, fb, fc = (Features(i, None) for i in (a, b, c))
    assert same_story(fa, fb) and same_story(fb, fc) and not same_story(fa, fc)
    groups = group_items([(a, None), (b, None), (c, None)])
    assert [[i.guid for i, _ in g] for g in groups] == [["a", "b"], ["c"]]


def test_every_pair_of_the_same_story_shares_a_blocking_key(seeds, articles):
    pairs = seeds + list(articles.values())
    feats = [Features(*p) for p in pairs]
    compared = candidate_pairs(feats)
    matching = {(i, j) for i in range(len(feats)) for j in range(i + 1, len(feats))
                if same_story(feats[i], feats[j])}
    assert matching and matching <= compared
    keys = blocking_keys(feats)
    assert all(keys)                                   # every item can be compared


def _synthetic_batch(stories: int, per_story: int) -> list[tuple[FeedItem, None]]:
    """Invented reports: each story has its own names, terms and figures, and every report
    draws half its words from one vocabulary common to the whole batch (as news items do)."""
    rng = random.Random(7)

    def word(size: int) -> str:
        return "".join(rng.choice("abcdefghijklmnoprstuv") for _ in range(size))

    common = [word(rng.randint(5, 9)) for _ in range(400)]
    items = []
    for story in range(stories):
        names = [word(8).capitalize() for _ in range(6)]
        terms = [word(7) for _ in range(10)]
        figures = [f"{rng.randint(11, 999)},{rng.randint(1, 9)} millions d'euros",
                   f"{rng.randint(100, 900)} salariés"]
        for report in range(per_story):
            words = rng.sample(names, 5) + rng.sample(terms, 8) + rng.choices(common, k=15)
            rng.shuffle(words)
            items.append((FeedItem(f"{story}-{report}", f"https://n{report}.test/{story}",
                                   " ".join(words[:8]),
                                   " ".join(words[8:]) + " : " + ", ".join(figures),
                                   published="2024-05-02T08:00:00Z"), None))
    return items


def test_a_large_batch_compares_far_fewer_pairs_than_all_and_finds_its_stories():
    batch = _synthetic_batch(stories=150, per_story=4)
    feats = [Features(*p) for p in batch]
    everything = len(batch) * (len(batch) - 1) // 2
    assert len(candidate_pairs(feats)) < everything / 20
    groups = group_items(batch)
    stories = [{item.guid.split("-")[0] for item, _ in group} for group in groups]
    assert all(len(story) == 1 for story in stories)               # no two stories merged
    assert len(groups) == 150                                      # no story split


def test_several_items_of_one_hostile_site_count_once_in_a_core(seeds, articles):
    # Two pasted items from one site, dated first, would be two thirds of a plain core.
    louvre = [_dated(articles["louvre_a"], "2023-09-28T08:00:00Z"),
              _dated(articles["louvre_b"], "2023-09-28T20:00:00Z")]
    kyiv = [_dated(seeds[i], f"2023-09-2{8 + i // 3}T1{i}:00:00Z") for i in (0, 2, 3)]
    text = louvre[0][1].text + "\n\n" + kyiv[1][1].text
    hostile = [(FeedItem(f"evil-{n}", f"https://evil.test/{n}", "",
                         published=f"2023-09-27T0{n}:00:00Z", feed_url="https://evil.test/rss"),
                Source(text=text, url=f"https://evil.test/{n}")) for n in (1, 2)]
    groups = group_items([*hostile, *louvre, *kyiv])
    as_sets = [{item.guid for item, _ in g} for g in groups]
    assert not any({"louvre_a", "louvre_b"} & g and {p[0].guid for p in kyiv} & g
                   for g in as_sets)
