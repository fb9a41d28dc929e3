"""Plain frozen data passed between the pipeline's stages.

    Source ─► Brief + Source.text ─► Article ─► SeoMeta ─► Draft ─► PostResult
                                         └── Report (travels with the article) ──► Outcome

No stage imports a stage above it; they all import this module.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, asdict
from typing import Any, ClassVar, Literal


@dataclass(frozen=True)
class Source:
    """One cleaned input article. ``text`` is the body only: paragraphs separated by a blank line."""

    text: str
    title: str = ""
    url: str = ""
    site_name: str = ""
    author: str = ""
    date: str = ""
    image: str = ""
    origin: str = ""                  # file path, "-" for stdin, or the URL it was read from
    removed: tuple[str, ...] = ()     # junk lines the cleaner dropped, for the report
    cut_from: int = 0                 # the text's length before PUBLISHER_MAX_SOURCE_CHARS cut it

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    @property
    def label(self) -> str:
        """How the article credits this source: site name, else host, else title."""
        if self.site_name:
            return self.site_name
        if self.url:
            from urllib.parse import urlsplit
            return urlsplit(self.url).hostname or self.url
        return self.title or "source"


@dataclass(frozen=True)
class Brief:
    """The editor's instruction. It may set length, tone and language, nothing else."""

    instruction: str = ""             # the raw instruction line, as found
    min_words: int = 700
    tone: str = ""
    language: str = "fr"


BlockKind = Literal["paragraph", "list", "quote"]


@dataclass(frozen=True)
class Block:
    """One body block. ``text`` may hold inline <strong>, <em>, <a href>; the renderer sanitizes."""

    kind: BlockKind = "paragraph"
    text: str = ""                    # paragraph text, or the quotation
    items: tuple[str, ...] = ()       # list items (kind == "list")
    cite: str = ""                    # who is quoted (kind == "quote")

    @property
    def visible_text(self) -> str:
        parts = [self.text, *self.items, self.cite]
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: tuple[Block, ...]
    level: int = 2                    # 2 for H2, 3 for an H3 inside the previous H2


@dataclass(frozen=True)
class Suggestions:
    """What the LLM proposes for SEO; seo/ checks and may replace every field."""

    keyphrase: str = ""
    meta_title: str = ""
    meta_description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Article:
    title: str
    intro: tuple[Block, ...]
    sections: tuple[Section, ...]     # body sections, H2 and H3, in order
    conclusion: Section               # the closing section, with its own H2
    suggestions: Suggestions = field(default_factory=Suggestions)

    @property
    def all_sections(self) -> tuple[Section, ...]:
        return (*self.sections, self.conclusion)

    @property
    def outline(self) -> tuple[str, ...]:
        return tuple(s.heading for s in self.all_sections if s.level == 2)


@dataclass(frozen=True)
class Usage:
    """One LLM request, as recorded in state (or several summed: ``requests`` counts them,
    refused and failed ones included)."""

    model: str
    purpose: str                      # "write", "expand", "translate", "fix_facts", "seo_parts"…
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    cost: float = 0.0
    finish_reason: str = ""
    requests: int = 1
    status: str = ""                  # "200", or why it gave nothing: "500 refused", "timeout"…


@dataclass(frozen=True)
class Check:
    """One SEO, readability or quality check, shown green/orange/red to the editor."""

    id: str                           # "keyphrase_in_title", "min_words", …
    label: str                        # French, for the editor
    status: Literal["good", "ok", "bad"]
    detail: str = ""


@dataclass(frozen=True)
class SeoMeta:
    keyphrase: str
    meta_title: str
    meta_description: str
    slug: str
    tags: tuple[str, ...]
    category: str = ""
    excerpt: str = ""
    outline: tuple[str, ...] = ()


@dataclass(frozen=True)
class RelatedPost:
    """A published post of the site, as the related-posts search found it."""

    id: int
    title: str
    url: str
    keyphrase: str = ""               # its focus keyphrase, when the site shows it ("" else)


@dataclass(frozen=True)
class RelatedPosts:
    """What the site already holds near the story: asked once, before writing.

    ``reason`` names why nothing was asked or found: "dry_run" (no WordPress), "unsupported"
    (XML-RPC), "search_failed" (``error``: the HTTP status or the network failure's named
    reason); "" when it answered.
    """

    site_url: str = ""
    posts: tuple[RelatedPost, ...] = ()   # most related first; the first few go to the writer
    others: tuple[RelatedPost, ...] = ()  # found, but no title word shared with the story
    keyphrases_shown: bool = False        # the site exposes its posts' focus keyphrases
    reason: str = "dry_run"
    error: str = ""

    OFFERED: ClassVar[int] = 5            # posts shown to the writer, which may link 1 to 3

    @property
    def asked(self) -> bool:
        return not self.reason

    @property
    def offered(self) -> tuple[RelatedPost, ...]:
        return self.posts[:self.OFFERED]

    @property
    def found(self) -> tuple[RelatedPost, ...]:
        """Every post the search found: their focus keyphrases all count as taken."""
        return (*self.posts, *self.others)


