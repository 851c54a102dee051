"""How well a learner's own ticks agree with the key-point detector, over time, for one role.

Each review made after typing a draft stores the points the detector found (`Review.detected`) beside
the ones the learner confirmed (`Review.covered`). Agreement is counted per key point: both ticked or
both left. A point ticked but not found is an over-tick ("you often tick *fsync the directory* without
mentioning it"): the detector can miss a paraphrase, but a point ticked again and again without being
written is worth a look.

The comparison is of two JSON lists per review, which neither SQLite nor PostgreSQL compares portably
in SQL, so it is done here over the role's most recent CALIBRATION_REVIEWS reviews (one query, bounded).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..extensions import db
from ..models import Question, QuestionSet, Review, Role, User, as_utc

CALIBRATION_REVIEWS = 1000  # the most recent reviews with both sets that the page reads
OFTEN = 2  # an over-tick shown once it happened at least this many times
SHOWN = 3  # at most this many over-ticked points listed


@dataclass
class Period:
    """One month: how many reviews compared and the share of key points where ticks and detector agreed."""

    label: str
    reviews: int
    agreed: int
    points: int

    @property
    def agreement(self) -> int:
        """Agreement in whole percent."""
        return round(100 * self.agreed / self.points) if self.points else 0


@dataclass
class OverTick:
    """A key point the learner ticked, several times, without the detector finding it in the draft."""

    point: str
    times: int
    question_id: int


@dataclass
class Calibration:
    periods: list[Period] = field(default_factory=list)
    over_ticks: list[OverTick] = field(default_factory=list)
    under_ticks: int = 0  # points found in the draft that the learner unticked

    @property
    def reviews(self) -> int:
        return sum(p.reviews for p in self.periods)


def calibration(user: User, role: Role) -> Calibration:
    """The user's ticks against the detector in this role, by month, and the points most over-ticked."""
    rows = db.session.execute(
        db.select(Review.reviewed_at, Review.question_id, Review.detected, Review.covered)
        .add_columns(Question.key_points)
        .join(Question, Review.question_id == Question.id)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(
            Review.user_id == user.id,
            QuestionSet.role_id == role.id,
            Review.detected.is_not(None),
        )
        .order_by(Review.reviewed_at.desc())
        .limit(CALIBRATION_REVIEWS)
    ).all()
    periods: dict[str, Period] = {}
    over: Counter[tuple[int, int]] = Counter()
    texts: dict[tuple[int, int], str] = {}
    result = Calibration()
    for reviewed_at, question_id, detected, covered, points in reversed(rows):
        if covered is None:  # rated without the checklist (stored as JSON null, so filtered here)
            continue
        found, ticked = set(detected or []), set(covered or [])
        label = user.local_today(as_utc(reviewed_at)).strftime("%B %Y")  # the month in the user's zone
        period = periods.setdefault(label, Period(label, 0, 0, 0))
        period.reviews += 1
        for index, text in enumerate(points or []):
            period.points += 1
            period.agreed += (index in found) == (index in ticked)
            if index in ticked and index not in found:
                over[(question_id, index)] += 1
                texts[(question_id, index)] = text
            elif index in found and index not in ticked:
                result.under_ticks += 1
    result.periods = list(periods.values())
    result.over_ticks = [
        OverTick(texts[key], times, key[0]) for key, times in over.most_common(SHOWN) if times >= OFTEN
    ]
    return result
