"""Dashboard figures, aggregated in SQL: per-role card states, reviews by day, streak, recall."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import case, func

from .. import scheduling
from ..extensions import db
from ..models import CardState, Question, QuestionSet, Review, Role, User, local_date, zone
from ..queries import day_start, visible_questions

CHART_DAYS = 30


@dataclass
class RoleProgress:
    role: Role
    total: int
    by_state: dict[int, int] = field(default_factory=dict)
    due: int = 0
    reviews_today: int = 0
    daily: list[tuple[date, int]] = field(default_factory=list)
    recall: float | None = None

    @property
    def studied(self) -> int:
        return sum(self.by_state.values())

    @property
    def new(self) -> int:
        return max(0, self.total - self.studied)

    @property
    def learning(self) -> int:
        return self.by_state.get(1, 0) + self.by_state.get(3, 0)

    @property
    def review(self) -> int:
        return self.by_state.get(2, 0)

    @property
    def reviews_30d(self) -> int:
        return sum(n for _, n in self.daily)


@dataclass
class Dashboard:
    roles: list[RoleProgress]
    streak: int
    reviews_today: int
    studied_today: bool


def _to_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def streak_length(days: set[date], today: date) -> int:
    """Consecutive study days ending today (or yesterday, so today is not lost before you study)."""
    cursor = today if today in days else today - timedelta(days=1)
    length = 0
    while cursor in days:
        length += 1
        cursor -= timedelta(days=1)
    return length


def dashboard(user: User, now: datetime) -> Dashboard:
    """Every role the user practises, with counts, today's reviews, 30 days of history and recall."""
    tz = user.timezone
    today = now.astimezone(zone(tz)).date()
    chart_start = day_start(user, now) - timedelta(days=CHART_DAYS - 1)

    states = db.session.execute(
        visible_questions()
        .join(CardState, (CardState.question_id == Question.id) & (CardState.user_id == user.id))
        .with_only_columns(
            QuestionSet.role_id,
            CardState.state,
            func.count(CardState.id),
            func.coalesce(func.sum(case((CardState.due <= now, 1), else_=0)), 0),
        )
        .group_by(QuestionSet.role_id, CardState.state)
    ).all()
    role_ids = {row[0] for row in states}
    if not role_ids:
        return Dashboard([], 0, 0, False)

    totals = db.session.execute(
        visible_questions()
        .join(Role, QuestionSet.role_id == Role.id)
        .where(Role.id.in_(role_ids))
        .with_only_columns(Role, func.count(Question.id))
        .group_by(Role.id)
        .order_by(Role.title)
    ).all()
    progress = {role.id: RoleProgress(role, total) for role, total in totals}
    for role_id, state, count, due in states:
        if role_id in progress:
            progress[role_id].by_state[int(state)] = int(count)
            progress[role_id].due += int(due)

    day = local_date(Review.reviewed_at, tz).label("day")
    daily_rows = db.session.execute(
        db.select(QuestionSet.role_id, day, func.count(Review.id))
        .join(Question, Review.question_id == Question.id)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(Review.user_id == user.id, Review.reviewed_at >= chart_start)
        .group_by(QuestionSet.role_id, day)
    ).all()
    per_day: dict[int, dict[date, int]] = defaultdict(dict)
    for role_id, day_value, count in daily_rows:
        per_day[role_id][_to_date(day_value)] = int(count)

    recall_rows = db.session.execute(
        visible_questions()
        .join(CardState, (CardState.question_id == Question.id) & (CardState.user_id == user.id))
        .where(CardState.stability.is_not(None))
        .with_only_columns(QuestionSet.role_id, CardState.stability, CardState.last_review)
    ).all()
    sched = scheduling.scheduler(current_app.config["DESIRED_RETENTION"])
    recall: dict[int, list[float]] = defaultdict(list)
    for role_id, stability, last_review in recall_rows:
        recall[role_id].append(scheduling.retrievability(sched, stability, last_review, now))

    study_days = {
        _to_date(d)
        for (d,) in db.session.execute(
            db.select(local_date(Review.reviewed_at, tz).label("d"))
            .where(Review.user_id == user.id, Review.reviewed_at >= now - timedelta(days=400))
            .group_by("d")
        )
    }

    days = [today - timedelta(days=i) for i in range(CHART_DAYS - 1, -1, -1)]
    for role_id, item in progress.items():
        counts = per_day.get(role_id, {})
        item.daily = [(d, counts.get(d, 0)) for d in days]
        item.reviews_today = counts.get(today, 0)
        if recall.get(role_id):
            item.recall = sum(recall[role_id]) / len(recall[role_id])
    return Dashboard(
        roles=list(progress.values()),
        streak=streak_length(study_days, today),
        reviews_today=sum(p.reviews_today for p in progress.values()),
        studied_today=today in study_days,
    )
