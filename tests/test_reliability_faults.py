"""Whole `publisher draft` runs through broken networks: nothing lost, nothing drafted twice.

Each run drafts one story (a seed with a unique tracking sentence, so each story has its own
source hash) through the Python API, with the real openai client talking to the scripted LLM
server and the real REST client talking to the real local WordPress, both through a
:class:`FaultProxy` that drops connections, stalls, answers 500/502/503/429, truncates bodies
and corrupts JSON. After each run the drafts are counted *on WordPress* by source hash:

- a run that reported success left exactly one draft;
- a run that failed (with a named reason, never a crash) left zero or one, and a clean re-run
  (`publisher push` of the folder the failed run saved the paid article in, else the same
  `publisher draft` again) then leaves exactly one.

The random suite is seeded (PUBLISHER_FAULT_SEED, default 20240611) and bounded
(PUBLISHER_FAULT_RUNS, default 40 runs); its figures are written to the file named by
PUBLISHER_FAULT_REPORT when set (scripts/fault-suite does that for docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import requests

from publisher import api
from publisher.errors import PublisherError
from tests.support.fakellm import FakeLLM, make_smart_handler, malformed_json
from tests.support.faults import Fault, FaultProxy, random_schedule
from tests.support.wordpress import start_wp_site

SEEDS = sorted((Path(__file__).parent / "fixtures" / "seeds").glob("*.txt"))
WP_TIMEOUT, LLM_TIMEOUT = 1.0, 2.0
WP_STALL, LLM_STALL = WP_TIMEOUT + 0.6, LLM_TIMEOUT + 0.6
CREATE = ("POST", r"/wp/v2/posts$")


@dataclass
class World:
    site: object
    wp: FaultProxy
    llm: FaultProxy
    settings: object
    folder: Path
    author_id: int
    first_id: int                      # posts above this id were made by this module
    stories: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    # A site of its own: other test modules draft as "author" on the shared site, and every
    # post on this one must be accounted for.
    wp_site = start_wp_site("pytest-faults")
    folder = tmp_path_factory.mktemp("faults")
    with FakeLLM(make_smart_handler()) as fake, \
            FaultProxy(f"http://127.0.0.1:{fake.port}") as llm, FaultProxy(wp_site.url) as wp:
        settings = wp_site.settings(
            "author", WP_URL=wp.url, OPENAI_BASE_URL=llm.url + "/v1", OPENAI_API_KEY="test-key",
            PUBLISHER_MODEL="test-model", PUBLISHER_DB=f"sqlite:///{folder}/state.db",
            PUBLISHER_HTTP_TIMEOUT=str(WP_TIMEOUT), PUBLISHER_LLM_TIMEOUT=str(LLM_TIMEOUT),
            PUBLISHER_DRAFTS_DIR=str(folder / "drafts"))
        yield World(wp_site, wp, llm, settings, folder, wp_site.users["author"].id,
                    _newest_post_id(wp_site))


def _newest_post_id(site) -> int:
    resp = requests.get(site.api("/wp/v2/posts"), auth=site.auth("author"), timeout=30, params={
        "status": "any", "context": "edit", "per_page": 1, "orderby": "id", "order": "desc",
        "_fields": "id"})
    resp.raise_for_status()
    return resp.json()[0]["id"] if resp.json() else 0


def drafts_for(site, source_hash: str) -> list[dict]:
    """The posts on WordPress carrying ``source_hash`` (asked directly, not through the proxy)."""
    resp = requests.get(site.api("/wp/v2/posts"), auth=site.auth("author"), timeout=30, params={
        "publisher_source_hash": source_hash, "context": "edit", "status": "any",
        "per_page": 100, "_fields": "id,status,meta"})
    resp.raise_for_status()
    return [p for p in resp.json() if p["meta"].get("publisher_source_hash") == source_hash]


def new_posts(world: World) -> list[dict]:
    """Every post this module's author made on the site, whatever its meta."""
    resp = requests.get(world.site.api("/wp/v2/posts"), auth=world.site.auth("author"),
                        timeout=30, params={"status": "any", "context": "edit", "per_page": 100,
                                            "author": world.author_id, "orderby": "id",
                                            "order": "desc", "_fields": "id,meta"})
    resp.raise_for_status()
    posts = resp.json()
    pages = int(resp.headers.get("X-WP-TotalPages", 1))
    for page in range(2, pages + 1):
        if posts and posts[-1]["id"] <= world.first_id:
            break
        more = requests.get(resp.url.split("&page=")[0] + f"&page={page}",
                            auth=world.site.auth("author"), timeout=30)
        posts += more.json()
    return [p for p in posts if p["id"] > world.first_id]


