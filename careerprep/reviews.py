"""Checking card state against the review log, and rebuilding it from the log."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby

from . import scheduling
from .extensions import db
from .models import (
    CardFlag,
    CardState,
    Question,
    QuestionSet,
    Review,
    Role,
    User,
    snapshot,
    write_transaction,
)

LEECH_LAPSES = 8

FIELDS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses")


@dataclass
class Drift:
    user_id: int
    question_id: int
    fields: dict[str, tuple] = field(default_factory=dict)  # name -> (stored, from the log)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


@dataclass(frozen=True)
class Scope:
    """Which cards a check or rebuild covers: all, one user's, or a role's cards of users who use
    the role's defaults (after that role's defaults are fitted again)."""

    user_id: int | None = None
    role_id: int | None = None

    def where(self, model) -> list:
        conditions = []
        if self.user_id is not None:
            conditions.append(model.user_id == self.user_id)
        if self.role_id is not None:
            role_questions = (
                db.select(Question.id).join(QuestionSet).where(QuestionSet.role_id == self.role_id)
            )
            personal = db.select(User.id).where(User.fsrs_params.is_not(None))
            conditions += [model.question_id.in_(role_questions), model.user_id.not_in(personal)]
        return conditions


EVERYTHING = Scope()


def params_lookup(scope: Scope = EVERYTHING) -> Callable[[int, int], scheduling.Params]:
    """(user, question) → the FSRS parameters that card is scheduled with (three small queries)."""
    users = db.select(User.id, User.fsrs_params).where(User.fsrs_params.is_not(None))
    if scope.user_id is not None:
        users = users.where(User.id == scope.user_id)
    personal = dict(db.session.execute(users).all())
    roles = dict(
        db.session.execute(db.select(Role.id, Role.fsrs_params).where(Role.fsrs_params.is_not(None))).all()
    )
    role_of = {}
    if roles:
        role_of = dict(
            db.session.execute(
                db.select(Question.id, QuestionSet.role_id)
                .join(QuestionSet)
                .where(QuestionSet.role_id.in_(roles))
            ).all()
        )
    return lambda user_id, question_id: scheduling.params_of(
        personal.get(user_id), roles.get(role_of.get(question_id))
    )


def card_params(user_id: int, question_id: int) -> scheduling.Params:
    """The FSRS parameters one card is scheduled with (one query)."""
    row = db.session.execute(
        db.select(User.fsrs_params, Role.fsrs_params)
        .select_from(Question)
        .join(QuestionSet)
        .join(Role)
        .join(User, User.id == user_id)
        .where(Question.id == question_id)
    ).first()
    return scheduling.params_of(*row) if row is not None else None


def rebuild(scope: Scope) -> int:
    """Rewrite the memory states of the cards in scope from their log with the parameters now in use.

    For a new fit or a reset: the caller holds the write transaction (it has just changed the
    parameters) and this commits it. Returns how many cards changed.
    """
    _checked, drifts = _verify(True, scope)
    db.session.commit()
    return len(drifts)


def _logs(scope: Scope = EVERYTHING) -> Iterator[tuple[tuple[int, int], list[tuple[int, object, object]]]]:
    rows = db.session.execute(
        db.select(Review.user_id, Review.question_id, Review.rating, Review.reviewed_at, Review.due)
        .where(*scope.where(Review))
        .order_by(Review.user_id, Review.question_id, Review.reviewed_at, Review.id)
        .execution_options(yield_per=5000)
    )
    for key, group in groupby(rows, key=lambda r: (r[0], r[1])):
        yield key, [(r[2], r[3], r[4]) for r in group]


def verify(rebuild: bool = False, scope: Scope = EVERYTHING) -> tuple[int, list[Drift]]:
    """Compare every card with a replay of its reviews; optionally rewrite drifted cards from the log.

    Card states and the log are read from one snapshot: a rating committing between the two reads
    would otherwise show as drift (and --rebuild would act on it). Rebuilding also keeps writers out
    until it commits (SQLite: the write lock; PostgreSQL: a table lock that waits for ratings).
    """
    with write_transaction() if rebuild else snapshot():
        if rebuild and db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("LOCK TABLE review, card_state IN SHARE ROW EXCLUSIVE MODE"))
        return _verify(rebuild, scope)


def _verify(rebuild: bool, scope: Scope = EVERYTHING) -> tuple[int, list[Drift]]:
    states = {
        (s.user_id, s.question_id): s
        for s in db.session.scalars(db.select(CardState).where(*scope.where(CardState)))
    }
    params = params_lookup(scope)
    drifts: list[Drift] = []
    seen: set[tuple[int, int]] = set()
    fixes: list[tuple[tuple[int, int], scheduling.Replayed]] = []
    for key, log in _logs(scope):
        seen.add(key)
        expected = scheduling.replay(key[1], log, params(*key))
        stored = states.get(key)
        drift = Drift(*key)
        for name in FIELDS:
            want = getattr(expected, name)
            have = getattr(stored, name) if stored is not None else None
            if not _same(have, want):
                drift.fields[name] = (have, want)
        if drift.fields:
            drifts.append(drift)
            fixes.append((key, expected))
    for key, stored in states.items():
        if key not in seen:  # a card state with no reviews behind it
            drifts.append(Drift(*key, {"reps": (stored.reps, 0)}))
    if rebuild and drifts:
        for (user_id, question_id), expected in fixes:
            state = states.get((user_id, question_id))
            if state is None:
                state = CardState(
                    user_id=user_id, question_id=question_id, introduced_at=log_start(user_id, question_id)
                )
                db.session.add(state)
            for name in FIELDS:
                setattr(state, name, getattr(expected, name))
        for key, stored in states.items():
            if key not in seen:
                db.session.delete(stored)
        db.session.commit()
    return len(states.keys() | seen), drifts


def log_start(user_id: int, question_id: int):
    """When the user first reviewed a question."""
    return db.session.scalar(
        db.select(db.func.min(Review.reviewed_at)).filter_by(user_id=user_id, question_id=question_id)
    )


def rebuild_card(user_id: int, question_id: int) -> CardState | None:
    """Set one card's state from its review log (None, and no row, when no reviews are left).

    Undo uses this after deleting the last review: the replay restores the previous state exactly.
    """
    state = db.session.scalar(db.select(CardState).filter_by(user_id=user_id, question_id=question_id))
    log = [
        (r.rating, r.reviewed_at, r.due)
        for r in db.session.execute(
            db.select(Review.rating, Review.reviewed_at, Review.due)
            .filter_by(user_id=user_id, question_id=question_id)
            .order_by(Review.reviewed_at, Review.id)
        )
    ]
    if not log:
        if state is not None:
            db.session.delete(state)
        return None
    expected = scheduling.replay(question_id, log, card_params(user_id, question_id))
    if state is None:
        state = CardState(user_id=user_id, question_id=question_id, introduced_at=log[0][1])
        db.session.add(state)
    for name in FIELDS:
        setattr(state, name, getattr(expected, name))
    flag = db.session.scalar(db.select(CardFlag).filter_by(user_id=user_id, question_id=question_id))
    if flag is not None and flag.leech and expected.lapses < LEECH_LAPSES:
        flag.leech = False
        flag.suspended = False
    return state
