"""Exercise kinds in a mock interview: each is asked with its answer fields, answers are saved per kind,
a refused answer stays on its question, and the results check each answer, suggest a rating and record
the attempt on the reviews that are rated (and nothing for the questions left unrated)."""

from __future__ import annotations

import html
import re

import pytest

from careerprep.extensions import db
from careerprep.models import CardState, MockItem, Review
from tests.conftest import load_bank
from tests.exercise_support import EXERCISES, SECRET, WRITE_CODE, exercise_bank
from tests.helpers import HX, count_rows
from tests.mock_support import get_mock, items, start_mock

KINDS = tuple(EXERCISES)  # predict, spot_bug, write_code, read_output, design, recall
DATA_RATES = "B/s, KB/s, MB/s, GB/s, bit/s, kbit/s, Mbit/s, Gbit/s"

# What each question shows while it is asked (entities decoded), and what it must not give away.
ASKED = {
    "predict": ['name="output"', 'printf("%d\\n", -1 < sizeof(int));', "x86-64 Linux, gcc"],
    "spot_bug": ['name="lines" value="1"', 'name="lines" value="5"', "strncpy(dst, src, n);", 'name="why"'],
    "write_code": ['name="code"', "int is_pow2(unsigned x)\n{\n}</textarea>"],
    "read_output": ['aria-label="Output to read"', "LISTEN 129    128", 'name="draft"'],
    "design": ['name="estimate"', 'name="unit"', "Your estimate: Total ingest bandwidth", 'name="draft"'],
    "recall": ['name="draft"', "Your answer"],
}
MODEL_ANSWER = {
    "predict": "a huge unsigned value",
    "spot_bug": "does not terminate the string",
    "write_code": "has exactly one bit set",
    "read_output": "129 waiting connections",
    "design": "ship over TCP with acknowledgements",
    "recall": "has not been waited for",
}
# An answer for each kind, and what the item stores: (attempt, draft).
ANSWERS = {
    "predict": {"output": "0"},
    "spot_bug": {"lines": ["3", "4", "5"], "why": "No NUL"},
    "write_code": {"code": WRITE_CODE["solution"]},
    "read_output": {"draft": "The accept queue is full."},
    "design": {"estimate": "5", "unit": "GB/s", "draft": "Batch, compress, spool to disk."},
    "recall": {"draft": "An exited child nobody waited for."},
}
SAVED = {
    "predict": ({"output": "0"}, None),
    "spot_bug": ({"lines": [3, 4, 5], "why": "No NUL"}, None),
    "write_code": ({"code": WRITE_CODE["solution"]}, None),
    "read_output": (None, "The accept queue is full."),
    "design": ({"estimate": {"value": 5.0, "unit": "GB/s"}}, "Batch, compress, spool to disk."),
    "recall": (None, "An exited child nobody waited for."),
}
# The check of those answers on the results page: verdict (class, words) and the rating it suggests.
RESULTS = {
    "predict": (("right", "Right: that is what it prints."), "Easy"),
    "spot_bug": (("partly", "Not quite: you found line 4, lines 3, 5 are fine."), "Hard"),
    "write_code": (None, None),
    "read_output": (None, None),
    "design": (("wrong", "Your estimate, 5 GB/s, is about 4.2× too high."), None),
    "recall": (None, None),
}
SUGGESTIONS = {  # data-suggestions: the rating for 0, 1 … n key points ticked, answered at once
    "predict": "4,4,4",
    "spot_bug": "2,2,2",
    "write_code": "1,1,3,4",
    "read_output": "1,1,3,4",
    "design": "1,1,2,2",  # out of range: capped at Hard
    "recall": "1,1,3,4",
}


@pytest.fixture
def mock_of_all(app, logged_in):
    """A mock interview of one question of every kind (in the random order a mock picks)."""
    load_bank(app, exercise_bank())
    return start_mock(logged_in, questions=str(len(KINDS)), minutes="3", behavioural=False)


def kind_of(item: MockItem) -> str:
    return item.question.kind


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def current_item_id(page: str) -> int:
    match = re.search(r'name="item_id" value="(\d+)"', page)
    assert match, "no question form on the page"
    return int(match[1])


def answer_with(client, mock_id: int, item_id: int, fields: dict, htmx: bool = False, url: str = "answer"):
    return client.post(
        f"/mock/{mock_id}/{url}", data={"item_id": str(item_id), **fields}, headers=HX if htmx else {}
    )


def answer_every_question(app, client, mock_id: int, answers: dict | None = None) -> list[MockItem]:
    """Show and answer each question in turn, by kind; returns the items afterwards."""
    for item in items(app, mock_id):
        assert current_item_id(client.get(f"/mock/{mock_id}").get_data(as_text=True)) == item.id
        fields = (answers or ANSWERS)[kind_of(item)]
        assert answer_with(client, mock_id, item.id, fields).status_code == 303
    return items(app, mock_id)


