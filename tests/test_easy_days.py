"""Easy Days and load balancing: due dates move within FSRS's fuzz range, deterministically, toward
lighter days, never past the interview cap; bad settings are refused and change nothing."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from fsrs import Scheduler

from careerprep.extensions import db
from careerprep.models import CardState, Question, User
from careerprep.scheduling.balance import fuzz_range, pick_interval
from tests.conftest import card_state, load_bank, rating_token
from tests.helpers import DRILL, HX, reveal

MONDAY = date(2025, 6, 2)  # a Monday
SUNDAY_OFF = [100, 100, 100, 100, 100, 50, 0]  # Mon … Sun: Saturday half, Sunday free


@pytest.mark.parametrize("interval", [3, 5, 8, 15, 30, 100])
def test_the_fuzz_range_is_the_one_fsrs_fuzzes_within(interval):
    low, high = fuzz_range(interval)
    scheduler = Scheduler(enable_fuzzing=True)
    random.seed(interval)
    seen = {scheduler._get_fuzzed_interval(interval=timedelta(days=interval)).days for _ in range(400)}
    # py-fsrs rounds a uniform draw over [low, high + 1), so it reaches high + 1 now and then: the
    # range used here stays inside what it does.
    assert min(seen) == low and high <= max(seen) <= high + 1


def test_easy_days_avoid_a_free_sunday_and_prefer_a_full_day_to_a_half_one():
    # 6 days from Monday is Sunday; the range 4..8 is Fri, Sat, Sun, Mon, Tue.
    assert fuzz_range(6) == (4, 8)
    assert pick_interval(6, MONDAY, easy_days=SUNDAY_OFF, due_counts=None) == 7
    assert pick_interval(6, MONDAY, easy_days=None, due_counts=None) == 6  # off: FSRS's own day


def test_load_balancing_picks_the_day_with_fewest_cards_due():
    counts = {MONDAY + timedelta(days=d): n for d, n in {8: 8, 9: 7, 10: 3, 11: 5, 12: 9}.items()}
    assert fuzz_range(10) == (8, 12)
    assert pick_interval(10, MONDAY, easy_days=None, due_counts=counts) == 10
    counts[MONDAY + timedelta(days=10)] = 6
    assert pick_interval(10, MONDAY, easy_days=None, due_counts=counts) == 11
    # Both: a day's count is weighed by its share (Sat = day 12 from Monday 2 June is Sat 14 June).
    assert pick_interval(10, MONDAY, easy_days=SUNDAY_OFF, due_counts=counts) == 11


@pytest.mark.parametrize("cap", [5, 8, 9])
def test_never_past_the_interview_cap(cap):
    counts = {MONDAY + timedelta(days=d): 100 for d in range(0, 10)}
    chosen = pick_interval(10, MONDAY, easy_days=SUNDAY_OFF, due_counts=counts, cap_days=cap)
    assert chosen <= cap


def _review_card_due_in(app, user_id: int, days: int) -> int:
    """A review card of the drill's role, due now, whose Good interval is `days` (stability ≈ days)."""
    with app.app_context():
        qids = db.session.scalars(db.select(Question.id).order_by(Question.id)).all()
        now = datetime.now(UTC)
        db.session.add(card_state(user_id, qids[0], due=now - timedelta(hours=1), stability=float(days)))
        # Other cards load the days around it (none due today, so the drill shows the first card).
        for i, qid in enumerate(qids[1:], start=1):
            db.session.add(card_state(user_id, qid, due=now + timedelta(days=1 + i % 30)))
        db.session.commit()
        return qids[0]


def test_a_rating_with_load_balancing_lands_on_the_least_loaded_day(app, logged_in, user):
    load_bank(app, n_questions=61)
    qid = _review_card_due_in(app, user.id, 5)
    with app.app_context():
        db.session.get(User, user.id).load_balance = True
        db.session.commit()
    token = rating_token(reveal(logged_in, htmx=True))
    assert logged_in.post(DRILL, data={"token": token, "rating": "3"}, headers=HX).status_code == 200
    with app.app_context():
        u = db.session.get(User, user.id)
        state = db.session.scalar(db.select(CardState).filter_by(user_id=user.id, question_id=qid))
        today = u.local_today(datetime.now(UTC))
        due_day = u.local_today(state.due) - today
        low, high = fuzz_range(_good_interval(state))
        loads = {
            d: db.session.scalar(
                db.select(db.func.count(CardState.id)).where(
                    CardState.user_id == user.id,
                    CardState.question_id != qid,
                    CardState.due >= datetime.combine(today + timedelta(days=d), datetime.min.time(), UTC),
                    CardState.due < datetime.combine(today + timedelta(days=d + 1), datetime.min.time(), UTC),
                )
            )
            for d in range(low, high + 1)
        }
        assert low <= due_day.days <= high
        assert loads[due_day.days] == min(loads.values())


def _good_interval(state: CardState) -> int:
    """FSRS's interval for the card's new stability, before fuzz (default parameters, 0.9)."""
    return Scheduler(enable_fuzzing=False)._next_interval(stability=state.stability)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"easy_days_on": "y", **{d: "0" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
            "At least one day",
        ),
        ({"easy_days_on": "y", "mon": "33"}, "Choose one of 100%, 75%"),
        ({"easy_days_on": "y", "sun": "lots"}, "Choose one of 100%, 75%"),
    ],
)
def test_bad_scheduler_settings_are_refused_with_a_message_and_change_nothing(
    app, logged_in, user, data, message
):
    full = {d: "100" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")} | data
    response = logged_in.post("/account/scheduler/settings", data=full)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        u = db.session.get(User, user.id)
        assert u.easy_days is None and u.load_balance is False


def test_easy_days_and_load_balancing_are_saved_and_shown(app, logged_in, user):
    data = {
        "easy_days_on": "y",
        "mon": "100",
        "tue": "100",
        "wed": "100",
        "thu": "100",
        "fri": "100",
        "sat": "50",
        "sun": "0",
        "load_balance": "y",
    }
    assert logged_in.post("/account/scheduler/settings", data=data).status_code == 303
    with app.app_context():
        u = db.session.get(User, user.id)
        assert u.easy_days == SUNDAY_OFF and u.load_balance and u.share_reviews is False
    page = logged_in.get("/account/scheduler").get_data(as_text=True)
    assert '<option selected value="50">50%</option>' in page or 'value="50" selected' in page
