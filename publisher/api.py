"""The Python API behind the CLI: ``draft()`` one story, ``push()`` a prepared folder.

Each returns an :class:`~publisher.models.Outcome`. The order of work is chosen so that nothing
expensive happens before the cheap checks pass: settings, then the sources, then WordPress
credentials, and only then the LLM.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .config import Settings
from .errors import ConfigError, NetworkError, PublisherError, QualityError, SourceError
from .limits import LlmLimits, limited_openai_client
from .models import Brief, Draft, Outcome, PostResult, Report, SeoMeta, Source
from .net import Http
from .render.preview import read_dry_run, write_dry_run
from .sites import OpenSite, open_site
from .sources.clean import words
from .sources.load import load_sources
from .sources.web import MIN_ARTICLE_WORDS
from .state.db import Store
from .state.limits import Limits
from .wordpress.terms import normalize
from . import pipeline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DraftRequest:
    inputs: tuple[str, ...]
    dry_run: bool = False
    out_dir: str = ""
    min_words: int | None = None
    update: bool = False          # rewrite the post already drafted from these same sources
    keep_status: bool = False     # --update without --status: the post keeps its status
    site: str | None = None       # --site: the site of the sites file (None: the only one)
    options: pipeline.Options = field(default_factory=pipeline.Options)


def draft(request: DraftRequest, settings: Settings | None = None, *, stdin=None,
          progress=None) -> Outcome:
    """Turn the inputs (files, URLs, "-") into one French article and draft it, all within
    ``settings.item_timeout`` seconds (sources, WordPress and the LLM share one deadline)."""
    settings = settings or Settings.load()
    check_options(request.options)
    deadline = time.monotonic() + settings.item_timeout
    sources, brief = load_inputs(request, settings, stdin, deadline=deadline)
    settings.require_llm()
    store = open_store(settings)
    shared = Limits(store)
    site = open_site(settings, request.site, shared=shared, deadline=deadline,
                     connect=not request.dry_run)
    settings, client = site.settings, site.client
    options = _site_options(request.options, site) if client else request.options
    story = pipeline.Story(tuple(sources), brief, options, update=request.update,
                           keep_status=request.keep_status)
    first = sources[0]          # so that `history` names what each outcome was about
    store.mark_source(story.source_hash, next((s.url for s in sources if s.url), ""),
                      story.source_hash,
                      first.title or {"-": "stdin"}.get(first.origin, first.origin))
    turns = Interactive(request, settings, store, site, story.source_hash, deadline,
                        progress, shared)
    return pipeline.run_story(story, turns, client)


@dataclass(frozen=True)
class Interactive:
    """`draft`'s side of one story (pipeline.Turns): WordPress and the LLM asked now, the
    outcome recorded under the source hash, refused or unpushed articles written as dry-run
    folders, failures raised (a paid article saved first)."""

    request: DraftRequest
    settings: Settings
    store: Store
    site: OpenSite
    story: str
    deadline: float
    progress: object = None
    shared: Limits | None = None

    def lookup(self, source_hash: str) -> pipeline.Found:
        client = self.site.client
        return (pipeline.lookup(client, source_hash, self.store, self.settings.wp_url)
                if client else pipeline.Found())

    def llm(self):
        return make_llm(self.settings, self.store, self.story, deadline=self.deadline,
                        progress=self.progress, shared=self.shared)

    def push(self, draft_: Draft, status: str | None, found: pipeline.Found) -> PostResult:
        client = self.site.client
        # "Nothing there" was true before the LLM's minute: ask again, in case another run
        # drafted these sources meanwhile. A post found stays found.
        post = pipeline.push(client, draft_, status=status, found=found,
                             looked_up=found.raw is not None and client.supports_hash_lookup(),
                             author_id=self.site.author_id, site=self.site.name)
        self.store.record_post(self.settings.wp_url, self.story, draft_.source_hash, post)
        return post

    def kept_back(self, prepared: pipeline.Prepared) -> Outcome:
        raise _kept_back(prepared, self.request, self.settings, self.store, self.story)

    def unpushed(self, prepared: pipeline.Prepared) -> Outcome | None:
        short = self.request.options.strict and prepared.report.short
        if self.site.client is not None and not short:
            return None
        outcome = _dry_run(prepared, self.request, self.settings, self.store, self.story)
        if short:
            raise strict_failure(prepared.report, outcome.folder)
        return outcome

    def failed(self, err: PublisherError, prepared: pipeline.Prepared | None) -> Outcome:
        if prepared is None:                # history must say why, as for feed stories
            self.record(Outcome("failed", reason=err.reason, error=str(err)))
            raise err
        err = _out_of_time(err, self.deadline, self.settings)
        self.record(Outcome("failed", reason=err.reason, error=str(err), draft=prepared.draft,
                            report=prepared.report, seo=prepared.seo))
        # The article is paid for: never lose it.
        raise _saved_for_later(err, prepared, self.request, self.settings) from None

    def record(self, outcome: Outcome) -> Outcome:
        self.store.record_outcome(self.story, outcome)
        return outcome


def push(folder: str | Path, settings: Settings | None = None, *,
         status: str | None = None, date: str = "", update: bool = False,
         site: str | None = None) -> Outcome:
    """Publish exactly what a dry-run folder holds (payload.json; content.html if edited).
    A post already made from the same sources is left alone (an editor may have changed it
    in WordPress since) unless ``update``. As with ``draft``, the status and date come from
    the caller only (the folder's are ignored): a draft unless ``status`` says otherwise."""
    settings = settings or Settings.load()
    if status:
        check_options(pipeline.Options(status=status, date=date))
    draft_ = read_folder(Path(folder))
    if status:
        draft_ = replace(draft_, status=status, date=date if status == "future" else "")
    deadline = time.monotonic() + settings.item_timeout
    store = open_store(settings)
    opened = open_site(settings, site, shared=Limits(store), deadline=deadline)
    settings, client = opened.settings, opened.client
    if client is None:
        settings.require_wordpress()          # says which WP_* setting is missing
    story = draft_.source_hash or "push:" + str(Path(folder).resolve())
    found = (pipeline.lookup(client, draft_.source_hash, store, settings.wp_url)
             if draft_.source_hash else pipeline.Found())
    if found.post is not None and not update:
        outcome = Outcome("skipped", reason="already_drafted", post=found.post, draft=draft_)
        store.record_outcome(story, outcome)
        return outcome
    return _push(client, draft_, store, story, settings, None, None, status=status,
                 found=found, looked_up=bool(draft_.source_hash)
                 and client.supports_hash_lookup(), deadline=deadline, site=opened)


# --- the steps ------------------------------------------------------------------------------

STATUSES = ("draft", "pending", "future", "publish")
TZ_SPAN = timedelta(hours=14)             # the widest UTC offset a site's timezone can have


def check_options(options: pipeline.Options) -> None:
    """Refuse a status or date WordPress would refuse, before any token is spent on them."""
    if options.status not in STATUSES:
        raise ConfigError(f"post status {options.status!r} is not one of {', '.join(STATUSES)}; "
                          "fix --status or PUBLISHER_STATUS")
    if options.status != "future":
        return
    try:
        when = datetime.fromisoformat(options.date.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"publication date {options.date!r} is not ISO 8601 "
                          "(e.g. 2026-12-01T08:00:00+01:00); fix --date") from None
    now = datetime.now(timezone.utc)
    # A naive date is in the site's timezone, not known yet: refuse only what is past anywhere.
    past = (when.replace(tzinfo=timezone.utc) + TZ_SPAN <= now if when.tzinfo is None
            else when <= now)
    if past:
        raise ConfigError(f"publication date {options.date} is in the past: WordPress would "
                          "publish at once; give a later --date or use --status draft")


def _saved_for_later(err: PublisherError, prepared: pipeline.Prepared, request: DraftRequest,
                     settings: Settings) -> PublisherError:
    """The push failed after the LLM was paid: keep the article as a dry-run folder and say
    how to send it once the cause is fixed (same error class, so the same exit code)."""
    folder = Path(request.out_dir or default_folder(settings, prepared.draft))
    try:
        write_dry_run(folder, prepared.draft, prepared.seo, prepared.report,
                      site_url=settings.wp_url)
    except OSError as exc:
        log.error("could not save the article in %s: %s", folder, exc)
        return err
    err.args = (f"{err}; the article is saved in {folder}: once that is fixed, "
                f"`publisher push {folder}` sends it without new LLM calls",)
    return err

def load_inputs(request: DraftRequest, settings: Settings, stdin=None, *,
                deadline: float | None = None) -> tuple[list[Source], Brief]:
    http = item_http(settings, deadline)
    sources, brief = load_sources(list(request.inputs), http=http, settings=settings, stdin=stdin)
    _require_material(sources)
    if request.min_words:
        brief = replace(brief, min_words=request.min_words)
    return sources, brief


def _require_material(sources: list[Source]) -> None:
    """A few words are no article: the model would invent the rest. The floor a web page
    already has (sources.web) applies to files and stdin too."""
    found = sum(words(s.text) for s in sources)
    if found < MIN_ARTICLE_WORDS:
        where = ", ".join({"-": "stdin", "": "the text"}.get(s.origin, s.origin) for s in sources)
        raise SourceError(f"{where}: only {found} words of article text, under the "
                          f"{MIN_ARTICLE_WORDS} needed to write from; give the full article",
                          reason="no_article")


def item_http(settings: Settings, deadline: float | None = None):
    """The HTTP client of one item: no request of it runs past ``deadline``."""
    return Http(timeout=settings.http_timeout, allow_private=settings.allow_private_urls,
                deadline=deadline)


def _site_options(options: pipeline.Options, site: OpenSite) -> pipeline.Options:
    """The caller's options over the site's: its categories (learnt when it was opened, so
    before any token is spent) and its default category unless one is asked."""
    categories = site.options.categories
    category = options.category or site.options.category
    _check_category(category, categories)
    return replace(options, categories=categories or options.categories, category=category)


def _check_category(name: str, categories: tuple[str, ...]) -> None:
    """A category that does not exist would be dropped from the post after the tokens are
    spent (categories are never created). Only a complete list (under the 100 that one page
    holds) can prove it absent."""
    if not name or not categories or len(categories) >= 100:
        return
    if normalize(name) not in {normalize(c) for c in categories}:
        raise ConfigError(f"category {name!r} does not exist on the site (it has: "
                          f"{', '.join(sorted(categories))}); fix --category or "
                          "PUBLISHER_CATEGORY, or create it in WordPress")


def make_llm(settings: Settings, store, story: str, *, deadline: float | None = None,
             progress=None, shared: Limits | None = None):
    """The story's LLM; with ``shared``, its requests obey the limits every worker shares
    (PUBLISHER_LLM_RPM, _TPM, _CONCURRENCY), as a feed story's do."""
    from .writer.llm import LLM   # late import: openai costs ~0.3 s; push and history need none
    recorder = (lambda usage: store.record_llm_call(usage, story)) if store else None
    llm = LLM(settings, recorder=recorder, deadline=deadline, capabilities=store,
              progress=progress)
    limits = LlmLimits.from_settings(settings)
    if limits.active and shared is not None:
        limited_openai_client(llm, shared, limits)
    return llm


def open_store(settings: Settings):
    from sqlalchemy.exc import OperationalError
    try:
        return Store(settings.db, secrets=settings.secrets())   # migrates on open
    except OperationalError as exc:     # a server down or a file we may not write: a setting
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise ConfigError(f"database {_safe_db(settings.db)} cannot be opened ({reason}); "
                          "start it or point PUBLISHER_DB elsewhere") from None


def _safe_db(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:               # not a URL at all: Store says so, this is only a label
        return url.split("@")[-1]


def _dry_run(prepared: pipeline.Prepared, request: DraftRequest, settings: Settings, store,
             story: str) -> Outcome:
    folder = Path(request.out_dir or default_folder(settings, prepared.draft))
    write_dry_run(folder, prepared.draft, prepared.seo, prepared.report, site_url=settings.wp_url)
    outcome = Outcome("dry_run", draft=prepared.draft, report=prepared.report,
                      seo=prepared.seo, folder=str(folder))
    store.record_outcome(story, outcome)
    return outcome


def _push(client, draft_: Draft, store, story: str, settings: Settings,
          seo: SeoMeta | None, report: Report | None, *, status: str | None = None,
          found: pipeline.Found = pipeline.Found(), looked_up: bool = False,
          deadline: float | None = None, site: OpenSite | None = None) -> Outcome:
    # The status comes from the command line only (``status``), never from a payload.
    try:
        post = pipeline.push(client, draft_, status=status, found=found, looked_up=looked_up,
                             author_id=site.author_id if site else None,
                             site=site.name if site else "")
    except PublisherError as exc:
        err = _out_of_time(exc, deadline, settings)
        outcome = Outcome("failed", reason=err.reason, error=str(err), draft=draft_,
                          report=report, seo=seo)
        store.record_outcome(story, outcome)
        if err is exc:
            raise
        raise err from None
    store.record_post(settings.wp_url, story, draft_.source_hash, post)
    outcome = Outcome("drafted", post=post, draft=draft_, report=report, seo=seo)
    store.record_outcome(story, outcome)
    return outcome


def _out_of_time(err: PublisherError, deadline: float | None,
                 settings: Settings) -> PublisherError:
    """A WordPress request cut by the item's deadline says so (and which setting to raise)."""
    if deadline is None or time.monotonic() < deadline or not isinstance(err, NetworkError) \
            or err.reason != "timeout":
        return err
    return NetworkError(f"WordPress did not get the post: the item's time budget "
                        f"(PUBLISHER_ITEM_TIMEOUT={settings.item_timeout:g} s) ran out; raise "
                        "PUBLISHER_ITEM_TIMEOUT", url=err.url, reason="item_timeout")


def default_folder(settings: Settings, draft_: Draft) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(settings.drafts_dir) / f"{stamp}-{draft_.slug or 'article'}"


def read_folder(folder: Path) -> Draft:
    """Read a dry-run folder; content.html, when present, is the editor's final say (sanitized
    again: an editor's paste must not carry a script into WordPress either)."""
    draft_, _payload = read_dry_run(folder)
    if not draft_.title.strip() or not draft_.content.strip():
        raise PublisherError(f"{folder / 'payload.json'}: title or content is empty; nothing "
                             "to push", reason="bad_dry_run")
    return draft_


def _kept_back(prepared: pipeline.Prepared, request: DraftRequest, settings: Settings, store,
               story: str) -> QualityError:
    """An answer the gate refuses (under half the length, not French, the prompt echoed…) is
    never pushed: it is kept as a dry-run folder with its reasons, and the draft fails (exit 1)
    with the first reason, recorded for `history`."""
    report = prepared.report
    folder = Path(request.out_dir or default_folder(settings, prepared.draft))
    write_dry_run(folder, prepared.draft, prepared.seo, report, site_url=settings.wp_url)
    reasons = ", ".join(report.blocking)
    err = QualityError(f"the model's answer cannot be drafted ({reasons}): not pushed, kept in "
                       f"{folder} with the report; try a stronger model (PUBLISHER_MODEL) or "
                       "check the source", reason=report.blocking[0])
    err.usage = _summed(report)
    store.record_outcome(story, Outcome("failed", reason=err.reason, error=str(err),
                                        draft=prepared.draft, report=report, seo=prepared.seo,
                                        folder=str(folder)))
    return err


def _summed(report: Report):
    from .writer.llm import merge_usage   # late import: openai costs ~0.3 s (see make_llm)
    return merge_usage(list(report.usage), report.usage[0].model if report.usage else "", "")


def strict_failure(report: Report, folder: str) -> QualityError:
    return QualityError(f"article is {report.word_count} words, under the {report.target_words} "
                        f"asked (--strict): not pushed, saved in {folder}; add material to the "
                        "source or lower --min-words", reason="too_short")
