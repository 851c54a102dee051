"""Real Chromium: one card of each exercise kind, answered and rated by keyboard alone, on a desktop
(1280x800) and a phone (390x844, touch).

Each card: focus lands on it; predict takes a typed output and Ctrl+Enter; spot_bug moves with the
arrow keys, chooses with Space and checks with Enter; write_code indents with Tab and is left with
Escape then Tab; design takes an estimate, then its follow-ups open from the keyboard; 1–4 rate. At every
step the page never scrolls sideways, code listings scroll inside themselves (the bank's listings get one
long line each, so on a phone they must), and the rating buttons are on screen while the answer is. On the
phone, axe-core checks each kind's front and back (in a second context, see tests/axe.py). The reviews
then hold what was typed and chosen.
"""

from __future__ import annotations

import copy

import pytest

from careerprep.extensions import db
from careerprep.models import Question, Review
from tests import axe
from tests.e2e_support import chromium, live_server, register, server_app
from tests.exercise_support import EXERCISES, WRITE_CODE, exercise_bank
from tests.test_e2e_layout import (
    FOCUS,
    PHONE,
    RATING_BUTTONS,
    SETTLE,
    WIDTH,
    check_ratings_in_view,
    context_options,
    tab_to,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("chromium_available")]

DESKTOP = (1280, 800)
LABELS = {
    "Predict the output": "predict",
    "Spot the bug": "spot_bug",
    "Write the code": "write_code",
    "Read the output": "read_output",
    "Design with numbers": "design",
}
LONG = "  /* a comment long enough that no phone shows this line whole without scrolling it */"
# The key each kind is rated with. Again (1) goes last: a card due again in a minute could come first.
RATE_WITH = {
    "predict": "3",
    "write_code": "2",
    "recall": "4",
    "spot_bug": "4",
    "read_output": "3",
    "design": "1",
}
STORED = {
    "predict": ({"output": "0"}, True),
    "spot_bug": ({"lines": [4]}, True),
    "write_code": ({"code": WRITE_CODE["solution"]}, None),
    "read_output": (None, None),
    "design": ({"estimate": {"value": 1000.0, "unit": "MB/s"}}, True),
    "recall": (None, None),
}

LISTINGS = """
() => {
  const width = Math.min(window.innerWidth, document.documentElement.clientWidth);
  return [...document.querySelectorAll("#card .listing")].map((el) => {
    const r = el.getBoundingClientRect();
    return {label: el.getAttribute("aria-label") || el.className, overflowX: getComputedStyle(el).overflowX,
            scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, left: r.left, right: r.right, width};
  });
}
"""


def journey_bank() -> dict:
    """The exercise bank, each listing given one long line (line numbers and answers unchanged)."""
    bank = exercise_bank()
    for question in bank["sets"][0]["questions"]:
        if question.get("code") and question.get("kind") != "write_code":
            lines = question["code"].split("\n")
            lines[1] += LONG
            question["code"] = "\n".join(lines)
        if question.get("kind") == "spot_bug":
            solution = question["solution"].split("\n")
            solution[1] += LONG
            question["solution"] = "\n".join(solution)
    return copy.deepcopy(bank)


