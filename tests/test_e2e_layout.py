"""The drill on any screen: every page type on phones and a desktop, light and dark, in real Chromium.

The walker (one test per viewport and theme, one live server and one browser each) visits every page
type and collects every problem before failing: sideways scrolling (the page wider than the window),
script and console errors, and, at 390x844, axe-core violations of impact serious or critical
(tests/axe.py). Then the drill's first phone screen, the rating buttons beside the longest
model answer in the bundled banks, and focus after a card swap against the "suggested" style.

UPDATE_SCREENSHOTS=1 saves the walker's screenshots to docs/screenshots/ (<page>-phone.png at 390x844
and <page>.png at 1280x800, light theme); otherwise they go to test-artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
import yaml

from careerprep.extensions import db
from careerprep.models import QuestionSet, Review, Role, User
from tests import axe
from tests.conftest import bank_dict
from tests.e2e_support import chromium, fill_answer, live_server, make_admin, register, server_app
from tests.helpers import add_reviews

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("chromium_available")]

ROOT = Path(__file__).resolve().parent.parent
BANKS = ROOT / "careerprep" / "banks"
SLUG = "software-systems-engineer"
OTHER_SLUG = "frontend-engineer"  # gets the interview date, so SLUG's drill stays as a learner first sees it
SMALL_PHONE, PHONE, DESKTOP = (360, 740), (390, 844), (1280, 800)
# axe in both themes at the phone size; at 1280x800 as well the module would take over 3 minutes.
AXE_SIZES = (PHONE,)
SCREENSHOTS = {
    "landing",
    "roles",
    "role",
    "drill-front",
    "drill-back",
    "dashboard",
    "role-progress",
    "account",
    "mock-start",
    "mock-question",
    "mock-results",
    "admin-question-editor",
}
DRAFT = (
    "Processes have separate address spaces and share nothing unless asked; threads share one "
    "address space, so they need locks, and one bad pointer takes down all of them."
)
RATINGS = '#card button[name="rating"]'
# The four rating buttons (the checklist's "Rate from my checklist" button also has name="rating").
RATING_BUTTONS = ", ".join(f'{RATINGS}[value="{value}"]' for value in (1, 2, 3, 4))

Reach = Callable[..., int | None]  # goes to a page type; returns the HTTP status when it knows it


def context_options(size: tuple[int, int], scheme: str) -> dict:
    """A Playwright context for a viewport and colour scheme; phone sizes are touch devices."""
    width, height = size
    options = {"viewport": {"width": width, "height": height}, "color_scheme": scheme}
    if width < 600:
        options.update(is_mobile=True, has_touch=True)
    return options


def screenshot_dir() -> Path:
    """docs/screenshots with UPDATE_SCREENSHOTS=1, else test-artifacts."""
    target = ROOT / ("docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-artifacts")
    target.mkdir(parents=True, exist_ok=True)
    return target


@cache
def bundled_banks() -> tuple[dict, ...]:
    """The bank files shipped in careerprep/banks, parsed."""
    return tuple(yaml.safe_load(path.read_text()) for path in sorted(BANKS.glob("*.yaml")))


def role_slugs() -> list[str]:
    """Every bundled role, once (several files can fill one role)."""
    return list(dict.fromkeys(bank["role"]["slug"] for bank in bundled_banks()))


def longest_answer_bank() -> tuple[dict, str, int]:
    """A bank holding only the bundled question with the longest model answer (in characters), in its
    own role and set, so it is a fresh learner's first card; returns the bank, its key and length."""
    length, role, qset, question = max(
        (
            (len(q["answer"]), bank["role"], s, q)
            for bank in bundled_banks()
            for s in bank["sets"]
            for q in s["questions"]
        ),
        key=lambda row: row[0],
    )
    return {"role": role, "sets": [{**qset, "questions": [question]}]}, question["key"], length


# --- The live server's database: ids, settings and history a browser cannot make quickly ---------


def user_id(app, email: str) -> int:
    """The id of the account with this email."""
    with app.app_context():
        return db.session.scalar(db.select(User.id).filter_by(email=email))


def update_user(app, email: str, **fields) -> None:
    """Change a learner's settings (drafting, daily limits) directly in the database."""
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=email))
        for key, value in fields.items():
            setattr(user, key, value)
        db.session.commit()


