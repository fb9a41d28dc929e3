"""Durable feed work on DBOS: one workflow per story, each external call a step.

    story-<group id>-<content hash>          the workflow ID: the same story, enqueued twice
                                             (even by two processes at once), runs once
      lookup   step   WordPress: a post with this publisher_source_hash already? → skipped
      llm      step   every LLM call (write, expand, translate, fix_facts…), in order
      (quality, seo, render: pure code between the LLM steps, replayed as it is)
      push     step   create (or reuse, found by source hash) the post, and record its id
                      in publisher_posts in the same database transaction as the step
      outcome  step   publisher_outcomes: drafted / skipped(reason) / failed(reason)

A process killed anywhere resumes, at the next launch, after the last finished step: an LLM
answer already recorded is replayed, never paid again; a post created but not recorded is
found again by its source hash, never created twice.

Extraction happens before the workflow (``feeds/runner.py``): grouping needs the articles'
text, and the extracted Sources are the workflow's recorded input, so a resumed workflow never
fetches them again.

Executors: each process gets its own executor ID (host, pid, start time), so two runs that
overlap never "recover" each other's work in flight; a run that finds workflows left PENDING
by a dead process on this host takes them over. The engine's tables live in PUBLISHER_DB,
beside publisher's own. Nothing outside this module imports ``dbos``.

Wiring: the settings, store, clients, LLM and shared limits a step needs (``Runtime``) are no
module global. ``launch()`` hands them to one ``Stories``, a DBOS configured instance whose
workflow and step methods read ``self.runtime``; it is made before the engine starts, so a story
left by a dead process is resumed on it (the engine records its class and config name).

Scale-out (docs/scale.md): ``publisher worker`` runs with a stable executor ID (its worker
ID), listens to the story and poll queues, and holds its identity in publisher_workers with a
heartbeat, so a second live process with the same ID is refused while a restarted one (same
host, old process gone; or the heartbeat stale) takes over and, at launch, puts the stories
the dead one held back on the queue. ``feed --enqueue`` only enqueues (it listens to no queue).
Stories are partitioned by site (PUBLISHER_SITE_CONCURRENCY caps one site's stories in flight
across all workers); LLM and WordPress requests obey the shared limits of ``limits.py``.

Fault injection (tests only): ``PUBLISHER_CRASH_AT=<point>`` SIGKILLs the process at that
point: ``llm_call`` (inside the LLM step, before the request), ``after_llm`` (the answer is
recorded), ``after_post_created`` (WordPress has the post, nothing is recorded yet),
``before_outcome`` (the push is recorded, the outcome is not). Unset, it costs one dict lookup.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from dbos import DBOS, DBOSConfiguredInstance, SetEnqueueOptions, SetWorkflowID

from . import __version__, pipeline
from .config import Settings
from .errors import CONFIG, PublisherError, failure_class
from .models import DRAFTED, Brief, Draft, Outcome, PostResult, Source, Usage
from .sites import load_sites, site_client

log = logging.getLogger(__name__)

QUEUE = "publisher-stories"
POLL_QUEUE = "publisher-polls"
SITE_SCHEDULE_PREFIX = "publisher-site@"
HEARTBEAT_SECONDS = 5.0
WORKER_STALE_SECONDS = 60.0     # a heartbeat older than this: the worker is gone
APP_NAME = "publisher"
TERMINAL = {"SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"}
WATCH_PREFIX = "publisher-watch@"
STOPPED = "stopped"             # a story not started because its run stopped (see Runtime)
CRASH_POINTS = ("llm_call", "after_llm", "after_post_created", "before_outcome")
WORKER_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,80}$")


# --- what a story workflow is given and gives back -------------------------------------------

@dataclass(frozen=True)
class StoryJob:
    """One story to draft: the workflow's input, recorded by the engine."""

    story_id: str                          # feeds.group.group_id of its items
    sources: tuple[Source, ...]
    brief: Brief
    options: pipeline.Options
    titles: tuple[str, ...] = ()           # the feed items' titles, for logs
    attempt: int = 0                       # publisher retry: 1, 2, …
    site: str = ""                         # sites.Site.name; "" the implicit (WP_*) site

    @property
    def source_hash(self) -> str:
        return pipeline.story_hash(list(self.sources))

    @property
    def workflow_id(self) -> str:
        base = f"story-{self.story_id}-{self.source_hash[:12]}"
        base = f"{base}-r{self.attempt}" if self.attempt else base
        return f"{base}@{self.site}" if self.site else base

    @property
    def partition(self) -> str:
        return self.site or "default"


