"""Interview practice in the drill: settings, drafts, checklist, modes, undo, flags, summary, history."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import fsrs
import pytest

from careerprep.extensions import db
from careerprep.models import CardFlag, CardState, Question, Review, User
from careerprep.practice.rating import QUICK_SECONDS, SLOW_SECONDS, suggest_rating
from careerprep.scheduling import format_interval
from tests.conftest import card_state, count_queries, load_bank, make_user, rating_token
from tests.helpers import DRILL, HX, front, question_ids, rate, reveal, set_user

BANK = {"n_questions": 6}  # conftest's `bank`: q-0 … q-5, alternately Alpha and Beta


# -- settings ----------------------------------------------------------------------------------------

GOOD_SETTINGS = {
    "new_per_day": "15",
    "max_reviews_per_day": "150",
    "desired_retention": "0.85",
    "draft_enabled": "y",
    "mock_questions": "4",
    "mock_minutes": "5",
    "timezone": "Europe/Paris",
}


def test_settings_are_saved(app, logged_in, user):
    page = logged_in.get("/account/").get_data(as_text=True)
    assert "Aim to remember" in page and "90 is a good balance" in page and 'value="90"' in page
    response = logged_in.post("/account/settings", data=GOOD_SETTINGS)
    assert response.status_code == 303
    with app.app_context():
        saved = db.session.get(User, user.id)
        assert (
            saved.new_per_day,
            saved.max_reviews_per_day,
            saved.desired_retention,
            saved.draft_enabled,
            saved.mock_questions,
            saved.mock_minutes,
            saved.timezone,
        ) == (15, 150, 0.85, True, 4, 5, "Europe/Paris")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("desired_retention", "0.5", "Use 70 to 97 (percent)."),
        ("desired_retention", "0.99", "Use 70 to 97 (percent)."),
        ("desired_retention", "50", "Use 70 to 97 (percent)."),
        ("desired_retention", "99 %", "Use 70 to 97 (percent)."),
        ("desired_retention", "", "Enter a percentage such as 90."),
        ("desired_retention", "lots", "Not a valid decimal value."),
        ("new_per_day", "-1", "Use 0 to 200."),
        ("new_per_day", "", "Enter a number."),
        ("max_reviews_per_day", "0", "Use 1 to 9999."),
        ("mock_questions", "40", "Use 1 to 15."),
        ("mock_minutes", "0", "Use 1 to 30."),
        ("timezone", "Mars/Olympus_Mons", "Not a valid choice"),
    ],
)
def test_invalid_settings_are_refused_and_change_nothing(app, logged_in, user, field, value, message):
    response = logged_in.post("/account/settings", data={**GOOD_SETTINGS, field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        saved = db.session.get(User, user.id)
        assert (saved.new_per_day, saved.desired_retention, saved.timezone) == (10, 0.9, "UTC")


def test_retention_setting_changes_the_intervals(app, logged_in, user, bank):
    set_user(app, user, desired_retention=0.97)
    high = re.search(r"Easy</span> <span class=\"rate-interval\">(\w+)<", reveal(logged_in)).group(1)
    set_user(app, user, desired_retention=0.7)
    low = re.search(r"Easy</span> <span class=\"rate-interval\">(\w+)<", reveal(logged_in)).group(1)
    expected = {}
    for retention in (0.97, 0.7):
        card, _ = fsrs.Scheduler(desired_retention=retention, enable_fuzzing=False).review_card(
            fsrs.Card(card_id=1), fsrs.Rating.Easy
        )
        expected[retention] = card.due - card.last_review
    assert expected[0.7] > expected[0.97]
    assert (high, low) == (format_interval(expected[0.97]), format_interval(expected[0.7]))


# -- drafts, checklist, suggested rating, history ------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_draft_is_shown_beside_the_model_answer_and_saved(app, logged_in, user, bank, htmx):
    set_user(app, user, draft_enabled=True)
    page = front(logged_in)
    assert 'name="draft"' in page and "Draft your answer" in page
    headers = HX if htmx else {}
    back = logged_in.post(
        DRILL + "/reveal", data={"token": rating_token(page), "draft": "Use a <b>mutex</b>."}, headers=headers
    )
    html = back.get_data(as_text=True)
    assert back.status_code == 200 and "HX-Request" in back.headers["Vary"]
    assert ("<html" in html) is not htmx
    assert "Your draft" in html and "Use a &lt;b&gt;mutex&lt;/b&gt;." in html
    assert "Answer number 0." in html
    response = logged_in.post(
        DRILL,
        data={
            "token": rating_token(html),
            "rating": "3",
            "checklist": "1",
            "covered": ["0", "2"],
            "draft": "Use a <b>mutex</b>.",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        review = db.session.scalar(db.select(Review))
        assert review.draft == "Use a <b>mutex</b>."
        assert review.covered == [0, 2] and review.key_point_count == 3


def test_draft_box_off_shows_a_plain_reveal_link(logged_in, bank):
    page = front(logged_in)
    assert 'name="draft"' not in page and 'href="/roles/test-role/drill?reveal=' in page


@pytest.mark.parametrize(
    ("covered", "total", "seconds", "expected"),
    [
        (0, 5, 10, 1),
        (1, 5, 10, 1),
        (2, 5, 10, 1),  # most points missing: the answer would fail, so Again (no longer Hard)
        (1, 3, 10, 1),
        (3, 5, 10, 3),
        (4, 5, 10, 3),
        (4, 5, SLOW_SECONDS + 1, 3),  # most but not all, slowly: still Good
        (5, 5, 10, 4),
        (5, 5, QUICK_SECONDS, 4),
        (5, 5, QUICK_SECONDS + 1, 3),
        (5, 5, SLOW_SECONDS, 3),
        (5, 5, SLOW_SECONDS + 1, 2),  # all of them, recalled with effort: Hard
        (5, 5, None, 3),
        (0, 0, 10, 3),
    ],
)
def test_suggested_rating_rule(covered, total, seconds, expected):
    assert suggest_rating(covered, total, seconds) == expected


def test_rate_from_checklist_uses_the_rule(app, logged_in, bank):
    back = reveal(logged_in)
    assert "Rate from my checklist" in back
    response = logged_in.post(
        DRILL,
        data={
            "token": rating_token(back),
            "rating": "auto",
            "checklist": "1",
            "covered": ["0"],
            "answer_seconds": "5",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Review.rating)) == 1  # 1 of 3 key points: most missing → Again


@pytest.mark.parametrize(("seconds", "expected"), [("0", 4), ("90", 4), ("91", 3), ("", 3), ("9" * 20, 3)])
def test_rate_from_checklist_counts_an_answer_within_the_same_second_as_quick(
    app, logged_in, bank, seconds, expected
):
    # The reveal says "Easy" for every point within 90 s, 0 s included; the rating applies the same.
    back = reveal(logged_in)
    data = {"token": rating_token(back), "rating": "auto", "checklist": "1", "covered": ["0", "1", "2"]}
    assert logged_in.post(DRILL, data={**data, "answer_seconds": seconds}).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Review.rating)) == expected


@pytest.mark.parametrize("covered", [["3"], ["-1"], ["x"], ["0", "99"]])
def test_bad_coverage_is_400_and_writes_nothing(app, logged_in, bank, covered):
    back = reveal(logged_in)
    response = logged_in.post(
        DRILL, data={"token": rating_token(back), "rating": "3", "checklist": "1", "covered": covered}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 0


def test_history_lists_every_attempt(app, logged_in, user):
    load_bank(app, n_questions=1)  # the same card comes back (learn-ahead) for the second attempt
    set_user(app, user, draft_enabled=True)
    for text, rating in (("first try", 1), ("second try", 3)):
        page = front(logged_in)
        back = logged_in.post(DRILL + "/reveal", data={"token": rating_token(page), "draft": text})
        logged_in.post(
            DRILL,
            data={
                "token": rating_token(back.get_data(as_text=True)),
                "rating": str(rating),
                "checklist": "1",
                "covered": ["1"],
                "draft": text,
            },
        )
    qid = question_ids(app)["q-0"]
    html = logged_in.get(f"/questions/{qid}/history").get_data(as_text=True)
    assert html.index("second try") < html.index("first try")  # newest first
    assert ">Good<" in html and ">Again<" in html
    assert "covered 1 of 3 key points" in html
    other = make_user(app)
    stranger = app.test_client()
    stranger.post("/auth/login", data={"email": other.email, "password": "correct horse battery"})
    theirs = stranger.get(f"/questions/{qid}/history").get_data(as_text=True)
    assert "first try" not in theirs and "You have not answered this question yet." in theirs
    assert logged_in.get("/questions/999999/history").status_code == 404


# -- modes ------------------------------------------------------------------------------------------------


def test_learn_mode_shows_only_new_cards(app, logged_in, user, bank):
    ids = question_ids(app)
    with app.app_context():
        db.session.add(card_state(user.id, ids["q-1"], due=datetime.now(UTC) - timedelta(days=1)))
        db.session.commit()
    assert "Question number 1?" in front(logged_in)  # due first by default
    assert "Question number 0?" in front(logged_in, DRILL + "?mode=learn")


def test_weak_mode_orders_by_lowest_predicted_recall(app, logged_in, user, bank):
    ids = question_ids(app)
    now = datetime.now(UTC)
    with app.app_context():
        db.session.add(
            card_state(
                user.id,
                ids["q-1"],
                stability=30.0,
                last_review=now - timedelta(days=2),
                due=now + timedelta(days=20),
            )
        )
        db.session.add(
            card_state(
                user.id,
                ids["q-2"],
                stability=2.0,
                last_review=now - timedelta(days=9),
                due=now + timedelta(days=1),
            )
        )
        db.session.add(
            card_state(
                user.id,
                ids["q-3"],
                stability=8.0,
                last_review=now - timedelta(days=3),
                due=now + timedelta(days=3),
                lapses=4,
            )
        )
        db.session.commit()
    assert "Question number 2?" in front(logged_in, DRILL + "?mode=weak")
    rate(logged_in, 4, DRILL + "?mode=weak")
    assert "Question number 3?" in front(logged_in, DRILL + "?mode=weak")


def test_focus_mode_filters(app, logged_in, bank):
    html = front(logged_in, DRILL + "?mode=focus")
    assert "Apply focus" in html and 'value="Beta"' in html
    assert "Question number 3?" in front(logged_in, DRILL + "?mode=focus&category=Beta")  # easiest Beta
    assert "Question number 5?" in front(logged_in, DRILL + "?mode=focus&category=Beta&difficulty=3")
    assert "Question number 0?" in front(logged_in, DRILL + "?mode=focus&tag=test")
    assert "Done for now" in front(logged_in, DRILL + "?mode=focus&tag=no-such-tag")


def test_focus_ratings_go_through_fsrs_and_keep_the_focus(app, logged_in, bank):
    response = rate(
        logged_in, 3, DRILL + "?mode=focus&category=Beta", extra={"mode": "focus", "category": "Beta"}
    )
    assert response.headers["Location"] == "/roles/test-role/drill?mode=focus&category=Beta"
    with app.app_context():
        review = db.session.scalar(db.select(Review))
        assert review.mode == "focus" and db.session.get(Question, review.question_id).category == "Beta"
        assert db.session.scalar(db.select(CardState.reps)) == 1


def test_daily_review_limit(app, logged_in, user, bank):
    ids = question_ids(app)
    now = datetime.now(UTC)
    set_user(app, user, max_reviews_per_day=1, new_per_day=0)
    with app.app_context():
        for key in ("q-1", "q-2"):
            db.session.add(card_state(user.id, ids[key], due=now - timedelta(hours=1)))
        db.session.commit()
    rate(logged_in, 3)
    html = front(logged_in)
    assert "Done for now" in html and "today's limit of 1 reviews" in html


def test_mode_query_counts_stay_flat(app, logged_in, bank):
    for mode in ("due", "learn", "weak", "focus"):
        with count_queries(app) as statements:
            assert logged_in.get(f"{DRILL}?mode={mode}", headers=HX).status_code == 200
        assert len(statements) <= 6, (mode, statements)


# -- undo ---------------------------------------------------------------------------------------------------


def snapshot_state(app, key="q-0"):
    with app.app_context():
        qid = db.session.scalar(db.select(Question.id).filter_by(key=key))
        state = db.session.scalar(db.select(CardState).filter_by(question_id=qid))
        if state is None:
            return None
        return (
            state.state,
            state.step,
            state.stability,
            state.difficulty,
            state.due,
            state.last_review,
            state.reps,
            state.lapses,
        )


def undo_id(html):
    return re.search(r'name="review_id" value="(\d+)"', html).group(1)


def test_undo_restores_the_previous_state_exactly(app, logged_in, user):
    load_bank(app, n_questions=1)
    rate(logged_in, 3)
    before = snapshot_state(app)
    # learn-ahead brings the same card back: rate it again, then undo that rating.
    page = rate(logged_in, 1, htmx=True).get_data(as_text=True)
    assert snapshot_state(app) != before
    response = logged_in.post(DRILL + "/undo", data={"review_id": undo_id(page)}, headers=HX)
    assert 'data-announce="Undid Again."' in response.get_data(as_text=True)
    assert snapshot_state(app) == before
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 1


def test_undo_several_steps_and_back_to_new(app, logged_in):
    load_bank(app, n_questions=3)
    pages = [rate(logged_in, 3, htmx=True).get_data(as_text=True) for _ in range(3)]
    for page in reversed(pages):
        assert logged_in.post(DRILL + "/undo", data={"review_id": undo_id(page)}).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 0
        assert db.session.scalar(db.select(db.func.count(CardState.id))) == 0  # all new again


def test_double_submitted_undo_undoes_once(app, logged_in):
    load_bank(app, n_questions=3)
    rate(logged_in, 3)
    page = rate(logged_in, 3, htmx=True).get_data(as_text=True)
    for _ in range(2):
        logged_in.post(DRILL + "/undo", data={"review_id": undo_id(page)})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 1


def test_undo_cannot_touch_another_users_review(app, client, bank):
    alice, bob = make_user(app), make_user(app)
    client.post("/auth/login", data={"email": alice.email, "password": "correct horse battery"})
    page = rate(client, 3, htmx=True).get_data(as_text=True)
    client.post("/auth/logout")
    client.post("/auth/login", data={"email": bob.email, "password": "correct horse battery"})
    client.post(DRILL + "/undo", data={"review_id": undo_id(page)})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 1


# -- suspend, bury, leeches, summary ----------------------------------------------------------------------


@pytest.mark.parametrize("action", ["suspend", "bury"])
def test_suspend_and_bury_hide_the_card(app, logged_in, user, bank, action):
    page = front(logged_in)
    assert "Question number 0?" in page
    response = logged_in.post(
        DRILL + "/flag", data={"token": rating_token(reveal(logged_in)), "action": action}, headers=HX
    )
    html = response.get_data(as_text=True)
    assert "Question number 0?" not in html
    assert ("suspended" if action == "suspend" else "buried until tomorrow") in html
    with app.app_context():
        flag = db.session.scalar(db.select(CardFlag))
        if action == "bury":
            assert flag.buried_until > datetime.now(UTC) and not flag.suspended
    qid = question_ids(app)["q-0"]
    assert logged_in.post(f"/questions/{qid}/unsuspend").status_code == 303
    assert "Question number 0?" in front(logged_in)


def test_leech_is_suspended_with_a_notice(app, logged_in, user):
    load_bank(app, n_questions=2)
    qid = question_ids(app)["q-0"]
    with app.app_context():
        db.session.add(card_state(user.id, qid, lapses=7, due=datetime.now(UTC) - timedelta(days=1)))
        db.session.commit()
    html = rate(logged_in, 1, htmx=True).get_data(as_text=True)
    assert "Leech" in html and "suspended" in html
    with app.app_context():
        flag = db.session.scalar(db.select(CardFlag))
        assert flag.leech and flag.suspended
    assert "is a <strong>leech</strong>" in logged_in.get(f"/questions/{qid}/history").get_data(as_text=True)


def test_session_summary(app, logged_in, bank):
    for rating in (3, 3, 1, 4):
        rate(logged_in, rating)
    html = logged_in.get(DRILL + "/summary").get_data(as_text=True)
    assert 'id="summary-cards">4<' in html
    assert "<dt>Good</dt><dd>2</dd>" in html and "<dt>Again</dt><dd>1</dd>" in html
    assert "next card in this role is due" in html
    assert logged_in.post(DRILL + "/summary").status_code == 303
    assert "No cards rated in this session yet." in logged_in.get(DRILL + "/summary").get_data(as_text=True)


def test_done_card_shows_the_session_summary(app, logged_in):
    load_bank(app, n_questions=1)
    rate(logged_in, 4)
    html = front(logged_in)
    assert "Done for now" in html and "This session" in html
