"""Language per paragraph: the neighbours of French that share its stop words (Italian,
Portuguese, Catalan, Dutch, Romanian) are told apart, a foreign paragraph in a French article
is named, and a translation that leaves English paragraphs does not pass silently.

Real openai client against the scripted local server for the repair calls."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from publisher.errors import QualityError
from publisher.models import Brief
from publisher.quality.gate import run_gate
from publisher.quality.language import (detect_language, foreign_paragraphs, french_share,
                                        quick_language)
from publisher.writer.llm import LLM
from publisher.writer.write import article_from_json
from tests.support.fakellm import Reply, scripted_article, settings_for
from tests.test_quality_gate import (BRIEF, ENGLISH, GOOD, NATO, POOL, article_json, section,
                                     sources, take)

ROOT = Path(__file__).parent.parent
SEEDS = sorted((ROOT / "tests" / "fixtures" / "seeds").glob("*.txt"))
EXAMPLES = sorted((ROOT / "examples").glob("*.txt"))

# The same news (Stoltenberg in Kyiv, 2.4 billion euros of ammunition contracts) as an
# Italian, Portuguese, Catalan, Dutch or Romanian wire would write it.
FOREIGN = {
    "it": ["Il segretario generale della NATO, Jens Stoltenberg, ha dichiarato giovedì che le "
           "forze ucraine stanno guadagnando terreno in modo graduale nella loro "
           "controffensiva, durante una visita a sorpresa a Kiev.",
           "Ha inoltre annunciato che l'Alleanza ha firmato contratti per un valore di 2,4 "
           "miliardi di euro per munizioni destinate all'Ucraina e agli alleati.",
           "Secondo Stoltenberg, gli alleati devono continuare a sostenere Kiev per tutto il "
           "tempo necessario, perché la guerra non finirà presto.",
           "Il presidente ucraino ha ringraziato i partner per il loro aiuto e ha chiesto "
           "nuovi sistemi di difesa aerea prima dell'inverno."],
    "pt": ["O secretário-geral da NATO, Jens Stoltenberg, afirmou na quinta-feira que as "
           "forças ucranianas estão a ganhar terreno de forma gradual na sua contraofensiva, "
           "durante uma visita surpresa a Kiev.",
           "Anunciou também que a Aliança assinou contratos no valor de 2,4 mil milhões de "
           "euros para munições destinadas à Ucrânia e aos aliados.",
           "Segundo Stoltenberg, os aliados devem continuar a apoiar Kiev durante o tempo que "
           "for necessário, porque a guerra não vai acabar em breve.",
           "O presidente ucraniano agradeceu aos parceiros pela sua ajuda e pediu novos "
           "sistemas de defesa aérea antes do inverno."],
    "ca": ["El secretari general de l'OTAN, Jens Stoltenberg, va afirmar dijous que les "
           "forces ucraïneses estan guanyant terreny de manera gradual en la seva "
           "contraofensiva, durant una visita sorpresa a Kíiv.",
           "També va anunciar que l'Aliança ha signat contractes per valor de 2.400 milions "
           "d'euros per a munició destinada a Ucraïna i als aliats.",
           "Segons Stoltenberg, els aliats han de continuar donant suport a Kíiv tant de temps "
           "com calgui, perquè la guerra no s'acabarà aviat.",
           "El president ucraïnès va agrair als socis la seva ajuda i va demanar nous sistemes "
           "de defensa antiaèria abans de l'hivern."],
    "nl": ["De secretaris-generaal van de NAVO, Jens Stoltenberg, zei donderdag tijdens een "
           "verrassingsbezoek aan Kiev dat de Oekraïense strijdkrachten geleidelijk terrein "
           "winnen in hun tegenoffensief.",
           "Hij kondigde ook aan dat het bondgenootschap contracten ter waarde van 2,4 miljard "
           "euro heeft getekend voor munitie voor Oekraïne en de bondgenoten.",
           "Volgens Stoltenberg moeten de bondgenoten Kiev zo lang als nodig blijven steunen, "
           "omdat de oorlog niet snel voorbij zal zijn.",
           "De Oekraïense president bedankte de partners voor hun hulp en vroeg om nieuwe "
           "luchtverdedigingssystemen voor de winter."],
    "ro": ["Secretarul general al NATO, Jens Stoltenberg, a declarat joi, în timpul unei "
           "vizite surpriză la Kiev, că forțele ucrainene câștigă treptat teren în "
           "contraofensiva lor.",
           "El a anunțat, de asemenea, că Alianța a semnat contracte în valoare de 2,4 "
           "miliarde de euro pentru muniții destinate Ucrainei și aliaților.",
           "Potrivit lui Stoltenberg, aliații trebuie să sprijine Kievul atât timp cât va fi "
           "nevoie, pentru că războiul nu se va termina curând.",
           "Președintele ucrainean le-a mulțumit partenerilor pentru ajutor și a cerut noi "
           "sisteme de apărare aeriană înainte de iarnă."],
}


def foreign_article(lang: str) -> dict:
    paragraphs = FOREIGN[lang]
    return {"title": "Stoltenberg a Kiev", "introduction": paragraphs[:1],
            "sections": [section(f"Parte {i}", [p]) for i, p in enumerate(paragraphs[1:3], 1)],
            "conclusion": {"heading": "Conclusione", "paragraphs": paragraphs[3:]},
            "keyphrase": "", "meta_title": "", "meta_description": "", "tags": []}


@pytest.mark.parametrize("lang", sorted(FOREIGN))
def test_neighbours_of_french_are_not_french(lang):
    article = article_from_json(foreign_article(lang))
    _, report = run_gate(article, sources(*NATO), Brief(min_words=60), None)
    assert "not_french" in report.blocking
    assert next(c for c in report.checks if c.id == "language_fr").status == "bad"
    assert {p.lang for p in foreign_paragraphs(article)} == {lang}
    assert detect_language(" ".join(FOREIGN[lang])) == lang
    assert french_share(article) == 0.0
    with pytest.raises(QualityError) as err:
        run_gate(article, sources(*NATO), Brief(min_words=60), None, strict=True)
    assert err.value.reason == "not_french"


@pytest.mark.parametrize("lang", sorted(FOREIGN))
def test_one_foreign_paragraph_in_a_french_article_is_named(lang):
    data = article_json(take(POOL, 760))
    data["sections"][2]["paragraphs"].insert(1, FOREIGN[lang][0])
    _, report = run_gate(article_from_json(data), sources(*NATO), BRIEF, None)
    excerpt = " ".join(FOREIGN[lang][0].split()[:10])
    assert (f"Paragraphe qui n'est pas en français : « {excerpt} … » ({lang}, dans "
            f"« {data['sections'][2]['heading']} »)") in report.warnings
    assert report.blocking == ("not_french",)
    language_fr = next(c for c in report.checks if c.id == "language_fr")
    assert language_fr.status == "bad" and "1 paragraphe(s)" in language_fr.detail


def _paragraphs(path: Path) -> list[str]:
    """The source's paragraphs as publisher reads it (web junk cleaned away)."""
    from publisher.sources.load import load_source
    text = load_source(str(path))[0].text
    return [p for p in re.split(r"\n+", text) if len(p.split()) >= 12]


