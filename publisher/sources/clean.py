"""Clean text pasted from a news page: drop the page's furniture, keep every body sentence.

The cleaner works line by line with documented rules (``LINE_RULES``, ``TAIL_MARKERS``,
``PREFIXES``, ``CREDITS``). Each rule is a named pattern for a *kind* of junk seen on French
news sites (ad markers, share and newsletter widgets, navigation rows, photo captions and
credits, bylines, "published/updated" stamps, related-link blocks), not a copy of a seed line.

The one promise that outranks tidiness: **no body sentence is ever dropped**. So every rule is
anchored on the whole line (or on a clearly delimited prefix/suffix), and the rules that could
look like prose are limited to short lines without a sentence ending. When in doubt, a line
stays: a leftover widget word costs the writer nothing, a lost sentence loses a fact.

Credits are not body either: "Veronika Melkozerova a contribué à ce rapport." and the Reuters
trailer "(Reportage Andrew Gray; version française …)" say who wrote the piece, not what
happened. They are removed from the text (listed in ``removed``) and the names go to
``author``, so the article can still credit them.

After the rules: the first headline-sized line(s) at the top, before any sentence, become the
title (a longer standfirst stays as the lead); whitespace is normalised (no-break and thin
spaces become spaces, runs collapse); hard-wrapped lines are rejoined; paragraphs are separated
by one blank line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

from ..textsafe import safe_text
from .brief import fold

# --- vocabulary ---------------------------------------------------------------------------

AGENCIES = (r"AFP|Reuters|AP|Associated Press|EPA(?:-EFE)?|EFE|Getty\s*Images|SIPA(?:\s*Press)?"
            r"|Abaca(?:press)?|MaxPPP|Hans Lucas|Bloomberg|Anadolu|dpa|ANSA|Belga|Xinhua|Pool"
            r"|Europa Press|Ukrinform|Shutterstock|NurPhoto|ZUMA(?:\s*Press)?|IP3|Photo12"
            r"|Leemage|Wikimedia(?:\s*Commons)?|Divergence|Le Pictorium|AA|UPI|Keystone|ATS"
            r"|Presidential Press Service|Ukrainian Presidential Press Service|DR")

# Words that make up navigation, share and account rows (accents and case folded).
WIDGET_WORDS = frozenset("""
    accueil menu rechercher recherche connexion se connecter deconnexion mon compte s'abonner
    abonnez-vous abonnement abonne newsletter newsletters events evenements evenement podcasts
    podcast videos video direct live replay emissions programmes tv radio jeux services
    partager partagez partage cet article l'article discussion close button fermer facebook
    twitter x linkedin whatsapp e-mail email mail messenger telegram pinterest reddit bluesky
    threads instagram youtube tiktok imprimer copier lien commenter commentaires reagir
    favoris sauvegarder ecouter offrir suivez-nous suivre actualites actualite international
    monde europe france politique economie societe culture sport sports sciences science
    tech planete idees opinions opinion meteo regions region afrique ameriques asie
    moyen-orient sante environnement faits divers rubriques
""".split())

_SENTENCE_END = re.compile(r"[.!?…][\s\"»”’')\]]*$")
_WORD = re.compile(r"\S*[^\W_]\S*")
_NAME = r"[A-ZÀ-Ý][\w'’.-]+(?:\s+(?:de |d'|le |la |van |von )?[A-ZÀ-Ý0-9][\w'’.-]*){0,3}"

MONTHS = ("janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre "
          "janv fevr avr juil sept oct nov dec").split()
DAYS = "lundi mardi mercredi jeudi vendredi samedi dimanche".split()


def words(text: str) -> int:
    return len(_WORD.findall(text))


def is_sentence(line: str) -> bool:
    """Ends like a sentence (., !, ?, … possibly followed by a closing quote)."""
    return bool(_SENTENCE_END.search(line))


def is_prose(line: str) -> bool:
    """A body paragraph, as opposed to a headline or a link title."""
    return (is_sentence(line) and words(line) >= 6) or words(line) >= 30


# --- rules --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    name: str
    why: str
    match: Callable[[str], bool]


def _re(pattern: str, flags: int = re.IGNORECASE) -> Callable[[str], bool]:
    compiled = re.compile(pattern, flags)
    return lambda line: bool(compiled.search(line))


def _short(limit: int, test: Callable[[str], bool]) -> Callable[[str], bool]:
    """Only lines of at most ``limit`` words that don't end like a sentence."""
    return lambda line: words(line) <= limit and not is_sentence(line) and test(line)


