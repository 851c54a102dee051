"""Live server, Chromium and sign-up for the browser tests (marked e2e)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from careerprep import create_app
from careerprep.banks import import_bank, seed, validate
from careerprep.extensions import db
from tests.conftest import reset_schema

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip without Chromium or Playwright, unless REQUIRE_E2E=1 makes that a failure."""
    missing = None
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install -e '.[dev]')"
    if missing:
        if os.environ.get("REQUIRE_E2E") == "1":
            pytest.fail(f"REQUIRE_E2E=1 but {missing}")
        pytest.skip(missing)


@contextmanager
def live_server(
    tmp_path: Path, database_url: str | None = None, bank: dict | None = None, **config
) -> Iterator[str]:
    """Serve a fresh CareerPrep on a free local port (bundled banks, or `bank`); yield its base URL."""
    app = create_app(
        {
            "TESTING": False,
            "LOG_REQUESTS": False,
            "SECRET_KEY": "e2e-secret",
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{tmp_path / 'e2e.sqlite'}",
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "FSRS_FUZZING": False,
            **config,
        }
    )
    reset_schema(app)
    with app.app_context():
        if bank is None:
            seed()
        else:
            import_bank(validate(bank))
            db.session.commit()
    server = make_server("127.0.0.1", 0, _closed_before_sending(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


def _closed_before_sending(app):
    """Buffer each response and close it before the test server writes a byte.

    Werkzeug's development server skips closing a response when the browser drops the connection
    while it drains the socket (Chromium cancels a favicon or asset request when a page navigates), so
    a file send_file opened is left to the garbage collector and its ResourceWarning fails a later
    test. gunicorn closes it; this keeps the test server from leaking instead.
    """

    def wsgi(environ, start_response):
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return wsgi


def register(page, base: str, email: str = "learner@example.com", name: str = "Learner") -> None:
    """Create an account through the sign-up form; the browser lands on the roles page, signed in."""
    page.goto(f"{base}/auth/register")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{base}/roles")


def server_app(tmp_path: Path):
    """An app on the SQLite database that `live_server(tmp_path)` serves, to change its data directly."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.sqlite'}",
        }
    )


def make_admin(tmp_path: Path, email: str) -> None:
    """Turn the live server's account `email` into an admin (register it first)."""
    from careerprep.models import User

    app = server_app(tmp_path)
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(email=email)).is_admin = True
        db.session.commit()
        db.engine.dispose()


@contextmanager
def chromium(**context_options):
    """A headless Debian Chromium page driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(**context_options)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            yield page, errors
        finally:
            browser.close()


def fill_answer(page, text: str) -> None:
    """Type `text` into whatever the card or mock question shown asks for: a draft, the output a snippet
    prints, code, or a design's estimate (a number). The bundled banks mix every exercise kind."""
    for name in ("draft", "output", "code"):
        box = page.locator(f'#card textarea[name="{name}"], #mock textarea[name="{name}"]')
        if box.count():
            box.first.fill(text)
    estimate = page.locator('input[name="estimate"]')
    if estimate.count():
        estimate.first.fill("100")
