"""Mock interviews after the end: the results with the model answers, rating each question once, the
scores, and the list of past mocks."""

from __future__ import annotations

import re

import pytest

from careerprep.extensions import db
from careerprep.models import CardState, MockInterview, Review
from tests.conftest import bank_dict, load_bank, make_user
from tests.helpers import HX, count_rows
from tests.mock_support import CATEGORIES, START, answer, answer_all, get_mock, items, start_mock

BANK = {"n_questions": 10, "categories": CATEGORIES}  # conftest's `bank`: q-0 … q-9 in CATEGORIES


@pytest.fixture
def finished(app, logged_in, mock_id):
    """A mock interview with every question shown and answered."""
    for item in items(app, mock_id):
        logged_in.get(f"/mock/{mock_id}")
        answer(logged_in, mock_id, item.id, draft=f"Draft for {item.question.key}")
    return mock_id


# -- results and rating ----------------------------------------------------------------------------


def test_results_page_and_fragment(app, logged_in, finished):
    found = items(app, finished)
    for htmx in (False, True):
        response = logged_in.get(f"/mock/{finished}/results", headers=HX if htmx else {})
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "HX-Request" in response.headers["Vary"]
        assert ("<html" in html) is not htmx
        for item in found:
            assert f'name="covered-{item.id}" value="2"' in html
            assert f'name="rating-{item.id}" value="4"' in html
            assert f"Draft for {item.question.key}" in html
        # 0, 1, 2 or 3 of 3 key points: Again, Again (most missing), Good, and Easy (within seconds).
        assert 'data-suggestions="1,1,3,4"' in html
        assert "checked" not in html  # nothing is pre-selected before key points are ticked
        assert ("Start another mock interview" in html) is not htmx


