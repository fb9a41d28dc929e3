"""Limits shared by every worker, kept in the state database (SQLite or PostgreSQL).

Rate limits (requests or tokens per window) — a sliding log of permits:

    take(scope, amount, limit, window):
      in one transaction, serialised per scope (PostgreSQL: the scope's row in
      publisher_limit_scopes locked FOR UPDATE; SQLite: BEGIN IMMEDIATE, one writer at a time)
        now   = the database's clock (one clock for every machine)
        used  = sum(amount) of the scope's permits with at > now - window - margin
        used + amount <= limit  → insert a permit (scope, now, amount): granted
        otherwise               → granted nothing; the answer is how long until enough of
                                  the oldest permits leave the window (the caller sleeps)

    The margin (default 1 s) covers the time between the permit and the request reaching
    the provider: with it, the requests counted *at the provider* in any window of ``window``
    seconds never exceed ``limit`` as long as that delay stays under the margin.
    A taker asking for more than the whole limit (a huge prompt against a small token
    budget) is granted alone in an empty window, so it cannot wait for ever.

    settle(permit, amount) replaces a reservation by what was really used (tokens: the
    estimate is reserved before the call, the usage reported by the provider settles it).

Concurrency limits — leases with an expiry:

    lease(scope, limit, ttl): in the same kind of transaction, count the scope's leases not
    expired; below ``limit`` → insert one (expiring at now + ttl). release(lease) deletes it.
    A worker killed mid-call leaves its lease to expire, never a slot lost for good.

Worker identities: ``claim_worker`` records who runs a worker ID (host, pid) with a heartbeat;
a second live process with the same ID is refused (see workflows.claim_identity).
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Callable

from sqlalchemy import Connection, delete, func, insert, select, text, update

from .db import Store, _dialect_insert, leases, limit_scopes, now, permits, workers

log = logging.getLogger(__name__)

MARGIN = 1.0              # seconds: see the module docstring
_CLEANUP_EVERY = 200      # permits granted between two sweeps of the expired ones


def db_now(conn: Connection) -> float:
    """The database server's clock, epoch seconds: the one clock all workers agree on."""
    if conn.dialect.name == "postgresql":
        return float(conn.scalar(text("SELECT extract(epoch FROM clock_timestamp())")))
    return float(conn.scalar(text("SELECT (julianday('now') - 2440587.5) * 86400.0")))


