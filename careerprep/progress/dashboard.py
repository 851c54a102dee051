"""The dashboard: today, a year of activity, the coming load, retention, consistency, each role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func

from .. import scheduling
from ..extensions import db
from ..models import CardState, QuestionSet, Role, User
from ..queries import card_join, question_counts_by_role, recall_at, visible_questions
from .activity import (
    HEATMAP_DAYS,
    MASTERED_DAYS,
    Consistency,
    Retention,
    activity_days,
    forecast_days,
    forecast_window,
    longest_streak,
    retention,
    streak_length,
)

# -- the dashboard (all roles) -------------------------------------------------------------------------


@dataclass
class Today:
    due: int
    reviewed: int
    minutes: float
    new_introduced: int
    new_limit: int


@dataclass
class RoleSummary:
    role: Role
    total: int
    learning: int = 0
    young: int = 0
    mastered: int = 0
    due: int = 0
    new_today: int = 0
    recall: float | None = None

    @property
    def studied(self) -> int:
        return self.learning + self.young + self.mastered

    @property
    def new(self) -> int:
        return max(0, self.total - self.studied)


@dataclass
class HeatCell:
    """One day of the activity heatmap, placed in a week column and weekday row."""

    day: date
    reviews: int
    minutes: float
    column: int
    row: int
    level: int  # 0 (none) to 4 (busiest), relative to the busiest day shown

    @property
    def title(self) -> str:
        plural = "" if self.reviews == 1 else "s"
        return f"{self.day:%a %d %b %Y}: {self.reviews} review{plural}, {self.minutes} min"


def heat_cells(days: list[tuple[date, int, float]]) -> list[HeatCell]:
    """Lay out days as a calendar: one column per week, Monday at the top."""
    peak = max([count for _day, count, _m in days] + [1])
    offset = days[0][0].weekday() if days else 0
    cells = []
    for index, (day, count, minutes) in enumerate(days, start=offset):
        level = 0 if not count else min(4, 1 + int(4 * (count - 1) / peak))
        cells.append(HeatCell(day, count, minutes, index // 7, index % 7, level))
    return cells


@dataclass
class Dashboard:
    today: Today
    roles: list[RoleSummary]
    heatmap: list[HeatCell]  # the last 365 days, oldest first
    months: list[tuple[date, int, int, float]]  # month, reviews, days studied, minutes (newest first)
    forecast: list[tuple[date, int]]
    retention: list[Retention]
    consistency: Consistency
    desired_retention: float
    empty: bool = False


def _role_summaries_and_forecast(
    user: User, now: datetime
) -> tuple[list[RoleSummary], list[tuple[date, int]]]:
    """Card counts by state, due now, new today and mean recall per role, and the 30-day forecast.

    One scan of the user's cards grouped by role and forecast day (NULL for cards due later, or
    suspended or buried), then the role's question counts: two queries.
    """
    factor, decay = scheduling.forgetting_curve(scheduling.user_scheduler(user))
    recall = recall_at(now, factor, decay)
    start = user.day_start(now)
    due_day, in_window = forecast_window(user, now)
    day = case((in_window, due_day)).label("day")
    mastered = (CardState.state == 2) & (CardState.stability >= MASTERED_DAYS)
    rows = db.session.execute(
        visible_questions()
        .join(CardState, card_join(user.id))
        .with_only_columns(
            QuestionSet.role_id,
            day,
            func.sum(case((CardState.state != 2, 1), else_=0)),
            func.sum(case(((CardState.state == 2) & ~mastered, 1), else_=0)),
            func.sum(case((mastered, 1), else_=0)),
            func.sum(case((CardState.due <= now, 1), else_=0)),
            func.sum(case((CardState.introduced_at >= start, 1), else_=0)),
            func.sum(recall),
            func.count(CardState.id),
        )
        .group_by(QuestionSet.role_id, "day")
    ).all()
    if not rows:
        return [], []
    per_role: dict[int, list] = {}
    for role_id, _bucket, learning, young, done, due, new_today, recall_sum, cards in rows:
        sums = per_role.setdefault(role_id, [0, 0, 0, 0, 0, 0.0, 0])
        for i, value in enumerate((learning, young, done, due, new_today, recall_sum, cards)):
            sums[i] += value or 0
    totals = dict(db.session.execute(question_counts_by_role().where(Role.id.in_(list(per_role)))).all())
    summaries = []
    for role, total in sorted(totals.items(), key=lambda item: item[0].title):
        learning, young, done, due, new_today, recall_sum, cards = per_role[role.id]
        summaries.append(
            RoleSummary(
                role,
                int(total),
                int(learning),
                int(young),
                int(done),
                int(due),
                int(new_today),
                float(recall_sum) / cards if cards else None,
            )
        )
    coming = forecast_days(user, now, ((r[1], r[-1]) for r in rows if r[1] is not None))
    return summaries, coming


def dashboard(user: User, now: datetime) -> Dashboard:
    """Everything /dashboard shows, in a fixed number of queries."""
    today = user.local_today(now)
    roles, coming = _role_summaries_and_forecast(user, now)

    rows = activity_days(user, now)
    per_day: dict[date, tuple[int, int]] = {}
    for row in rows:
        count, ms = per_day.get(row.day, (0, 0))
        per_day[row.day] = (count + row.reviews, ms + row.ms)
    days = set(per_day)
    heatmap = []
    for i in range(HEATMAP_DAYS - 1, -1, -1):
        day = today - timedelta(days=i)
        count, ms = per_day.get(day, (0, 0))
        heatmap.append((day, int(count), round(ms / 60000, 1)))
    months: dict[date, list] = {}
    for day, count, minutes in heatmap:
        month = months.setdefault(day.replace(day=1), [0, 0, 0.0])
        month[0] += count
        month[1] += 1 if count else 0
        month[2] += minutes
    count_today, ms_today = per_day.get(today, (0, 0))
    consistency = Consistency(
        days_7=sum(1 for i in range(7) if today - timedelta(days=i) in days),
        days_30=sum(1 for i in range(30) if today - timedelta(days=i) in days),
        current=streak_length(days, today),
        longest=longest_streak(days),
    )
    return Dashboard(
        today=Today(
            due=sum(r.due for r in roles),
            reviewed=int(count_today),
            minutes=round(ms_today / 60000, 1),
            new_introduced=sum(r.new_today for r in roles),
            new_limit=user.new_per_day * max(1, len(roles)),
        ),
        roles=roles,
        heatmap=heat_cells(heatmap),
        months=[(m, c, d, round(mins, 1)) for m, (c, d, mins) in sorted(months.items(), reverse=True)],
        forecast=coming,
        retention=retention(rows, today) if roles else [],
        consistency=consistency,
        desired_retention=float(user.desired_retention),
        empty=not roles and not days,
    )
