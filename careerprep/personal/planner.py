"""The workload planner: what each desired retention costs a day and yields on the interview day.

The inputs come from three queries (unseen questions, studied cards, seconds per card); the
simulation (scheduling.simulation) is cached on those inputs, so a page seen again the same day
with nothing reviewed since costs no simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func

from .. import plans, scheduling
from ..extensions import db
from ..models import CardState, Review, Role, RolePlan, User
from ..queries import card_join, visible_questions
from ..scheduling.simulation import RETENTIONS, Point, Workload, pace, plan

NO_DATE_DAYS = 30  # without an interview date, plan the next 30 days
DEFAULT_REVIEW_SECONDS = 60.0  # before the user has timed reviews: answering out loud takes a minute
DEFAULT_LEARN_SECONDS = 120.0  # a first showing: reading the model answer too
MAX_NEW_PER_DAY = 200  # the settings form's limit


@dataclass(frozen=True)
class Planner:
    """A role's plan for the page: the points, what they assume, and the one in use."""

    role: Role
    until: date | None  # the interview date, or None for the next NO_DATE_DAYS days
    work: Workload
    points: tuple[Point, ...]
    total: int  # the role's questions
    current: float  # the user's desired retention

    @property
    def chosen(self) -> Point:
        return min(self.points, key=lambda p: abs(p.retention - self.current))


def seconds_per_card(user: User) -> tuple[float, float]:
    """(review, first showing) mean seconds from the user's own timed reviews, else the defaults."""
    # Grouped by the label: PostgreSQL does not see two CASEs with their own bound values as one.
    first = case((Review.prev_state == 0, 1), else_=0).label("is_first")
    rows = db.session.execute(
        db.select(first, func.avg(Review.duration_ms), func.count())
        .where(Review.user_id == user.id, Review.duration_ms > 0)
        .group_by(first)
    ).all()
    means = {kind: float(ms) / 1000 for kind, ms, n in rows if n >= 5}  # PostgreSQL: avg is a Decimal
    return means.get(0, DEFAULT_REVIEW_SECONDS), means.get(1, DEFAULT_LEARN_SECONDS)


def workload(user: User, role: Role, role_plan: RolePlan | None, now: datetime) -> tuple[Workload, int]:
    """The simulation's inputs for this user and role, and the role's question count."""
    today = user.local_today(now)
    upcoming = plans.is_upcoming(user, role_plan, now)
    days = (role_plan.interview_date - today).days if upcoming else NO_DATE_DAYS
    rows = db.session.execute(
        visible_questions(role.id)
        .with_only_columns(CardState.stability, CardState.difficulty, CardState.last_review)
        .outerjoin(CardState, card_join(user.id))
    ).all()
    studied = tuple(
        (round(s, 3), round(d, 3), max(0, (today - user.local_today(last)).days))
        for s, d, last in rows
        if s is not None and d is not None and last is not None
    )
    unseen = len(rows) - len(studied)
    review_seconds, learn_seconds = seconds_per_card(user)
    params = scheduling.user_params(user, role) or scheduling.DEFAULT_PARAMETERS
    work = Workload(
        parameters=params,
        days=days,
        new_cards=unseen,
        new_per_day=min(MAX_NEW_PER_DAY, pace(unseen, days)),
        review_seconds=round(review_seconds, 1),
        learn_seconds=round(learn_seconds, 1),
        studied=studied,
    )
    return work, len(rows)


def planner(user: User, role: Role, role_plan: RolePlan | None, now: datetime) -> Planner:
    """The plan for a role page or the planner page."""
    work, total = workload(user, role, role_plan, now)
    until = role_plan.interview_date if plans.is_upcoming(user, role_plan, now) else None
    return Planner(role, until, work, plan(work), total, float(user.desired_retention))


def parse_retention(raw: str | None) -> float | None:
    """A retention picked on the chart: one of the planner's points, else None."""
    try:
        value = round(float((raw or "").strip()), 2)
    except ValueError:
        return None
    return value if value in RETENTIONS else None


def choose(user: User, work: Workload, retention: float) -> None:
    """Use a planner point: its desired retention and the new-card pace (the caller commits)."""
    user.desired_retention = retention
    user.new_per_day = work.new_per_day


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y_minutes: float
    y_known: float
    point: Point


WIDTH, HEIGHT, PAD = 320, 160, 28


def chart(p: Planner) -> dict:
    """Coordinates for the SVG: minutes a day and questions known against desired retention."""
    top_minutes = max(1.0, max(pt.minutes_per_day for pt in p.points))
    top_known = max(1, p.total)
    span = RETENTIONS[-1] - RETENTIONS[0]
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(r: float) -> float:
        return round(PAD + (r - RETENTIONS[0]) / span * inner_w, 1)

    def y(value: float, top: float) -> float:
        return round(PAD + inner_h - value / top * inner_h, 1)

    marks = [
        ChartPoint(x(pt.retention), y(pt.minutes_per_day, top_minutes), y(pt.known, top_known), pt)
        for pt in p.points
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "pad": PAD,
        "marks": marks,
        "top_minutes": round(top_minutes),
        "top_known": top_known,
        "minutes_line": " ".join(f"{m.x},{m.y_minutes}" for m in marks),
        "known_line": " ".join(f"{m.x},{m.y_known}" for m in marks),
    }


def planner_context(user: User | None, role: Role, role_plan: RolePlan | None, now: datetime) -> dict:
    """What a page needs to show the planner (nothing for a visitor)."""
    if user is None:
        return {"planner": None}
    found = planner(user, role, role_plan, now)
    return {"planner": found, "chart": chart(found)}