def first_set(app, slug: str) -> tuple[int, int]:
    """The role's id and its first set's id."""
    with app.app_context():
        return db.session.execute(
            db.select(Role.id, db.func.min(QuestionSet.id))
            .join(QuestionSet)
            .where(Role.slug == slug)
            .group_by(Role.id)
        ).one()


def reviewed_question(app, uid: int) -> int:
    """The first question the user rated (it has a history and can be reported)."""
    with app.app_context():
        return db.session.scalar(
            db.select(Review.question_id).filter_by(user_id=uid).order_by(Review.id).limit(1)
        )


# --- Measurements in the page ---------------------------------------------------------------------

WIDTH = """
() => {
  const root = document.documentElement;
  const limit = Math.min(window.innerWidth, root.clientWidth);
  const found = {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, innerWidth: window.innerWidth,
                 wide: []};
  if (root.scrollWidth <= limit) return found;
  // Whether something other than the page scrolls or clips the element: a fixed element never widens
  // the page, and an absolutely positioned one escapes every overflow box below its containing block.
  const clipped = (el) => {
    let position = getComputedStyle(el).position;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (position === "fixed") return true;
      const style = getComputedStyle(a);
      if (position === "absolute" && style.position === "static" && style.transform === "none") continue;
      if (style.overflowX !== "visible") return true;
      position = style.position;
    }
    return position === "fixed";
  };
  const wide = [...document.body.querySelectorAll("*")].filter((el) => {
    const r = el.getBoundingClientRect();
    return (r.width || r.height) && r.right + window.scrollX > limit + 0.5 && !clipped(el);
  });
  const causes = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
  causes.sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right);
  found.wide = causes.slice(0, 4).map((el) => {
    const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/).join(".") : "";
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (classes ? "." + classes : "");
    const text = (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 24);
    const right = Math.round(el.getBoundingClientRect().right + window.scrollX);
    return `${name}${text ? ` "${text}"` : ""} (right edge ${right})`;
  });
  return found;
}
"""

BOXES = """
(selectors) => ({
  innerHeight: window.innerHeight,
  innerWidth: Math.min(window.innerWidth, document.documentElement.clientWidth),
  scrollY: Math.round(window.scrollY),
  boxes: selectors.map((s) => [...document.querySelectorAll(s)].map((el) => {
    const r = el.getBoundingClientRect();
    return {top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left),
            right: Math.round(r.right), label: (el.innerText || el.id || "").trim().split(/\\s+/)[0]};
  })),
})
"""

# Resolves once the scroll position and the card's box have not moved for five frames (at most 2 s):
# focus moves and htmx settles after the swap, and either may scroll.
SETTLE = """
() => new Promise((resolve) => {
  let last = "", still = 0, frames = 0;
  const tick = () => {
    const card = document.getElementById("card");
    const now = window.scrollY + ":" + (card ? card.getBoundingClientRect().top : "");
    still = now === last ? still + 1 : 0;
    last = now;
    if (still >= 5 || ++frames > 120) resolve(); else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})
"""


def in_view(box: dict, height: int, width: int) -> bool:
    """Whether a box lies wholly inside the viewport."""
    return box["top"] >= 0 and box["bottom"] <= height and box["left"] >= 0 and box["right"] <= width


# --- The walker -----------------------------------------------------------------------------------