@dataclass(frozen=True)
class StoryResult:
    story_id: str
    kind: str                              # drafted | skipped | failed
    reason: str = ""
    error: str = ""
    title: str = ""
    post_id: int | None = None
    edit_link: str = ""
    link: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    workflow_id: str = ""

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


# --- an engine's runtime: what steps need and workflow inputs can't carry ---------------------

@dataclass
class Runtime:
    settings: Settings
    store: Any                             # state.db.Store
    wordpress: Any = None                  # the implicit site's client (None: nothing pushed)
    llm: Any = None                        # writer.llm.LLM
    datasource: Any = None                 # DBOS datasource on PUBLISHER_DB (push transaction)
    poller: Any = None                     # feeds.runner's collect/commit, for watch
    sites: dict = field(default_factory=dict)      # name → sites.Site (named sites)
    shared: Any = None                     # state.limits.Limits
    poller_factory: Any = None             # site name → poller (workers poll every site)
    _clients: dict = field(default_factory=dict)
    _pollers: dict = field(default_factory=dict)
    _lock: Any = field(default_factory=threading.Lock)
    config_failure: Any = field(default_factory=threading.Event)   # set by outcome_step
    # A feed run ("run" mode) stops at its first configuration-class failure: the stories
    # the queue starts after it return STOPPED at once, unrecorded (the next run takes them).
    stop_on_config: bool = False
    stopping: Any = field(default_factory=threading.Event)
    # Workflows whose lookup step ran (not replayed) in this execution and found nothing:
    # their push may skip create_post's own lookup, once.
    _fresh_lookups: set = field(default_factory=set)

    def site_settings(self, site: str) -> Settings:
        if not site or site not in self.sites:
            return self.settings
        return self.sites[site].settings(self.settings)

    def client_for(self, site: str):
        """The WordPress client of ``site`` ("" the implicit one), made once per process."""
        if not site or site not in self.sites:
            return self.wordpress
        with self._lock:
            if site not in self._clients:
                self._clients[site] = open_site_client(self.sites[site], self.settings,
                                                       self.shared)
            return self._clients[site]

    def author_id(self, site: str, login: str) -> int | None:
        """The user id of ``login`` on ``site`` (among the users who can write; the client
        asks once)."""
        found = self.client_for(site).author_id(login)
        if found is None:
            log.warning("site %s: author %r is not a user who can write there", site, login)
        return found

    def poller_for(self, site: str):
        if self.poller_factory is None:
            return self.poller
        with self._lock:
            poller = self._pollers.get(site)
        if poller is None:
            # Made outside the lock: the factory asks WordPress (client_for takes the lock).
            poller = self.poller_factory(site)
            with self._lock:
                poller = self._pollers.setdefault(site, poller)
        return poller


def open_site_client(site, settings: Settings, shared):
    """A site's WordPress client, its requests under the site's shared limit (made as
    `draft --site` makes it: sites.site_client)."""
    return site_client(site, settings, shared)


def crash_point(point: str) -> None:
    """Fault-injection hook for the crash tests (see the module docstring)."""
    if os.environ.get("PUBLISHER_CRASH_AT") == point:
        log.warning("PUBLISHER_CRASH_AT=%s: killing the process", point)
        logging.shutdown()
        os.kill(os.getpid(), signal.SIGKILL)


# --- the workflow: methods of one configured instance per engine -----------------------------

STORIES_CLASS = "publisher.Stories"
STORIES_CONFIG = "publisher"       # recorded with each story: recovery finds the instance by it


