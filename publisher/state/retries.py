"""Where each story stands between unattended runs: drafted, waiting for its next attempt,
or abandoned with its last reason (``publisher_stories``, migration 5).

    failed ─► config     "retrying", due at once, no attempt counted (the run stopped;
                         the next one, once the setting is fixed, tries again)
           ─► transient  attempt n counted; due after backoff·2^(n-1) (capped), or
                         "abandoned" once n reaches PUBLISHER_MAX_ATTEMPTS
           ─► content    "abandoned" at once: a 404 page or a refused article never heals
    drafted / skipped ─► final

A due story is ``claim``-ed ("queued") when its retry is submitted, so a watcher's next poll
does not submit it a second time while it runs; its outcome then sets the row again.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import select, update

from ..errors import CONFIG, CONTENT, failure_class
from ..models import ABANDONED, FAILED, QUEUED, RETRYING
from .db import Store, now, stories

# A claim older than this whose story has no workflow still running was lost (its run died
# between the claim and the queue): the story is due again.
STALE_CLAIM = 3600.0


def backoff(attempts: int, first: float, longest: float) -> float:
    """Seconds to wait after the ``attempts``-th failure: first, 2×first, 4×first… ≤ longest."""
    return min(longest, first * 2 ** max(0, attempts - 1))


def iso_in(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def note(store: Store, story_id: str, kind: str, reason: str = "", error: str = "", *,
         settings, site: str = "", title: str = "", outlets: Iterable[str] = ()) -> dict:
    """Record a story's outcome and decide what comes next; returns the row written."""
    row = standing(store, story_id) or {}
    attempts = int(row.get("attempts") or 0)
    status, due = kind, ""
    if kind == FAILED:
        status, attempts, due = _after_failure(reason, attempts, settings)
    values = dict(story_id=story_id, site=site or row.get("site") or "default",
                  title=title or row.get("title") or "",
                  outlets=", ".join(dict.fromkeys(o for o in outlets if o)) or row.get("outlets")
                  or "", status=status, attempts=attempts, next_attempt=due,
                  abandoned_by="rule" if status == ABANDONED else "",
                  reason=reason or "", error=error or "", updated_at=now())
    store._upsert(stories, ("story_id",), values)
    return values


def _after_failure(reason: str, attempts: int, settings) -> tuple[str, int, str]:
    kind = failure_class(reason)
    if kind == CONFIG:
        return RETRYING, attempts, now()
    attempts += 1
    if kind == CONTENT or attempts >= settings.max_attempts:
        return ABANDONED, attempts, ""
    return RETRYING, attempts, iso_in(backoff(attempts, settings.retry_backoff,
                                              settings.retry_max_wait))


def standing(store: Store, story_id: str) -> dict[str, Any] | None:
    return store._one(select(stories).where(stories.c.story_id == story_id))


def due(store: Store, site: str = "default") -> list[str]:
    """Stories of ``site`` whose next attempt is due now, oldest first; and stories claimed
    so long ago that the run which claimed them must have died before queuing them."""
    c = stories.c
    return [r["story_id"] for r in store._all(
        select(c.story_id).where(_claimable(), c.site == (site or "default"))
        .order_by(c.next_attempt))]


def _claimable():
    from sqlalchemy import and_, or_
    c = stories.c
    stale = (datetime.now(timezone.utc) - timedelta(seconds=STALE_CLAIM)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    return or_(and_(c.status == RETRYING, c.next_attempt <= now()),
               and_(c.status == QUEUED, c.updated_at <= stale))


def waiting(store: Store, site: str = "default") -> list[str]:
    """Stories of ``site`` waiting for a retry, due or not (``publisher retry`` forces them)."""
    c = stories.c
    return [r["story_id"] for r in store._all(
        select(c.story_id).where(c.status == RETRYING, c.site == (site or "default"))
        .order_by(c.next_attempt))]


def is_abandoned(store: Store, story_id: str, *, by_hand_only: bool = False) -> bool:
    """Whether the story was given up on (``by_hand_only``: with ``retry --abandon``; one
    abandoned by rule, a 404 page say, may still be retried by hand once it is back)."""
    row = standing(store, story_id)
    if not row or row["status"] != ABANDONED:
        return False
    return row["abandoned_by"] == "hand" or not by_hand_only


def claim(store: Store, story_id: str) -> bool:
    """Mark a due story as queued; False when another run claimed it first."""
    with store.engine.begin() as conn:
        done = conn.execute(update(stories).where(stories.c.story_id == story_id, _claimable())
                            .values(status=QUEUED, next_attempt="", updated_at=now()))
    return done.rowcount == 1


def release(store: Store, story_ids: Iterable[str], site: str = "default") -> None:
    """Stories whose run was stopped before they finished: due again, no attempt counted."""
    for story_id in story_ids:
        row = standing(store, story_id)
        if row is not None and row["status"] not in (QUEUED, RETRYING):
            continue                                # it finished meanwhile
        store._upsert(stories, ("story_id",), dict(
            story_id=story_id, site=(row or {}).get("site") or site or "default", title="",
            outlets="", status=RETRYING, abandoned_by="", attempts=0, next_attempt=now(),
            reason="stopped",
            error="", updated_at=now()),
            keep=("title", "outlets", "attempts", "reason", "error"))


def abandon(store: Store, story_id: str) -> dict[str, Any] | None:
    """Give up on a story by hand (``retry --abandon ID``); None when it is not known."""
    row = standing(store, story_id)
    if row is None:
        return None
    with store.engine.begin() as conn:
        conn.execute(update(stories).where(stories.c.story_id == story_id).values(
            status=ABANDONED, abandoned_by="hand", next_attempt="", updated_at=now()))
    return standing(store, story_id)


def counts(store: Store, site: str | None = None) -> dict[str, int]:
    """How many stories are retrying, queued, abandoned… (for `publisher stats`)."""
    from sqlalchemy import func
    c = stories.c
    stmt = select(c.status, func.count().label("n")).group_by(c.status)
    if site:
        stmt = stmt.where(c.site == site)
    return {r["status"]: int(r["n"]) for r in store._all(stmt)}
