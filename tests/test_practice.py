"""The drill: queue order, reveal (page and fragment), ratings recorded once and exactly as FSRS says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fsrs
import pytest

from careerprep.extensions import db
from careerprep.models import CardState, Question, Review
from tests.conftest import card_state, count_queries, load_bank, make_user, rating_token, reveal_url
from tests.helpers import DRILL, rate, reveal


def test_drill_requires_login(client, bank):
    response = client.get(DRILL)
    assert response.status_code == 303
    assert "/auth/login" in response.headers["Location"]


def test_drill_shows_a_new_card_front(logged_in, bank):
    response = logged_in.get(DRILL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html and 'id="card"' in html
    assert "Question number 0?" in html  # easiest first
    assert "Show answer" in html
    assert "Model answer" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_drill_fragment_for_htmx(logged_in, bank):
    response = logged_in.get(DRILL, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="card"')
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("htmx", [False, True])
def test_reveal_as_page_and_fragment(logged_in, bank, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    front = logged_in.get(DRILL, headers=headers).get_data(as_text=True)
    response = logged_in.get(reveal_url(front), headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert ("<html" in html) is not htmx
    assert "Answer number 0." in html
    assert "first point" in html
    for label in ("Again", "Hard", "Good", "Easy"):
        assert label in html
    assert 'name="rating" value="3"' in html
    assert 'Good</span> <span class="rate-interval">10m</span>' in html  # fsrs: new card, Good → 10 min


def test_rating_records_one_review_and_the_fsrs_state(app, logged_in, bank, user):
    before = datetime.now(UTC)
    response = rate(logged_in, rating=3)
    after = datetime.now(UTC)
    assert response.status_code == 303
    assert response.headers["Location"] == DRILL
    with app.app_context():
        reviews = db.session.scalars(db.select(Review)).all()
        assert len(reviews) == 1
        review = reviews[0]
        assert review.user_id == user.id and review.rating == 3
        state = db.session.scalar(db.select(CardState))
        assert state.reps == 1 and state.lapses == 0
        # Replay through fsrs directly: same state.
        card = fsrs.Card(card_id=state.question_id, due=review.reviewed_at)
        expected, _ = fsrs.Scheduler(enable_fuzzing=False).review_card(
            card, fsrs.Rating.Good, review_datetime=review.reviewed_at
        )
        assert state.state == int(expected.state) == review.state
        assert state.step == expected.step
        assert state.stability == pytest.approx(expected.stability)
        assert state.difficulty == pytest.approx(expected.difficulty)
        assert state.due == expected.due == review.due
        assert before <= review.reviewed_at <= after
        assert review.interval_seconds == 600
        assert 0 <= review.duration_ms < 60_000


def test_rating_via_htmx_returns_the_next_card(app, logged_in, bank):
    response = rate(logged_in, rating=4, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="card"')
    assert 'data-announce="Rated Easy. Next card."' in html
    assert "Question number 3?" in html  # next easiest new card (difficulty 1)
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("htmx", [False, True])
def test_double_submit_records_once(app, logged_in, bank, htmx):
    token = rating_token(reveal(logged_in))
    headers = {"HX-Request": "true"} if htmx else {}
    first = logged_in.post(DRILL, data={"token": token, "rating": "3"}, headers=headers)
    second = logged_in.post(DRILL, data={"token": token, "rating": "1"}, headers=headers)
    assert first.status_code == second.status_code
    assert second.status_code in (200, 303)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 1
        state = db.session.scalar(db.select(CardState))
        assert state.reps == 1
        assert db.session.scalar(db.select(Review.rating)) == 3


@pytest.mark.parametrize(
    "form",
    [
        {"rating": "5"},
        {"rating": "0"},
        {"rating": "good"},
        {"rating": ""},
        {},
        {"rating": "3", "token": "forged"},
        {"rating": "3", "token": ""},
        {"rating": "3", "token": "x" * 5000},
    ],
)
def test_bad_rating_input_is_400_and_writes_nothing(app, logged_in, bank, form):
    token = rating_token(reveal(logged_in))
    data = {"token": token, **form}
    response = logged_in.post(DRILL, data=data)
    assert response.status_code == 400
    assert b"Traceback" not in response.data
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 0
        assert db.session.scalar(db.select(db.func.count(CardState.id))) == 0


def test_due_cards_come_before_new_and_most_overdue_first(app, logged_in, bank, user):
    now = datetime.now(UTC)
    with app.app_context():
        q = {q.key: q.id for q in db.session.scalars(db.select(Question))}
        for key, overdue_days in (("q-3", 1), ("q-4", 5)):
            db.session.add(
                card_state(
                    user.id,
                    q[key],
                    stability=3.0,
                    due=now - timedelta(days=overdue_days),
                    last_review=now - timedelta(days=overdue_days + 3),
                    reps=2,
                    introduced_at=now - timedelta(days=9),
                )
            )
        db.session.commit()
    assert "Question number 4?" in logged_in.get(DRILL).get_data(as_text=True)
    rate(logged_in)
    assert "Question number 3?" in logged_in.get(DRILL).get_data(as_text=True)
    rate(logged_in)
    assert "Question number 0?" in logged_in.get(DRILL).get_data(as_text=True)


def test_daily_new_card_limit(app, logged_in, user):
    load_bank(app, n_questions=14)
    for _ in range(10):
        assert rate(logged_in, rating=4).status_code == 303  # Easy: straight to review, days away
    html = logged_in.get(DRILL).get_data(as_text=True)
    assert "Done for now" in html
    assert "limit of 10 new questions" in html
    assert "4 more are waiting for tomorrow" in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CardState.id))) == 10


def test_done_card_says_when_the_next_card_is_due(app, logged_in):
    load_bank(app, n_questions=1)
    rate(logged_in, rating=4)
    html = logged_in.get(DRILL).get_data(as_text=True)
    assert "Done for now" in html
    assert "You have started every question in this role." in html
    assert "next card is due" in html


def test_learning_cards_come_back_within_the_learn_ahead_window(app, logged_in):
    load_bank(app, n_questions=1)
    rate(logged_in, rating=1)  # Again: due again in a minute
    html = logged_in.get(DRILL).get_data(as_text=True)
    assert "Question number 0?" in html


def test_users_never_see_or_change_each_others_progress(app, client, auth, bank):
    alice = make_user(app)
    bob = make_user(app)
    auth.login(alice.email)
    alice_token = rating_token(reveal(client))
    rate(client, rating=4)
    auth.logout()
    auth.login(bob.email)
    html = client.get(DRILL).get_data(as_text=True)
    assert "Question number 0?" in html  # Bob starts fresh
    assert "0 due" in html
    # Bob replaying Alice's token records nothing.
    response = client.post(DRILL, data={"token": alice_token, "rating": "1"})
    assert response.status_code == 400
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Nothing studied yet" in dashboard
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id)).filter_by(user_id=bob.id)) == 0
        assert db.session.scalar(db.select(db.func.count(Review.id)).filter_by(user_id=alice.id)) == 1


def test_unknown_or_unpublished_role_is_404(app, logged_in):
    load_bank(app, role_slug="hidden-role", published=False)
    assert logged_in.get("/roles/no-such-role/drill").status_code == 404
    assert logged_in.get("/roles/hidden-role/drill").status_code == 404
    assert logged_in.post("/roles/hidden-role/drill", data={"rating": "3"}).status_code == 404


def test_expired_reveal_link_shows_the_next_card(logged_in, bank):
    response = logged_in.get(DRILL, query_string={"reveal": 1, "token": "garbage"})
    assert response.status_code == 200
    assert "That card expired" in response.get_data(as_text=True)


def test_token_for_another_role_is_rejected(app, logged_in, bank):
    load_bank(app, role_slug="other-role")
    token = rating_token(reveal(logged_in, url="/roles/other-role/drill"))
    response = logged_in.post(DRILL, data={"token": token, "rating": "3"})
    assert response.status_code == 400


@pytest.mark.parametrize("n_questions", [10, 1000])
def test_drill_query_count_is_flat(app, logged_in, n_questions):
    load_bank(app, n_questions=n_questions)
    for _ in range(3):
        rate(logged_in, rating=1)
    with count_queries(app) as statements:
        response = logged_in.get(DRILL)
    assert response.status_code == 200
    assert len(statements) <= 6, statements
    test_drill_query_count_is_flat.counts[n_questions] = len(statements)
    if len(test_drill_query_count_is_flat.counts) == 2:
        assert len(set(test_drill_query_count_is_flat.counts.values())) == 1


test_drill_query_count_is_flat.counts = {}
