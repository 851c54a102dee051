"""Shared column types, time helpers and the database engine hooks (SQLite settings, write intent)."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def zone(name: str) -> ZoneInfo:
    """A time zone by IANA name, falling back to UTC for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# Set for requests and commands that write: their SQLite transactions begin IMMEDIATE, taking the
# write lock up front, so a read that later upgrades to a write never fails with "database is locked".
WRITE_INTENT: ContextVar[bool] = ContextVar("careerprep_write_intent", default=False)


@contextmanager
def write_transaction(writes: bool = True) -> Iterator[None]:
    """Mark the work inside as a writer (used by CLI commands; unsafe HTTP methods get it per request).

    `writes=False` marks reads that follow a request's committed write (the next card after a
    rating): their transaction is a deferred one, so it does not hold SQLite's write lock while the
    page renders and other writers can commit meanwhile.
    """
    token = WRITE_INTENT.set(writes)
    try:
        yield
    finally:
        WRITE_INTENT.reset(token)


BUSY_TIMEOUT_MS = 10_000
WRITER_RETRY_SECONDS = (0.0005, 0.002)  # a waiting writer tries again after 0.5-2 ms


def _begin_immediate(connection: Any) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in short, even steps.

    SQLite's own busy handler sleeps longer the longer it has waited (1, 2, 5 ... 50, 100 ms), so
    under steady contention a writer that lost a few rounds sleeps through many chances to write:
    the rating POST's p99 was several times its p95. Here each attempt fails at once
    (busy_timeout=0) and is retried after 0.5-2 ms, up to the usual 10 s; the last attempt runs
    with the normal timeout, so a lock that is never released fails as before.
    """
    raw = connection.connection.dbapi_connection
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
                    raise
            time.sleep(random.uniform(*WRITER_RETRY_SECONDS))  # noqa: S311 (jitter, not security)
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    connection.exec_driver_sql("BEGIN IMMEDIATE")


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
        if WRITE_INTENT.get():
            _begin_immediate(connection)
        else:
            connection.exec_driver_sql("BEGIN")

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", on_connect)
            event.listen(engine, "begin", on_begin)
