"""One role's progress page: competency per category, the weakest questions, recall spread, forecast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func

from .. import scheduling
from ..extensions import db
from ..models import CardState, Question, Role, User
from ..queries import card_join, recall_at, visible_questions
from .activity import MASTERED_DAYS, PERIODS, Retention, activity, forecast, retention
from .calibration import Calibration, calibration

# -- one role's progress page ------------------------------------------------------------------------


RECALL_BUCKETS = (
    (0.0, 0.5, "under 50%"),
    (0.5, 0.7, "50–70%"),
    (0.7, 0.8, "70–80%"),
    (0.8, 0.9, "80–90%"),
    (0.9, 0.95, "90–95%"),
    (0.95, 1.01, "95% and over"),
)


@dataclass
class Weak:
    """One of the weakest questions: its recall now, lapses, and whether it is still being learned."""

    question: Question
    recall: float
    lapses: int
    learning: bool


@dataclass
class CategoryCompetency:
    category: str
    total: int
    new: int
    learning: int
    mastered: int
    recall: float | None

    @property
    def young(self) -> int:
        """In review but not yet well known (stable for under three weeks)."""
        return self.total - self.new - self.learning - self.mastered

    @property
    def level(self) -> str:
        """A word for the colour, so nothing is conveyed by colour alone."""
        if self.recall is None:
            return "not started"
        if self.recall >= 0.9:
            return "strong"
        if self.recall >= 0.75:
            return "fair"
        return "weak"


@dataclass
class RoleProgress:
    role: Role
    categories: list[CategoryCompetency]
    weakest: list[Weak]
    recall_buckets: list[tuple[str, int]]
    forecast: list[tuple[date, int]]
    retention: list[Retention]
    due: int
    new_today: int
    new_limit: int
    desired_retention: float
    calibration: Calibration

    @property
    def totals(self) -> dict[str, int]:
        return {
            "new": sum(c.new for c in self.categories),
            "learning": sum(c.learning for c in self.categories),
            "mastered": sum(c.mastered for c in self.categories),
            "young": sum(c.total - c.new - c.learning - c.mastered for c in self.categories),
        }

    @property
    def studied(self) -> int:
        return sum(c.total - c.new for c in self.categories)


def role_progress(user: User, role: Role, now: datetime) -> RoleProgress:
    """Competency per category, the ten weakest questions, recall distribution, forecast, retention."""
    factor, decay = scheduling.forgetting_curve(scheduling.user_scheduler(user, role))
    recall = recall_at(now, factor, decay)
    mastered = (CardState.state == 2) & (CardState.stability >= MASTERED_DAYS)
    start = user.day_start(now)
    joined = visible_questions(role.id).outerjoin(CardState, card_join(user.id))
    rows = db.session.execute(
        joined.with_only_columns(
            Question.category,
            func.count(Question.id),
            func.sum(case((CardState.id.is_(None), 1), else_=0)),
            func.sum(case((CardState.state.in_((1, 3)), 1), else_=0)),
            func.sum(case((mastered, 1), else_=0)),
            func.avg(case((CardState.id.is_not(None), recall))),
            func.sum(case((CardState.due <= now, 1), else_=0)),
            func.sum(case((CardState.introduced_at >= start, 1), else_=0)),
        )
        .group_by(Question.category)
        .order_by(Question.category)
    ).all()
    categories = [
        CategoryCompetency(c, int(t), int(n), int(lrn), int(m), float(r) if r is not None else None)
        for c, t, n, lrn, m, r, _due, _new in rows
    ]
    # Cards still being learned come first (one failed a minute ago has not been learned, whatever its
    # recall this minute), then the lowest recall now, then the most lapses.
    in_learning = CardState.state != scheduling.REVIEW_STATE
    weakest = [
        Weak(q, float(r), int(lapses), bool(learning))
        for q, r, lapses, learning in db.session.execute(
            visible_questions(role.id)
            .add_columns(recall.label("recall"), CardState.lapses, in_learning)
            .join(CardState, card_join(user.id))
            .order_by(case((in_learning, 0), else_=1), recall, CardState.lapses.desc(), Question.id)
            .limit(10)
        )
    ]
    bucket = case(
        *[(recall < high, label) for _low, high, label in RECALL_BUCKETS], else_=RECALL_BUCKETS[-1][2]
    )
    counts = dict(
        db.session.execute(
            visible_questions(role.id)
            .with_only_columns(bucket.label("bucket"), func.count(CardState.id))
            .join(CardState, card_join(user.id))
            .group_by("bucket")
        ).all()
    )
    return RoleProgress(
        role=role,
        categories=categories,
        weakest=weakest,
        recall_buckets=[(label, int(counts.get(label, 0))) for _low, _high, label in RECALL_BUCKETS],
        forecast=forecast(user, now, role.id),
        retention=retention(activity(user, now, role.id, days=max(PERIODS) + 1), user.local_today(now)),
        due=sum(int(r[6] or 0) for r in rows),
        new_today=sum(int(r[7] or 0) for r in rows),
        new_limit=user.new_per_day,
        desired_retention=float(user.desired_retention),
        calibration=calibration(user, role),
    )
