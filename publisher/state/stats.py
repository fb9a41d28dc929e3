"""The numbers behind ``publisher stats``: outcomes and LLM usage per site, per day, per window.

Timestamps are ISO 8601 UTC text of fixed width (db.now()), so "since" is a text comparison
and "the day" the first ten characters, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from ..models import DRAFTED
from .db import Store, llm_calls, outcomes, stories


def iso_ago(**delta) -> str:
    return (datetime.now(timezone.utc) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def outcomes_by_site(store: Store, since: str, site: str | None = None) -> list[dict]:
    """(site, kind, reason, count) of the outcomes recorded since ``since``."""
    c = outcomes.c
    stmt = (select(c.site, c.kind, c.reason, func.count().label("count"))
            .where(c.created_at >= since).group_by(c.site, c.kind, c.reason)
            .order_by(c.site, c.kind, c.reason))
    if site:
        stmt = stmt.where(c.site == site)
    return store._all(stmt)


def drafted_since(store: Store, since: str, site: str | None = None) -> int:
    stmt = select(func.count()).select_from(outcomes).where(
        outcomes.c.kind == DRAFTED, outcomes.c.created_at >= since)
    if site:
        stmt = stmt.where(outcomes.c.site == site)
    with store._reader.connect() as conn:
        return int(conn.scalar(stmt) or 0)


def first_and_last_drafted(store: Store, since: str, site: str | None = None) -> tuple[str, str]:
    c = outcomes.c
    stmt = select(func.min(c.created_at), func.max(c.created_at)).where(
        c.kind == DRAFTED, c.created_at >= since)
    if site:
        stmt = stmt.where(c.site == site)
    with store._reader.connect() as conn:
        first, last = conn.execute(stmt).one()
    return first or "", last or ""


def usage_by_site_and_day(store: Store, since: str, site: str | None = None) -> list[dict]:
    c = llm_calls.c
    day = func.substr(c.created_at, 1, 10).label("day")
    stmt = (select(c.site, day, func.count().label("calls"),
                   func.coalesce(func.sum(c.input_tokens), 0).label("input_tokens"),
                   func.coalesce(func.sum(c.output_tokens), 0).label("output_tokens"),
                   func.coalesce(func.sum(c.cost), 0.0).label("cost"))
            .where(c.created_at >= since).group_by(c.site, day).order_by(day, c.site))
    if site:
        stmt = stmt.where(c.site == site)
    rows = store._all(stmt)
    for row in rows:
        row["input_tokens"], row["output_tokens"] = int(row["input_tokens"]), int(row["output_tokens"])
        row["tokens"] = row["input_tokens"] + row["output_tokens"]
        row["cost"] = round(float(row["cost"]), 6)
    return rows


def stories_by_status(store: Store, site: str | None = None) -> list[dict]:
    """(site, status, reason, count) of every story's current standing: retrying (with the
    reason of its last failure), abandoned (with its last reason), drafted…"""
    c = stories.c
    stmt = (select(c.site, c.status, c.reason, func.count().label("count"))
            .group_by(c.site, c.status, c.reason).order_by(c.site, c.status, c.reason))
    if site:
        stmt = stmt.where(c.site == site)
    return store._all(stmt)
