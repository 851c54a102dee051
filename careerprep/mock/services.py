"""Mock interviews: fresh questions, a clock per question, no reveal until the end, rating as reviews."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, exists, func, true, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    CardFlag,
    CardState,
    MockInterview,
    MockItem,
    Question,
    User,
    write_transaction,
)
from ..practice.attempts import Attempt
from ..practice.feedback import BEHAVIOURAL
from ..practice.rating import MAX_DRAFT
from ..queries import card_join, visible_questions

# -- starting a mock ------------------------------------------------------------------------------


def role_categories(role_id: int) -> list[tuple[str, int]]:
    """The role's categories with their visible question counts, by name."""
    rows = db.session.execute(
        visible_questions(role_id)
        .with_only_columns(Question.category, func.count(Question.id))
        .group_by(Question.category)
        .order_by(Question.category)
    )
    return [(name, int(count)) for name, count in rows]


def _candidates(user: User, role_id: int) -> Select:
    """The role's questions this user has not suspended, least studied first (ties at random)."""
    suspended = db.select(CardFlag.question_id).where(
        CardFlag.user_id == user.id, CardFlag.suspended == true()
    )
    return (
        visible_questions(role_id)
        .outerjoin(CardState, card_join(user.id))
        .where(Question.id.not_in(suspended))
        # Never studied (no card state) sorts before one review; a mock should be fresh.
        .order_by(func.coalesce(CardState.reps, -1), func.random())
    )


def pick_questions(
    user: User, role_id: int, count: int, categories: list[str], behavioural: bool
) -> list[Question]:
    """Up to `count` distinct questions in the categories (none = all), with one behavioural if asked."""
    stmt = _candidates(user, role_id)
    picked: list[Question] = []
    if behavioural:
        one = db.session.scalar(stmt.where(Question.category == BEHAVIOURAL).limit(1))
        if one is not None:
            picked.append(one)
        stmt = stmt.where(Question.category != BEHAVIOURAL)
    if categories:
        stmt = stmt.where(Question.category.in_(categories))
    rest = list(db.session.scalars(stmt.limit(count - len(picked))))
    # The behavioural question comes last, as it often does in a real interview.
    return rest + picked


def create_mock(
    user: User, role_id: int, questions: list[Question], minutes: int, categories: list[str]
) -> MockInterview:
    """A new mock interview over these questions (added to the session; the view commits)."""
    mock = MockInterview(
        user_id=user.id,
        role_id=role_id,
        seconds_per_question=minutes * 60,
        categories=sorted(set(categories)),
    )
    mock.items = [MockItem(position=n, question_id=q.id) for n, q in enumerate(questions, start=1)]
    db.session.add(mock)
    return mock


# -- taking it ------------------------------------------------------------------------------------


def get_own_mock(user: User, mock_id: int) -> MockInterview | None:
    """This user's mock interview with its items and questions, or None (someone else's is None too)."""
    return db.session.scalar(
        db.select(MockInterview)
        .where(MockInterview.id == mock_id, MockInterview.user_id == user.id)
        .options(selectinload(MockInterview.items).selectinload(MockItem.question))
    )


def current_item(mock: MockInterview) -> MockItem | None:
    """The first unanswered question, or None once the interview is over."""
    if mock.finished_at is not None:
        return None
    return next((item for item in mock.items if item.answered_at is None), None)


def is_finished(mock: MockInterview) -> bool:
    """Ended early, or every question answered."""
    return current_item(mock) is None


def mark_started(item: MockItem, now: datetime) -> None:
    """Start the question's clock the first time it is shown; a reload keeps the original start."""
    if item.started_at is not None:
        return
    # A GET reads in a deferred transaction; on SQLite upgrading that to a write can fail with
    # "database is locked", so end it and write in a transaction that begins IMMEDIATE.
    db.session.commit()
    with write_transaction():
        db.session.execute(
            update(MockItem)
            .where(MockItem.id == item.id, MockItem.started_at.is_(None))
            .values(started_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    db.session.refresh(item)


def remaining_seconds(mock: MockInterview, item: MockItem, now: datetime) -> int:
    """Seconds left on this question's clock (never negative)."""
    if item.started_at is None:
        return mock.seconds_per_question
    used = (now - item.started_at).total_seconds()
    return max(0, int(mock.seconds_per_question - used))


def clean_draft(text: str | None) -> str | None:
    """A draft as stored: trimmed, capped, and None when empty."""
    return (text or "").strip()[:MAX_DRAFT] or None


def save_answer(
    mock: MockInterview, item_id: int | None, draft: str | None, now: datetime, attempt: Attempt | None = None
) -> bool:
    """Save the current question's answer (and an exercise's attempt); a stale or repeated submit changes
    nothing.

    The item id in the form must be the current item, and the write is conditional, so a double
    submit (even two at once) saves the first and never answers the next question with it.
    """
    item = current_item(mock)
    if item is None or item.id != item_id:
        return False
    result = db.session.execute(
        update(MockItem)
        .where(MockItem.id == item.id, MockItem.answered_at.is_(None))
        .values(
            draft=clean_draft(draft),
            attempt=attempt.data if attempt is not None else None,
            answered_at=now,
            started_at=func.coalesce(MockItem.started_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    # A bulk UPDATE bypasses the loaded object, and the session keeps objects across commits.
    db.session.expire(item)
    if result.rowcount != 1:
        return False
    unanswered = exists().where(MockItem.mock_id == mock.id, MockItem.answered_at.is_(None))
    if not db.session.scalar(db.select(unanswered)):
        _finish(mock, now)
    return True


def finish_mock(
    mock: MockInterview, item_id: int | None, draft: str | None, now: datetime, attempt: Attempt | None = None
) -> None:
    """End the interview now, keeping whatever was written or chosen for the current question."""
    if clean_draft(draft) is not None or (attempt is not None and attempt.data):
        save_answer(mock, item_id, draft, now, attempt)
    _finish(mock, now)


def _finish(mock: MockInterview, now: datetime) -> None:
    """Mark the interview finished, once (a conditional write)."""
    db.session.execute(
        update(MockInterview)
        .where(MockInterview.id == mock.id, MockInterview.finished_at.is_(None))
        .values(finished_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(mock)  # the bulk UPDATE bypassed the loaded object
