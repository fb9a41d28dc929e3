"""The retry policy on a real SQLite state database: failure classes, exponential backoff,
the maximum of attempts, claims, abandoning by rule and by hand."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from publisher.config import Settings
from publisher.errors import (CONFIG, CONTENT, TRANSIENT, AuthError, ConfigError, FetchError,
                              LLMError, NetworkError, failure_class)
from publisher.state import retries
from publisher.state import stats as q
from publisher.state.db import Store
from publisher.wordpress.port import Unsupported


@pytest.fixture
def store(tmp_path):
    with Store(f"sqlite:///{tmp_path}/state.db") as s:
        yield s


def settings(**env) -> Settings:
    return Settings.from_mapping({"PUBLISHER_DB": "sqlite://", **env})


def seconds_until(iso: str) -> float:
    when = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return (when - datetime.now(timezone.utc)).total_seconds()


@pytest.mark.parametrize("err, kind", [
    (LLMError("x", reason="llm_model_not_found"), CONFIG),
    (LLMError("x", reason="llm_auth"), CONFIG),
    (AuthError("x"), CONFIG),
    (ConfigError("x", reason="anything"), CONFIG),
    (LLMError("x", reason="llm_unavailable"), TRANSIENT),
    (LLMError("x", reason="llm_timeout"), TRANSIENT),
    (NetworkError("x", reason="timeout"), TRANSIENT),
    (FetchError("x", status=503), TRANSIENT),
    (FetchError("x", status=404), CONTENT),
    (LLMError("x", reason="not_an_article"), CONTENT),
    (Unsupported("XML-RPC cannot upload an image; use --transport rest"), CONFIG),
])
def test_each_failure_has_a_class(err, kind):
    assert err.failure_class == kind
    if not isinstance(err, ConfigError):         # the stored reason says the same
        assert failure_class(err.reason) == kind


def test_the_wait_doubles_from_minutes_to_hours_and_is_capped():
    waits = [retries.backoff(n, 300, 6 * 3600) for n in range(1, 9)]
    assert waits[:5] == [300, 600, 1200, 2400, 4800]
    assert waits[-1] == 6 * 3600 and sorted(waits) == waits


def test_a_transient_failure_waits_then_is_due(store):
    cfg = settings(PUBLISHER_RETRY_BACKOFF="600")
    row = retries.note(store, "s1", "failed", "llm_unavailable", "503", settings=cfg,
                       title="Titre", outlets=["Le Monde", "Le Monde", "Libération"])
    assert (row["status"], row["attempts"]) == ("retrying", 1)
    assert 590 < seconds_until(row["next_attempt"]) <= 600
    assert row["outlets"] == "Le Monde, Libération"
    assert retries.due(store) == []                     # not before its wait is over
    again = retries.note(store, "s1", "failed", "llm_timeout", "slow", settings=cfg)
    assert again["attempts"] == 2 and 1190 < seconds_until(again["next_attempt"]) <= 1200
    assert again["title"] == "Titre"                    # kept from the first note


def test_a_story_is_abandoned_after_the_maximum_of_attempts(store):
    cfg = settings(PUBLISHER_RETRY_BACKOFF="0", PUBLISHER_MAX_ATTEMPTS="3")
    for attempt in (1, 2):
        assert retries.note(store, "s2", "failed", "llm_unavailable", settings=cfg)["status"] \
            == "retrying"
        assert retries.due(store) == ["s2"]
    last = retries.note(store, "s2", "failed", "llm_unavailable", "503 again", settings=cfg)
    assert (last["status"], last["attempts"], last["reason"]) == ("abandoned", 3,
                                                                 "llm_unavailable")
    assert retries.due(store) == [] and retries.is_abandoned(store, "s2")
    assert not retries.is_abandoned(store, "s2", by_hand_only=True)


def test_a_page_gone_is_abandoned_at_once_and_a_wrong_setting_costs_no_attempt(store):
    cfg = settings(PUBLISHER_RETRY_BACKOFF="0")
    assert retries.note(store, "gone", "failed", "http_404", settings=cfg)["status"] == "abandoned"
    config = retries.note(store, "cfg", "failed", "llm_auth", settings=cfg)
    assert (config["status"], config["attempts"]) == ("retrying", 0)
    assert retries.due(store) == ["cfg"]


def test_a_due_story_is_claimed_once(store):
    retries.note(store, "s3", "failed", "llm_unavailable", settings=settings(
        PUBLISHER_RETRY_BACKOFF="0"))
    assert retries.claim(store, "s3") is True
    assert retries.claim(store, "s3") is False          # an overlapping run: not twice
    assert retries.due(store) == []
    retries.release(store, ["s3"])                      # its run was stopped: due again
    assert retries.due(store) == ["s3"]
    assert retries.standing(store, "s3")["attempts"] == 1


def test_abandoning_by_hand_and_the_counts_for_stats(store):
    cfg = settings(PUBLISHER_RETRY_BACKOFF="0")
    retries.note(store, "s4", "failed", "llm_unavailable", settings=cfg, site="alpha")
    retries.note(store, "s5", "drafted", settings=cfg, site="alpha")
    assert retries.abandon(store, "unknown") is None
    row = retries.abandon(store, "s4")
    assert (row["status"], row["abandoned_by"], row["reason"]) == ("abandoned", "hand",
                                                                   "llm_unavailable")
    assert retries.is_abandoned(store, "s4", by_hand_only=True)
    assert retries.due(store, "alpha") == []
    rows = {(r["status"], r["reason"]): r["count"] for r in q.stories_by_status(store, "alpha")}
    assert rows == {("abandoned", "llm_unavailable"): 1, ("drafted", ""): 1}


def test_a_claim_whose_run_died_before_queuing_is_due_again_after_an_hour(store):
    from sqlalchemy import update
    from publisher.state.db import stories
    retries.note(store, "s6", "failed", "llm_unavailable", settings=settings(
        PUBLISHER_RETRY_BACKOFF="0"))
    assert retries.claim(store, "s6")
    assert retries.due(store) == []                     # claimed just now: its run queues it
    with store.engine.begin() as conn:                  # …an hour and more ago, and it died
        conn.execute(update(stories).values(updated_at="2000-01-01T00:00:00.000000Z"))
    assert retries.due(store) == ["s6"]
    assert retries.claim(store, "s6") and not retries.claim(store, "s6")
