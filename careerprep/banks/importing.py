"""The one import path: banks are compared with the database, written, audited and committed in one
write transaction, or nothing is written. The admin import, `flask import-questions` and `flask seed`
all go through `apply_banks`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Question, QuestionSet, Role, question_uid, utc_now, write_transaction
from .diff import BankDiff, diff_bank, positions, record_import
from .errors import BankError
from .formats import format_for, load
from .kinds import columns
from .merging import merge_retired, read_merges
from .rules import QUESTION_COPY

BANK_DIR = Path(__file__).resolve().parent
CHANGED_MEANWHILE = "the question bank changed while importing; nothing was written. Preview the file again."


@dataclass
class ImportSummary:
    roles: int = 0
    sets_created: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return (
            f"{self.created} questions added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.sets_created} new sets"
        )


def import_bank(
    bank: dict,
    session: Session | None = None,
    summary: ImportSummary | None = None,
    progress: Callable[[int], object] | None = None,
) -> ImportSummary:
    """Upsert a validated bank by slug and key, keeping question ids (and so everyone's progress).

    Adds and flushes; the caller commits (apply_banks, in one transaction with the comparison and
    the audit row). `progress(n)` is told as each set's n questions are written.
    """
    session = session or db.session
    summary = summary or ImportSummary()
    role_data = bank["role"]
    role = session.scalar(db.select(Role).filter_by(slug=role_data["slug"]))
    if role is None:
        role = Role(slug=role_data["slug"], title=role_data["title"], summary=role_data["summary"])
        session.add(role)
        session.flush()
        summary.roles += 1
    else:
        role.title = role_data["title"]
        if role_data["summary"]:
            role.summary = role_data["summary"]
    existing_sets = {s.slug: s for s in session.scalars(db.select(QuestionSet).filter_by(role_id=role.id))}
    for set_data in bank["sets"]:
        qset = existing_sets.get(set_data["slug"])
        if qset is None:
            qset = QuestionSet(role_id=role.id, slug=set_data["slug"], published=set_data["published"])
            session.add(qset)
            summary.sets_created += 1
        qset.title = set_data["title"]
        qset.description = set_data["description"]
        session.flush()
        existing = {q.key: q for q in session.scalars(db.select(Question).filter_by(set_id=qset.id))}
        moved = _adopt_by_id(session, role, qset, set_data["questions"], existing)
        if progress is not None:
            progress(len(set_data["questions"]))
        listed = [q["key"] for q in set_data["questions"]]
        place = positions(listed, existing)
        for key in existing.keys() - set(listed):  # the questions the file left out keep their place
            existing[key].position = place[key]
        for qdata in set_data["questions"]:
            qdata = {**qdata, **columns(qdata), "position": place[qdata["key"]]}
            question = existing.get(qdata["key"])
            if question is None:
                uid = qdata.get("id") or new_uid(session, role.slug, qset.slug, qdata["key"])
                session.add(
                    Question(
                        set_id=qset.id, key=qdata["key"], uid=uid, **{f: qdata[f] for f in QUESTION_COPY}
                    )
                )
                summary.created += 1
            elif question.id in moved or any(getattr(question, f) != qdata[f] for f in QUESTION_COPY):
                if any(getattr(question, f) != qdata[f] for f in QUESTION_COPY if f != "position"):
                    question.updated_at = utc_now()  # content changed: Anki updates this note
                for f in QUESTION_COPY:
                    setattr(question, f, qdata[f])
                summary.updated += 1
            else:
                summary.unchanged += 1
    session.flush()
    return summary


def new_uid(session: Session, role_slug: str, set_slug: str, key: str) -> str:
    """The permanent id of a new question: derived from its place, unless a renamed question kept it."""
    uid = question_uid(role_slug, set_slug, key)
    if session.scalar(db.select(Question.id).filter_by(uid=uid)) is None:
        return uid
    return uuid.uuid4().hex


def _adopt_by_id(
    session: Session, role: Role, qset: QuestionSet, questions: list[dict], existing: dict[str, Question]
) -> set[int]:
    """Match the file's questions that carry an `id` to the stored question with that permanent id,
    wherever the role keeps it: a renamed key or a move between sets updates it, never adds another.

    `existing` (key -> question of this set) is rewritten to hold them under the file's keys; returns
    the ids of the questions renamed or moved.
    """
    uids = [q["id"] for q in questions if q.get("id")]
    if not uids:
        return set()
    stored = {q.uid: q for q in session.scalars(db.select(Question).where(Question.uid.in_(uids)))}
    moved = set()
    for qdata in questions:
        question = stored.get(qdata.get("id") or "")
        if question is None or question.question_set.role_id != role.id:
            continue  # an id of another role's question is a new question here
        if existing.get(qdata["key"]) is question:
            continue
        if question.set_id == qset.id:
            existing.pop(question.key, None)
        question.set_id, question.key = qset.id, qdata["key"]
        question.updated_at = utc_now()
        existing[qdata["key"]] = question
        moved.add(question.id)
    session.flush()
    return moved


def bundled_files(directory: Path = BANK_DIR) -> list[Path]:
    """The bundled bank files, in a stable order."""
    return sorted(directory.glob("*.yaml"))


@dataclass
class Applied:
    """What importing one bank changed (the comparison made before writing) and the write's tally."""

    changes: BankDiff
    summary: ImportSummary


def apply_banks(
    banks: list[tuple[dict, str]], *, audit: bool = True, progress: Callable[[int], object] | None = None
) -> list[Applied]:
    """Import validated banks (bank, file name) in ONE write transaction: compare, write, audit, commit.

    Parsing and validating happen before (formats.load): only this holds the write lock. A
    concurrent change to the same rows (a unique key) rolls everything back with a BankError.
    """
    applied = []
    with write_transaction():
        try:
            for bank, filename in banks:
                changes = diff_bank(bank)
                summary = import_bank(bank, progress=progress)
                if audit and changes.has_changes:
                    record_import(changes, filename, format_for(filename))
                applied.append(Applied(changes, summary))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise BankError([CHANGED_MEANWHILE]) from None
        except BaseException:
            db.session.rollback()
            raise
    from ..practice.feedback import forget_role_language  # here: banks must not import the drill at load

    forget_role_language()  # this worker reads the new vocabulary at once; others within minutes
    return applied


def seed(directory: Path = BANK_DIR) -> ImportSummary:
    """Load every bank file in `directory` in one transaction; nothing is written if any is invalid."""
    banks, errors = [], []
    for path in bundled_files(directory):
        try:
            banks.append((load(path.read_bytes(), path.name), path.name))
        except BankError as exc:
            errors.extend(e if e.startswith(path.name) else f"{path.name}: {e}" for e in exc.errors)
    if errors:
        raise BankError(errors)
    total = ImportSummary()
    for result in apply_banks(banks, audit=False):
        for name in ("roles", "sets_created", "created", "updated", "unchanged"):
            setattr(total, name, getattr(total, name) + getattr(result.summary, name))
    merge_retired(read_merges(directory))
    return total
