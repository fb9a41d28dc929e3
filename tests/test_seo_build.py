"""SEO builders on tricky French: accents, apostrophes, « guillemets », numbers with commas,
long proper names, titles over 60 characters, keyphrases holding stop words."""

import re

import pytest

from publisher.models import Article, Block, Section, SeoMeta, Source, Suggestions
from publisher.seo import french
from publisher.seo.build import (build_seo, build_tags, choose_category, choose_keyphrase,
                                 make_excerpt, make_slug, meta_description, meta_title,
                                 title_width_px)
from publisher.seo.tags import tag_key

LONG_TITLE = ("Jens Stoltenberg à Kiev : l’OTAN promet 2,4 milliards d’euros de munitions "
              "à l’Ukraine aujourd’hui")


FILLER = [
    "Les discussions ont porté sur le calendrier des livraisons et sur la coordination entre "
    "les capitales européennes, qui veulent éviter les retards constatés au printemps.",
    "Plusieurs diplomates rappellent que les stocks occidentaux restent limités et que la "
    "production industrielle devra augmenter nettement dans les prochains mois.",
    "Sur le terrain, les soldats attendent surtout des munitions et des pièces de rechange, "
    "indispensables pour tenir les positions pendant l’hiver.",
]


def article(title=LONG_TITLE, intro=None, sections=None, conclusion=None, filler=True,
            **hints) -> Article:
    """A draft shaped like the writer's: introduction, H2 sections, conclusion. ``filler`` adds
    neutral paragraphs to each section so densities are those of a full-length article."""
    intro = intro or [
        "Le secrétaire général de l’OTAN, Jens Stoltenberg, s’est rendu jeudi à Kiev. "
        "Il y a rencontré le président ukrainien Volodymyr Zelenskyy pour parler de la "
        "défense aérienne du pays.",
        "« Aujourd’hui, vos forces avancent », a déclaré Jens Stoltenberg devant la presse.",
    ]
    sections = sections or [
        ("Jens Stoltenberg salue l’avancée des forces ukrainiennes", [
            "Selon Jens Stoltenberg, les forces ukrainiennes gagnent du terrain. Les combats "
            "restent pourtant acharnés dans l’est du pays, où la contre-offensive se poursuit.",
        ]),
        ("La défense aérienne au cœur des discussions", [
            "Zelenskyy a demandé des systèmes de défense aérienne supplémentaires. L’OTAN a "
            "obtenu 2,4 milliards d’euros de contrats pour des munitions, dont 1 milliard "
            "d’euros de commandes fermes.",
        ]),
        ("Ce que Jens Stoltenberg promet à l’Ukraine", [
            "Jens Stoltenberg a promis un soutien durable à l’Ukraine. Les alliés de l’OTAN "
            "partagent la charge, a-t-il ajouté.",
        ]),
    ]
    conclusion = conclusion or ("Un soutien appelé à durer", [
        "La visite de Jens Stoltenberg à Kiev confirme l’engagement de l’OTAN. Les prochaines "
        "livraisons diront si les promesses sont tenues."])
    return Article(
        title=title,
        intro=tuple(Block(text=t) for t in intro),
        sections=tuple(Section(h, tuple(Block(text=t) for t in [*ps, *(FILLER if filler else [])]))
                       for h, ps in sections),
        conclusion=Section(conclusion[0], tuple(Block(text=t) for t in conclusion[1])),
        suggestions=Suggestions(**hints),
    )


# --- keyphrase ------------------------------------------------------------------------------

def test_keyphrase_suggestion_kept_when_it_passes_whatever_its_case_and_accents():
    art = article()
    assert choose_keyphrase(art, "jens STOLTENBERG") == "Jens Stoltenberg"   # article spelling


def test_keyphrase_suggestion_absent_from_text_is_replaced_by_an_extracted_one():
    art = article()
    chosen = choose_keyphrase(art, "guerre en Ukraine")
    assert chosen and chosen != "guerre en Ukraine"
    assert french.contains_phrase(art.intro[0].text, chosen)
    assert 2 <= len(chosen.split()) <= 4


