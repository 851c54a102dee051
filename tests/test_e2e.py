"""Real Chromium: register, open Software Systems Engineer, drill by keyboard, see the dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e_support import chromium, fill_answer, live_server, make_admin, register, server_app

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("chromium_available")]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def test_register_drill_ten_cards_by_keyboard_and_see_them_on_the_dashboard(tmp_path):
    with live_server(tmp_path) as base, chromium() as (page, errors):
        register(page, base)
        page.get_by_role("link", name="Software Systems Engineer").click()
        page.get_by_role("link", name="Start drilling").click()
        page.wait_for_url(f"{base}/roles/software-systems-engineer/drill")
        # A marker that survives only if htmx swaps cards in place (no full page loads).
        page.evaluate("window.__sameDocument = true")
        seen_prompts = []
        for _ in range(10):
            prompt = page.locator("#card .prompt").inner_text()
            seen_prompts.append(prompt)
            page.keyboard.press("Space")
            page.locator('#card button[name="rating"][value="3"]').wait_for()
            page.locator("#card-heading:focus").wait_for(timeout=5000)
            page.keyboard.press("3")
            page.locator('#card[data-announce="Rated Good. Next card."] #reveal').wait_for()
            page.locator("#card-heading:focus").wait_for(timeout=5000)
        assert len(set(seen_prompts)) == 10
        # The live region announced the last rating for screen readers.
        page.locator("#status", has_text="Rated Good. Next card.").wait_for(state="attached")
        assert page.evaluate("window.__sameDocument") is True
        page.goto(f"{base}/dashboard")
        assert page.locator("#reviews-today").inner_text() == "10"
        assert page.get_by_role("heading", name="Software Systems Engineer").is_visible()
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
        assert errors == []


def test_drill_works_without_javascript(tmp_path):
    with live_server(tmp_path) as base, chromium(java_script_enabled=False) as (page, errors):
        register(page, base, email="nojs@example.com")
        page.goto(f"{base}/roles/software-systems-engineer/drill")
        drafted, typed = 0, "Without JavaScript the draft still travels."
        for _ in range(10):
            # Recall cards take a draft; exercise cards (the bank mixes them in) their own answer.
            drafting = page.get_by_label("Draft your answer").count() > 0
            fill_answer(page, typed)
            page.locator("#card #reveal").click()
            # Without JavaScript the click starts a page load; wait for the back to arrive (is_visible
            # does not wait, and read the old page when the load was slow).
            page.wait_for_url(f"{base}/roles/software-systems-engineer/drill/reveal")
            page.locator('#card button[name="rating"]').first.wait_for()
            if drafting:
                page.locator(".draft-shown", has_text=typed).wait_for()
                drafted += 1
            page.get_by_role("button", name="Good").click()
            page.wait_for_url(f"{base}/roles/software-systems-engineer/drill")
        assert drafted >= 5, drafted  # most of the first cards are recall questions
        page.goto(f"{base}/dashboard")
        assert page.locator("#reviews-today").inner_text() == "10"


def test_undo_and_shortcuts_by_keyboard(tmp_path):
    from tests.conftest import bank_dict

    with live_server(tmp_path, bank=bank_dict(n_questions=4)) as base, chromium() as (page, errors):
        register(page, base, email="undo@example.com")
        page.goto(f"{base}/roles/test-role/drill")
        # d focuses the draft box; typing "1" there must not rate anything.
        page.keyboard.press("d")
        page.locator("#draft:focus").wait_for()
        page.keyboard.type("1 mutex, 2 condition variable")
        assert page.locator('#card button[name="rating"]').count() == 0
        page.keyboard.press("Control+Enter")
        page.locator('#card button[name="rating"][value="3"]').wait_for()
        assert page.get_by_text("1 mutex, 2 condition variable").first.is_visible()
        # Ticking key points suggests a rating.
        page.locator('#card input[name="covered"]').first.check()
        page.locator("#suggestion", has_text="Suggested: Again").wait_for()  # 1 of 3: most missing
        first_prompt = page.locator("#card .prompt").inner_text()
        page.keyboard.press("3")  # focus is on the checkbox: rating keys still work there
        page.locator('#card[data-announce="Rated Good. Next card."]').wait_for()
        assert page.locator("#card .prompt").inner_text() != first_prompt
        # u undoes the rating and the card returns.
        page.locator("#card-heading:focus").wait_for()
        page.keyboard.press("u")
        page.locator('#card[data-announce="Undid Good."]').wait_for()
        assert page.locator("#card .prompt").inner_text() == first_prompt
        # ? shows every shortcut.
        page.locator("#card-heading:focus").wait_for()
        page.keyboard.press("?")
        page.locator("#shortcuts", has_text="Undo the last rating").wait_for()
        assert errors == []


def test_dashboard_with_a_month_of_reviews(tmp_path):
    """The dashboard renders a month of history; saves docs/screenshots/dashboard.png on request."""
    import os
    import random
    from datetime import UTC, datetime, timedelta

    from careerprep.extensions import db
    from careerprep.models import CardState, Question, User
    from tests.helpers import review_row

    with live_server(tmp_path) as base, chromium(viewport={"width": 1280, "height": 900}) as (page, errors):
        register(page, base, email="month@example.com")
        app = server_app(tmp_path)
        rng = random.Random(3)
        now = datetime.now(UTC)
        with app.app_context():
            user = db.session.scalar(db.select(User))
            questions = db.session.scalars(db.select(Question.id).limit(60)).all()
            n = 0
            for days_ago in range(30):
                if days_ago in (5, 6, 13, 20):
                    continue  # a few missed days
                for _ in range(rng.randrange(6, 25)):
                    at = now - timedelta(days=days_ago, minutes=rng.randrange(600))
                    n += 1
                    db.session.add(
                        review_row(
                            user.id,
                            questions[n % len(questions)],
                            at,
                            rating=rng.choice((1, 2, 3, 3, 3, 4)),
                            duration_ms=rng.randrange(20_000, 120_000),
                            stability=8.0,
                            due=at + timedelta(days=8),
                            interval_seconds=8 * 86400,
                            prev_state=rng.choice((0, 2, 2)),
                        )
                    )
            for i, qid in enumerate(questions):
                db.session.add(
                    CardState(
                        user_id=user.id,
                        question_id=qid,
                        state=2 if i % 4 else 1,
                        step=None,
                        stability=rng.uniform(1, 45),
                        difficulty=5.0,
                        due=now + timedelta(hours=rng.randrange(-20, 24 * 28)),
                        last_review=now - timedelta(days=rng.randrange(0, 9)),
                        reps=4,
                        lapses=rng.randrange(2),
                        introduced_at=now - timedelta(days=rng.randrange(1, 30)),
                    )
                )
            db.session.commit()
            db.engine.dispose()
        page.goto(f"{base}/dashboard")
        assert page.get_by_role("heading", name="Consistency").is_visible()
        assert 20 <= int(page.locator("#days-30").inner_text()) <= 30  # exact figures: test_progress.py
        page.locator("svg[aria-labelledby='heatmap-title'] rect.heat-4").first.wait_for(state="attached")
        target = Path(__file__).resolve().parent.parent / (
            "docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts"
        )
        target.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target / "dashboard.png"), full_page=True)
        page.get_by_role("link", name="Competency map and weakest questions").first.click()
        assert page.get_by_role("heading", name="Competency map").is_visible()
        page.screenshot(path=str(target / "role-progress.png"), full_page=True)
        assert errors == []


def test_phone_viewport(tmp_path):
    """390x844: the drill fits without sideways scrolling and the rating buttons are thumb-sized."""
    with (
        live_server(tmp_path) as base,
        chromium(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True) as (page, errors),
    ):
        register(page, base, email="phone@example.com")
        page.goto(f"{base}/roles/software-systems-engineer/drill")
        for _ in range(3):
            fill_answer(page, "Short.")  # an exercise card needs its answer (a design, an estimate)
            page.locator("#card #reveal").tap()
            buttons = page.locator('#card button[name="rating"]')
            buttons.first.wait_for()
            for i in range(4):
                box = buttons.nth(i).bounding_box()
                assert box["height"] >= 44 and box["width"] >= 44, (
                    box
                )  # WCAG 2.5.8 target size, and then some
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            buttons.nth(2).tap()
            page.locator('#card[data-announce="Rated Good. Next card."]').wait_for()
        page.goto(f"{base}/dashboard")
        assert page.locator("#reviews-today").inner_text() == "3"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert errors == []


def test_dark_theme_toggle_is_remembered(tmp_path):
    with live_server(tmp_path) as base, chromium() as (page, errors):
        register(page, base, email="dark@example.com")
        background = "getComputedStyle(document.body).backgroundColor"
        light = page.evaluate(background)
        page.get_by_role("button", name="Switch to dark").click()
        page.wait_for_url(f"{base}/roles")
        assert page.locator("html").get_attribute("data-theme") == "dark"
        dark = page.evaluate(background)
        assert dark != light and dark == "rgb(18, 21, 27)"
        page.goto(f"{base}/roles/software-systems-engineer/drill")  # remembered on every page
        assert page.locator("html").get_attribute("data-theme") == "dark"
        assert errors == []


def test_question_editor_live_preview(tmp_path):
    with live_server(tmp_path) as base, chromium() as (page, errors):
        register(page, base, email="editor@example.com")
        make_admin(tmp_path, "editor@example.com")
        page.goto(f"{base}/admin/questions")
        page.locator("#question-results a").first.click()
        answer = page.get_by_label("Model answer (Markdown)")
        answer.fill("A **bold** claim with `code` <script>alert(1)</script>")
        preview = page.locator("#answer-preview")
        preview.locator("strong", has_text="bold").wait_for()
        assert preview.locator("code", has_text="code").count() == 1
        assert preview.locator("script").count() == 0
        assert "A **bold**" not in page.locator("#prompt-preview").inner_text()
        assert errors == []


def test_admin_imports_a_set_with_an_error_fixes_it_publishes_it_and_a_learner_sees_it(tmp_path):
    import yaml

    from tests.conftest import bank_dict

    bank = bank_dict(role_slug="release-engineer", n_questions=3, set_slug="pipelines", published=False)
    broken = yaml.safe_load(yaml.safe_dump(bank))
    del broken["sets"][0]["questions"][1]["answer"]
    with live_server(tmp_path) as base, chromium() as (page, errors):
        register(page, base, email="curator@example.com")
        make_admin(tmp_path, "curator@example.com")
        page.goto(f"{base}/admin/import")
        upload = page.get_by_label("Question bank file")
        upload.set_input_files(
            {"name": "bank.yaml", "mimeType": "application/x-yaml", "buffer": yaml.safe_dump(broken).encode()}
        )
        page.get_by_role("button", name="Preview changes").click()
        errors_box = page.locator("#import-errors")
        errors_box.wait_for()
        assert "sets[0].questions[1].answer: required" in errors_box.inner_text()
        assert "nothing was imported" in errors_box.inner_text()
        # Fix the file and try again: the preview lists three new questions.
        page.get_by_label("Question bank file").set_input_files(
            {"name": "bank.yaml", "mimeType": "application/x-yaml", "buffer": yaml.safe_dump(bank).encode()}
        )
        page.get_by_role("button", name="Preview changes").click()
        page.get_by_role("button", name="Apply these changes").click()
        page.wait_for_url(f"{base}/admin/")
        row = page.locator("tr", has_text="Set pipelines")
        assert "Unpublished" in row.inner_text()
        row.get_by_role("button", name="Publish").click()
        page.wait_for_url(f"{base}/admin/")
        assert "Published" in page.locator("tr", has_text="Set pipelines").inner_text()
        page.goto(f"{base}/admin/audit")
        log = page.locator("main table").first.inner_text()
        assert "bank.import" in log and "set.publish" in log
        # A learner now sees the role and can drill it.
        page.get_by_role("button", name="Sign out").click()
        register(page, base, email="learner@example.com")
        page.get_by_role("link", name="Role release-engineer").click()
        page.get_by_role("link", name="Start drilling").click()
        assert "Question number" in page.locator("#card .prompt").inner_text()
        # The browser logs the invalid upload's 422 as a failed resource: that one is expected.
        assert [e for e in errors if "422" not in e] == []