class Walker:
    """Visits page types in one context and collects every problem instead of stopping at the first.

    Layout is measured in the app's own context (its CSP enforced); axe runs in a second context of
    the same browser, created with bypass_csp=True and given the same cookies, which reaches the
    same page again by the same steps (every `reach` leaves the server's data as it found it).
    """

    def __init__(self, page, axe_page, size: tuple[int, int], scheme: str):
        self.page, self.axe_page, self.size, self.scheme = page, axe_page, size, scheme
        self.problems: list[str] = []
        self.visited: list[str] = []
        self.current, self.expected_status = "start", 200
        page.on("pageerror", lambda exc: self.problems.append(f"{self.current}: script error: {exc}"))
        page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        if "Failed to load resource" in message.text and f"status of {self.expected_status}" in message.text:
            return  # the 404 and 422 pages themselves
        where = message.location.get("url") or self.page.url
        self.problems.append(f"{self.current}: console error: {message.text} (at {where})")

    def step(self, name: str, action: Callable[[], object]) -> None:
        """A change made on the way (rate cards, start a mock); a failure is noted and the walk goes on."""
        self.current = name
        try:
            action()
        except Exception as exc:  # any failure is one more line in the report
            self.problems.append(f"{name}: setup step failed: {str(exc).splitlines()[0]}")

    def visit(self, name: str, reach: Reach, status: int = 200) -> None:
        """Reach a page type, check its width, screenshot it, then run axe on it in the axe context."""
        self.current, self.expected_status = name, status
        self.visited.append(name)
        try:
            got = reach(self.page)
        except Exception as exc:  # a page that cannot be reached is one more line in the report
            self.problems.append(f"{name}: could not reach the page: {str(exc).splitlines()[0]}")
            return
        if got is not None and got != status:
            self.problems.append(f"{name}: HTTP {got}, expected {status}")
        self._check_width(name)
        self._screenshot(name)
        if self.axe_page is not None:
            self._axe(name, reach)

    def _check_width(self, name: str) -> None:
        # On a phone (is_mobile) Chromium zooms out to show a too-wide page whole, and innerWidth grows
        # with it; clientWidth stays the device's width. So the page must fit both.
        found = self.page.evaluate(WIDTH)
        limit = min(found["innerWidth"], found["clientWidth"])
        if found["scrollWidth"] > limit:
            self.problems.append(
                f"{name}: scrolls sideways by {found['scrollWidth'] - limit}px (scrollWidth "
                f"{found['scrollWidth']}, innerWidth {found['innerWidth']}, "
                f"clientWidth {found['clientWidth']}); "
                f"widest: {', '.join(found['wide']) or 'not found'}"
            )

    def _screenshot(self, name: str) -> None:
        if self.scheme != "light" or name not in SCREENSHOTS or self.size not in (PHONE, DESKTOP):
            return
        suffix = "-phone" if self.size == PHONE else ""
        # caret="hide" would leave style="" on every input, which the CSP then blocks when htmx swaps.
        self.page.screenshot(
            path=str(screenshot_dir() / f"{name}{suffix}.png"), full_page=True, caret="initial"
        )

    def _axe(self, name: str, reach: Reach) -> None:
        context = self.axe_page.context
        context.clear_cookies()
        context.add_cookies(self.page.context.cookies())
        try:
            reach(self.axe_page)
            if self.axe_page.url != self.page.url:
                self.problems.append(
                    f"{name}: the axe context reached {self.axe_page.url}, not {self.page.url}"
                )
            self.problems.extend(axe.describe(name, axe.failing(axe.run(self.axe_page))))
        except Exception as exc:  # likewise
            self.problems.append(f"{name}: axe could not run: {str(exc).splitlines()[0]}")


def get(url: str) -> Reach:
    """A plain GET."""

    def reach(page) -> int | None:
        response = page.goto(url)
        return response.status if response else None

    return reach


def submit(page, button: str, wait_for: str) -> int:
    """Click a form's submit button; wait for the page it answers with; return the POST's status."""
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name=button).click()
    page.locator(wait_for).first.wait_for()
    return response.value.status


def invalid_sign_up(base: str) -> Reach:
    """The sign-up form sent back with errors (422)."""

    def reach(page) -> int:
        page.goto(f"{base}/auth/register")
        page.get_by_label("Your name").fill("Walker")
        page.get_by_label("Email").fill("not an email")
        page.get_by_label("Password", exact=True).fill("a long enough password")
        page.get_by_label("Repeat password").fill("a different password")
        return submit(page, "Create account", ".field-error")

    return reach


def drill_back(base: str) -> Reach:
    """The back of the next card, revealed (htmx) with a draft typed."""

    def reach(page) -> None:
        page.goto(f"{base}/roles/{SLUG}/drill")
        page.locator("#draft").fill(DRAFT)
        page.locator("#reveal").click()
        page.locator(RATINGS).first.wait_for()

    return reach


def done_card(base: str) -> Reach:
    """The done card: "Learn new" once today's new cards are used up (no prompt, no Show answer)."""

    def reach(page) -> int | None:
        status = get(f"{base}/roles/{SLUG}/drill?mode=learn")(page)
        if page.locator("#card .prompt, #card #reveal").count():
            raise AssertionError("the drill still shows a card, not the done card")
        return status

    return reach


