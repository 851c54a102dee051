"""Exercise cards in the drill: each kind's front (page and fragment), the check of an answer and the
rating it suggests, refused and tampered answers, the attempt stored on the review, and the pages that
show a past attempt (history and /reviews/<id>).

tests/exercise_support.py holds the bank (one question per kind); the kinds with an answer form post it
to /roles/test-role/drill/reveal, read_output and recall reveal with the plain link.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from careerprep.extensions import db
from careerprep.models import CardState, Question, Review, User, utc_now
from tests.conftest import count_queries, load_bank, make_user, rating_token, reveal_url
from tests.exercise_support import DESIGN, EXERCISES, PREDICT, SECRET, SPOT_BUG, WRITE_CODE, exercise_bank
from tests.helpers import DRILL, HX, count_rows, set_user, sign_in

REVEAL = DRILL + "/reveal"
KINDS = tuple(EXERCISES)  # predict, spot_bug, write_code, read_output, design, recall
ANSWERED = ("predict", "spot_bug", "write_code", "design")  # a form on the front posts the attempt
LABELS = {
    "predict": "Predict the output",
    "spot_bug": "Spot the bug",
    "write_code": "Write the code",
    "read_output": "Read the output",
    "design": "Design with numbers",
}
RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}

# What each front shows (in the page's text, entities decoded), and what it must not give away.
FRONT = {
    "predict": [
        'name="output"',
        'aria-label="Code"',
        'printf("%d\\n", -1 < sizeof(int));',
        "x86-64 Linux, gcc",
        "Check my answer",
    ],
    "spot_bug": [
        'name="lines" value="1"',
        'name="lines" value="5"',
        "strncpy(dst, src, n);",
        'name="why"',
        "Check my answer",
    ],
    "write_code": ['name="code"', "int is_pow2(unsigned x)\n{\n}</textarea>", "Show the reference solution"],
    "read_output": ['aria-label="Output to read"', "LISTEN 129    128", 'id="reveal"', "Show answer"],
    "design": [
        "Your estimate: Total ingest bandwidth",
        'name="estimate"',
        '<option value="MB/s" selected>MB/s</option>',
        '<option value="Gbit/s">Gbit/s</option>',
        "Show the model design",
    ],
    "recall": ['id="reveal"', "Show answer"],
}

# A right answer for each kind that takes one, and what the review stores for it: (attempt, correct).
RIGHT = {
    "predict": {"output": "0"},
    "spot_bug": {"lines": ["4"], "why": "No NUL when src is long"},
    "write_code": {"code": WRITE_CODE["solution"]},
    "design": {"estimate": "1,000", "unit": "MB/s"},
}
STORED = {
    "predict": ({"output": "0"}, True),
    "spot_bug": ({"lines": [4], "why": "No NUL when src is long"}, True),
    "write_code": ({"code": WRITE_CODE["solution"]}, None),
    "read_output": (None, None),
    "design": ({"estimate": {"value": 1000.0, "unit": "MB/s"}}, True),
    "recall": (None, None),
}
DATA_RATES = "B/s, KB/s, MB/s, GB/s, bit/s, kbit/s, Mbit/s, Gbit/s"


# -- helpers -----------------------------------------------------------------------------------------


@pytest.fixture
def drill_of(app, logged_in):
    """Load a bank of the given kinds (one question each) and return the signed-in client."""

    def load(*kinds: str):
        load_bank(app, exercise_bank(*kinds))
        return logged_in

    return load


def text_of(response) -> str:
    """A response's HTML with entities decoded (what the user reads, tags kept)."""
    return html.unescape(response.get_data(as_text=True))


def squash(text: str) -> str:
    """Runs of white space as one space, as a reader sees wrapped text."""
    return " ".join(text.split())


def show_back(client, kind: str, fields: dict | None = None, htmx: bool = False):
    """Open the card and reveal it: post the attempt (kinds with an answer form) or follow the link."""
    headers = HX if htmx else {}
    front = client.get(DRILL, headers=headers).get_data(as_text=True)
    if kind in ANSWERED:
        data = {"token": rating_token(front), **(RIGHT[kind] if fields is None else fields)}
        return client.post(REVEAL, data=data, headers=headers)
    return client.get(reveal_url(front), headers=headers)


