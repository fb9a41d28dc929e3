"""Sources + Brief → Article, and the targeted repairs the quality gate asks for.

The prompts live in ``prompts/*.txt`` (French, ``string.Template`` placeholders) so an editor
can read and tune them without touching code. Two rules hold in every prompt:

- The editor's instruction line never reaches the model as text: only the parameters parsed
  from it (minimum words, tone) do, so a source or a brief cannot rewrite the rules.
- Sources (and, for repairs, the article itself) are wrapped between ``<<<…>>>`` markers and
  declared data, not instructions; the markers are neutralised inside the text.

The model answers JSON in ``ARTICLE_SCHEMA``; ``article_from_json`` maps it onto
``publisher.models`` (paragraphs, then an optional bullet list, then an optional quote per
section).
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import replace
from importlib import resources
from string import Template
from typing import Sequence

from ..errors import LLMError
from ..models import (Article, Block, Brief, RelatedPost, Section, Source, Suggestions,
                      Usage)
from ..textsafe import safe_line, safe_text
from ..words import block_words, count_words, holds_claim, section_words
from .llm import LLM, LLMTruncated, merge_usage

log = logging.getLogger(__name__)

MAX_SECTION_WORDS = 250       # the prompt's ceiling; readability checks flag sections over 300
LENGTH_MARGIN = 1.1           # models undershoot: aim 10 % above the minimum
DEFAULT_TONE = "informatif, neutre et factuel"
CONCLUSION_HEADING = "Ce qu'il faut retenir"
LABEL_CHARS = 80              # a source's name in the prompt: an outlet's name, not a paragraph

_TEXT = {"type": "string"}
_TEXTS = {"type": "array", "items": {"type": "string"}}
_QUOTE = {"anyOf": [
    {"type": "object", "additionalProperties": False, "required": ["text", "cite"],
     "properties": {"text": {"type": "string", "description": "citation exacte des sources"},
                    "cite": {"type": "string", "description": "qui parle"}}},
    {"type": "null"}]}
SECTION_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["heading", "level", "paragraphs", "bullets", "quote"],
    "properties": {
        "heading": _TEXT,
        "level": {"type": "integer", "enum": [2, 3]},
        "paragraphs": _TEXTS,
        "bullets": {**_TEXTS, "description": "liste à puces facultative ; [] sinon"},
        "quote": _QUOTE,
    },
}
ARTICLE_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["title", "introduction", "sections", "conclusion", "keyphrase",
                 "meta_title", "meta_description", "tags"],
    "properties": {
        "title": _TEXT,
        "introduction": _TEXTS,
        "sections": {"type": "array", "items": SECTION_SCHEMA},
        "conclusion": {"type": "object", "additionalProperties": False,
                       "required": ["heading", "paragraphs"],
                       "properties": {"heading": _TEXT, "paragraphs": _TEXTS}},
        "keyphrase": _TEXT,
        "meta_title": _TEXT,
        "meta_description": _TEXT,
        "tags": _TEXTS,
    },
}
SECTIONS_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["sections"],
    "properties": {"sections": {"type": "array", "items": SECTION_SCHEMA}},
}


# --- length planning ---------------------------------------------------------------------------

def target_words(min_words: int) -> int:
    return math.ceil(round(min_words * LENGTH_MARGIN, 6))   # 900 × 1.1 is 990.0000000000001


def _frame_words(min_words: int) -> int:
    """Words for the introduction, and again for the conclusion."""
    return max(50, min(150, round(target_words(min_words) * 0.1 / 10) * 10))


def plan_budget(min_words: int) -> list[int]:
    """Word budget of each body H2 section: the target (1.1 × the minimum) less introduction
    and conclusion, spread over at least 3 sections of ~180 words, none over 250."""
    body = target_words(min_words) - 2 * _frame_words(min_words)
    count = max(3, math.ceil(body / 180))
    each = min(MAX_SECTION_WORDS, max(40, round(body / count / 10) * 10))
    return [each] * count


def _max_tokens(words: int) -> int:
    # French runs ~1.5–2 tokens a word, and the JSON adds keys and escapes.
    return max(2048, words * 3 + 600)


# --- prompts -----------------------------------------------------------------------------------

def _template(name: str) -> Template:
    return Template(resources.files("publisher.writer").joinpath("prompts", name)
                    .read_text("utf-8"))


def system_prompt() -> str:
    return _template("system.txt").template


def _role_and_rules() -> tuple[str, str]:
    """system.txt's first paragraph (who the model is) and the rest (the rules)."""
    role, _, rules = system_prompt().partition("\n\n")
    return role.strip(), rules.strip()


