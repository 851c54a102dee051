"""Real Chromium, on a phone (390x844): type an answer, reveal, see the pre-ticks and highlights, untick
one, rate; the review keeps both the detected and the confirmed ticks."""

from __future__ import annotations

import pytest

from careerprep.extensions import db
from careerprep.models import Review
from tests.e2e_support import chromium, live_server, register, server_app
from tests.test_answer_feedback import DRAFT, FOUND, feedback_bank

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("chromium_available")]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
LAYOUT = """
() => {
  const root = document.documentElement;
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right};
  };
  return {
    scrollWidth: root.scrollWidth,
    width: Math.min(window.innerWidth, root.clientWidth),
    height: window.innerHeight,
    buttons: [...document.querySelectorAll('#card button[name="rating"]')].map(box),
  };
}
"""


def test_type_reveal_check_the_pre_ticks_untick_one_and_rate(tmp_path):
    with (
        live_server(tmp_path, bank=feedback_bank(n_questions=2)) as base,
        chromium(**PHONE) as (page, errors),
    ):
        register(page, base, email="feedback@example.com")
        page.goto(f"{base}/roles/test-role/drill")
        page.locator("#card .prompt", has_text="save a file atomically").wait_for()
        page.locator("#draft").fill(DRAFT)
        page.locator("#card #reveal").click()
        page.locator(
            "#detect-summary", has_text="We found 3 of 4 key points in your answer — check them"
        ).wait_for()
        boxes = page.locator('#card input[name="covered"]')
        assert [boxes.nth(i).is_checked() for i in range(4)] == [i in FOUND for i in range(4)]
        marks = page.locator("#card .draft-text mark")
        assert marks.count() >= 3 and "temporary" in marks.all_inner_texts()
        # The draft's markup is shown as text, never run or rendered.
        assert page.locator("#card .draft-text script").count() == 0
        assert "<script>alert(1)</script>" in page.locator("#card .draft-text").inner_text()
        assert page.locator("#answer-insights").is_visible()
        # On a phone: no sideways scroll, and the rating buttons in view on the back.
        layout = page.evaluate(LAYOUT)
        assert layout["scrollWidth"] <= layout["width"], layout
        assert len(layout["buttons"]) == 5, layout  # Again … Easy and "Rate from my checklist"
        for button in layout["buttons"]:
            assert button["top"] >= 0 and button["bottom"] <= layout["height"], layout
            assert button["left"] >= 0 and button["right"] <= layout["width"], layout
        # Untick one: the suggestion follows the confirmed ticks (2 of 4 → Again).
        boxes.nth(1).uncheck()
        page.locator("#suggestion", has_text="Suggested: Again").wait_for()
        page.locator('#card button[name="rating"][value="3"]').click()
        page.locator('#card[data-announce="Rated Good. Next card."]').wait_for()
        assert errors == []
    app = server_app(tmp_path)
    with app.app_context():
        review = db.session.scalar(db.select(Review))
        assert (review.detected, review.covered, review.rating) == (FOUND, [0, 2], 3)
        db.engine.dispose()
