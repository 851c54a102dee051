"""Accessibility of every main page, in light and dark themes, in real Chromium; saves screenshots."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests import a11y
from tests.e2e_support import chromium, live_server, make_admin, register

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("chromium_available")]
ROOT = Path(__file__).resolve().parent.parent
SLUG = "software-systems-engineer"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_main_page_passes_the_accessibility_check(tmp_path, scheme):
    shots = ROOT / ("docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts")
    shots.mkdir(parents=True, exist_ok=True)
    failures: dict[str, list[str]] = {}
    with (
        live_server(tmp_path) as base,
        chromium(color_scheme=scheme, viewport={"width": 1280, "height": 900}) as (
            page,
            errors,
        ),
    ):

        def audit(name: str, shot: bool = False) -> None:
            problems = a11y.check(page)
            if problems:
                failures[name] = problems
            if shot and scheme == "light":
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

        for path, name in (
            ("/", "landing"),
            ("/auth/login", "login"),
            ("/auth/register", "register"),
            ("/roles", "roles-anonymous"),
        ):
            page.goto(base + path)
            audit(name, shot=name in ("landing", "login"))
        register(page, base, email="a11y@example.com", name="Ada")
        audit("roles", shot=True)
        page.goto(f"{base}/roles/{SLUG}")
        audit("role", shot=True)
        page.goto(f"{base}/dashboard")
        audit("dashboard-empty")
        page.goto(f"{base}/roles/{SLUG}/drill")
        audit("drill-front", shot=True)
        page.get_by_label("Draft your answer").fill(
            "Processes have separate address spaces; threads share one."
        )
        page.get_by_role("button", name="Show answer").click()
        page.locator('#card button[name="rating"]').first.wait_for()
        page.locator("#card-heading:focus").wait_for()  # focus moved to the new card
        page.locator('#card input[name="covered"]').first.check()
        audit("drill-back", shot=True)
        for _ in range(3):
            page.locator("#card-heading:focus, #card input:focus").first.wait_for()
            page.keyboard.press("3")
            page.locator("#card #reveal").wait_for()
            page.keyboard.press("Space")
            page.locator('#card button[name="rating"]').first.wait_for()
        page.goto(f"{base}/roles/{SLUG}/drill?mode=focus")
        audit("drill-focus")
        page.goto(f"{base}/dashboard")
        audit("dashboard", shot=False)
        page.goto(f"{base}/roles/{SLUG}/progress")
        audit("role-progress")
        page.goto(f"{base}/roles/{SLUG}/drill/summary")
        audit("summary")
        page.goto(f"{base}/account/")
        audit("account", shot=True)
        page.goto(f"{base}/roles/{SLUG}/mock")
        audit("mock-start", shot=True)
        history = page.locator("a", has_text="History").first
        page.goto(f"{base}/roles/{SLUG}/drill")
        page.locator("#card").get_by_role("link", name="History").click()
        page.wait_for_url(re.compile(r".*/questions/\d+/history$"))  # audit the new page, not the unload
        page.wait_for_load_state()
        audit("history")
        del history
        make_admin(tmp_path, "a11y@example.com")
        for path, name in (
            ("/admin/", "admin"),
            ("/admin/questions", "admin-questions"),
            ("/admin/reports", "admin-reports"),
            ("/admin/roles/new", "admin-role-form"),
        ):
            page.goto(base + path)
            audit(name, shot=name == "admin")
        page.goto(f"{base}/admin/questions")
        page.locator("#question-results a").first.click()
        audit("admin-question-editor", shot=True)
        assert errors == []
    assert failures == {}, "\n".join(f"{name}: {problems}" for name, problems in failures.items())


def test_the_checker_catches_violations(tmp_path):
    """The check is only worth something if it fails: feed it a page with known problems."""
    with chromium() as (page, _errors):
        page.set_content(
            "<header></header><main><h1>One</h1><h3>Skipped a level</h3>"
            "<p style='color:#999;background:#fff'>Too faint to read</p>"
            "<input type='text' id='nameless'><button></button></main><footer></footer>"
        )
        problems = " ".join(a11y.check(page))
    assert "heading level skips from h1 to h3" in problems
    assert "contrast" in problems and "Too faint" in problems
    assert "form control without a label: input#nameless" in problems
    assert "no accessible name: button" in problems
