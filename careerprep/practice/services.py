"""The study queue and recording a rating exactly once."""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, String, bindparam, case, cast, func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from .. import scheduling
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
    utc_now,
    write_transaction,
    zone,
)
from ..queries import (
    NOW,
    ROLE,
    USER,
    day_start,
    not_flagged,
    not_flagged_joined,
    recall_at,
    visible_questions,
)
from ..reviews import LEECH_LAPSES, rebuild_card

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
    due: int
    new_today: int
    new_limit: int
    new_available: int
    next_due: datetime | None
    reviews_today: int = 0
    review_limit: int = 0

    @property
    def new_remaining(self) -> int:
        return max(0, min(self.new_limit - self.new_today, self.new_available))

    @property
    def reviews_remaining(self) -> int:
        return max(0, self.review_limit - self.reviews_today)


@dataclass
class NextCard:
    question: Question | None
    state: CardState | None
    counts: QueueCounts
    mode: str = "due"


def user_scheduler(user: User):
    """The FSRS scheduler for this user's desired retention."""
    return scheduling.scheduler(float(user.desired_retention), current_app.config["FSRS_FUZZING"])


def _pool(user: User, role: Role, now: datetime, filters: Filters) -> Select:
    """Questions this drill may show: visible in the role, within the filters, not suspended or buried."""
    return filters.apply(visible_questions(role.id)).where(not_flagged(user.id, now))


# The due queue's statements are built once per choice of filters, with bound parameters, and reused:
# building a statement with several subqueries costs more CPU than SQLite takes to run it.
DAY_START = bindparam("day_start", type_=UTCDateTime())
AHEAD = bindparam("ahead", type_=UTCDateTime())


# A card's front shows the prompt: the model answer and key points load only if something reads them.
FRONT_ONLY = (defer(Question.answer), defer(Question.key_points))


@lru_cache(maxsize=128)
def _counts_statement(filters: Filters) -> Select:
    """One pass over the role's visible questions with this user's card and flag beside each."""
    # Reviews today of cards that were not new today: what the daily review limit counts. Today's
    # reviews are read first (MATERIALIZED): PostgreSQL's generic plan for the prepared statement
    # otherwise walked every review of each of the role's questions (0.2 ms -> 90 ms).
    today = (
        db.select(Review.question_id)
        .where(Review.user_id == USER, Review.reviewed_at >= DAY_START)
        .cte("reviews_today")
        .prefix_with("MATERIALIZED")
    )
    reviewed_today = (
        db.select(func.count())
        .select_from(today)
        .join(CardState, (CardState.question_id == today.c.question_id) & (CardState.user_id == USER))
        .join(Question, Question.id == today.c.question_id)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(QuestionSet.role_id == ROLE, CardState.introduced_at < DAY_START)
        .scalar_subquery()
    )
    return (
        filters.apply(visible_questions(ROLE))
        .outerjoin(CardState, (CardState.question_id == Question.id) & (CardState.user_id == USER))
        .outerjoin(CardFlag, (CardFlag.question_id == Question.id) & (CardFlag.user_id == USER))
        .where(not_flagged_joined(NOW))
        .with_only_columns(
            func.count(Question.id),
            func.count(CardState.id),
            func.coalesce(func.sum(case((CardState.due <= NOW, 1), else_=0)), 0),
            func.coalesce(func.sum(case((CardState.introduced_at >= DAY_START, 1), else_=0)), 0),
            func.min(case((CardState.due > NOW, CardState.due))),
            reviewed_today,
        )
    )


