"""Easy Days and load balancing for a rating: the day a review card comes back (scheduling.balance)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func

from .. import localtime, scheduling
from ..extensions import db
from ..models import CardState, Role, User
from ..scheduling.balance import MIN_FUZZ_DAYS, fuzz_range, pick_interval


def due_counts(user: User, today: date, low: int, high: int, skip_question: int) -> dict[date, int]:
    """Cards already due on each local day from today+low to today+high (one GROUP BY)."""
    start = localtime.start_of(today + timedelta(days=low), user.timezone)
    end = localtime.start_of(today + timedelta(days=high + 1), user.timezone)
    day = localtime.local_date(CardState.due, user.timezone, start, end)
    rows = db.session.execute(
        db.select(day, func.count())
        .where(
            CardState.user_id == user.id,
            CardState.due >= start,
            CardState.due < end,
            CardState.question_id != skip_question,
        )
        .group_by(day)
    )
    return {localtime.as_date(d): n for d, n in rows}


def spread_due(
    user: User, state: CardState, role: Role | None, now: datetime, cap: datetime | None
) -> datetime:
    """The due date Easy Days and load balancing choose for a card just rated (its own when neither applies).

    Only review cards with an interval FSRS would fuzz move, and only within the fuzz range, never
    past the interview cap.
    """
    if state.state != scheduling.REVIEW_STATE or state.stability is None:
        return state.due
    sched = scheduling.scheduler(float(user.desired_retention), False, scheduling.user_params(user, role))
    base = scheduling.interval_days(sched, state.stability)
    if base < MIN_FUZZ_DAYS:
        return state.due
    today = user.local_today(now)
    low, high = fuzz_range(base)
    counts = due_counts(user, today, low, high, state.question_id) if user.load_balance else None
    cap_days = (localtime.local_today(user.timezone, cap) - today).days if cap is not None else None
    days = pick_interval(base, today, easy_days=user.easy_days, due_counts=counts, cap_days=cap_days)
    return now + timedelta(days=days)
