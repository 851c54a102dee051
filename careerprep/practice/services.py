"""The study queue and recording a rating exactly once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import case, func
from sqlalchemy.exc import IntegrityError

from .. import scheduling
from ..extensions import db
from ..models import CardFlag, CardState, Question, QuestionSet, Review, Role, User, as_utc, utc_now
from ..queries import day_start, visible_questions

# Like Anki's learn-ahead limit: with nothing else to do, learning cards due this soon are shown.
LEARN_AHEAD = timedelta(minutes=20)


@dataclass
class QueueCounts:
    due: int
    new_today: int
    new_limit: int
    new_available: int
    next_due: datetime | None

    @property
    def new_remaining(self) -> int:
        return max(0, min(self.new_limit - self.new_today, self.new_available))


@dataclass
class NextCard:
    question: Question | None
    state: CardState | None
    counts: QueueCounts


def user_scheduler(user: User):
    """The FSRS scheduler for this user's desired retention."""
    return scheduling.scheduler(float(user.desired_retention), current_app.config["FSRS_FUZZING"])


def queue_counts(user: User, role: Role, now: datetime) -> QueueCounts:
    """Due now, new introduced today, new still unseen, and the next due time: one query."""
    in_role = (
        db.select(CardState)
        .join(Question, CardState.question_id == Question.id)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(
            CardState.user_id == user.id,
            QuestionSet.role_id == role.id,
            QuestionSet.published.is_(True),
            Question.archived.is_(False),
        )
        .subquery()
    )
    visible_total = visible_questions(role.id).with_only_columns(func.count(Question.id)).scalar_subquery()
    row = db.session.execute(
        db.select(
            func.count(in_role.c.id),
            func.coalesce(func.sum(case((in_role.c.due <= now, 1), else_=0)), 0),
            func.coalesce(func.sum(case((in_role.c.introduced_at >= day_start(user, now), 1), else_=0)), 0),
            func.min(case((in_role.c.due > now, in_role.c.due))),
            visible_total,
        )
    ).one()
    studied, due, new_today, next_due, total = row
    return QueueCounts(
        due=int(due),
        new_today=int(new_today),
        new_limit=user.new_per_day,
        new_available=int(total) - int(studied),
        next_due=_aware(next_due),
    )


def _aware(value: datetime | str | None) -> datetime | None:
    """An aggregate timestamp as aware UTC (SQLite may hand back text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def next_card(user: User, role: Role, now: datetime) -> NextCard:
    """Due cards first (most overdue first), then new cards up to the daily limit, then learn-ahead."""
    counts = queue_counts(user, role, now)
    earliest = db.session.execute(
        visible_questions(role.id)
        .add_columns(CardState)
        .join(CardState, CardState.question_id == Question.id)
        .where(CardState.user_id == user.id, CardState.due <= now + LEARN_AHEAD)
        .order_by(CardState.due, CardState.id)
        .limit(1)
    ).first()
    if earliest is not None and earliest[1].due <= now:
        return NextCard(earliest[0], earliest[1], counts)
    if counts.new_remaining > 0:
        studied = db.select(CardState.question_id).where(CardState.user_id == user.id)
        question = db.session.scalar(
            visible_questions(role.id)
            .where(Question.id.not_in(studied))
            .order_by(Question.difficulty, Question.position, QuestionSet.id, Question.id)
            .limit(1)
        )
        if question is not None:
            return NextCard(question, None, counts)
    if earliest is not None:
        return NextCard(earliest[0], earliest[1], counts)
    return NextCard(None, None, counts)


# -- one-time review tokens ---------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="review-token")


def issue_token(user: User, question: Question, now: datetime) -> str:
    """A signed, one-time token for this showing of a card (who, which card, when shown)."""
    return _serializer().dumps(
        {"u": user.id, "q": question.id, "n": secrets.token_hex(16), "t": int(now.timestamp() * 1000)}
    )


@dataclass
class Token:
    question_id: int
    nonce: str
    shown_at_ms: int


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
        return Token(int(data["q"]), str(data["n"]), int(data["t"]))
    except (KeyError, TypeError, ValueError):
        return None


@dataclass
class RatingResult:
    review: Review | None
    duplicate: bool
    leech: bool = False


LEECH_LAPSES = 8


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
        if db.session.scalar(db.select(Review.id).filter_by(token=token.nonce)) is not None:
            return RatingResult(None, duplicate=True)
        state = db.session.scalar(
            db.select(CardState).filter_by(user_id=user.id, question_id=question.id).with_for_update()
        )
        # Read the clock only once the card is locked: ratings that waited for the lock then carry
        # later times, so the log's time order is the order the state changes were applied.
        now = utc_now()
        card = scheduling.to_card(question.id, state, now)
        outcome = scheduling.review(user_scheduler(user), card, rating, now)
        if state is None:
            state = CardState(user_id=user.id, question_id=question.id, introduced_at=now)
            db.session.add(state)
        scheduling.apply(state, outcome)
        if due_cap is not None and state.due > due_cap:
            state.due = max(due_cap, now)
        leech = outcome.lapsed and state.lapses >= LEECH_LAPSES
        if leech:
            _flag(user.id, question.id, suspended=True, leech=True)
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
        )
        db.session.add(review)
        try:
            db.session.commit()
        except IntegrityError:
            # Another request recorded this token, or created this card first: look again.
            db.session.rollback()
            continue
        return RatingResult(review, duplicate=False, leech=leech)
    return RatingResult(None, duplicate=True)


MAX_DRAFT = 20_000


def _flag(user_id: int, question_id: int, **values) -> CardFlag:
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