def _data(text: str) -> str:
    """Neutralise our delimiters inside untrusted text so it cannot close its own block."""
    return text.replace("<<<", "‹‹‹").replace(">>>", "›››")


def sources_block(sources: list[Source]) -> str:
    """Every value a source gave (site name, URL, title, text) goes here, between its markers:
    never into the instructions, where a page's og:site_name could speak as the editor."""
    parts = [_template("sources.txt").template.strip()]
    for number, source in enumerate(sources, 1):
        # One line each, "|" kept for our own separator: a label cannot forge the URL field.
        label = safe_line(source.label, LABEL_CHARS).replace("|", "/")
        head = " | ".join(p for p in (label, safe_line(source.url)) if p)
        title = f"Titre : {_data(safe_line(source.title))}\n" if source.title else ""
        parts.append(f"<<<SOURCE {number} | {_data(head)}>>>\n{title}{_data(source.text.strip())}"
                     f"\n<<<FIN SOURCE {number}>>>")
    return "\n\n".join(parts)


def safe_tone(tone: str) -> str:
    """The brief's tone, only if it looks like a few words of description (never a sentence
    that could smuggle instructions)."""
    tone = (tone or "").strip()
    if tone and len(tone) <= 40 and re.fullmatch(r"[\w\s,'’-]+", tone):
        return tone
    return DEFAULT_TONE


SITE_LINKS_RULE = ("Maillage interne : place 1 à 3 liens <a href=\"adresse\">ancre</a> vers "
                   "les articles du site du bloc ARTICLES DU SITE (titre | adresse, en fin de "
                   "message), là où ils éclairent le propos, l'ancre étant quelques mots de ta "
                   "phrase ; copie l'adresse telle quelle ; aucun autre lien vers ce site.")


def site_posts_block(posts: Sequence[RelatedPost]) -> str:
    """The site's related posts, as data: a title is what someone typed into WordPress."""
    if not posts:
        return ""
    lines = [f"- {_data(' '.join(p.title.split()))} | {_data(p.url.strip())}" for p in posts]
    return "\n\n<<<ARTICLES DU SITE>>>\n" + "\n".join(lines) + "\n<<<FIN ARTICLES DU SITE>>>"


def write_prompt(sources: list[Source], brief: Brief, keyphrase: str = "",
                 related: Sequence[RelatedPost] = ()) -> str:
    from ..seo.plan import placement_rules
    budgets = plan_budget(brief.min_words)
    frame = _frame_words(brief.min_words)
    rules = (placement_rules(_data(keyphrase), target_words(brief.min_words), len(budgets) + 1)
             if keyphrase else ["Choisis une expression clé de 2 à 4 mots tirée des sources."])
    rules += [SITE_LINKS_RULE] if related else []
    return _template("write.txt").substitute(
        min_words=brief.min_words, target_words=target_words(brief.min_words),
        tone=safe_tone(brief.tone), intro_words=frame, conclusion_words=frame,
        section_count=len(budgets), budgets=", ".join(f"{b} mots" for b in budgets),
        max_section=MAX_SECTION_WORDS, seo_rules="\n".join(f"- {r}" for r in rules),
        sources=sources_block(sources) + site_posts_block(related))


def _messages(user: str) -> list[dict]:
    """The rules travel in the user message, before the data: some chat templates have no
    system role (llama.cpp's Gemma format drops the system message), and the answer depends
    on them. The system message keeps who the model is and the rule that data is never an
    instruction, where servers that have the role give it the most weight."""
    role, rules = _role_and_rules()
    data_rule = next((line for line in rules.splitlines() if "DONNÉES" in line), "")
    return [{"role": "system", "content": f"{role}\n\n{data_rule}".strip()},
            {"role": "user", "content": f"{rules}\n\n{user}"}]


def _article_data(article: Article) -> str:
    return _data(json.dumps(article_to_json(article), ensure_ascii=False, indent=1))


# --- the calls ---------------------------------------------------------------------------------