def _widget_row(line: str) -> bool:
    """A row of menu/share words ("Newsletter Podcasts Vidéos Africanews"): all widget words,
    or at least three of them with at most one unknown word in three."""
    tokens = [t for t in re.split(r"[\s|•·/,]+", fold(line)) if t]
    if not tokens or is_sentence(line):
        return False
    known = sum(t.strip(":") in WIDGET_WORDS for t in tokens)
    return known == len(tokens) or (known >= 3 and (len(tokens) - known) * 3 <= len(tokens))


_DATE_TOKEN = re.compile(
    r"^(?:le|la|a|à|et|:|,|-|–|—|\||il|y|min|h|gmt|utc|cet|cest|heures?|minutes?|jours?|mis|jour"
    r"|aujourd'hui|hier|publie|publiee|modifie|actualise|mise|\d[\d/:.,h-]*|[+-]\d+|" + "|".join(MONTHS + DAYS)
    + r")\.?,?$")


def _date_stamp(line: str) -> bool:
    """ "Publié le Mis à jour", "Publié le 14/02/2024 à 10:32", "Mis à jour il y a 3 h" … """
    folded = fold(line)
    if not re.match(r"(publie|mis a jour|mise a jour|modifie|actualise)\b", folded):
        return False
    tokens = folded.split()
    return len(tokens) <= 16 and all(_DATE_TOKEN.match(t) for t in tokens)


def _date_only(line: str) -> bool:
    tokens = fold(line).split()
    return (0 < len(tokens) <= 12 and bool(_NUMERIC_STAMP.search(line))
            and all(_DATE_TOKEN.match(t) for t in tokens))


_NUMERIC_STAMP = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2}[h:]\d{2}\b")


def _caption_credit(line: str) -> bool:
    """A caption that ends with its photo credit: "… à Kiev. © Sergei Supinsky / AFP"."""
    return bool(re.search(r"(?:©|\bcr[ée]dits?\s+photos?\s*:)\s*[^.©]{1,60}$", line, re.I)
                or re.search(r"\((?:photo|cr[ée]dit)[^()]{0,60}\)$", line, re.I)
                or _CAPTION_TAIL.search(line))


# "… le 28 septembre 2023. SERGEI SUPINSKY / AFP": a photographer in capitals, then the agency
_CAPTION_TAIL = re.compile(r"(?:^|[.)]\s)\s*[A-ZÀ-Ý][A-ZÀ-Ý'’ .-]{2,40}\s*/\s*(?:%s)\s*\)?$"
                           % AGENCIES)