@DBOS.dbos_class(STORIES_CLASS)
class Stories(DBOSConfiguredInstance):
    """The story workflow and its steps, bound to one engine's wiring (``self.runtime``).

    Made by ``launch()`` before the engine starts, so a story left by a dead process finds it
    by class and config name; ``Engine.close()`` withdraws it. The engine records the config
    name, never the wiring: a workflow's input stays its StoryJob."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        super().__init__(STORIES_CONFIG)

    @DBOS.workflow(name="publisher.story", max_recovery_attempts=20)
    def story_workflow(self, job: StoryJob) -> StoryResult:
        rt = self.runtime
        title = job.titles[0] if job.titles else (job.sources[0].title if job.sources else "")
        if rt.stopping.is_set():        # a feed run met a wrong setting: no story after it
            return StoryResult(job.story_id, "failed", reason=STOPPED, title=title,
                               workflow_id=DBOS.workflow_id or "")
        rt._fresh_lookups.discard(DBOS.workflow_id)   # a replayed lookup proves nothing now
        turns = Durable(job, title, self)
        try:
            return pipeline.run_story(pipeline.Story(job.sources, job.brief, job.options),
                                      turns, rt.client_for(job.site), durable)
        except PublisherError as err:   # the lookup (or the site's client) failed
            return turns.failed(err, None)
        except Exception:
            log.exception("story %s: unexpected error (the workflow ends ERROR)", job.story_id)
            raise

    def enqueue(self, job: StoryJob) -> None:
        with SetWorkflowID(job.workflow_id), SetEnqueueOptions(queue_partition_key=job.partition):
            DBOS.enqueue_workflow(QUEUE, self.story_workflow, job)

    @DBOS.step(name="llm")
    def llm_step(self, messages: list[dict], schema: dict, purpose: str,
                 max_tokens: int | None) -> tuple[dict, Usage]:
        crash_point("llm_call")
        return self.runtime.llm.complete_json(messages, schema, purpose=purpose,
                                              max_tokens=max_tokens)

    @DBOS.step(name="keep")
    def keep_step(self, story_id: str, draft: Draft, seo, report) -> str:
        """A refused answer is kept as a dry-run folder (with the report saying why), never
        lost: an editor can read it, fix it and `publisher push` it."""
        from pathlib import Path
        from .render.preview import write_dry_run
        settings = self.runtime.settings
        folder = Path(settings.drafts_dir) / f"{story_id}-{draft.slug or 'article'}"
        write_dry_run(folder, draft, seo, report, site_url=settings.wp_url)
        return str(folder)

    @DBOS.step(name="lookup")
    def lookup_step(self, source_hash: str, site: str = "") -> PostResult | None:
        """WordPress is the truth: a post from these exact sources means the story is done,
        even when the local database was lost."""
        client = self.runtime.client_for(site)
        if client is None:
            return None
        found = pipeline.lookup(client, source_hash)
        if found.post is None and DBOS.workflow_id:
            self.runtime._fresh_lookups.add(DBOS.workflow_id)
        return found.post

    def push_step(self, story_id: str, draft: Draft, status: str = "draft",
                  site: str = "") -> PostResult:
        """Create the post (create_post itself reuses a post with the same source hash) and
        record it in publisher_posts within the transaction that records the step."""
        rt = self.runtime
        if rt.client_for(site) is None:
            raise PublisherError("WordPress is not configured: set WP_URL, WP_USERNAME and "
                                 "WP_APP_PASSWORD", reason="config")
        return rt.datasource.run_tx_step({"name": "push", "isolation_level": "SERIALIZABLE"},
                                         self._push_tx, story_id, draft, status, site)

    def _push_tx(self, story_id: str, draft: Draft, status: str, site: str = "") -> PostResult:
        rt = self.runtime
        # The status comes from the user's settings, passed explicitly: the client refuses
        # "publish" found only in a payload. A lookup this execution just did is not asked
        # again; a recovered or retried push looks again (its post may exist from the lost
        # attempt).
        fresh = DBOS.workflow_id in rt._fresh_lookups
        rt._fresh_lookups.discard(DBOS.workflow_id)
        post = pipeline.push(rt.client_for(site), draft, status=status, looked_up=fresh,
                             author_id=_author_id(rt, site), site=site)
        crash_point("after_post_created")
        rt.store.record_post(rt.site_settings(site).wp_url, story_id, draft.source_hash, post,
                             within=rt.datasource.sql_session())
        return post

    @DBOS.step(name="outcome")
    def outcome_step(self, story_id: str, workflow_id: str, title: str, url: str,
                     source_hash: str, outcome: Outcome, site: str = "",
                     outlets: tuple[str, ...] = ()) -> StoryResult:
        from .state import retries
        rt = self.runtime
        store = rt.store
        store.mark_source(story_id, url, source_hash, title)
        if outcome.post is not None and outcome.kind == "skipped":
            store.record_post(rt.site_settings(site).wp_url, story_id, source_hash,
                              outcome.post)
        standing = retries.note(store, story_id, outcome.kind, outcome.reason, outcome.error,
                                settings=rt.settings, site=site or "default", title=title,
                                outlets=outlets)
        store.record_outcome(story_id, outcome, attempts=max(1, standing["attempts"]),
                             site=site or "default")
        _log_outcome(story_id, title, outcome, standing)
        if outcome.kind == "failed" and failure_class(outcome.reason) == CONFIG:
            rt.config_failure.set()
            if rt.stop_on_config:
                rt.stopping.set()
        spent = store.usage_totals(story_id) if outcome.kind != "skipped" else {}
        return _story_result(story_id, workflow_id, title, outcome, spent)

    @DBOS.step(name="collect")
    def collect_step(self, urls: list[str], site: str = ""):
        return self._poller(site).poll_batch(urls)

    @DBOS.step(name="commit")
    def commit_step(self, batch, site: str = "") -> None:
        self._poller(site).commit(batch)

    def _poller(self, site: str = ""):
        poller = self.runtime.poller_for(site)
        if poller is None:
            raise RuntimeError("this process does not watch feeds (no poller set)")
        return poller


def durable(name: str, fn: Callable, *args: Any, **kw: Any) -> Any:
    """The pipeline's step hook inside a story workflow: each external call a checkpointed
    step under its name, so a resumed story gets the recorded answer back."""
    return DBOS.run_step({"name": name}, fn, *args, **kw)


@dataclass(frozen=True)
class Durable:
    """The feed workflow's side of one story (pipeline.Turns): every call to WordPress and
    the LLM a recorded step, the outcome recorded with the story's retry standing."""

    job: StoryJob
    title: str                             # the feed item's, until the article has one
    stories: Stories                       # the engine's steps and wiring

    def lookup(self, source_hash: str) -> pipeline.Found:
        return pipeline.Found(post=self.stories.lookup_step(source_hash, self.job.site))

    def llm(self) -> "DurableLLM":
        return DurableLLM(self.stories)

    def push(self, draft: Draft, status: str | None, found: pipeline.Found) -> PostResult:
        # create_post itself finds the post a lost attempt made (found is not needed)
        return self.stories.push_step(self.job.story_id, draft, status or "draft",
                                      self.job.site)

    def kept_back(self, prepared: pipeline.Prepared) -> StoryResult:
        report = prepared.report
        folder = self.stories.keep_step(self.job.story_id, prepared.draft, prepared.seo, report)
        return self.record(Outcome(
            "failed", reason=report.blocking[0], folder=folder, report=report,
            error=f"the model's answer cannot be drafted ({', '.join(report.blocking)}): "
                  f"not pushed, kept in {folder}"))

    def unpushed(self, prepared: pipeline.Prepared) -> None:
        return None                         # a feed story is always pushed

    def failed(self, err: PublisherError, prepared: pipeline.Prepared | None) -> StoryResult:
        return self.record(Outcome("failed", reason=err.reason, error=str(err)))

    def record(self, outcome: Outcome) -> StoryResult:
        if outcome.kind == DRAFTED:
            crash_point("before_outcome")
        title = outcome.draft.title if outcome.draft and outcome.draft.title else self.title
        job = self.job
        return self.stories.outcome_step(
            job.story_id, job.workflow_id, title, job.sources[0].url if job.sources else "",
            job.source_hash, outcome, job.site, tuple(s.label for s in job.sources))


