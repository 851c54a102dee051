"""Synthetic review logs for the scheduler tests: a learner whose memory follows given FSRS parameters."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from careerprep.extensions import db
from careerprep.models import Question, QuestionSet, Review, Role
from careerprep.reviews import verify
from careerprep.scheduling import DEFAULT_PARAMETERS
from careerprep.scheduling.fitting import synthetic_log

# A learner who forgets faster than FSRS's defaults assume: a fit should find it.
FORGETFUL = list(DEFAULT_PARAMETERS)
FORGETFUL[0:4] = [0.05, 0.3, 0.8, 2.0]
FORGETFUL[8] = 1.2
FORGETFUL[20] = 0.4

_tokens = itertools.count(1)


def insert_log(app, user_id: int, n_reviews: int, role_slug: str = "test-role", seed: int = 1) -> None:
    """n synthetic reviews of the role's questions (8 per card), ending yesterday; card states rebuilt."""
    entries = synthetic_log(n_reviews, FORGETFUL, seed=seed, days=60)
    last = max(e.day for e in entries)
    start = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=last + 1)
    with app.app_context():
        qids = db.session.scalars(
            db.select(Question.id)
            .join(QuestionSet)
            .join(Role)
            .where(Role.slug == role_slug)
            .order_by(Question.id)
        ).all()
        rows = []
        for i, e in enumerate(entries):
            at = start + timedelta(days=e.day, seconds=i)
            rows.append(
                {
                    "user_id": user_id,
                    "question_id": qids[e.card],
                    "token": f"syn{next(_tokens)}",
                    "rating": e.rating,
                    "reviewed_at": at,
                    "duration_ms": 30_000,
                    "state": 2,
                    "step": None,
                    "stability": 1.0,
                    "difficulty": 5.0,
                    "due": at + timedelta(days=1),
                    "interval_seconds": 86400,
                    "prev_state": 2,
                    "mode": "due",
                }
            )
        db.session.execute(db.insert(Review), rows)
        db.session.commit()
        verify(rebuild=True)
