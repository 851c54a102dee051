"""Activity from the review log: reviews per local day (and their roll-up), retention, streaks, forecast.

Days are the user's local days, computed in the query (careerprep.localtime), so a year of activity comes
back as at most 365 rows; the number of queries is fixed, whatever the history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..localtime import as_date, local_date
from ..models import ActivityDay, CardState, Question, QuestionSet, Review, User, write_transaction
from ..queries import card_join, not_flagged, visible_questions

HEATMAP_DAYS = 365
FORECAST_DAYS = 30
MASTERED_DAYS = 21  # a review card whose stability is three weeks or more (Anki's "mature")
GOAL = (5, 7)  # studied on 5 of the last 7 days
PERIODS = (7, 30, 365)


# -- consistency ------------------------------------------------------------------------------------


def streak_length(days: set[date], today: date) -> int:
    """Consecutive study days ending today (or yesterday, so today is not lost before you study)."""
    cursor = today if today in days else today - timedelta(days=1)
    length = 0
    while cursor in days:
        length += 1
        cursor -= timedelta(days=1)
    return length


def longest_streak(days: set[date]) -> int:
    """The longest run of consecutive study days."""
    best = 0
    for day in days:
        if day - timedelta(days=1) not in days:
            length = 1
            while day + timedelta(days=length) in days:
                length += 1
            best = max(best, length)
    return best


@dataclass
class Consistency:
    days_7: int
    days_30: int
    current: int
    longest: int

    @property
    def goal_met(self) -> bool:
        return self.days_7 >= GOAL[0]


# -- shared pieces --------------------------------------------------------------------------------


@dataclass
class Retention:
    days: int
    reviews: int  # all reviews in the period
    review_state: int  # reviews of cards that were in the review state
    passed: int
    ratings: dict[int, int]

    @property
    def true_retention(self) -> float | None:
        return self.passed / self.review_state if self.review_state else None


@dataclass
class DayRow:
    day: date
    rating: int
    reviews: int
    review_state: int  # reviews of cards that were in the review state
    ms: int


def activity(
    user: User,
    now: datetime,
    role_id: int | None = None,
    days: int | None = None,
    since: datetime | None = None,
) -> list[DayRow]:
    """Reviews per local day and rating (with review-state counts and time): one scan of the log.

    The whole log, the last `days` days, or the reviews from the instant `since` on.
    """
    earliest = min(user.created_at, now) - timedelta(days=HEATMAP_DAYS + 5)
    start = since or (now - timedelta(days=days) if days else earliest)
    day = local_date(Review.reviewed_at, user.timezone, start, now + timedelta(days=1)).label("day")
    stmt = db.select(
        day,
        Review.rating,
        func.count(Review.id),
        func.sum(case((Review.prev_state == 2, 1), else_=0)),
        func.sum(Review.duration_ms),
    ).where(Review.user_id == user.id)
    if days or since:
        stmt = stmt.where(Review.reviewed_at >= start)
    if role_id is not None:
        in_role = (
            db.select(Question.id)
            .join(QuestionSet, Question.set_id == QuestionSet.id)
            .where(QuestionSet.role_id == role_id)
        )
        stmt = stmt.where(Review.question_id.in_(in_role))
    return [
        DayRow(as_date(d), int(rating), int(n), int(rs or 0), int(ms or 0))
        for d, rating, n, rs, ms in db.session.execute(stmt.group_by("day", Review.rating))
    ]


def activity_days(user: User, now: datetime) -> list[DayRow]:
    """The whole log by local day and rating, as `activity` gives it, read mostly from the roll-up.

    Closed days (before today) come from ActivityDay; only the reviews since the roll-up's boundary
    are aggregated from the log. The first view, a change of time zone, or a trigger clearing the
    boundary (a review before it was added, changed or deleted) rebuilds the roll-up from the log; on
    a later day the days closed since are folded in. A dashboard with 100,000 reviews reads a few
    hundred rows instead of scanning them all.
    """
    boundary = user.day_start(now)  # today stays live: it is still changing
    today = user.local_today(now)
    old = user.activity_boundary
    if old is None or user.activity_zone != user.timezone or old > boundary:
        rows = activity(user, now)
        _save_rollup(user, [r for r in rows if r.day < today], old, boundary, True)
        return rows
    stored = [
        DayRow(day, rating, reviews, review_state, ms)
        for day, rating, reviews, review_state, ms in db.session.execute(
            db.select(
                ActivityDay.day,
                ActivityDay.rating,
                ActivityDay.reviews,
                ActivityDay.review_state,
                ActivityDay.ms,
            ).where(ActivityDay.user_id == user.id)
        )
    ]
    live = activity(user, now, since=old)
    if old < boundary:
        _save_rollup(user, [r for r in live if r.day < today], old, boundary, False)
    return stored + live


def _save_rollup(
    user: User, rows: list[DayRow], old: datetime | None, boundary: datetime, replace: bool
) -> None:
    """Store closed days and move the boundary, unless someone else moved or cleared it meanwhile.

    Runs in its own writing transaction after the page's reads (a SQLite reader must not turn into a
    writer); a conflict or a busy database only means the next view tries again.
    """
    db.session.commit()
    with write_transaction():
        try:
            moved = db.session.execute(
                db.update(User)
                .where(User.id == user.id, User.activity_boundary.is_not_distinct_from(old))
                .values(activity_boundary=boundary, activity_zone=user.timezone)
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount != 1:
                db.session.rollback()
                return
            if replace:
                db.session.execute(db.delete(ActivityDay).where(ActivityDay.user_id == user.id))
            if rows:
                db.session.execute(
                    db.insert(ActivityDay),
                    [
                        {
                            "user_id": user.id,
                            "day": r.day,
                            "rating": r.rating,
                            "reviews": r.reviews,
                            "review_state": r.review_state,
                            "ms": r.ms,
                        }
                        for r in rows
                    ],
                )
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            return
    # Mirror the stored values on the loaded user without marking it changed (nothing to flush).
    set_committed_value(user, "activity_boundary", boundary)
    set_committed_value(user, "activity_zone", user.timezone)


def retention(rows: list[DayRow], today: date) -> list[Retention]:
    """True retention and rating distribution over the last 7, 30 and 365 local days."""
    out = []
    for p in PERIODS:
        first = today - timedelta(days=p - 1)
        ratings: dict[int, int] = defaultdict(int)
        in_review: dict[int, int] = defaultdict(int)
        for row in rows:
            if row.day >= first:
                ratings[row.rating] += row.reviews
                in_review[row.rating] += row.review_state
        out.append(
            Retention(
                p,
                sum(ratings.values()),
                sum(in_review.values()),
                sum(n for rating, n in in_review.items() if rating > 1),
                dict(ratings),
            )
        )
    return out


def forecast_window(user: User, now: datetime):
    """SQL: the card's local due day, and the condition that puts it in the 30-day forecast.

    In the forecast: due before the end of the 30th local day and not suspended or buried.
    """
    horizon = user.day_start(now) + timedelta(days=FORECAST_DAYS)
    day = local_date(CardState.due, user.timezone, now - timedelta(days=1), horizon)
    return day, (CardState.due < horizon) & not_flagged(user.id, now)


def forecast_days(user: User, now: datetime, counts: Iterable[tuple[object, int]]) -> list[tuple[date, int]]:
    """(local due day from the query, cards) as the next 30 days; overdue cards count today."""
    today = user.local_today(now)
    per_day: dict[date, int] = defaultdict(int)
    for value, n in counts:
        per_day[max(as_date(value), today)] += int(n)
    return [
        (today + timedelta(days=i), per_day.get(today + timedelta(days=i), 0)) for i in range(FORECAST_DAYS)
    ]


def forecast(user: User, now: datetime, role_id: int | None = None) -> list[tuple[date, int]]:
    """Cards falling due on each of the next 30 local days (overdue cards count today): one query."""
    day, in_window = forecast_window(user, now)
    rows = db.session.execute(
        visible_questions(role_id)
        .with_only_columns(day.label("day"), func.count(CardState.id))
        .join(CardState, card_join(user.id))
        .where(in_window)
        .group_by("day")
    )
    return forecast_days(user, now, rows)
