"""Rating a card: one-time tokens, the suggested rating, recording a rating exactly once, undo."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, func
from sqlalchemy.exc import IntegrityError

from .. import scheduling
from ..banks.rules import MAX_TEXT
from ..extensions import db
from ..models import CardFlag, CardState, Question, Review, Role, User, utc_now, write_transaction
from ..personal.spread import spread_due
from ..queries import USER
from ..reviews import LEECH_LAPSES, rebuild_card
from .attempts import Attempt

MAX_DRAFT = MAX_TEXT
LEECH_MESSAGE = (
    f"Leech: this card has lapsed {LEECH_LAPSES} times, so it is suspended. Rewrite your notes for it, "
    "then unsuspend it from its history page."
)

# -- the suggested rating -------------------------------------------------------------------------

QUICK_SECONDS = 90  # every key point within this long of seeing the question suggests Easy
SLOW_SECONDS = 300  # every key point, but after longer than this, suggests Hard (recalled with effort)
MOST = 0.6  # the share of key points that counts as "most"; under it the answer would fail: Again
# The suggestion rule, in words, for the drill's hint and the README (one rule, written once).
SUGGESTION_RULE = (
    f"most key points missing (under {round(MOST * 100)}%) → Again; all of them but slowly (over "
    f"{SLOW_SECONDS // 60} min) → Hard; most → Good; all within {QUICK_SECONDS} s → Easy"
)


def suggest_rating(covered: int, total: int, answer_seconds: float | None = None) -> int:
    """The rating a key-point checklist suggests (SUGGESTION_RULE).

    A partly right answer that would fail in an interview is Again (under MOST of the points), not Hard:
    Hard is for a right answer recalled with effort (all points, after SLOW_SECONDS). Most points → Good;
    all of them within QUICK_SECONDS → Easy. An unknown time never makes Easy or Hard.
    """
    if total <= 0:
        return 3
    share = covered / total
    if share < MOST:
        return 1
    if share >= 1 and answer_seconds is not None:
        if answer_seconds <= QUICK_SECONDS:
            return 4
        if answer_seconds > SLOW_SECONDS:
            return 2
    return 3


def suggestions(total: int, answer_seconds: float | None, attempt: Attempt | None = None) -> list[int]:
    """The suggested rating for 0, 1, ... `total` key points ticked: the page reads it as data.

    A checked exercise decides by itself (the same rating whatever is ticked): right → Good, Easy
    within QUICK_SECONDS; some of the faulty lines → Hard; wrong → Again. A design's estimate outside
    the accepted range caps the checklist's suggestion at Hard.
    """
    checklist = [suggest_rating(n, total, answer_seconds) for n in range(total + 1)]
    if attempt is None or attempt.correct is None and attempt.kind != "design":
        return checklist
    if attempt.kind == "design":
        return checklist if attempt.correct is not False else [min(r, 2) for r in checklist]
    quick = answer_seconds is not None and answer_seconds <= QUICK_SECONDS
    rating = (4 if quick else 3) if attempt.correct else (2 if attempt.partly else 1)
    return [rating] * (total + 1)


# The rule for each kind, in words, beside "Rate as suggested" (written once, with the code above).
SUGGESTION_RULES = {
    "predict": f"right → Good, or Easy within {QUICK_SECONDS} s; wrong → Again",
    "spot_bug": f"every faulty line → Good, or Easy within {QUICK_SECONDS} s; some → Hard; none → Again",
    "design": SUGGESTION_RULE + "; an estimate outside the accepted range caps it at Hard",
}


def suggestion_rule(kind: str) -> str:
    """How the rating is suggested for a kind of question, in words."""
    return SUGGESTION_RULES.get(kind, SUGGESTION_RULE)


# -- one-time review tokens ---------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)
def _serializer_for(secret_key: str | bytes) -> URLSafeSerializer:
    """One serializer per key, not one per token (building it cost ~10% of issuing a token)."""
    return URLSafeSerializer(secret_key, salt="review-token")


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
    detected: list[int] | None = None,
    mode: str = "due",
    due_cap: datetime | None = None,
    attempt: Attempt | None = None,
    role: Role | None = None,
) -> RatingResult:
    """Apply a rating once: the same token again records nothing; concurrent ratings serialize.

    `due_cap` (the day before an interview) keeps the next review from falling after the interview.
    `attempt` (an exercise's answer and whether the check found it right) is stored on the review, and
    `detected` (the key points the detector found in the draft) beside `covered` (the confirmed ticks).
    """
    extra = Extra(draft, covered, mode, attempt, detected)
    for _try in range(3):
        with write_transaction():
            result = _apply_rating(user, question, token, rating, extra, due_cap, role)
        if result is not None:
            return result
    return RatingResult(None, duplicate=True)


def _already_recorded(nonce: str) -> bool:
    return db.session.scalar(db.select(Review.id).filter_by(token=nonce)) is not None


@dataclass(frozen=True)
class Extra:
    """What a review records beside the rating: the draft, key points covered (confirmed) and detected,
    mode and attempt."""

    draft: str | None
    covered: list[int] | None
    mode: str
    attempt: Attempt | None
    detected: list[int] | None = None


def _apply_rating(
    user: User,
    question: Question,
    token: Token,
    rating: int,
    extra: Extra,
    due_cap: datetime | None,
    role: Role | None = None,
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
    outcome = scheduling.review(scheduling.user_scheduler(user, role), card, rating, now)
    prev_state = state.state if state is not None else 0
    if state is None:
        state = CardState(user_id=user.id, question_id=question.id, introduced_at=now)
        db.session.add(state)
    scheduling.apply(state, outcome)
    if user.easy_days or user.load_balance:  # off by default: no extra query
        state.due = spread_due(user, state, role, now, due_cap)
    if due_cap is not None and state.due > due_cap:
        state.due = max(due_cap, now)
    leech = outcome.lapsed and state.lapses >= LEECH_LAPSES
    if leech:
        set_flag(user.id, question.id, suspended=True, leech=True)
    review = _review_row(user, question, token, rating, state, now, extra, prev_state)
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


def _review_row(
    user: User,
    question: Question,
    token: Token,
    rating: int,
    state: CardState,
    now: datetime,
    extra: Extra,
    prev_state: int,
) -> Review:
    """The log entry for a rating: what was rated, when, how long it took, and the state it produced."""
    limit_ms = current_app.config["MAX_ANSWER_SECONDS"] * 1000
    duration = min(max(0, int(now.timestamp() * 1000) - token.shown_at_ms), limit_ms)
    return Review(
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
        draft=(extra.draft or "").strip()[:MAX_DRAFT] or None,
        covered=sorted(set(extra.covered)) if extra.covered is not None else None,
        detected=sorted(set(extra.detected)) if extra.detected is not None else None,
        key_point_count=len(question.key_points)
        if extra.covered is not None or extra.detected is not None
        else None,
        mode=extra.mode,
        attempt=extra.attempt.data if extra.attempt is not None else None,
        correct=extra.attempt.correct if extra.attempt is not None else None,
        prev_state=prev_state,
    )


def set_flag(user_id: int, question_id: int, **values) -> CardFlag:
    """Set suspend / bury / leech marks on a card, creating its flag row if needed."""
    flag = db.session.scalar(db.select(CardFlag).filter_by(user_id=user_id, question_id=question_id))
    if flag is None:
        flag = CardFlag(user_id=user_id, question_id=question_id, suspended=False, leech=False)
        db.session.add(flag)
    for name, value in values.items():
        setattr(flag, name, value)
    return flag


def interval_previews(
    user: User, question: Question, state: CardState | None, now: datetime, role: Role | None = None
) -> dict:
    """Rating → interval text for the four buttons."""
    card = scheduling.to_card(question.id, state, now)
    previews = scheduling.previews(scheduling.user_scheduler(user, role), card, now)
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
