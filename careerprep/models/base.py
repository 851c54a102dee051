"""Shared column types, time helpers and the database engine hooks (SQLite settings, write intent)."""

from __future__ import annotations

import math
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


def register_engine_hooks(app: Flask) -> None:
    """Per-connection SQLite settings (WAL, busy timeout, foreign keys, IMMEDIATE writers), SQL helpers."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN, so writers can ask for BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
        dbapi_connection.create_function("power", 2, math.pow, deterministic=True)

    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if WRITE_INTENT.get() else "BEGIN")

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", on_connect)
            event.listen(engine, "begin", on_begin)
