"""What comes next in a drill: the queue's counts, the modes and focus filters, and the next card."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Select, String, bindparam, case, cast, func, or_
from sqlalchemy.orm import defer

from .. import localtime, scheduling
from ..extensions import db
from ..models import (
    CardFlag,
    CardState,
    Question,
    QuestionSet,
    Review,
    Role,
    RolePlan,
    User,
    UTCDateTime,
    as_utc,
)
from ..plans import due_cap, interview_start, prepare_pace
from ..queries import (
    NOW,
    ROLE,
    USER,
    card_join,
    flag_join,
    not_flagged,
    not_flagged_joined,
    recall_at,
    visible_questions,
)

# Like Anki's learn-ahead limit: with nothing else to do, learning cards due this soon are shown.
LEARN_AHEAD = timedelta(minutes=20)


MODES = {
    "due": "Due",
    "learn": "Learn new",
    "weak": "Weak spots",
    "focus": "Focus",
    "prepare": "Prepare for my interview",
}


@dataclass(frozen=True)
class Filters:
    """Focus mode's choice of categories, difficulties and tags (empty means any)."""

    categories: tuple[str, ...] = ()
    difficulties: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()

    @classmethod
    def from_request(cls, values) -> Filters:
        """Read filters from query or form values, dropping anything malformed."""
        categories = tuple(dict.fromkeys(c[:120] for c in values.getlist("category") if c.strip()))[:20]
        difficulties = tuple(sorted({int(d) for d in values.getlist("difficulty") if d in ("1", "2", "3")}))
        tags = tuple(dict.fromkeys(t[:40] for t in values.getlist("tag") if re.fullmatch(r"[a-z0-9-]+", t)))[
            :20
        ]
        return cls(categories, difficulties, tags)

    def __bool__(self) -> bool:
        return bool(self.categories or self.difficulties or self.tags)

    def apply(self, stmt: Select) -> Select:
        """Restrict a statement over Question to the chosen filters."""
        if self.categories:
            stmt = stmt.where(Question.category.in_(self.categories))
        if self.difficulties:
            stmt = stmt.where(Question.difficulty.in_(self.difficulties))
        if self.tags:
            # Tags are a JSON list of kebab-case words: match the quoted word in its text form.
            stmt = stmt.where(or_(*(cast(Question.tags, String).like(f'%"{t}"%') for t in self.tags)))
        return stmt

    def params(self) -> dict:
        """The filters as URL parameters."""
        return {
            "category": list(self.categories),
            "difficulty": list(self.difficulties),
            "tag": list(self.tags),
        }


@dataclass
class QueueCounts:
    """What the queue line says: due now, coming back later today, new left, done today."""

    due: int  # cards due now (learning cards included)
    new_today: int
    new_limit: int
    new_available: int
    next_due: datetime | None
    reviews_today: int = 0  # reviews today of cards that were not new today (the daily review limit)
    review_limit: int = 0
    learning: int = 0  # learning or relearning cards that come back later today
    done_today: int = 0  # ratings today in this role, of any card

    @property
    def new_remaining(self) -> int:
        return max(0, min(self.new_limit - self.new_today, self.new_available))

    @property
    def reviews_remaining(self) -> int:
        return max(0, self.review_limit - self.reviews_today)

    @property
    def to_go(self) -> int:
        """Cards still to come today: due now (within the review limit), learning, new."""
        return min(self.due, self.reviews_remaining) + self.learning + self.new_remaining


@dataclass
class NextCard:
    question: Question | None
    state: CardState | None
    counts: QueueCounts
    mode: str = "due"


def _pool(user: User, role: Role, now: datetime, filters: Filters) -> Select:
    """Questions this drill may show: visible in the role, within the filters, not suspended or buried."""
    return filters.apply(visible_questions(role.id)).where(not_flagged(user.id, now))


