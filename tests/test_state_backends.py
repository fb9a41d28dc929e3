"""Database URLs for the state tests: SQLite always, PostgreSQL when one is reachable.

PostgreSQL comes from ``PUBLISHER_TEST_PG`` (a URL), else from the private cluster made by
``scripts/pg-local start`` when it was initialised once on this machine (``.pg-local/``).
Each test gets its own throwaway database so tests never see each other's rows.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from functools import lru_cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import make_url

from publisher.state.db import engine_url

ROOT = Path(__file__).resolve().parents[1]
PG_SKIP = ("no PostgreSQL: set PUBLISHER_TEST_PG=postgresql://user:pw@host/db "
           "or run scripts/pg-local start once")


@lru_cache(maxsize=1)
def pg_url() -> str:
    """The admin URL of a reachable PostgreSQL, or "" when there is none."""
    url = os.environ.get("PUBLISHER_TEST_PG", "")
    if not url and _cluster_dir() and (_cluster_dir() / "password").exists():
        try:
            done = subprocess.run([str(ROOT / "scripts" / "pg-local"), "start"], check=True,
                                  capture_output=True, text=True, timeout=60)
            url = done.stdout.strip().splitlines()[-1]
        except (subprocess.SubprocessError, OSError, IndexError):
            return ""
    return url


@lru_cache(maxsize=1)
def _cluster_dir() -> Path | None:
    """Where scripts/pg-local keeps this checkout's cluster (.pg-local/, or under /var/tmp
    when the postgres user cannot reach the checkout)."""
    try:
        done = subprocess.run([str(ROOT / "scripts" / "pg-local"), "dir"], capture_output=True,
                              text=True, timeout=30)
    except (subprocess.SubprocessError, OSError):
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def _admin(url: str):
    return create_engine(engine_url(url), isolation_level="AUTOCOMMIT")


def fresh_pg_database(url: str):
    """Create an empty database next to ``url``; yield its URL; drop it afterwards. Without
    the CREATEDB right, use ``url`` itself, emptied of publisher's tables before and after."""
    name = "pubtest_" + uuid.uuid4().hex[:12]
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError:
        yield from _emptied(admin, url)
        return
    try:
        yield make_url(engine_url(url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _emptied(admin, url: str):
    def drop():
        with admin.connect() as conn:
            for table in inspect(conn).get_table_names():
                if table.startswith("publisher_"):
                    conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    drop()
    try:
        yield url
    finally:
        drop()
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A URL to an empty database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state/publisher.db"
        return
    url = pg_url()
    if not url:
        if os.environ.get("CI", "").lower() == "true":     # CI must not hide these tests
            pytest.fail(PG_SKIP, pytrace=False)
        pytest.skip(PG_SKIP)
    yield from fresh_pg_database(url)
