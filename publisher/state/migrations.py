"""Versioned schema changes for publisher's own tables, applied in order, each in a transaction.

Every migration is frozen once released: it declares the tables *as they were at that
version* (its own MetaData), never the current ones from ``db.py``, so that upgrading an old
database replays exactly what a fresh one went through. To change the schema, append a new
function to ``MIGRATIONS``; never edit an old one.

Portable SQL only (SQLAlchemy Core): the same migrations run on SQLite and PostgreSQL. All our
tables are prefixed ``publisher_`` because the workflow engine keeps its own in the same
database. Free text is ``Text`` (no length that PostgreSQL would enforce and SQLite would not);
timestamps are ISO 8601 UTC strings, which sort correctly and read the same on both.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import (Column, Connection, Float, Index, Integer, MetaData, Table, Text,
                        UniqueConstraint)

SCHEMA_TABLE = "publisher_schema"


def schema_table(metadata: MetaData) -> Table:
    """One row per applied migration; the database's version is the highest one."""
    return Table(
        SCHEMA_TABLE, metadata,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("name", Text, nullable=False),
        Column("applied_at", Text, nullable=False),
    )


def m001_core(conn: Connection) -> None:
    """Sources seen, outcomes, WordPress posts and LLM calls."""
    md = MetaData()
    Table(
        "publisher_sources", md,
        Column("story_id", Text, primary_key=True),
        Column("url", Text, nullable=False, default=""),
        Column("source_hash", Text, nullable=False, default=""),
        Column("title", Text, nullable=False, default=""),
        Column("first_seen", Text, nullable=False),
    )
    Table(
        "publisher_outcomes", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("story_id", Text, nullable=False, index=True),
        Column("kind", Text, nullable=False),            # drafted | dry_run | skipped | failed
        Column("reason", Text, nullable=False, default=""),
        Column("error", Text, nullable=False, default=""),
        Column("attempts", Integer, nullable=False, default=1),
        Column("post_id", Integer),
        Column("edit_link", Text, nullable=False, default=""),
        Column("link", Text, nullable=False, default=""),
        Column("created_at", Text, nullable=False),
    )
    Table(
        "publisher_posts", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("site", Text, nullable=False),
        Column("post_id", Integer, nullable=False),
        Column("story_id", Text, nullable=False, index=True),
        Column("source_hash", Text, nullable=False, default=""),
        Column("link", Text, nullable=False, default=""),
        Column("edit_link", Text, nullable=False, default=""),
        Column("status", Text, nullable=False, default=""),
        Column("slug", Text, nullable=False, default=""),
        Column("created_at", Text, nullable=False),
        UniqueConstraint("site", "post_id", name="publisher_posts_site_post_id"),
        Index("publisher_posts_site_hash", "site", "source_hash"),
    )
    Table(
        "publisher_llm_calls", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("story_id", Text, nullable=False, default="", index=True),
        Column("model", Text, nullable=False),
        Column("purpose", Text, nullable=False, default=""),
        Column("input_tokens", Integer, nullable=False, default=0),
        Column("output_tokens", Integer, nullable=False, default=0),
        Column("seconds", Float, nullable=False, default=0.0),
        Column("cost", Float, nullable=False, default=0.0),
        Column("finish_reason", Text, nullable=False, default=""),
        Column("created_at", Text, nullable=False),
    )
    md.create_all(conn)


def m002_feeds(conn: Connection) -> None:
    """Feed polling: conditional-GET validators per feed, and the items already handled."""
    md = MetaData()
    Table(
        "publisher_feeds", md,
        Column("url", Text, primary_key=True),
        Column("etag", Text, nullable=False, default=""),
        Column("last_modified", Text, nullable=False, default=""),
        Column("last_polled", Text, nullable=False, default=""),
        Column("last_status", Text, nullable=False, default=""),
    )
    Table(
        "publisher_feed_items", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("feed_url", Text, nullable=False),
        Column("guid", Text, nullable=False),
        Column("story_id", Text, nullable=False, default="", index=True),
        Column("link", Text, nullable=False, default=""),
        Column("title", Text, nullable=False, default=""),
        Column("published", Text, nullable=False, default=""),
        Column("seen_at", Text, nullable=False),
        UniqueConstraint("feed_url", "guid", name="publisher_feed_items_feed_guid"),
    )
    md.create_all(conn)