# The due queue's statements are built once per choice of filters, with bound parameters, and reused:
# building a statement with several subqueries costs more CPU than SQLite takes to run it.
DAY_START = bindparam("day_start", type_=UTCDateTime())
AHEAD = bindparam("ahead", type_=UTCDateTime())
DAY_END = bindparam("day_end", type_=UTCDateTime())
REVIEW_STATE = scheduling.REVIEW_STATE


# A card's front shows the prompt: the model answer and key points load only if something reads them.
FRONT_ONLY = (defer(Question.answer), defer(Question.key_points))


@lru_cache(maxsize=128)
def _counts_statement(filters: Filters) -> Select:
    """One pass over the role's visible questions with this user's card and flag beside each."""
    # Reviews today of cards that were not new today: what the daily review limit counts. Today's
    # reviews are read first (MATERIALIZED): PostgreSQL's generic plan for the prepared statement
    # otherwise walked every review of each of the role's questions (figures in bench/RESULTS.md).
    today = (
        db.select(Review.question_id)
        .where(Review.user_id == USER, Review.reviewed_at >= DAY_START)
        .cte("reviews_today")
        .prefix_with("MATERIALIZED")
    )
    in_role = (
        db.select(func.count())
        .select_from(today)
        .join(CardState, (CardState.question_id == today.c.question_id) & (CardState.user_id == USER))
        .join(Question, Question.id == today.c.question_id)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(QuestionSet.role_id == ROLE)
    )
    reviewed_today = in_role.where(CardState.introduced_at < DAY_START).scalar_subquery()
    learning_later = (CardState.state != REVIEW_STATE) & (CardState.due > NOW) & (CardState.due < DAY_END)
    return (
        filters.apply(visible_questions(ROLE))
        .outerjoin(CardState, card_join(USER))
        .outerjoin(CardFlag, flag_join(USER))
        .where(not_flagged_joined(NOW))
        .with_only_columns(
            func.count(Question.id),
            func.count(CardState.id),
            func.coalesce(func.sum(case((CardState.due <= NOW, 1), else_=0)), 0),
            func.coalesce(func.sum(case((CardState.introduced_at >= DAY_START, 1), else_=0)), 0),
            func.min(case((CardState.due > NOW, CardState.due))),
            reviewed_today,
            func.coalesce(func.sum(case((learning_later, 1), else_=0)), 0),
            in_role.scalar_subquery(),
        )
    )


@lru_cache(maxsize=128)
def _earliest_statement(filters: Filters) -> Select:
    """The studied card due first (up to the learn-ahead limit)."""
    return (
        filters.apply(visible_questions(ROLE))
        .where(not_flagged(USER, NOW))
        .add_columns(CardState)
        .join(CardState, card_join(USER))
        .where(CardState.due <= AHEAD)
        .order_by(CardState.due, CardState.id)
        .limit(1)
        .options(*FRONT_ONLY)
    )


@lru_cache(maxsize=128)
def _new_question_statement(filters: Filters) -> Select:
    """The first unseen question: easiest first, then in bank order."""
    studied = db.select(CardState.question_id).where(CardState.user_id == USER)
    return (
        filters.apply(visible_questions(ROLE))
        .where(not_flagged(USER, NOW), Question.id.not_in(studied))
        .order_by(Question.difficulty, Question.position, QuestionSet.id, Question.id)
        .limit(1)
        .options(*FRONT_ONLY)
    )


def _bound(user: User, role: Role, now: datetime) -> dict:
    start = user.day_start(now)
    end = localtime.start_of(user.local_today(now) + timedelta(days=1), user.timezone)
    return {"user_id": user.id, "role_id": role.id, "now": now, "day_start": start, "day_end": end}


def queue_counts(
    user: User, role: Role, now: datetime, filters: Filters = Filters(), new_limit: int | None = None
) -> QueueCounts:
    """Due now, new introduced today, unseen, reviews done today and the next due time: one query."""
    total, studied, due, new_today, next_due, reviews_today, learning, done = db.session.execute(
        _counts_statement(filters), _bound(user, role, now)
    ).one()
    return QueueCounts(
        due=int(due),
        new_today=int(new_today),
        new_limit=user.new_per_day if new_limit is None else new_limit,
        new_available=int(total) - int(studied),
        next_due=_aware(next_due),
        reviews_today=int(reviews_today),
        review_limit=user.max_reviews_per_day,
        learning=int(learning),
        done_today=int(done),
    )


