"""The dashboard: today, a year of activity, the coming load, retention, consistency, each role."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import case, false, func, true

from .. import localtime, scheduling
from ..extensions import db
from ..models import CardFlag, CardState, Question, QuestionSet, Role, User
from ..queries import card_join, days_to_next_elapsed_day, recall_at, visible_questions
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

# Visible roles with their visible questions counted (and their ids summed) per set first, so only the
# covering index on question is read (see queries.question_counts_by_role).
_PER_SET = (
    db.select(Question.set_id, func.count().label("questions"), func.sum(Question.id).label("ids"))
    .where(Question.archived == false())
    .group_by(Question.set_id)
    .subquery()
)
_VISIBLE_ROLES = (
    db.select(Role, func.sum(_PER_SET.c.questions), func.sum(_PER_SET.c.ids))
    .join(QuestionSet, QuestionSet.role_id == Role.id)
    .join(_PER_SET, _PER_SET.c.set_id == QuestionSet.id)
    .where(QuestionSet.published == true(), QuestionSet.archived == false(), Role.archived == false())
    .group_by(Role.id)
)


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
        # What f"{day:%a %d %b %Y}" writes (the C locale's names), without strftime: 365 cells a page,
        # at ~30 us a strftime, cost a dashboard 10 ms.
        day, plural = self.day, "" if self.reviews == 1 else "s"
        when = f"{_WEEKDAYS[day.weekday()]} {day.day:02d} {_MONTHS[day.month - 1]} {day.year}"
        return f"{when}: {self.reviews} review{plural}, {self.minutes} min"


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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


@dataclass(frozen=True)
class _CardScan:
    """One scan of a user's cards: sums per role, forecast counts, and until when they are current."""

    key: tuple
    valid_until: datetime
    per_role: dict[int, tuple]  # role id: (learning, young, mastered, due, new today, recall sum, cards)
    forecast: tuple[tuple[object, int], ...]  # (local due day as the query gives it, cards)


_SCANS_PER_PROCESS = 512  # users whose last scan a worker keeps (a few hundred bytes each)
_scans_lock = threading.Lock()


def _catalogue(user: User) -> tuple[dict[Role, int], tuple]:
    """Visible roles with their visible-question counts, and a fingerprint of which questions those are.

    Counted per set over the covering index (ids included), so the fingerprint costs nothing extra:
    a question archived, restored or moved, a set published or hidden, changes a count or an id sum.
    """
    rows = db.session.execute(_VISIBLE_ROLES).all()
    fingerprint = tuple(sorted((role.id, int(count), int(ids)) for role, count, ids in rows))
    return {role: int(count) for role, count, _ids in rows}, fingerprint


def _scan_cards(user: User, now: datetime, factor: float, decay: float, key: tuple) -> _CardScan:
    """Card counts by state, due now, new today and recall per role, and the 30-day forecast.

    One scan of the user's cards grouped by role and forecast day (NULL for cards due later, or
    suspended or buried). The same scan finds when its figures next change on their own: the next
    card to fall due, the next whole day of elapsed time that moves a card's recall, the next buried
    card to come back; the user's next local day moves "new today" and the forecast.
    """
    recall = recall_at(now, factor, decay)
    start = user.day_start(now)
    due_day, in_window = forecast_window(user, now)
    day = case((in_window, due_day)).label("day")
    mastered = (CardState.state == 2) & (CardState.stability >= MASTERED_DAYS)
    recall_moves = CardState.last_review.is_not(None) & (CardState.stability > 0)
    unburied = (
        db.select(func.min(CardFlag.buried_until))
        .where(CardFlag.user_id == user.id, CardFlag.buried_until > now)
        .scalar_subquery()
    )
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
            func.min(case((CardState.due > now, CardState.due))),
            func.min(case((recall_moves, days_to_next_elapsed_day(CardState.last_review, now)))),
            unburied,
        )
        .group_by(QuestionSet.role_id, "day")
    ).all()
    changes = [localtime.start_of(user.local_today(now) + timedelta(days=1), user.timezone)]
    per_role: dict[int, list] = {}
    for role_id, _bucket, *sums, next_due, next_tick, next_unburied in rows:
        totals = per_role.setdefault(role_id, [0, 0, 0, 0, 0, 0.0, 0])
        for i, value in enumerate(sums):
            totals[i] += value or 0
        changes += [next_due, next_unburied]
        if next_tick is not None:
            changes.append(now + timedelta(days=float(next_tick)))
    # A second early: the database computes elapsed days in floating point.
    valid_until = min(c for c in changes if c is not None) - timedelta(seconds=1)
    forecast = tuple((r[1], r[8]) for r in rows if r[1] is not None)  # (day, cards)
    return _CardScan(key, valid_until, {k: tuple(v) for k, v in per_role.items()}, forecast)


def _card_scan(user: User, now: datetime, factor: float, decay: float, catalogue: tuple) -> _CardScan:
    """The scan of the user's cards, reused while nothing it depends on has changed.

    Reused only while the user's cards and flags are unchanged (`study_version`, moved by triggers on
    every write), the catalogue is the same, the time zone and forgetting curve are the same, and no
    figure has changed with time (`valid_until`). Kept per worker process, per app.
    """
    key = (user.id, user.created_at, user.study_version, user.timezone, factor, decay, catalogue)
    scans = current_app.extensions.setdefault("careerprep.card_scans", OrderedDict())
    with _scans_lock:
        found = scans.get(user.id)
    if found is not None and found.key == key and now < found.valid_until:
        return found
    scan = _scan_cards(user, now, factor, decay, key)
    with _scans_lock:
        scans[user.id] = scan
        scans.move_to_end(user.id)
        while len(scans) > _SCANS_PER_PROCESS:
            scans.popitem(last=False)
    return scan


def _role_summaries_and_forecast(
    user: User, now: datetime
) -> tuple[list[RoleSummary], list[tuple[date, int]]]:
    """Card counts by state, due now, new today and mean recall per role, and the 30-day forecast.

    The visible roles and their question counts (one query), then the scan of the user's cards (one
    more query, or none while the last scan is still current).
    """
    factor, decay = scheduling.forgetting_curve(scheduling.user_scheduler(user))
    totals, catalogue = _catalogue(user)
    scan = _card_scan(user, now, factor, decay, catalogue)
    if not scan.per_role:
        return [], []
    summaries = []
    for role, total in sorted(totals.items(), key=lambda item: item[0].title):
        if role.id not in scan.per_role:
            continue
        learning, young, done, due, new_today, recall_sum, cards = scan.per_role[role.id]
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
    return summaries, forecast_days(user, now, scan.forecast)


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