class Journey:
    """One learner's run through the six cards by keyboard, collecting every problem on the way."""

    def __init__(self, page, base: str, axe_page=None):
        self.page, self.base, self.axe_page = page, base, axe_page
        self.problems: list[str] = []
        self.seen: list[str] = []
        self.overflowing: list[str] = []  # listings wider than their box (they scrolled inside)

    @property
    def drill(self) -> str:
        return f"{self.base}/roles/test-role/drill"

    def kind(self) -> str:
        tag = self.page.locator("#card .kind-tag")
        return LABELS[tag.inner_text().strip()] if tag.count() else "recall"

    # -- what is checked at every step --

    def check_layout(self, where: str) -> None:
        self.page.evaluate(SETTLE)
        found = self.page.evaluate(WIDTH)
        limit = min(found["innerWidth"], found["clientWidth"])
        if found["scrollWidth"] > limit:
            self.problems.append(
                f"{where}: the page scrolls sideways ({found['scrollWidth']} > {limit}): {found['wide']}"
            )
        for listing in self.page.evaluate(LISTINGS):
            name = f"{where}: listing {listing['label']!r}"
            if listing["left"] < -0.5 or listing["right"] > listing["width"] + 0.5:
                self.problems.append(
                    f"{name} sticks out of the screen ({listing['left']}..{listing['right']})"
                )
            if listing["scrollWidth"] > listing["clientWidth"]:
                self.overflowing.append(name)
                if listing["overflowX"] not in ("auto", "scroll"):
                    self.problems.append(f"{name} is wider than its box but does not scroll ({listing})")

    def check_focus(self, where: str) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(f"() => ({FOCUS})().onCard", timeout=3000)
        except PlaywrightTimeout:
            found = self.page.evaluate(FOCUS)
            self.problems.append(f"{where}: focus is on {found['active']}, not on the card")

    def check_back(self, where: str) -> None:
        self.page.locator(RATING_BUTTONS).first.wait_for()
        self.check_focus(where)
        self.check_layout(where)
        check_ratings_in_view(self.page, f"{where}, just shown", self.problems, self.seen)
        self.page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        self.page.evaluate(SETTLE)
        check_ratings_in_view(self.page, f"{where}, scrolled to the end", self.problems, self.seen)
        self.page.evaluate("window.scrollTo(0, 0)")

    def swap(self, keys: list[str]) -> None:
        """Press keys that replace the card; wait for the new one."""
        self.page.evaluate("document.getElementById('card').dataset.old = '1'")
        for key in keys:
            self.page.keyboard.press(key)
        self.page.wait_for_function(
            "() => { const c = document.getElementById('card'); return c && !c.dataset.old; }"
        )

    def active(self) -> str:
        return self.page.evaluate(
            "document.activeElement && (document.activeElement.id || document.activeElement.tagName)"
        )

    # -- each kind, by keyboard --

    def answer(self, kind: str) -> None:
        page = self.page
        if kind == "predict":
            page.keyboard.press("d")  # to the answer box
            if self.active() != "answer-output":
                self.problems.append(f"predict: d put focus on {self.active()}, not the answer box")
            page.keyboard.type("0")
            self.swap(["Control+Enter"])
        elif kind == "spot_bug":
            page.keyboard.press("Tab")  # from the heading to the first line of the listing
            for _ in range(3):
                page.keyboard.press("ArrowDown")
            line = page.locator('#card input[name="lines"][value="4"]')
            if not line.evaluate("el => el === document.activeElement"):
                self.problems.append(f"spot_bug: ArrowDown ×3 put focus on {self.active()}, not line 4")
            page.keyboard.press("Space")
            if not line.is_checked():
                self.problems.append("spot_bug: Space did not choose line 4")
            checked = page.locator('#card input[name="lines"]:checked').count()
            if checked != 1:
                self.problems.append(f"spot_bug: {checked} lines chosen, expected 1")
            self.swap(["Enter"])
        elif kind == "write_code":
            page.keyboard.press("d")
            box = page.locator("#answer-code")
            if self.active() != "answer-code":
                self.problems.append(f"write_code: d put focus on {self.active()}, not the code box")
            page.keyboard.press("Control+End")
            page.keyboard.press("Home")  # the start of the closing brace's line
            page.keyboard.press("Tab")
            if self.active() != "answer-code":
                self.problems.append("write_code: Tab left the code box instead of indenting")
            page.keyboard.type("return x && !(x & (x - 1));")
            page.keyboard.press("Enter")
            if box.input_value() != WRITE_CODE["solution"]:
                self.problems.append(f"write_code: the box holds {box.input_value()!r}")
            page.keyboard.press("Escape")
            page.keyboard.press("Tab")
            if self.active() != "reveal":
                self.problems.append(f"write_code: Escape then Tab went to {self.active()}, not the button")
            if box.input_value() != WRITE_CODE["solution"]:
                self.problems.append("write_code: Escape then Tab changed the code")
            self.swap(["Enter"])
        elif kind == "design":
            tab_to(page, "#answer-estimate")
            page.keyboard.type("1000")
            self.swap(["Enter"])
        else:  # read_output and recall: Space shows the answer
            self.swap(["Space"])

    def open_follow_ups(self) -> None:
        page = self.page
        tab_to(page, "#card .follow-up > summary")
        page.keyboard.press("Enter")
        tab_to(page, "#card .follow-up-answer > summary")
        page.keyboard.press("Enter")
        opened = page.locator("#card details.follow-up[open] details.follow-up-answer[open]")
        if not opened.count() or not opened.first.locator(".markdown").is_visible():
            self.problems.append("design: the first follow-up and its answer did not open from the keyboard")
        self.check_layout("design back, follow-up open")
        check_ratings_in_view(page, "design back, follow-up open", self.problems, self.seen)

    # -- axe, in its own context (see tests/test_e2e_layout.py Walker) --

    def axe_front_and_back(self, kind: str) -> None:
        axe_page = self.axe_page
        axe_page.context.clear_cookies()
        axe_page.context.add_cookies(self.page.context.cookies())
        axe_page.goto(self.drill)
        self.problems.extend(axe.describe(f"{kind} front", axe.failing(axe.run(axe_page))))
        if kind == "predict":
            axe_page.locator("#answer-output").fill("0")
        elif kind == "spot_bug":
            axe_page.locator('#card input[name="lines"][value="4"]').check()
        elif kind == "write_code":
            axe_page.locator("#answer-code").fill(WRITE_CODE["solution"])
        elif kind == "design":
            axe_page.locator("#answer-estimate").fill("1000")
        axe_page.locator("#reveal").click()
        axe_page.locator(RATING_BUTTONS).first.wait_for()
        if kind == "design":
            for summary in axe_page.locator("#card .follow-ups summary").all():
                summary.click()
        self.problems.extend(axe.describe(f"{kind} back", axe.failing(axe.run(axe_page))))

    def run(self) -> list[str]:
        """Every card once, in the drill's order; returns the kinds in the order they came."""
        self.page.goto(self.drill)
        done = []
        for _ in range(len(EXERCISES)):
            kind = self.kind()
            self.check_focus(f"{kind} front")
            self.check_layout(f"{kind} front")
            if self.axe_page is not None:
                self.axe_front_and_back(kind)
            self.answer(kind)
            self.check_back(f"{kind} back")
            verdict = self.page.locator("#card .verdict")
            if kind in ("predict", "spot_bug", "design") and "verdict-right" not in (
                verdict.get_attribute("class") if verdict.count() else ""
            ):
                self.problems.append(f"{kind}: no right verdict on the back")
            if kind == "design":
                self.open_follow_ups()
            self.swap([RATE_WITH[kind]])
            done.append(kind)
        return done


