"""French language helpers for the SEO stage: folding, tokens, stop words, sentences,
transition words, passive voice and syllables.

Everything here is a deterministic approximation tuned on news French; each helper says what it
gets wrong. The word lists are ours (written for this project), modelled on the categories Yoast
SEO supports for French (function words, transition words, periphrastic passive).

Folding, tokens and sentences are defined once in ``publisher/words.py``; the article's own
texts are measured once per version in ``publisher/measure.py``. The helpers here answer
questions about words and short phrases (a keyphrase candidate, a tag, one sentence) that the
SEO stage asks at every pass, so the costly ones keep a bounded memo keyed by that string
(``functools.lru_cache``: thread-safe, the same answer as computing afresh). Those that return
lists hand out a new list each time, so a caller may change it freely.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .. import words as _words
from ..words import normalize_spaces, visible

# --- folding and tokens: defined in publisher/words.py, asked again here of short strings ---

# Bounded memos of questions about words and short phrases (a keyphrase candidate, a tag, a
# sentence) asked at every pass over an article.
_TEXTS = 4096
_WORDS = 16384
_TOKEN = _words._TOKEN

fold = _words.fold
token_tuple = _words.tokens                 # shared, immutable tuples (no copy: for hot loops)
sentence_tuple = _words.sentences


def tokens(text: str) -> list[str]:
    """``token_tuple(text)`` as a new list a caller may change."""
    return list(token_tuple(text))


def phrase_count(text_tokens: list[str], phrase: str) -> int:
    """How many times ``phrase`` occurs as a run of whole tokens in ``text_tokens``."""
    wanted = token_tuple(phrase)
    n = len(wanted)
    if not n:
        return 0
    first, last = wanted[0], len(text_tokens) - n
    count, i = 0, -1
    while True:                          # only where the first token matches: list.index is C
        try:
            i = text_tokens.index(first, i + 1, last + 1)
        except ValueError:
            return count
        count += n == 1 or tuple(text_tokens[i + 1:i + n]) == wanted[1:]


def contains_phrase(text: str, phrase: str) -> bool:
    """``phrase`` appears verbatim in ``text``, case, accents and apostrophes aside."""
    return phrase_count(token_tuple(text), phrase) > 0


# --- stop words -----------------------------------------------------------------------------

# Folded forms. Articles, prepositions, pronouns, conjunctions, auxiliaries and the most common
# adverbs and verbs of reporting: words a keyphrase must not start or end with, that a slug drops.
STOP_WORDS = frozenset("""
a à afin ai aie aient aies ait alors as au aucun aucune aupres auquel aura aurai auraient
aurais aurait aurez auriez aurions aurons auront aussi autre autres aux auxquelles auxquels
avaient avais avait avant avec avez aviez avions avoir avons ayant c ca car ce ceci cela celle
celles celui cependant certain certaine certaines certains ces cet cette ceux chaque chez ci
comme comment contre d dans de depuis des desquelles desquels dessous dessus deux donc dont du
duquel durant elle elles en encore entre es est et etaient etais etait etant ete etes etiez
etions etre eu eue eues eurent eus eut eux fait faire fais faisait font fut furent ici il ils
j je jusqu jusque l la laquelle le lequel les lesquelles lesquels leur leurs lors lorsqu
lorsque lui m ma mais me meme memes mes moi moins mon n ne ni non nos notre nous on ont ou ou
par parce pas pendant peu peut peuvent plus plusieurs pour pourquoi pres puis puisqu puisque
qu quand que quel quelle quelles quels qui quoi s sa sans se selon sera serai seraient serais
serait seront ses si sien sienne soi soient sois soit sommes son sont sous suis sur t ta te
tes toi ton tous tout toute toutes tres tu un une unes uns vers via voici voila vos votre
vous y ainsi apres deja toujours egalement notamment tandis jamais rien
dit dire declare a-t-il selon-lui
""".split())

ELISIONS = frozenset("l d j m n s t c qu jusqu lorsqu puisqu quoiqu presqu quelqu".split())


@lru_cache(maxsize=_WORDS)
def is_stop(word: str) -> bool:
    return fold(word).strip("'") in STOP_WORDS


def content_words(phrase: str) -> list[str]:
    """The phrase's folded tokens that are not stop words (at least the last token)."""
    return list(_content_words(phrase))