LINE_RULES: tuple[Rule, ...] = (
    Rule("ad_marker", "ad slots leave their label behind (Publicité, PUBLICITÉ, Annonce)",
         _re(r"^(?:publicit[ée]|pub|annonce|advertisement|advertising|contenu sponsoris[ée]"
             r"|article sponsoris[ée]|sponsoris[ée]|partenaire|en partenariat avec \S+)$")),
    Rule("agency_byline", "newsroom-and-agency bylines: 'Le Monde avec AFP', 'E.B. avec AFP'",
         _short(8, _re(r"^(?:par\s+)?\S.{0,40}\s+avec\s+(?:l['’])?(?:%s|agences?)$" % AGENCIES))),
    Rule("newsroom", "a bare agency or newsroom credit: 'AFP', 'Reuters', 'La rédaction'",
         _re(r"^(?:(?:%s)|(?:par )?la r[ée]daction(?: d[eu'’]\s*\S+)?)$" % AGENCIES)),
    Rule("widget_row", "navigation, share and account rows copied with the page",
         _short(20, _widget_row)),
    Rule("share_widget", "share buttons: 'Partager sur Facebook', 'Partager par e-mail'",
         _re(r"^partage[rz]?\s+(?:sur|par|via)\s+[\w-]+$")),
    Rule("read_also", "inline related link: 'Lire aussi : <titre d'un autre article>'",
         _short(30, _re(r"^(?:[àa]\s+)?(?:lire|voir)\s+(?:aussi|[ée]galement)\s*"
                        r"(?:[:|–—»›→-]|>>)\s*\S"))),
    Rule("widget", "single interface words: loaders, follow buttons, read-more links",
         _short(12, _re(r"^(?:loader|loading|chargement(?: en cours)?|suivez[- ]nous\b.*"
                        r"|lire la suite|voir plus|afficher plus|en savoir plus"
                        r"|fermer|close|lien copi[ée]|copy to clipboard|ajouter (?:à|aux?) "
                        r"(?:mes |vos )?(?:favoris|s[ée]lections)|lire plus tard|[ée]couter (?:cet )?"
                        r"article.*|offrir (?:cet |l['’])?article|r[ée]agir|commenter"
                        r"|\d+\s+commentaires?|commentaires?\s*\(\d+\)|voir les (?:\d+ )?"
                        r"commentaires|s['’]inscrire|je m['’]abonne|abonnez-vous.*"
                        r"|t[ée]l[ée]charger l['’]application.*)$"))),
    Rule("reading_time", "reading-time badges: 'Lecture : 4 min', 'Lecture 3 min.', '2 mn'",
         _re(r"^(?:(?:temps de )?lecture\s*:?\s*)?\d+\s*(?:min|mn)(?:utes?)?(?: de lecture)?\.?$")),
    Rule("paywall", "paywall notices: 'Article réservé aux abonnés', 'Vous avez lu 3 articles …'",
         _short(14, _re(r"^(?:(?:cet |l['’])?article |contenu |la suite est )?r[ée]serv[ée]e? aux "
                        r"abonn[ée]s|^vous avez lu \d+ articles?|^cet article vous est offert"
                        r"|^il vous reste \d+ articles?"))),
    Rule("tags", "tag lists: 'Tags : OTAN, Ukraine', 'Mots-clés'",
         _short(20, _re(r"^(?:tags|mots[- ]cl[ée]s|th[èe]mes|[ée]tiquettes|sujets)\s*(?::.*)?$"))),
    Rule("newsletter_promo", "newsletter sign-up boxes",
         _short(20, _re(r"\bnewsletters?\b.*\b(?:inscri|abonn|recev|gratuit)|"
                        r"\b(?:inscri|abonn|recev)\w*\b.*\bnewsletters?\b"))),
    Rule("embed_widget", "video embed widgets: 'Copier/coller le lien embed …'",
         _re(r"^copier(?:\s*/\s*coller)?\s+(?:le\s+)?(?:lien|code)\b|\bcopy to clipboard\b")),
    Rule("accessibility", "skip links: 'Accéder aux raccourcis d'accessibilité', 'Aller au "
         "contenu'", _short(12, _re(r"^(?:acc[ée]der|aller|passer)\s+(?:aux?|à la|directement)"
                                    r"\s+(?:raccourcis|contenu|navigation|menu|recherche)|"
                                    r"^skip to (?:main )?content"))),
    Rule("rights_notice", "rights notices under photos: 'Tous droits réservés EBU'",
         _short(12, _re(r"tous droits r[ée]serv[ée]s|all rights reserved|^copyright\b"
                        r"|\bcopyright\s*(?:©|\(c\)|\d{4})|©"))),
    Rule("photo_credit", "photo credit lines: 'Crédit photo © Reuters', 'Photo : AFP'",
         _short(16, _re(r"^(?:©\s*)?(?:cr[ée]dits?\s+(?:photos?|images?)|photos?|illustration"
                        r"|image)\s*(?::|©|-|/)|^cr[ée]dits?\s*(?::\s*)?(?:©|(?:%s)\b)"
                        % AGENCIES))),
    Rule("icon_caption", "captions carrying a leaked icon name ('photo_camera …')",
         _re(r"^(?:photo_camera|camera_alt|videocam|play_arrow|play_circle)\b")),
    Rule("agency_caption", "captions that open with the photographer and agency: "
         "'Sergei SUPINSKY / AFP - …'",
         _re(r"^(?:[\w.'’-]+\s+){0,4}[\w.'’-]+\s*/\s*(?:%s)\b(?:\s*$|\s*[-–—:,(])" % AGENCIES)),
    Rule("caption_credit", "captions ending with their credit: '… © Name / AFP'",
         _caption_credit),
    Rule("byline", "bylines: 'Par Euronews avec Shona Murray', 'Par Jean Dupont'",
         _re(r"^(?i:par|publi[ée] par|r[ée]dig[ée] par|[ée]crit par|texte par)\s*:?\s+%s"
             r"(?:\s*(?:,|et|avec)\s+%s)*$" % (_NAME, _NAME), 0)),
    Rule("date_stamp", "'Publié le … Mis à jour …' stamps, with or without the dates",
         _date_stamp),
    Rule("date_line", "a time stamp alone on its line: 'Le 28/09/2023 à 18:42' (a spelled-out "
         "date alone may be a timeline heading, so it stays)", lambda line: _date_only(line)),
    Rule("fragment", "lone letters left by image alt text ('a') and separators ('***')",
         _re(r"^\W*\w?\W*$")),
)