def test_rating_records_one_mock_review_per_question(app, logged_in, finished, user):
    found = items(app, finished)
    data = {
        f"rating-{found[0].id}": "3",
        f"covered-{found[0].id}": ["0", "2", "2"],
        f"rating-{found[1].id}": "1",
        f"rating-{found[2].id}": "4",
        f"covered-{found[2].id}": ["0", "1", "2"],
    }
    response = logged_in.post(f"/mock/{finished}/rate", data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mock/{finished}/results"
    with app.app_context():
        reviews = db.session.scalars(db.select(Review).order_by(Review.id)).all()
        assert len(reviews) == 3
        assert {r.mode for r in reviews} == {"mock"}
        assert {r.user_id for r in reviews} == {user.id}
        by_question = {r.question_id: r for r in reviews}
        for item, rating, covered in zip(found, (3, 1, 4), ([0, 2], [], [0, 1, 2]), strict=True):
            review = by_question[item.question_id]
            assert review.rating == rating
            assert review.covered == covered and review.key_point_count == 3
            assert review.draft == f"Draft for {item.question.key}"
            assert review.token == f"mock-{item.id}"
        assert db.session.scalar(db.select(db.func.count(CardState.id))) == 3
    saved = items(app, finished)
    assert [(i.rating, i.covered) for i in saved] == [(3, [0, 2]), (1, []), (4, [0, 1, 2])]
    assert all(i.review_id == by_question[i.question_id].id for i in saved)
    assert get_mock(app, finished).rated_at is not None
    html = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ratings saved" in html
    assert 'id="score-coverage">56%' in html  # (67 + 0 + 100) / 3
    assert 'id="score-rating">mostly Good' in html  # mean 2.7 of Again 1 … Easy 4
    assert "Save ratings" not in html and 'type="radio"' not in html
    assert "Your rating: <strong" in html and "✓ Covered:" in html and "✗ Missed:" in html


def test_questions_left_unrated_are_not_recorded_even_with_ticked_points(app, logged_in, finished):
    found = items(app, finished)
    data = {
        f"covered-{found[0].id}": ["0", "1", "2"],
        f"covered-{found[1].id}": "1",
        f"rating-{found[2].id}": "3",
    }
    assert logged_in.post(f"/mock/{finished}/rate", data=data).status_code == 303
    # Only the rated question is recorded; ticks alone never pick a rating (an untouched checklist
    # used to record Again and reset the schedule).
    assert [i.rating for i in items(app, finished)] == [None, None, 3]
    with app.app_context():
        assert db.session.scalars(db.select(Review.question_id)).all() == [found[2].question_id]
    html = logged_in.get(f"/mock/{finished}/results").get_data(as_text=True)
    assert html.count("Not rated, so not recorded.") == 2


def test_history_links_only_when_that_page_exists(app, logged_in, finished):
    logged_in.post(f"/mock/{finished}/rate", data={f"rating-{i.id}": "3" for i in items(app, finished)})
    html = logged_in.get(f"/mock/{finished}/results").get_data(as_text=True)
    has_history = "practice.history" in app.view_functions
    question_id = items(app, finished)[0].question_id
    assert (f'href="/questions/{question_id}/history"' in html) is has_history


@pytest.mark.parametrize("htmx", [False, True])
def test_double_submitted_rating_records_once(app, logged_in, finished, htmx):
    found = items(app, finished)
    data = {f"rating-{item.id}": "3" for item in found}
    headers = HX if htmx else {}
    first = logged_in.post(f"/mock/{finished}/rate", data=data, headers=headers)
    second = logged_in.post(
        f"/mock/{finished}/rate", data={**data, f"rating-{found[0].id}": "1"}, headers=headers
    )
    assert first.status_code == second.status_code
    assert count_rows(app, Review) == 3
    assert items(app, finished)[0].rating == 3


def test_a_rating_racing_past_the_rated_check_still_records_once(app, logged_in, finished):
    found = items(app, finished)
    data = {f"rating-{item.id}": "3" for item in found}
    logged_in.post(f"/mock/{finished}/rate", data=data)
    with app.app_context():  # as if a second request had read the mock before the first finished
        db.session.get(MockInterview, finished).rated_at = None
        db.session.commit()
    assert logged_in.post(f"/mock/{finished}/rate", data=data).status_code == 303
    assert count_rows(app, Review) == 3
    with app.app_context():
        ids = set(db.session.scalars(db.select(Review.id)))
    assert {item.review_id for item in items(app, finished)} == ids


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rating", "5", "Choose Again, Hard, Good or Easy."),
        ("rating", "0", "Choose Again, Hard, Good or Easy."),
        ("rating", "good", "Choose Again, Hard, Good or Easy."),
        ("rating", "3.0", "Choose Again, Hard, Good or Easy."),
        ("rating", "9" * 30, "Choose Again, Hard, Good or Easy."),
        ("covered", "3", "Tick only the key points listed."),
        ("covered", "-1", "Tick only the key points listed."),
        ("covered", "first", "Tick only the key points listed."),
        ("covered", "", "Tick only the key points listed."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_invalid_ratings_are_422_and_write_nothing(app, logged_in, finished, field, value, message, htmx):
    found = items(app, finished)
    data = {f"rating-{item.id}": "3" for item in found}
    data[f"covered-{found[0].id}"] = ["0"]
    data[f"{field}-{found[1].id}"] = value
    response = logged_in.post(f"/mock/{finished}/rate", data=data, headers=HX if htmx else {})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "nothing was saved" in html
    assert ("<html" in html) is not htmx
    # The other questions keep what was submitted.
    assert f'name="rating-{found[0].id}" value="3" checked' in html
    assert f'name="covered-{found[0].id}" value="0" checked' in html
    assert count_rows(app, Review) == 0
    assert count_rows(app, CardState) == 0
    assert all(item.rating is None and item.review_id is None for item in items(app, finished))
    assert get_mock(app, finished).rated_at is None


def test_questions_not_reached_are_not_rated(app, logged_in, mock_id):
    found = items(app, mock_id)
    logged_in.get(f"/mock/{mock_id}")
    logged_in.post(f"/mock/{mock_id}/finish", data={"item_id": str(found[0].id), "draft": "only one"})
    data = {f"rating-{item.id}": "3" for item in found}
    assert logged_in.post(f"/mock/{mock_id}/rate", data=data).status_code == 303
    with app.app_context():
        assert db.session.scalars(db.select(Review.question_id)).all() == [found[0].question_id]
    assert [item.rating for item in items(app, mock_id)] == [3, None, None]
    html = logged_in.get(f"/mock/{mock_id}/results").get_data(as_text=True)
    assert 'id="score-coverage">0%' in html and 'id="score-rating">mostly Good' in html


def test_a_mock_ended_before_any_question_was_shown_rates_nothing(app, logged_in, mock_id):
    logged_in.post(f"/mock/{mock_id}/finish")
    html = logged_in.get(f"/mock/{mock_id}/results").get_data(as_text=True)
    assert html.count("You ended the interview before this question") == 3
    assert 'type="radio"' not in html
    assert logged_in.post(f"/mock/{mock_id}/rate").status_code == 303
    assert count_rows(app, Review) == 0
    html = logged_in.get(f"/mock/{mock_id}/results").get_data(as_text=True)
    assert 'id="score-coverage">—' in html and 'id="score-rating">—' in html


# -- past mocks ------------------------------------------------------------------------------------


def test_past_mocks_are_listed_with_status_and_score(app, logged_in, bank):
    in_progress = start_mock(logged_in, questions="2", minutes="7")
    awaiting = start_mock(logged_in, questions="1", minutes="3")
    answer_all(app, logged_in, awaiting)
    rated = start_mock(logged_in, questions="2", minutes="4")
    found = answer_all(app, logged_in, rated)
    logged_in.post(
        f"/mock/{rated}/rate",
        data={
            f"rating-{found[0].id}": "4",
            f"covered-{found[0].id}": ["0", "1", "2"],
            f"rating-{found[1].id}": "3",
            f"covered-{found[1].id}": ["1"],
        },
    )
    html = logged_in.get(START).get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>(.*?)</tr>", html, re.S)
    assert len(rows) == 3
    newest, middle, oldest = rows
    assert f'href="/mock/{rated}/results"' in newest
    assert "Rated" in newest and "67% of key points · mean rating 3.5 of 4" in newest  # (100 + 33) / 2
    assert f'href="/mock/{awaiting}/results"' in middle and "Awaiting your ratings" in middle
    assert f'href="/mock/{in_progress}"' in oldest and "In progress" in oldest
    assert re.search(r'class="num">2</td>\s*<td class="num">7</td>', oldest)


def test_past_mocks_are_per_user_and_per_role(app, client, auth, bank):
    load_bank(app, bank_dict(role_slug="other-role", n_questions=3))
    alice, bob = make_user(app), make_user(app)
    auth.login(alice.email)
    start_mock(client, questions="1")
    client.post("/roles/other-role/mock", data={"questions": "1", "minutes": "1"})
    assert client.get(START).get_data(as_text=True).count("In progress") == 1
    auth.logout()
    auth.login(bob.email)
    assert "No mock interviews yet" in client.get(START).get_data(as_text=True)
