"""Personal FSRS parameters from a review log: the Rust optimizer (fsrs-rs-python), judged honestly.

A log is a list of `Entry` (card, rating, local day). The latest share of reviews is held out: the
optimizer sees only the reviews before them, and the old and the new parameters are both scored
(log loss, RMSE) on predicting the held-out ones. The caller keeps the new parameters only if both
figures are better.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from importlib.metadata import version
from itertools import groupby

import fsrs_rs_python as rs

HOLDOUT_SHARE = 0.2  # the latest fifth of the reviews judges the fit
FSRS_VERSION = f"FSRS-6 (fsrs-rs-python {version('fsrs-rs-python')})"


@dataclass(frozen=True)
class Entry:
    """One review as the optimizer sees it: which card, the rating (1-4), the local day number."""

    card: Hashable
    rating: int
    day: int


@dataclass(frozen=True)
class Fit:
    """What a fit produced: the new parameters and how both parameter sets predict held-out reviews."""

    parameters: tuple[float, ...]
    reviews: int
    held_out: int
    log_loss_old: float
    log_loss_new: float
    rmse_old: float
    rmse_new: float

    @property
    def better(self) -> bool:
        """True when the new parameters predict the held-out reviews better on both figures."""
        return self.log_loss_new < self.log_loss_old and self.rmse_new < self.rmse_old

    @property
    def improvement(self) -> float:
        """How much smaller the prediction error (RMSE) is, as a share of the old one."""
        return (self.rmse_old - self.rmse_new) / self.rmse_old if self.rmse_old else 0.0


class NotEnoughReviews(Exception):
    """The log cannot support a fit (too few reviews, or none past the first day of any card)."""


def _items(entries: list[Entry], split: int | None, held_out: bool) -> list[rs.FSRSItem]:
    """One FSRSItem per review after a card's first: its history up to and including that review.

    With `split`, only items whose last review is at or after it (held out) or before it (training).
    """
    items = []
    for _card, group in groupby(entries, key=lambda e: e.card):
        history: list[rs.FSRSReview] = []
        last_day = None
        for entry in group:
            delta = 0 if last_day is None else entry.day - last_day
            history.append(rs.FSRSReview(entry.rating, delta))
            last_day = entry.day
            if len(history) < 2:
                continue
            if split is not None and (entry.day >= split) != held_out:
                continue
            item = rs.FSRSItem(list(history))
            if item.long_term_review_cnt() > 0:
                items.append(item)
    return items


def evaluate(parameters: Iterable[float], items: list[rs.FSRSItem]) -> tuple[float, float]:
    """(log loss, RMSE over bins) of parameters predicting the last review of each item."""
    result = rs.FSRS(list(parameters)).evaluate(items)
    return float(result.log_loss), float(result.rmse_bins)


def split_day(entries: list[Entry]) -> int:
    """The first local day of the held-out reviews: the latest HOLDOUT_SHARE of the log."""
    days = sorted(e.day for e in entries)
    return days[min(len(days) - 1, int(len(days) * (1 - HOLDOUT_SHARE)))]


def fit(entries: Iterable[Entry], old: Iterable[float] | None) -> Fit:
    """Fit parameters on all but the latest reviews and score them and `old` on those latest ones."""
    # Stable sort: a card's reviews on one day keep the order they came in (chronological).
    ordered = sorted(entries, key=lambda e: (str(e.card), e.day))
    if not ordered:
        raise NotEnoughReviews
    split = split_day(ordered)
    train, test = _items(ordered, split, False), _items(ordered, split, True)
    if not train or not test:
        raise NotEnoughReviews
    try:
        new = rs.FSRS(list(rs.DEFAULT_PARAMETERS)).compute_parameters(train)
    except (ValueError, RuntimeError) as exc:  # the optimizer refuses data it cannot fit
        raise NotEnoughReviews from exc
    old_params = list(old) if old is not None else list(rs.DEFAULT_PARAMETERS)
    loss_old, rmse_old = evaluate(old_params, test)
    loss_new, rmse_new = evaluate(new, test)
    return Fit(
        parameters=tuple(round(float(w), 6) for w in new),
        reviews=len(ordered),
        held_out=sum(1 for e in ordered if e.day >= split),
        log_loss_old=loss_old,
        log_loss_new=loss_new,
        rmse_old=rmse_old,
        rmse_new=rmse_new,
    )


def synthetic_log(
    n_reviews: int, parameters: Iterable[float], seed: int = 1, reviews_per_card: int = 8, days: int = 120
) -> list[Entry]:
    """A learner whose memory follows `parameters`: reviews at about the scheduled intervals (often late
    or early), recalled with FSRS's predicted probability. For tests and bench/fit.py."""
    rng = random.Random(seed)
    model = rs.FSRS(list(parameters))
    w = list(parameters)
    decay = -w[20]
    factor = 0.9 ** (1 / decay) - 1
    entries: list[Entry] = []
    cards = max(1, math.ceil(n_reviews / reviews_per_card))
    for card in range(cards):
        day = rng.randrange(days)
        rating = rng.choices((1, 2, 3, 4), (0.2, 0.1, 0.5, 0.2))[0]
        memory = getattr(
            model.next_states(None, 0.9, 0), ("again", "hard", "good", "easy")[rating - 1]
        ).memory
        entries.append(Entry(card, rating, day))
        for _review in range(reviews_per_card - 1):
            if len(entries) >= n_reviews:
                break
            interval = model.next_interval(memory.stability, 0.9, 3)
            elapsed = max(1, round(interval * rng.uniform(0.5, 2.5)))
            day += elapsed
            recall = (1 + factor * elapsed / memory.stability) ** decay
            rating = 1 if rng.random() > recall else rng.choices((2, 3, 4), (0.15, 0.7, 0.15))[0]
            states = model.next_states(memory, 0.9, elapsed)
            memory = getattr(states, ("again", "hard", "good", "easy")[rating - 1]).memory
            entries.append(Entry(card, rating, day))
        if len(entries) >= n_reviews:
            break
    return entries