def m003_scale(conn: Connection) -> None:
    """Several sites and workers: the site of each outcome and LLM call (for stats per site),
    the permits and leases of the limits shared by every worker (state/limits.py), and the
    identity each running worker holds."""
    from sqlalchemy import text
    for table in ("publisher_outcomes", "publisher_llm_calls"):
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN site TEXT NOT NULL DEFAULT ''"))
    md = MetaData()
    Table(
        "publisher_limit_scopes", md,               # one row per limit: what a taker locks
        Column("scope", Text, primary_key=True),
    )
    Table(
        "publisher_permits", md,                    # one row per request (or token batch)
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("scope", Text, nullable=False),
        Column("at", Float, nullable=False),        # database clock, epoch seconds
        Column("amount", Integer, nullable=False, default=1),
        Index("publisher_permits_scope_at", "scope", "at"),
    )
    Table(
        "publisher_leases", md,                     # calls in flight, for concurrency limits
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("scope", Text, nullable=False, index=True),
        Column("holder", Text, nullable=False, default=""),
        Column("expires_at", Float, nullable=False),
    )
    Table(
        "publisher_workers", md,                    # who holds which worker identity
        Column("worker_id", Text, primary_key=True),
        Column("host", Text, nullable=False, default=""),
        Column("pid", Integer, nullable=False, default=0),
        Column("started_at", Text, nullable=False, default=""),
        Column("heartbeat_at", Float, nullable=False, default=0.0),
    )
    md.create_all(conn)


def m004_llm_capabilities(conn: Connection) -> None:
    """What each LLM server accepts (structured-output mode, usage in streams), per base URL
    and model, so the next article starts with what works instead of being refused again; and
    the HTTP status of each recorded LLM request (refused and failed ones are counted too)."""
    from sqlalchemy import text
    conn.execute(text("ALTER TABLE publisher_llm_calls ADD COLUMN status TEXT NOT NULL "
                      "DEFAULT ''"))
    md = MetaData()
    Table(
        "publisher_llm_capabilities", md,
        Column("base_url", Text, primary_key=True),
        Column("model", Text, primary_key=True),
        Column("mode", Text, nullable=False, default=""),         # json_schema | json_object | text
        Column("stream_usage", Text, nullable=False, default=""),  # yes | no | "" (unknown)
        Column("detail", Text, nullable=False, default=""),       # the refusal, as the server said it
        Column("updated_at", Text, nullable=False),
    )
    md.create_all(conn)


def m005_story_retries(conn: Connection) -> None:
    """Where each story stands for the unattended runs: its title and outlets (for
    `history`), how many attempts failed, when the next one is due, and whether it was
    drafted, is waiting for a retry, or was abandoned (with the last reason)."""
    md = MetaData()
    Table(
        "publisher_stories", md,
        Column("story_id", Text, primary_key=True),
        Column("site", Text, nullable=False, default=""),
        Column("title", Text, nullable=False, default=""),
        Column("outlets", Text, nullable=False, default=""),      # "Le Monde, Libération"
        Column("status", Text, nullable=False, default=""),       # retrying | queued | abandoned | drafted | skipped
        Column("abandoned_by", Text, nullable=False, default=""),  # rule | hand | ""
        Column("attempts", Integer, nullable=False, default=0),   # failed attempts so far
        Column("next_attempt", Text, nullable=False, default=""),  # ISO UTC; "" none planned
        Column("reason", Text, nullable=False, default=""),
        Column("error", Text, nullable=False, default=""),
        Column("updated_at", Text, nullable=False),
        Index("publisher_stories_due", "status", "next_attempt"),
    )
    md.create_all(conn)


Migration = Callable[[Connection], None]

# Version N is MIGRATIONS[N - 1]. Append only.
MIGRATIONS: list[Migration] = [m001_core, m002_feeds, m003_scale, m004_llm_capabilities,
                               m005_story_retries]
