"""Shared query building blocks for what a user can see of the catalogue."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import Select, and_

from .extensions import db
from .models import CardState, Question, QuestionSet, Role, User, zone


def visible_questions(role_id: int | None = None) -> Select:
    """Questions users can study: in a published set and not archived (optionally one role)."""
    stmt = (
        db.select(Question)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(QuestionSet.published.is_(True), Question.archived.is_(False))
    )
    if role_id is not None:
        stmt = stmt.where(QuestionSet.role_id == role_id)
    return stmt


def visible_role(slug: str) -> Role | None:
    """A role that has at least one published set, by slug."""
    has_published = (
        db.select(QuestionSet.id)
        .where(QuestionSet.role_id == Role.id, QuestionSet.published.is_(True))
        .exists()
    )
    return db.session.scalar(db.select(Role).where(Role.slug == slug, has_published))


def user_cards(user_id: int) -> Select:
    """The user's card states for visible questions, joined to question and set."""
    return (
        db.select(CardState)
        .join(Question, CardState.question_id == Question.id)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(
            CardState.user_id == user_id,
            QuestionSet.published.is_(True),
            Question.archived.is_(False),
        )
    )


def card_join(user_id: int):
    """Join condition from Question to this user's CardState (for outer joins)."""
    return and_(CardState.question_id == Question.id, CardState.user_id == user_id)


def day_start(user: User, now: datetime) -> datetime:
    """The start of the user's current local day, as a UTC instant."""
    tz = zone(user.timezone)
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time.min, tzinfo=tz).astimezone(now.tzinfo)