def _ask(llm: LLM, messages: list[dict], schema: dict, purpose: str,
         max_tokens: int) -> tuple[dict, list[Usage]]:
    """complete_json, asked once more with twice the room if the answer was cut short."""
    usages: list[Usage] = []
    for attempt in (1, 2):
        try:
            data, usage = llm.complete_json(messages, schema, purpose=purpose,
                                            max_tokens=max_tokens)
        except LLMTruncated as exc:
            if getattr(exc, "usage", None):
                usages.append(exc.usage)
            if attempt == 2:
                err = LLMError(f"the model's answer for {purpose} was cut at {max_tokens} "
                               "tokens twice; use a model with a larger output limit or lower "
                               "PUBLISHER_MIN_WORDS", reason="llm_truncated")
                err.usage = merge_usage(usages, llm.model, purpose)   # both were paid
                raise err from None
            log.warning("%s: answer cut at %d tokens, asking again with %d", purpose,
                        max_tokens, max_tokens * 2)
            max_tokens *= 2
            continue
        except LLMError as exc:
            if usages:                          # the cut first answer was paid too
                spent = getattr(exc, "usage", None)
                exc.usage = merge_usage([*usages, *([spent] if spent else [])], llm.model,
                                        purpose)
            raise
        usages.append(usage)
        return data, usages
    raise AssertionError("unreachable")


def write_article(sources: list[Source], brief: Brief, llm: LLM, keyphrase: str = "",
                  related: Sequence[RelatedPost] = ()) -> tuple[Article, list[Usage]]:
    """The first draft, written around ``keyphrase`` (chosen from the sources beforehand),
    free to link the site's ``related`` posts: one call (two if the answer was cut at the
    token limit)."""
    if not sources:
        raise LLMError("nothing to write from: no source text; give a file, a URL or stdin")
    messages = _messages(write_prompt(sources, brief, keyphrase, related))
    data, usages = _ask(llm, messages, ARTICLE_SCHEMA, "write",
                        _max_tokens(target_words(brief.min_words)))
    article = _paid_article(data, usages, llm, "write")
    if keyphrase and not article.suggestions.keyphrase:
        article = replace(article, suggestions=replace(article.suggestions, keyphrase=keyphrase))
    return article, usages


def expand_sections(article: Article, headings: list[str], sources: list[Source], brief: Brief,
                    llm: LLM, *, words_needed: int) -> tuple[Article, Usage]:
    """Rewrite only the named sections, longer, with material from the sources."""
    chosen = [s for s in article.all_sections if _norm(s.heading) in {_norm(h) for h in headings}]
    if not chosen:
        log.warning("expand: none of %r is a heading of the article; nothing done", headings)
        return article, Usage(model=llm.model, purpose="expand", requests=0)
    extra = math.ceil(max(0, words_needed) / len(chosen))
    count = section_words
    targets = {s.heading: min(MAX_SECTION_WORDS, count(s) + extra) for s in chosen}
    user = _template("expand.txt").substitute(
        words_needed=max(0, words_needed), min_words=brief.min_words,
        targets="; ".join(f"« {h} » : {n} mots" for h, n in targets.items()),
        max_section=MAX_SECTION_WORDS, article=_article_data(article),
        headings=_data(json.dumps(list(targets), ensure_ascii=False)),
        sources=sources_block(sources))
    data, usages = _ask(llm, _messages(user), SECTIONS_SCHEMA, "expand",
                        _max_tokens(sum(targets.values())))
    replaced = replace_sections(article, chosen, [section_from_json(d) for d in
                                                  data.get("sections") or []])
    return replaced, merge_usage(usages, llm.model, "expand")


PASSAGES_MARK = "----- passages -----"     # translate.txt: whole article, then passages


def rewrite_in_french(article: Article, sources: list[Source], brief: Brief, llm: LLM, *,
                      paragraphs: Sequence[str] = ()) -> tuple[Article, Usage]:
    """The whole article again, in French (for a draft detected as another language); or,
    given ``paragraphs`` (blocks' visible text), only the blocks that are not French, each
    sent as a numbered passage and put back in its place."""
    whole, _, passages = _template("translate.txt").template.partition(PASSAGES_MARK)
    if paragraphs:
        return _translate_passages(article, set(paragraphs), Template(passages.strip()),
                                   sources, brief, llm)
    user = Template(whole.strip() + "\n").substitute(
        min_words=brief.min_words, max_section=MAX_SECTION_WORDS, tone=safe_tone(brief.tone),
        article=_article_data(article), sources=sources_block(sources))
    data, usages = _ask(llm, _messages(user), ARTICLE_SCHEMA, "translate",
                        _max_tokens(target_words(brief.min_words)))
    return (_paid_article(data, usages, llm, "translate"),
            merge_usage(usages, llm.model, "translate"))


