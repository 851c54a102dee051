"""The interview date: when it starts, the due cap before it, the pace that covers the bank, readiness.

Used by the role page (where the date is set) and the drill ("Prepare for my interview" mode).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func

from . import localtime, scheduling
from .extensions import db
from .models import CardState, Question, Role, RolePlan, User
from .queries import card_join, visible_questions

MAX_DAYS_AHEAD = 730  # an interview date may be set up to two years ahead


def interview_start(user: User, plan: RolePlan) -> datetime:
    """The start of the interview day in the user's time zone, as UTC."""
    return localtime.start_of(plan.interview_date, user.timezone)


def is_upcoming(user: User, plan: RolePlan | None, now: datetime) -> bool:
    """True when there is an interview date and it is after the user's today."""
    return plan is not None and plan.interview_date > user.local_today(now)


def due_cap(user: User, plan: RolePlan | None, now: datetime) -> datetime | None:
    """The latest a card may be due so it is reviewed once before the interview (None: no cap).

    Normally the day before the interview; when that has passed, halfway to the interview.
    """
    if plan is None:
        return None
    start = interview_start(user, plan)
    if start <= now:
        return None
    cap = start - timedelta(days=1)
    return cap if cap > now else now + (start - now) / 2


def parse_interview_date(raw: str, today: date) -> date | None:
    """A date chosen in the form: after today and within two years, else None."""
    try:
        chosen = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    return chosen if today < chosen <= today + timedelta(days=MAX_DAYS_AHEAD) else None


def set_interview_date(user: User, role: Role, plan: RolePlan | None, chosen: date | None) -> None:
    """Set (or, with None, clear) the user's interview date for a role; the caller commits."""
    if chosen is None:
        if plan is not None:
            db.session.delete(plan)
    elif plan is None:
        db.session.add(RolePlan(user_id=user.id, role_id=role.id, interview_date=chosen))
    else:
        plan.interview_date = chosen


@dataclass
class Pace:
    days_left: int
    unseen: int
    new_per_day: int


def prepare_pace(user: User, role: Role, plan: RolePlan, now: datetime) -> Pace:
    """How many new cards a day cover the role's unseen questions before the interview."""
    days_left = max(1, (plan.interview_date - user.local_today(now)).days)
    studied = db.select(CardState.question_id).where(CardState.user_id == user.id)
    unseen = int(
        db.session.scalar(
            visible_questions(role.id)
            .with_only_columns(func.count(Question.id))
            .where(Question.id.not_in(studied))
        )
    )
    new_today = db.session.scalar(
        visible_questions(role.id)
        .with_only_columns(func.count(CardState.id))
        .join(CardState, card_join(user.id))
        .where(CardState.introduced_at >= user.day_start(now))
    )
    # Today's pace counts the cards already introduced today, so it does not shrink as you learn.
    at_day_start = unseen + new_today
    return Pace(days_left, unseen, math.ceil(at_day_start / days_left) if at_day_start else 0)


@dataclass
class CategoryReadiness:
    category: str
    total: int
    studied: int
    recall: float | None  # mean predicted recall on the interview day of the studied cards

    @property
    def unseen_share(self) -> float:
        return (self.total - self.studied) / self.total if self.total else 0.0


@dataclass
class Readiness:
    on: date
    categories: list[CategoryReadiness]

    @property
    def total(self) -> int:
        return sum(c.total for c in self.categories)

    @property
    def studied(self) -> int:
        return sum(c.studied for c in self.categories)

    @property
    def recall(self) -> float | None:
        weighted = [(c.recall, c.studied) for c in self.categories if c.recall is not None]
        count = sum(n for _, n in weighted)
        return sum(r * n for r, n in weighted) / count if count else None

    @property
    def unseen_share(self) -> float:
        return (self.total - self.studied) / self.total if self.total else 0.0


def readiness(user: User, role: Role, plan: RolePlan) -> Readiness:
    """Predicted readiness on the interview day: mean FSRS recall of studied cards, share never studied."""
    at = interview_start(user, plan)
    rows = db.session.execute(
        visible_questions(role.id)
        .with_only_columns(Question.category, CardState.stability, CardState.last_review)
        .outerjoin(CardState, card_join(user.id))
    ).all()
    sched = scheduling.user_scheduler(user, role)
    per: dict[str, list] = {}
    for category, stability, last_review in rows:
        bucket = per.setdefault(category, [0, []])
        bucket[0] += 1
        if stability is not None and last_review is not None:
            bucket[1].append(scheduling.retrievability(sched, stability, last_review, at))
    return Readiness(
        plan.interview_date,
        [
            CategoryReadiness(c, total, len(values), sum(values) / len(values) if values else None)
            for c, (total, values) in sorted(per.items())
        ],
    )


def plan_context(user: User | None, role: Role, plan: RolePlan | None, now: datetime) -> dict:
    """What the role page and the drill show about an upcoming interview: readiness and pace."""
    if user is None or not is_upcoming(user, plan, now):
        return {"readiness": None, "pace": None}
    return {"readiness": readiness(user, role, plan), "pace": prepare_pace(user, role, plan, now)}
