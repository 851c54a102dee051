"""What a user's studying leaves: card state, the review log and its daily roll-up, flags, plans."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utc_now
from .catalogue import Question


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
    covered: Mapped[list[int] | None] = mapped_column(JSON)  # indexes into the key points (confirmed)
    # The key points the detector found in the draft (pre-ticked at the reveal); SQL NULL without a draft
    # (none_as_null: the calibration query filters on it; plain JSON would store the text 'null').
    detected: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True))
    key_point_count: Mapped[int | None] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(20), default="due", server_default="due")
    # An exercise attempt: what was typed or chosen (output, lines, an estimate) and whether the
    # automatic check found it right (None for kinds that are not checked).
    attempt: Mapped[dict | None] = mapped_column(JSON)
    correct: Mapped[bool | None] = mapped_column(Boolean)
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


# study_version (User) moves on any write to a user's cards or flags, whichever way it is made, so the
# dashboard's summary of the cards (progress.dashboard) can be reused while it has not moved. Created
# with the tables and by the migration; a migration that rebuilds card_state or card_flag (SQLite batch
# mode) must create them again.
STUDY_VERSION_TRIGGERS = {
    "sqlite": [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_study_version_{event} AFTER {event.upper()} ON {table}
        BEGIN UPDATE "user" SET study_version = study_version + 1 WHERE id IN ({rows}); END"""  # noqa: S608 (constants)
        for table in ("card_state", "card_flag")
        for event, rows in (
            ("insert", "NEW.user_id"),
            ("update", "OLD.user_id, NEW.user_id"),
            ("delete", "OLD.user_id"),
        )
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION study_version() RETURNS trigger AS $$
        BEGIN
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE "user" SET study_version = study_version + 1 WHERE id = NEW.user_id;
          END IF;
          IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.user_id <> NEW.user_id) THEN
            UPDATE "user" SET study_version = study_version + 1 WHERE id = OLD.user_id;
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""",
        *(
            f"""CREATE TRIGGER {table}_study_version AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION study_version()"""
            for table in ("card_state", "card_flag")
        ),
    ],
}
DROP_STUDY_VERSION_TRIGGERS = {
    "sqlite": [
        f"DROP TRIGGER IF EXISTS {table}_study_version_{event}"
        for table in ("card_state", "card_flag")
        for event in ("insert", "update", "delete")
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS card_state_study_version ON card_state",
        "DROP TRIGGER IF EXISTS card_flag_study_version ON card_flag",
        "DROP FUNCTION IF EXISTS study_version()",
    ],
}


@event.listens_for(CardFlag.__table__, "after_create")
def _create_study_version_triggers(_table, connection, **_kw) -> None:
    # card_flag is created after card_state (its foreign keys are the same), so both tables exist here.
    for statement in STUDY_VERSION_TRIGGERS.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)
