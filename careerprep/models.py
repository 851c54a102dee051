"""Typed models: users, the role → set → question catalogue, per-user card state and the review log."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .extensions import db


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


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (trimmed, lower-case) so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # Study settings (the account page).
    new_per_day: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    max_reviews_per_day: Mapped[int] = mapped_column(Integer, default=200, server_default="200")
    desired_retention: Mapped[float] = mapped_column(Float, default=0.9, server_default="0.9")
    draft_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    mock_questions: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    mock_minutes: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    theme: Mapped[str] = mapped_column(String(10), default="system", server_default="system")
    # The dashboard's roll-up of closed days (ActivityDay) covers reviews before this instant, counted
    # in this zone. A trigger on review clears it when a review before it is added, changed or removed.
    activity_zone: Mapped[str | None] = mapped_column(String(64))
    activity_boundary: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The sign-in this request belongs to (set at login and by the user loader; not a column).
    session_token = None

    def get_id(self) -> str:
        """Flask-Login id: user id and sign-in token, so revoking the sign-in ends its cookies."""
        return f"{self.id}:{self.session_token}"


class UserSession(db.Model):
    """One sign-in on one device. Revoking it ends that session and its remember-me cookie."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the token in the cookie: a copy of the database does not yield live cookies.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Role(db.Model):
    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    sets: Mapped[list[QuestionSet]] = relationship(back_populates="role", order_by="QuestionSet.id")