@lru_cache(maxsize=_WORDS)
def _content_words(phrase: str) -> tuple[str, ...]:
    toks = token_tuple(phrase)
    kept = tuple(t for t in toks if t not in STOP_WORDS)
    return kept or toks[-1:]


# --- sentences ------------------------------------------------------------------------------

def split_sentences(text: str) -> list[str]:
    """``words.sentences(text)`` as a new list a caller may change."""
    return list(sentence_tuple(text))


# --- transition words -----------------------------------------------------------------------

# Connectors of cause, consequence, opposition, addition, time and illustration (folded).
TRANSITIONS = tuple(sorted({fold(t) for t in """
ainsi|alors|aussi|car|cependant|certes|donc|desormais|egalement|enfin|ensuite|finalement|
lorsque|mais|malgre|neanmoins|notamment|pourtant|plutot|puis|puisque|quoique|sinon|toutefois|
d'abord|d'ailleurs|d'apres|davantage|effectivement|entre-temps|premierement|deuxiemement|
a cause de|a ce jour|a ce sujet|a cet egard|a l'inverse|a l'instar de|a mesure que|
a nouveau|a partir de|a savoir|afin de|afin que|ainsi que|alors que|apres cela|apres que|
apres tout|au contraire|au final|au lieu de|au moment ou|au total|aussitot que|autrement dit|
avant que|avant tout|bien que|c'est pourquoi|c'est-a-dire|cela dit|compte tenu|
comme le souligne|contrairement a|d'autant plus|d'autre part|d'un cote|dans ce cadre|
dans ce cas|dans ce contexte|dans l'ensemble|dans le cadre de|de ce fait|de meme|de plus|
de son cote|de leur cote|de sorte que|depuis que|des lors|des que|du fait que|du reste|
en bref|en cas de|en ce qui concerne|en conclusion|en consequence|en definitive|en depit de|
en effet|en fait|en outre|en particulier|en plus|en raison de|en realite|en resume|
en revanche|en somme|en attendant|entre autres|etant donne que|face a|grace a|jusqu'ici|
jusqu'a present|malgre tout|meme si|or|ou bien|par ailleurs|par consequent|par contre|
par exemple|par la suite|parce que|pendant que|plus tard|pour autant|pour cette raison|
pour l'instant|pour le moment|pour que|pourvu que|quant a|sans doute|selon|si bien que|
tandis que|tant que|tout d'abord|toutefois|une fois|vu que|a son tour|au-dela|
dans le meme temps|en meme temps|a terme|a l'heure actuelle|d'ores et deja|de fait
""".replace("\n", "").split("|") if t.strip()}))
_TRANSITION_TOKENS = tuple(tuple(_TOKEN.findall(t)) for t in TRANSITIONS)
# The transitions by their first token: a sentence is scanned once, not once per transition.
_TRANSITIONS_BY_FIRST: dict[str, tuple[tuple[str, ...], ...]] = {}
for _wanted in _TRANSITION_TOKENS:
    _TRANSITIONS_BY_FIRST[_wanted[0]] = (*_TRANSITIONS_BY_FIRST.get(_wanted[0], ()), _wanted)


@lru_cache(maxsize=_TEXTS)
def has_transition(sentence: str) -> bool:
    toks = token_tuple(sentence)
    for i, tok in enumerate(toks):
        for wanted in _TRANSITIONS_BY_FIRST.get(tok, ()):
            if toks[i:i + len(wanted)] == wanted:
                return True
    return False


# --- passive voice --------------------------------------------------------------------------