def test_keyphrase_of_one_word_or_five_words_is_not_accepted():
    art = article()
    assert choose_keyphrase(art, "OTAN") != "OTAN"
    assert len(choose_keyphrase(art, "le secrétaire général de l’OTAN Jens").split()) <= 4


def test_keyphrase_extracted_from_the_article_without_suggestion():
    chosen = choose_keyphrase(article(), "")
    assert chosen == "Jens Stoltenberg"


def test_keyphrase_may_hold_stop_words_inside_and_elisions():
    art = article(
        title="Le secrétaire général de l’OTAN en visite en Ukraine",
        intro=["Le secrétaire général de l’OTAN a rencontré Zelenskyy à Kiev jeudi."],
        sections=[("Le secrétaire général de l’OTAN promet des armes", [
            "Le secrétaire général de l’OTAN a promis des munitions."]),
            ("Des contrats signés", ["Les contrats atteignent 2,4 milliards d’euros."])])
    chosen = choose_keyphrase(art, "secrétaire général de l'OTAN")   # straight apostrophe
    assert french.tokens(chosen) == french.tokens("secrétaire général de l’OTAN")
    assert chosen == "secrétaire général de l’OTAN"                  # the article's spelling


def test_keyphrase_never_starts_or_ends_with_a_stop_word():
    for phrase in ("de l’OTAN", "l’OTAN promet", "Stoltenberg à"):
        chosen = choose_keyphrase(article(), phrase)
        words = chosen.split()
        assert not french.is_stop(words[0]) and not french.is_stop(words[-1].split("’")[-1])


# --- meta title -----------------------------------------------------------------------------

def test_meta_title_of_a_long_title_fits_and_cuts_no_word():
    art = article()
    assert len(art.title) > 60
    title = meta_title(art, "Jens Stoltenberg")
    assert len(title) <= 60 and title_width_px(title) <= 600
    assert title.startswith("Jens Stoltenberg")
    words_of_original = set(art.title.split())
    assert all(w in words_of_original for w in title.split())      # no cut word
    assert not re.search(r"[\s:,;–—|-]$", title)                     # no dangling separator
    assert not french.is_stop(title.split()[-1].split("’")[-1])


def test_meta_title_brings_the_keyphrase_to_the_start():
    art = article(title="À Kiev, les forces ukrainiennes gagnent du terrain selon l’OTAN")
    title = meta_title(art, "forces ukrainiennes")
    assert title.startswith("Forces ukrainiennes")
    assert len(title) <= 60 and french.contains_phrase(title, "forces ukrainiennes")


def test_meta_title_never_repeats_the_keyphrase_head():
    art = article(title="Zelenskyy : Jens Stoltenberg promet la défense aérienne à Kiev")
    title = meta_title(art, "Jens Stoltenberg")
    assert french.phrase_count(french.tokens(title), "Jens Stoltenberg") == 1
    assert title.startswith("Jens Stoltenberg")


def test_meta_title_prefers_a_suggestion_that_fits_over_a_cut_title():
    art = article(meta_title="Jens Stoltenberg à Kiev : 2,4 milliards pour l’Ukraine")
    assert meta_title(art, "Jens Stoltenberg") == \
        "Jens Stoltenberg à Kiev : 2,4 milliards pour l’Ukraine"


def test_meta_title_width_counts_pixels_not_characters():
    wide = "MÉMOIRE MILITAIRE DE L’OTAN ET DE L’UKRAINE À WASHINGTON"   # 56 characters
    assert len(wide) <= 60 and title_width_px(wide) > 600
    art = article(title=wide, meta_title="")
    title = meta_title(art, "OTAN")
    assert title_width_px(title) <= 600


def test_title_width_table():
    assert title_width_px("iiii") < title_width_px("MMMM")
    assert title_width_px("é") == title_width_px("e")
    assert title_width_px("") == 0
    # Arial at 20 px: « a » is 556/1000 em → 11.1 px
    assert title_width_px("a") == pytest.approx(11.1, abs=0.05)


# --- meta description -----------------------------------------------------------------------

