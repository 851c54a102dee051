"""Retired cards keep their learners' progress: when a content review merges a card into another, the
bank directory's merges file maps the deleted key to the one that absorbed it (per role), and every
seed moves what learners did on the old card to the survivor, then archives the old card.

The review log is the source of truth: reviews are moved, never deleted. A learner with a card state on
both cards keeps the survivor's, rebuilt from the merged log (reviews.rebuild_card). Flags move where
the (user, question) unique constraint allows; reports and mock items always move. Running it again
changes nothing.

The file is `merges.yml`, not `.yaml`: bundled_files() reads every `*.yaml` beside it as a bank.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import update

from ..extensions import db
from ..models import (
    CardFlag,
    CardState,
    MockItem,
    Question,
    QuestionSet,
    Report,
    Review,
    Role,
    write_transaction,
)
from ..reviews import rebuild_card
from .errors import BankError

MERGES_FILE = "merges.yml"


def read_merges(directory: Path) -> dict[str, dict[str, str]]:
    """The merges file of a bank directory ({} when there is none): role slug → {old key: survivor key}."""
    path = directory / MERGES_FILE
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems = []
    if not isinstance(data, dict):
        raise BankError([f"{MERGES_FILE}: must map role slugs to {{old key: surviving key}}"])
    for role, pairs in data.items():
        if not isinstance(role, str) or not isinstance(pairs, dict):
            problems.append(f"{MERGES_FILE}: {role!r} must map old keys to surviving keys")
            continue
        for old, survivor in pairs.items():
            if not isinstance(old, str) or not isinstance(survivor, str) or old == survivor:
                problems.append(f"{MERGES_FILE}: {role}.{old}: must name a different surviving key")
    if problems:
        raise BankError(problems)
    return data


def merge_retired(merges: dict) -> int:
    """Move learners' progress from each retired card to its survivor and archive the retired card.

    Only pairs whose two questions both exist in that role are merged; a chain (a → b, b → c) ends at
    its last survivor. Runs and commits in its own write transaction (apply_banks has committed the
    banks by then). Returns how many retired cards this call changed: 0 when run again.
    """
    with write_transaction():
        try:
            changed = 0
            for role_slug, pairs in merges.items():
                for old_key, survivor_key in _final_survivors(role_slug, pairs).items():
                    changed += _merge(role_slug, old_key, survivor_key)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    return changed


def _final_survivors(role_slug: str, pairs: dict[str, str]) -> dict[str, str]:
    """Each retired key with the card that finally absorbed it (following chains; a cycle is an error)."""
    final = {}
    for old in pairs:
        seen, key = {old}, pairs[old]
        while key in pairs:
            if key in seen:
                raise BankError([f"{MERGES_FILE}: {role_slug}: the merges of {old!r} form a cycle"])
            seen.add(key)
            key = pairs[key]
        final[old] = key
    return final


def _question_id(role_slug: str, key: str) -> int | None:
    """The question with this key in this role, or None when there is none (or, ambiguously, several)."""
    ids = db.session.scalars(
        db.select(Question.id)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .join(Role, QuestionSet.role_id == Role.id)
        .where(Role.slug == role_slug, Question.key == key)
    ).all()
    return ids[0] if len(ids) == 1 else None


def _users(model, question_id: int) -> set[int]:
    """The users with a row of `model` on a question."""
    return set(db.session.scalars(db.select(model.user_id).where(model.question_id == question_id)))


def _merge(role_slug: str, old_key: str, survivor_key: str) -> int:
    """Merge one retired card into its survivor; 1 when anything changed, else 0."""
    old_id, new_id = _question_id(role_slug, old_key), _question_id(role_slug, survivor_key)
    if old_id is None or new_id is None:
        return 0
    reviewed_old, reviewed_new = _users(Review, old_id), _users(Review, new_id)
    old_states = {
        s.user_id: s for s in db.session.scalars(db.select(CardState).filter_by(question_id=old_id))
    }
    new_states = _users(CardState, new_id)
    flagged_new = _users(CardFlag, new_id)
    moved = 0

    # The log first: every review of the old card now belongs to the survivor.
    moved += _move(Review, old_id, new_id)
    # Card states: a learner without one on the survivor takes the old one as it is; a learner with
    # both keeps the survivor's, rebuilt below from the merged log.
    rebuild = set()
    for user_id, state in old_states.items():
        if user_id in new_states:
            db.session.delete(state)
            rebuild.add(user_id)
        else:
            state.question_id = new_id
            if user_id in reviewed_new:  # the moved state never saw the survivor's reviews
                rebuild.add(user_id)
        moved += 1
    # Reviews moved without a card state behind them (a drifted log): the replay restores one.
    rebuild |= reviewed_old - old_states.keys()
    # Flags move unless the learner already has one on the survivor (one per user and question).
    moved += _move(CardFlag, old_id, new_id, CardFlag.user_id.not_in(flagged_new) if flagged_new else None)
    moved += _move(Report, old_id, new_id)
    moved += _move(MockItem, old_id, new_id)  # unique per (mock, position): the question may change
    db.session.flush()
    for user_id in sorted(rebuild):
        rebuild_card(user_id, new_id)

    question = db.session.get(Question, old_id)
    if not question.archived:
        question.archived = True
        moved += 1
    db.session.flush()
    return 1 if moved else 0


def _move(model, old_id: int, new_id: int, condition=None) -> int:
    """Point the old question's rows of `model` (those matching `condition`) at the survivor."""
    stmt = update(model).where(model.question_id == old_id).values(question_id=new_id)
    if condition is not None:
        stmt = stmt.where(condition)
    return db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0