def upload_bank(base: str, content: bytes, wait_for: str) -> Reach:
    """The import page's answer to an uploaded bank file: a preview, or its errors (422)."""

    def reach(page) -> int:
        page.goto(f"{base}/admin/import")
        page.get_by_label("Question bank file").set_input_files(
            {"name": "bank.yaml", "mimeType": "application/x-yaml", "buffer": content}
        )
        return submit(page, "Preview changes", wait_for)

    return reach


def rate_cards(page, base: str, ratings: tuple[int, ...]) -> None:
    """Reveal and rate the next cards of SLUG, one rating each."""
    for rating in ratings:
        page.goto(f"{base}/roles/{SLUG}/drill")
        page.locator("#reveal").click()
        page.locator(f'{RATINGS}[value="{rating}"]').click()
        page.locator('#card[data-announce^="Rated"]').wait_for()


def start_mock(page, base: str) -> str:
    """Start a two-question mock interview in SLUG; returns its URL."""
    page.goto(f"{base}/roles/{SLUG}/mock")
    page.get_by_label("Number of questions").fill("2")
    page.get_by_role("button", name="Start the interview").click()
    page.wait_for_url(re.compile(r".*/mock/\d+$"))
    return page.url


def answer_mock(page) -> None:
    """Answer both questions; the results follow."""
    fill_answer(page, DRAFT)  # the questions may be of any exercise kind
    page.get_by_role("button", name="Submit and next").click()
    page.locator("#mock-heading", has_text="Question 2 of 2").wait_for()
    fill_answer(page, "A story about a hard deadline.")
    page.get_by_role("button", name="Submit and next").click()
    page.wait_for_url(re.compile(r".*/mock/\d+/results$"))


def rate_mock(page) -> None:
    """Rate every answer Good and save."""
    for article in page.locator("article.mock-result").all():
        article.get_by_label("Good", exact=True).check()
    page.get_by_role("button", name="Save ratings").click()
    page.get_by_role("heading", name="Your score").wait_for()


def set_interview_date(page, base: str) -> None:
    """Set an interview date three weeks ahead for OTHER_SLUG."""
    page.goto(f"{base}/roles/{OTHER_SLUG}")
    page.get_by_label("When is your interview?").fill((date.today() + timedelta(days=21)).isoformat())
    page.get_by_role("button", name="Save date").click()
    page.locator("#readiness-recall").wait_for()


def report_question(page, url: str) -> None:
    """Send a report about a question, for the admin's reports page."""
    page.goto(url)
    page.get_by_label("Details (optional)").fill("The second paragraph contradicts the first.")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url(lambda u: "/report" not in u)


def visitor_pages(walk: Walker, base: str) -> None:
    """The pages a visitor sees, the error pages among them."""
    for name, path in (("landing", "/"), ("sign-in", "/auth/login"), ("sign-up", "/auth/register")):
        walk.visit(name, get(base + path))
    walk.visit("sign-up-invalid", invalid_sign_up(base), status=422)
    walk.visit("roles-visitor", get(f"{base}/roles"))
    walk.visit("role-visitor", get(f"{base}/roles/{SLUG}"))
    walk.visit("not-found", get(f"{base}/no-such-page"), status=404)


def learner_pages(walk: Walker, base: str, app, email: str) -> None:
    """The signed-in learner's pages, making on the way the history they show."""
    page = walk.page
    walk.visit("roles", get(f"{base}/roles"))
    walk.visit("role", get(f"{base}/roles/{SLUG}"))
    walk.visit("dashboard-empty", get(f"{base}/dashboard"))
    walk.visit("drill-front", get(f"{base}/roles/{SLUG}/drill"))
    walk.visit("drill-back", drill_back(base))
    walk.step("rate three cards", lambda: rate_cards(page, base, (3, 2, 4)))
    walk.step("turn drafting off", lambda: update_user(app, email, draft_enabled=False))
    walk.visit("drill-front-no-draft", get(f"{base}/roles/{SLUG}/drill"))
    # Three new cards today and a limit of three: "Learn new" has nothing left, the done card.
    walk.step("limit new cards", lambda: update_user(app, email, new_per_day=3))
    walk.visit("drill-done", done_card(base))
    walk.visit("session-summary", get(f"{base}/roles/{SLUG}/drill/summary"))
    uid = user_id(app, email)
    question = reviewed_question(app, uid)
    walk.visit("question-history", get(f"{base}/questions/{question}/history"))
    report_url = f"{base}/questions/{question}/report?next=/roles/{SLUG}/drill"
    walk.visit("report-question", get(report_url))
    walk.step("send a report", lambda: report_question(page, report_url))
    now = datetime.now(UTC)
    past = [now - timedelta(days=days, minutes=9 * n) for days in (1, 2, 3, 5) for n in range(4)]
    walk.step("add past reviews", lambda: add_reviews(app, uid, past))
    walk.visit("dashboard", get(f"{base}/dashboard"))
    walk.visit("role-progress", get(f"{base}/roles/{SLUG}/progress"))
    walk.visit("account", get(f"{base}/account/"))
    walk.visit("scheduler", get(f"{base}/account/scheduler"))
    walk.visit("workload-planner", get(f"{base}/roles/{SLUG}/workload"))
    walk.step("interview date", lambda: set_interview_date(page, base))
    walk.visit("role-with-date", get(f"{base}/roles/{OTHER_SLUG}"))
    walk.visit("workload-planner-with-date", get(f"{base}/roles/{OTHER_SLUG}/workload"))