def story_file(world: World, index: int) -> Path:
    """A seed made into a new story: one more sentence, unique to it, changes its hash."""
    seed = SEEDS[index % len(SEEDS)]
    tag = uuid.uuid4().hex[:8]
    path = world.folder / f"story-{index:03d}-{tag}.txt"
    path.write_text(seed.read_text(encoding="utf-8").rstrip() + "\n\nLa rédaction a classé "
                    f"cette dépêche sous la référence interne {tag} avant sa réécriture.\n",
                    encoding="utf-8")
    return path


@dataclass
class Run:
    kind: str                 # drafted | failed | crashed
    reason: str = ""
    source_hash: str = ""
    error: str = ""


def run_draft(world: World, path: Path) -> Run:
    request = api.DraftRequest(inputs=(str(path),))
    try:
        outcome = api.draft(request, world.settings)
    except PublisherError as err:
        return Run("failed", err.reason, error=str(err))
    except Exception as err:               # noqa: BLE001 — a crash is what we count here
        return Run("crashed", type(err).__name__, error=repr(err))
    return Run(outcome.kind, outcome.reason or "",
               source_hash=outcome.draft.source_hash if outcome.draft else "")


def saved_folder(error: str) -> str:
    """The dry-run folder a failed push left its article in (publisher.api says where)."""
    match = re.search(r"the article is saved in (.+?): once", error)
    return match.group(1) if match else ""


def run_push(world: World, folder: str) -> Run:
    try:
        outcome = api.push(folder, world.settings)
    except PublisherError as err:
        return Run("failed", err.reason, error=str(err))
    except Exception as err:               # noqa: BLE001
        return Run("crashed", type(err).__name__, error=repr(err))
    return Run(outcome.kind, outcome.reason or "", source_hash="pushed")


def source_hash_of(world: World, path: Path) -> str:
    from publisher import pipeline
    sources, _ = api.load_inputs(api.DraftRequest(inputs=(str(path),)), world.settings)
    return pipeline.story_hash(sources)


@dataclass
class Verdict:
    first: Run
    rerun: Run | None
    after_first: int
    final: int
    llm_calls_first: int = 0          # chat requests the first run made


def draft_through(world: World, index: int, wp_faults=(), llm_faults=()) -> Verdict:
    """One story through the faults; on failure, one clean re-run. Drafts counted after each."""
    path = story_file(world, index)
    story = source_hash_of(world, path)
    world.stories.append(story)
    world.wp.reset(), world.llm.reset()
    world.wp.add(*wp_faults), world.llm.add(*llm_faults)
    first = run_draft(world, path)
    llm_calls = world.llm.count("POST")
    world.wp.clear(), world.llm.clear()
    after_first = len(drafts_for(world.site, story))
    rerun = None
    if first.kind != "drafted":                  # the paid article, if saved, is pushed as is
        folder = saved_folder(first.error)
        rerun = run_push(world, folder) if folder else run_draft(world, path)
    final = len(drafts_for(world.site, story)) if rerun else after_first
    return Verdict(first, rerun, after_first, final, llm_calls)


def check(verdict: Verdict) -> None:
    first = verdict.first
    assert first.kind != "crashed", f"crash instead of a named failure: {first.error}"
    if first.kind == "drafted":
        assert verdict.after_first == 1, f"{verdict.after_first} drafts after a success"
        return
    assert first.reason, f"failure without a reason: {first.error}"
    assert verdict.after_first in (0, 1), f"{verdict.after_first} drafts after a failure"
    rerun = verdict.rerun            # drafts it, or finds the draft the failed run left
    assert (rerun.kind, rerun.reason) in (("drafted", ""), ("skipped", "already_drafted")), \
        f"the clean re-run failed: {rerun.error}"
    assert verdict.final == 1, f"{verdict.final} drafts after the re-run"


# --- one fault at a time on the create, where duplicates and losses come from ------------------