def _lock_scope(conn: Connection, scope: str) -> None:
    """Serialise the takers of one scope (SQLite's BEGIN IMMEDIATE already serialises all)."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(_dialect_insert("postgresql")(limit_scopes).values(scope=scope)
                 .on_conflict_do_nothing(index_elements=["scope"]))
    conn.execute(select(limit_scopes.c.scope).where(limit_scopes.c.scope == scope)
                 .with_for_update())


class Limits:
    """The shared limits on one state database."""

    def __init__(self, store: Store, margin: float = MARGIN):
        self.store = store
        self.margin = margin
        self._granted = 0

    # --- rate limits ---------------------------------------------------------------------

    def try_take(self, scope: str, amount: int, limit: int, window: float) -> tuple[int | None, float]:
        """(permit id, 0) when granted; (None, seconds to wait) when the window is full."""
        with self.store.engine.begin() as conn:
            _lock_scope(conn, scope)
            at = db_now(conn)
            since = at - window - self.margin
            rows = conn.execute(select(permits.c.at, permits.c.amount)
                                .where(permits.c.scope == scope, permits.c.at > since)
                                .order_by(permits.c.at)).all()
            used = sum(r.amount for r in rows)
            if used + amount <= limit or not rows:
                result = conn.execute(insert(permits).values(scope=scope, at=at, amount=amount))
                self._sweep(conn, at, window)
                return result.inserted_primary_key[0], 0.0
        return None, _wait_until_room(rows, used, amount, limit, since, at)

    def take(self, scope: str, amount: int, limit: int, window: float,
             sleep: Callable[[float], None] = time.sleep) -> int:
        """Block until ``amount`` fits under ``limit`` per ``window`` seconds; the permit id."""
        waited = 0.0
        while True:
            permit, wait = self.try_take(scope, amount, limit, window)
            if permit is not None:
                if waited > 1:
                    log.info("limit %s: waited %.1f s for %d", scope, waited, amount)
                return permit
            wait = min(max(wait, 0.02), window)
            sleep(wait)
            waited += wait

    def settle(self, permit: int, amount: int) -> None:
        """What the permit really cost (tokens reported by the provider)."""
        with self.store.engine.begin() as conn:
            conn.execute(update(permits).where(permits.c.id == permit).values(amount=amount))

    def used(self, scope: str, window: float) -> int:
        with self.store.engine.begin() as conn:
            since = db_now(conn) - window
            return int(conn.scalar(select(func.coalesce(func.sum(permits.c.amount), 0))
                                   .where(permits.c.scope == scope, permits.c.at > since)))

    def _sweep(self, conn: Connection, at: float, window: float) -> None:
        self._granted += 1
        if self._granted % _CLEANUP_EVERY == 0:
            # Permits older than any window we use are history; one hour keeps stats cheap.
            conn.execute(delete(permits).where(permits.c.at < at - max(3600.0, 2 * window)))

    # --- concurrency limits --------------------------------------------------------------

    def try_lease(self, scope: str, limit: int, ttl: float, holder: str = "") -> int | None:
        with self.store.engine.begin() as conn:
            _lock_scope(conn, scope)
            at = db_now(conn)
            conn.execute(delete(leases).where(leases.c.scope == scope, leases.c.expires_at <= at))
            held = conn.scalar(select(func.count()).select_from(leases)
                               .where(leases.c.scope == scope))
            if held >= limit:
                return None
            result = conn.execute(insert(leases).values(scope=scope, holder=holder,
                                                        expires_at=at + ttl))
            return result.inserted_primary_key[0]

    def lease(self, scope: str, limit: int, ttl: float, holder: str = "",
              poll: float = 0.1, sleep: Callable[[float], None] = time.sleep) -> int:
        """Block until fewer than ``limit`` leases of ``scope`` are held; the lease id."""
        while True:
            lease_id = self.try_lease(scope, limit, ttl, holder)
            if lease_id is not None:
                return lease_id
            sleep(poll)

    def release(self, lease_id: int) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(delete(leases).where(leases.c.id == lease_id))


def _wait_until_room(rows, used: int, amount: int, limit: int, since: float, at: float) -> float:
    """Seconds until enough of the oldest permits leave the window for ``amount`` to fit."""
    freed = 0
    for row in rows:
        freed += row.amount
        if used - freed + amount <= limit:
            return row.at - since + 0.001
    return rows[-1].at - since + 0.001 if rows else 0.0


# --- worker identities -----------------------------------------------------------------------

def worker_row(store: Store, worker_id: str) -> dict | None:
    return store._one(select(workers).where(workers.c.worker_id == worker_id))


def claim_worker(store: Store, worker_id: str, pid: int, may_take: Callable[[dict, float], bool]) -> dict | None:
    """Record that this process (host, pid) runs ``worker_id``. When another process holds it,
    ``may_take(row, now)`` decides; returns the row that refused us, or None when claimed."""
    host = socket.gethostname()
    with store.engine.begin() as conn:
        _lock_scope(conn, f"worker:{worker_id}")
        at = db_now(conn)
        row = conn.execute(select(workers).where(workers.c.worker_id == worker_id)
                           .with_for_update()).mappings().first()
        if row is not None and not (row["host"] == host and row["pid"] == pid) \
                and not may_take(dict(row), at):
            return dict(row)
        values = dict(worker_id=worker_id, host=host, pid=pid, started_at=now(),
                      heartbeat_at=at)
        stmt = _dialect_insert(conn.dialect.name)(workers).values(**values)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["worker_id"],
            set_={k: stmt.excluded[k] for k in values if k != "worker_id"}))
    return None


def heartbeat(store: Store, worker_id: str, pid: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(workers).where(workers.c.worker_id == worker_id,
                                           workers.c.pid == pid)
                     .values(heartbeat_at=db_now(conn)))


def release_worker(store: Store, worker_id: str, pid: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(workers).where(workers.c.worker_id == worker_id,
                                           workers.c.pid == pid).values(heartbeat_at=0.0))


def list_workers(store: Store) -> list[dict]:
    """Every worker identity ever claimed, with ``age``: seconds since its last heartbeat."""
    with store.engine.begin() as conn:
        at = db_now(conn)
        rows = conn.execute(select(workers).order_by(workers.c.worker_id)).mappings().all()
    return [{**dict(r), "age": round(at - r["heartbeat_at"], 1)} for r in rows]