def mock_pages(walk: Walker, base: str) -> None:
    """A mock interview: its start page, a question, the results before and after rating."""
    walk.visit("mock-start", get(f"{base}/roles/{SLUG}/mock"))
    mock: list[str] = []
    walk.step("start a mock interview", lambda: mock.append(start_mock(walk.page, base)))
    if not mock:
        return
    walk.visit("mock-question", get(mock[0]))
    walk.step("answer the mock interview", lambda: answer_mock(walk.page))
    walk.visit("mock-results-unrated", get(f"{mock[0]}/results"))
    walk.step("rate the mock interview", lambda: rate_mock(walk.page))
    walk.visit("mock-results", get(f"{mock[0]}/results"))


def admin_pages(walk: Walker, base: str, app, tmp_path: Path, email: str) -> None:
    """The admin area, after making the learner an admin."""
    make_admin(tmp_path, email)
    role_id, set_id = first_set(app, SLUG)
    question = reviewed_question(app, user_id(app, email))
    for name, path in (
        ("admin", "/admin/"),
        ("admin-questions", "/admin/questions?q=thread"),
        ("admin-question-editor", f"/admin/questions/{question}/edit"),
        ("admin-question-new", f"/admin/sets/{set_id}/questions/new"),
        ("admin-role-form", "/admin/roles/new"),
        ("admin-role-edit", f"/admin/roles/{role_id}/edit"),
        ("admin-set-form", f"/admin/sets/{set_id}/edit"),
        ("admin-import", "/admin/import"),
    ):
        walk.visit(name, get(base + path))
    bank = bank_dict(role_slug="walker-import", n_questions=3)
    broken = yaml.safe_load(yaml.safe_dump(bank))
    del broken["sets"][0]["questions"][1]["answer"]
    content = yaml.safe_dump(bank).encode()
    walk.visit("admin-import-preview", upload_bank(base, content, "text=Apply these changes"))
    walk.visit(
        "admin-import-errors", upload_bank(base, yaml.safe_dump(broken).encode(), "#import-errors"), 422
    )

    def apply_import() -> None:
        upload_bank(base, content, "text=Apply these changes")(walk.page)
        walk.page.get_by_role("button", name="Apply these changes").click()
        walk.page.wait_for_url(f"{base}/admin/")

    walk.step("apply the import", apply_import)  # so the audit log has an entry
    for name, path in (
        ("admin-export", "/admin/export"),
        ("admin-reports", "/admin/reports"),
        ("admin-users", "/admin/users"),
        ("admin-audit", "/admin/audit"),
    ):
        walk.visit(name, get(base + path))


WALKS = [(size, scheme) for size in (SMALL_PHONE, PHONE, DESKTOP) for scheme in ("light", "dark")]


