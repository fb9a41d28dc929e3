"""The editor's brief: a writing instruction pasted above the article.

Seeds 000 and 001 start with one ("Make this article seo compatible, … at least 700 words").
It is not article text, so it is split off before cleaning and never reaches the writer as
source material.

What a brief can change, and only this:

- **length**: a word count ("700 words", "900 mots"), clamped to 300–3000 so a typo (70000)
  or a trick (10) can't blow the budget or make a stub;
- **tone**: one word from ``TONES`` (French or English), mapped to its French name;
- **language**: the language asked ("be in french" → ``fr``). The product writes French
  whatever is asked; the writer and the report decide what to do with another code.

Everything else in the line ("publish it", "ignore the rules", "output markdown", "add a
script") is deliberately *not* parsed. A brief comes from pasted text, i.e. from whoever wrote
the page, so it is untrusted: it may shape the article, never the output format, the quality
rules or the post status. The raw line is kept in ``Brief.instruction`` for the report only;
the writer should build its prompt from the parsed fields, not from that string.
"""

from __future__ import annotations

import re
import unicodedata

from ..models import Brief

MIN_WORDS_FLOOR = 300
MIN_WORDS_CEILING = 3000

# Imperative openings of a writing instruction, English and French (accents stripped).
_VERBS = (
    "make", "write", "rewrite", "re-write", "create", "generate", "turn", "transform", "produce",
    "convert", "optimize", "optimise", "expand", "summarize", "summarise", "translate", "please",
    "ecris", "ecrivez", "reecris", "reecrivez", "redige", "redigez", "fais", "faites",
    "transforme", "transformez", "reformule", "reformulez", "cree", "creez", "genere",
    "generez", "produis", "produisez", "optimise", "optimisez", "traduis", "traduisez",
    "peux-tu", "pouvez-vous", "merci de", "stp", "svp",
)
_OPENING = re.compile(r"^(?:%s)\b" % "|".join(re.escape(v) for v in _VERBS))
# …and what such an instruction talks about. Both are needed, so a lead that happens to start
# with "Fais" or "Make" is not mistaken for a brief.
_TOPIC = re.compile(
    r"\b(?:article|texte|text|seo|words?|mots?|subheadings?|headings?|sous-titres?|intertitres?"
    r"|tone|ton|style|french|francais|english|anglais|language|langue|h2)\b")

_WORDS = re.compile(r"(\d{1,6}(?:[\s.,\u202f\xa0]\d{3})?)\s*(?:words?|mots?)\b")

# Tone words an editor may ask for, mapped to the French name the writer understands.
TONES = {
    "neutre": "neutre", "neutral": "neutre",
    "formel": "formel", "formelle": "formel", "formal": "formel",
    "informatif": "informatif", "informative": "informatif",
    "journalistique": "journalistique", "journalistic": "journalistique",
    "pedagogique": "pédagogique", "educational": "pédagogique", "didactique": "pédagogique",
    "dynamique": "dynamique", "engaging": "dynamique", "lively": "dynamique",
    "analytique": "analytique", "analytical": "analytique",
    "accessible": "accessible",
    "serieux": "sérieux", "serious": "sérieux",
    "sobre": "sobre", "factuel": "factuel", "factual": "factuel",
    "professionnel": "professionnel", "professional": "professionnel",
    "conversationnel": "conversationnel", "conversational": "conversationnel",
}

# "be in french", "en anglais", "in English" … → ISO 639-1 code.
LANGUAGES = {
    "french": "fr", "francais": "fr", "english": "en", "anglais": "en",
    "spanish": "es", "espagnol": "es", "german": "de", "allemand": "de",
    "italian": "it", "italien": "it", "portuguese": "pt", "portugais": "pt",
    "dutch": "nl", "neerlandais": "nl", "arabic": "ar", "arabe": "ar",
}
_LANGUAGE = re.compile(r"\b(?:in|en)\s+(%s)\b" % "|".join(LANGUAGES))


def fold(text: str) -> str:
    """Lower case without accents or typographic apostrophes, for matching keywords."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def is_instruction(line: str) -> bool:
    """A short imperative line about the article itself: a brief, not article text."""
    folded = fold(line.strip())
    if not folded or len(folded.split()) > 80:
        return False
    return bool(_OPENING.match(folded) and _TOPIC.search(folded))


def parse_brief(instruction: str, *, default_words: int = 700) -> Brief:
    """Take length, tone and language from an instruction; ignore everything else."""
    folded = fold(instruction)
    return Brief(instruction=instruction.strip(), min_words=_min_words(folded, default_words),
                 tone=_tone(folded), language=_language(folded))


def split_brief(text: str, *, default_words: int = 700) -> tuple[Brief | None, str]:
    """Split leading instruction lines off ``text``: (brief or None, the rest of the text)."""
    lines = text.splitlines()
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    end = start
    while end < len(lines) and is_instruction(lines[end]):
        end += 1
    if end == start:
        return None, text
    instruction = " ".join(line.strip() for line in lines[start:end])
    return parse_brief(instruction, default_words=default_words), "\n".join(lines[end:])


def _min_words(folded: str, default: int) -> int:
    match = _WORDS.search(folded)
    if not match:
        return default
    number = int(re.sub(r"\D", "", match.group(1)))
    return max(MIN_WORDS_FLOOR, min(MIN_WORDS_CEILING, number))


def _tone(folded: str) -> str:
    for word in re.findall(r"[a-z-]+", folded):
        if word in TONES:
            return TONES[word]
    return ""


def _language(folded: str) -> str:
    match = _LANGUAGE.search(folded)
    return LANGUAGES[match.group(1)] if match else "fr"