def _paid_article(data: dict, usages: list[Usage], llm: LLM, purpose: str) -> Article:
    """``article_from_json``; an answer received but unusable (no body) was still paid: the
    LLMError carries what it cost, so --json, the report and the database count it."""
    try:
        return article_from_json(data)
    except LLMError as exc:
        exc.usage = merge_usage(usages, llm.model, purpose)
        raise


def _translate_passages(article: Article, wanted: set[str], template: Template,
                        sources: list[Source], brief: Brief, llm: LLM) -> tuple[Article, Usage]:
    places = [(place, block) for place, block in _places(article)
              if block.visible_text in wanted]
    if not places:
        log.warning("translate: none of the paragraphs asked for is in the article")
        return article, Usage(model=llm.model, purpose="translate", requests=0)
    user = template.substitute(count=len(places), tone=safe_tone(brief.tone),
                               article=_passages_data([b for _, b in places]),
                               sources=sources_block(sources))
    words = sum(block_words(b) for _, b in places)
    data, usages = _ask(llm, _messages(user), SECTIONS_SCHEMA, "translate",
                        _max_tokens(words * 2))
    answers = _list(data.get("sections")) if isinstance(data, dict) else []
    fixed = {places[i][0]: section_from_json(a).blocks or (places[i][1],)
             for i, a in _numbered(answers, len(places))}
    return _with_blocks(article, fixed), merge_usage(usages, llm.model, "translate")


def _passages_data(blocks: list[Block]) -> str:
    """Blocks as the numbered passages a partial repair sends: {"sections": [{"heading":
    "Passage 1", …}]}."""
    passages = {"sections": [section_to_json(Section(f"Passage {n}", (block,)))
                             for n, block in enumerate(blocks, 1)]}
    return _data(json.dumps(passages, ensure_ascii=False, indent=1))


def fix_claims(article: Article, claims: list[str], sources: list[Source],
               llm: LLM) -> tuple[Article, Usage]:
    """Correct from the sources, or remove, the figures and quotes no source contains. Only
    the blocks that hold them (paragraphs, lists, quotations) are sent, each as a numbered
    passage, and each answer is put back in its block's place: the model writes a fraction of
    the article, and cannot touch the rest of it."""
    places = [(place, block) for place, block in _places(article)
              if any(holds_claim(block.visible_text, c) for c in claims)]
    if not places:
        log.warning("fix_facts: none of %r is in a paragraph; nothing done", claims)
        return article, Usage(model=llm.model, purpose="fix_facts", requests=0)
    user = _template("fix.txt").substitute(
        claims=_data(json.dumps(list(claims), ensure_ascii=False, indent=1)),
        count=len(places), article=_passages_data([b for _, b in places]),
        sources=sources_block(sources))
    words = sum(block_words(b) for _, b in places)
    data, usages = _ask(llm, _messages(user), SECTIONS_SCHEMA, "fix_facts", _max_tokens(words))
    answers = _list(data.get("sections")) if isinstance(data, dict) else []
    fixed = {}
    for index, answer in _numbered(answers, len(places)):
        fixed[places[index][0]] = section_from_json(answer).blocks
    return _with_blocks(article, fixed), merge_usage(usages, llm.model, "fix_facts")


def _places(article: Article):
    """(place, block) for every body block; a place is (-1, i) in the introduction, else
    (index in all_sections, i)."""
    for i, block in enumerate(article.intro):
        yield (-1, i), block
    for s, section in enumerate(article.all_sections):
        for i, block in enumerate(section.blocks):
            yield (s, i), block


def _numbered(answers: list, count: int):
    """(passage index, answer) for each answer: by the number in its heading (« Passage 2 »),
    else by position when as many came back as were sent. A passage not answered is kept."""
    found = {}
    for answer in answers:
        if not isinstance(answer, dict):
            continue
        number = re.search(r"\d+", str(answer.get("heading") or ""))
        if number and 1 <= int(number.group()) <= count:
            found[int(number.group()) - 1] = answer
    if not found and len(answers) == count:
        found = {i: a for i, a in enumerate(answers) if isinstance(a, dict)}
    return sorted(found.items())