class QuestionSet(db.Model):
    __tablename__ = "question_set"
    __table_args__ = (UniqueConstraint("role_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    role: Mapped[Role] = relationship(back_populates="sets")
    questions: Mapped[list[Question]] = relationship(back_populates="question_set", order_by="Question.id")


class Question(db.Model):
    __tablename__ = "question"
    __table_args__ = (
        UniqueConstraint("set_id", "key"),
        CheckConstraint("difficulty BETWEEN 1 AND 3", name="difficulty_range"),
        # Covers counting and choosing visible questions without reading their (large) rows:
        # the catalogue's count went from 21 ms to 1 ms over 10,000 questions. The id is listed for
        # PostgreSQL (SQLite's rowid is in every index already): joins to card_state need it.
        Index("ix_question_set_visible", "set_id", "archived", "difficulty", "position", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("question_set.id"))
    key: Mapped[str] = mapped_column(String(120))
    prompt: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    key_points: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str] = mapped_column(String(120))
    difficulty: Mapped[int] = mapped_column(Integer, default=2)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Order within its set; new cards are introduced easiest first, interleaving the sets.
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    question_set: Mapped[QuestionSet] = relationship(back_populates="questions")


class CardState(db.Model):
    """One user's FSRS memory state for one question; absent until the first rating."""

    __tablename__ = "card_state"
    __table_args__ = (
        UniqueConstraint("user_id", "question_id"),
        Index("ix_card_state_user_id_due", "user_id", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    state: Mapped[int] = mapped_column(Integer)  # fsrs.State: 1 learning, 2 review, 3 relearning
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    introduced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    question: Mapped[Question] = relationship()


class Review(db.Model):
    """The immutable review log: the source of truth from which card state can be rebuilt."""

    __tablename__ = "review"
    __table_args__ = (
        # Covers the dashboard's scans (activity by day, retention by rating) without touching rows.
        Index(
            "ix_review_user_time_cover",
            "user_id",
            "reviewed_at",
            "question_id",
            "rating",
            "prev_state",
            "duration_ms",
        ),
        CheckConstraint("rating BETWEEN 1 AND 4", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    # The one-time token of the card showing that was rated; a second submit finds it and records nothing.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    # What the review produced.
    state: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    # Interview practice: what the user wrote before the reveal, and which key points it covered.
    draft: Mapped[str | None] = mapped_column(Text)
    covered: Mapped[list[int] | None] = mapped_column(JSON)  # indexes into the key points
    key_point_count: Mapped[int | None] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(20), default="due", server_default="due")
    # The card's state before this review (0: new); true retention counts reviews of review-state cards.
    prev_state: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ActivityDay(db.Model):
    """A user's reviews on one closed local day and rating: the review log summed for the dashboard.

    Rows cover the log before `User.activity_boundary` in `User.activity_zone`; the dashboard writes
    them (progress.services.activity_days) and reads only the log after the boundary. Any change to a
    review before the boundary clears the boundary through the `review_closed_day` triggers below, so
    the next dashboard rebuilds the roll-up: a stale count cannot survive a write to the log, whichever
    way it is made (ORM, bulk insert, SQL).
    """

    __tablename__ = "activity_day"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rating: Mapped[int] = mapped_column(Integer, primary_key=True)
    reviews: Mapped[int] = mapped_column(Integer)
    review_state: Mapped[int] = mapped_column(Integer)  # reviews of cards that were in the review state
    ms: Mapped[int] = mapped_column(BigInteger)


# The triggers that keep ActivityDay honest (see its docstring). Created with the tables and by the
# migration; a migration that rebuilds the review table (SQLite batch mode) must create them again.
REVIEW_TRIGGERS = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS review_closed_day_insert AFTER INSERT ON review
        WHEN NEW.reviewed_at < (SELECT activity_boundary FROM "user" WHERE id = NEW.user_id)
        BEGIN UPDATE "user" SET activity_boundary = NULL WHERE id = NEW.user_id; END""",
        """CREATE TRIGGER IF NOT EXISTS review_closed_day_delete AFTER DELETE ON review
        WHEN OLD.reviewed_at < (SELECT activity_boundary FROM "user" WHERE id = OLD.user_id)
        BEGIN UPDATE "user" SET activity_boundary = NULL WHERE id = OLD.user_id; END""",
        """CREATE TRIGGER IF NOT EXISTS review_closed_day_update
        AFTER UPDATE OF user_id, reviewed_at, rating, prev_state, duration_ms ON review
        WHEN OLD.reviewed_at < (SELECT activity_boundary FROM "user" WHERE id = OLD.user_id)
          OR NEW.reviewed_at < (SELECT activity_boundary FROM "user" WHERE id = NEW.user_id)
        BEGIN UPDATE "user" SET activity_boundary = NULL WHERE id IN (OLD.user_id, NEW.user_id); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION review_closed_day() RETURNS trigger AS $$
        BEGIN
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE "user" SET activity_boundary = NULL
            WHERE id = NEW.user_id AND activity_boundary > NEW.reviewed_at;
          END IF;
          IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE "user" SET activity_boundary = NULL
            WHERE id = OLD.user_id AND activity_boundary > OLD.reviewed_at;
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER review_closed_day
        AFTER INSERT OR DELETE OR UPDATE OF user_id, reviewed_at, rating, prev_state, duration_ms ON review
        FOR EACH ROW EXECUTE FUNCTION review_closed_day()""",
    ],
}
DROP_REVIEW_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS review_closed_day_insert",
        "DROP TRIGGER IF EXISTS review_closed_day_delete",
        "DROP TRIGGER IF EXISTS review_closed_day_update",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS review_closed_day ON review",
        "DROP FUNCTION IF EXISTS review_closed_day()",
    ],
}


@event.listens_for(Review.__table__, "after_create")
def _create_review_triggers(_table, connection, **_kw) -> None:
    for statement in REVIEW_TRIGGERS.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


class Report(db.Model):
    """A user's report that a question is wrong, unclear or a duplicate, for admins to resolve."""

    __tablename__ = "report"
    __table_args__ = (Index("ix_report_status_created_at", "status", "created_at"),)

    REASONS = {"wrong": "The answer is wrong", "unclear": "It is unclear", "duplicate": "It is a duplicate"}
    STATUSES = ("open", "resolved", "dismissed")

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(Integer)  # an admin's user id (kept if they leave)
    resolution_note: Mapped[str] = mapped_column(Text, default="")

    question: Mapped[Question] = relationship()
    user: Mapped[User] = relationship()


class AuditLog(db.Model):
    """Who did what to which object and when. Rows are only ever added (see the guard below)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # The actor is copied, not linked: the record outlives an account that is later deleted.
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(254), default="system")
    action: Mapped[str] = mapped_column(String(40), index=True)  # e.g. question.edit, set.publish
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)


@event.listens_for(AuditLog, "before_update")
def _audit_rows_are_never_edited(_mapper, _connection, target: AuditLog) -> None:
    raise RuntimeError(f"audit log row {target.id} cannot be edited")


@event.listens_for(AuditLog, "before_delete")
def _audit_rows_are_never_deleted(_mapper, _connection, target: AuditLog) -> None:
    raise RuntimeError(f"audit log row {target.id} cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_audit_writes(state: Any) -> None:
    """Bulk UPDATE and DELETE skip the mapper events above: refuse them for the audit log too."""
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete) and getattr(table, "name", None) == AuditLog.__tablename__:
        raise RuntimeError("the audit log is append-only: bulk updates and deletes are refused")


class CardFlag(db.Model):
    """A user's suspend / bury / leech marks on one question (kept apart from the FSRS state)."""

    __tablename__ = "card_flag"
    __table_args__ = (UniqueConstraint("user_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    leech: Mapped[bool] = mapped_column(Boolean, default=False)
    buried_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RolePlan(db.Model):
    """A user's interview date for a role."""

    __tablename__ = "role_plan"
    __table_args__ = (UniqueConstraint("user_id", "role_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id"))
    interview_date: Mapped[date] = mapped_column(Date)


class MockInterview(db.Model):
    """A timed mock interview: questions answered in turn, revealed and rated at the end."""

    __tablename__ = "mock_interview"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seconds_per_question: Mapped[int] = mapped_column(Integer)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)

    items: Mapped[list[MockItem]] = relationship(
        back_populates="mock", order_by="MockItem.position", cascade="all, delete-orphan"
    )


class MockItem(db.Model):
    """One question of a mock interview, with the user's draft and, after the end, a rating."""

    __tablename__ = "mock_item"
    __table_args__ = (UniqueConstraint("mock_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mock_id: Mapped[int] = mapped_column(ForeignKey("mock_interview.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    draft: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    covered: Mapped[list[int] | None] = mapped_column(JSON)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="SET NULL"))

    mock: Mapped[MockInterview] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()


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