@pytest.mark.parametrize("fault", [
    Fault("drop_after", *CREATE),                          # WordPress acted, answer lost
    Fault("stall_after", *CREATE, seconds=WP_STALL),       # acted, then the client timed out
    Fault("status_after", *CREATE, status=502),            # acted, the gateway said 502
    Fault("truncate", *CREATE),                            # acted, answer cut in half
    Fault("malformed", *CREATE),                           # acted, answer not JSON
    Fault("drop_before", *CREATE),                         # never reached WordPress
    Fault("stall", *CREATE, seconds=WP_STALL),
    Fault("status", *CREATE, status=503, retry_after="1"),
    Fault("status", *CREATE, status=429, retry_after="1"),
    Fault("status", *CREATE, status=500),
], ids=Fault.label)
def test_a_fault_on_the_create_never_loses_or_doubles_the_draft(world, fault):
    verdict = draft_through(world, len(world.stories), [fault])
    assert world.wp.injected, "the fault never fired: the test proves nothing"
    check(verdict)


@pytest.mark.parametrize("second", [
    Fault("drop_after", *CREATE, nth=2), Fault("stall_after", *CREATE, nth=2, seconds=WP_STALL),
    Fault("status_after", *CREATE, nth=2, status=503), Fault("truncate", *CREATE, nth=2),
], ids=Fault.label)
def test_the_create_after_a_lookup_fails_too_and_a_rerun_still_gives_one(world, second):
    """The first create never reached WordPress; the lookup proves it; the second create
    reaches it but its answer is lost as well."""
    verdict = draft_through(world, len(world.stories), [Fault("drop_before", *CREATE), second])
    assert len(world.wp.injected) == 2
    check(verdict)


def test_a_lost_create_never_takes_over_another_storys_draft(world):
    """Two stories from the same seed get the same title. When the second one's create never
    reaches WordPress, the lookup must not mistake the first one's draft for it: the source
    hash says no, and that is final."""
    before = draft_through(world, 0)
    check(before)
    after = draft_through(world, len(SEEDS), [Fault("drop_before", *CREATE)])   # same seed
    check(after)
    assert len(drafts_for(world.site, world.stories[-2])) == 1, "the first story lost its draft"


def test_answers_lost_after_wordpress_acted_are_found_not_created_again(world):
    verdict = draft_through(world, len(world.stories), [Fault("drop_after", *CREATE)])
    assert verdict.first.kind == "drafted"           # looked up by hash, found, updated
    assert verdict.after_first == 1


@pytest.mark.parametrize("fault", [
    Fault("drop_before"), Fault("drop_after"), Fault("stall", seconds=LLM_STALL),
    Fault("status", status=500), Fault("status", status=502), Fault("status", status=503),
    Fault("status", status=429, retry_after="1"), Fault("truncate"),
], ids=Fault.label)
def test_llm_faults_are_retried_and_the_draft_made_once(world, fault):
    verdict = draft_through(world, len(world.stories), llm_faults=[fault])
    assert world.llm.injected
    assert verdict.first.kind == "drafted", verdict.first.error
    check(verdict)


def test_a_model_answer_that_is_not_json_is_asked_again(world):
    """The HTTP exchange is fine but the model's message is broken JSON: asked once more."""
    with FakeLLM(make_smart_handler()) as fake:
        fake.script(malformed_json())         # answered first, then the smart handler
        settings = replace(world.settings, openai_base_url=fake.base_url)
        path = story_file(world, len(world.stories))
        outcome = api.draft(api.DraftRequest(inputs=(str(path),)), settings)
        assert fake.purposes()[:2] == ["write", "write"]
    world.stories.append(outcome.draft.source_hash)
    assert outcome.kind == "drafted"
    assert len(drafts_for(world.site, outcome.draft.source_hash)) == 1


def test_an_llm_http_body_that_is_not_json_is_a_named_failure_or_retried(world):
    verdict = draft_through(world, len(world.stories), llm_faults=[Fault("malformed")])
    check(verdict)


# --- the random suite ---------------------------------------------------------------------------

