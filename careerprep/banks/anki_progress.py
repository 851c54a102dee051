"""A learner's progress in an Anki deck: their FSRS card states into `cards`, their reviews into `revlog`.

Anki's scheduling columns (schema 11, which genanki writes and every Anki imports):
- `type`/`queue`: 0 new, 1 learning, 2 review, 3 relearning (queue -1: suspended).
- `due`: for a review card, a day number counted from the collection's creation day (`col.crt`);
  for a (re)learning card, a Unix time in seconds. Anki's importer shifts review days by the
  difference between the two collections' "today", so the absolute date survives the move.
- `ivl` in days, `factor` in permille (Anki's SM-2 ease; FSRS ignores it but it must be sane),
  `data` holds FSRS's memory state as JSON {"s": stability, "d": difficulty, "dr": desired retention}.
- `revlog`: one row per review, id = its time in ms; `ease` 1-4 is the rating; `ivl` in days, or
  negative seconds while learning; `type` 0 learn, 1 review, 2 relearn (the state BEFORE the rating).
"""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import CardFlag, CardState, Question, Review, User

DAY = 86_400
FACTOR = 2500  # SM-2's starting ease: what Anki gives a card whose scheduler is FSRS
REVLOG_TYPE = {0: 0, 1: 0, 2: 1, 3: 2}  # CareerPrep's state before a review -> Anki's revlog type
MAX_ANSWER_MS = 60_000  # Anki caps a review's time at its "maximum answer seconds" (60 by default)


def _days(seconds: float) -> int:
    """Whole days in an interval, at least one (Anki's review cards never have a zero interval)."""
    return max(1, round(seconds / DAY))


def _card_row(card: CardState, suspended: bool, crt: int, retention: float) -> dict:
    """Anki's scheduling columns for one card state."""
    due = card.due.timestamp()
    last = (card.last_review or card.introduced_at).timestamp()
    ivl = _days(due - last)
    if card.state == 2:
        kind, anki_due = 2, math.floor((due - crt) / DAY)
    else:  # learning (1) or relearning (3): due is a time, and one step is left
        kind, anki_due = card.state, int(due)
    memory = {}
    if card.stability is not None and card.difficulty is not None:
        memory = {"s": round(card.stability, 4), "d": round(card.difficulty, 4), "dr": retention}
    return {
        "type": kind,
        "queue": -1 if suspended else kind,
        "due": anki_due,
        "ivl": ivl if kind != 1 else 0,
        "factor": FACTOR,
        "reps": card.reps,
        "lapses": card.lapses,
        "left": 0 if kind == 2 else 1001,
        "data": json.dumps(memory) if memory else "",
    }


def write(conn: sqlite3.Connection, user: User, by_guid: dict[str, Question], now: datetime) -> None:
    """Put `user`'s card states and review log for these questions into the collection's tables."""
    card_ids = dict(conn.execute("SELECT notes.guid, cards.id FROM cards JOIN notes ON notes.id = cards.nid"))
    card_of = {q.id: card_ids[guid] for guid, q in by_guid.items() if guid in card_ids}
    if not card_of:
        return
    (crt,) = conn.execute("SELECT crt FROM col").fetchone()
    mod = int(now.timestamp())
    states = db.session.execute(
        select(CardState, CardFlag.suspended)
        .outerjoin(CardFlag, (CardFlag.user_id == user.id) & (CardFlag.question_id == CardState.question_id))
        .where(CardState.user_id == user.id, CardState.question_id.in_(card_of))
    )
    for card, suspended in states:
        row = _card_row(card, bool(suspended), crt, user.desired_retention)
        conn.execute(
            "UPDATE cards SET type = :type, queue = :queue, due = :due, ivl = :ivl, factor = :factor, "
            "reps = :reps, lapses = :lapses, left = :left, data = :data, mod = :mod WHERE id = :id",
            {**row, "mod": mod, "id": card_of[card.question_id]},
        )
    _revlog(conn, user, card_of)


def _revlog(conn: sqlite3.Connection, user: User, card_of: dict[int, int]) -> None:
    """One revlog row per review, oldest first; ids are unique milliseconds, as Anki requires."""
    reviews = db.session.scalars(
        select(Review)
        .where(Review.user_id == user.id, Review.question_id.in_(card_of))
        .order_by(Review.reviewed_at, Review.id)
    )
    last_ivl: dict[int, int] = {}
    used: set[int] = set()
    rows = []
    for review in reviews:
        rid = int(review.reviewed_at.timestamp() * 1000)
        while rid in used:
            rid += 1
        used.add(rid)
        ivl = _days(review.interval_seconds) if review.state == 2 else -max(1, review.interval_seconds)
        rows.append(
            (
                rid,
                card_of[review.question_id],
                -1,
                review.rating,
                ivl,
                last_ivl.get(review.question_id, 0),
                FACTOR,
                min(review.duration_ms, MAX_ANSWER_MS),
                REVLOG_TYPE.get(review.prev_state, 0),
            )
        )
        last_ivl[review.question_id] = ivl
    conn.executemany("INSERT INTO revlog VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