@pytest.mark.parametrize("path", SEEDS + EXAMPLES, ids=lambda p: p.stem[:12])
def test_french_news_paragraphs_are_settled_by_stop_words(path):
    """Real French paragraphs never need the statistical model (its load costs ~0.7 s of
    CPU): the stop words decide, and decide French."""
    french = [p for p in _paragraphs(path) if detect_language(p) == "fr"]
    assert french
    assert [p for p in french if quick_language(p) != "fr"] == []


def test_scripted_french_articles_are_settled_by_stop_words():
    for seed in SEEDS:
        article = article_from_json(scripted_article(seed.read_text("utf-8"), 800))
        blocks = [b.visible_text for s in article.all_sections for b in s.blocks]
        judged = [t for t in blocks if len(t.split()) >= 12]
        assert judged and all(quick_language(t) == "fr" for t in judged)


def test_stop_words_never_call_a_neighbour_french():
    """Where the stop words decide alone, they agree with py3langid."""
    from publisher.quality.language import identify
    for lang, paragraphs in FOREIGN.items():
        for text in paragraphs:
            assert quick_language(text) in (lang, None)
            assert identify(text) == lang


@pytest.fixture
def llm(fake_llm):
    return LLM(settings_for(fake_llm, llm_retries=0))


ENGLISH_LEFT = [
    "Stoltenberg said the alliance would keep supporting Ukraine for as long as it takes, "
    "and that the allies had already agreed on new contracts for ammunition.",
    "He also warned that the coming winter would be difficult, because Russia keeps striking "
    "the power plants and the energy network of the country.",
]


