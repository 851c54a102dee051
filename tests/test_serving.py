"""gunicorn with several workers sharing Redis: login limits hold across workers and addresses."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from careerprep import create_app
from careerprep.extensions import db
from tests.conftest import database_url, reset_schema
from tests.helpers import free_port
from tests.http_client import Browser

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} is unreachable: {exc}"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """CareerPrep under gunicorn with two workers, limits in Redis, one trusted proxy hop."""
    _redis_or_skip()
    tmp = tmp_path_factory.mktemp("gunicorn")
    url = database_url(tmp)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    reset_schema(app)
    with app.app_context():
        db.engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(16),
        "SESSION_COOKIE_SECURE": "0",
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"careerprep-test-{secrets.token_hex(4)}",
        "TRUSTED_PROXIES": "1",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "LOG_LEVEL": "warning",
    }
    log = (tmp / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if Browser(base).get("/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(f"gunicorn did not start: {(tmp / 'gunicorn.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def attempt(base: str, email: str, address: str) -> int:
    """One failed sign-in from a fresh browser behind the proxy at `address`."""
    browser = Browser(base, headers={"X-Forwarded-For": address})
    browser.get("/auth/login")
    return browser.post("/auth/login", {"email": email, "password": "wrong password"}).status


def test_eleventh_failed_login_in_a_minute_is_429_across_workers(gunicorn):
    statuses = [attempt(gunicorn, f"victim{i}@example.com", "198.51.100.7") for i in range(11)]
    assert statuses == [422] * 10 + [429]


def test_per_account_limit_stops_a_distributed_guess(gunicorn):
    statuses = [attempt(gunicorn, "target@example.com", f"203.0.113.{i}") for i in range(1, 12)]
    assert statuses == [422] * 10 + [429]


def test_other_accounts_and_addresses_are_not_affected(gunicorn):
    assert attempt(gunicorn, "someone-else@example.com", "192.0.2.44") == 422


def test_a_burst_of_wrong_passwords_across_workers_is_checked_ten_times(gunicorn):
    """Sixteen at once, spread over both workers: counted before the check, so ten are checked."""
    browsers = [Browser(gunicorn, headers={"X-Forwarded-For": "198.51.100.99"}) for _ in range(16)]
    for browser in browsers:
        browser.get("/auth/login")
    barrier = threading.Barrier(16)

    def send(browser):
        barrier.wait()
        return browser.post(
            "/auth/login", {"email": "burst@example.com", "password": "wrong password"}
        ).status

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(send, browsers))
    assert statuses.count(422) == 10 and statuses.count(429) == 6


def test_htmx_redirect_to_a_unicode_next_is_served_by_gunicorn(gunicorn):
    """gunicorn refuses a header value that is not Latin-1 with its own bare 500."""
    browser = Browser(gunicorn, headers={"X-Forwarded-For": "192.0.2.77"})
    browser.get("/")
    reply = browser.post("/theme", {"theme": "dark", "next": "/\uff0fevil.example"}, htmx=True)
    assert reply.status == 204
    assert reply.headers["HX-Redirect"] == "/%EF%BC%8Fevil.example"


def test_the_instance_has_its_own_control_socket(gunicorn):
    port = gunicorn.rsplit(":", 1)[1]
    runtime = os.environ.get("XDG_RUNTIME_DIR") or os.path.join(os.path.expanduser("~"), ".gunicorn")
    assert Path(runtime, f"careerprep-127.0.0.1_{port}.ctl").exists()
