"""Deleting an account with every row that belongs to it (careerprep/account/deletion.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from careerprep.account.deletion import deletions
from careerprep.extensions import db
from careerprep.models import MockInterview, Question, User
from tests.conftest import PASSWORD, count_queries, make_user
from tests.helpers import seed_account, sign_in


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


# `bank` is conftest's five questions (test_account_export overrides it only for a long prompt).
@pytest.fixture
def doomed(app, logged_in, user, bank, other_user):
    """The signed-in user with a full footprint, and how many rows of theirs there are."""
    seed_account(app, user, "MINE")
    counts = rows_of(app, user.id, mock_ids_of(app, user.id))
    assert all(counts[name] for name in counts if name != "user_session")
    return counts


# -- deleting the account --------------------------------------------------------------------------


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


def test_delete_removes_every_row_of_the_user_and_signs_out(app, logged_in, user, doomed, other_user):
    mine = mock_ids_of(app, user.id)
    theirs = mock_ids_of(app, other_user.id)
    other_before = rows_of(app, other_user.id, theirs)
    with count_queries(app) as statements:
        response = logged_in.post(
            "/account/delete", data={"delete-password": PASSWORD, "delete-confirm": "y"}
        )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    # Every table was emptied explicitly, children before the rows they point to.
    deleted = [m.group(1) for s in statements if (m := re.match(r'DELETE FROM "?(\w+)"?', s))]
    assert deleted == [
        "recording",
        "mock_item",
        "mock_interview",
        "review",
        "activity_day",
        "card_flag",
        "card_state",
        "role_plan",
        "scheduler_fit",
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
    assert rows_of(app, other_user.id, theirs) == other_before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 5  # the catalogue stays
    sign_in(app.test_client(), other_user.email)


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
    sign_in(client, doomed_user.email, remember=True)
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
    sign_in(client, admin.email)
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
    sign_in(client, someone.email)
    wrong = {"delete-password": "wrong password", "delete-confirm": "y"}
    statuses = [client.post("/account/delete", data=wrong).status_code for _ in range(11)]
    assert statuses == [422] * 10 + [429]
    right = {"delete-password": PASSWORD, "delete-confirm": "y"}
    assert client.post("/account/delete", data=right).status_code == 429
    with app.app_context():
        assert db.session.get(User, someone.id) is not None


# -- access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), [("post", "/account/delete")])
def test_anonymous_users_are_sent_to_sign_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/login")


def test_delete_only_accepts_post(client, logged_in):
    assert client.get("/account/delete").status_code == 405