def stored_reviews(tmp_path) -> dict[str, tuple]:
    """Kind → (rating, attempt, correct) of each review on the live server's database."""
    app = server_app(tmp_path)
    try:
        with app.app_context():
            rows = db.session.execute(
                db.select(Question.kind, Review.rating, Review.attempt, Review.correct).join(
                    Question, Question.id == Review.question_id
                )
            ).all()
            return {kind: (rating, attempt, correct) for kind, rating, attempt, correct in rows}
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280x800", "390x844"])
def test_every_kind_answered_and_rated_by_keyboard(tmp_path, size):
    use_axe = size == PHONE
    if use_axe:
        axe.require_axe()
        use_axe = axe.available()
    options = context_options(size, "light")
    with live_server(tmp_path, bank=journey_bank()) as base, chromium(**options) as (page, errors):
        page.set_default_timeout(10_000)
        register(page, base, email=f"keys-{size[0]}@example.com")
        axe_page = None
        if use_axe:
            axe_page = page.context.browser.new_context(bypass_csp=True, **options).new_page()
            axe_page.set_default_timeout(10_000)
        journey = Journey(page, base, axe_page)
        done = journey.run()
        assert errors == [], errors
    problems = journey.problems
    print("\n".join(journey.seen + journey.overflowing))  # the measurements, for `pytest -rP`
    assert sorted(done) == sorted(EXERCISES), done
    if size == PHONE and not journey.overflowing:
        problems.append("no listing was wider than the phone: the scrolling check checked nothing")
    assert not problems, "\n".join(problems) + "\n\nMeasured:\n" + "\n".join(journey.seen)
    reviews = stored_reviews(tmp_path)
    assert reviews == {kind: (int(RATE_WITH[kind]), *STORED[kind]) for kind in EXERCISES}
    if size == PHONE and not use_axe:
        pytest.skip("the keyboard journey passed; axe-core is not installed (npm ci), so axe did not run")