class DurableLLM:
    """What the pipeline sees as its LLM: each complete_json() is one recorded step, so a
    resumed workflow replays the answers in order instead of asking again."""

    def __init__(self, stories: Stories):
        self.model = stories.runtime.settings.model
        self._stories = stories

    def complete_json(self, messages: list[dict], schema: dict, *, purpose: str,
                      max_tokens: int | None = None) -> tuple[dict, Usage]:
        result = self._stories.llm_step(messages, schema, purpose, max_tokens)
        crash_point("after_llm")
        return result


def _author_id(rt: Runtime, site: str) -> int | None:
    """The user id of the site's ``author`` (a WordPress login), as `draft --site` files its
    post (pipeline.push); None leaves the post under its creator."""
    wanted = rt.sites[site].author if site in rt.sites else ""
    if not wanted:
        return None
    try:
        return rt.author_id(site, wanted)
    except PublisherError as err:
        log.warning("site %s: posts left under their creator: %s", site, err)
        return None


def _story_result(story_id: str, workflow_id: str, title: str, outcome: Outcome,
                  spent: dict) -> StoryResult:
    post = outcome.post
    return StoryResult(
        story_id=story_id, kind=outcome.kind, reason=outcome.reason, error=outcome.error,
        title=title, post_id=post.id if post else None, edit_link=post.edit_link if post else "",
        link=post.link if post else "", input_tokens=spent.get("input_tokens", 0),
        output_tokens=spent.get("output_tokens", 0), cost=spent.get("cost", 0.0),
        workflow_id=workflow_id)


def _log_outcome(story_id: str, title: str, outcome: Outcome, standing: dict) -> None:
    """One plain sentence per story: what happened and what comes next."""
    if outcome.kind != "failed":
        log.info("Story %s (%s) %s%s.", story_id, title, outcome.kind,
                 f": {outcome.reason}" if outcome.reason else "")
    elif standing["status"] == "abandoned":
        log.warning("Story %s (%s) failed (%s) and is abandoned after %d attempt(s): %s",
                    story_id, title, outcome.reason, standing["attempts"], outcome.error)
    else:
        log.warning("Story %s (%s) failed (%s); it will be tried again from %s: %s", story_id,
                    title, outcome.reason, standing["next_attempt"][:19].replace("T", " "),
                    outcome.error)