def result_articles(page: str) -> dict[int, str]:
    """Item id → its article on the results page."""
    return {
        int(m[1]): m[2]
        for m in re.finditer(
            r'<article class="mock-result[^"]*" id="result-(\d+)"(.*?)</article>', page, re.S
        )
    }


def verdict(chunk: str) -> tuple[str, str] | None:
    match = re.search(r'<p class="verdict verdict-(\w+)">(.*?)</p>', chunk, re.S)
    if not match:
        return None
    body = re.sub(r'<span class="verdict-(?:mark|suggests)".*?</span>', "", match[2], flags=re.S)
    return match[1], " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def suggestion(chunk: str) -> str | None:
    match = re.search(r'<span class="verdict-suggests">Suggested rating: (\w+)\.</span>', chunk)
    return match[1] if match else None


# -- asking -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_each_kind_is_asked_with_its_answer_fields(app, logged_in, mock_of_all, htmx):
    seen = []
    for item in items(app, mock_of_all):
        response = logged_in.get(f"/mock/{mock_of_all}", headers=HX if htmx else {})
        page = page_text(response)
        assert response.status_code == 200
        assert ("<html" in page) is not htmx
        assert current_item_id(page) == item.id
        kind = kind_of(item)
        for expected in ASKED[kind]:
            assert expected in page, (kind, expected)
        assert SECRET[kind] not in page
        assert 'class="verdict' not in page
        if kind == "design":  # the clock decides in a mock: the estimate may be left empty
            assert re.search(r'<input id="answer-estimate" name="estimate"[^>]*>', page)
            assert " required" not in re.search(r'<input id="answer-estimate"[^>]*>', page)[0]
        seen.append(kind)
        assert answer_with(logged_in, mock_of_all, item.id, ANSWERS[kind]).status_code == 303
    assert sorted(seen) == sorted(KINDS)


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
def test_answers_are_saved_per_kind(app, logged_in, mock_of_all, htmx):
    asked = items(app, mock_of_all)
    for n, item in enumerate(asked, start=1):
        logged_in.get(f"/mock/{mock_of_all}")
        response = answer_with(logged_in, mock_of_all, item.id, ANSWERS[kind_of(item)], htmx=htmx)
        if not htmx:
            assert response.status_code == 303
        elif n < len(asked):  # htmx gets the next question, then a redirect to the results
            assert response.status_code == 200 and "Answer saved." in page_text(response)
        else:
            assert response.headers["HX-Redirect"] == f"/mock/{mock_of_all}/results"
    saved = items(app, mock_of_all)
    assert {kind_of(i): (i.attempt, i.draft) for i in saved} == SAVED
    assert all(i.answered_at is not None for i in saved)
    assert count_rows(app, Review) == 0  # answering records nothing until the results are rated


@pytest.mark.parametrize(
    ("kind", "fields", "attempt"),
    [
        ("design", {"draft": "Only a sketch"}, None),
        ("design", {"estimate": "  ", "unit": "GB/s"}, None),
        ("predict", {}, {"output": ""}),
        ("spot_bug", {}, {"lines": []}),
        ("write_code", {"code": "  "}, None),
    ],
)
def test_an_empty_answer_moves_on(app, logged_in, mock_of_all, kind, fields, attempt):
    item = next(i for i in items(app, mock_of_all) if kind_of(i) == kind)
    for before in items(app, mock_of_all):  # answer the questions before it
        if before.id == item.id:
            break
        logged_in.get(f"/mock/{mock_of_all}")
        answer_with(logged_in, mock_of_all, before.id, ANSWERS[kind_of(before)])
    logged_in.get(f"/mock/{mock_of_all}")
    assert answer_with(logged_in, mock_of_all, item.id, fields).status_code == 303
    saved = next(i for i in items(app, mock_of_all) if i.id == item.id)
    assert saved.answered_at is not None
    assert saved.attempt == attempt


TOO_LONG = "is longer than {:,} characters; shorten it and try again."
NUMBER = "Your estimate must be a number such as 120, 1.5e3 or 2,000."
REFUSED = [
    ("predict", {"output": "7" * 4001}, "Your answer " + TOO_LONG.format(4000)),
    ("spot_bug", {"lines": ["6"], "why": "kept reason"}, "Choose lines from 1 to 5."),
    ("spot_bug", {"lines": ["x"], "why": "kept reason"}, "Choose lines from 1 to 5."),
    ("write_code", {"code": "c" * 12_001}, "Your code " + TOO_LONG.format(12_000)),
    ("design", {"estimate": "lots", "draft": "kept sketch"}, NUMBER),
    ("design", {"estimate": "nan", "draft": "kept sketch"}, NUMBER),
    ("design", {"estimate": "-5", "draft": "kept sketch"}, NUMBER),
    (
        "design",
        {"estimate": "10", "unit": "ms", "draft": "kept sketch"},
        f"Choose a unit from the list ({DATA_RATES}).",
    ),
]
KEPT = {"predict": "7" * 4001, "spot_bug": "kept reason", "write_code": "c" * 12_001, "design": "kept sketch"}