# A related-links heading closing the article: it and the link titles under it go, up to the
# next real paragraph (so a block of links in mid-page never swallows the body after it).
TAIL_MARKERS = re.compile(
    r"^(?:[àa] d[ée]couvrir(?: [ée]galement| aussi)?|sur le m[êe]me (?:sujet|th[èe]me)"
    r"|dans la m[êe]me rubrique|articles? (?:li[ée]s|similaires|recommand[ée]s)"
    r"|les plus (?:lus|partag[ée]s|populaires)|vous (?:aimerez|pourriez aimer) aussi"
    r"|recommand[ée] pour vous|nos (?:derniers )?articles|derni[èe]res (?:actualit[ée]s|infos)"
    r"|sujets associ[ée]s|contenus? sponsoris[ée]s?|(?:sponsoris[ée]|recommand[ée]) par \w+"
    r"|(?:en )?plus dans (?:la rubrique )?[\w'’-]+(?: [\w'’-]+)?)\s*:?$", re.IGNORECASE)

# An inline "read also" heading on its own line: only the one link title after it goes.
LINK_MARKERS = re.compile(r"^(?:[àa] )?(?:lire|voir) (?:aussi|[ée]galement)\s*:?$", re.I)


@dataclass(frozen=True)
class Affix:
    """Junk glued to a body line: a prefix or suffix cut off, the rest of the line kept."""

    name: str
    why: str
    pattern: re.Pattern


PREFIXES: tuple[Affix, ...] = (
    Affix("date_prefix", "a leaked date widget before the headline: 'date 2023-09 Les forces …'",
          re.compile(r"^date\s+(?P<date>\d{4}-\d{2}(?:-\d{2})?(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)"
                     r"\s+(?=\S)", re.I)),
)

CREDITS: tuple[Affix, ...] = (
    Affix("reporting_credit", "wire trailer: '(Reportage Andrew Gray; version française …)'",
          re.compile(r"\s*\((?P<credit>(?:reportage|r[ée]daction|[ée]crit par|texte de|version"
                     r" fran[çc]aise|[ée]dit[ée] par|avec (?:%s)\b)[^()]{0,300})\)\s*$" % AGENCIES,
                     re.I)),
    Affix("contributor_line", "'Veronika Melkozerova a contribué à ce rapport.'",
          re.compile(r"^(?P<names>%s(?:\s*(?:,|et)\s+%s)*)\s+(?:a|ont)\s+contribu[ée] (?:à|au)"
                     r" (?:ce|cet|cette) (?:rapport|article|reportage|compte rendu|dépêche)\.?$"
                     % (_NAME, _NAME))),
    Affix("agency_line", "'(Avec AFP)', 'Avec Reuters' at the end of the article",
          re.compile(r"^\(?(?:avec|source\s*:)\s+(?:l')?(?P<names>(?:%s)(?:\s*(?:,|et)\s*(?:%s))*"
                     r"|agences?)\)?\.?$" % (AGENCIES, AGENCIES), re.I)),
)

