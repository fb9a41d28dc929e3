"""Structure: H2 count, empty and over-long sections, repetitions (found and removed)."""

from publisher.models import Article, Block, Section
from publisher.quality.length import article_words
from publisher.quality.structure import check_structure, remove_repetitions


def words(n: int, word: str = "mot") -> str:
    return " ".join(f"{word}{i}" for i in range(n))


def section(heading: str, *texts: str, level: int = 2) -> Section:
    return Section(heading, tuple(Block(text=t) for t in texts), level)


def good_article(*extra: Section) -> Article:
    return Article("Titre", (Block(text="Une introduction assez courte ici."),),
                   (section("Premier point", words(120, "a")),
                    section("Deuxième point", words(120, "b")), *extra),
                   section("Conclusion", words(60, "c")))


def codes(article: Article) -> list[str]:
    return [issue.code for issue in check_structure(article)]


def test_a_well_built_article_has_no_issue():
    assert check_structure(good_article()) == []


def test_fewer_than_three_h2_counting_the_conclusion():
    article = Article("Titre", (), (section("Seul point", words(50, "a")),
                                    section("Un détail", words(50, "b"), level=3)),
                      section("Conclusion", words(20, "c")))
    issues = check_structure(article)
    assert [i.code for i in issues] == ["few_h2"]
    assert "2 intertitre(s)" in issues[0].message


def test_empty_section_but_not_an_h2_introducing_h3():
    article = good_article(section("Vide"), section("Parent"),
                           section("Enfant", words(30, "d"), level=3))
    issues = check_structure(article)
    assert [(i.code, i.heading) for i in issues] == [("empty_section", "Vide")]


def test_section_over_300_words_is_reported_with_its_count():
    issues = check_structure(good_article(section("Trop long", words(301, "e"))))
    assert [i.code for i in issues] == ["long_section"]
    assert "301 mots" in issues[0].message
    assert check_structure(good_article(section("Juste", words(300, "e")))) == []


def test_duplicate_heading_ignores_case_accents_and_punctuation():
    assert codes(good_article(section("DEUXIEME POINT !", words(20, "f")))) == \
        ["duplicate_heading"]


def test_duplicate_paragraph_across_sections_despite_typography():
    text = "L’OTAN a obtenu 2,4 milliards d’euros de contrats."
    copy = "L'OTAN  a obtenu 2,4\u00a0milliards d'euros de <strong>contrats</strong>."
    assert codes(good_article(section("Autre", text), section("Encore", copy))) == \
        ["duplicate_paragraph"]


def test_short_repeated_lines_are_not_duplicates():
    assert codes(good_article(section("Autre", "Lire aussi"), section("Encore", "Lire aussi"))) \
        == []


def test_remove_repetitions_drops_later_copies_and_emptied_sections():
    text = "Un paragraphe qui a déjà été lu plus haut."
    article = good_article(section("Autre", text, words(20, "g")), section("Écho", text),
                           section("Vide"))
    fixed, done = remove_repetitions(article)
    assert [s.heading for s in fixed.sections] == ["Premier point", "Deuxième point", "Autre"]
    assert done == ["1 paragraphe(s) répété(s) supprimé(s)", "Section vide « Écho » supprimée",
                    "Section vide « Vide » supprimée"]
    assert article_words(fixed) < article_words(article)
    assert check_structure(fixed) == []


def test_remove_repetitions_leaves_a_clean_article_untouched():
    article = good_article()
    assert remove_repetitions(article) == (article, [])