def _with_blocks(article: Article, fixed: dict) -> Article:
    """``article`` with each block at a place of ``fixed`` replaced by the blocks given there
    (none: the block is removed)."""
    if not fixed:
        return article

    def blocks(s: int, old) -> tuple[Block, ...]:
        return tuple(b for i, block in enumerate(old) for b in fixed.get((s, i), (block,)))

    sections = tuple(replace(section, blocks=blocks(s, section.blocks))
                     for s, section in enumerate(article.all_sections))
    return replace(article, intro=blocks(-1, article.intro), sections=sections[:-1],
                   conclusion=sections[-1])


PARTS_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["lead", "headings", "meta_title", "meta_description"],
    "properties": {"lead": _TEXT, "headings": _TEXTS, "meta_title": _TEXT,
                   "meta_description": _TEXT},
}


def suggest_parts(article: Article, keyphrase: str, instructions: list[str],
                  llm: LLM) -> tuple[Article, Usage]:
    """A small call for the parts where the keyphrase must stand — the introduction's first
    paragraph, the subheadings — and the meta fields; the body is not rewritten. The caller
    keeps the result only if the checks improve and the quality gate is not hurt."""
    user = _template("parts.txt").substitute(
        instructions="\n".join(f"- {i}" for i in instructions), keyphrase=_data(keyphrase),
        heading_count=len(article.sections), article=_article_data(article))
    lead_words = count_words(article.intro[0].text) if article.intro else 0
    data, usages = _ask(llm, _messages(user), PARTS_SCHEMA, "seo_parts",
                        _max_tokens(lead_words + 15 * len(article.sections) + 80) // 2)
    return with_parts(article, data), merge_usage(usages, llm.model, "seo_parts")


def with_parts(article: Article, data: dict) -> Article:
    """``article`` with the parts an answer gives: the first introduction paragraph (when not
    empty), the subheadings (only when as many came back), the meta suggestions."""
    intro = article.intro
    lead = _paragraphs(data.get("lead"))
    if lead and intro:
        intro = (lead[0], *intro[1:])
    headings = [_clean_heading(h) for h in _list(data.get("headings"))]
    sections = article.sections
    if len(headings) == len(sections) and all(headings):
        sections = tuple(replace(s, heading=h) for s, h in zip(sections, headings))
    suggestions = replace(article.suggestions,
                          meta_title=_plain(data.get("meta_title")) or article.suggestions.meta_title,
                          meta_description=(_plain(data.get("meta_description"))
                                            or article.suggestions.meta_description))
    return replace(article, intro=intro, sections=sections, suggestions=suggestions)


META_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["meta_title", "meta_description"],
    "properties": {"meta_title": {"type": "string"}, "meta_description": {"type": "string"}},
}


def suggest_meta(article: Article, keyphrase: str, instructions: list[str],
                 llm: LLM) -> tuple[Article, Usage]:
    """A small call for the meta title and description only (the article is not rewritten):
    the article comes back with new suggestions, which seo/ checks like any other."""
    user = _template("meta.txt").substitute(
        instructions="\n".join(f"- {i}" for i in instructions), keyphrase=_data(keyphrase),
        article=_article_data(article))
    data, usages = _ask(llm, _messages(user), META_SCHEMA, "seo_meta", 400)
    suggestions = replace(article.suggestions, meta_title=_plain(data.get("meta_title")),
                          meta_description=_plain(data.get("meta_description")))
    return replace(article, suggestions=suggestions), merge_usage(usages, llm.model, "seo_meta")


# --- JSON ⇄ Article ----------------------------------------------------------------------------

def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


def _clean_text(text) -> str:
    """Markdown that slipped through, as the inline HTML the renderer allows."""
    text = safe_text(str(text or "")).strip()     # a terminal escape or bidi override: gone
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    return _ITALIC.sub(r"<em>\1</em>", text)


_TAG = re.compile(r"<[^>]*>?")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def _plain(text) -> str:
    """Titles, headings and SEO suggestions are plain text: no tag, no stray angle bracket
    (an Editor account stores a post title raw, and themes print it unescaped)."""
    text = _TAG.sub("", safe_text(str(text or ""))).replace("<", "").replace(">", "")
    return _SPACES.sub(" ", text).strip()       # no-break spaces (« 10 % ») stay


