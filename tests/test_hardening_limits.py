"""The outside review's findings (issue 13), items 8-12: password hashing, the draft reveal's lock,
bursts against the limits and lockout, one test or group per numbered item.

Each of these failed on the code the review attacked: a 500 an outsider could cause, a limit that a
burst passed, a failure that fell through to gunicorn's bare 500. Items 1-7 (input) are in
test_hardening_input.py, 8-12 (limits) in test_hardening_limits.py, 13-21 (failures) in
test_hardening_failures.py.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import careerprep.auth.services as auth_services
from tests.conftest import (
    PASSWORD,
    bank_dict,
    load_bank,
    make_user,
    rating_token,
    sqlite_trace,
    transaction_control,
)
from tests.e2e_support import live_server
from tests.helpers import DRILL, is_sqlite, write_lock_checks
from tests.http_client import Browser

# -- 8. password hashing: outside the write lock, and capped per worker ---------------------------


def test_sign_in_hashes_the_password_without_holding_the_write_lock(app, client, user, monkeypatch):
    if not is_sqlite(app):
        pytest.skip("SQLite's write lock")
    seen = write_lock_checks(monkeypatch, app, auth_services, "check_password_hash")
    assert client.post("/auth/login", data={"email": user.email, "password": "wrong one!"}).status_code == 422
    assert client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 303
    assert seen == [True, True]


def test_a_sign_in_flood_gets_503_while_drill_traffic_is_served(tmp_path, app_config, monkeypatch):
    """One hashing slot per worker: a sign-in that cannot get one in time is told to retry (503)."""
    entered, release = threading.Event(), threading.Event()
    real_check = auth_services.check_password_hash

    def slow_check(stored, password):
        entered.set()
        release.wait(10)
        return real_check(stored, password)

    monkeypatch.setattr(auth_services, "check_password_hash", slow_check)
    with live_server(
        tmp_path,
        database_url=app_config["SQLALCHEMY_DATABASE_URI"],
        bank=bank_dict(),
        PASSWORD_HASH_CONCURRENCY=1,
        PASSWORD_HASH_WAIT=0.3,
    ) as base:
        browsers = [Browser(base) for _ in range(3)]
        for browser in browsers:
            browser.get("/auth/login")
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(
                browsers[0].post, "/auth/login", {"email": "a@example.com", "password": "x" * 9}
            )
            assert entered.wait(10)  # the first sign-in holds the only hashing slot
            second = browsers[1].post("/auth/login", {"email": "b@example.com", "password": "x" * 9})
            drill_traffic = browsers[2].get("/roles")
            release.set()
            assert first.result().status == 422
    assert second.status == 503
    assert second.headers["Retry-After"] == "30"
    assert "Too many sign-ins are being checked at once" in second.text
    assert drill_traffic.status == 200


# -- 9. a draft reveal writes nothing and takes no lock -------------------------------------------


def test_a_draft_reveal_post_takes_no_write_lock(app, client, auth):
    if not is_sqlite(app):
        pytest.skip("SQLite transactions")
    load_bank(app)
    who = make_user(app, draft_enabled=True)
    auth.login(who.email)
    front = client.get(DRILL).get_data(as_text=True)
    with sqlite_trace(app) as statements:
        response = client.post(
            DRILL + "/reveal",
            data={"token": rating_token(front), "draft": "my answer"},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200 and "my answer" in response.get_data(as_text=True)
    assert transaction_control(statements) == []


# -- 10 and 11. limits counted before the password check hold under bursts ------------------------


def _burst(base: str, path: str, forms: list[dict], browsers: list[Browser]) -> list[int]:
    barrier = threading.Barrier(len(forms))

    def send(pair):
        browser, form = pair
        barrier.wait()
        return browser.post(path, form).status

    with ThreadPoolExecutor(len(forms)) as pool:
        return list(pool.map(send, zip(browsers, forms, strict=True)))


@pytest.mark.parametrize("burst", [16, 40])
def test_a_burst_of_wrong_passwords_is_checked_at_most_ten_times(tmp_path, app_config, burst):
    with live_server(
        tmp_path, database_url=app_config["SQLALCHEMY_DATABASE_URI"], bank=bank_dict(), RATELIMIT_ENABLED=True
    ) as base:
        browsers = [Browser(base) for _ in range(burst)]
        for browser in browsers:
            browser.get("/auth/login")
        form = {"email": "victim@example.com", "password": "wrong password"}
        statuses = _burst(base, "/auth/login", [form] * burst, browsers)
    assert statuses.count(422) == 10  # checked
    assert statuses.count(429) == burst - 10  # refused before any check


def test_a_burst_of_wrong_current_passwords_is_checked_at_most_ten_times(tmp_path, app_config):
    with live_server(
        tmp_path, database_url=app_config["SQLALCHEMY_DATABASE_URI"], bank=bank_dict(), RATELIMIT_ENABLED=True
    ) as base:
        browser = Browser(base)
        browser.get("/auth/register")
        browser.post(
            "/auth/register",
            {"display_name": "T", "email": "thief@example.com", "password": PASSWORD, "confirm": PASSWORD},
        )
        browser.get("/account/")
        form = {"current": "guess number x", "new": "another long pass", "confirm": "another long pass"}
        statuses = _burst(base, "/account/password", [form] * 14, [browser] * 14)
    assert statuses.count(422) == 10
    assert statuses.count(429) == 4


def test_eleventh_wrong_current_password_in_a_row_is_429(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    user = make_user(app)
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    form = {"current": "not my password", "new": "a brand new pass", "confirm": "a brand new pass"}
    statuses = [client.post("/account/password", data=form).status_code for _ in range(11)]
    assert statuses == [422] * 10 + [429]
    assert "Too many attempts" in client.post("/account/password", data=form).get_data(as_text=True)


def test_successful_sign_ins_do_not_use_up_the_allowance(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    user = make_user(app)
    for _ in range(15):
        client = app.test_client()
        assert client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 303


# -- 12. no lockout that anyone can trigger --------------------------------------------------------


def test_a_known_device_signs_in_while_strangers_are_locked_out_of_the_account(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    user = make_user(app)
    owner = app.test_client()
    assert owner.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 303
    owner.post("/auth/logout")
    attacker = app.test_client()
    for i in range(10):  # ten wrong guesses from ten addresses: the account's limit for new devices
        response = attacker.post(
            "/auth/login",
            data={"email": user.email, "password": "wrong guess"},
            environ_base={"REMOTE_ADDR": f"10.9.0.{i}"},
        )
        assert response.status_code == 422
    stranger = app.test_client().post(
        "/auth/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.1.1"},
    )
    assert stranger.status_code == 429  # brute-force protection holds for new devices
    back = owner.post(
        "/auth/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.2.2"},
    )
    assert back.status_code == 303  # the owner's browser, known to the account, is not locked out


def test_a_forged_device_cookie_counts_for_nothing(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    user = make_user(app)
    client = app.test_client()
    client.set_cookie("cp_device", "not-a-signed-value")
    statuses = [
        client.post(
            "/auth/login",
            data={"email": user.email, "password": "wrong guess"},
            environ_base={"REMOTE_ADDR": f"10.8.0.{i}"},
        ).status_code
        for i in range(11)
    ]
    assert statuses == [422] * 10 + [429]
