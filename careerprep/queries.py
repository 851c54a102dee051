"""Shared query building blocks for what a user can see of the catalogue.

Boolean columns are compared with `= false` / `= true` rather than `IS FALSE`: PostgreSQL can use an
index for `=` but not for `IS` (SQLite uses one for either).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort
from sqlalchemy import DateTime, Integer, Select, String, and_, bindparam, cast, false, func, literal, true
from sqlalchemy.orm import aliased

from .extensions import db
from .models import CardFlag, CardState, Question, QuestionSet, Role, RolePlan, UTCDateTime

# Bound parameters for the statements built once and run with values on every request (here, in the
# catalogue, the drill and sign-in): one definition per name, so every statement types them alike.
USER = bindparam("user_id", type_=Integer())
ROLE = bindparam("role_id", type_=Integer())
NOW = bindparam("now", type_=UTCDateTime())
SLUG = bindparam("slug", type_=String())


def visible_questions(role_id: int | None = None) -> Select:
    """Questions users can study: in a published set and not archived (optionally one role)."""
    stmt = (
        db.select(Question)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(
            QuestionSet.published == true(),
            QuestionSet.archived == false(),
            Question.archived == false(),
            QuestionSet.role_id.in_(db.select(Role.id).where(Role.archived == false())),
        )
    )
    if role_id is not None:
        stmt = stmt.where(QuestionSet.role_id == role_id)
    return stmt


def question_counts_by_role() -> Select:
    """(Role, visible question count) for every visible role: counted per set, then summed.

    Counting per set first reads only the covering index on question and joins a hundred set rows,
    not every question row (the measurement is in bench/RESULTS.md).
    """
    per_set = (
        db.select(Question.set_id, func.count().label("questions"))
        .where(Question.archived == false())
        .group_by(Question.set_id)
        .subquery()
    )
    return (
        db.select(Role, func.sum(per_set.c.questions))
        .join(QuestionSet, QuestionSet.role_id == Role.id)
        .join(per_set, per_set.c.set_id == QuestionSet.id)
        .where(QuestionSet.published == true(), QuestionSet.archived == false(), Role.archived == false())
        .group_by(Role.id)
    )


def visible_role(slug: str) -> Role | None:
    """A role that has at least one published set, by slug."""
    return db.session.scalar(_VISIBLE_ROLE, {"slug": slug})


def role_is_visible():
    """A role is visible while it is not archived and has a published, unarchived set.

    The set is aliased so the test correlates only with Role, even inside queries that join sets.
    """
    other = aliased(QuestionSet)
    return (Role.archived == false()) & (
        db.select(other.id)
        .where(other.role_id == Role.id, other.published == true(), other.archived == false())
        .exists()
    )


# Built once and run with bound values: these run on almost every request.
_VISIBLE_ROLE = db.select(Role).where(Role.slug == SLUG, role_is_visible())
_VISIBLE_ROLE_AND_PLAN = (
    db.select(Role, RolePlan)
    .outerjoin(RolePlan, (RolePlan.role_id == Role.id) & (RolePlan.user_id == USER))
    .where(Role.slug == SLUG, role_is_visible())
)


def visible_role_and_plan(slug: str, user_id: int) -> tuple[Role | None, RolePlan | None]:
    """A visible role and this user's interview plan for it, in one query."""
    row = db.session.execute(_VISIBLE_ROLE_AND_PLAN, {"slug": slug, "user_id": user_id}).first()
    return (row[0], row[1]) if row else (None, None)


def card_join(user_id):
    """Join condition from Question to this user's CardState (a user id or the USER parameter)."""
    return and_(CardState.question_id == Question.id, CardState.user_id == user_id)


def flag_join(user_id):
    """Join condition from Question to this user's CardFlag (a user id or the USER parameter)."""
    return and_(CardFlag.question_id == Question.id, CardFlag.user_id == user_id)


def visible_role_or_404(slug: str) -> Role:
    """A visible role by slug; anything else is a 404."""
    role = visible_role(slug)
    if role is None:
        abort(404)
    return role


def not_flagged(user_id: int, now: datetime):
    """SQL condition: the user has not suspended the question, nor buried it until later."""
    return ~(
        db.select(CardFlag.id)
        .where(
            CardFlag.user_id == user_id,
            CardFlag.question_id == Question.id,
            (CardFlag.suspended == true()) | (CardFlag.buried_until > now),
        )
        .exists()
    )


def not_flagged_joined(now):
    """The same rule as `not_flagged`, for a query that has outer-joined this user's CardFlag."""
    return CardFlag.id.is_(None) | (
        (CardFlag.suspended == false()) & (CardFlag.buried_until.is_(None) | (CardFlag.buried_until <= now))
    )


def elapsed_days(column, at: datetime):
    """SQL: whole days from `column` to `at`, never negative (FSRS counts whole elapsed days)."""
    if db.engine.dialect.name == "sqlite":
        stamp = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return func.max(0, cast(func.julianday(stamp) - func.julianday(column), Integer))
    at_param = literal(at, DateTime(timezone=True))
    return func.greatest(0, func.floor(func.extract("epoch", at_param - column) / 86400))


def days_to_next_elapsed_day(column, at: datetime):
    """SQL: days from `at` until `elapsed_days(column, …)` may next change (at most one day).

    The day count is a whole number that ticks once a day at the time of day of `column`; before a
    timestamp in the future it may say "sooner" than the tick, never later.
    """
    if db.engine.dialect.name == "sqlite":
        stamp = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        elapsed = func.julianday(stamp) - func.julianday(column)
        return cast(elapsed, Integer) + 1 - elapsed
    at_param = literal(at, DateTime(timezone=True))
    elapsed = func.extract("epoch", at_param - column) / 86400
    return func.floor(elapsed) + 1 - elapsed


def recall_at(at: datetime, factor: float, decay: float):
    """SQL: FSRS predicted recall of the joined CardState at `at` (0 for a card without stability)."""
    days = elapsed_days(CardState.last_review, at)
    return func.coalesce(func.power(1 + factor * days / func.nullif(CardState.stability, 0), decay), 0.0)
