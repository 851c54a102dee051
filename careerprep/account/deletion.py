"""Deleting an account: every row that belongs to the user, child tables first, in one transaction."""

from __future__ import annotations

from sqlalchemy import Delete, delete, select

from ..extensions import db
from ..models import (
    ActivityDay,
    CardFlag,
    CardState,
    MockInterview,
    MockItem,
    Recording,
    Report,
    Review,
    RolePlan,
    SchedulerFit,
    User,
    UserSession,
)


def deletions(user_id: int) -> list[Delete]:
    """One DELETE per table that holds the user's rows, children before the tables they point to."""
    mocks = select(MockInterview.id).where(MockInterview.user_id == user_id).scalar_subquery()
    return [
        delete(Recording).where(Recording.user_id == user_id),  # points at mock_interview
        delete(MockItem).where(MockItem.mock_id.in_(mocks)),  # points at mock_interview and review
        delete(MockInterview).where(MockInterview.user_id == user_id),
        delete(Review).where(Review.user_id == user_id),
        delete(ActivityDay).where(ActivityDay.user_id == user_id),
        delete(CardFlag).where(CardFlag.user_id == user_id),
        delete(CardState).where(CardState.user_id == user_id),
        delete(RolePlan).where(RolePlan.user_id == user_id),
        delete(SchedulerFit).where(SchedulerFit.user_id == user_id),
        delete(Report).where(Report.user_id == user_id),
        delete(UserSession).where(UserSession.user_id == user_id),
        delete(User).where(User.id == user_id),
    ]


def delete_account(user_id: int) -> None:
    """Delete every row that belongs to the user; the caller commits, so it is one transaction.

    Explicit DELETEs rather than ON DELETE CASCADE: SQLite and PostgreSQL differ in when cascades
    fire for ORM deletes, and an explicit list is what the tests can check table by table.
    """
    # Lock the user row first (PostgreSQL): a rating racing this request waits, then fails on the
    # missing user instead of leaving an orphan row. SQLite writers are already serialised.
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
    for statement in deletions(user_id):
        db.session.execute(statement, execution_options={"synchronize_session": False})
