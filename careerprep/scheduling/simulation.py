"""The workload planner's simulation: daily reviews, minutes and questions known at each retention.

New cards go through fsrs-rs-python's simulator (`simulate`); cards already studied, which that
simulator cannot take, follow the same model here: reviewed when due at the target retention,
recalled with FSRS's predicted probability (seeded, so a plan is reproducible), their next state
from fsrs-rs. Both use the user's parameters and seconds per card.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache

import fsrs_rs_python as rs

RETENTIONS = tuple(round(0.75 + 0.02 * i, 2) for i in range(12))  # 0.75 … 0.97
SEED = 42


@dataclass(frozen=True)
class Workload:
    """The inputs of a plan (hashable, so a plan is cached by what it depends on)."""

    parameters: tuple[float, ...]
    days: int  # days to simulate: to the interview, or 30
    new_cards: int  # questions not yet studied
    new_per_day: int  # the pace that covers them in time
    review_seconds: float  # mean seconds per review of a studied card
    learn_seconds: float  # mean seconds for a first showing
    studied: tuple[tuple[float, float, int], ...]  # (stability, difficulty, days since last review)


@dataclass(frozen=True)
class Point:
    """What one desired retention costs and yields."""

    retention: float
    reviews_per_day: float
    minutes_per_day: float
    known: float  # questions expected to be remembered on the last day


def new_card_config(work: Workload) -> rs.SimulatorConfig:
    """The fsrs-rs simulator set up for this user's unseen questions, pace and seconds per card."""
    config = rs.default_simulator_config()
    config.deck_size = work.new_cards
    config.learn_span = work.days
    config.learn_limit = work.new_per_day
    config.review_limit = 1_000_000
    config.max_cost_perday = 1e9
    learn, review = work.learn_seconds, work.review_seconds
    config.state_rating_costs = [[learn] * 4, [review] * 4, [review] * 4]
    return config


def simulate_new(work: Workload, retention: float) -> tuple[list[int], list[float], float]:
    """(reviews per day, seconds per day, known on the last day) for the unseen questions."""
    if work.new_cards == 0:
        return [0] * work.days, [0.0] * work.days, 0.0
    result = rs.simulate(list(work.parameters), retention, new_card_config(work), SEED)
    reviews = [r + n for r, n in zip(result.review_cnt_per_day, result.learn_cnt_per_day, strict=True)]
    return reviews, list(result.cost_per_day), float(result.memorized_cnt_per_day[-1])


def simulate_studied(work: Workload, retention: float) -> tuple[list[int], list[float], float]:
    """(reviews per day, seconds per day, known on the last day) for the questions already studied."""
    w = list(work.parameters)
    decay = -w[20]
    factor = 0.9 ** (1 / decay) - 1
    model = rs.FSRS(w)
    rng = random.Random(SEED)
    reviews, seconds, known = [0] * work.days, [0.0] * work.days, 0.0

    def interval(stability: float) -> int:
        return max(1, round(stability / factor * (retention ** (1 / decay) - 1)))

    for stability, difficulty, elapsed in work.studied:
        memory = rs.MemoryState(stability, difficulty)
        last = -elapsed
        due = max(0, last + interval(stability))
        while due < work.days:
            gap = due - last
            recall = (1 + factor * gap / memory.stability) ** decay
            states = model.next_states(memory, retention, gap)
            memory = (states.good if rng.random() < recall else states.again).memory
            reviews[due] += 1
            seconds[due] += work.review_seconds
            last, due = due, due + interval(memory.stability)
        known += (1 + factor * (work.days - last) / memory.stability) ** decay
    return reviews, seconds, known


@lru_cache(maxsize=256)
def plan(work: Workload) -> tuple[Point, ...]:
    """One point per desired retention in RETENTIONS (cached: the same inputs give the same plan)."""
    points = []
    for retention in RETENTIONS:
        new_reviews, new_seconds, new_known = simulate_new(work, retention)
        old_reviews, old_seconds, old_known = simulate_studied(work, retention)
        days = max(1, work.days)
        points.append(
            Point(
                retention=retention,
                reviews_per_day=(sum(new_reviews) + sum(old_reviews)) / days,
                minutes_per_day=(sum(new_seconds) + sum(old_seconds)) / 60 / days,
                known=new_known + old_known,
            )
        )
    return tuple(points)


def pace(new_cards: int, days: int) -> int:
    """New questions a day that cover `new_cards` in `days`."""
    return math.ceil(new_cards / max(1, days)) if new_cards else 0
