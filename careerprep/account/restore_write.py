"""The account import's writes: a checked plan (account/restore.py) into one account, in ONE write
transaction, skipping what is already here so the same file twice changes nothing.

Kept audio goes where the recordings service keeps it (recordings.service.audio_dir(), named after the
recording's job id, `u<user id>-…`, so deleting the account finds it), written only once every row is
in the session, and removed again if the transaction does not commit.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import (
    CardFlag,
    CardState,
    MockInterview,
    MockItem,
    Recording,
    Report,
    Review,
    RolePlan,
    User,
    as_utc,
    write_transaction,
)
from ..recordings.service import audio_dir
from .restore_check import RestoreSummary


def _token(user_id: int, review: dict) -> str:
    """A review's one-time token, derived, so the same review imported twice meets itself."""
    seed = f"{user_id}|{review['question_id']}|{review['reviewed_at'].isoformat()}|{review['rating']}"
    return "import-" + hashlib.sha256(seed.encode()).hexdigest()[:48]


def restore(user: User, plan: dict) -> RestoreSummary:
    """Write a checked plan into `user`'s account in one write transaction (or write nothing)."""
    summary = RestoreSummary()
    written: list[Path] = []
    with write_transaction():
        try:
            user = db.session.get(User, user.id)
            for name, value in plan["settings"].items():
                setattr(user, name, value)
            _write_plans(user.id, plan["plans"], summary)
            _write_cards(user.id, plan["cards"], summary)
            review_ids = _write_reviews(user.id, plan["reviews"], summary)
            _write_mocks(user.id, plan["mocks"], review_ids, summary)
            _write_reports(user.id, plan["reports"], summary)
            audio = _write_recordings(user.id, plan["recordings"], summary)
            db.session.flush()  # every row is accepted before a file is written
            for name, data in audio:
                written.append(_save_audio(name, data))
            db.session.commit()
        except BaseException:
            db.session.rollback()
            for path in written:
                path.unlink(missing_ok=True)
            raise
    return summary


def _count(summary: RestoreSummary, name: str, added: bool) -> None:
    target = summary.added if added else summary.skipped
    target[name] = target.get(name, 0) + 1


def _write_plans(user_id: int, plans: list[dict], summary: RestoreSummary) -> None:
    stored = {p.role_id: p for p in db.session.scalars(select(RolePlan).filter_by(user_id=user_id))}
    for row in plans:
        existing = stored.get(row["role_id"])
        if existing is None:
            db.session.add(RolePlan(user_id=user_id, **row))
        elif existing.interview_date != row["interview_date"]:
            existing.interview_date = row["interview_date"]
        _count(summary, "interview_dates", existing is None)


def _write_cards(user_id: int, cards: list[dict], summary: RestoreSummary) -> None:
    states = {c.question_id: c for c in db.session.scalars(select(CardState).filter_by(user_id=user_id))}
    flags = {f.question_id: f for f in db.session.scalars(select(CardFlag).filter_by(user_id=user_id))}
    for card in cards:
        qid = card["question_id"]
        if card["state"] is not None:
            state = states.get(qid)
            if state is None:
                db.session.add(CardState(user_id=user_id, question_id=qid, **card["state"]))
            elif (state.last_review or state.introduced_at) <= (
                card["state"]["last_review"] or card["state"]["introduced_at"]
            ):  # a card studied here since the export keeps its newer state
                for name, value in card["state"].items():
                    if getattr(state, name) != value:
                        setattr(state, name, value)
            _count(summary, "cards", state is None)
        if card["flag"] is not None:
            flag = flags.get(qid)
            if flag is None:
                db.session.add(CardFlag(user_id=user_id, question_id=qid, **card["flag"]))
            else:
                for name, value in card["flag"].items():
                    if getattr(flag, name) != value:
                        setattr(flag, name, value)


