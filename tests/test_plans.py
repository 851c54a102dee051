"""Interview dates (careerprep/plans.py): setting and clearing one, readiness on the day, prepare mode,
and no card scheduled past the interview."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import fsrs
import pytest

from careerprep.extensions import db
from careerprep.models import CardState, Question, Review, RolePlan, User
from tests.conftest import card_state, make_user
from tests.helpers import DRILL, front, question_ids, rate, set_user

BANK = {"n_questions": 6}  # conftest's `bank`: q-0 … q-5, alternately Alpha and Beta


# -- interview date and readiness ------------------------------------------------------------------------


def set_plan(app, user, days_ahead):
    with app.app_context():
        role_id = db.session.scalar(db.select(Question.set_id))
        from careerprep.models import QuestionSet

        role_id = db.session.get(QuestionSet, role_id).role_id
        interview = (datetime.now(UTC) + timedelta(days=days_ahead)).date()
        db.session.add(RolePlan(user_id=user.id, role_id=role_id, interview_date=interview))
        db.session.commit()
    return interview


def test_readiness_matches_fsrs(app, logged_in, user, bank):
    ids = question_ids(app)
    now = datetime.now(UTC)
    cards = {"q-0": (3.0, 1), "q-1": (12.0, 4), "q-2": (40.0, 2)}  # stability, days since review
    with app.app_context():
        for key, (stability, ago) in cards.items():
            db.session.add(
                card_state(user.id, ids[key], stability=stability, last_review=now - timedelta(days=ago))
            )
        db.session.commit()
    interview = set_plan(app, user, 10)
    at = datetime.combine(interview, datetime.min.time(), tzinfo=UTC)
    sched = fsrs.Scheduler()
    expected = {}
    for key, (stability, ago) in cards.items():
        card = fsrs.Card(
            card_id=1,
            state=fsrs.State.Review,
            stability=stability,
            difficulty=5.0,
            last_review=now - timedelta(days=ago),
            due=at,
        )
        expected[key] = sched.get_card_retrievability(card, at)
    from careerprep.plans import readiness

    with app.app_context():
        found_user = db.session.get(User, user.id)
        plan = db.session.scalar(db.select(RolePlan))
        from careerprep.models import Role

        ready = readiness(found_user, db.session.scalar(db.select(Role)), plan)
    by_cat = {c.category: c for c in ready.categories}
    assert by_cat["Alpha"].recall == pytest.approx((expected["q-0"] + expected["q-2"]) / 2)  # q-0, q-2: Alpha
    assert by_cat["Beta"].recall == pytest.approx(expected["q-1"])
    assert ready.recall == pytest.approx(sum(expected.values()) / 3)
    assert ready.unseen_share == pytest.approx(3 / 6)
    page = logged_in.get("/roles/test-role").get_data(as_text=True)
    assert f'id="readiness-recall">{round(sum(expected.values()) / 3 * 100)}%' in page
    assert 'id="readiness-unseen">50%' in page
    assert 'id="pace">1<' in page  # 3 unseen over 10 days


def test_prepare_mode_orders_by_recall_on_the_interview_day_and_paces_new_cards(app, logged_in, user, bank):
    ids = question_ids(app)
    now = datetime.now(UTC)
    set_user(app, user, new_per_day=0)
    interview = set_plan(app, user, 5)
    with app.app_context():
        # q-1 is due now but strong; q-2 is due only after the interview and weak by then.
        db.session.add(
            card_state(
                user.id,
                ids["q-1"],
                stability=60.0,
                last_review=now - timedelta(days=1),
                due=now - timedelta(minutes=5),
            )
        )
        db.session.add(
            card_state(
                user.id,
                ids["q-2"],
                stability=3.0,
                last_review=now - timedelta(days=1),
                due=now + timedelta(days=30),
            )
        )
        db.session.commit()
    page = front(logged_in, DRILL + "?mode=prepare")
    assert "Question number 2?" in page
    rate(logged_in, 4, DRILL + "?mode=prepare", extra={"mode": "prepare"})
    assert "Question number 1?" in front(logged_in, DRILL + "?mode=prepare")
    rate(logged_in, 3, DRILL + "?mode=prepare", extra={"mode": "prepare"})
    # New cards come at the pace that covers the bank by the interview, despite new_per_day=0.
    assert "Question number 0?" in front(logged_in, DRILL + "?mode=prepare")
    cap = datetime.combine(interview, datetime.min.time(), tzinfo=UTC)
    with app.app_context():
        for state in db.session.scalars(db.select(CardState)):
            assert state.due < cap


def test_no_card_is_scheduled_past_the_interview(app, logged_in, user, bank):
    ids = question_ids(app)
    now = datetime.now(UTC)
    interview = set_plan(app, user, 3)
    with app.app_context():
        db.session.add(
            card_state(
                user.id,
                ids["q-0"],
                stability=50.0,
                last_review=now - timedelta(days=20),
                due=now - timedelta(hours=1),
            )
        )
        db.session.commit()
    rate(logged_in, 4)  # Easy on a strong card would normally mean months
    with app.app_context():
        state = db.session.scalar(db.select(CardState).filter_by(question_id=ids["q-0"]))
        review = db.session.scalar(db.select(Review))
        start = datetime.combine(interview, datetime.min.time(), tzinfo=UTC)
        assert state.due <= start - timedelta(days=1)
        assert review.due == state.due


@pytest.mark.parametrize(
    "value", ["", "not-a-date", "2001-01-01", (date.today() + timedelta(days=900)).isoformat()]
)
def test_plan_validation(app, logged_in, bank, value):
    response = logged_in.post("/roles/test-role/plan", data={"interview_date": value})
    if value == "":
        assert response.status_code == 303  # clearing
    else:
        assert response.status_code == 422
        assert "Choose an interview date after today" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(RolePlan.id))) == 0


def test_plan_set_and_clear(app, logged_in, user, bank):
    day = (date.today() + timedelta(days=20)).isoformat()
    assert logged_in.post("/roles/test-role/plan", data={"interview_date": day}).status_code == 303
    page = logged_in.get("/roles/test-role").get_data(as_text=True)
    assert "On your interview day" in page and "Prepare for my interview" in page
    assert 'id="readiness-unseen">100%' in page  # nothing studied yet
    assert "Interview on" in front(logged_in)
    logged_in.post("/roles/test-role/plan", data={"action": "clear"})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(RolePlan.id))) == 0


def test_plan_is_per_user(app, client, bank):
    alice, bob = make_user(app), make_user(app)
    set_plan(app, alice, 10)
    client.post("/auth/login", data={"email": bob.email, "password": "correct horse battery"})
    assert "Predicted readiness on" not in client.get("/roles/test-role").get_data(as_text=True)
