"""French helpers of the SEO stage: folding, sentences, transitions, passive, syllables."""

import pytest

from publisher.seo import french


def test_fold_makes_typography_case_and_accents_equal():
    assert french.fold("l’OTAN") == french.fold("L'Otan") == "l'otan"
    assert french.fold("Défense AÉRIENNE") == "defense aerienne"
    assert french.fold("Œuvre") == "oeuvre"
    assert french.fold("2\u00a0400 €") == "2 400 €"


def test_tokens_split_elisions_so_the_word_behind_is_found():
    assert french.tokens("l’OTAN") == ["l", "otan"]
    assert french.tokens("aujourd’hui, « 2,4 milliards »") == ["aujourd", "hui", "2", "4",
                                                               "milliards"]
    assert french.contains_phrase("Le soutien de l’OTAN à l’Ukraine", "OTAN")
    assert french.contains_phrase("Le soutien de l’OTAN à l’Ukraine", "otan a l'ukraine")
    assert not french.contains_phrase("Les Otaniens", "OTAN")       # whole words only


def test_phrase_count_counts_whole_runs():
    toks = french.tokens("Jens Stoltenberg, puis Stoltenberg et encore Jens Stoltenberg.")
    assert french.phrase_count(toks, "Jens Stoltenberg") == 2
    assert french.phrase_count(toks, "Stoltenberg") == 3


def test_content_words_drop_stop_words_but_keep_something():
    assert french.content_words("secrétaire général de l’OTAN") == ["secretaire", "general",
                                                                     "otan"]
    assert french.content_words("de la") == ["la"]


def test_sentences_respect_quotes_abbreviations_and_initials():
    text = ("S’exprimant à Kiev, Stoltenberg a déclaré : « Aujourd’hui, vos forces avancent. » "
            "Cette visite intervient jeudi. M. Zelensky a répondu. J. Stoltenberg aussi ! "
            "2,4 milliards d’euros sont engagés.")
    assert french.split_sentences(text) == [
        "S’exprimant à Kiev, Stoltenberg a déclaré : « Aujourd’hui, vos forces avancent. »",
        "Cette visite intervient jeudi.",
        "M. Zelensky a répondu.",
        "J. Stoltenberg aussi !",
        "2,4 milliards d’euros sont engagés.",
    ]


def test_sentences_keep_the_original_apostrophes():
    assert french.split_sentences("L’OTAN promet. C’est dit.") == ["L’OTAN promet.", "C’est dit."]


@pytest.mark.parametrize("sentence,expected", [
    ("Par ailleurs, Grant Shapps a rencontré Zelensky.", True),
    ("En effet, les forces avancent.", True),
    ("Les forces avancent, mais lentement.", True),
    ("C’est pourquoi l’OTAN insiste.", True),
    ("Les forces ukrainiennes avancent vers le sud.", False),
    ("Il a parlé d’armes lourdes.", False),
])
def test_transition_words(sentence, expected):
    assert french.has_transition(sentence) is expected


@pytest.mark.parametrize("sentence,expected", [
    ("L’attaque a été menée avec l’aide des agences américaines.", True),
    ("Les contrats sont signés par l’OTAN.", True),
    ("Une attaque contre un membre est considérée comme une attaque contre tous.", True),
    ("Les armes seront livrées avant l’hiver.", True),
    ("La capitale a été prise par surprise.", True),
    ("Je suis retourné à Kiev cette semaine.", False),      # « être » verb, active
    ("Il s’est rendu à Kiev jeudi.", False),                  # pronominal
    ("La paix est importante pour tous.", False),            # adjective
    ("Cet été, il est allé à Kiev.", False),                  # « été » the season
    ("Zelensky est désolé de ce retard.", False),             # adjective in -é
])
def test_passive_voice(sentence, expected):
    assert french.is_passive(sentence) is expected


@pytest.mark.parametrize("word,count", [
    ("Kiev", 2), ("OTAN", 2), ("président", 3), ("avancent", 2), ("gagnent", 2),
    ("aujourd’hui", 3), ("aérienne", 3), ("progressivement", 5), ("réalité", 4),
    ("poète", 2), ("2,4", 2), ("1", 1), ("milliards", 2),
])
def test_syllables(word, count):
    assert french.syllables(word) == count


def test_flesch_uses_kandel_and_moles_formula():
    # 2 sentences, 8 words, syllables: Le(1) chat(1) dort(1). La(1) maison(2) est(1) très(1)
    # grande(1) = 9 → 207 − 1.015 × 4 − 73.6 × 9/8 = 120.14
    score = french.flesch_reading_ease(["Le chat dort.", "La maison est très grande."])
    assert score == pytest.approx(207 - 1.015 * 4 - 73.6 * 9 / 8, abs=0.05)
    assert french.flesch_reading_ease([]) == 0.0