# --- watch: a scheduled poll -------------------------------------------------------------------

@DBOS.workflow(name="publisher.poll")
def poll_workflow(scheduled_at, context: dict) -> int:
    """One scheduled poll: collect the new stories (a step), queue each as its own workflow
    (a child, by its story ID: already queued or done means nothing new), then mark the items
    seen (a step). Returns the number of stories queued. It only enqueues: workers draft."""
    stories = _scheduled_stories()
    site = context.get("site", "")
    batch = stories.collect_step(list(context["urls"]), site)
    for job, _ in batch.stories:
        stories.enqueue(job)
    stories.commit_step(batch, site)
    log.info("poll %s %s: %d stories queued", site, scheduled_at, len(batch.stories))
    return len(batch.stories)


def _scheduled_stories() -> Stories:
    """The engine's Stories, for the one workflow the engine's scheduler starts: a schedule
    names a plain function (DBOS 3.4 records no config name for scheduled runs), so the poll
    looks the instance up where the engine's own recovery does, in DBOS's registry of
    configured instances (DBOS's, not publisher's: launch() fills it, close() empties it)."""
    found = _dbos_instances().get(_instance_key())
    if found is None:
        raise RuntimeError("this process has no running engine (publisher.workflows.launch)")
    return found


def _dbos_instances() -> dict:
    from dbos._dbos import _get_or_create_dbos_registry
    return _get_or_create_dbos_registry().instance_info_map


def _instance_key() -> str:
    return f"{STORIES_CLASS}/{STORIES_CONFIG}"     # how DBOS's registry names the instance


def _withdraw(stories: Stories) -> None:
    """Take this engine's Stories out of DBOS's registry. DBOS has no call for it, and a later
    engine in this process (tests, a restarted watch) registers its own under the same name,
    as recovery needs."""
    if _dbos_instances().get(_instance_key()) is stories:
        del _dbos_instances()[_instance_key()]


# --- the engine: launch, submit, wait, close ---------------------------------------------------