@pytest.mark.parametrize(("size", "scheme"), WALKS, ids=[f"{w}x{h}-{s}" for (w, h), s in WALKS])
def test_every_page_type_fits_the_screen_and_passes_axe(tmp_path, size, scheme):
    """Every page type at one size and colour scheme: no sideways scrolling, no errors, axe (phone)."""
    use_axe = size in AXE_SIZES
    if use_axe:
        axe.require_axe()
        use_axe = axe.available()
    email = f"walker-{size[0]}-{scheme}@example.com"
    options = context_options(size, scheme)
    app = server_app(tmp_path)
    try:
        with live_server(tmp_path) as base, chromium(**options) as (page, _):
            page.set_default_timeout(10_000)
            axe_page = None
            if use_axe:
                axe_page = page.context.browser.new_context(bypass_csp=True, **options).new_page()
                axe_page.set_default_timeout(10_000)
            walk = Walker(page, axe_page, size, scheme)
            visitor_pages(walk, base)
            if page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") != (scheme == "dark"):
                walk.problems.append(f"the browser does not report the {scheme} colour scheme")
            walk.step("sign up", lambda: register(page, base, email=email, name="Walker"))
            learner_pages(walk, base, app, email)
            mock_pages(walk, base)
            admin_pages(walk, base, app, tmp_path, email)
    finally:
        with app.app_context():
            db.engine.dispose()
    where = f"{size[0]}x{size[1]} {scheme}"
    assert len(walk.visited) >= 35, walk.visited
    assert not walk.problems, (
        f"{len(walk.problems)} problems on {len(walk.visited)} page types at {where}:\n"
        + ("\n".join(walk.problems))
    )
    if size in AXE_SIZES and not use_axe:
        pytest.skip(f"layout passed at {where}; axe-core is not installed (npm ci), so axe did not run")


# --- The drill's first screen, the rating buttons, focus ------------------------------------------


def test_the_question_and_its_first_action_are_on_the_first_phone_screen(tmp_path):
    """390x844: each role's first card shows its prompt and #draft (drafting on) or #reveal (off)."""
    email = "first-screen@example.com"
    problems, seen = [], []
    app = server_app(tmp_path)
    try:
        with live_server(tmp_path) as base, chromium(**context_options(PHONE, "light")) as (page, errors):
            register(page, base, email=email)
            for drafting, action in ((True, "#draft"), (False, "#reveal")):
                update_user(app, email, draft_enabled=drafting)
                for slug in role_slugs():
                    page.goto(f"{base}/roles/{slug}/drill")
                    seen.append(
                        first_screen(
                            page, f"{slug}, drafting {'on' if drafting else 'off'}:", action, problems
                        )
                    )
            assert errors == []
    finally:
        with app.app_context():
            db.engine.dispose()
    print("\n".join(seen))  # the measurements, for `pytest -rP` when it passes
    assert not problems, "\n".join(problems) + "\n\nMeasured:\n" + "\n".join(seen)


def first_screen(page, line: str, action: str, problems: list[str]) -> str:
    """Where the prompt and the first action are, with a problem for each outside the first screen."""
    found = page.evaluate(BOXES, ["#card .prompt", action])
    height, width = found["innerHeight"], found["innerWidth"]
    for selector, boxes in zip(("#card .prompt", action), found["boxes"], strict=True):
        if not boxes:
            problems.append(f"{line} no {selector}")
            continue
        box = boxes[0]
        line += f" {selector} y {box['top']}..{box['bottom']}"
        if not in_view(box, height, width):
            problems.append(f"{line} is outside the first screen (0..{height})")
    return f"{line} (viewport 0..{height}, scrollY {found['scrollY']})"


def test_rating_buttons_stay_in_view_beside_the_longest_model_answer(tmp_path):
    """1280x800: the longest bundled answer, revealed with and without a draft; then scrolled to its end.

    The question is the only one in a test bank built from its own role and set (so it is a fresh
    learner's first card, on a page like the real one): no URL picks one card out of a bundled role."""
    bank, key, length = longest_answer_bank()
    slug = bank["role"]["slug"]
    problems, seen = [], [f"question {key} ({length} characters of model answer)"]
    with (
        live_server(tmp_path, bank=bank) as base,
        chromium(**context_options(DESKTOP, "light")) as (page, errors),
    ):
        register(page, base, email="longest@example.com")
        for draft in ("", DRAFT):
            page.goto(f"{base}/roles/{slug}/drill")
            if draft:
                page.locator("#draft").fill(draft)
            page.locator("#reveal").click()
            page.locator(RATINGS).first.wait_for()
            page.evaluate(SETTLE)
            when = "with a draft" if draft else "without a draft"
            check_ratings_in_view(page, f"{when}, after Show answer", problems, seen)
            page.evaluate(
                """() => {
                  const answer = document.querySelector("#card .answer");
                  for (let el = answer; el; el = el.parentElement) el.scrollTop = el.scrollHeight;
                  answer.scrollIntoView({block: "end"});
                }"""
            )
            page.evaluate(SETTLE)
            check_ratings_in_view(page, f"{when}, answer scrolled to its end", problems, seen)
        assert errors == []
    print("\n".join(seen))  # the measurements, for `pytest -rP` when it passes
    assert not problems, "\n".join(problems) + "\n\nMeasured:\n" + "\n".join(seen)


