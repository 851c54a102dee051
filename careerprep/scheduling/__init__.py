"""The only package that talks to fsrs and fsrs-rs-python: cards, reviews, previews, recall, replay.

Submodules: `fitting` (personal parameters from a review log), `simulation` (the workload planner),
`balance` (Easy Days and load balancing within the fuzz range).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from fsrs import Card, Rating, Scheduler, State

from ..models import CardState, Role, User, as_utc

RATING_LABELS = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
STATE_LABELS = {
    int(State.Learning): "Learning",
    int(State.Review): "Review",
    int(State.Relearning): "Relearning",
}
REVIEW_STATE = int(State.Review)


Params = tuple[float, ...] | None  # 21 FSRS-6 parameters; None means FSRS's own defaults
DEFAULT_PARAMETERS: tuple[float, ...] = tuple(Scheduler().parameters)


@lru_cache(maxsize=256)
def scheduler(desired_retention: float = 0.9, fuzzing: bool = True, params: Params = None) -> Scheduler:
    """A cached FSRS scheduler for one retention target and parameter set (immutable in use)."""
    if params is None:
        return Scheduler(desired_retention=desired_retention, enable_fuzzing=fuzzing)
    return Scheduler(parameters=params, desired_retention=desired_retention, enable_fuzzing=fuzzing)


def params_of(personal: list[float] | None, role_default: list[float] | None) -> Params:
    """The parameters a card is scheduled with: the user's fitted ones, else the role's, else FSRS's."""
    chosen = personal or role_default
    return tuple(float(w) for w in chosen) if chosen else None


def user_params(user: User, role: Role | None = None) -> Params:
    """This user's parameters for a role's cards (the role's defaults until they fit their own)."""
    return params_of(user.fsrs_params, role.fsrs_params if role is not None else None)


def user_scheduler(user: User, role: Role | None = None) -> Scheduler:
    """The FSRS scheduler for this user's desired retention and parameters (fuzzing as configured)."""
    return scheduler(
        float(user.desired_retention), current_app.config["FSRS_FUZZING"], user_params(user, role)
    )


def to_card(question_id: int, state: CardState | None, now: datetime) -> Card:
    """The fsrs Card for a user's state on a question (a fresh card when never reviewed)."""
    if state is None:
        return Card(card_id=question_id, due=now)
    return Card(
        card_id=question_id,
        state=State(state.state),
        step=state.step,
        stability=state.stability,
        difficulty=state.difficulty,
        due=as_utc(state.due),
        last_review=as_utc(state.last_review),
    )


@dataclass(frozen=True)
class Outcome:
    """What one rating does to a card."""

    card: Card
    lapsed: bool

    @property
    def interval(self) -> timedelta:
        return self.card.due - self.card.last_review


def review(sched: Scheduler, card: Card, rating: int, now: datetime) -> Outcome:
    """Apply a rating (1–4) at `now` and return the new card."""
    new_card, _log = sched.review_card(card, Rating(rating), review_datetime=now)
    lapsed = card.state == State.Review and rating == int(Rating.Again)
    return Outcome(card=new_card, lapsed=lapsed)


def previews(sched: Scheduler, card: Card, now: datetime) -> dict[int, timedelta]:
    """The interval each of the four ratings would give, for the buttons."""
    return {r: review(sched, card, r, now).interval for r in RATING_LABELS}


def apply(state: CardState, outcome: Outcome) -> None:
    """Copy a reviewed card onto the stored state and bump the counters."""
    card = outcome.card
    state.state = int(card.state)
    state.step = card.step
    state.stability = card.stability
    state.difficulty = card.difficulty
    state.due = card.due
    state.last_review = card.last_review
    state.reps = (state.reps or 0) + 1
    state.lapses = (state.lapses or 0) + (1 if outcome.lapsed else 0)


def forgetting_curve(sched: Scheduler) -> tuple[float, float]:
    """(factor, decay) of FSRS's power forgetting curve R(t) = (1 + factor * t / S) ** decay."""
    decay = -sched.parameters[20]
    return 0.9 ** (1 / decay) - 1, decay


def interval_days(sched: Scheduler, stability: float) -> int:
    """The interval FSRS gives a review card of this stability, before fuzz (whole days)."""
    factor, decay = forgetting_curve(sched)
    days = round(stability / factor * (sched.desired_retention ** (1 / decay) - 1))
    return min(max(days, 1), sched.maximum_interval)


def retrievability(
    sched: Scheduler, stability: float | None, last_review: datetime | None, now: datetime
) -> float:
    """Predicted probability of recalling a card at `now` (0 for a card never reviewed)."""
    if stability is None or last_review is None:
        return 0.0
    card = Card(
        card_id=0,
        state=State.Review,
        stability=stability,
        difficulty=5.0,
        due=now,
        last_review=as_utc(last_review),
    )
    return sched.get_card_retrievability(card, now)


def format_interval(delta: timedelta) -> str:
    """A short human interval: 1m, 10m, 3h, 4d, 2mo, 1.5y."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))}m"
    if seconds < 86400:
        return f"{round(seconds / 3600)}h"
    days = seconds / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{round(days / 30)}mo"
    return f"{days / 365:.1f}y".replace(".0y", "y")


@dataclass(frozen=True)
class Replayed:
    """A card's state as its review log says it should be."""

    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime
    reps: int
    lapses: int


def replay(question_id: int, log: list[tuple[int, datetime, datetime]], params: Params = None) -> Replayed:
    """Replay (rating, reviewed_at, stored due) entries through FSRS with the card's parameters.

    State, step, stability and difficulty are deterministic; fuzzing only moves intervals, so the
    due date comes from the log itself. A new fit replays every card with its parameters, so the
    memory states always equal a replay of the whole log with the parameters now in use.
    """
    sched = scheduler(0.9, False, params)
    card = Card(card_id=question_id, due=as_utc(log[0][1]))
    lapses = 0
    for rating, reviewed_at, stored_due in log:
        outcome = review(sched, card, rating, as_utc(reviewed_at))
        lapses += outcome.lapsed
        card = outcome.card
        card.due = as_utc(stored_due)
    return Replayed(
        int(card.state),
        card.step,
        card.stability,
        card.difficulty,
        card.due,
        card.last_review,
        len(log),
        lapses,
    )