class Engine:
    """The workflow engine for this process. ``launch()`` makes the one instance."""

    def __init__(self, settings: Settings, concurrency: int, worker_id: str = ""):
        self.settings = settings
        self.concurrency = concurrency
        self.worker_id = worker_id
        self.executor_id = worker_id or executor_id()
        self._beat: threading.Event | None = None
        self.stories: Stories | None = None     # launch() binds it before the engine starts

    @property
    def runtime(self) -> Runtime:
        if self.stories is None:
            raise RuntimeError("publisher.workflows.launch() makes the engine: call it")
        return self.stories.runtime

    def submit(self, job: StoryJob) -> str:
        """Enqueue the story; a workflow with this ID (queued, running or done) is reused."""
        self.stories.enqueue(job)
        return job.workflow_id

    def unfinished(self) -> list[str]:
        """Story workflows not finished yet (queued, or running somewhere), oldest first."""
        rows = DBOS.list_workflows(status=["ENQUEUED", "PENDING"], name="publisher.story",
                                   load_input=False, load_output=False)
        return [r.workflow_id for r in rows]

    def running(self, story_id: str) -> bool:
        """Whether a workflow of this story is still queued or running somewhere."""
        return any(r.status not in TERMINAL for r in self.story_workflows(story_id))

    def story_workflows(self, story_id: str) -> list:
        return DBOS.list_workflows(workflow_id_prefix=f"story-{story_id}-",
                                   name="publisher.story", load_output=False)

    def last_job(self, story_id: str) -> StoryJob | None:
        """The input of the latest workflow run for this story (to run it again)."""
        rows = self.story_workflows(story_id)
        jobs = [r.input["args"][0] for r in rows if r.input and r.input.get("args")]
        return max(jobs, key=lambda j: j.attempt) if jobs else None

    def attempts(self, story_id: str) -> int:
        """The next attempt number: the same for two retries started together, so they share
        one workflow."""
        return len(self.story_workflows(story_id))

    def wait(self, workflow_ids: Iterable[str], on_done: Callable[[StoryResult], None],
             poll: float = 0.3, stop: Callable[[], bool] = lambda: False) -> list[str]:
        """Call ``on_done`` for each workflow as it finishes; take over work left by dead
        processes while waiting (their workflows would never finish otherwise). Returns the
        workflows left unfinished when ``stop()`` turned true."""
        waiting = list(dict.fromkeys(workflow_ids))
        last_recovery = 0.0
        while waiting and not stop():
            if time.monotonic() - last_recovery > 5.0:
                self.recover_dead()
                last_recovery = time.monotonic()
            for wid in list(waiting):
                result = self.result_if_done(wid)
                if result is not None:
                    waiting.remove(wid)
                    on_done(result)
            if waiting:
                time.sleep(poll)
        return waiting

    def cancel(self, workflow_ids: Iterable[str]) -> None:
        """Stop these stories: queued ones never start, running ones end at their next step."""
        for wid in workflow_ids:
            DBOS.cancel_workflow(wid)

    def config_failed(self) -> bool:
        """Whether a story failed for a configuration reason since the last call (watch then
        checks the LLM and WordPress again)."""
        flag = self.runtime.config_failure
        failed = flag.is_set()
        flag.clear()
        return failed

    def result_if_done(self, workflow_id: str) -> StoryResult | None:
        status = DBOS.get_workflow_status(workflow_id)
        if status is None or status.status not in TERMINAL:
            return None
        if status.status == "SUCCESS" and isinstance(status.output, StoryResult):
            return status.output
        story = workflow_id.split("-")[1] if workflow_id.count("-") >= 2 else workflow_id
        error = f"{type(status.error).__name__}: {status.error}" if status.error else status.status
        log.error("Story workflow %s ended %s: %s", workflow_id, status.status, error)
        return StoryResult(story_id=story, kind="failed", reason="internal_error",
                           error=error[:300], workflow_id=workflow_id)

    def recover_dead(self) -> list[str]:
        """Put back on the queue the PENDING workflows of executors on this host whose process
        is gone (workers with a stable ID resume their own, see claim_identity)."""
        rows = DBOS.list_workflows(status="PENDING", load_input=False, load_output=False)
        dead = sorted({r.executor_id for r in rows
                       if r.executor_id and r.executor_id != self.executor_id
                       and executor_dead(r.executor_id)})
        if not dead:
            return []
        log.warning("Resuming the work left unfinished by %s.", ", ".join(dead))
        handles = DBOS._recover_pending_workflows(dead)
        return [h.get_workflow_id() for h in handles]

    def set_poller(self, poller) -> None:
        self.runtime.poller = poller

    def use_clients(self, clients: dict) -> None:
        """Clients already made (and checked) for named sites: no need to make them again."""
        rt = self.runtime
        with rt._lock:
            rt._clients.update({k: v for k, v in clients.items() if k in rt.sites})

    def client_for(self, site: str):
        return self.runtime.client_for(site)

    def set_poller_factory(self, factory) -> None:
        self.runtime.poller_factory = factory

    def schedule(self, urls: list[str], cron: str, site: str = "") -> str:
        """Poll ``urls`` on ``cron`` (seconds field first) from this process until unscheduled."""
        name = f"{WATCH_PREFIX}{self.executor_id}"
        DBOS.apply_schedules([{"schedule_name": name, "workflow_fn": poll_workflow,
                               "schedule": cron, "queue_name": POLL_QUEUE,
                               "context": {"urls": list(urls), "site": site}}])
        DBOS.trigger_schedule(name)             # the first poll now, not at the next tick
        return name

    def schedule_sites(self, sites: list, cron_of: Callable[[str], str]) -> list[str]:
        """One schedule per site with feeds and a schedule, shared by every worker (the engine
        starts each tick once, whichever worker fires it); schedules of sites no longer in
        the file are dropped."""
        wanted = {f"{SITE_SCHEDULE_PREFIX}{s.name}": s for s in sites if s.feeds and s.schedule}
        for sched in DBOS.list_schedules(schedule_name_prefix=SITE_SCHEDULE_PREFIX):
            if sched["schedule_name"] not in wanted:
                DBOS.delete_schedule(sched["schedule_name"])
        if wanted:
            DBOS.apply_schedules([
                {"schedule_name": name, "workflow_fn": poll_workflow, "queue_name": POLL_QUEUE,
                 "schedule": cron_of(site.schedule),
                 "context": {"urls": list(site.feeds), "site": site.name}}
                for name, site in wanted.items()])
        return sorted(wanted)

    def unschedule(self, name: str) -> None:
        DBOS.delete_schedule(name)

    def forget_dead_watchers(self) -> None:
        """A watcher killed without cleaning up leaves its schedule: drop it, or every later
        run would poll on its behalf."""
        for sched in DBOS.list_schedules(schedule_name_prefix=WATCH_PREFIX):
            name = sched["schedule_name"]
            if executor_dead(name[len(WATCH_PREFIX):]):
                DBOS.delete_schedule(name)

    def heartbeat(self, store) -> None:
        """Keep this worker's identity fresh until close()."""
        from .state.limits import heartbeat
        self._beat = stop = threading.Event()

        def beat() -> None:
            while not stop.wait(HEARTBEAT_SECONDS):
                try:
                    heartbeat(store, self.worker_id, os.getpid())
                except Exception as exc:        # the database is away: say so, keep trying
                    log.warning("worker %s: heartbeat failed: %s", self.worker_id, exc)

        threading.Thread(target=beat, name="publisher-heartbeat", daemon=True).start()

    def close(self) -> None:
        """Stop taking work, let the workflows running here finish, shut the engine down."""
        timeout = int(self.settings.item_timeout + 120)     # the longest a story may take
        DBOS.destroy(workflow_completion_timeout_sec=timeout)
        stories, self.stories = self.stories, None
        if stories is None:
            return                              # closed already
        _withdraw(stories)
        rt = stories.runtime
        if self._beat is not None:
            from .state.limits import release_worker
            self._beat.set()
            release_worker(rt.store, self.worker_id, os.getpid())
        if rt.datasource is not None:
            rt.datasource.engine.dispose()