def test_meta_description_is_whole_sentences_with_the_keyphrase_in_range():
    desc = meta_description(article(), "Jens Stoltenberg")
    assert 120 <= len(desc) <= 156
    assert french.contains_phrase(desc, "Jens Stoltenberg")
    assert desc.endswith((".", "!", "?", "»"))


def test_meta_description_keeps_numbers_with_commas_whole():
    art = article(intro=["L’OTAN a obtenu 2,4 milliards d’euros de contrats pour des munitions "
                         "destinées à l’Ukraine, a annoncé Jens Stoltenberg jeudi à Kiev."])
    desc = meta_description(art, "Jens Stoltenberg")
    assert "2,4 milliards d’euros" in desc
    assert 120 <= len(desc) <= 156 and desc.endswith(".")


def test_meta_description_suggestion_used_when_it_passes():
    good = ("Jens Stoltenberg était à Kiev jeudi : l’OTAN promet 2,4 milliards d’euros de "
            "munitions et plus de défense aérienne à l’Ukraine.")
    assert 120 <= len(good) <= 156
    assert meta_description(article(), "Jens Stoltenberg", good) == good


@pytest.mark.parametrize("bad", [
    "Jens Stoltenberg à Kiev.",                                           # too short
    "Jens Stoltenberg était à Kiev jeudi pour promettre 2,4 milliards d’euros de munitions "
    "et plus de défense aérienne à l’Ukraine, qui…",                      # cut sentence
    "L’OTAN promet 2,4 milliards d’euros de munitions et davantage de défense aérienne à "
    "l’Ukraine, selon son secrétaire général jeudi.",                     # no keyphrase
])
def test_meta_description_suggestion_rejected_when_it_fails(bad):
    desc = meta_description(article(), "Jens Stoltenberg", bad)
    assert desc != bad and french.contains_phrase(desc, "Jens Stoltenberg")


# --- slug -----------------------------------------------------------------------------------

def test_slug_is_ascii_without_stop_words_and_keyphrase_first():
    slug = make_slug("Jens Stoltenberg", LONG_TITLE)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert len(slug) <= 60
    assert slug.startswith("jens-stoltenberg-")
    parts = slug.split("-")
    for stop in ("a", "l", "d", "de", "la", "le"):
        assert stop not in parts
    assert "otan" in parts and "kiev" in parts
    assert parts.count("stoltenberg") == 1


def test_slug_handles_apostrophes_accents_and_decimal_numbers():
    slug = make_slug("défense aérienne", "Aujourd’hui, l’Élysée promet 2,4 milliards d’euros")
    assert slug.startswith("defense-aerienne-")
    assert "aujourdhui" in slug.split("-")
    assert "2-4-milliards" in slug
    assert "elysee" in slug.split("-")


def test_slug_keyphrase_with_stop_words_keeps_its_content_words():
    slug = make_slug("secrétaire général de l’OTAN", "Le secrétaire général de l’OTAN à Kiev")
    assert slug == "secretaire-general-otan-kiev"


def test_slug_is_stable_and_capped():
    long_title = "Volodymyr Zelenskyy et Jens Stoltenberg évoquent Ramstein, Lloyd Austin, " \
                 "les chars Leopard 2 et la défense aérienne de l’Ukraine"
    first = make_slug("Volodymyr Zelenskyy", long_title)
    assert first == make_slug("Volodymyr Zelenskyy", long_title)
    assert len(first) <= 60 and not first.endswith("-")
    assert first.startswith("volodymyr-zelenskyy")


# --- tags -----------------------------------------------------------------------------------

def test_tags_dedupe_acronym_spellings_and_keep_people_and_places():
    art = article()
    src = Source(text="Le chef de l’Otan, Jens Stoltenberg, était à Kiev. L'OTAN soutient "
                      "l’Ukraine. Zelensky a remercié l'Otan.")
    tags = build_tags(art, [src], ("otan", "Défense aérienne"), ())
    keys = [tag_key(t) for t in tags]
    assert len(keys) == len(set(keys))
    assert 3 <= len(tags) <= 8
    assert "OTAN" in tags and "Jens Stoltenberg" in tags and "Ukraine" in tags
    assert "Kiev" in tags
    assert "Défense aérienne" in tags                     # a suggested topic present in the text
    assert not any(t.lower().startswith(("l’", "l'")) for t in tags)