def _clean_heading(text) -> str:
    return _plain(re.sub(r"^#+\s*", "", str(text or "")).replace("**", ""))


def _paragraphs(items) -> list[Block]:
    """Paragraph blocks; a string holding blank lines is several paragraphs."""
    if isinstance(items, str):
        items = [items]
    blocks = []
    for item in items or []:
        for part in re.split(r"\n\s*\n", str(item or "")):
            if _clean_text(part):
                blocks.append(Block("paragraph", _clean_text(part)))
    return blocks


def section_from_json(data: dict, *, default_heading: str = "") -> Section:
    data = data if isinstance(data, dict) else {}
    blocks = _paragraphs(data.get("paragraphs"))
    bullets = tuple(_clean_text(b) for b in data.get("bullets") or [] if _clean_text(b))
    if bullets:
        blocks.append(Block("list", items=bullets))
    quote = data.get("quote")
    if isinstance(quote, dict) and _clean_text(quote.get("text")):
        blocks.append(Block("quote", _clean_text(quote["text"]),
                            cite=_clean_text(quote.get("cite"))))
    level = 3 if data.get("level") in (3, "3") else 2
    return Section(_clean_heading(data.get("heading")) or default_heading, tuple(blocks), level)


def article_from_json(data: dict) -> Article:
    """The model's JSON as an Article; raises LLMError when there is no body to speak of."""
    if not isinstance(data, dict):
        raise LLMError("the model's answer is not a JSON object; try a stronger model")
    sections = tuple(s for s in (section_from_json(d) for d in _list(data.get("sections")))
                     if s.blocks or s.heading)
    intro = tuple(_paragraphs(data.get("introduction")))
    if not sections and not intro:
        raise LLMError("the model returned an article without introduction or sections; "
                       "try again or use a stronger model (PUBLISHER_MODEL)",
                       reason="llm_empty_article")
    conclusion = data.get("conclusion") if isinstance(data.get("conclusion"), dict) else {}
    return Article(
        title=_clean_heading(data.get("title")),
        intro=intro,
        sections=sections,
        conclusion=section_from_json({**conclusion, "level": 2},
                                     default_heading=CONCLUSION_HEADING),
        suggestions=Suggestions(
            keyphrase=_plain(data.get("keyphrase")),
            meta_title=_plain(data.get("meta_title")),
            meta_description=_plain(data.get("meta_description")),
            tags=tuple(t for t in map(_plain, _list(data.get("tags"))) if t)),
    )


def _list(value) -> list:
    return value if isinstance(value, list) else []


def section_to_json(section: Section) -> dict:
    paragraphs = [b.text for b in section.blocks if b.kind == "paragraph"]
    bullets = [i for b in section.blocks if b.kind == "list" for i in b.items]
    quote = next(({"text": b.text, "cite": b.cite} for b in section.blocks if b.kind == "quote"),
                 None)
    return {"heading": section.heading, "level": section.level, "paragraphs": paragraphs,
            "bullets": bullets, "quote": quote}


def article_to_json(article: Article) -> dict:
    """The inverse of article_from_json (a section's blocks come back in schema order)."""
    return {
        "title": article.title,
        "introduction": [b.text for b in article.intro if b.text],
        "sections": [section_to_json(s) for s in article.sections],
        "conclusion": {"heading": article.conclusion.heading,
                       "paragraphs": [b.visible_text for b in article.conclusion.blocks]},
        "keyphrase": article.suggestions.keyphrase,
        "meta_title": article.suggestions.meta_title,
        "meta_description": article.suggestions.meta_description,
        "tags": list(article.suggestions.tags),
    }


def replace_sections(article: Article, old: list[Section], new: list[Section]) -> Article:
    """``article`` with each of ``old`` replaced by its rewrite: matched by heading, else by
    position. A rewrite with no text keeps the original."""
    by_heading = {_norm(s.heading): s for s in new}
    mapping = {}
    for index, section in enumerate(old):
        fresh = by_heading.get(_norm(section.heading)) or (new[index] if index < len(new) else None)
        if fresh and fresh.blocks:
            mapping[id(section)] = Section(section.heading, fresh.blocks, section.level)
    sections = tuple(mapping.get(id(s), s) for s in article.sections)
    conclusion = mapping.get(id(article.conclusion), article.conclusion)
    return Article(article.title, article.intro, sections, conclusion, article.suggestions)