MODES = {"run": [QUEUE], "watch": [QUEUE, POLL_QUEUE], "worker": [QUEUE, POLL_QUEUE],
         "enqueue": [], "enqueue-watch": [POLL_QUEUE]}


def launch(settings: Settings, concurrency: int = 1, *, wordpress=None, llm=None,
           store=None, mode: str = "run", worker_id: str = "", sites=(),
           llm_progress=None) -> Engine:
    """Start the engine on PUBLISHER_DB: tables created or migrated, the queues declared, and
    work left by dead processes resumed.

    ``mode``: "run" (a feed run: drafts stories here too), "watch" (also runs polls),
    "worker" (a stable ``worker_id``; drafts and polls), "enqueue" (drafts nothing here).
    ``llm_progress``: the terminal's status line, told of each LLM call's progress."""
    from dbos import SQLAlchemyDatasource
    from .state.db import Store, engine_url
    from .state.limits import Limits
    store = store or Store(settings.db, secrets=settings.secrets())
    shared = Limits(store)
    llm = llm or (make_llm(settings, store, shared, llm_progress) if settings.llm_configured
                  else None)
    engine = Engine(settings, concurrency, worker_id if mode == "worker" else "")
    if mode == "worker":
        claim_identity(store, engine.executor_id)
    DBOS(config=dbos_config(settings, engine.executor_id))
    DBOS.listen_queues(MODES[mode])
    datasource = SQLAlchemyDatasource.create(engine_url(settings.db))
    # Every site of the file, not only the ones this run polls: a process that drafts takes
    # any story from the shared queue.
    named = {s.name: s for s in (*load_sites(settings), *sites) if not s.implicit}
    # The wiring is this engine's, passed to the one Stories instance, which must exist before
    # DBOS.launch() recovers the stories that name it.
    engine.stories = Stories(Runtime(settings, store, wordpress, llm, datasource, sites=named,
                                     shared=shared, stop_on_config=mode == "run"))
    try:
        DBOS.launch()
    except BaseException:
        _withdraw(engine.stories)           # a later launch in this process brings its own
        raise
    # Queues live in the engine's database, so they are declared once it is open. Their
    # settings are shared by every process: a process that only enqueues leaves them alone.
    _register_queues(settings, concurrency, "never_update" if mode.startswith("enqueue")
                     else "always_update")
    if mode == "worker":
        engine.heartbeat(store)
    engine.forget_dead_watchers()
    engine.recover_dead()
    return engine


def _register_queues(settings: Settings, concurrency: int, on_conflict: str) -> None:
    per_site = settings.site_concurrency or None
    DBOS.register_queue(QUEUE, worker_concurrency=max(1, concurrency),
                        partition_concurrency=per_site, polling_interval_sec=0.25,
                        on_conflict=on_conflict)
    DBOS.register_queue(POLL_QUEUE, worker_concurrency=1, polling_interval_sec=1.0,
                        on_conflict=on_conflict)


def claim_identity(store, worker: str) -> None:
    """Hold ``worker`` for this process, or refuse to start when a live process holds it."""
    from .errors import ConfigError
    from .state.limits import claim_worker
    if not WORKER_ID.match(worker):
        raise ConfigError(f"--worker-id {worker!r}: use letters, digits, '.', '_', '@' or '-'")

    def may_take(row: dict, now: float) -> bool:
        if now - row["heartbeat_at"] > WORKER_STALE_SECONDS:
            return True                         # not heard of for a minute: gone
        return row["host"] == socket.gethostname() and not _alive(int(row["pid"]))

    holder = claim_worker(store, worker, os.getpid(), may_take)
    if holder is not None:
        raise ConfigError(f"worker {worker} is already running (host {holder['host']}, pid "
                          f"{holder['pid']}): give this one another --worker-id")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) not in ("Z", "")