_DATELINE = re.compile(r"^[A-ZÀ-Ý][A-ZÀ-Ý'’ .-]{1,40}(?:,\s*[\w ]{2,30})?\s*\((?P<site>Reuters|"
                       r"AFP|AP|Belga|ATS|Bloomberg|DPA|ANSA)\)\s*[-–—]")


# --- the cleaner --------------------------------------------------------------------------

@dataclass
class Cleaned:
    text: str
    removed: tuple[str, ...]
    title: str = ""
    author: str = ""
    site_name: str = ""
    date: str = ""
    rules: tuple[str, ...] = ()       # which rule removed each line in ``removed``


@dataclass
class _State:
    dropped: list[tuple[int, str, str]] = field(default_factory=list)   # (line no, line, rule)
    authors: list[str] = field(default_factory=list)
    site_name: str = ""
    date: str = ""

    def drop(self, index: int, line: str, rule: str) -> None:
        self.dropped.append((index, line, rule))

    def removed(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(lines, rules) in page order: tails are cut before the line rules run."""
        ordered = sorted(self.dropped, key=lambda item: item[0])
        return tuple(line for _, line, _ in ordered), tuple(rule for _, _, rule in ordered)


def clean_text(raw: str) -> tuple[str, tuple[str, ...], str]:
    """(body text with paragraphs separated by blank lines, removed junk lines, title or "")."""
    cleaned = clean(raw)
    return cleaned.text, cleaned.removed, cleaned.title


def clean(raw: str, *, detect_title: bool = True) -> Cleaned:
    """Clean pasted text and keep what the junk told us (byline, site, date) as metadata."""
    state = _State()
    lines = _cut_tails(normalize(raw).split("\n"), state)
    kept = [_clean_line(i, line, state) for i, line in enumerate(lines)]
    paragraphs = _paragraphs(kept)
    title = ""
    if detect_title:
        title, paragraphs = split_title(paragraphs)
    site = state.site_name or _dateline_site(paragraphs)
    removed, rules = state.removed()
    return Cleaned(text="\n\n".join(paragraphs), removed=removed, title=title,
                   author=", ".join(dict.fromkeys(state.authors)), site_name=site,
                   date=state.date, rules=rules)


def normalize(raw: str) -> str:
    """NFC, Unix newlines, one plain space between words, no invisible characters (nor
    terminal escapes or bidi overrides, which would reach the prompt and the terminal)."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = safe_text(text).replace("\u00ad", "")
    text = re.sub(r"[^\S\n]+", " ", text)       # NBSP, narrow NBSP, tabs … → one space
    lines = (line.strip() for line in text.split("\n"))
    # "a-t-il ajouté. ." : a stray second full stop left by the copy
    return "\n".join(re.sub(r"([.!?…])(?:\s+\.)+(?=\s|$)", r"\1", line) for line in lines)


def _cut_tails(lines: list[str], state: _State) -> list[str]:
    """Drop related-links headings and the link titles under them (see TAIL_MARKERS)."""
    out: list[str] = []
    mode = ""                                   # "tail": until prose; "link": one line
    for i, line in enumerate(lines):
        if not is_sentence(line) and (TAIL_MARKERS.match(line) or LINK_MARKERS.match(line)):
            mode = "tail" if TAIL_MARKERS.match(line) else "link"
            state.drop(i, line, "related_links")
            out.append("")
        elif mode and line and not is_prose(line):
            mode = "" if mode == "link" else mode
            state.drop(i, line, "related_links")
            out.append("")
        else:
            mode = "" if line else mode
            out.append(line)
    return out


def _clean_line(index: int, line: str, state: _State) -> str:
    """The line without its junk: "" when the whole line is junk."""
    if not line:
        return ""
    line = _strip_prefixes(index, line, state)
    line = _strip_credits(index, line, state)
    for rule in LINE_RULES:
        if line and rule.match(line):
            _note_byline(line, rule.name, state)
            state.drop(index, line, rule.name)
            return ""
    return line


def _strip_prefixes(index: int, line: str, state: _State) -> str:
    for affix in PREFIXES:
        match = affix.pattern.match(line)
        if match:
            state.drop(index, match.group(0).strip(), affix.name)
            state.date = state.date or match.groupdict().get("date") or ""
            line = line[match.end():]
    return line


def _strip_credits(index: int, line: str, state: _State) -> str:
    for affix in CREDITS:
        match = affix.pattern.search(line)
        if not match:
            continue
        state.drop(index, match.group(0).strip(), affix.name)
        groups = match.groupdict()
        if groups.get("credit"):
            state.authors.extend(_credit_names(groups["credit"]))
        elif groups.get("names") and affix.name == "contributor_line":
            state.authors.extend(_split_names(groups["names"]))
        line = line[:match.start()].rstrip()
    return line


def _credit_names(credit: str) -> list[str]:
    """The reporter in "Reportage Andrew Gray; version française …; édité par …"."""
    first = re.split(r"[;,]", credit)[0]
    match = re.match(r"(?:reportage|r[ée]daction|[ée]crit par|texte|par)\s+(.+)$", first.strip(),
                     re.I)
    return _split_names(match.group(1)) if match else []


def _split_names(names: str) -> list[str]:
    return [n.strip() for n in re.split(r"\s*(?:,|\bet\b)\s*", names) if n.strip()]


def _note_byline(line: str, rule: str, state: _State) -> None:
    """'Par Euronews avec Shona Murray' → site Euronews, author Shona Murray."""
    if rule != "byline":
        return
    names = re.sub(r"^(?:par|publi[ée] par|r[ée]dig[ée] par|[ée]crit par)\s+", "", line,
                   flags=re.I)
    outlet, _, people = names.partition(" avec ")
    if people and not re.fullmatch(AGENCIES, people.strip(), re.I):
        state.site_name = state.site_name or outlet.strip()
        state.authors.extend(_split_names(people))
    else:
        state.authors.extend(_split_names(outlet))


def _paragraphs(lines: list[str]) -> list[str]:
    """One paragraph per line, except hard-wrapped lines (no sentence end, next line starts in
    lower case), which are joined back."""
    paragraphs: list[str] = []
    joinable = False
    for line in lines:
        if not line:
            joinable = False
            continue
        if joinable and paragraphs and line[0].islower():
            paragraphs[-1] += " " + line
        else:
            paragraphs.append(line)
        joinable = not is_sentence(paragraphs[-1])
    return paragraphs


def split_title(paragraphs: list[str]) -> tuple[str, list[str]]:
    """The headline among the lines above the first sentence: the first of 4–20 words.
    Longer lines there are a standfirst and stay as the lead; 1–3 word kickers stay too."""
    lead = 0
    while lead < len(paragraphs) and not is_prose(paragraphs[lead]):
        lead += 1
    if lead == len(paragraphs):          # no body at all: don't take it as a title
        return "", paragraphs
    for i in range(lead):
        if 4 <= words(paragraphs[i]) <= 20 and not is_sentence(paragraphs[i]):
            return paragraphs[i], paragraphs[:i] + paragraphs[i + 1:]
    return "", paragraphs


def _dateline_site(paragraphs: list[str]) -> str:
    """'KYIV (Reuters) - …' names the agency: the dateline stays in the text, the name is kept."""
    for paragraph in paragraphs[:3]:
        match = _DATELINE.match(paragraph)
        if match:
            return match.group("site")
    return ""
