"""publisher's own records: sources seen, outcomes, posts, LLM calls, feed polling.

One ``Store`` per database URL. SQLite is the default (``sqlite:////path/publisher.db``); a
deployment that outgrows one machine points the same code at PostgreSQL
(``postgresql://user:pw@host/db``, driven by psycopg v3, which the workflow engine brings
too). All SQL is SQLAlchemy Core and runs unchanged on both.

Secrets have no column here. As a second line of defence every text value written is scrubbed
of the secrets the Store was given and of passwords embedded in URLs (``https://u:pw@host``).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence

from sqlalchemy import (Column, Connection, Engine, Float, Integer, MetaData, Table, Text,
                        and_, create_engine, event, func, insert, select, text)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from ..errors import ConfigError
from ..models import Outcome, PostResult, Usage
from .migrations import MIGRATIONS, schema_table

log = logging.getLogger(__name__)

SQLITE_BUSY_SECONDS = 30.0
_PG_MIGRATION_LOCK = 7_304_551_201  # any constant: serialises concurrent migrate() calls
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]*:[^/\s@]*@")

md = MetaData()
schema = schema_table(md)


def _table(name: str, *cols: tuple[str, Any]) -> Table:
    return Table(name, md, *(Column(c, t, primary_key=(i == 0)) for i, (c, t) in enumerate(cols)))


# The current shape of each table, for queries; migrations.py is what creates them.
sources = _table("publisher_sources", ("story_id", Text), ("url", Text), ("source_hash", Text),
                 ("title", Text), ("first_seen", Text))
outcomes = _table("publisher_outcomes", ("id", Integer), ("story_id", Text), ("kind", Text),
                  ("reason", Text), ("error", Text), ("attempts", Integer), ("post_id", Integer),
                  ("edit_link", Text), ("link", Text), ("created_at", Text), ("site", Text))
posts = _table("publisher_posts", ("id", Integer), ("site", Text), ("post_id", Integer),
               ("story_id", Text), ("source_hash", Text), ("link", Text), ("edit_link", Text),
               ("status", Text), ("slug", Text), ("created_at", Text))
llm_calls = _table("publisher_llm_calls", ("id", Integer), ("story_id", Text), ("model", Text),
                   ("purpose", Text), ("input_tokens", Integer), ("output_tokens", Integer),
                   ("seconds", Float), ("cost", Float), ("finish_reason", Text),
                   ("created_at", Text), ("site", Text), ("status", Text))
llm_capabilities = _table("publisher_llm_capabilities", ("base_url", Text), ("model", Text),
                          ("mode", Text), ("stream_usage", Text), ("detail", Text),
                          ("updated_at", Text))
feeds = _table("publisher_feeds", ("url", Text), ("etag", Text), ("last_modified", Text),
               ("last_polled", Text), ("last_status", Text))
feed_items = _table("publisher_feed_items", ("id", Integer), ("feed_url", Text), ("guid", Text),
                    ("story_id", Text), ("link", Text), ("title", Text), ("published", Text),
                    ("seen_at", Text))

# Each story's standing: attempts, next retry, abandoned (migration 5; state/retries.py).
stories = _table("publisher_stories", ("story_id", Text), ("site", Text), ("title", Text),
                 ("outlets", Text), ("status", Text), ("abandoned_by", Text), ("attempts", Integer),
                 ("next_attempt", Text), ("reason", Text), ("error", Text),
                 ("updated_at", Text))

# Shared limits and worker identities (migration 3; used by state/limits.py).
limit_scopes = _table("publisher_limit_scopes", ("scope", Text))
permits = _table("publisher_permits", ("id", Integer), ("scope", Text), ("at", Float),
                 ("amount", Integer))
leases = _table("publisher_leases", ("id", Integer), ("scope", Text), ("holder", Text),
                ("expires_at", Float))
workers = _table("publisher_workers", ("worker_id", Text), ("host", Text), ("pid", Integer),
                 ("started_at", Text), ("heartbeat_at", Float))

TABLES = (sources, outcomes, posts, llm_calls, llm_capabilities, feeds, feed_items, limit_scopes, permits, leases,
          workers, stories)


def now() -> str:
    """UTC, ISO 8601, fixed width: sorts as text the same way on every database."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def engine_url(url: str) -> str:
    """Accept the usual spellings and pick psycopg v3 for PostgreSQL (no psycopg2 here)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(engine_url(url))
    except Exception:
        raise ConfigError(f"PUBLISHER_DB={url!r} is not a database URL; use "
                          "sqlite:////absolute/path/publisher.db or postgresql://user@host/db") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise ConfigError(f"PUBLISHER_DB: {parsed.get_backend_name()} is not supported; use a "
                      "sqlite:/// or postgresql:// URL")


def _sqlite_engine(parsed) -> Engine:
    database = parsed.database or ""
    memory = database in ("", ":memory:")
    if not memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}}
    if memory:
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(parsed, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_conn, _record) -> None:
    # We issue BEGIN ourselves (below), so the driver must not open transactions on its own.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
    _sqlite_wal(cur)                              # readers don't block the one writer
    cur.execute("PRAGMA synchronous=NORMAL")      # the WAL default: no fsync per commit
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_wal(cur) -> None:
    """Switch to WAL. On a new file that needs a moment alone with it, and SQLite answers
    "database is locked" at once instead of calling the busy handler: two processes opening
    a new database together (two cron runs) wait here rather than fail."""
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_on_begin(conn: Connection) -> None:
    # Writes take the write lock up front (IMMEDIATE): several processes writing then wait on
    # the busy timeout instead of failing with "database is locked" when a read upgrades to a
    # write. Reads (marked by Store._reader) need no lock under WAL.
    reading = conn.get_execution_options().get("publisher_read_only")
    conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


class StorePort(Protocol):
    """What the life of one story asks of the store (pipeline.py and its callers, api.py and
    workflows.py): ``Store`` implements it; a test may give anything that does."""

    def mark_source(self, story_id: str, url: str, source_hash: str, title: str) -> None:
        ...

    def post_for_hash(self, site: str, source_hash: str) -> dict[str, Any] | None:
        ...

    def record_llm_call(self, usage: Usage, story_id: str = "", site: str = "") -> int:
        ...

    def record_post(self, site: str, story_id: str, source_hash: str, post: PostResult,
                    *, within=None) -> None:
        ...

    def record_outcome(self, story_id: str, outcome: Outcome, attempts: int = 1,
                       site: str = "") -> int:
        ...

    def usage_totals(self, story_id: str | None = None) -> dict[str, Any]:
        ...


class Store:
    """The state database. ``Store(url)`` creates the file's folder and migrates the schema."""

    def __init__(self, url: str, *, secrets: Iterable[str] = (), migrate: bool = True):
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self._reader = self.engine.execution_options(publisher_read_only=True)
        self._secrets = tuple(s for s in secrets if s)
        if migrate:
            self.migrate()

    def __repr__(self) -> str:
        return f"Store({self.engine.url!r})"   # SQLAlchemy masks the password

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    # --- schema --------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._reader.connect() as conn:
            if not self.engine.dialect.has_table(conn, schema.name):
                return 0
            return conn.scalar(select(func.coalesce(func.max(schema.c.version), 0)))

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply pending migrations up to ``target`` (default: all); return the versions applied.
        Safe to call from several processes at once."""
        target = len(MIGRATIONS) if target is None else target
        applied = []
        for version in range(1, target + 1):
            if self._apply(version):
                applied.append(version)
        if applied:
            log.info("state schema migrated to version %s", applied[-1])
        return applied

    def _apply(self, version: int) -> bool:
        migration = MIGRATIONS[version - 1]
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            schema.create(conn, checkfirst=True)
            current = conn.scalar(select(func.coalesce(func.max(schema.c.version), 0)))
            if current > len(MIGRATIONS):
                raise ConfigError(f"the state database is at schema version {current}, newer "
                                  f"than this publisher knows ({len(MIGRATIONS)}); upgrade publisher")
            if current >= version:
                return False
            migration(conn)
            conn.execute(insert(schema).values(version=version, name=migration.__name__,
                                               applied_at=now()))
        return True

    # --- writing -------------------------------------------------------------------------

    def _clean(self, values: dict[str, Any]) -> dict[str, Any]:
        return {k: self._scrub(v) if isinstance(v, str) else v for k, v in values.items()}

    def _scrub(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, "***")
        return _URL_PASSWORD.sub(r"\1***@", value)

    def _insert(self, table: Table, **values: Any) -> int | None:
        with self.engine.begin() as conn:
            result = conn.execute(insert(table).values(**self._clean(values)))
            pk = result.inserted_primary_key
            return pk[0] if pk else None

    def _upsert(self, table: Table, keys: Sequence[str], values: dict[str, Any],
                keep: Sequence[str] = ()) -> None:
        """Insert, or update the row with the same ``keys`` (leaving ``keep`` columns as they
        were). ON CONFLICT has the same spelling in SQLite and PostgreSQL."""
        with self.engine.begin() as conn:
            conn.execute(self._upsert_stmt(table, keys, values, keep))

    def _upsert_stmt(self, table: Table, keys: Sequence[str], values: dict[str, Any],
                     keep: Sequence[str] = ()):
        values = self._clean(values)
        stmt = _dialect_insert(self.dialect)(table).values(**values)
        changes = {c: stmt.excluded[c] for c in values if c not in keys and c not in keep}
        return (stmt.on_conflict_do_update(index_elements=list(keys), set_=changes) if changes
                else stmt.on_conflict_do_nothing(index_elements=list(keys)))

    def record_llm_call(self, usage: Usage, story_id: str = "", site: str = "") -> int:
        return self._insert(
            llm_calls, story_id=story_id, model=usage.model, purpose=usage.purpose,
            input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
            seconds=usage.seconds, cost=usage.cost, finish_reason=usage.finish_reason,
            created_at=now(), **_site(site),
            # only when known: an old database being upgraded may not have the column yet
            **({"status": usage.status} if usage.status else {}))

    def llm_capability(self, base_url: str, model: str) -> dict[str, Any] | None:
        """What this server was found to accept for this model ({mode, stream_usage, detail}),
        None when it was never asked."""
        c = llm_capabilities.c
        return self._one(select(c.mode, c.stream_usage, c.detail, c.updated_at)
                         .where(and_(c.base_url == base_url, c.model == model)))

    def remember_llm_capability(self, base_url: str, model: str, *, mode: str | None = None,
                                stream_usage: str | None = None, detail: str | None = None) -> None:
        """Remember what works (only the fields given change)."""
        values = {k: v for k, v in dict(mode=mode, stream_usage=stream_usage,
                                        detail=detail).items() if v is not None}
        row = dict(base_url=base_url, model=model, mode="", stream_usage="", detail="",
                   updated_at=now())
        row.update(values)
        self._upsert(llm_capabilities, ("base_url", "model"), row,
                     keep=[k for k in ("mode", "stream_usage", "detail") if k not in values])

    def record_outcome(self, story_id: str, outcome: Outcome, attempts: int = 1,
                       site: str = "") -> int:
        post = outcome.post
        return self._insert(
            outcomes, story_id=story_id, kind=outcome.kind, reason=outcome.reason or "",
            error=outcome.error or "", attempts=attempts, post_id=post.id if post else None,
            edit_link=post.edit_link if post else "", link=post.link if post else "",
            created_at=now(), **_site(site))

    def record_post(self, site: str, story_id: str, source_hash: str, post: PostResult,
                    *, within=None) -> None:
        """Remember a WordPress post; the same (site, post id) again updates it (reused post).
        ``within``: a connection or session whose transaction the caller holds (the workflow
        engine's push step records the post in the transaction that records the step)."""
        stmt = self._upsert_stmt(posts, ("site", "post_id"), dict(
            site=site.rstrip("/"), post_id=post.id, story_id=story_id, source_hash=source_hash,
            link=post.link, edit_link=post.edit_link, status=post.status, slug=post.slug,
            created_at=now()), keep=("created_at",))
        if within is not None:
            within.execute(stmt)
            return
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def mark_source(self, story_id: str, url: str, source_hash: str, title: str) -> None:
        self._upsert(sources, ("story_id",), dict(
            story_id=story_id, url=url, source_hash=source_hash, title=title,
            first_seen=now()), keep=("first_seen",))

    def save_feed_cache(self, url: str, etag: str | None, last_modified: str | None,
                        status: str) -> None:
        """Remember a poll. ``None`` for a validator keeps the one stored (e.g. after a
        failure); ``""`` forgets it (the server stopped sending it)."""
        values = dict(url=url, last_polled=now(), last_status=status,
                      etag=etag or "", last_modified=last_modified or "")
        keep = tuple(k for k, v in (("etag", etag), ("last_modified", last_modified)) if v is None)
        self._upsert(feeds, ("url",), values, keep=keep)

    def mark_item(self, feed_url: str, guid: str, story_id: str, link: str, title: str,
                  published: str) -> None:
        self._upsert(feed_items, ("feed_url", "guid"), dict(
            feed_url=feed_url, guid=guid, story_id=story_id, link=link, title=title,
            published=published or "", seen_at=now()), keep=("seen_at",))

    # --- reading -------------------------------------------------------------------------

    def _one(self, stmt) -> dict[str, Any] | None:
        with self._reader.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        return dict(row) if row else None

    def _all(self, stmt) -> list[dict[str, Any]]:
        with self._reader.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def post_for_story(self, story_id: str) -> dict[str, Any] | None:
        """The latest post made for this story, on any site."""
        return self._one(select(posts).where(posts.c.story_id == story_id)
                         .order_by(posts.c.id.desc()).limit(1))

    def post_for_hash(self, site: str, source_hash: str) -> dict[str, Any] | None:
        """The latest post on ``site`` made from this exact source text."""
        return self._one(select(posts).where(posts.c.site == site.rstrip("/"),
                                             posts.c.source_hash == source_hash)
                         .order_by(posts.c.id.desc()).limit(1))

    def history(self, limit: int = 50) -> list[dict[str, Any]]:
        """Latest outcomes first, with the source's title/URL, the post's status/slug, and
        where the story stands now: outlets, attempts, next attempt, status (``abandoned``…)."""
        joined = (outcomes.outerjoin(sources, sources.c.story_id == outcomes.c.story_id)
                  .outerjoin(posts, and_(posts.c.story_id == outcomes.c.story_id,
                                         posts.c.post_id == outcomes.c.post_id))
                  .outerjoin(stories, stories.c.story_id == outcomes.c.story_id))
        own = [c for c in outcomes.c if c.name != "site"]     # "site" is the post's URL here
        stmt = (select(*own, outcomes.c.site.label("site_name"), sources.c.title,
                       stories.c.title.label("story_title"), sources.c.url.label("source_url"),
                       posts.c.site, posts.c.status.label("post_status"), posts.c.slug,
                       stories.c.outlets, stories.c.status.label("story_status"),
                       stories.c.attempts.label("failed_attempts"), stories.c.next_attempt)
                .select_from(joined).order_by(outcomes.c.id.desc()).limit(limit))
        rows = self._all(stmt)
        for row in rows:        # an outcome without a post or source: "" rather than None
            for key in ("title", "source_url", "site", "post_status", "slug", "outlets",
                        "story_status", "next_attempt"):
                row[key] = row[key] or ""
            row["title"] = row.pop("story_title") or row["title"]
            row["failed_attempts"] = row["failed_attempts"] or 0
        return rows

    def failed_story_ids(self) -> list[str]:
        """Stories whose latest outcome is a failure: the ones worth retrying."""
        latest = (select(func.max(outcomes.c.id).label("id"))
                  .group_by(outcomes.c.story_id).subquery())
        stmt = (select(outcomes.c.story_id).join(latest, latest.c.id == outcomes.c.id)
                .where(outcomes.c.kind == "failed").order_by(outcomes.c.id))
        with self._reader.connect() as conn:
            return list(conn.scalars(stmt))

    def usage_totals(self, story_id: str | None = None) -> dict[str, Any]:
        c = llm_calls.c
        stmt = select(func.count().label("calls"),
                      func.coalesce(func.sum(c.input_tokens), 0).label("input_tokens"),
                      func.coalesce(func.sum(c.output_tokens), 0).label("output_tokens"),
                      func.coalesce(func.sum(c.cost), 0.0).label("cost"))
        if story_id is not None:
            stmt = stmt.where(c.story_id == story_id)
        row = self._one(stmt) or {}
        return {"calls": int(row["calls"]), "input_tokens": int(row["input_tokens"]),
                "output_tokens": int(row["output_tokens"]), "cost": round(float(row["cost"]), 6)}

    def feed_cache(self, url: str) -> tuple[str, str]:
        """(ETag, Last-Modified) from the last poll of this feed; empty strings if none."""
        row = self._one(select(feeds.c.etag, feeds.c.last_modified).where(feeds.c.url == url))
        return (row["etag"], row["last_modified"]) if row else ("", "")

    def feed_status(self, url: str) -> dict[str, Any] | None:
        return self._one(select(feeds).where(feeds.c.url == url))

    def items_of_story(self, story_id: str) -> list[dict[str, Any]]:
        """The feed items recorded under ``story_id``, in the order they were seen."""
        return self._all(select(feed_items).where(feed_items.c.story_id == story_id)
                         .order_by(feed_items.c.id))

    def item_seen(self, feed_url: str, guid: str) -> bool:
        row = self._one(select(feed_items.c.id).where(feed_items.c.feed_url == feed_url,
                                                      feed_items.c.guid == guid))
        return row is not None

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every publisher table (for support and for the no-secrets test)."""
        return {t.name: self._all(select(t)) for t in (schema, *TABLES)}


def _site(site: str) -> dict[str, str]:
    # Only named when known: a database not yet at schema 3 can still be written to.
    return {"site": site} if site else {}


def _dialect_insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        return sqlite_insert
    raise ConfigError(f"database {dialect} is not supported; use SQLite or PostgreSQL")