def check_ratings_in_view(page, when: str, problems: list[str], seen: list[str]) -> None:
    """Note where the four rating buttons are, and a problem for each one outside the viewport."""
    found = page.evaluate(BOXES, [RATING_BUTTONS])
    height, width, buttons = found["innerHeight"], found["innerWidth"], found["boxes"][0]
    where = ", ".join(
        f"{b['label']} y {b['top']}..{b['bottom']} x {b['left']}..{b['right']}" for b in buttons
    )
    seen.append(f"{when}: {where} (viewport {width}x{height}, scrollY {found['scrollY']})")
    if len(buttons) != 4:
        problems.append(f"{when}: expected 4 rating buttons, found {len(buttons)}")
    outside = [b["label"] for b in buttons if not in_view(b, height, width)]
    if outside:
        problems.append(f"{when}: rating buttons outside the viewport: {', '.join(outside)} ({where})")


FOCUS = """
() => {
  const card = document.getElementById("card");
  const active = document.activeElement;
  const focusable = card ? [...card.querySelectorAll(
    'a[href], button:not([disabled]), input:not([type="hidden"]):not([disabled]), select, textarea, ' +
    'summary, [tabindex]:not([tabindex="-1"])')].filter((el) => el.getClientRects().length) : [];
  const name = (el) => el ? el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.getAttribute("name") ? `[name=${el.getAttribute("name")}]` : "") : "nothing";
  const onCard = !!card && !!active && card.contains(active) &&
    (active.id === "card-heading" || active === focusable[0]);
  return {onCard, active: name(active), first: name(focusable[0])};
}
"""

RING = """
(el) => {
  const s = getComputedStyle(el);
  return {outlineStyle: s.outlineStyle, outlineWidth: s.outlineWidth, outlineColor: s.outlineColor,
          outlineOffset: s.outlineOffset, boxShadow: s.boxShadow, focusVisible: el.matches(":focus-visible")};
}
"""


def rings(style: dict) -> set[tuple[str, str]]:
    """What draws a ring round an element, as (colour, line style): its outline and the box-shadow
    layers that have a spread or blur (a plain offset shadow is depth, not a ring)."""
    found = set()
    if style["outlineStyle"] not in ("none", "hidden") and float(style["outlineWidth"].rstrip("px") or 0) > 0:
        found.add((style["outlineColor"], style["outlineStyle"]))
    if style["boxShadow"] != "none":
        for layer in re.split(r",(?![^(]*\))", style["boxShadow"]):
            colour = re.search(r"rgba?\([^)]*\)", layer)
            lengths = [float(n) for n in re.findall(r"(-?[\d.]+)px", layer)]
            if not colour or re.search(r"rgba\([^)]*,\s*0\)", colour.group()) or len(lengths) < 3:
                continue
            blur, spread = lengths[2], lengths[3] if len(lengths) > 3 else 0.0
            if spread > 0 or blur > 0:
                kind = "inset shadow" if "inset" in layer else ("solid" if blur == 0 else "glow")
                found.add((colour.group(), kind))
    return found


