"""Numbers that agree and say what they count (issue "The drill on any screen")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from careerprep.extensions import db
from careerprep.models import CardState, MockItem, Question, Review, Role, User
from careerprep.practice.queue import queue_counts
from careerprep.progress.role import role_progress
from tests.conftest import PASSWORD, card_state, load_bank, make_user, rating_token, reveal_url

DRILL = "/roles/test-role/drill"


def rate(client, rating: str, headers=None):
    back = client.get(reveal_url(client.get(DRILL).get_data(as_text=True))).get_data(as_text=True)
    return client.post(DRILL, data={"token": rating_token(back), "rating": rating}, headers=headers or {})


def queue_line(html: str) -> str:
    match = re.search(r'<p class="queue-counts"[^>]*>(.*?)</p>', html, re.S)
    assert match, "no queue line"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_the_queue_line_counts_cards_coming_back_later_today(app, logged_in):
    load_bank(app, n_questions=3)
    rate(logged_in, "1")  # Again: the card is learning and comes back in a minute
    line = queue_line(logged_in.get(DRILL).get_data(as_text=True))
    assert "1 done today" in line
    with app.app_context():
        user = db.session.scalar(db.select(User))
        role = db.session.scalar(db.select(Role))
        counts = queue_counts(user, role, datetime.now(UTC))
    assert counts.learning == 1 and counts.done_today == 1
    assert counts.to_go == counts.learning + counts.new_remaining + min(counts.due, counts.reviews_remaining)
    assert f"{counts.new_remaining} new left" in line


def test_the_back_of_a_card_keeps_the_queue_line(app, logged_in):
    load_bank(app, n_questions=3)
    back = logged_in.get(reveal_url(logged_in.get(DRILL).get_data(as_text=True)))
    assert "new left" in queue_line(back.get_data(as_text=True))


def test_competency_rows_add_up(app, user):
    load_bank(app, n_questions=6)
    now = datetime.now(UTC)
    with app.app_context():
        qids = db.session.scalars(db.select(Question.id).order_by(Question.id)).all()
        db.session.add_all(
            [
                card_state(user.id, qids[0], state=2, stability=30.0),  # well known
                card_state(user.id, qids[1], state=2, stability=4.0),  # learned
                card_state(user.id, qids[2], state=1, stability=0.5, due=now + timedelta(minutes=5)),
            ]
        )
        db.session.commit()
        data = role_progress(db.session.get(User, user.id), db.session.scalar(db.select(Role)), now)
    for c in data.categories:
        assert c.new + c.learning + c.young + c.mastered == c.total, c
    assert sum(c.young for c in data.categories) == 1
    assert sum(c.mastered for c in data.categories) == 1


def test_role_progress_shows_the_learned_column(app, logged_in):
    load_bank(app, n_questions=3)
    rate(logged_in, "3")
    page = logged_in.get("/roles/test-role/progress").get_data(as_text=True)
    assert "Learned" in page and "Well known" in page and "Not started" in page


def test_weakest_puts_a_card_just_failed_first_and_says_it_is_still_learning(app, user):
    load_bank(app, n_questions=4)
    now = datetime.now(UTC)
    with app.app_context():
        qids = db.session.scalars(db.select(Question.id).order_by(Question.id)).all()
        db.session.add_all(
            [
                # Reviewed days ago with a short stability: low recall now.
                card_state(user.id, qids[0], stability=1.0, last_review=now - timedelta(days=6)),
                # Failed a minute ago: relearning; its recall this minute is still 100%.
                card_state(
                    user.id,
                    qids[1],
                    state=3,
                    stability=0.3,
                    last_review=now - timedelta(minutes=1),
                    due=now + timedelta(minutes=9),
                ),
            ]
        )
        db.session.commit()
        data = role_progress(db.session.get(User, user.id), db.session.scalar(db.select(Role)), now)
    assert [w.question.id for w in data.weakest] == [qids[1], qids[0]]
    assert data.weakest[0].learning and not data.weakest[1].learning


def test_session_time_is_shown_in_seconds_under_a_minute(app, logged_in):
    load_bank(app, n_questions=3)
    rate(logged_in, "3")
    page = logged_in.get(DRILL + "/summary").get_data(as_text=True)
    assert re.search(r"<dt>Time</dt><dd>\d+ s</dd>", page), "time should read in seconds"
    assert "0.0 min" not in page


def test_history_shows_coverage_only_when_the_checklist_was_used(app, logged_in):
    load_bank(app, n_questions=2)
    rate(logged_in, "4")  # rated without touching the checklist
    with app.app_context():
        review = db.session.scalar(db.select(Review))
        assert review.covered is None
        qid = review.question_id
    assert "covered" not in logged_in.get(f"/questions/{qid}/history").get_data(as_text=True)


def test_prepare_mode_shows_a_card_coming_back_within_minutes(app, logged_in, user):
    load_bank(app, n_questions=1)
    day = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    assert logged_in.post("/roles/test-role/plan", data={"interview_date": day}).status_code == 303
    rate(logged_in, "1")  # the only card, failed: it comes back in a minute
    page = logged_in.get(DRILL + "?mode=prepare").get_data(as_text=True)
    assert "Show answer" in page and "Done for now" not in page


# -- mock interviews: what is not rated is not recorded ---------------------------------------------


def test_unrated_mock_questions_are_not_recorded(app, logged_in):
    load_bank(app, n_questions=4)
    start = logged_in.post(
        "/roles/test-role/mock", data={"questions": "2", "minutes": "2"}, follow_redirects=False
    )
    mock_url = start.headers["Location"]
    for _ in range(2):
        page = logged_in.get(mock_url).get_data(as_text=True)
        item = re.search(r'name="item_id" value="(\d+)"', page).group(1)
        logged_in.post(mock_url + "/answer", data={"item_id": item, "draft": "my answer"})
    with app.app_context():
        items = db.session.scalars(db.select(MockItem).order_by(MockItem.position)).all()
        first, second = items[0].id, items[1].id
    results = logged_in.get(mock_url + "/results").get_data(as_text=True)
    assert "a question you leave unrated is not recorded" in results
    logged_in.post(mock_url + "/rate", data={f"rating-{first}": "3", f"covered-{second}": "0"})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 1
        assert db.session.scalar(db.select(db.func.count(CardState.id))) == 1
        assert db.session.get(MockItem, second).rating is None
    assert "Not rated, so not recorded." in logged_in.get(mock_url + "/results").get_data(as_text=True)


# -- time zone: detected at sign-up, offered when the browser differs ---------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("America/Los_Angeles", "America/Los_Angeles"),
        ("Mars/Olympus", "UTC"),
        ("", "UTC"),
        ("localtime", "UTC"),
    ],
)
def test_sign_up_takes_the_browser_time_zone_when_it_is_a_real_one(app, client, sent, stored):
    response = client.post(
        "/auth/register",
        data={
            "display_name": "Zoe",
            "email": "zoe@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "timezone": sent,
        },
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(User.timezone)) == stored


def test_the_account_page_offers_the_browser_zone(app, logged_in, user):
    page = logged_in.get("/account/").get_data(as_text=True)
    assert 'class="alert alert-info zone-offer" data-account-zone="UTC" hidden' in page
    response = logged_in.post("/account/timezone", data={"timezone": "Europe/Paris"})
    assert response.status_code == 303
    assert logged_in.post("/account/timezone", data={"timezone": "Nowhere/Else"}).status_code == 422
    with app.app_context():
        assert db.session.get(User, user.id).timezone == "Europe/Paris"


def test_the_roles_page_shows_the_featured_role_first(app, client):
    load_bank(app, n_questions=3, role_slug="aardvark-engineer")
    load_bank(app, n_questions=3, role_slug="software-systems-engineer", set_slug="sse")
    page = client.get("/roles").get_data(as_text=True)
    assert page.index("Role software-systems-engineer") < page.index("Role aardvark-engineer")
    assert "role-card-featured" in page


def test_a_suspended_card_can_be_put_back_from_the_drill(app, logged_in):
    load_bank(app, n_questions=2)
    front = logged_in.get(DRILL).get_data(as_text=True)
    hx = {"HX-Request": "true"}
    response = logged_in.post(
        DRILL + "/flag", data={"token": rating_token(front), "action": "suspend"}, headers=hx
    )
    page = response.get_data(as_text=True)
    assert "Card suspended." in page and ">Undo</button>" in page
    qid = re.search(r'name="question_id" value="(\d+)"', page).group(1)
    back = logged_in.post(DRILL + "/unflag", data={"question_id": qid}, headers=hx)
    assert back.status_code == 200 and "Card is back in your queue." in back.get_data(as_text=True)
    other = make_user(app)
    client = app.test_client()
    client.post("/auth/login", data={"email": other.email, "password": PASSWORD})
    assert client.post(DRILL + "/unflag", data={"question_id": qid}).status_code == 404
