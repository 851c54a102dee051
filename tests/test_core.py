"""Landing page, health check and error pages that leak nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from careerprep.extensions import db


def test_landing_for_visitors(client):
    html = client.get("/").get_data(as_text=True)
    assert "Walk into your technical interview ready." in html
    assert 'href="/auth/register"' in html and 'href="/auth/login"' in html


def test_landing_sends_signed_in_users_to_their_roles(logged_in):
    response = logged_in.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/roles"


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_503_when_the_database_is_down(app, client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():  # the health check asks a pooled connection, not the ORM session
        monkeypatch.setattr(db.engine, "connect", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}


def test_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Not found" in response.data
    assert b"<html" in response.data


def test_405_page_lists_allowed_methods(client):
    response = client.delete("/roles")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_htmx_errors_are_retargeted_to_alerts(client):
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#alerts"
    assert b"<html" not in response.data
    assert b'role="alert"' in response.data


@pytest.fixture
def crashing_app(app):
    @app.get("/boom")
    def boom():
        db.session.execute(db.text("SELECT * FROM no_such_table WHERE secret = 'hunter2'"))

    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_500_page_leaks_nothing(crashing_app):
    response = crashing_app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body
    for leak in ("Traceback", "no_such_table", "hunter2", "SELECT", "sqlalchemy"):
        assert leak not in body


def test_session_cookie_flags(app, client, user):
    from tests.conftest import PASSWORD

    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_cookies_are_secure_outside_debug(tmp_path, monkeypatch):
    from careerprep import create_app

    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite")


def test_secret_key_is_generated_once_into_instance(tmp_path, monkeypatch):
    from flask import Flask

    from careerprep import config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = Flask("a", instance_path=str(tmp_path / "inst"))
    config.load(first, None)
    second = Flask("b", instance_path=str(tmp_path / "inst"))
    config.load(second, None)
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert oct((tmp_path / "inst" / "secret_key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("where", ["query", "form", "path"])
def test_nul_bytes_are_refused_before_any_query(app, client, where):
    from tests.conftest import PASSWORD, make_user

    user = make_user(app)
    if where == "query":
        response = client.get("/roles", query_string={"q": "a\x00b"})
    elif where == "form":
        response = client.post("/auth/login", data={"email": user.email + "\x00", "password": PASSWORD})
    else:
        response = client.get("/roles/evil%00slug")
    assert response.status_code == 400


def test_a_json_body_is_never_read_into_a_form(client):
    """Forms read form-encoded bodies only: a JSON body (here with a NUL) counts as an empty form."""
    import json

    body = json.dumps({"email": "a\x00@example.com", "password": "whatever password"})
    response = client.post("/auth/login", data=body, content_type="application/json")
    assert response.status_code == 422
    assert "Enter your email and password." in response.get_data(as_text=True)


def test_theme_toggle_for_a_visitor_is_kept_in_the_session(client):
    assert "data-theme" not in client.get("/").get_data(as_text=True)
    response = client.post("/theme", data={"theme": "dark", "next": "/roles"})
    assert response.status_code == 303 and response.headers["Location"] == "/roles"
    page = client.get("/roles").get_data(as_text=True)
    assert '<html lang="en" data-theme="dark">' in page
    assert 'value="light"' in page  # the button offers the next theme


def test_theme_is_saved_on_the_account(app, logged_in, user):
    from careerprep.models import User

    logged_in.post("/theme", data={"theme": "light", "next": "//evil.example"})
    with app.app_context():
        assert db.session.get(User, user.id).theme == "light"
    other_device = app.test_client()
    from tests.conftest import PASSWORD

    other_device.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert 'data-theme="light"' in other_device.get("/roles").get_data(as_text=True)
    assert logged_in.post("/theme", data={"theme": "purple"}).status_code == 400


def test_request_log_can_be_turned_off_from_the_environment(tmp_path, monkeypatch):
    from careerprep import create_app

    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    monkeypatch.setenv("LOG_REQUESTS", "0")
    assert create_app().config["LOG_REQUESTS"] is False
    monkeypatch.setenv("LOG_REQUESTS", "1")
    assert create_app().config["LOG_REQUESTS"] is True