def default_worker_id() -> str:
    return f"worker@{socket.gethostname()}"


def make_llm(settings: Settings, store, shared=None, progress=None):
    """One LLM for the process; each call's usage is recorded against the running story and
    its site, and each request obeys the shared limits (PUBLISHER_LLM_RPM…)."""
    from .limits import LlmLimits, limited_openai_client
    from .writer.llm import LLM
    llm = LLM(settings, recorder=lambda usage: store.record_llm_call(
        usage, current_story(), site=current_site()), capabilities=store, progress=progress)
    limits = LlmLimits.from_settings(settings)
    if limits.active and shared is not None:
        limited_openai_client(llm, shared, limits)
    return llm


def current_story() -> str:
    """The story ID of the running workflow ("story-<id>-<hash>…" → "<id>"), "" outside."""
    wid = DBOS.workflow_id or ""
    parts = wid.split("-")
    return parts[1] if len(parts) >= 3 and parts[0] == "story" else wid


def current_site() -> str:
    """The site of the running story workflow ("…@<site>"); "default" for the implicit one."""
    wid = DBOS.workflow_id or ""
    if not wid.startswith("story-"):
        return ""
    return wid.rsplit("@", 1)[1] if "@" in wid else "default"


def site_of(workflow_id: str) -> str:
    return workflow_id.rsplit("@", 1)[1] if "@" in workflow_id else "default"


def story_of(workflow_id: str) -> str:
    """"story-<id>-<hash>[-rN][@site]" → "<id>"."""
    parts = workflow_id.split("-")
    return parts[1] if len(parts) >= 3 and parts[0] == "story" else workflow_id


def queue_depth(settings: Settings) -> dict:
    """Stories waiting (ENQUEUED) and being drafted (PENDING), per site and per worker, read
    without starting an engine."""
    from dbos import DBOSClient
    from .state.db import engine_url
    depth: dict = {"queued": 0, "running": 0, "sites": {}, "workers": {}}
    if not _engine_tables_exist(settings):
        return depth                        # no workflow ever ran on this database
    client = DBOSClient(system_database_url=engine_url(settings.db), application_name=APP_NAME)
    try:
        rows = client.list_workflows(status=["ENQUEUED", "PENDING"], name="publisher.story",
                                     load_input=False, load_output=False)
    finally:
        client.destroy()
    for row in rows:
        key = "queued" if row.status == "ENQUEUED" else "running"
        depth[key] += 1
        site = depth["sites"].setdefault(site_of(row.workflow_id), {"queued": 0, "running": 0})
        site[key] += 1
        if key == "running" and row.executor_id:
            depth["workers"][row.executor_id] = depth["workers"].get(row.executor_id, 0) + 1
    return depth


def _engine_tables_exist(settings: Settings) -> bool:
    from sqlalchemy import inspect
    from .state.db import make_engine
    engine = make_engine(settings.db)
    try:
        schema = "dbos" if engine.dialect.name == "postgresql" else None
        return inspect(engine).has_table("workflow_status", schema=schema)
    finally:
        engine.dispose()


def dbos_config(settings: Settings, executor: str) -> dict:
    from .state.db import engine_url
    return {
        "name": APP_NAME,
        "system_database_url": engine_url(settings.db),
        # A fixed version: work left by an older publisher is still resumed after an upgrade.
        "application_version": __version__,
        "executor_id": executor,
        "log_level": "WARNING",
        "scheduler_polling_interval_sec": 2.0,
    }


# --- executors: who is running what ----------------------------------------------------------

def executor_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_start_ticks(os.getpid())}"


def executor_dead(executor: str) -> bool:
    """True when ``executor`` was a process on this host that is gone (or was replaced by
    another process with the same pid). Executors of other hosts are never judged."""
    parts = executor.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _proc_state(pid) == "Z" or _start_ticks(pid) != parts[2]


def _proc_fields(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _proc_state(pid: int) -> str:
    fields_ = _proc_fields(pid)
    return fields_[0] if fields_ else ""


def _start_ticks(pid: int) -> str:
    """The process's start time (Linux /proc), so a recycled pid is not taken for alive."""
    fields_ = _proc_fields(pid)
    return fields_[19] if len(fields_) > 19 else "0"
