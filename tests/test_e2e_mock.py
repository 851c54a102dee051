"""Real Chromium: a two-question mock interview against the clock, then reveal, rate and see the score."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import bank_dict
from tests.e2e_support import chromium, live_server, register

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("chromium_available")]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def rewind_clock(database: Path, position: int, seconds_left: int, seconds_per_question: int) -> None:
    """Move a question's start back so only `seconds_left` remain (the server stores naive UTC)."""
    started = datetime.now(UTC) - timedelta(seconds=seconds_per_question - seconds_left)
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE mock_item SET started_at = ? WHERE position = ?",
            (started.replace(tzinfo=None).isoformat(sep=" "), position),
        )
    conn.close()


def test_two_question_mock_interview_with_countdown_reveal_and_rating(tmp_path):
    bank = bank_dict(n_questions=6, categories=("Alpha", "Behavioural"))
    database = tmp_path / "e2e.sqlite"
    with live_server(tmp_path, bank=bank) as base, chromium() as (page, errors):
        register(page, base, email="mock@example.com", name="Candidate")
        page.goto(f"{base}/roles/test-role/mock")
        assert page.get_by_label("Include one behavioural question").is_checked()
        page.get_by_label("Number of questions").fill("2")
        page.get_by_label("Minutes per question").fill("2")
        page.get_by_role("button", name="Start the interview").click()
        page.wait_for_url(re.compile(rf"{base}/mock/\d+$"))

        # The countdown runs, with no answer on the page.
        timer = page.get_by_role("timer")
        shown = timer.inner_text()
        assert re.fullmatch(r"(2:00|1:5\d) left", shown)
        timer.filter(has_not_text=shown).filter(has_text=re.compile(r"^1:5\d left$")).wait_for(timeout=5000)
        assert page.locator(".answer, .key-points").count() == 0
        assert page.get_by_text("Answer number").count() == 0

        # With a minute to go the live region says so.
        rewind_clock(database, 1, seconds_left=62, seconds_per_question=120)
        page.reload()
        page.locator("#status", has_text="1 minute left").wait_for(state="attached", timeout=10_000)

        page.evaluate("window.__sameDocument = true")
        page.get_by_label("Your answer").fill("Locks, then\n  an atomic compare-and-swap.")
        page.get_by_role("button", name="Submit and next").click()
        page.locator("#mock-heading", has_text="Question 2 of 2").wait_for()
        page.locator("#draft:focus").wait_for(timeout=5000)  # the clock runs: focus is in the answer box
        assert page.evaluate("window.__sameDocument") is True
        assert page.get_by_label("Your answer").input_value() == ""

        # When the time is up the answer is submitted by itself, and the results follow.
        rewind_clock(database, 2, seconds_left=3, seconds_per_question=120)
        page.reload()
        page.get_by_label("Your answer").fill("A story about a hard deadline.")
        page.wait_for_url(re.compile(rf"{base}/mock/\d+/results$"), timeout=15_000)

        first, second = page.locator("article.mock-result").all()
        # Answers are folded so the page stays short; opening one shows both side by side.
        assert first.locator(".mock-draft").is_hidden()
        for article in (first, second):
            article.get_by_text("Your answer and the model answer").click()
        assert "Locks, then\n  an atomic compare-and-swap." in first.locator(".mock-draft").inner_text()
        assert first.locator(".mock-draft").evaluate("el => getComputedStyle(el).whiteSpace") == "pre-wrap"
        assert "Answer number" in first.locator(".answer").inner_text()
        assert "A story about a hard deadline." in second.locator(".mock-draft").inner_text()

        # Ticking key points selects the suggested rating.
        for point in ("first point", "second point", "third point"):
            first.get_by_label(point).check()
        assert first.get_by_label("Easy").is_checked()  # all points, answered in about a minute
        second.get_by_label("first point").check()
        assert second.get_by_label("Again").is_checked()  # one of three: most points missing
        second.get_by_label("second point").check()
        assert second.get_by_label("Good").is_checked()
        page.locator("#status", has_text="Suggested rating: Good.").wait_for(state="attached")

        page.get_by_role("button", name="Save ratings").click()
        page.get_by_role("heading", name="Your score").wait_for()
        assert page.locator("#score-coverage").inner_text() == "83%"
        assert page.locator("#score-rating").inner_text() == "mostly Easy"  # Easy and Good
        assert page.get_by_text("Ratings saved").is_visible()
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "mock-results.png"), full_page=True)

        page.get_by_role("link", name="Start another mock interview").click()
        page.wait_for_url(f"{base}/roles/test-role/mock")  # count() does not wait for the page
        row = page.locator("table.mock-past tbody tr")
        row.first.wait_for()
        assert row.count() == 1
        assert "Rated" in row.inner_text() and "83% of key points" in row.inner_text()
        assert errors == []