def test_tags_merge_spelling_variants_and_surnames():
    art = article()
    tags = build_tags(art, [Source(text="Volodymyr Zelensky a reçu Stoltenberg. "
                                        "Le président Zelensky a parlé.")], (), ())
    zelensky = [t for t in tags if "zelensk" in t.lower()]
    assert zelensky == ["Volodymyr Zelenskyy"]
    assert "Stoltenberg" not in tags


def test_tags_prefer_the_site_spelling_and_singular_plural():
    art = article()
    tags = build_tags(art, [], ("défenses aériennes",), ["Otan", "Défense aérienne", "Sport"])
    assert "Otan" in tags and "OTAN" not in tags
    assert "Défense aérienne" in tags and "défenses aériennes" not in tags
    assert "Sport" not in tags


def test_tags_ignore_sentence_starts_and_titles():
    art = article()
    tags = build_tags(art, [], (), ())
    for word in ("Selon", "Les", "Il", "Zelenskyy a", "Secrétaire"):
        assert word not in tags


def test_tag_key_normalises():
    assert tag_key("l’OTAN") == tag_key("Otan") == tag_key("OTAN") == "otan"
    assert tag_key("défenses aériennes") == tag_key("Défense aérienne")
    assert tag_key("Jens Stoltenberg") == "jens stoltenberg"          # names keep their s
    assert tag_key("Kyiv") == tag_key("Kiev")


# --- category, excerpt, outline ---------------------------------------------------------------

def test_category_chosen_among_the_site_categories():
    cats = ["Sport", "International", "Économie"]
    assert choose_category(article(), cats, "Actualité") == "International"


def test_category_default_when_nothing_matches_or_none_given():
    assert choose_category(article(), ["Sport", "Cuisine"], "Actualité") == "Actualité"
    assert choose_category(article(), [], "Monde") == "Monde"
    assert choose_category(article(), [], "") == ""


def test_excerpt_whole_sentences_at_most_55_words():
    excerpt = make_excerpt(article())
    assert 0 < len(excerpt.split()) <= 55
    assert excerpt.endswith(".")


def test_excerpt_cuts_a_single_huge_sentence():
    huge = "Le secrétaire général " + " ".join(["de l’alliance"] * 40) + " parle."
    excerpt = make_excerpt(article(intro=[huge]))
    assert len(excerpt.split()) <= 55 and excerpt.endswith("…")


def test_build_seo_puts_it_together():
    art = article(keyphrase="Jens Stoltenberg", tags=("OTAN",))
    seo = build_seo(art, [], site_tags=["Ukraine"], categories=["International", "Sport"],
                    default_category="Actualité")
    assert isinstance(seo, SeoMeta)
    assert seo.keyphrase == "Jens Stoltenberg"
    assert seo.category == "International"
    assert seo.outline == art.outline and len(seo.outline) == 4
    assert seo == build_seo(art, [], site_tags=["Ukraine"], categories=["International", "Sport"],
                            default_category="Actualité")                  # deterministic


# --- properties -----------------------------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

FRENCH_WORDS = st.sampled_from(
    "l’OTAN aujourd’hui Jens Stoltenberg Volodymyr Zelenskyy « Kiev » 2,4 milliards d’euros de "
    "la à et : – , défense aérienne Île-de-France États-Unis MMMMMMMMMM WWW ŒUVRE contre-offensive"
    .split())


@settings(max_examples=150, deadline=None)
@given(st.lists(FRENCH_WORDS, min_size=1, max_size=30))
def test_meta_title_and_slug_invariants(words):
    title = " ".join(words)
    art = article(title=title, filler=False)
    kp = "Jens Stoltenberg"
    meta = meta_title(art, kp)
    assert len(meta) <= 60 and title_width_px(meta) <= 600
    assert not re.search(r"[\s:,;–—|-]$", meta)
    assert meta.count("«") == meta.count("»")
    slug = make_slug(kp, title)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and len(slug) <= 60
    assert slug.startswith("jens-stoltenberg")