@lru_cache(maxsize=128)
def _earliest_statement(filters: Filters) -> Select:
    """The studied card due first (up to the learn-ahead limit)."""
    return (
        filters.apply(visible_questions(ROLE))
        .where(not_flagged(USER, NOW))
        .add_columns(CardState)
        .join(CardState, (CardState.question_id == Question.id) & (CardState.user_id == USER))
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
    return {"user_id": user.id, "role_id": role.id, "now": now, "day_start": day_start(user, now)}


def queue_counts(
    user: User, role: Role, now: datetime, filters: Filters = Filters(), new_limit: int | None = None
) -> QueueCounts:
    """Due now, new introduced today, unseen, reviews done today and the next due time: one query."""
    total, studied, due, new_today, next_due, reviews_today = db.session.execute(
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
    return (
        _pool(user, role, now, filters)
        .add_columns(CardState)
        .join(CardState, (CardState.question_id == Question.id) & (CardState.user_id == user.id))
    )


def _new_question(user: User, role: Role, now: datetime, filters: Filters) -> Question | None:
    return db.session.scalar(_new_question_statement(filters), _bound(user, role, now))


def _earliest(user: User, role: Role, now: datetime, filters: Filters) -> tuple[Question, CardState] | None:
    row = db.session.execute(
        _earliest_statement(filters), {**_bound(user, role, now), "ahead": now + LEARN_AHEAD}
    ).first()
    return (row[0], row[1]) if row else None


def _weakest(user: User, role: Role, at: datetime, now: datetime, filters: Filters) -> Select:
    factor, decay = scheduling.forgetting_curve(user_scheduler(user))
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


def _new_today(user: User, role: Role, now: datetime) -> int:
    return db.session.scalar(
        visible_questions(role.id)
        .with_only_columns(func.count(CardState.id))
        .join(CardState, (CardState.question_id == Question.id) & (CardState.user_id == user.id))
        .where(CardState.introduced_at >= day_start(user, now))
    )


# -- interview date -------------------------------------------------------------------------------


def interview_start(user: User, plan: RolePlan) -> datetime:
    """The start of the interview day in the user's time zone, as UTC."""
    return datetime.combine(plan.interview_date, time.min, tzinfo=zone(user.timezone)).astimezone(UTC)


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


@dataclass
class Pace:
    days_left: int
    unseen: int
    new_per_day: int


def prepare_pace(user: User, role: Role, plan: RolePlan, now: datetime) -> Pace:
    """How many new cards a day cover the role's unseen questions before the interview."""
    start = interview_start(user, plan)
    days_left = max(
        1, (start.astimezone(zone(user.timezone)).date() - now.astimezone(zone(user.timezone)).date()).days
    )
    studied = db.select(CardState.question_id).where(CardState.user_id == user.id)
    unseen = int(
        db.session.scalar(
            visible_questions(role.id)
            .with_only_columns(func.count(Question.id))
            .where(Question.id.not_in(studied))
        )
    )
    # Today's pace counts the cards already introduced today, so it does not shrink as you learn.
    at_day_start = unseen + _new_today(user, role, now)
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
        .outerjoin(CardState, (CardState.question_id == Question.id) & (CardState.user_id == user.id))
    ).all()
    sched = user_scheduler(user)
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


# -- one-time review tokens ---------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="review-token")


def issue_token(user: User, question: Question, now: datetime, state: CardState | None = None) -> str:
    """A signed, one-time token for this showing of a card (who, which card, when shown, its version).

    The version is the card's review count when shown: a rating from a tab that showed an older
    version (the card was rated since in another tab) is refused instead of applied on top.
    """
    return _serializer().dumps(
        {
            "u": user.id,
            "q": question.id,
            "n": secrets.token_hex(16),
            "t": int(now.timestamp() * 1000),
            "v": state.reps if state is not None else 0,
        }
    )


@dataclass
class Token:
    question_id: int
    nonce: str
    shown_at_ms: int
    version: int | None = None  # the card's reps when shown; None: no check (mock interviews)


def read_token(raw: str | None, user: User) -> Token | None:
    """The token's contents if it is genuine and belongs to this user, else None."""
    if not raw or len(raw) > 400:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user.id:
        return None
    try:
        version = None if data.get("v") is None else int(data["v"])
        return Token(int(data["q"]), str(data["n"]), int(data["t"]), version)
    except (KeyError, TypeError, ValueError):
        return None


@dataclass
class RatingResult:
    review: Review | None
    duplicate: bool
    leech: bool = False
    stale: bool = False  # the card was rated since this token's showing (another tab): nothing recorded


def suggest_rating(covered: int, total: int, answer_seconds: float | None = None) -> int:
    """The rating a key-point checklist suggests (documented on the drill page and in the README).

    None or almost none covered (under a quarter) → Again; some (under 60%) → Hard; most → Good;
    all of them, answered within QUICK_SECONDS of seeing the question → Easy (all but slower → Good).
    """
    if total <= 0:
        return 3
    share = covered / total
    if share < 0.25:
        return 1
    if share < 0.6:
        return 2
    if share >= 1 and answer_seconds is not None and answer_seconds <= QUICK_SECONDS:
        return 4
    return 3


QUICK_SECONDS = 90


_LOCK_CARD = (
    db.select(CardState)
    .where(CardState.user_id == USER, CardState.question_id == bindparam("question_id"))
    .with_for_update()
)


def record_rating(
    user: User,
    question: Question,
    token: Token,
    rating: int,
    *,
    draft: str | None = None,
    covered: list[int] | None = None,
    mode: str = "due",
    due_cap: datetime | None = None,
) -> RatingResult:
    """Apply a rating once: the same token again records nothing; concurrent ratings serialize.

    `due_cap` (the day before an interview) keeps the next review from falling after the interview.
    """
    for _attempt in range(3):
        with write_transaction():
            result = _apply_rating(user, question, token, rating, draft, covered, mode, due_cap)
        if result is not None:
            return result
    return RatingResult(None, duplicate=True)


def _already_recorded(nonce: str) -> bool:
    return db.session.scalar(db.select(Review.id).filter_by(token=nonce)) is not None


def _apply_rating(
    user: User,
    question: Question,
    token: Token,
    rating: int,
    draft: str | None,
    covered: list[int] | None,
    mode: str,
    due_cap: datetime | None,
) -> RatingResult | None:
    """One attempt of record_rating, in its write transaction; None when it must be tried again."""
    # No look-up first: the unique token makes a repeated submit fail at insert, checked below.
    state = db.session.scalar(_LOCK_CARD, {"user_id": user.id, "question_id": question.id})
    if token.version is not None and (state.reps if state is not None else 0) != token.version:
        # Rated since this card was shown: a repeat of that rating, or another tab's (stale) one.
        duplicate = _already_recorded(token.nonce)
        db.session.commit()  # nothing was changed: end the transaction, keep the loaded objects
        return RatingResult(None, duplicate=duplicate, stale=not duplicate)
    # Read the clock only once the card is locked: ratings that waited for the lock then carry
    # later times, so the log's time order is the order the state changes were applied.
    now = utc_now()
    card = scheduling.to_card(question.id, state, now)
    outcome = scheduling.review(user_scheduler(user), card, rating, now)
    prev_state = state.state if state is not None else 0
    if state is None:
        state = CardState(user_id=user.id, question_id=question.id, introduced_at=now)
        db.session.add(state)
    scheduling.apply(state, outcome)
    if due_cap is not None and state.due > due_cap:
        state.due = max(due_cap, now)
    leech = outcome.lapsed and state.lapses >= LEECH_LAPSES
    if leech:
        set_flag(user.id, question.id, suspended=True, leech=True)
    limit_ms = current_app.config["MAX_ANSWER_SECONDS"] * 1000
    duration = min(max(0, int(now.timestamp() * 1000) - token.shown_at_ms), limit_ms)
    review = Review(
        user_id=user.id,
        question_id=question.id,
        token=token.nonce,
        rating=rating,
        reviewed_at=now,
        duration_ms=duration,
        state=state.state,
        step=state.step,
        stability=state.stability,
        difficulty=state.difficulty,
        due=state.due,
        interval_seconds=int((state.due - now).total_seconds()),
        draft=(draft or "").strip()[:MAX_DRAFT] or None,
        covered=sorted(set(covered)) if covered is not None else None,
        key_point_count=len(question.key_points) if covered is not None else None,
        mode=mode,
        prev_state=prev_state,
    )
    db.session.add(review)
    try:
        db.session.commit()
    except IntegrityError:
        # This token was recorded already (a repeat submit), or another request created this
        # card first: tell the two apart and try again in the second case.
        db.session.rollback()
        if _already_recorded(token.nonce):
            return RatingResult(None, duplicate=True)
        return None
    return RatingResult(review, duplicate=False, leech=leech)


MAX_DRAFT = 20_000


def set_flag(user_id: int, question_id: int, **values) -> CardFlag:
    """Set suspend / bury / leech marks on a card, creating its flag row if needed."""
    flag = db.session.scalar(db.select(CardFlag).filter_by(user_id=user_id, question_id=question_id))
    if flag is None:
        flag = CardFlag(user_id=user_id, question_id=question_id, suspended=False, leech=False)
        db.session.add(flag)
    for name, value in values.items():
        setattr(flag, name, value)
    return flag


def interval_previews(user: User, question: Question, state: CardState | None, now: datetime) -> dict:
    """Rating → interval text for the four buttons."""
    card = scheduling.to_card(question.id, state, now)
    previews = scheduling.previews(user_scheduler(user), card, now)
    return {r: scheduling.format_interval(d) for r, d in previews.items()}


def undo_rating(user_id: int, review_id: int) -> str:
    """Remove the user's review and restore its card's state exactly (a replay of the log without it).

    Refused when the card was rated again since: undo the later rating first. Returns what happened.
    """
    with write_transaction():
        review = db.session.get(Review, review_id)
        if review is None or review.user_id != user_id:
            return "Nothing to undo."
        later = db.session.scalar(
            db.select(func.count(Review.id)).where(
                Review.user_id == user_id, Review.question_id == review.question_id, Review.id > review.id
            )
        )
        if later:
            return "That card was rated again since; undo the later rating first."
        label = scheduling.RATING_LABELS[review.rating]
        question_id = review.question_id
        db.session.delete(review)
        db.session.flush()
        rebuild_card(user_id, question_id)
        db.session.commit()
    return f"Undid {label}."
