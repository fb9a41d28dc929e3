"""One feed run: poll the feeds, extract the new items' articles, group them into stories,
draft each story on the workflow engine, and sum it up for cron.

    feeds ─► fetch (conditional GET) ─► new items (--since, --limit) ─► extract each link
          ─► group (same story → one article crediting every outlet) ─► one workflow per story
          ─► wait, count ─► Summary: "feed: 6 new, 4 drafted, 1 skipped (already_drafted) …"

Nothing here stops the run for one feed or one item: a feed that is down, garbled or empty,
and an item whose page answers 404, each end as a named outcome while the rest go on.
Overlapping runs are safe because a story's workflow ID is its identity (see workflows.py):
no lock file. Items are marked seen, and a feed's validators (ETag, Last-Modified) saved, only
once their stories are safely queued, so a crash in between costs a re-check, never an item.

Exit codes: 0 all good, 1 some feed or story failed, 2 configuration (raised as ConfigError
before anything is spent).

Sites (``PUBLISHER_SITES``, see sites.py): a run covers the selected sites, each with its own
feeds, WordPress client, category and status; its stories carry the site's name. With
``enqueue`` the run only queues its stories for the workers (``run_worker``) and returns.
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from ..config import Settings
from ..errors import CONFIG, ConfigError, PublisherError, WordPressError, failure_class
from ..models import Brief, Outcome, Source
from .. import pipeline
from ..sites import load_sites, open_site, schedule_to_cron, select
from .fetch import FeedItem, FeedResult, fetch_feed, remember_feed
from .group import group_id, group_items

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    limit: int | None = None               # at most this many new items per run
    since: datetime | None = None          # ignore items published before
    concurrency: int = 2                   # stories drafted at once (queue workers)
    min_words: int | None = None
    site: str | None = None                # --site: one site of the sites file
    enqueue: bool = False                  # queue the stories for the workers, draft nothing
    dry_run: bool = False                  # a dry-run folder per story; no WordPress, no state


@dataclass
class Summary:
    new: int = 0
    drafted: int = 0
    queued: int = 0
    written: int = 0                       # --dry-run: folders written
    skipped: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    tokens: int = 0
    cost: float = 0.0
    feeds: list[dict] = field(default_factory=list)
    stories: list[dict] = field(default_factory=list)

    def add_story(self, result) -> None:
        """A StoryResult, or an extraction failure shaped like one."""
        if result.kind == "drafted":
            self.drafted += 1
        elif result.kind == "dry_run":
            self.written += 1
        elif result.kind == "skipped":
            self.skipped[result.reason or "skipped"] += 1
        else:
            self.failed[result.reason or "error"] += 1
        self.tokens += result.input_tokens + result.output_tokens
        self.cost = round(self.cost + result.cost, 6)
        self.stories.append({k: v for k, v in result.__dict__.items()})

    def add_feed(self, result: FeedResult, new: int) -> None:
        if result.status == "failed":
            self.failed[result.reason] += 1
        elif result.reason:
            self.skipped[result.reason] += 1
        for _, reason in result.skipped:           # items refused by fetch (unsafe_link)
            self.skipped[reason] += 1
        self.feeds.append({"url": result.url, "status": result.status, "reason": result.reason,
                           "error": result.error, "items": len(result.items), "new": new,
                           "left_out": result.left_out, "unsafe": len(result.skipped)})

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def line(self, command: str = "feed") -> str:
        parts = [f"{self.new} new", f"{self.drafted} drafted"]
        if self.queued:
            parts.append(f"{self.queued} queued")
        if self.written:
            parts.append(f"{self.written} written to folders (dry run)")
        for label, counts in (("skipped", self.skipped), ("failed", self.failed)):
            if counts:
                parts.append(f"{sum(counts.values())} {label} ({', '.join(sorted(counts))})")
        tokens = f"{self.tokens:,}".replace(",", " ")
        return f"{command}: {', '.join(parts)} · {tokens} tokens · ${self.cost:.4f}"

    def to_dict(self) -> dict:
        return {"new": self.new, "drafted": self.drafted, "queued": self.queued,
                "written": self.written,
                "skipped": dict(self.skipped),
                "failed": dict(self.failed), "tokens": self.tokens, "cost": self.cost,
                "feeds": self.feeds, "stories": self.stories}


class Progress:
    """What a run tells its caller as it goes. The default says nothing."""

    def start(self, total: int) -> None: ...
    def stage(self, text: str) -> None: ...
    def feed(self, result: FeedResult, new: int) -> None: ...
    def story(self, result) -> None: ...
    def clear(self) -> None: ...        # the run is over: erase what is drawn (the CLI calls it)


@dataclass(frozen=True)
class Batch:
    """What one poll found: the stories to draft (with their items), and each feed's result
    (with whether --limit cut it short)."""

    stories: list[tuple[Any, list[FeedItem]]]
    feeds: list[tuple[FeedResult, bool]]


@dataclass(frozen=True)
class Failure:
    """An item that never reached a workflow (its page could not be read)."""

    story_id: str
    kind: str
    reason: str
    error: str
    title: str
    link: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0


# --- the run -----------------------------------------------------------------------------------

def run_feeds(urls: Sequence[str], settings: Settings, options: RunOptions | None = None,
              progress: Progress | None = None) -> Summary:
    """Poll ``urls`` (or, with a sites file and no URL, the selected sites' feeds) and draft
    their new stories — or only queue them (``options.enqueue``). Raises ConfigError before
    any work when the LLM, WordPress or the database is not usable."""
    options, progress = options or RunOptions(), progress or Progress()
    plan = feed_plan(urls, settings, options.site)
    if options.dry_run:
        return _dry_run_feeds(plan, settings, options, progress)
    return _with_engine(settings, options, progress, [site for site, _ in plan],
                        lambda runs: [wid for site, feeds in plan
                                      for wid in runs[site.name].poll_all(feeds)])


def _dry_run_feeds(plan, settings: Settings, options: RunOptions, progress: Progress) -> Summary:
    """``feed --dry-run``: the stories of the feeds, each written as the folder ``draft
    --dry-run`` writes, under PUBLISHER_DRAFTS_DIR. No WordPress is needed or contacted and
    nothing is marked seen or retried: a real run later drafts the same stories."""
    settings.require_llm()
    check_llm(settings)
    store = _open_state(settings)[0]
    runs = []
    for site, feeds in plan:
        run = _Run(settings, options, progress, store, None,
                   _site_options(site.settings(settings), None), site)
        batch = run.collect(feeds)
        progress.start(len(batch.stories))
        workers = max(1, min(options.concurrency, 8))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            live = progress if callable(progress) else None
            for result in pool.map(lambda job: _dry_draft(job, settings, store, live),
                                   [job for job, _ in batch.stories]):
                run.done(result)
        runs.append(run.summary)
    store.close()
    return _merge(runs)


def _dry_draft(job, settings: Settings, store, progress=None) -> "Failure":
    """One story through the pipeline into its folder (drafts/<story>-<slug>)."""
    from ..api import make_llm
    from ..render.preview import write_dry_run
    title = job.titles[0] if job.titles else ""
    llm = make_llm(settings, store, job.story_id, progress=progress)
    try:
        prepared = pipeline.prepare(list(job.sources), job.brief, job.options, llm)
        folder = Path(settings.drafts_dir) / f"{job.story_id}-{prepared.draft.slug or 'article'}"
        write_dry_run(folder, prepared.draft, prepared.seo, prepared.report,
                      site_url=settings.wp_url)
    except PublisherError as err:
        return Failure(job.story_id, "failed", err.reason, str(err), title)
    spent = store.usage_totals(job.story_id)
    blocked = prepared.report.blocking[0] if prepared.report.blocked else ""
    return Failure(job.story_id, "failed" if blocked else "dry_run", blocked,
                   f"not an article to push, kept in {folder}" if blocked else "",
                   prepared.article.title or title,
                   link=str(folder), input_tokens=spent["input_tokens"],
                   output_tokens=spent["output_tokens"], cost=spent["cost"])


def abandon_story(settings: Settings, story_id: str) -> dict:
    """``retry --abandon ID``: the story is never retried again (shown so by history)."""
    from ..state import retries
    store = _open_state(settings)[0]
    row = retries.abandon(store, story_id)
    if row is None:
        raise ConfigError(f"no story {story_id!r} is waiting or failed; `publisher history` "
                          "shows the story IDs")
    log.info("Story %s abandoned by hand.", story_id)
    return row


def feed_plan(urls: Sequence[str], settings: Settings, site_name: str | None):
    """Which feeds to poll for which site: [(Site, [url, …])]."""
    sites = select(load_sites(settings), site_name)
    urls = list(dict.fromkeys(urls))
    if urls:
        if len(sites) > 1:
            raise ConfigError("feed URLs given with several sites: say which site they feed "
                              "with --site NAME")
        plan = [(sites[0], urls)]
    else:
        plan = [(site, list(site.feeds)) for site in sites if site.feeds]
    if not plan:
        raise ConfigError("no feed given: pass feed URLs or --feeds FILE (one URL a line)")
    return plan


def retry_failed(settings: Settings, options: RunOptions | None = None,
                 progress: Progress | None = None) -> Summary:
    """Run the stories whose latest outcome is a failure once more."""
    options, progress = options or RunOptions(), progress or Progress()
    sites = select(load_sites(settings), options.site)
    return _with_engine(settings, options, progress, sites,
                        lambda runs: [w for run in runs.values() for w in run.retry_all()])


def watch_feeds(urls: Sequence[str], settings: Settings, schedule: str,
                options: RunOptions | None = None, stop=None) -> None:
    """Poll ``urls`` on the cron ``schedule`` until SIGTERM/SIGINT (or ``stop`` is set);
    stories left unfinished by an earlier process are resumed at start. With
    ``options.enqueue`` this process only polls and queues (workers draft)."""
    from .. import workflows
    options = options or RunOptions()
    plan = feed_plan(urls, settings, options.site)
    if len(plan) > 1:
        raise ConfigError("watch polls one site: add --site NAME, or run `publisher worker`, "
                          "which polls every site of the sites file on its schedule")
    [(site, feeds)] = plan
    check_schedule(schedule)
    stop = _stop_on_signals(stop)
    store, shared = _open_state(settings)
    client, pipeline_options = _prepare_site(site, settings, options, shared)
    engine = workflows.launch(settings, options.concurrency, wordpress=_implicit(site, client),
                              store=store, mode="enqueue-watch" if options.enqueue else "watch",
                              sites=[site])
    name = ""
    try:
        engine.use_clients({site.name: client})
        engine.set_poller(_Run(settings, options, Progress(), store, engine, pipeline_options,
                               site))
        resumed = engine.unfinished()
        if resumed:
            log.warning("Resuming %d stories left unfinished by an earlier run.", len(resumed))
        name = engine.schedule(feeds, schedule, _job_site(site))
        log.warning("Watching %d feeds (%s); stop with Ctrl-C or SIGTERM.", len(feeds), schedule)
        while not stop.wait(1.0):
            if engine.config_failed():      # a story met a setting that is wrong: check
                _recheck(site, settings, options, shared)
    finally:
        if name:
            engine.unschedule(name)
        engine.close()


def _recheck(site, settings: Settings, options: RunOptions, shared) -> None:
    """After a configuration-class failure: the LLM, the model and WordPress again. Still
    wrong: ConfigError, the watcher stops (exit 2) instead of failing every story."""
    log.warning("A story failed for a configuration reason: checking the LLM and WordPress.")
    _prepare_site(site, settings, options, shared)
    log.warning("The LLM and WordPress answer as expected again; watching on.")


def check_schedule(cron: str) -> str:
    """A cron expression the engine can run (5 fields, or 6 with seconds first), or a
    ConfigError saying how to write one."""
    from croniter import croniter
    if not croniter.is_valid(cron, second_at_beginning=True):
        raise ConfigError(f"--cron {cron!r} is not a cron schedule; write five fields, e.g. "
                          '"*/10 6-22 * * *" (every 10 min, 6:00 to 22:59), or use --every 15m')
    return cron


def run_worker(settings: Settings, worker_id: str, concurrency: int = 2, stop=None) -> None:
    """A worker: draft the stories of every site from the shared queue, and run the sites'
    scheduled polls, until SIGTERM/SIGINT. ``worker_id`` is its stable identity."""
    from .. import workflows
    settings.require_llm()
    check_llm(settings)                 # as feed and watch: an absent model stops it at start
    sites = load_sites(settings)
    stop = _stop_on_signals(stop)
    store, shared = _open_state(settings)
    implicit = next((s for s in sites if s.implicit), None)
    client = _open_client(implicit, settings, shared) if implicit and implicit.url else None
    engine = workflows.launch(settings, concurrency, wordpress=client, store=store,
                              mode="worker", worker_id=worker_id, sites=sites)
    try:
        by_name = {s.name: s for s in sites}
        options = RunOptions(concurrency=concurrency)
        engine.set_poller_factory(lambda name: _site_run(
            settings, options, store, engine, by_name.get(name or "default") or implicit, shared))
        scheduled = engine.schedule_sites([s for s in sites if not s.implicit], schedule_to_cron)
        log.warning("worker %s: drafting from the queue (%d at once)%s; stop with SIGTERM",
                    worker_id, concurrency, f", polling {len(scheduled)} sites" if scheduled else "")
        stop.wait()
    finally:
        engine.close()


def _stop_on_signals(stop=None):
    import signal
    import threading
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    return stop


def _with_engine(settings, options, progress, sites, work) -> Summary:
    from .. import workflows
    store, shared = _open_state(settings)
    prepared = {site.name: _prepare_site(site, settings, options, shared) for site in sites}
    implicit = next((s for s in sites if s.implicit), None)
    engine = workflows.launch(
        settings, options.concurrency, store=store, sites=sites,
        wordpress=prepared[implicit.name][0] if implicit else None,
        mode="enqueue" if options.enqueue else "run",
        llm_progress=progress if callable(progress) else None)
    try:
        engine.use_clients({name: client for name, (client, _) in prepared.items()})
        runs = {site.name: _Run(settings, options, progress, store, engine,
                                prepared[site.name][1], site) for site in sites}
        first = next(iter(runs.values()))
        resumed = [] if options.enqueue else engine.unfinished()
        if resumed:
            log.warning("Resuming %d stories left unfinished by an earlier run.", len(resumed))
        submitted = work(runs)
        if options.enqueue:
            first.summary.queued = len(submitted)
            return _merge([run.summary for run in runs.values()])
        waiting = list(dict.fromkeys([*resumed, *submitted]))
        progress.start(len(waiting))
        stopper = _StopOnConfig(first.done)
        left = engine.wait(waiting, stopper.done, stop=stopper.stopped)
        if stopper.error is not None:
            _stop_run(engine, store, left, stopper.stopped_ids, stopper.error)
        return _merge([run.summary for run in runs.values()])
    finally:
        engine.close()


class _StopOnConfig:
    """Passes each story on; remembers the first configuration-class failure, which stops
    the run before its next story (every later story would fail the same way), and the
    stories the engine did not start because of it."""

    def __init__(self, on_done):
        self.on_done, self.error, self.stopped_ids = on_done, None, []

    def done(self, result) -> None:
        from ..workflows import STOPPED
        if result.reason == STOPPED:
            self.stopped_ids.append(result.workflow_id)
            return
        self.on_done(result)
        if result.kind == "failed" and failure_class(result.reason) == CONFIG \
                and self.error is None:
            self.error = ConfigError(result.error or result.reason, reason=result.reason)

    def stopped(self) -> bool:
        return self.error is not None


def _stop_run(engine, store, left: list[str], stopped: list[str], error: ConfigError) -> None:
    """Cancel the stories not finished yet; they and the ones not started are due again at
    the next run (no attempt counted). End the run with the one line that says what to fix
    (exit 2)."""
    from ..state import retries
    from ..workflows import site_of, story_of
    engine.cancel(left)
    for wid in [*left, *stopped]:
        retries.release(store, [story_of(wid)], site_of(wid))
    count = len(left) + len(stopped)
    suffix = f"; {count} more stories left for the next run" if count else ""
    raise ConfigError(f"{error}{suffix}", reason=error.reason)


def _merge(summaries: list[Summary]) -> Summary:
    total = Summary()
    for part in summaries:
        total.new += part.new
        total.drafted += part.drafted
        total.queued += part.queued
        total.written += part.written
        total.skipped.update(part.skipped)
        total.failed.update(part.failed)
        total.tokens += part.tokens
        total.cost = round(total.cost + part.cost, 6)
        total.feeds += part.feeds
        total.stories += part.stories
    return total


def _open_state(settings: Settings):
    from ..api import open_store
    from ..state.limits import Limits
    store = open_store(settings)
    return store, Limits(store)


def _open_client(site, settings: Settings, shared):
    from .. import workflows
    return workflows.open_site_client(site, settings, shared)


def _implicit(site, client):
    return client if site is None or site.implicit else None


def _job_site(site) -> str:
    return "" if site is None or site.implicit else site.name


def _prepare_site(site, settings: Settings, options: RunOptions, shared):
    """Everything that can be wrong with a site's configuration, found before a token is
    spent: its client (auth checked) and the pipeline options (category, status)."""
    site_settings = site.settings(settings)
    site_settings.require_llm()
    site_settings.require_wordpress()
    if not options.enqueue:             # this process drafts: its model must exist
        check_llm(site_settings)
    return check_site(site, settings, shared)


def check_site(site, settings: Settings, shared):
    """The site's WordPress client, its credentials checked (ConfigError when wrong), and its
    pipeline options: opened as `draft --site` opens it (sites.open_site)."""
    opened = open_site(settings, site, shared=shared)
    return opened.client, opened.options


def check_llm(settings: Settings) -> None:
    """One request (GET /models) before any story: an unknown model or a refused key is a
    ConfigError naming the model and how to list the served ones. A server that is down or
    lists no models is only logged: its stories fail as transient and come back later."""
    from ..writer.probe import probe_models
    found = probe_models(settings, timeout=min(settings.http_timeout, 20.0))
    fatal = next((p for p in found.problems if p.fatal), None)
    if fatal is None:
        return
    if fatal.topic == "models":
        raise ConfigError(f"PUBLISHER_MODEL={settings.model}: {fatal.detail}; {fatal.fix}, "
                          "or run `publisher doctor`", reason="llm_model_not_found")
    if " answered 40" in fatal.detail:
        raise ConfigError(f"{fatal.detail}; {fatal.fix}", reason="llm_auth")
    log.warning("The LLM cannot be checked now (%s); stories that fail will be retried later.",
                fatal.detail)


def _site_options(site_settings: Settings, client) -> pipeline.Options:
    categories = tuple(client.category_names()) if client is not None else ()
    return pipeline.Options(
        status=site_settings.default_status, category=site_settings.default_category,
        categories=categories, seo_plugin=site_settings.seo_plugin)


def _site_run(settings, options, store, engine, site, shared) -> "_Run":
    """A worker's poller for one site (made at its first scheduled poll)."""
    client = engine.client_for(_job_site(site))
    return _Run(settings, options, Progress(), store, engine,
                _site_options(site.settings(settings), client), site)


class _Run:
    def __init__(self, settings: Settings, options: RunOptions, progress: Progress, store,
                 engine, pipeline_options: pipeline.Options, site=None):
        self.settings, self.options, self.progress = settings, options, progress
        self.store, self.engine, self.pipeline_options = store, engine, pipeline_options
        self.site = _job_site(site)
        self.summary = Summary()
        self.brief = Brief(min_words=options.min_words or settings.min_words)

    def done(self, result) -> None:
        self.summary.add_story(result)
        self.progress.story(result)

    # --- feeds -------------------------------------------------------------------------------

    def poll_all(self, urls: list[str]) -> list[str]:
        batch = self.collect(urls)
        submitted = [self.engine.submit(job) for job, _ in batch.stories]
        self.commit(batch)
        return submitted + self.retry_due()

    def collect(self, urls: list[str]) -> "Batch":
        """Poll, pick the new items, extract and group them: the stories to draft (nothing is
        marked seen yet; see commit)."""
        self.progress.stage(f"lecture de {len(urls)} flux")
        polled = [self._poll(url) for url in urls]
        budget = self.options.limit
        feeds: list[tuple[FeedResult, bool]] = []
        items: list[FeedItem] = []
        for result, fresh in polled:
            taken = fresh if budget is None else fresh[:max(0, budget)]
            if budget is not None:
                budget -= len(taken)
            feeds.append((result, len(taken) < len(fresh)))
            items.extend(taken)
            self.summary.add_feed(result, len(taken))
            self.progress.feed(result, len(taken))
        self.summary.new += len(items)
        return Batch(self._stories(items), feeds)

    def poll_batch(self, urls: list[str]) -> "Batch":
        """The watcher's poll: the new stories, and the failed ones whose wait is over."""
        batch = self.collect(urls)
        return Batch([*batch.stories, *self.due_jobs()], batch.feeds)

    def commit(self, batch: "Batch") -> None:
        """The stories are queued: mark their items seen, keep the feeds' validators."""
        for job, group in batch.stories:
            for item in group:
                self.store.mark_item(item.feed_url, item.guid, job.story_id, item.link,
                                     item.title, item.published)
        for result, cut in batch.feeds:
            self._remember(result, cut)

    def _poll(self, url: str) -> tuple[FeedResult, list[FeedItem]]:
        from ..net import Http
        http = Http(timeout=self.settings.http_timeout,
                    allow_private=self.settings.allow_private_urls, retries=1)
        try:
            result = fetch_feed(url, http, self.store, remember=False,
                                max_items=self.settings.feed_max_items)
        except PublisherError as err:      # fetch_feed promises not to; a bug must not stop us
            result = FeedResult(url, "failed", err.reason, str(err))
        if result.status != "ok":
            return result, []
        fresh = [i for i in result.items if not self.store.item_seen(i.feed_url, i.guid)]
        return result, [i for i in fresh if self._recent(i)]

    def _recent(self, item: FeedItem) -> bool:
        if self.options.since is None or not item.published:
            return True
        published = datetime.fromisoformat(item.published.replace("Z", "+00:00"))
        since = self.options.since
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return published >= since

    def _remember(self, result: FeedResult, cut: bool) -> None:
        # A run cut short by --limit keeps no validators: the next poll must see the rest.
        if cut and result.status == "ok":
            result = replace(result, etag="", last_modified="")
        remember_feed(self.store, result)

    # --- items → stories ---------------------------------------------------------------------

    def _stories(self, items: list[FeedItem]) -> list[tuple[Any, list[FeedItem]]]:
        pairs = self._extract_all(items)
        return [(self._job(group), [item for item, _ in group]) for group in group_items(pairs)]

    def _extract_all(self, items: list[FeedItem]) -> list[tuple[FeedItem, Source]]:
        workers = max(1, min(self.options.concurrency, 8))
        if items:
            self.progress.stage(f"lecture de {len(items)} articles")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            extracted = list(pool.map(self._extract, items))
        pairs = []
        for item, source in zip(items, extracted):
            if isinstance(source, Source):
                pairs.append((item, source))
            else:
                self._item_failed(item, source)
        return pairs

    def _extract(self, item: FeedItem) -> Source | PublisherError:
        from ..net import Http
        from ..sources.load import load_source
        if not item.link:
            return PublisherError(f"feed item {item.guid!r} has no link to an article",
                                  reason="no_link")
        http = Http(timeout=self.settings.http_timeout,
                    allow_private=self.settings.allow_private_urls)
        try:
            source, _ = load_source(item.link, http=http, settings=self.settings)
        except PublisherError as err:
            log.warning("Could not read the article at %s: %s", item.link, err)
            return err
        return replace(source, title=source.title or item.title,
                       date=source.date or item.published)

    def _item_failed(self, item: FeedItem, err: PublisherError) -> None:
        from ..state import retries
        story = group_id([item])
        kind = "skipped" if err.reason == "no_link" else "failed"
        if self.options.dry_run:            # a dry run leaves no trace in the state
            self.done(Failure(story, kind, err.reason, str(err), item.title, item.link))
            return
        self.store.mark_source(story, item.link, "", item.title)
        standing = retries.note(self.store, story, kind, err.reason, str(err),
                                settings=self.settings, site=self.site or "default",
                                title=item.title, outlets=[_outlet(item.link)])
        self.store.record_outcome(story, Outcome(kind, reason=err.reason, error=str(err)),
                                  attempts=max(1, standing["attempts"]),
                                  site=self.site or "default")
        self.store.mark_item(item.feed_url, item.guid, story, item.link, item.title,
                             item.published)
        self.done(Failure(story, kind, err.reason, str(err), item.title, item.link))

    def _job(self, group: list[tuple[FeedItem, Source]]):
        from ..workflows import StoryJob
        story = group_id(group)
        sources = _unique([source for _, source in group])
        if len(group) > 1:
            log.info("story %s: %d items grouped (%s)", story, len(group),
                     ", ".join(s.label for s in sources))
        return StoryJob(story_id=story, sources=tuple(sources), brief=self.brief,
                        options=self.pipeline_options, site=self.site,
                        titles=tuple(item.title for item, _ in group))

    # --- retry -------------------------------------------------------------------------------

    def retry_all(self) -> list[str]:
        """``publisher retry``: every failed story now, whatever its wait, even one abandoned
        by rule (the operator knows its page is back); not one abandoned by hand."""
        from ..state import retries
        submitted = []
        for story in self.store.failed_story_ids():
            if retries.is_abandoned(self.store, story, by_hand_only=True):
                continue                    # retry --abandon: given up on for good
            submitted += self._submit(self._retry_jobs(story))
        return submitted

    def retry_due(self) -> list[str]:
        """A feed run's own retries: the failed stories whose backoff has passed."""
        return self._submit(self.due_jobs())

    def due_jobs(self) -> list[tuple[Any, list[FeedItem]]]:
        """The retries due now, each claimed so that an overlapping run or the watcher's next
        poll does not run it twice."""
        from ..state import retries
        pairs = []
        for story in retries.due(self.store, self.site or "default"):
            if not retries.claim(self.store, story):
                continue                    # another run took it
            found = self._retry_jobs(story)
            if not found and not retries.is_abandoned(self.store, story):
                retries.release(self.store, [story], self.site or "default")
            pairs += found
        if pairs:
            log.warning("Retrying %d failed stor%s whose wait is over.", len(pairs),
                        "y" if len(pairs) == 1 else "ies")
        return pairs

    def _submit(self, pairs: list[tuple[Any, list[FeedItem]]]) -> list[str]:
        batch = Batch(pairs, [])
        submitted = [self.engine.submit(job) for job, _ in batch.stories]
        self.commit(batch)
        return submitted

    def _retry_jobs(self, story: str) -> list[tuple[Any, list[FeedItem]]]:
        """The story's last workflow input as a new attempt; or, when its page could not be
        read, its feed items extracted again."""
        if self.engine.running(story):
            return []                       # an earlier attempt is still queued or running
        job = self.engine.last_job(story)
        if job is not None:
            if job.site != self.site:
                return []                   # another site's story: its own run retries it
            return [(replace(job, attempt=self.engine.attempts(story),
                             options=self.pipeline_options), [])]
        items = items_for_story(self.store, story)
        self.summary.new += len(items)
        return self._stories(items) if items else []


def _outlet(link: str) -> str:
    from urllib.parse import urlsplit
    return urlsplit(link).hostname or ""


def _unique(sources: list[Source]) -> list[Source]:
    seen, unique = set(), []
    for source in sources:
        if source.content_hash not in seen:
            seen.add(source.content_hash)
            unique.append(source)
    return unique


def items_for_story(store, story_id: str) -> list[FeedItem]:
    """The feed items recorded under ``story_id`` (for retrying a failed extraction)."""
    rows = store.items_of_story(story_id)
    return [FeedItem(guid=r["guid"], link=r["link"], title=r["title"],
                     published=r["published"], feed_url=r["feed_url"]) for r in rows]


def read_feed_list(path: str | Path) -> list[str]:
    """A feeds file: one URL a line; blank lines and # comments ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the feeds file ({exc.strerror}); give a "
                          "file with one feed URL a line") from None
    urls = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [u for u in urls if u]