class _FormFields(HTMLParser):
    """The hidden fields of the first form with a given class, in order (names may repeat)."""

    def __init__(self, form_class: str):
        super().__init__()
        self.form_class, self.inside, self.done = form_class, False, False
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.done and self.form_class in (attrs.get("class") or "").split():
            self.inside = True
        elif tag == "input" and self.inside and attrs.get("type") == "hidden":
            self.fields.append((attrs["name"], attrs.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside, self.done = False, True


def rating_fields(back: str) -> dict[str, list[str]]:
    """The rating form's hidden fields (token, the carried attempt …) as a browser would post them."""
    parser = _FormFields("rating-form")
    parser.feed(back)
    assert parser.fields, "no rating form on the page"
    fields: dict[str, list[str]] = {}
    for name, value in parser.fields:
        fields.setdefault(name, []).append(value)
    return fields


def rate_back(client, back: str, rating: str = "3", covered=(), htmx: bool = False, **changes):
    """Post the back's rating form as a browser would, with `changes` to its fields (None removes one)."""
    data: dict = {**rating_fields(back), "rating": rating, "covered": [str(c) for c in covered]}
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(DRILL, data=data, headers=HX if htmx else {})


def verdict(page: str) -> tuple[str, str] | None:
    """The check's verdict on a back: (right / wrong / partly, its words), or None."""
    match = re.search(r'<p class="verdict verdict-(\w+)">(.*?)</p>', page, re.S)
    if not match:
        return None
    words = re.sub(r"<[^>]+>", " ", re.sub(r'<span class="verdict-mark".*?</span>', "", match[2], flags=re.S))
    return match[1], " ".join(html.unescape(words).split())


def suggested(page: str) -> str | None:
    """The rating button the server marks as suggested, by label (None when none is)."""
    found = re.findall(r'name="rating" value="(\d)" class="[^"]*\bsuggested\b', page)
    assert len(found) <= 1, found
    return RATING_NAMES[int(found[0])] if found else None


def data_suggestions(page: str) -> str:
    """The suggestion table the rating form carries (a rating for 0, 1 … n key points ticked)."""
    match = re.search(r'<form class="rating-form"[^>]*data-suggestions="([^"]*)"', page, re.S)
    assert match, "no rating form on the page"
    return match[1]


def field_error(page: str) -> str | None:
    match = re.search(r'<p class="field-error"[^>]*>(.*?)</p>', page, re.S)
    return " ".join(html.unescape(match[1]).split()) if match else None


def recorded(app) -> tuple[int, int]:
    """(reviews, card states): what a rating writes."""
    return count_rows(app, Review), count_rows(app, CardState)


def only_review(app) -> Review:
    with app.app_context():
        reviews = db.session.scalars(db.select(Review)).all()
        assert len(reviews) == 1, reviews
        db.session.expunge(reviews[0])
        return reviews[0]


# -- the front ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("kind", KINDS)
def test_front_shows_the_kinds_fields_and_listing(drill_of, kind, htmx):
    client = drill_of(kind)
    response = client.get(DRILL, headers=HX if htmx else {})
    page = text_of(response)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert ("<html" in page) is not htmx
    if htmx:
        assert page.lstrip().startswith('<section id="card"')
    assert EXERCISES[kind]["prompt"].replace("`", "") in re.sub(r"</?code>", "", page)
    for expected in FRONT[kind]:
        assert expected in page, expected
    assert SECRET[kind] not in page  # nothing of the answer before the reveal
    assert 'class="verdict' not in page and 'name="rating"' not in page
    if kind in LABELS:
        assert f'<span class="kind-tag">{LABELS[kind]}</span>' in page
    else:
        assert "kind-tag" not in page
    # Only kinds with an answer form post to the reveal; the others keep the plain link.
    assert (f'action="{REVEAL}"' in page) is (kind in ANSWERED)


def test_the_design_front_offers_only_units_of_the_same_measure(drill_of):
    page = text_of(drill_of("design").get(DRILL))
    units = re.findall(r'<option value="([^"]+)"', page)
    assert ", ".join(units) == DATA_RATES
    assert 'required maxlength="40"' in page


# -- reveal: the check and the suggestion ------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
@pytest.mark.parametrize("kind", KINDS)
def test_reveal_shows_the_answer_and_the_rating_buttons(app, drill_of, kind, htmx):
    client = drill_of(kind)
    response = show_back(client, kind, htmx=htmx)
    page = text_of(response)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert ("<html" in page) is not htmx  # a form post without JavaScript gets the whole page
    assert SECRET[kind] in page
    for point in EXERCISES[kind]["key_points"]:
        assert point in page
    for value, label in RATING_NAMES.items():
        assert f'name="rating" value="{value}"' in page and label in page
    assert recorded(app) == (0, 0)  # revealing records nothing


BACK = {
    "predict": ["It prints", "You said", 'aria-label="The real output"><code>0</code>'],
    "spot_bug": ["The code, faulty lines marked", "faulty, you found it", "Fixed", "dst[n - 1] = '\\0';"],
    "write_code": ["Your code", "A reference solution", "The tests it must pass", "assert(is_pow2(1)"],
    "read_output": ["What it tells you", "LISTEN 129    128"],
    "design": [
        "About 1000 MB/s; anything from 800 to 1200 MB/s counts.",
        "Follow-up 1 of 2",
        "Now the collector is down for an hour.",
        "Buffer on disk: 3.6 GB per host.",
    ],
    "recall": ["Model answer"],
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_back_shows_the_attempt_beside_the_right_answer(drill_of, kind):
    page = squash(text_of(show_back(drill_of(kind), kind)))
    for expected in BACK[kind]:
        assert squash(expected) in page, expected


RIGHT_OUTPUT = ("right", "Right: that is what it prints.")
WRONG_OUTPUT = ("wrong", "Not quite: compare with the real output.")
NO_OUTPUT = ("wrong", "No answer given. Here is what it prints.")
CHECKS = [
    # kind, the answer posted, verdict (class, words), the suggested rating (None: from the checklist)
    ("predict", {"output": "0"}, RIGHT_OUTPUT, "Easy"),
    ("predict", {"output": "\r\n   0   \r\n\r\n"}, RIGHT_OUTPUT, "Easy"),
    ("predict", {"output": "1"}, WRONG_OUTPUT, "Again"),
    ("predict", {"output": "0\n0"}, WRONG_OUTPUT, "Again"),
    ("predict", {"output": ""}, NO_OUTPUT, "Again"),
    ("predict", {}, NO_OUTPUT, "Again"),
    ("spot_bug", {"lines": ["4"]}, ("right", "Right: you found line 4."), "Easy"),
    ("spot_bug", {"lines": ["4", "4"]}, ("right", "Right: you found line 4."), "Easy"),
    (
        "spot_bug",
        {"lines": ["4", "5"]},
        ("right", "Right: you found line 4 (line 5 is fine, but close)."),
        "Easy",
    ),
    (
        "spot_bug",
        {"lines": ["3", "4", "5"]},
        ("partly", "Not quite: you found line 4, lines 3, 5 are fine."),
        "Hard",
    ),
    ("spot_bug", {"lines": ["3"]}, ("wrong", "Not quite: missed line 4, line 3 is fine."), "Again"),
    (
        "design",
        {"estimate": "1000"},
        ("right", "Your estimate, 1000 MB/s, is within the accepted range."),
        None,
    ),
    (
        "design",
        {"estimate": "1", "unit": "GB/s"},
        ("right", "Your estimate, 1 GB/s, is within the accepted range."),
        None,
    ),
    (
        "design",
        {"estimate": "8e9", "unit": "bit/s"},
        ("right", "Your estimate, 8e+09 bit/s, is within the accepted range."),
        None,
    ),
    (
        "design",
        {"estimate": "5000", "unit": "MB/s"},
        ("wrong", "Your estimate, 5000 MB/s, is about 4.2× too high."),
        None,
    ),
    ("design", {"estimate": "100"}, ("wrong", "Your estimate, 100 MB/s, is about 8.0× too low."), None),
    (
        "design",
        {"estimate": "1", "unit": "MB/s"},
        ("wrong", "Your estimate, 1 MB/s, is about 800× too low."),
        None,
    ),
]


@pytest.mark.parametrize(("kind", "fields", "expected", "rating"), CHECKS)
def test_the_check_gives_a_verdict_and_suggests_a_rating(app, drill_of, kind, fields, expected, rating):
    response = show_back(drill_of(kind), kind, fields)
    page = text_of(response)
    assert response.status_code == 200
    assert verdict(page) == expected
    assert suggested(page) == rating
    if rating:  # the check alone decides, whatever is ticked
        assert data_suggestions(page) == ",".join([str(list(RATING_NAMES.values()).index(rating) + 1)] * 3)
        assert f"Suggested: {rating}, from the check above." in page
        assert "Rate as suggested" in page
    else:  # design: the checklist suggests, capped at Hard when the estimate is out of range
        assert data_suggestions(page) == ("1,1,3,4" if expected[0] == "right" else "1,1,2,2")
        assert "Tick what you covered for a suggested rating." in page
        assert "Rate from my checklist" in page
    assert recorded(app) == (0, 0)


def test_no_line_chosen_names_the_one_faulty_line_in_good_english(drill_of):
    page = text_of(show_back(drill_of("spot_bug"), "spot_bug", {"why": "no idea"}))
    assert verdict(page) == ("wrong", "No line chosen. The faulty line 4 is marked below.")
    assert suggested(page) == "Again"


@pytest.mark.parametrize("kind", ["write_code", "read_output", "recall"])
def test_unchecked_kinds_have_no_verdict_and_suggest_from_the_checklist(drill_of, kind):
    page = text_of(show_back(drill_of(kind), kind))
    assert verdict(page) is None
    assert suggested(page) is None
    assert data_suggestions(page) == "1,1,3,4"  # 0 … 3 of 3 key points, answered at once
    assert "Tick what you covered for a suggested rating." in page


def test_write_code_without_code_reveals_the_solution_without_an_attempt(drill_of):
    page = text_of(show_back(drill_of("write_code"), "write_code", {"code": "   \n"}))
    assert "A reference solution" in page and WRITE_CODE["solution"] in page
    assert "Your code" not in page


def old_token(app, user, kind: str, minutes: int = 5) -> str:
    """A token for the kind's card as if it had been shown `minutes` ago (the clock runs from there)."""
    from careerprep.practice.rating import issue_token

    with app.app_context():
        question = db.session.scalar(db.select(Question).filter_by(key=EXERCISES[kind]["key"]))
        return issue_token(db.session.get(User, user.id), question, utc_now() - timedelta(minutes=minutes))


@pytest.mark.parametrize("kind", ["predict", "spot_bug"])
def test_a_right_answer_after_90_seconds_suggests_good_not_easy(app, drill_of, user, kind):
    client = drill_of(kind)
    response = client.post(REVEAL, data={"token": old_token(app, user, kind), **RIGHT[kind]})
    page = text_of(response)
    assert response.status_code == 200
    assert verdict(page)[0] == "right"
    assert suggested(page) == "Good"
    assert "Suggested: Good, from the check above. Press 3 to accept" in page


# -- refused answers ---------------------------------------------------------------------------------

TOO_LONG = "is longer than {:,} characters; shorten it and try again."
LINES = "Choose lines from 1 to 5."
NO_ESTIMATE = "Enter your estimate: a number of MB/s or a unit like it."
NUMBER = "Your estimate must be a number such as 120, 1.5e3 or 2,000."
UNIT = f"Choose a unit from the list ({DATA_RATES})."
REFUSED = [
    # kind, the answer posted, the message, what the refilled front still shows
    ("predict", {"output": "7" * 4001}, "Your answer " + TOO_LONG.format(4000), "7" * 4001),
    ("spot_bug", {"lines": ["6"], "why": "kept reason"}, LINES, "kept reason"),
    ("spot_bug", {"lines": ["0"]}, LINES, 'name="lines" value="5"'),
    ("spot_bug", {"lines": ["4", "abc"], "why": "kept"}, LINES, 'value="4" checked'),
    ("spot_bug", {"lines": ["-1"]}, LINES, 'name="why"'),
    ("spot_bug", {"lines": ["4.0"]}, LINES, 'name="why"'),
    ("spot_bug", {"lines": ["9" * 40]}, LINES, 'name="why"'),
    ("spot_bug", {"lines": [""]}, LINES, 'name="why"'),
    (
        "spot_bug",
        {"lines": ["4"], "why": "w" * 2001},
        "Your reason " + TOO_LONG.format(2000),
        'value="4" checked',
    ),
    ("write_code", {"code": "c" * 12_001}, "Your code " + TOO_LONG.format(12_000), "c" * 12_001),
    ("design", {"unit": "GB/s"}, NO_ESTIMATE, '<option value="GB/s" selected>'),
    ("design", {"estimate": "  "}, NO_ESTIMATE, 'name="estimate"'),
    ("design", {"estimate": "lots"}, NUMBER, 'value="lots"'),
    ("design", {"estimate": "nan"}, NUMBER, 'value="nan"'),
    ("design", {"estimate": "1e999"}, NUMBER, 'value="1e999"'),
    ("design", {"estimate": "-inf"}, NUMBER, 'value="-inf"'),
    ("design", {"estimate": "-5"}, NUMBER, 'value="-5"'),
    ("design", {"estimate": "1" * 41}, NUMBER, 'name="estimate"'),
    ("design", {"estimate": "10", "unit": "ms"}, UNIT, 'value="10"'),
    ("design", {"estimate": "10", "unit": "GB"}, UNIT, 'value="10"'),
    ("design", {"estimate": "10", "unit": "furlongs/fortnight"}, UNIT, 'value="10"'),
]


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
@pytest.mark.parametrize(("kind", "fields", "message", "kept"), REFUSED)
def test_a_refused_answer_shows_the_same_front_again_with_why(
    app, drill_of, kind, fields, message, kept, htmx
):
    client = drill_of(kind)
    headers = HX if htmx else {}
    token = rating_token(client.get(DRILL, headers=headers).get_data(as_text=True))
    response = client.post(REVEAL, data={"token": token, **fields}, headers=headers)
    page = text_of(response)
    assert response.status_code == 422
    assert field_error(page) == message
    assert ("<html" in page) is not htmx
    assert kept in page  # what was typed or chosen is kept
    assert f'name="token" value="{token}"' in page  # the same card, its clock still running
    assert f'action="{REVEAL}"' in page and 'name="rating"' not in page
    assert 'aria-invalid="true"' in page or kind == "spot_bug"
    assert recorded(app) == (0, 0)


def test_after_a_refused_answer_the_same_card_takes_a_right_one(app, drill_of):
    client = drill_of("design")
    token = rating_token(client.get(DRILL).get_data(as_text=True))
    assert client.post(REVEAL, data={"token": token, "estimate": "x"}).status_code == 422
    page = text_of(client.post(REVEAL, data={"token": token, "estimate": "1.1", "unit": "GB/s"}))
    assert verdict(page) == ("right", "Your estimate, 1.1 GB/s, is within the accepted range.")


# -- tampered input ----------------------------------------------------------------------------------

TAMPERED = [
    ("predict", {"output": ["0", "1"]}),
    ("predict", {"output": "\x00\x01\x7f"}),
    ("predict", {"output": "\ud7ff\ufeff" * 50}),
    ("spot_bug", {"lines": ["4"] * 500}),
    ("spot_bug", {"lines": ["٤"]}),  # an Arabic-Indic four
    ("spot_bug", {"lines": ["0x4"]}),
    ("spot_bug", {"lines": ["+4"]}),
    ("write_code", {"code": ["a", "b"]}),
    ("design", {"estimate": ["1000", "x"], "unit": ["MB/s", "ms"]}),
    ("design", {"estimate": "1_000"}),
    ("design", {"estimate": "1e18", "unit": "GB/s"}),
    ("design", {"estimate": "1e-300"}),
    ("design", {"estimate": "0x10"}),
    ("design", {"estimate": "1000", "unit": ""}),
]


@pytest.mark.parametrize(("kind", "fields"), TAMPERED)
def test_tampered_answers_never_fail_the_server(app, drill_of, kind, fields):
    client = drill_of(kind)
    token = rating_token(client.get(DRILL).get_data(as_text=True))
    response = client.post(REVEAL, data={"token": token, **fields})
    assert response.status_code in (200, 400, 422)  # 400: a NUL byte is refused before the view
    assert b"Traceback" not in response.data
    assert recorded(app) == (0, 0)


@pytest.mark.parametrize("where", ["reveal", "rating"])
def test_a_superscript_line_number_is_refused_not_a_server_error(app, drill_of, where):
    client = drill_of("spot_bug")
    if where == "reveal":
        token = rating_token(client.get(DRILL).get_data(as_text=True))
        response = client.post(REVEAL, data={"token": token, "lines": ["²"]})
    else:
        response = rate_back(client, show_back(client, "spot_bug").get_data(as_text=True), lines=["²"])
    assert response.status_code == 422
    assert "Choose lines from 1 to 5." in text_of(response)
    assert recorded(app) == (0, 0)


@pytest.mark.parametrize("estimate", ["0", "0.0", "1e-323"])
def test_an_estimate_of_zero_is_checked_not_a_server_error(app, drill_of, estimate):
    client = drill_of("design")
    token = rating_token(client.get(DRILL).get_data(as_text=True))
    response = client.post(REVEAL, data={"token": token, "estimate": estimate})
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        assert verdict(text_of(response))[0] == "wrong"  # far below 800 MB/s
    assert recorded(app) == (0, 0)


def test_a_tiny_estimate_says_how_far_off_in_a_short_line(drill_of):
    page = text_of(show_back(drill_of("design"), "design", {"estimate": "1e-300"}))
    kind, words = verdict(page)
    assert kind == "wrong" and words.endswith("too low.")
    assert len(words) <= 120, words


def test_a_json_body_is_not_read_as_an_answer(app, drill_of):
    client = drill_of("spot_bug", "predict")
    token = rating_token(client.get(DRILL).get_data(as_text=True))
    payload = {"token": token, "lines": [4, {"x": 1}], "output": {"a": ["0"]}, "estimate": [1]}
    reveal = client.post(REVEAL, json=payload)
    assert reveal.status_code == 200  # no form token: the card expired, here is the next one
    assert "That card expired" in text_of(reveal)
    rate = client.post(DRILL, json={**payload, "rating": 3, "covered": [0]})
    assert rate.status_code == 400
    assert recorded(app) == (0, 0)


# -- rating: the attempt stored on the review --------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
@pytest.mark.parametrize("kind", KINDS)
def test_rating_stores_the_attempt_as_checked(app, drill_of, kind, htmx):
    client = drill_of(kind)
    back = show_back(client, kind, htmx=htmx).get_data(as_text=True)
    response = rate_back(client, back, rating="2", covered=[0], htmx=htmx)
    assert response.status_code == (200 if htmx else 303)
    review = only_review(app)
    attempt, correct = STORED[kind]
    assert (review.attempt, review.correct) == (attempt, correct)
    assert review.rating == 2 and review.covered == [0]


@pytest.mark.parametrize("kind", ["predict", "spot_bug", "design"])
def test_a_wrong_answer_is_stored_as_wrong(app, drill_of, kind):
    wrong = {
        "predict": {"output": "1"},
        "spot_bug": {"lines": ["2"]},
        "design": {"estimate": "90", "unit": "GB/s"},
    }
    stored = {
        "predict": {"output": "1"},
        "spot_bug": {"lines": [2]},
        "design": {"estimate": {"value": 90.0, "unit": "GB/s"}},
    }
    client = drill_of(kind)
    rate_back(client, show_back(client, kind, wrong[kind]).get_data(as_text=True), rating="1")
    review = only_review(app)
    assert (review.attempt, review.correct) == (stored[kind], False)


NINE_THOUSAND = {"value": 9000.0, "unit": "MB/s"}
NINE_THOUSAND_BITS = {"value": 9000.0, "unit": "bit/s"}
TAMPERED_RATINGS = [
    # kind, answer revealed, hidden fields changed before rating, stored (attempt, correct)
    ("predict", {"output": "1"}, {"correct": "1", "verdict": "right"}, ({"output": "1"}, False)),
    ("predict", {"output": "0"}, {"output": "1"}, ({"output": "1"}, False)),
    ("predict", {"output": "1"}, {"output": "0"}, ({"output": "0"}, True)),
    ("predict", {"output": "0"}, {"output": None}, ({"output": ""}, False)),
    ("spot_bug", {"lines": ["4"]}, {"lines": ["1", "2", "3"]}, ({"lines": [1, 2, 3]}, False)),
    ("spot_bug", {"lines": ["2"]}, {"lines": ["4"], "correct": "true"}, ({"lines": [4]}, True)),
    ("spot_bug", {"lines": ["4"]}, {"lines": None}, ({"lines": []}, False)),
    ("design", {"estimate": "1000"}, {"estimate": "9000"}, ({"estimate": NINE_THOUSAND}, False)),
    ("design", {"estimate": "9000"}, {"unit": "bit/s"}, ({"estimate": NINE_THOUSAND_BITS}, False)),
    ("design", {"estimate": "1000"}, {"estimate": None, "unit": None}, (None, None)),
    ("write_code", {"code": "int x;"}, {"code": "int y;", "correct": "1"}, ({"code": "int y;"}, None)),
    ("read_output", None, {"output": "0", "lines": "1", "estimate": "5", "correct": "1"}, (None, None)),
    ("recall", None, {"code": "x", "correct": "1"}, (None, None)),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "fields", "changes", "stored"), TAMPERED_RATINGS)
def test_the_rating_checks_the_carried_attempt_again(app, drill_of, kind, fields, changes, stored):
    """The stored `correct` is the server's check of the stored attempt, never something the form says."""
    client = drill_of(kind)
    back = show_back(client, kind, fields).get_data(as_text=True)
    assert rate_back(client, back, **changes).status_code == 303
    review = only_review(app)
    assert (review.attempt, review.correct) == stored


REFUSED_RATINGS = [
    ("predict", {"output": "7" * 4001}, "Your answer " + TOO_LONG.format(4000)),
    ("spot_bug", {"lines": ["9"]}, LINES),
    ("spot_bug", {"lines": ["abc"]}, LINES),
    ("spot_bug", {"why": "w" * 2001}, "Your reason " + TOO_LONG.format(2000)),
    ("write_code", {"code": "c" * 12_001}, "Your code " + TOO_LONG.format(12_000)),
    ("design", {"estimate": "nan"}, NUMBER),
    ("design", {"estimate": "1e999"}, NUMBER),
    ("design", {"estimate": "-5"}, NUMBER),
    ("design", {"estimate": ""}, NO_ESTIMATE),
    ("design", {"unit": "ms"}, UNIT),
]


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
@pytest.mark.parametrize(("kind", "changes", "message"), REFUSED_RATINGS)
def test_a_tampered_attempt_at_rating_is_refused_and_records_nothing(
    app, drill_of, kind, changes, message, htmx
):
    client = drill_of(kind)
    back = show_back(client, kind).get_data(as_text=True)
    response = rate_back(client, back, htmx=htmx, **changes)
    assert response.status_code == 422
    assert message in text_of(response)
    assert recorded(app) == (0, 0)
    # The untampered form still records the rating afterwards.
    assert rate_back(client, back).status_code == 303
    assert recorded(app) == (1, 1)


AUTO = [
    # kind, answer, key points ticked, answer_seconds carried, the rating recorded
    ("predict", {"output": "0"}, [], None, 4),
    ("predict", {"output": "0"}, [0, 1], "300", 3),
    ("predict", {"output": "1"}, [0, 1], None, 1),
    ("spot_bug", {"lines": ["4"]}, [], None, 4),
    ("spot_bug", {"lines": ["4"]}, [], "91", 3),
    ("spot_bug", {"lines": ["3", "4", "5"]}, [0, 1], None, 2),
    ("spot_bug", {"lines": ["1"]}, [0, 1], None, 1),
    ("design", {"estimate": "1000"}, [0, 1, 2], None, 4),
    ("design", {"estimate": "1000"}, [0, 1], None, 3),
    ("design", {"estimate": "1000"}, [0, 1, 2], "300", 3),
    ("design", {"estimate": "9000"}, [0, 1, 2], None, 2),
    ("design", {"estimate": "9000"}, [], None, 1),
    ("write_code", {"code": "int x;"}, [0], None, 1),  # most of the checklist missing: Again
    ("design", {"estimate": "1000"}, [0, 1, 2], "301", 2),  # all of it, recalled slowly: Hard
    ("write_code", {"code": "int x;"}, [0, 1, 2], None, 4),
    ("read_output", None, [], None, 1),
    ("read_output", None, [0, 1], None, 3),
    ("recall", None, [0, 1, 2], None, 4),
]


@pytest.mark.parametrize(("kind", "fields", "covered", "seconds", "expected"), AUTO)
def test_rating_auto_applies_the_suggestion(app, drill_of, kind, fields, covered, seconds, expected):
    client = drill_of(kind)
    back = show_back(client, kind, fields).get_data(as_text=True)
    changes = {"answer_seconds": seconds} if seconds else {}
    response = rate_back(client, back, rating="auto", covered=covered, **changes)
    assert response.status_code == 303
    review = only_review(app)
    assert review.rating == expected
    assert review.covered == covered


def test_rating_auto_follows_the_check_of_the_tampered_attempt_not_the_shown_one(app, drill_of):
    client = drill_of("predict")
    back = show_back(client, "predict", {"output": "0"}).get_data(as_text=True)
    assert suggested(back) == "Easy"
    assert rate_back(client, back, rating="auto", output="42").status_code == 303
    review = only_review(app)
    assert (review.rating, review.attempt, review.correct) == (1, {"output": "42"}, False)


# -- query counts ------------------------------------------------------------------------------------


def test_front_reveal_and_rating_cost_the_same_queries_for_every_kind(app, logged_in):
    """One role per kind, so each drill's first card is that kind's; counts measured after a warm-up."""
    for kind in KINDS:
        bank = exercise_bank(kind)
        bank["role"] = {**bank["role"], "slug": f"kind-{kind.replace('_', '-')}"}
        load_bank(app, bank)
    logged_in.get("/roles/kind-recall/drill")  # warm-up: the first request loads what it caches
    counts = {}
    for kind in KINDS:
        url = f"/roles/kind-{kind.replace('_', '-')}/drill"
        with count_queries(app) as front_queries:
            front = logged_in.get(url)
        assert front.status_code == 200
        token = rating_token(front.get_data(as_text=True))
        with count_queries(app) as reveal_queries:
            if kind in ANSWERED:
                back = logged_in.post(f"{url}/reveal", data={"token": token, **RIGHT[kind]})
            else:
                back = logged_in.get(reveal_url(front.get_data(as_text=True)))
        assert back.status_code == 200
        data = {**rating_fields(back.get_data(as_text=True)), "rating": "3", "covered": ["0"]}
        with count_queries(app) as rating_queries:
            assert logged_in.post(url, data=data).status_code == 303
        counts[kind] = (len(front_queries), len(reveal_queries), len(rating_queries))
    assert count_rows(app, Review) == len(KINDS)
    assert len(set(counts.values())) == 1, counts  # every kind costs what a recall card costs


# -- a past attempt: /reviews/<id> and the history ---------------------------------------------------

IN_FULL = {
    "predict": ["You said", "It prints", "the check found it <strong>right</strong>"],
    "spot_bug": [
        "faulty, you found it",
        "Your reason",
        "No NUL when src is long",
        "the check found it <strong>right</strong>",
    ],
    "write_code": ["Your code", "return x && !(x & (x - 1));", "A reference solution"],
    "read_output": ["Output to read", "LISTEN 129    128"],
    "design": [
        "Your estimate, 1000 MB/s, is within the accepted range.",
        "the check found it <strong>right</strong>",
    ],
    "recall": ["Model answer", "A child that has exited"],
}
SUMMARY = {
    "predict": "You said it prints: 0 ✓",
    "spot_bug": "You chose line 4 ✓",
    "write_code": "You wrote 4 lines of code",
    "design": "Your estimate: 1000 MB/s, within the accepted range ✓",
}


def rated_review(app, client, kind: str, fields: dict | None = None) -> Review:
    rate_back(client, show_back(client, kind, fields).get_data(as_text=True), rating="3", covered=[1])
    return only_review(app)


@pytest.mark.parametrize("kind", KINDS)
def test_a_past_attempt_is_shown_in_full(app, drill_of, kind):
    client = drill_of(kind)
    review = rated_review(app, client, kind)
    response = client.get(f"/reviews/{review.id}")
    page = text_of(response)
    assert response.status_code == 200
    assert "Your attempt" in page and "rated <strong" in page and "Good" in page
    for expected in IN_FULL[kind]:
        assert expected in page, expected
    assert "you ticked 1 of" in page
    assert ("the check found it" in page) is (STORED[kind][1] is not None)


def test_a_wrong_past_attempt_says_so(app, drill_of):
    client = drill_of("predict")
    review = rated_review(app, client, "predict", {"output": "minus one"})
    page = text_of(client.get(f"/reviews/{review.id}"))
    assert "the check found it <strong>wrong</strong>" in page
    assert verdict(page) == ("wrong", "Not quite: compare with the real output.")
    assert "minus one" in page


def test_another_users_attempt_and_a_missing_one_are_404(app, client, drill_of):
    review = rated_review(app, drill_of("spot_bug"), "spot_bug")
    assert client.get(f"/reviews/{review.id + 1}").status_code == 404
    assert client.get("/reviews/0").status_code == 404
    client.post("/auth/logout")
    assert client.get(f"/reviews/{review.id}").status_code == 303  # signed out: to the login page
    someone = make_user(app)
    sign_in(client, someone.email)
    response = client.get(f"/reviews/{review.id}")
    assert response.status_code == 404
    assert "No NUL when src is long" not in text_of(response)


@pytest.mark.parametrize("kind", KINDS)
def test_history_lists_each_attempt_with_its_summary_and_a_link(app, drill_of, kind):
    client = drill_of(kind)
    review = rated_review(app, client, kind)
    response = client.get(f"/questions/{review.question_id}/history")
    page = text_of(response)
    assert response.status_code == 200
    summaries = re.findall(r'<p class="attempt-summary">(.*?)</p>', page, re.S)
    assert summaries == ([SUMMARY[kind]] if kind in SUMMARY else [])
    assert f'href="/reviews/{review.id}"' in page


def test_history_summarises_wrong_and_empty_attempts(app, drill_of):
    client = drill_of("predict", "spot_bug", "design", "write_code")
    answers = {
        "predict": {"output": "1\n2\n3\n4"},
        "spot_bug": {"lines": ["2", "3"]},
        "design": {"estimate": "5", "unit": "GB/s"},
        "write_code": {"code": " \n "},
    }
    for _ in answers:
        page = client.get(DRILL).get_data(as_text=True)
        kind = next(k for k in answers if f'<span class="kind-tag">{LABELS[k]}</span>' in page)
        fields = answers[kind]
        back = client.post(REVEAL, data={"token": rating_token(page), **fields}).get_data(as_text=True)
        assert rate_back(client, back, rating="4").status_code == 303  # Easy: days away, not back today
    expected = {
        PREDICT["key"]: "You said it prints: 1 / 2 / 3 ✗",
        SPOT_BUG["key"]: "You chose lines 2, 3 ✗",
        DESIGN["key"]: "Your estimate: 5 GB/s, about 4.2× too high ✗",
        WRITE_CODE["key"]: "No code written",
    }
    with app.app_context():
        ids = dict(db.session.execute(db.select(Question.key, Question.id)).all())
    for key, line in expected.items():
        page = text_of(client.get(f"/questions/{ids[key]}/history"))
        assert re.findall(r'<p class="attempt-summary">(.*?)</p>', page, re.S) == [line]


def test_a_design_sketch_is_shown_beside_the_model_design_and_stored(app, drill_of, user):
    set_user(app, user, draft_enabled=True)
    client = drill_of("design")
    front = text_of(client.get(DRILL))
    assert "Sketch your design" in front and 'name="draft"' in front
    token = rating_token(front)
    back = client.post(REVEAL, data={"token": token, "draft": "Spool <to> disk", "estimate": "1200"})
    page = text_of(back)
    assert verdict(page) == ("right", "Your estimate, 1200 MB/s, is within the accepted range.")
    assert "Your draft" in page and "Spool <to> disk" in page
    assert "<to>" not in back.get_data(as_text=True)  # escaped
    assert rate_back(client, back.get_data(as_text=True)).status_code == 303
    review = only_review(app)
    assert review.draft == "Spool <to> disk"
    assert (review.attempt, review.correct) == ({"estimate": {"value": 1200.0, "unit": "MB/s"}}, True)