def _aware(value: datetime | str | None) -> datetime | None:
    """An aggregate timestamp as aware UTC (SQLite may hand back text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def _first_studied(stmt: Select) -> tuple[Question, CardState] | None:
    row = db.session.execute(stmt.limit(1)).first()
    return (row[0], row[1]) if row else None


def _studied(user: User, role: Role, now: datetime, filters: Filters) -> Select:
    return _pool(user, role, now, filters).add_columns(CardState).join(CardState, card_join(user.id))


def _new_question(user: User, role: Role, now: datetime, filters: Filters) -> Question | None:
    return db.session.scalar(_new_question_statement(filters), _bound(user, role, now))


def _earliest(user: User, role: Role, now: datetime, filters: Filters) -> tuple[Question, CardState] | None:
    row = db.session.execute(
        _earliest_statement(filters), {**_bound(user, role, now), "ahead": now + LEARN_AHEAD}
    ).first()
    return (row[0], row[1]) if row else None


def _weakest(user: User, role: Role, at: datetime, now: datetime, filters: Filters) -> Select:
    factor, decay = scheduling.forgetting_curve(scheduling.user_scheduler(user, role))
    return _studied(user, role, now, filters).order_by(
        recall_at(at, factor, decay), CardState.lapses.desc(), CardState.due, CardState.id
    )


def next_card(
    user: User,
    role: Role,
    now: datetime,
    mode: str = "due",
    filters: Filters = Filters(),
    plan: RolePlan | None = None,
) -> NextCard:
    """The next card for a mode.

    due: due cards (most overdue first) up to the daily review limit, then new cards up to the daily
    new limit, then learning cards due within 20 minutes. learn: new cards only. weak: studied cards,
    lowest predicted recall (then most lapses) first. focus: due, then new, then weakest, within the
    filters. prepare: cards due now or due only after the interview, lowest recall on the interview day
    first, then new cards at the pace that covers the bank by the interview.
    """
    if mode == "prepare" and (plan is None or interview_start(user, plan) <= now):
        mode = "due"
    new_limit = None
    if mode == "prepare":
        new_limit = max(user.new_per_day, prepare_pace(user, role, plan, now).new_per_day)
    counts = queue_counts(user, role, now, filters, new_limit)

    def result(found, state=None) -> NextCard:
        if found is None:
            return NextCard(None, None, counts, mode)
        if isinstance(found, tuple):
            return NextCard(found[0], found[1], counts, mode)
        return NextCard(found, state, counts, mode)

    if mode == "weak":
        return result(_first_studied(_weakest(user, role, now, now, filters)))
    if mode == "learn":
        return result(_new_question(user, role, now, filters) if counts.new_remaining else None)
    if mode == "prepare":
        start = interview_start(user, plan)
        missing = _weakest(user, role, start, now, filters).where(
            # Due now, or due only after the cap (so it would miss the interview).
            (CardState.due <= now) | (CardState.due > due_cap(user, plan, now))
        )
        found = _first_studied(missing)
        if found is None and counts.new_remaining:
            found = _new_question(user, role, now, filters)
        if found is None:
            # Nothing the interview needs now: cards in learning that come back within minutes are
            # shown early, as in the due queue, instead of ending on "due in 1m" with no way on.
            found = _earliest(user, role, now, filters)
        return result(found)
    earliest = _earliest(user, role, now, filters)
    if earliest is not None and earliest[1].due <= now and counts.reviews_remaining:
        return result(earliest)
    if counts.new_remaining:
        question = _new_question(user, role, now, filters)
        if question is not None:
            return result(question)
    if earliest is not None and counts.reviews_remaining:
        return result(earliest)
    if mode == "focus" and filters:
        return result(_first_studied(_weakest(user, role, now, now, filters)))
    return result(None)
