"""Mock interviews: start (mix and freshness), one question at a time against the clock, no reveal until
the end, and who may see one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from careerprep.extensions import db
from careerprep.models import CardFlag, MockInterview, MockItem, Question, Review, User
from tests.conftest import PASSWORD, bank_dict, card_state, load_bank, make_user
from tests.helpers import HX, count_rows
from tests.mock_support import CATEGORIES, START, answer, answer_all, get_mock, items, start_mock

BANK = {"n_questions": 10, "categories": CATEGORIES}  # conftest's `bank`: q-0 … q-9 in CATEGORIES


# -- the start page --------------------------------------------------------------------------------


def test_start_page_has_defaults_from_settings_and_the_role_categories(app, logged_in, bank, user):
    with app.app_context():
        db.session.get(User, user.id).mock_questions = 7
        db.session.get(User, user.id).mock_minutes = 3
        db.session.commit()
    response = logged_in.get(START)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert re.search(r'id="questions"[^>]*value="7"', html)
    assert re.search(r'id="minutes"[^>]*value="3"', html)
    for label in ("Alpha (4)", "Beta (3)", "Behavioural (3)"):
        assert label in html
    assert re.search(r'<input checked id="behavioural" name="behavioural" type="checkbox"', html)
    assert "Include one behavioural question" in html
    assert 'name="csrf_token"' in html
    assert "No mock interviews yet" in html
    assert "HX-Request" in response.headers["Vary"]


def test_start_defaults_are_five_questions_and_six_minutes(logged_in, bank):
    html = logged_in.get(START).get_data(as_text=True)
    assert re.search(r'id="questions"[^>]*value="5"', html)
    assert re.search(r'id="minutes"[^>]*value="6"', html)


def test_role_without_behavioural_questions_hides_that_option(app, logged_in):
    load_bank(app, bank_dict(n_questions=4))
    html = logged_in.get(START).get_data(as_text=True)
    assert "Include one behavioural question" not in html
    mock_id = start_mock(logged_in, questions="4")
    assert len(items(app, mock_id)) == 4


def test_unknown_or_unpublished_role_is_404(app, logged_in):
    load_bank(app, role_slug="hidden-role", published=False)
    for url in ("/roles/no-such-role/mock", "/roles/hidden-role/mock"):
        assert logged_in.get(url).status_code == 404
        assert logged_in.post(url, data={"questions": "1", "minutes": "1"}).status_code == 404


# -- creating one ----------------------------------------------------------------------------------


def test_create_picks_distinct_questions_with_exactly_one_behavioural(app, logged_in, bank):
    for _ in range(5):  # the pick is random among ties: repeat to catch an unlucky draw
        mock_id = start_mock(logged_in, questions="5", minutes="4")
        mock = get_mock(app, mock_id)
        assert mock.seconds_per_question == 240
        assert mock.finished_at is None and mock.rated_at is None
        found = items(app, mock_id)
        assert [item.position for item in found] == [1, 2, 3, 4, 5]
        assert len({item.question_id for item in found}) == 5
        assert [item.question.category for item in found].count("Behavioural") == 1
        assert all(item.started_at is None and item.draft is None for item in found)


def test_create_without_behavioural_keeps_to_the_ticked_categories(app, logged_in, bank):
    mock_id = start_mock(logged_in, questions="3", behavioural=False, categories=["Beta"])
    assert {item.question.category for item in items(app, mock_id)} == {"Beta"}
    assert get_mock(app, mock_id).categories == ["Beta"]


def test_behavioural_option_with_categories_adds_one_behavioural(app, logged_in, bank):
    mock_id = start_mock(logged_in, questions="4", categories=["Beta"])
    categories = [item.question.category for item in items(app, mock_id)]
    assert sorted(categories) == ["Behavioural", "Beta", "Beta", "Beta"]


def test_fewer_questions_than_asked_uses_what_exists_and_says_so(app, logged_in, bank):
    response = logged_in.post(START, data={"questions": "9", "minutes": "2", "categories": ["Alpha"]})
    assert response.status_code == 303
    mock_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert len(items(app, mock_id)) == 4
    page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Only 4 questions matched your choices, so this mock interview has 4." in page


def test_create_prefers_questions_studied_least_and_skips_suspended(app, logged_in, bank, user):
    with app.app_context():
        ids = {q.key: q.id for q in db.session.scalars(db.select(Question))}
        # Studied: every question but q-0, q-3, q-6, q-9 (all Alpha); q-9 is suspended.
        for key in ("q-1", "q-2", "q-4", "q-5", "q-7", "q-8"):
            db.session.add(card_state(user.id, ids[key], reps=1 if key == "q-4" else 5))
        db.session.add(CardFlag(user_id=user.id, question_id=ids["q-9"], suspended=True))
        db.session.commit()
    for _ in range(3):
        keys = [i.question.key for i in items(app, start_mock(logged_in, questions="4", behavioural=False))]
        assert set(keys[:3]) == {"q-0", "q-3", "q-6"}  # never studied first
        assert keys[3] == "q-4"  # then the fewest reviews


def test_create_via_htmx_answers_with_hx_redirect(app, logged_in, bank):
    response = logged_in.post(START, data={"questions": "2", "minutes": "1"}, headers=HX)
    assert response.status_code == 204
    assert re.fullmatch(r"/mock/\d+", response.headers["HX-Redirect"])


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"questions": "0", "minutes": "5"}, "Choose from 1 to 15 questions."),
        ({"questions": "16", "minutes": "5"}, "Choose from 1 to 15 questions."),
        ({"questions": "abc", "minutes": "5"}, "Not a valid integer value."),
        ({"questions": "2.5", "minutes": "5"}, "Not a valid integer value."),
        ({"questions": "", "minutes": "5"}, "Enter how many questions you want."),
        ({"minutes": "5"}, "Enter how many questions you want."),
        ({"questions": "3", "minutes": "0"}, "Choose from 1 to 30 minutes per question."),
        ({"questions": "3", "minutes": "31"}, "Choose from 1 to 30 minutes per question."),
        ({"questions": "3", "minutes": "-1"}, "Choose from 1 to 30 minutes per question."),
        ({"questions": "3", "minutes": "9" * 40}, "Choose from 1 to 30 minutes per question."),
        ({"questions": "3"}, "Enter the minutes you want per question."),
        ({"questions": "3", "minutes": "5", "categories": ["Nope"]}, "Not a category of this role: Nope."),
        ({"questions": "3", "minutes": "5", "categories": ["Alpha", "<b>x</b>"]}, "&lt;b&gt;x&lt;/b&gt;"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_start_input_is_422_and_creates_nothing(app, logged_in, bank, form, message, htmx):
    response = logged_in.post(START, data=form, headers=HX if htmx else {})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "Please fix the highlighted fields" in html
    assert ("<html" in html) is not htmx
    if htmx:
        assert html.lstrip().startswith('<section id="mock-start"')
    assert "<b>x</b>" not in html
    assert count_rows(app, MockInterview) == 0
    assert count_rows(app, MockItem) == 0


def test_no_matching_questions_is_422(app, logged_in, bank, user):
    with app.app_context():
        for question in db.session.scalars(db.select(Question).filter_by(category="Beta")):
            db.session.add(CardFlag(user_id=user.id, question_id=question.id, suspended=True))
        db.session.commit()
    response = logged_in.post(START, data={"questions": "3", "minutes": "5", "categories": ["Beta"]})
    assert response.status_code == 422
    assert "No questions match that mix" in response.get_data(as_text=True)
    assert count_rows(app, MockInterview) == 0


# -- taking it -------------------------------------------------------------------------------------


def test_show_is_the_first_question_with_a_countdown_and_no_answers(app, logged_in, mock_id):
    response = logged_in.get(f"/mock/{mock_id}")
    html = response.get_data(as_text=True)
    first = items(app, mock_id)[0]
    assert response.status_code == 200
    assert "<html" in html and html.count("<h1") == 1
    assert "HX-Request" in response.headers["Vary"]
    assert "Question 1 of 3" in html
    assert first.question.prompt in html
    assert re.search(r'role="timer" aria-live="off"\s+data-remaining="1[12]\d"', html)
    assert "You have 2 minutes for this question" in html
    assert '<label for="draft">Your answer</label>' in html
    assert f'name="item_id" value="{first.id}"' in html
    assert "Submit and next" in html and "End the interview here" in html
    assert 'name="csrf_token"' in html
    assert "js/mock.js" in html and "css/mock.css" in html
    assert "<script>" not in html and "onclick" not in html


def test_show_fragment_for_htmx(logged_in, mock_id):
    response = logged_in.get(f"/mock/{mock_id}", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="mock"')
    assert "Question 1 of 3" in html
    assert "HX-Request" in response.headers["Vary"]


def test_the_clock_starts_when_the_question_is_first_shown(app, logged_in, mock_id):
    assert items(app, mock_id)[0].started_at is None
    logged_in.get(f"/mock/{mock_id}")
    started = items(app, mock_id)[0].started_at
    assert started is not None
    logged_in.get(f"/mock/{mock_id}")
    assert items(app, mock_id)[0].started_at == started
    assert items(app, mock_id)[1].started_at is None


def test_remaining_time_counts_from_the_first_showing(app, logged_in, mock_id):
    first = items(app, mock_id)[0]
    with app.app_context():
        db.session.get(MockItem, first.id).started_at = datetime.now(UTC) - timedelta(seconds=50)
        db.session.commit()
    html = logged_in.get(f"/mock/{mock_id}").get_data(as_text=True)
    assert re.search(r'data-remaining="(6[6-9]|70)"', html)
    with app.app_context():
        db.session.get(MockItem, first.id).started_at = datetime.now(UTC) - timedelta(minutes=5)
        db.session.commit()
    html = logged_in.get(f"/mock/{mock_id}").get_data(as_text=True)
    assert 'data-remaining="0"' in html
    assert "Time is up" in html


def test_answer_then_next_then_results(app, logged_in, mock_id):
    found = items(app, mock_id)
    for n, item in enumerate(found, start=1):
        html = logged_in.get(f"/mock/{mock_id}").get_data(as_text=True)
        assert f"Question {n} of 3" in html
        assert item.question.prompt in html
        response = answer(logged_in, mock_id, item.id, draft=f"  Draft {n}\n")
        assert response.status_code == 303
        assert response.headers["Location"] == f"/mock/{mock_id}"
    response = logged_in.get(f"/mock/{mock_id}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mock/{mock_id}/results"
    assert get_mock(app, mock_id).finished_at is not None
    saved = items(app, mock_id)
    assert [item.draft for item in saved] == ["Draft 1", "Draft 2", "Draft 3"]
    assert all(item.answered_at >= item.started_at for item in saved)
    html = logged_in.get(f"/mock/{mock_id}/results").get_data(as_text=True)
    for n, item in enumerate(saved, start=1):
        assert f"Draft {n}" in html
        assert item.question.answer in html
    assert "first point" in html and "Save ratings" in html


def test_no_model_answer_or_key_points_before_the_end(app, logged_in, mock_id):
    found = items(app, mock_id)
    answers = [item.question.answer for item in found]
    for headers in ({}, HX):
        html = logged_in.get(f"/mock/{mock_id}", headers=headers).get_data(as_text=True)
        assert not any(text in html for text in answers)
        assert "first point" not in html
    for item in found[:-1]:
        html = answer(logged_in, mock_id, item.id, headers=HX).get_data(as_text=True)
        assert not any(text in html for text in answers)
        assert "first point" not in html
        page = logged_in.get(f"/mock/{mock_id}").get_data(as_text=True)
        assert not any(text in page for text in answers)
    # Results (and rating) are not available until the interview is over.
    response = logged_in.get(f"/mock/{mock_id}/results")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mock/{mock_id}"
    response = logged_in.post(f"/mock/{mock_id}/rate", data={f"rating-{found[0].id}": "3"})
    assert response.status_code == 303
    assert count_rows(app, Review) == 0


def test_answer_via_htmx_returns_the_next_question_then_hx_redirect(app, logged_in, mock_id):
    found = items(app, mock_id)
    response = answer(logged_in, mock_id, found[0].id, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="mock"')
    assert 'data-announce="Answer saved. Question 2 of 3."' in html
    assert found[1].question.prompt in html
    assert "HX-Request" in response.headers["Vary"]
    assert items(app, mock_id)[1].started_at is not None  # the fragment shown starts its clock
    answer(logged_in, mock_id, found[1].id, headers=HX)
    response = answer(logged_in, mock_id, found[2].id, headers=HX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/mock/{mock_id}/results"


@pytest.mark.parametrize("htmx", [False, True])
def test_double_submitted_answer_does_not_skip_a_question(app, logged_in, mock_id, htmx):
    found = items(app, mock_id)
    logged_in.get(f"/mock/{mock_id}")
    headers = HX if htmx else {}
    answer(logged_in, mock_id, found[0].id, draft="first", headers=headers)
    second = answer(logged_in, mock_id, found[0].id, draft="again", headers=headers)
    assert second.status_code in (200, 303)
    saved = items(app, mock_id)
    assert saved[0].draft == "first"
    assert saved[1].answered_at is None and saved[1].draft is None
    html = logged_in.get(f"/mock/{mock_id}").get_data(as_text=True)
    assert "Question 2 of 3" in html


@pytest.mark.parametrize("item_id", ["", "abc", "999999"])
def test_answer_with_a_wrong_item_id_changes_nothing(app, logged_in, mock_id, item_id):
    response = logged_in.post(f"/mock/{mock_id}/answer", data={"item_id": item_id, "draft": "x"})
    assert response.status_code == 303
    assert all(item.answered_at is None for item in items(app, mock_id))


def test_draft_is_trimmed_capped_and_escaped(app, logged_in, bank):
    mock_id = start_mock(logged_in, questions="1")
    item = items(app, mock_id)[0]
    answer(logged_in, mock_id, item.id, draft="<script>alert(1)</script>" + "x" * 25_000)
    saved = items(app, mock_id)[0].draft
    assert len(saved) == 20_000
    html = logged_in.get(f"/mock/{mock_id}/results").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html


def test_finish_early_keeps_what_was_written(app, logged_in, mock_id):
    found = items(app, mock_id)
    answer(logged_in, mock_id, found[0].id, draft="one")
    logged_in.get(f"/mock/{mock_id}")
    response = logged_in.post(
        f"/mock/{mock_id}/finish", data={"item_id": str(found[1].id), "draft": "half an answer"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mock/{mock_id}/results"
    assert get_mock(app, mock_id).finished_at is not None
    saved = items(app, mock_id)
    assert [item.draft for item in saved] == ["one", "half an answer", None]
    assert saved[2].answered_at is None and saved[2].started_at is None
    # Nothing more can be answered.
    answer(logged_in, mock_id, found[2].id)
    assert items(app, mock_id)[2].draft is None
    assert logged_in.get(f"/mock/{mock_id}").headers["Location"] == f"/mock/{mock_id}/results"
    html = logged_in.get(f"/mock/{mock_id}/results").get_data(as_text=True)
    assert "half an answer" in html
    assert "You ended the interview before this question" in html
    assert html.count('type="radio"') == 8  # two reached questions × four ratings


def test_finish_with_nothing_written_leaves_the_current_question_unanswered(app, logged_in, mock_id):
    logged_in.get(f"/mock/{mock_id}")
    first = items(app, mock_id)[0]
    response = logged_in.post(
        f"/mock/{mock_id}/finish", data={"item_id": str(first.id), "draft": "  "}, headers=HX
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/mock/{mock_id}/results"
    saved = items(app, mock_id)[0]
    assert saved.answered_at is None and saved.draft is None
    html = logged_in.get(f"/mock/{mock_id}/results").get_data(as_text=True)
    assert "You did not write an answer." in html


# -- access ----------------------------------------------------------------------------------------


def mock_urls(mock_id: int) -> list[tuple[str, str]]:
    return [
        ("get", f"/mock/{mock_id}"),
        ("post", f"/mock/{mock_id}/answer"),
        ("post", f"/mock/{mock_id}/finish"),
        ("get", f"/mock/{mock_id}/results"),
        ("post", f"/mock/{mock_id}/rate"),
    ]


def test_another_users_mock_is_404_everywhere(app, client, auth, bank):
    alice, bob = make_user(app), make_user(app)
    auth.login(alice.email)
    mock_id = start_mock(client, questions="2")
    found = items(app, mock_id)
    answer_all(app, client, mock_id)
    auth.logout()
    auth.login(bob.email)
    for method, url in [*mock_urls(mock_id), *mock_urls(999_999)]:
        data = {"item_id": str(found[0].id), "draft": "hijack", f"rating-{found[0].id}": "1"}
        for headers in ({}, HX):
            response = getattr(client, method)(url, data=data, headers=headers)
            assert response.status_code == 404, (method, url)
    assert count_rows(app, Review) == 0
    assert get_mock(app, mock_id).rated_at is None
    assert [item.draft for item in items(app, mock_id)] == [f"Draft for {i.question.key}" for i in found]


def test_anonymous_users_are_sent_to_sign_in(app, client, bank):
    for method, url in [("get", START), ("post", START), *mock_urls(1)]:
        response = getattr(client, method)(url)
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/auth/login")
        response = getattr(client, method)(url, headers=HX)
        assert response.headers["HX-Redirect"].startswith("/auth/login")


def test_posts_need_the_csrf_token_when_csrf_is_on(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    load_bank(app, bank_dict(n_questions=3, categories=CATEGORIES))
    user = make_user(app)
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    response = client.post(START, data={"questions": "2", "minutes": "1"})
    assert response.status_code == 400
    assert count_rows(app, MockInterview) == 0
    start = client.get(START).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', start).group(1)
    response = client.post(START, data={"questions": "2", "minutes": "1", "csrf_token": token})
    assert response.status_code == 303
    show = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'name="csrf_token" value="[^"]+"', show)