def swap(page, action: Callable[[], object], label: str, problems: list[str], seen: list[str]) -> None:
    """Do something that replaces the card; check that focus lands on the new card."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # Playwright may be missing

    page.evaluate("document.getElementById('card').dataset.old = '1'")
    action()
    page.wait_for_function("() => { const c = document.getElementById('card'); return c && !c.dataset.old; }")
    with contextlib.suppress(PlaywrightTimeout):  # then report where focus is instead
        page.wait_for_function(f"() => ({FOCUS})().onCard", timeout=3000)
    found = page.evaluate(FOCUS)
    seen.append(f"after {label}: focus on {found['active']} (card's first control: {found['first']})")
    if not found["onCard"]:
        problems.append(
            f"after {label}: focus is on {found['active']}, not #card-heading or the card's first control "
            f"({found['first']})"
        )


def tab_to(page, selector: str) -> None:
    """Move keyboard focus with Tab until it reaches `selector` (so :focus-visible applies)."""
    for _ in range(80):
        if page.evaluate(f"document.activeElement === document.querySelector('{selector}')"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_focus_lands_on_the_new_card_and_its_ring_is_not_the_suggestion(tmp_path, scheme):
    """1280x800: focus after reveal, rate and undo; a Tab-focused rating button against .suggested."""
    problems: list[str] = []
    seen: list[str] = []
    with (
        live_server(tmp_path, bank=bank_dict(n_questions=4)) as base,
        chromium(**context_options(DESKTOP, scheme)) as (page, errors),
    ):
        register(page, base, email="focus@example.com")
        page.goto(f"{base}/roles/test-role/drill")
        swap(page, lambda: page.locator("#reveal").click(), "Show answer (click)", problems, seen)
        swap(
            page, lambda: page.locator(f'{RATINGS}[value="3"]').click(), "rating Good (click)", problems, seen
        )
        swap(page, lambda: page.locator("#undo").click(), "undo (click)", problems, seen)

        def reveal_by_keyboard() -> None:
            page.locator("#reveal").focus()
            page.keyboard.press("Enter")

        swap(page, reveal_by_keyboard, "Show answer (Enter)", problems, seen)

        # The focus ring against the suggested rating: tick a key point, then Tab to the buttons.
        page.locator('#card input[name="covered"]').first.check()
        page.locator(f"{RATINGS}.suggested").wait_for()
        suggested = page.locator(f"{RATINGS}.suggested").get_attribute("value")
        other = "1" if suggested != "1" else "4"
        plain_sel, suggested_sel = f'{RATINGS}[value="{other}"]', f'{RATINGS}[value="{suggested}"]'
        plain = page.locator(plain_sel).evaluate(RING)
        marked = page.locator(suggested_sel).evaluate(RING)
        tab_to(page, plain_sel)
        focused = page.locator(plain_sel).evaluate(RING)
        tab_to(page, suggested_sel)
        both = page.locator(suggested_sel).evaluate(RING)
        seen += [f"{name}: {style}" for name, style in (("plain", plain), ("suggested", marked))]
        seen += [
            f"{name}: {style}" for name, style in (("keyboard focus", focused), ("suggested+focus", both))
        ]
        focus_ring = rings(focused) - rings(plain)
        suggestion_ring = rings(marked) - rings(plain)
        added_to_suggested = rings(both) - rings(marked)
        if not focused["focusVisible"]:
            problems.append("the Tab-focused rating button does not match :focus-visible")
        if not focus_ring:
            problems.append(
                f"a keyboard-focused rating button draws no outline or box-shadow ring: {focused}"
            )
        elif focus_ring <= suggestion_ring:
            problems.append(
                f"the focus ring {sorted(focus_ring)} is the suggested rating's ring "
                f"{sorted(suggestion_ring)} (same colour and line style)"
            )
        if not added_to_suggested or added_to_suggested <= suggestion_ring:
            problems.append(
                f"focusing the suggested button adds no ring of its own: {sorted(rings(both))} "
                f"against {sorted(rings(marked))} when not focused"
            )
        swap(page, lambda: page.keyboard.press("3"), "rating Good (key 3)", problems, seen)
        assert errors == []
    print("\n".join(seen))  # the measurements, for `pytest -rP` when it passes
    assert not problems, f"{scheme}:\n" + "\n".join(problems) + "\n\nMeasured:\n" + "\n".join(seen)


def test_the_axe_pass_reports_serious_violations():
    """The axe pass is only worth something if it fails: a page with known problems, no server."""
    if not axe.available():
        axe.require_axe()
        pytest.skip("axe-core is not installed (npm ci)")
    with chromium() as (page, _errors):
        page.set_content(
            "<html><head><title>Broken</title></head><body><main><h1>Broken</h1>"
            "<p style='color:#aaa;background:#fff'>Too faint to read</p>"
            "<input type='text' id='nameless'><button id='empty'></button></main></body></html>"
        )
        found = axe.run(page)
    lines = axe.describe("broken", axe.failing(found))
    assert "broken: color-contrast (serious): p" in lines
    assert "broken: label (critical): #nameless" in lines
    assert "broken: button-name (critical): #empty" in lines