@pytest.mark.parametrize("url", ["answer", "finish"])
@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
@pytest.mark.parametrize(("kind", "fields", "message"), REFUSED)
def test_a_refused_answer_is_422_and_stays_on_the_question(
    app, logged_in, mock_of_all, kind, fields, message, htmx, url
):
    item = next(i for i in items(app, mock_of_all) if kind_of(i) == kind)
    for before in items(app, mock_of_all):
        if before.id == item.id:
            break
        logged_in.get(f"/mock/{mock_of_all}")
        answer_with(logged_in, mock_of_all, before.id, ANSWERS[kind_of(before)])
    logged_in.get(f"/mock/{mock_of_all}")
    response = answer_with(logged_in, mock_of_all, item.id, fields, htmx=htmx, url=url)
    page = page_text(response)
    assert response.status_code == 422
    assert ("<html" in page) is not htmx
    assert re.search(r'<p class="field-error"[^>]*>' + re.escape(message) + "</p>", page)
    assert current_item_id(page) == item.id  # the same question, refilled
    assert KEPT[kind] in page
    saved = next(i for i in items(app, mock_of_all) if i.id == item.id)
    assert saved.answered_at is None and saved.attempt is None and saved.draft is None
    assert get_mock(app, mock_of_all).finished_at is None  # "End the interview here" did not end it
    assert current_item_id(logged_in.get(f"/mock/{mock_of_all}").get_data(as_text=True)) == item.id


def test_ending_on_an_exercise_keeps_its_answer(app, logged_in, mock_of_all):
    first = items(app, mock_of_all)[0]
    logged_in.get(f"/mock/{mock_of_all}")
    response = answer_with(logged_in, mock_of_all, first.id, ANSWERS[kind_of(first)], url="finish")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mock/{mock_of_all}/results"
    saved = items(app, mock_of_all)
    assert (saved[0].attempt, saved[0].draft) == SAVED[kind_of(first)]
    assert all(i.answered_at is None and i.attempt is None for i in saved[1:])


# -- results ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_results_show_the_check_and_the_suggested_rating(app, logged_in, mock_of_all, htmx):
    found = answer_every_question(app, logged_in, mock_of_all)
    response = logged_in.get(f"/mock/{mock_of_all}/results", headers=HX if htmx else {})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("<html" in page) is not htmx
    articles = result_articles(page)
    assert set(articles) == {i.id for i in found}
    for item in found:
        kind, chunk = kind_of(item), articles[item.id]
        expected_verdict, expected_suggestion = RESULTS[kind]
        assert verdict(chunk) == expected_verdict, kind
        assert suggestion(chunk) == expected_suggestion, kind
        assert f'data-suggestions="{SUGGESTIONS[kind]}"' in chunk, kind
        assert MODEL_ANSWER[kind] in html.unescape(chunk)  # the model answer is shown now
        assert f'name="rating-{item.id}" value="1"' in chunk


def test_results_show_each_attempt_beside_the_answer(app, logged_in, mock_of_all):
    found = answer_every_question(app, logged_in, mock_of_all)
    articles = result_articles(logged_in.get(f"/mock/{mock_of_all}/results").get_data(as_text=True))
    expected = {
        "predict": ["You said", "It prints", "your answer and the check"],
        "spot_bug": ["faulty, you found it", "your pick, fine", "Your reason", "No NUL"],
        "write_code": ["Your code", "A reference solution"],
        "read_output": ["Read the output: the answer", "The accept queue is full."],
        "design": [
            "About 1000 MB/s; anything from 800 to 1200 MB/s counts.",
            "Batch, compress, spool to disk.",
        ],
        "recall": ["An exited child nobody waited for."],
    }
    for item in found:
        # The answer check may highlight words of a typed answer: compare the text without the <mark>s.
        chunk = " ".join(html.unescape(re.sub(r"</?mark>", "", articles[item.id])).split())
        for text in expected[kind_of(item)]:
            assert text in chunk, (kind_of(item), text)


def test_the_results_of_a_design_show_its_follow_ups(app, logged_in, mock_of_all):
    found = answer_every_question(app, logged_in, mock_of_all)
    design = next(i for i in found if kind_of(i) == "design")
    page = logged_in.get(f"/mock/{mock_of_all}/results").get_data(as_text=True)
    chunk = html.unescape(result_articles(page)[design.id])
    for follow_up in EXERCISES["design"]["follow_ups"]:
        assert follow_up["prompt"] in chunk and follow_up["answer"] in chunk


