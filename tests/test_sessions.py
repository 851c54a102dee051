"""Sessions that really end: logout, password change, other devices, disabled users."""

from __future__ import annotations

import pytest

from careerprep.extensions import db
from careerprep.models import User, UserSession
from tests.conftest import PASSWORD, make_user
from tests.helpers import sign_in


def copy_cookies(source, target, names=("session", "remember_token")):
    """Give `target` the same cookies as `source` (an attacker copying a cookie jar)."""
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


@pytest.fixture
def device(app):
    """A second browser."""
    return app.test_client()


@pytest.mark.parametrize("names", [("session",), ("remember_token",), ("session", "remember_token")])
def test_cookie_copied_before_logout_stops_working(app, client, device, user, names):
    sign_in(client, user.email, remember=True)
    copy_cookies(client, device, names)
    assert device.get("/dashboard").status_code == 200
    assert client.post("/auth/logout").status_code == 303
    assert device.get("/dashboard").status_code == 303
    assert client.get("/dashboard").status_code == 303


def test_logout_ends_only_this_device(app, client, device, user):
    sign_in(client, user.email, remember=True)
    sign_in(device, user.email, remember=True)
    client.post("/auth/logout")
    assert device.get("/dashboard").status_code == 200


def test_password_change_ends_other_sessions_and_copied_cookies(app, client, device, user):
    sign_in(client, user.email, remember=True)
    stolen = app.test_client()
    copy_cookies(client, stolen)
    sign_in(device, user.email, remember=True)
    response = client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "new": "a brand new password",
            "confirm": "a brand new password",
        },
    )
    assert response.status_code == 303
    page = client.get("/account/").get_data(as_text=True)
    assert "Password changed." in page
    # The device that changed it stays signed in; everything else is out.
    assert client.get("/dashboard").status_code == 200
    assert device.get("/dashboard").status_code == 303
    # The stolen copy shares this device's sign-in: it still works until this device signs out.
    client.post("/auth/logout")
    assert stolen.get("/dashboard").status_code == 303
    # New password works, old one does not.
    fresh = app.test_client()
    assert fresh.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 422
    assert (
        fresh.post("/auth/login", data={"email": user.email, "password": "a brand new password"}).status_code
        == 303
    )


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"current": "wrong password", "new": "a brand new password", "confirm": "a brand new password"},
            b"That is not your current password.",
        ),
        ({"current": PASSWORD, "new": "short", "confirm": "short"}, b"at least 8 characters"),
        (
            {"current": PASSWORD, "new": "a brand new password", "confirm": "different one"},
            b"Passwords differ.",
        ),
        ({"new": "a brand new password", "confirm": "a brand new password"}, b"This field is required."),
    ],
)
def test_password_change_refuses_bad_input_and_changes_nothing(app, client, user, form, message):
    sign_in(client, user.email, remember=True)
    with app.app_context():
        before = db.session.get(User, user.id).password_hash
    response = client.post("/account/password", data=form)
    assert response.status_code == 422
    assert message in response.data
    with app.app_context():
        assert db.session.get(User, user.id).password_hash == before


def test_sign_out_other_devices(app, client, device, user):
    sign_in(client, user.email, remember=True)
    sign_in(device, user.email, remember=True)
    page = client.get("/account/").get_data(as_text=True)
    assert page.count("signed in ") == 2 and page.count("This device") == 1
    assert page.count("Sign out this device") == 1  # the other sign-in, not this one
    response = client.post("/account/sessions/revoke-others")
    assert response.status_code == 303
    assert "Signed out 1 other device." in client.get("/account/").get_data(as_text=True)
    assert client.get("/dashboard").status_code == 200
    assert device.get("/dashboard").status_code == 303


def test_disabled_user_loses_access_on_the_next_request(app, client, user):
    sign_in(client, user.email, remember=True)
    assert client.get("/dashboard").status_code == 200
    with app.app_context():
        db.session.get(User, user.id).is_active = False
        db.session.commit()
    assert client.get("/dashboard").status_code == 303


def test_sessions_store_only_a_hash_of_the_token(app, client, user):
    sign_in(client, user.email, remember=True)
    with app.app_context():
        row = db.session.scalar(db.select(UserSession))
    cookie_id = client.get_cookie("remember_token").value
    token = cookie_id.split("|")[0].split(":", 1)[1]
    assert token not in row.token_hash
    assert len(row.token_hash) == 64


def test_account_page_requires_login(client):
    assert client.get("/account/").status_code == 303
    assert client.post("/account/password").status_code == 303


def test_another_users_session_cookie_does_not_cross_over(app, client, device):
    alice = make_user(app)
    bob = make_user(app)
    sign_in(client, alice.email, remember=True)
    sign_in(device, bob.email, remember=True)
    assert f"{alice.display_name}" in client.get("/account/").get_data(as_text=True)
    assert f"{bob.display_name}" in device.get("/account/").get_data(as_text=True)
