"""Progress figures, aggregated in SQL: activity by day, forecast, retention, consistency, competency.

Days are the user's local days, computed in the query (see `local_date`), so a year of activity comes
back as at most 365 rows; the number of queries is fixed, whatever the history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, case, cast, func
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from .. import scheduling
from ..extensions import db
from ..models import (
    ActivityDay,
    CardState,
    Question,
    QuestionSet,
    Review,
    Role,
    User,
    write_transaction,
    zone,
)
from ..practice.services import user_scheduler
from ..queries import day_start, not_flagged, question_counts_by_role, recall_at, visible_questions

HEATMAP_DAYS = 365
FORECAST_DAYS = 30
MASTERED_DAYS = 21  # a review card whose stability is three weeks or more (Anki's "mature")
GOAL = (5, 7)  # studied on 5 of the last 7 days
RECALL_BUCKETS = (
    (0.0, 0.5, "under 50%"),
    (0.5, 0.7, "50–70%"),
    (0.7, 0.8, "70–80%"),
    (0.8, 0.9, "80–90%"),
    (0.9, 0.95, "90–95%"),
    (0.95, 1.01, "95% and over"),
)
PERIODS = (7, 30, 365)


# -- days in the user's time zone -------------------------------------------------------------------


def offset_segments(tz_name: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets over [start, end]: (from this UTC instant, offset in minutes), in order.

    DST changes are found by stepping day by day and bisecting to the second where the offset moves.
    """
    tz = zone(tz_name)

    def offset(at: datetime) -> int:
        return int(at.astimezone(tz).utcoffset().total_seconds() // 60)

    segments = [(start, offset(start))]
    cursor = start
    while cursor < end:
        step = min(cursor + timedelta(days=1), end)
        if offset(step) != segments[-1][1]:
            low, high = cursor, step
            while (high - low) > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == segments[-1][1]:
                    low = middle
                else:
                    high = middle
            segments.append((high, offset(step)))
        cursor = step
    return segments


def local_date(column, tz_name: str, start: datetime, end: datetime):
    """SQL: the user's local calendar date of a UTC timestamp column, exact across DST changes.

    PostgreSQL converts natively. SQLite gets a CASE over the zone's offset periods between `start`
    and `end` (rows outside use the nearest period's offset), evaluated in C for every row.
    """
    if db.engine.dialect.name == "postgresql":
        return func.date(func.timezone(tz_name, column))
    segments = offset_segments(tz_name, start, end)

    def shifted(minutes: int):
        # The local day number (Julian Day Number): integer arithmetic, no date strings per row.
        return cast(func.julianday(column) + (minutes / 1440.0 + 0.5), Integer)

    if len(segments) == 1:
        return shifted(segments[0][1])
    # Newest period first: most reviews are recent, so most rows match the first test.
    whens = [(column >= boundary, shifted(offset)) for boundary, offset in reversed(segments[1:])]
    return case(*whens, else_=shifted(segments[0][1]))


JDN_OF_ORDINAL_ZERO = 1_721_425  # date.fromordinal(1) (1 January of year 1) is Julian Day Number 1,721,426


def _as_date(value) -> date:
    """A local date from the query: a date (PostgreSQL) or a Julian Day Number (SQLite)."""
    if isinstance(value, date):
        return value
    if isinstance(value, int):
        return date.fromordinal(value - JDN_OF_ORDINAL_ZERO)
    return date.fromisoformat(str(value))


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
class Today:
    due: int
    reviewed: int
    minutes: float
    new_introduced: int
    new_limit: int


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
        DayRow(_as_date(d), int(rating), int(n), int(rs or 0), int(ms or 0))
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
    boundary = day_start(user, now)  # today stays live: it is still changing
    today = now.astimezone(zone(user.timezone)).date()
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


def _forecast_window(user: User, now: datetime):
    """SQL: the card's local due day, and the condition that puts it in the 30-day forecast.

    In the forecast: due before the end of the 30th local day and not suspended or buried.
    """
    horizon = day_start(user, now) + timedelta(days=FORECAST_DAYS)
    day = local_date(CardState.due, user.timezone, now - timedelta(days=1), horizon)
    return day, (CardState.due < horizon) & not_flagged(user.id, now)


def _forecast_days(user: User, now: datetime, counts: Iterable[tuple[object, int]]) -> list[tuple[date, int]]:
    """(local due day from the query, cards) as the next 30 days; overdue cards count today."""
    today = now.astimezone(zone(user.timezone)).date()
    per_day: dict[date, int] = defaultdict(int)
    for value, n in counts:
        per_day[max(_as_date(value), today)] += int(n)
    return [
        (today + timedelta(days=i), per_day.get(today + timedelta(days=i), 0)) for i in range(FORECAST_DAYS)
    ]


def forecast(user: User, now: datetime, role_id: int | None = None) -> list[tuple[date, int]]:
    """Cards falling due on each of the next 30 local days (overdue cards count today): one query."""
    day, in_window = _forecast_window(user, now)
    rows = db.session.execute(
        visible_questions(role_id)
        .with_only_columns(day.label("day"), func.count(CardState.id))
        .join(CardState, (CardState.question_id == Question.id) & (CardState.user_id == user.id))
        .where(in_window)
        .group_by("day")
    )
    return _forecast_days(user, now, rows)


# -- the dashboard (all roles) -------------------------------------------------------------------------


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
    factor, decay = scheduling.forgetting_curve(user_scheduler(user))
    recall = recall_at(now, factor, decay)
    start = day_start(user, now)
    due_day, in_window = _forecast_window(user, now)
    day = case((in_window, due_day)).label("day")
    mastered = (CardState.state == 2) & (CardState.stability >= MASTERED_DAYS)
    rows = db.session.execute(
        visible_questions()
        .join(CardState, (CardState.question_id == Question.id) & (CardState.user_id == user.id))
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
    coming = _forecast_days(user, now, ((r[1], r[-1]) for r in rows if r[1] is not None))
    return summaries, coming


def dashboard(user: User, now: datetime) -> Dashboard:
    """Everything /dashboard shows, in a fixed number of queries."""
    tz = zone(user.timezone)
    today = now.astimezone(tz).date()
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


# -- one role's progress page ------------------------------------------------------------------------


@dataclass
class CategoryCompetency:
    category: str
    total: int
    new: int
    learning: int
    mastered: int
    recall: float | None

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
    weakest: list[tuple[Question, float, int]]  # question, predicted recall, lapses
    recall_buckets: list[tuple[str, int]]
    forecast: list[tuple[date, int]]
    retention: list[Retention]
    due: int
    new_today: int
    new_limit: int
    desired_retention: float

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
    factor, decay = scheduling.forgetting_curve(user_scheduler(user))
    recall = recall_at(now, factor, decay)
    mastered = (CardState.state == 2) & (CardState.stability >= MASTERED_DAYS)
    start = day_start(user, now)
    joined = visible_questions(role.id).outerjoin(
        CardState, (CardState.question_id == Question.id) & (CardState.user_id == user.id)
    )
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
    weakest = [
        (q, float(r), int(lapses))
        for q, r, lapses in db.session.execute(
            visible_questions(role.id)
            .add_columns(recall.label("recall"), CardState.lapses)
            .join(CardState, (CardState.question_id == Question.id) & (CardState.user_id == user.id))
            .order_by(recall, CardState.lapses.desc(), Question.id)
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
            .join(CardState, (CardState.question_id == Question.id) & (CardState.user_id == user.id))
            .group_by("bucket")
        ).all()
    )
    return RoleProgress(
        role=role,
        categories=categories,
        weakest=weakest,
        recall_buckets=[(label, int(counts.get(label, 0))) for _low, _high, label in RECALL_BUCKETS],
        forecast=forecast(user, now, role.id),
        retention=retention(
            activity(user, now, role.id, days=max(PERIODS) + 1), now.astimezone(zone(user.timezone)).date()
        ),
        due=sum(int(r[6] or 0) for r in rows),
        new_today=sum(int(r[7] or 0) for r in rows),
        new_limit=user.new_per_day,
        desired_retention=float(user.desired_retention),
    )