def test_a_right_answer_suggests_good_once_it_took_longer_than_90_seconds(app, logged_in, mock_of_all):
    from datetime import timedelta

    found = answer_every_question(app, logged_in, mock_of_all, {**ANSWERS, "spot_bug": {"lines": ["4"]}})
    with app.app_context():  # as if each answer had taken two minutes
        for item in db.session.scalars(db.select(MockItem).filter_by(mock_id=mock_of_all)):
            item.started_at = item.answered_at - timedelta(minutes=2)
        db.session.commit()
    articles = result_articles(logged_in.get(f"/mock/{mock_of_all}/results").get_data(as_text=True))
    by_kind = {kind_of(i): articles[i.id] for i in found}
    assert suggestion(by_kind["predict"]) == "Good"
    assert suggestion(by_kind["spot_bug"]) == "Good"
    assert 'data-suggestions="3,3,3"' in by_kind["predict"]


RATED = {"predict": "4", "spot_bug": "2", "design": "2", "read_output": "3"}  # write_code, recall unrated
STORED = {
    "predict": ({"output": "0"}, True),
    "spot_bug": ({"lines": [3, 4, 5], "why": "No NUL"}, False),
    "design": ({"estimate": {"value": 5.0, "unit": "GB/s"}}, False),
    "read_output": (None, None),
}


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
def test_rated_reviews_carry_the_attempt_and_unrated_ones_record_nothing(app, logged_in, mock_of_all, htmx):
    found = answer_every_question(app, logged_in, mock_of_all)
    data = {}
    for item in found:
        kind = kind_of(item)
        data[f"covered-{item.id}"] = ["0", "1"]  # ticked everywhere, rated only where RATED says
        if kind in RATED:
            data[f"rating-{item.id}"] = RATED[kind]
    response = logged_in.post(f"/mock/{mock_of_all}/rate", data=data, headers=HX if htmx else {})
    location = response.headers.get("HX-Redirect" if htmx else "Location")
    assert response.status_code == (204 if htmx else 303)
    assert location == f"/mock/{mock_of_all}/results"
    with app.app_context():
        reviews = {r.question_id: r for r in db.session.scalars(db.select(Review))}
        for review in reviews.values():
            db.session.expunge(review)
    saved = items(app, mock_of_all)
    by_kind = {kind_of(i): i for i in saved}
    assert {kind_of(i) for i in saved if i.question_id in reviews} == set(RATED)
    for kind, (attempt, correct) in STORED.items():
        review = reviews[by_kind[kind].question_id]
        assert (review.attempt, review.correct) == (attempt, correct), kind
        assert review.rating == int(RATED[kind]) and review.mode == "mock"
        assert by_kind[kind].review_id == review.id
    for kind in ("write_code", "recall"):
        assert by_kind[kind].rating is None and by_kind[kind].review_id is None
    assert count_rows(app, Review) == count_rows(app, CardState) == len(RATED)
    page = page_text(logged_in.get(f"/mock/{mock_of_all}/results"))
    assert page.count("Not rated, so not recorded.") == 2
    assert "Suggested rating:" not in page  # once rated, the ratings are shown instead


def test_a_rated_mock_attempt_shows_in_history_and_in_full(app, logged_in, mock_of_all):
    found = answer_every_question(app, logged_in, mock_of_all)
    logged_in.post(f"/mock/{mock_of_all}/rate", data={f"rating-{i.id}": "3" for i in found})
    spot_bug = next(i for i in items(app, mock_of_all) if kind_of(i) == "spot_bug")
    history = page_text(logged_in.get(f"/questions/{spot_bug.question_id}/history"))
    assert '<p class="attempt-summary">You chose lines 3, 4, 5 ✗</p>' in history
    assert "Mock interview" in history
    full = " ".join(page_text(logged_in.get(f"/reviews/{spot_bug.review_id}")).split())
    assert "the check found it <strong>wrong</strong>" in full
    assert "Not quite: you found line 4, lines 3, 5 are fine." in full


def test_an_estimate_of_zero_does_not_break_the_results(app, logged_in, mock_of_all):
    zero = {**ANSWERS, "design": {"estimate": "0", "unit": "GB/s"}}
    answer_every_question(app, logged_in, mock_of_all, zero)
    response = logged_in.get(f"/mock/{mock_of_all}/results")
    assert response.status_code == 200
    design = next(i for i in items(app, mock_of_all) if kind_of(i) == "design")
    assert verdict(result_articles(response.get_data(as_text=True))[design.id])[0] == "wrong"
