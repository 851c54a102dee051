"""Retired cards keep their learners' progress: merge_retired moves reviews, card states, flags,
reports and mock items from a merged-away card to its survivor, archives the old card, and does
nothing the second time (also through `seed`)."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from careerprep import scheduling
from careerprep.banks import BANK_DIR, BankError, bundled_files, load_file, seed
from careerprep.banks.merging import MERGES_FILE, merge_retired, read_merges
from careerprep.extensions import db
from careerprep.models import CardFlag, CardState, MockInterview, MockItem, Question, Report, Review, Role
from careerprep.reviews import FIELDS, verify
from tests.conftest import bank_dict, card_state, load_bank, make_user
from tests.helpers import T0, front, question_ids, rate, review_row

MERGES = {"test-role": {"q-1": "q-0"}}  # q-1 was merged into q-0
OLD_PROMPT = "Question number 1?"


def add_log(app, user_id: int, question_id: int, entries: list[tuple[int, timedelta]]) -> list[int]:
    """Reviews of one card at T0 + offset with the given ratings; returns their ids."""
    with app.app_context():
        rows = [
            review_row(user_id, question_id, T0 + offset, rating=rating, due=T0 + offset + timedelta(days=2))
            for rating, offset in entries
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def add_state(app, user_id: int, question_id: int, **fields) -> int:
    with app.app_context():
        state = card_state(user_id, question_id, **fields)
        db.session.add(state)
        db.session.commit()
        return state.id


def reviews_of(app, user_id: int) -> dict[int, int]:
    """Review id → question id, for one user."""
    with app.app_context():
        return dict(
            db.session.execute(db.select(Review.id, Review.question_id).filter_by(user_id=user_id)).all()
        )


def progress(app) -> tuple:
    """Every row a merge may touch, for comparing before and after."""
    with app.app_context():
        return tuple(
            tuple(db.session.execute(db.select(*columns).order_by(columns[0])).all())
            for columns in (
                (Review.id, Review.user_id, Review.question_id),
                (
                    CardState.id,
                    CardState.user_id,
                    CardState.question_id,
                    *(getattr(CardState, f) for f in FIELDS),
                ),
                (CardFlag.id, CardFlag.user_id, CardFlag.question_id, CardFlag.suspended, CardFlag.leech),
                (Report.id, Report.question_id),
                (MockItem.id, MockItem.question_id),
                (Question.id, Question.key, Question.archived),
            )
        )


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)
    return a == b


def test_both_cards_reviewed_keeps_every_review_and_replays_the_merged_log(app, bank):
    user = make_user(app)
    qids = question_ids(app)
    old, survivor = qids["q-1"], qids["q-0"]
    # Interleaved logs on the two cards, with a lapse on each.
    ids = add_log(app, user.id, old, [(3, timedelta(0)), (1, timedelta(days=2)), (3, timedelta(days=5))])
    ids += add_log(
        app, user.id, survivor, [(4, timedelta(hours=1)), (1, timedelta(days=3)), (2, timedelta(days=6))]
    )
    add_state(app, user.id, old, reps=3, lapses=1)
    survivor_state = add_state(app, user.id, survivor, reps=3, lapses=1, stability=9.0)
    with app.app_context():
        db.session.add_all(
            [
                CardFlag(user_id=user.id, question_id=old, suspended=True),
                CardFlag(user_id=user.id, question_id=survivor, suspended=False),
            ]
        )
        db.session.commit()

        assert merge_retired(MERGES) == 1

        # Every review is kept, now on the survivor.
        assert reviews_of(app, user.id) == dict.fromkeys(ids, survivor)
        # One card state, the survivor's own row, equal to a replay of the merged log.
        states = db.session.scalars(db.select(CardState).filter_by(user_id=user.id)).all()
        assert [(s.id, s.question_id) for s in states] == [(survivor_state, survivor)]
        log = db.session.execute(
            db.select(Review.rating, Review.reviewed_at, Review.due)
            .filter_by(user_id=user.id)
            .order_by(Review.reviewed_at, Review.id)
        ).all()
        expected = scheduling.replay(survivor, [tuple(row) for row in log])
        for name in FIELDS:
            assert same(getattr(states[0], name), getattr(expected, name)), name
        assert states[0].reps == 6  # one replay over all six reviews
        assert verify()[1] == []  # nothing in the database disagrees with its log
        # The user already had a flag on the survivor: it stays, and so does the old one.
        flags = db.session.execute(
            db.select(CardFlag.question_id, CardFlag.suspended).order_by(CardFlag.id)
        ).all()
        assert [tuple(f) for f in flags] == [(old, True), (survivor, False)]
        assert db.session.get(Question, old).archived


def test_progress_only_on_the_old_card_moves_to_the_survivor(app, bank):
    user = make_user(app)
    qids = question_ids(app)
    old, survivor = qids["q-1"], qids["q-0"]
    ids = add_log(app, user.id, old, [(3, timedelta(0)), (3, timedelta(days=3))])
    state_id = add_state(app, user.id, old, reps=2, stability=7.5)
    with app.app_context():
        role_id = db.session.scalar(db.select(Role.id))
        db.session.add_all(
            [
                CardFlag(user_id=user.id, question_id=old, leech=False, buried_until=T0 + timedelta(days=9)),
                Report(user_id=user.id, question_id=old, reason="unclear", comment="typo"),
                MockInterview(
                    user_id=user.id,
                    role_id=role_id,
                    created_at=T0,
                    seconds_per_question=120,
                    items=[MockItem(position=1, question_id=old), MockItem(position=2, question_id=survivor)],
                ),
            ]
        )
        db.session.commit()
        before = db.session.get(CardState, state_id)
        before = {name: getattr(before, name) for name in FIELDS}

        assert merge_retired(MERGES) == 1

        assert reviews_of(app, user.id) == dict.fromkeys(ids, survivor)
        state = db.session.get(CardState, state_id)  # the same row, moved as it was
        assert state.question_id == survivor
        assert {name: getattr(state, name) for name in FIELDS} == before
        assert db.session.scalars(db.select(CardFlag.question_id)).all() == [survivor]
        assert db.session.scalars(db.select(Report.question_id)).all() == [survivor]
        items = db.session.execute(
            db.select(MockItem.position, MockItem.question_id).order_by(MockItem.position)
        )
        assert [tuple(i) for i in items] == [(1, survivor), (2, survivor)]
        assert db.session.get(Question, old).archived
        assert not db.session.get(Question, survivor).archived


def test_seed_twice_is_a_no_op(app, tmp_path: Path):
    user, other = make_user(app), make_user(app)
    load_bank(app)
    qids = question_ids(app)
    add_log(app, user.id, qids["q-1"], [(3, timedelta(0)), (2, timedelta(days=1))])
    add_log(app, user.id, qids["q-0"], [(3, timedelta(hours=5))])
    add_state(app, user.id, qids["q-1"], reps=2)
    add_state(app, user.id, qids["q-0"], reps=1)
    add_log(app, other.id, qids["q-1"], [(4, timedelta(0))])
    add_state(app, other.id, qids["q-1"], reps=1)
    # The reviewed bank: q-1 is gone from the file, and the merges file says where it went.
    bank = bank_dict()
    bank["sets"][0]["questions"] = [q for q in bank["sets"][0]["questions"] if q["key"] != "q-1"]
    (tmp_path / "bank.yaml").write_text(yaml.safe_dump(bank))
    (tmp_path / MERGES_FILE).write_text(yaml.safe_dump(MERGES))
    with app.app_context():
        seed(tmp_path)
    merged = progress(app)
    assert reviews_of(app, user.id) and set(reviews_of(app, user.id).values()) == {qids["q-0"]}
    assert set(reviews_of(app, other.id).values()) == {qids["q-0"]}

    with app.app_context():
        summary = seed(tmp_path)
        assert (summary.created, summary.updated) == (0, 0)
        assert merge_retired(read_merges(tmp_path)) == 0
    assert progress(app) == merged


def test_old_card_no_longer_appears_in_the_drill(app, logged_in, bank, user):
    qids = question_ids(app)
    add_log(app, user.id, qids["q-1"], [(3, timedelta(0))])
    add_state(app, user.id, qids["q-1"], due=T0)  # long overdue: it would come first
    with app.app_context():
        assert merge_retired(MERGES) == 1
    shown = []
    for _ in range(10):
        html = front(logged_in)
        if "Done for now" in html:
            break
        shown.append(html)
        assert rate(logged_in, rating=4).status_code == 303
    assert "Question number 0?" in shown[0]  # the moved, overdue card comes first
    assert len(shown) == 4
    assert not [html for html in shown if OLD_PROMPT in html]


def test_chains_follow_to_the_last_survivor_and_strangers_are_skipped(app, bank):
    user = make_user(app)
    qids = question_ids(app)
    ids = add_log(app, user.id, qids["q-2"], [(3, timedelta(0))])
    merges = {
        "test-role": {"q-2": "q-1", "q-1": "q-0", "q-3": "no-such-key"},
        "another-role": {"q-4": "q-0"},
    }
    with app.app_context():
        assert merge_retired(merges) == 2
        archived = set(db.session.scalars(db.select(Question.key).filter_by(archived=True)))
    assert archived == {"q-1", "q-2"}
    assert reviews_of(app, user.id) == dict.fromkeys(ids, qids["q-0"])
    with app.app_context(), pytest.raises(BankError):
        merge_retired({"test-role": {"q-1": "q-2", "q-2": "q-1"}})


@pytest.mark.parametrize(
    "text",
    ["- a list\n", "test-role: q-1\n", "test-role:\n  q-1: q-1\n", "test-role:\n  q-1: [q-0]\n"],
)
def test_a_malformed_merges_file_is_refused(tmp_path: Path, text):
    (tmp_path / MERGES_FILE).write_text(text)
    with pytest.raises(BankError):
        read_merges(tmp_path)


def test_bundled_merges_retire_keys_into_live_cards_of_the_same_role():
    merges = read_merges(BANK_DIR)
    assert merges
    keys: dict[str, set[str]] = {}
    for path in bundled_files():
        bank = load_file(path)
        keys.setdefault(bank["role"]["slug"], set()).update(
            q["key"] for s in bank["sets"] for q in s["questions"]
        )
    for role, pairs in merges.items():
        assert role in keys, role
        for old, survivor in pairs.items():
            assert old not in keys[role], f"{old} is retired but still in a bank"
            assert survivor in keys[role], f"{old} is merged into {survivor}, which no bank holds"