_ETRE = frozenset(fold(w) for w in """suis es est sommes êtes sont étais était étions étiez
étaient fus fut fûmes fûtes furent serai seras sera serons serez seront serais serait serions
seriez seraient sois soit soyons soyez soient fusse fût été être étant""".split())
# Adverbs that may sit between the auxiliary and the participle.
_BETWEEN = frozenset(fold(w) for w in """pas plus jamais très déjà bien souvent ainsi également
toujours aussi encore finalement ensuite longtemps rapidement largement notamment désormais
aujourd hui officiellement peu mal d'abord entièrement totalement partiellement""".split())
# Participles conjugated with être in the active voice, and adjectives that look like one.
_ACTIVE_WITH_ETRE = frozenset(fold(w) for w in """allé venu arrivé parti entré sorti monté
descendu né mort resté tombé retourné devenu revenu rentré décédé intervenu parvenu survenu
apparu demeuré passé reparti âgé désolé doué aisé censé osé zélé""".split())
_IRREGULAR = frozenset(fold(w) for w in """fait dit pris mis écrit construit produit conduit
détruit atteint craint peint joint ouvert offert couvert découvert soumis admis permis promis
compris repris transmis élu vu lu connu reconnu soutenu obtenu retenu détenu maintenu tenu
convaincu vaincu battu perdu rendu vendu attendu entendu défendu suspendu interrompu voulu
reçu perçu conçu fini choisi saisi établi réuni trahi puni envahi accueilli""".split())
@lru_cache(maxsize=_TEXTS)
def is_passive(sentence: str) -> bool:
    """Periphrastic passive: a form of « être » followed (adverbs allowed) by a past participle
    (« a été menée », « sont soutenus par »). Pronominal forms (« s’est rendu ») and verbs that
    take « être » in the active (« est arrivé ») are not passive."""
    words = re.findall(r"[^\W_]+(?:'[^\W_]+)?", normalize_spaces(visible(sentence)))
    for i, word in enumerate(words):
        if fold(word) not in _ETRE or _pronominal(words, i):
            continue
        j = i + 1
        while j < len(words) and fold(words[j]) in _BETWEEN:
            j += 1
        if j < len(words) and _looks_participle(words[j]):
            return True
    return False


def _looks_participle(word: str) -> bool:
    folded = fold(word)
    base = re.sub(r"(es|e|s)$", "", folded)
    if folded in _ACTIVE_WITH_ETRE or base in _ACTIVE_WITH_ETRE:
        return False
    if folded in _IRREGULAR or base in _IRREGULAR:
        return True
    return bool(re.search(r"[^\W\d_]{2,}é(e|s|es)?$", word.lower()))


def _pronominal(words: list[str], i: int) -> bool:
    before = fold(words[i - 1]) if i else ""
    return before in ("se", "me", "te", "nous", "vous") or before.startswith(("s'", "m'", "t'"))


# --- syllables ------------------------------------------------------------------------------

_VOWEL_GROUP = re.compile(r"[aeiouyàâäéèêëîïôöùûüÿœæ]+")
_SILENT_END = re.compile(r"[^aeiouyéèêëîïôöùûü](e|es)$")
_VERB_ENT = re.compile(r"[^aeiouy]ent$")
_HIATUS = re.compile(r"[éè](?=[aeiouyàâéèêîôû])|[aoe](?=[éè])|i(?=ev)")
_PRONOUNCED_ENT = re.compile(r"(ment|ient|dent|gent|[^n]cent|lent|rent|vent|tent|nent)$")


@lru_cache(maxsize=_WORDS)
def syllables(word: str) -> int:
    """Spoken syllables of one French word, approximately: vowel groups, minus a mute final
    « e »/« es », minus the mute « -ent » of third-person plural verbs when the ending is not a
    common noun/adjective one (« président », « souvent » keep it). Digits count as one
    syllable per group. Errs by ±1 on some words; the Flesch score averages that out."""
    low = normalize_spaces(word).lower()
    if not re.search(r"[^\W\d_]", low):
        return max(1, len(re.findall(r"\d+", low)))
    count = 0
    for part in re.findall(r"[^\W\d_]+", low):
        groups = len(_VOWEL_GROUP.findall(part))
        if len(part) > 3 and groups > 1 and _SILENT_END.search(part):
            groups -= 1
        elif groups > 1 and _VERB_ENT.search(part) and not _PRONOUNCED_ENT.search(part):
            groups -= 1
        groups += len(_HIATUS.findall(part))
        count += max(1, groups)
    return count


def flesch_reading_ease(text_sentences: list[str]) -> float:
    """Kandel & Moles (1958) adaptation of Flesch for French, as Yoast SEO computes it:
    207 − 1.015 × words/sentence − 73.6 × syllables/word."""
    stats = [_sentence_stats(s) for s in text_sentences]
    words = sum(n for n, _ in stats)
    if not words or not text_sentences:
        return 0.0
    sylls = sum(n for _, n in stats)
    score = 207 - 1.015 * words / len(text_sentences) - 73.6 * sylls / words
    return round(score, 1)


_FLESCH_WORD = _words._WORD        # a word as everywhere else: letters or digits between spaces


@lru_cache(maxsize=_TEXTS)
def _sentence_stats(sentence: str) -> tuple[int, int]:
    """(words, syllables) of one sentence, as the Flesch score counts them."""
    words = _FLESCH_WORD.findall(sentence)
    return len(words), sum(syllables(w) for w in words)