def _write_reviews(user_id: int, reviews: list[dict], summary: RestoreSummary) -> dict[Any, int]:
    """Add the reviews not already here; returns {export's review id: local review id}."""
    here = {
        (qid, as_utc(at)): rid
        for rid, qid, at in db.session.execute(
            select(Review.id, Review.question_id, Review.reviewed_at).filter_by(user_id=user_id)
        )
    }
    ids: dict[Any, int] = {}
    for review in reviews:
        export_id = review["export_id"]
        row = {k: v for k, v in review.items() if k != "export_id"}
        local = here.get((row["question_id"], row["reviewed_at"]))
        _count(summary, "reviews", local is None)
        if local is None:
            review_row = Review(user_id=user_id, token=_token(user_id, row), **row)
            db.session.add(review_row)
            db.session.flush()  # its id, for the mock item that made it
            local = here[(row["question_id"], row["reviewed_at"])] = review_row.id
        ids[export_id] = local
    return ids


def _write_mocks(user_id: int, mocks: list[dict], review_ids: dict, summary: RestoreSummary) -> None:
    here = set(
        db.session.execute(select(MockInterview.role_id, MockInterview.created_at).filter_by(user_id=user_id))
    )
    here = {(role, as_utc(at)) for role, at in here}
    for mock in mocks:
        if (mock["role_id"], mock["created_at"]) in here:
            _count(summary, "mock_interviews", False)
            continue
        items = mock.pop("items")
        interview = MockInterview(user_id=user_id, **mock)
        interview.items = [
            MockItem(
                **{k: v for k, v in item.items() if k != "export_review_id"},
                review_id=review_ids.get(item["export_review_id"]),
            )
            for item in items
        ]
        db.session.add(interview)
        _count(summary, "mock_interviews", True)


def _write_reports(user_id: int, reports: list[dict], summary: RestoreSummary) -> None:
    here = {
        (qid, as_utc(at))
        for qid, at in db.session.execute(
            select(Report.question_id, Report.created_at).filter_by(user_id=user_id)
        )
    }
    for report in reports:
        added = (report["question_id"], report["created_at"]) not in here
        if added:
            db.session.add(Report(user_id=user_id, **report))
        _count(summary, "reports", added)


def _job_id(user_id: int, recording: dict) -> str:
    """An imported recording's job id, derived, so the same recording imported twice meets itself."""
    seed = f"{user_id}|{recording['question_id']}|{recording['created_at'].isoformat()}"
    seed += f"|{recording['transcript']}"
    return f"u{user_id}-import-{hashlib.sha256(seed.encode()).hexdigest()[:40]}"


def _write_recordings(user_id: int, recordings: list[dict], summary: RestoreSummary) -> list[tuple]:
    """Add the recordings not already here; returns the kept audio to save, as (file name, bytes)."""
    db.session.flush()  # the mock interviews just added, for their ids
    mocks = {
        (role, as_utc(at)): mid
        for mid, role, at in db.session.execute(
            select(MockInterview.id, MockInterview.role_id, MockInterview.created_at).filter_by(
                user_id=user_id
            )
        )
    }
    here = set()
    jobs = set()
    for job_id, qid, at in db.session.execute(
        select(Recording.job_id, Recording.question_id, Recording.created_at).filter_by(user_id=user_id)
    ):
        jobs.add(job_id)
        here.add((qid, as_utc(at)))
    audio = []
    for row in recordings:
        job_id = _job_id(user_id, row)
        added = job_id not in jobs and (row["question_id"], row["created_at"]) not in here
        _count(summary, "recordings", added)
        if not added:
            continue
        name = f"{job_id}.audio" if row["audio"] is not None else None
        db.session.add(
            Recording(
                user_id=user_id,
                question_id=row["question_id"],
                mock_id=mocks[row["mock"]] if row["mock"] is not None else None,
                job_id=job_id,
                created_at=row["created_at"],
                transcript=row["transcript"],
                words=row["words"],
                duration=row["duration"],
                audio_file=name,
            )
        )
        jobs.add(job_id)
        here.add((row["question_id"], row["created_at"]))
        if name is not None:
            audio.append((name, row["audio"]))
    return audio


def _save_audio(name: str, data: bytes) -> Path:
    """Write one kept recording whole (a temporary name, then renamed) and return its path."""
    path = audio_dir() / name
    partial = path.with_name(f"{name}.part")
    with open(partial, "wb") as out:
        out.write(data)
    os.replace(partial, path)
    return path