def test_english_paragraphs_left_by_the_translation_are_flagged(fake_llm, llm):
    translated = article_json(take(POOL, 760))
    translated["sections"][0]["paragraphs"].append(ENGLISH_LEFT[0])
    translated["sections"][3]["paragraphs"].insert(0, ENGLISH_LEFT[1])
    fake_llm.script(Reply(json=translated))

    fixed, report = run_gate(article_from_json(ENGLISH), sources(*NATO), BRIEF, llm)

    assert fake_llm.purposes() == ["translate"]
    assert "Article réécrit en français (langue détectée : en → fr)" in report.repairs
    named = [w for w in report.warnings if w.startswith("Paragraphe qui n'est pas en français")]
    assert len(named) == 2
    assert "« Stoltenberg said the alliance would keep supporting Ukraine" in named[0]
    assert "(en, dans « La visite surprise de Stoltenberg »)" in named[0]
    assert f"(en, dans « {translated['sections'][3]['heading']} »)" in named[1]
    assert report.blocking == ("not_french",)
    assert next(c for c in report.checks if c.id == "language_fr").status == "bad"


def test_a_translation_that_is_no_more_french_is_discarded(fake_llm, llm):
    english = article_from_json(ENGLISH)
    fake_llm.script(Reply(json=ENGLISH))            # the model "translates" into English
    fixed, report = run_gate(english, sources(*NATO), BRIEF, llm)
    assert fake_llm.purposes() == ["translate"]
    assert fixed == english
    assert ("Réécriture en français écartée : elle ne rendait pas le texte plus français "
            "(0% → 0% des mots)") in report.repairs
    assert set(report.blocking) == {"under_half_length", "not_french"}
    assert report.llm_calls == 1


def test_a_translation_that_raises_the_french_share_is_kept_even_if_not_whole(fake_llm, llm):
    half = {**ENGLISH, "sections": [section("La visite", [GOOD["introduction"][0]]),
                                    *ENGLISH["sections"][1:]]}
    fake_llm.script(Reply(json=half))
    fixed, report = run_gate(article_from_json(ENGLISH), sources(*NATO), BRIEF, llm)
    assert french_share(fixed) > french_share(article_from_json(ENGLISH)) == 0.0
    assert fixed.sections[0].heading == "La visite"
    assert "not_french" in report.blocking
    assert sum(w.startswith("Paragraphe qui n'est pas en français") for w in report.warnings) \
        == len(foreign_paragraphs(fixed)) >= 2


def test_only_the_foreign_paragraphs_of_a_french_article_are_sent_to_translate(fake_llm, llm):
    data = article_json(take(POOL, 760))
    data["sections"][0]["paragraphs"].insert(1, FOREIGN["it"][1])
    data["sections"][2]["paragraphs"].append(ENGLISH_LEFT[0])
    article = article_from_json(data)
    french = ["L’OTAN a signé pour 2,4 milliards d’euros de contrats de munitions destinées à "
              "l’Ukraine et aux alliés, a annoncé Jens Stoltenberg lors de sa visite à Kiev.",
              "Jens Stoltenberg a assuré que les alliés soutiendraient l’Ukraine aussi "
              "longtemps que nécessaire, et que de nouveaux contrats avaient été signés."]
    fake_llm.script(Reply(json={"sections": [section("Passage 1", [french[0]]),
                                             section("Passage 2", [french[1]])]}))
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)

    assert fake_llm.purposes() == ["translate"]
    sent = re.search(r"<<<ARTICLE>>>\n(.*?)\n<<<FIN ARTICLE>>>", fake_llm.requests[0].prompt,
                     re.S).group(1)
    assert [s["paragraphs"] for s in json.loads(sent)["sections"]] == \
        [[FOREIGN["it"][1]], [ENGLISH_LEFT[0]]]
    assert fixed.sections[0].blocks[1].text == french[0]
    assert fixed.sections[2].blocks[-1].text == french[1]
    assert "Paragraphes traduits en français : 2 sur 2" in report.repairs
    assert report.blocking == () and foreign_paragraphs(fixed) == []
    # The answer is two paragraphs, not an article.
    assert report.usage[0].output_tokens < 200


def test_a_passage_translation_that_changes_nothing_is_discarded(fake_llm, llm):
    data = article_json(take(POOL, 760))
    data["sections"][1]["paragraphs"].append(FOREIGN["pt"][0])
    article = article_from_json(data)
    fake_llm.script(Reply(json={"sections": [section("Passage 1", [FOREIGN["pt"][0]])]}))
    fixed, report = run_gate(article, sources(*NATO), BRIEF, llm)
    assert fixed == article
    assert any(r.startswith("Réécriture en français écartée") for r in report.repairs)
    assert report.blocking == ("not_french",)