@dataclass(frozen=True)
class Report:
    """What the editor needs to know; stored in the draft's ``publisher_report`` meta."""

    word_count: int = 0
    target_words: int = 700
    warnings: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()
    untraceable: tuple[str, ...] = ()  # figures and quotes not found in any source
    passages: tuple[str, ...] = ()     # the source sentence nearest each of them ("": none)
    checks: tuple[Check, ...] = ()
    usage: tuple[Usage, ...] = ()
    sources: tuple[str, ...] = ()      # "Label — URL" for each source
    # Why the article must not reach WordPress (named codes: under_half_length, not_french,
    # prompt_echo, not_an_article), each with its French warning in ``warnings``.
    blocking: tuple[str, ...] = ()
    # Passages of the sources (or the article) that give the model orders, « … » (where,
    # kind): neutralised when writing, shown to the editor (quality/injection.py).
    injections: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.blocking)

    @property
    def llm_calls(self) -> int:
        """Every request made to the LLM, retries and refused ones included."""
        return sum(u.requests for u in self.usage)

    @property
    def tokens_in(self) -> int:
        return sum(u.input_tokens for u in self.usage)

    @property
    def tokens_out(self) -> int:
        return sum(u.output_tokens for u in self.usage)

    @property
    def cost(self) -> float:
        return round(sum(u.cost for u in self.usage), 6)

    @property
    def short(self) -> bool:
        return self.word_count < self.target_words

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(llm_calls=self.llm_calls, tokens_in=self.tokens_in,
                    tokens_out=self.tokens_out, cost=self.cost)
        return data


@dataclass(frozen=True)
class Draft:
    """Exactly what is sent to WordPress; the dry-run folder's payload.json is this, as JSON."""

    title: str
    content: str                      # Gutenberg block HTML, sanitized
    excerpt: str = ""
    slug: str = ""
    status: str = "draft"             # draft | pending | future | publish
    date: str = ""                    # ISO 8601, for status "future"
    tags: tuple[str, ...] = ()        # names; wordpress/ turns them into ids
    categories: tuple[str, ...] = ()  # names
    meta: dict[str, str] = field(default_factory=dict)
    image: str = ""                   # featured image: local path or URL
    image_alt: str = ""
    image_credit: str = ""
    source_url: str = ""
    source_hash: str = ""
    word_count: int = 0
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        data["categories"] = list(self.categories)
        data["warnings"] = list(self.warnings)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Draft":
        known = {f for f in cls.__dataclass_fields__}
        clean = {k: v for k, v in data.items() if k in known}
        for key in ("tags", "categories", "warnings"):
            clean[key] = tuple(clean.get(key) or ())
        clean["meta"] = {str(k): str(v) for k, v in (clean.get("meta") or {}).items()}
        return cls(**clean)


@dataclass(frozen=True)
class PostResult:
    """A post as WordPress stored it."""

    id: int
    status: str
    slug: str
    link: str
    edit_link: str
    requested_slug: str = ""
    warnings: tuple[str, ...] = ()
    reused: bool = False              # an existing post (same source hash) was updated

    @property
    def slug_renamed(self) -> bool:
        return bool(self.requested_slug) and self.slug != self.requested_slug


# An outcome's kind, spelled once: stored (outcomes.kind, stories.status), counted by stats,
# shown by history and the CLI. A failed story then moves to one of the retry statuses
# (state/retries.py): waiting for its next attempt, submitted again, or given up.
DRAFTED, DRY_RUN, SKIPPED, FAILED = "drafted", "dry_run", "skipped", "failed"
RETRYING, QUEUED, ABANDONED = "retrying", "queued", "abandoned"
RETRY_STATUSES = (RETRYING, QUEUED, ABANDONED)


@dataclass(frozen=True)
class Outcome:
    """What happened to one story: drafted, skipped (with a reason) or failed (with the error)."""

    kind: Literal["drafted", "dry_run", "skipped", "failed"]
    reason: str = ""                  # named: too_short, already_drafted, http_404, …
    error: str = ""
    post: PostResult | None = None
    draft: Draft | None = None
    report: Report | None = None
    seo: SeoMeta | None = None
    folder: str = ""                  # the dry-run folder, when one was written
