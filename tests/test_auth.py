"""Sign up, sign in, sign out, passwords, `next`, CSRF and rate limiting."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from careerprep.extensions import db
from careerprep.models import User
from tests.conftest import DROP, PASSWORD, make_user


def register(
    client, email="new@example.com", password="a good long password", confirm=None, name="New Person", **extra
):
    return client.post(
        "/auth/register",
        data={
            "display_name": name,
            "email": email,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
        **extra,
    )


def test_register_creates_user_and_signs_in(app, client):
    response = register(client, email="  New@Example.COM ")
    assert response.status_code == 303
    assert response.headers["Location"] == "/roles"
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert user.email == "new@example.com"
        assert user.display_name == "New Person"
        assert user.password_hash != "a good long password"
    assert client.get("/dashboard").status_code == 200


def test_register_duplicate_email_is_case_insensitive(app, client, user):
    response = register(client, email=user.email.upper())
    assert response.status_code == 422
    assert b"already exists" in response.data
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", None, b"at least 8 characters"),
        ("x" * 129, None, b"at most 128 characters"),
        ("a good long password", "something else", b"Passwords differ"),
    ],
)
def test_register_rejects_bad_passwords(app, client, password, confirm, message):
    response = register(client, password=password, confirm=confirm)
    assert response.status_code == 422
    assert message in response.data
    assert b'value="new@example.com"' in response.data  # the form keeps its values
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_register_rejects_bad_email(app, client):
    response = register(client, email="not-an-email")
    assert response.status_code == 422
    assert b"Enter an email address" in response.data


def test_password_boundaries_accepted(app, client):
    assert register(client, email="a@example.com", password="x" * 8).status_code == 303
    client.post("/auth/logout")
    assert register(client, email="b@example.com", password="y" * 128).status_code == 303


def test_production_hash_is_scrypt_n_2_17(make_app):
    app = make_app(PASSWORD_HASH_METHOD=DROP)
    client = app.test_client()
    assert register(client).status_code == 303
    with app.app_context():
        hashed = db.session.scalar(db.select(User.password_hash))
    assert hashed.startswith("scrypt:131072:8:1$")


def test_login_rehashes_an_older_hash(app, client, auth):
    from werkzeug.security import generate_password_hash

    weak = generate_password_hash(PASSWORD, method="scrypt:512:8:1")
    user = make_user(app, password_hash=weak)
    assert auth.login(user.email).status_code == 303
    with app.app_context():
        assert db.session.get(User, user.id).password_hash.startswith("scrypt:1024:8:1$")


def test_login_and_logout(client, auth, user):
    response = auth.login(user.email.upper())
    assert response.status_code == 303
    assert client.get("/dashboard").status_code == 200
    response = auth.logout()
    assert response.status_code == 303
    assert client.get("/dashboard").status_code == 303


def test_logout_is_post_only(logged_in):
    assert logged_in.get("/auth/logout").status_code == 405
    assert logged_in.get("/dashboard").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_message(client, auth, user):
    wrong = auth.login(user.email, "not the password")
    unknown = auth.login("nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 422
    assert b"Email or password is incorrect." in wrong.data
    assert b"Email or password is incorrect." in unknown.data
    assert client.get("/dashboard").status_code == 303


def test_disabled_user_cannot_sign_in(app, auth):
    user = make_user(app, is_active=False)
    assert auth.login(user.email).status_code == 422


def test_remember_me_sets_a_cookie(client, auth, user):
    auth.login(user.email, remember="y")
    assert client.get_cookie("remember_token") is not None


def test_login_renews_the_session(app, client, auth, user):
    with client.session_transaction() as session:
        session["planted"] = "attacker value"
    auth.login(user.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "https://evil.example/x",
        "\\\\evil.example",
        " //evil.example",
        "/\tevil.example",
        "javascript:alert(1)",
    ],
)
def test_next_never_leaves_the_site(client, auth, user, target):
    response = client.post(
        "/auth/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
    if "evil.example" in target:
        assert location == "/roles"


def test_next_within_the_site_is_followed(client, user):
    response = client.post(
        "/auth/login", query_string={"next": "/dashboard"}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/dashboard"


def test_protected_page_redirects_to_login_with_next(client):
    response = client.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/login?next=/dashboard")


def test_htmx_unauthorized_gets_hx_redirect(client):
    response = client.get("/dashboard", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/auth/login")


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def test_post_without_csrf_token_is_rejected(csrf_app):
    client = csrf_app.test_client()
    user = make_user(csrf_app)
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert b"security token" in response.data
    assert b"Traceback" not in response.data
    response = client.post("/auth/logout")
    assert response.status_code == 400


def test_csrf_token_in_htmx_header_is_accepted(csrf_app):
    import re

    client = csrf_app.test_client()
    user = make_user(csrf_app)
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.post(
        "/auth/login", data={"email": user.email, "password": PASSWORD}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 303


def test_login_is_rate_limited_with_a_clear_page(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [
        client.post("/auth/login", data={"email": "x@example.com", "password": "wrong pass"}).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    response = client.post("/auth/login", data={"email": "x@example.com", "password": "wrong pass"})
    assert b"Too many attempts" in response.data


def test_register_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [register(client, email=f"x{i}@example.com", password="short").status_code for i in range(11)]
    assert statuses[-1] == 429


def test_per_account_limit_holds_across_addresses(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [
        client.post(
            "/auth/login",
            data={"email": "t@example.com", "password": "wrong pass"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
        ).status_code
        for i in range(11)
    ]
    assert statuses == [422] * 10 + [429]
    # Another account from a fresh address is unaffected.
    other = client.post(
        "/auth/login",
        data={"email": "u@example.com", "password": "wrong pass"},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    assert other.status_code == 422
