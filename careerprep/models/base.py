"""Shared column types, time helpers and the database engine hooks (SQLite settings, write intent)."""

from __future__ import annotations

import math
import random
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import (
    DateTime,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.types import TypeDecorator

from ..extensions import db


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Normalise a datetime to aware UTC (SQLite hands back naive values)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        value = as_utc(value)
        if value is not None and dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value)


# How the next transaction begins on SQLite (PostgreSQL needs none of this):
# - "read" (the default): no BEGIN. Each read statement runs on its own, seeing the latest committed
#   data (as PostgreSQL's READ COMMITTED does), and holds no lock between statements. The first write
#   of a transaction begins it IMMEDIATE, so a reader never has to turn into a writer (in WAL mode that
#   upgrade fails with "database is locked" without waiting once another writer has committed).
# - "write": BEGIN IMMEDIATE before the first statement, reads included: a read-modify-write (a rating
#   reading the card it updates) holds the write lock from its read to its commit.
# - "snapshot": a deferred BEGIN, so several reads see one snapshot (PostgreSQL: REPEATABLE READ).
# Write intent comes from what the code writes, never from the HTTP method.
TX_MODE: ContextVar[str] = ContextVar("careerprep_tx_mode", default="read")


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block as one writing transaction: begun before its first statement, committed by it.

    For a read-modify-write that must not interleave with another writer, and for writes made while
    serving a GET. What the session read before is committed first (on SQLite that holds nothing), so
    the work before the block (parsing, validating, hashing a password) never holds the write lock.
    Usable as a decorator on a view that checks and writes.
    """
    db.session.commit()
    token = TX_MODE.set("write")
    try:
        yield
    finally:
        TX_MODE.reset(token)


@contextmanager
def snapshot() -> Iterator[None]:
    """Read the block's statements from one consistent snapshot of the database, then end it."""
    db.session.commit()
    token = TX_MODE.set("snapshot")
    try:
        if db.engine.dialect.name == "postgresql":
            db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield
    finally:
        TX_MODE.reset(token)
        db.session.rollback()


BUSY_TIMEOUT_MS = 10_000
WRITER_RETRY_SECONDS = (0.0005, 0.002)  # a waiting writer tries again after 0.5-2 ms
_WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


def _begin_immediate(raw: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in short, even steps.

    SQLite's own busy handler sleeps longer the longer it has waited (1, 2, 5 ... 50, 100 ms), so
    under steady contention a writer that lost a few rounds sleeps through many chances to write:
    the rating POST's p99 was several times its p95. Here each attempt fails at once
    (busy_timeout=0) and is retried after 0.5-2 ms, up to the usual 10 s; the last attempt runs
    with the normal timeout, so a lock that is never released fails as before.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from None
            time.sleep(random.uniform(*WRITER_RETRY_SECONDS))  # noqa: S311 (jitter, not security)
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise OperationalError("BEGIN IMMEDIATE", None, exc) from None


def register_engine_hooks(app: Flask) -> None:
    """Per-connection SQLite settings (WAL, busy timeout, foreign keys, IMMEDIATE writers), SQL helpers."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN, so writers can ask for BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
        dbapi_connection.create_function("power", 2, math.pow, deterministic=True)

    def on_begin(connection: Any) -> None:
        mode = TX_MODE.get()
        if mode == "write":
            _begin_immediate(connection.connection.dbapi_connection)
        elif mode == "snapshot":
            connection.exec_driver_sql("BEGIN")
        # "read": no BEGIN; the first write begins the transaction (before_write below).

    def before_write(connection: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool):
        raw = connection.connection.dbapi_connection
        if raw.in_transaction:
            return
        if (context is not None and (context.isinsert or context.isupdate or context.isdelete)) or (
            _WRITE_STATEMENT.match(statement)
        ):
            _begin_immediate(raw)

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", on_connect)
            event.listen(engine, "begin", on_begin)
            event.listen(engine, "before_cursor_execute", before_write)