def test_random_fault_schedules(world):
    runs = int(os.environ.get("PUBLISHER_FAULT_RUNS", "40"))
    seed = int(os.environ.get("PUBLISHER_FAULT_SEED", "20240611"))
    rng = random.Random(seed)
    started, figures, problems = time.monotonic(), _zero_figures(runs, seed), []
    first_story = len(world.stories)
    for index in range(runs):
        wp_faults, llm_faults = random_schedule(rng, wp_stall=WP_STALL, llm_stall=LLM_STALL,
                                                llm_kinds=LLM_KINDS)
        verdict = draft_through(world, index, wp_faults, llm_faults)
        _tally(figures, verdict, world)
        try:
            check(verdict)
        except AssertionError as err:
            problems.append(f"run {index}: {err} (faults: "
                            f"{[f.label() for f, *_ in world.wp.injected + world.llm.injected]})")
    ours = set(world.stories[first_story:])
    posts = new_posts(world)
    # Another process may run this suite on the same site at the same time: its stories are
    # not ours, so the site-wide audit looks for what no correct run can leave behind — a
    # post without a source hash, or two posts with the same one.
    hashes = [p["meta"].get("publisher_source_hash") for p in posts]
    orphans = [p["id"] for p, h in zip(posts, hashes) if not h]
    doubled = sorted({h for h in hashes if h and hashes.count(h) > 1})
    figures.update(orphan_posts=len(orphans), doubled_on_site=len(doubled), stories=len(ours),
                   seconds=round(time.monotonic() - started, 1))
    _report(figures)
    assert figures["faults_injected"] >= runs // 2, figures
    assert not problems, "\n".join(problems)
    assert figures["drafts_lost"] == 0 and figures["duplicate_drafts"] == 0, figures
    assert not orphans and not doubled, (orphans, doubled)


# Every fault kind hits the LLM too, "malformed" (a 200 whose HTTP body is not JSON) included.
LLM_KINDS = ("drop_before", "drop_after", "stall", "stall_after", "status", "status_after",
             "truncate", "malformed")


def _zero_figures(runs: int, seed: int) -> dict:
    return {"seed": seed, "runs": runs, "reruns": 0, "faults_injected": 0, "faults_by_kind": {},
            "succeeded_first_time": 0, "failed_with_reason": 0, "crashes": 0,
            "drafts_lost": 0, "duplicate_drafts": 0, "failure_reasons": {},
            "articles_written_twice": 0, "reruns_by_push": 0}


def _tally(figures: dict, verdict: Verdict, world: World) -> None:
    for side, proxy in (("wp", world.wp), ("llm", world.llm)):
        figures["faults_injected"] += len(proxy.injected)
        for fault, *_ in proxy.injected:
            key = f"{side}:{fault.kind}"
            figures["faults_by_kind"][key] = figures["faults_by_kind"].get(key, 0) + 1
    first = verdict.first
    if first.kind == "drafted":
        figures["succeeded_first_time"] += 1
    elif first.kind == "crashed":
        figures["crashes"] += 1
    else:
        figures["failed_with_reason"] += 1
        figures["failure_reasons"][first.reason] = figures["failure_reasons"].get(first.reason,
                                                                                  0) + 1
    if verdict.rerun:
        figures["reruns"] += 1
        figures["reruns_by_push"] += int(verdict.rerun.source_hash == "pushed")
    figures["drafts_lost"] += int(verdict.final == 0)
    # Not lost for good, but paid twice: the article was written, the push failed before
    # WordPress kept anything, no folder kept it, and the re-run had to ask the model again.
    figures["articles_written_twice"] += int(
        first.kind == "failed" and verdict.after_first == 0 and verdict.llm_calls_first > 0
        and not saved_folder(first.error))
    figures["duplicate_drafts"] += max(0, verdict.after_first - 1) + max(0, verdict.final - 1)


def _report(figures: dict) -> None:
    target = os.environ.get("PUBLISHER_FAULT_REPORT")
    text = json.dumps(figures, indent=1, sort_keys=True)
    print("\nfault suite figures:", text)
    if target:
        Path(target).write_text(text + "\n", encoding="utf-8")


def test_every_story_of_this_module_has_exactly_one_draft(world):
    """Runs last: no later run took over an earlier draft."""
    assert world.stories, "run with the tests above"
    counts = {story: len(drafts_for(world.site, story)) for story in world.stories}
    assert {s: n for s, n in counts.items() if n != 1} == {}
