"""Feedback on a typed answer (issue 17): pre-ticked key points with highlights, insights, detected and
confirmed ticks on the review, bank terms, calibration on the progress page, and the rating rule."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from careerprep.admin.question_kinds import point_items, terms_text
from careerprep.banks import formats
from careerprep.banks.errors import BankError
from careerprep.banks.validate import validate
from careerprep.extensions import db
from careerprep.models import Question, Review
from careerprep.practice.feedback import highlighted
from careerprep.practice.rating import SUGGESTION_RULE
from tests.conftest import bank_dict, count_queries, load_bank, make_user, rating_token
from tests.helpers import DRILL, HX, front, set_user
from tests.transfer_support import apply_form, preview, with_ids

POINTS = [
    "Write the new contents to a temporary file first",
    "Call fsync on the file before the rename",
    "rename() atomically replaces the old file",
    "fsync the directory so the rename is durable",
]
DRAFT = (
    "I write the data to a temporary file, call fsync on it, then rename() it over the old file, "
    "which is atomic. <script>alert(1)</script>"
)
FOUND = [0, 1, 2]  # what the detector finds in DRAFT (the directory fsync is not mentioned)


def feedback_bank(n_questions: int = 1, terms: bool = False) -> dict:
    """bank_dict()'s role with the atomic-save question first (and plain filler questions after)."""
    bank = bank_dict(n_questions=n_questions)
    first = bank["sets"][0]["questions"][0]
    first.update(prompt="How do you save a file atomically?", answer="Temp file, fsync, rename, fsync dir.")
    first["key_points"] = list(POINTS)
    if terms:
        first["key_points"][3] = {
            "text": POINTS[3],
            "terms": ["directory", "dirfd", "parent dir"],  # "directory", or either alternative
            "required": ["directory", "dirfd"],
        }
    return bank


@pytest.fixture
def drafting(app, logged_in, user):
    """A signed-in user with the draft box on, and the feedback bank loaded."""
    load_bank(app, feedback_bank())
    set_user(app, user, draft_enabled=True)
    return logged_in


def reveal_draft(client, draft: str = DRAFT, headers: dict | None = None):
    """Open the card and reveal it with a typed draft (the draft form's POST)."""
    page = front(client, headers=headers)
    return client.post(
        DRILL + "/reveal", data={"token": rating_token(page), "draft": draft}, headers=headers or {}
    )


def ticked(page: str) -> list[int]:
    """The key points pre-ticked on the back of the card."""
    return [int(v) for v in re.findall(r'name="covered" value="(\d+)" checked', page)]


def only_review(app) -> Review:
    with app.app_context():
        review = db.session.scalar(db.select(Review))
        db.session.expunge(review)
        return review


# -- the reveal: pre-ticks, highlights, insights -----------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_reveal_pre_ticks_the_points_found_and_highlights_them(drafting, htmx):
    response = reveal_draft(drafting, headers=HX if htmx else None)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert ("<html" in page) is not htmx
    assert ticked(page) == FOUND
    assert "We found 3 of 4 key points in your answer — check them" in page
    assert "<mark>temporary</mark>" in page and "<mark>fsync</mark>" in page
    assert 'class="matched">(found: <mark>' in page
    assert "About your answer" in page and "model answer" in page  # the insights panel
    # 3 of 4 ticked at once: Good, from the ticks (the user may change them; nothing is rated yet).
    assert "Suggested: Good (3 of 4 key points ticked)" in page
    assert re.search(r'value="3" class="rate rate-good suggested"', page)
    assert only_review_count(drafting) == 0


def only_review_count(client) -> int:
    with client.application.app_context():
        return len(db.session.scalars(db.select(Review)).all())


def test_the_draft_is_escaped_around_and_inside_the_highlights(drafting):
    page = reveal_draft(
        drafting, draft='<img src=x onerror=alert(1)> temporary "file" & <b>fsync</b>'
    ).get_data(as_text=True)
    assert "<img src=x" not in page and "<b>fsync</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;" in page
    assert "<script>alert(1)</script>" not in reveal_draft(drafting).get_data(as_text=True)


def test_highlighted_builds_markup_from_escaped_pieces():
    text = "a <b>fsync</b> & b"
    out = highlighted(text, [(3, 6), (6, 11), (100, 120), (5, 4)])
    assert str(out) == "a &lt;<mark>b&gt;fsync&lt;</mark>/b&gt; &amp; b"
    assert str(highlighted("<i>", [])) == "&lt;i&gt;"


def test_the_no_js_reveal_link_has_no_draft_and_no_pre_ticks(drafting, app, user):
    set_user(app, user, draft_enabled=False)
    page = front(drafting)
    link = html.unescape(re.search(r'id="reveal"[^>]*href="([^"]+)"', page)[1])
    back = drafting.get(link).get_data(as_text=True)
    assert ticked(back) == [] and "We found" not in back


def test_an_empty_draft_runs_no_detection(drafting):
    page = reveal_draft(drafting, draft="   ").get_data(as_text=True)
    assert ticked(page) == [] and "We found" not in page


@pytest.mark.parametrize(
    "draft",
    [
        "x" * 25_000,
        ("temporary file fsync rename " * 2000)[:20_000],
        "é\u0301 ünïcödé 🙂 fsync\u200b директорию rename() 臨時ファイル \u202etemporary\u202c ﬁle",
        "nul \x00 byte temporary file",
        "",
    ],
    ids=["huge", "20k-words", "unicode", "nul", "empty"],
)
def test_unusual_drafts_never_500(drafting, app, draft):
    response = reveal_draft(drafting, draft=draft)
    assert response.status_code < 500
    if response.status_code == 400:  # the input hardening refuses a NUL byte before any view runs
        return
    page = response.get_data(as_text=True)
    data = {"token": rating_token(page), "rating": "3", "checklist": "1", "draft": draft}
    assert drafting.post(DRILL, data=data).status_code == 303


# -- the rating: detected and confirmed ticks --------------------------------------------------------


def test_rating_stores_detected_and_confirmed_ticks_and_ignores_a_posted_detected_set(drafting, app):
    page = reveal_draft(drafting).get_data(as_text=True)
    data = {
        "token": rating_token(page),
        "rating": "3",
        "checklist": "1",
        "covered": ["0", "3"],  # unticked 1 and 2, ticked 3 the detector did not find
        "draft": DRAFT,
        "detected": ["3"],  # a forged field: ignored, the server reads the draft again
    }
    assert drafting.post(DRILL, data=data).status_code == 303
    review = only_review(app)
    assert review.detected == FOUND and review.covered == [0, 3] and review.key_point_count == 4


def test_the_review_page_shows_where_the_ticks_and_the_check_differed(drafting, app):
    page = reveal_draft(drafting).get_data(as_text=True)
    data = {"token": rating_token(page), "rating": "3", "checklist": "1", "covered": ["0", "3"]}
    assert drafting.post(DRILL, data={**data, "draft": DRAFT}).status_code == 303
    shown = drafting.get(f"/reviews/{only_review(app).id}").get_data(as_text=True)
    assert "The answer check found 3 of 4 in your draft." in shown
    assert shown.count("(found in your draft)") == 2 and shown.count("(not found in your draft)") == 1


def test_unticking_every_pre_tick_is_stored_as_an_empty_confirmation(drafting, app):
    page = reveal_draft(drafting).get_data(as_text=True)
    data = {"token": rating_token(page), "rating": "1", "checklist": "1", "draft": DRAFT}
    assert drafting.post(DRILL, data=data).status_code == 303
    review = only_review(app)
    assert review.detected == FOUND and review.covered == []


def test_rate_from_my_checklist_follows_the_confirmed_ticks(drafting, app):
    page = reveal_draft(drafting).get_data(as_text=True)
    data = {
        "token": rating_token(page),
        "rating": "auto",
        "checklist": "1",
        "covered": ["0"],  # 1 of 4 confirmed: most missing → Again, whatever was detected
        "answer_seconds": "5",
        "draft": DRAFT,
    }
    assert drafting.post(DRILL, data=data).status_code == 303
    assert only_review(app).rating == 1


def test_a_review_without_a_draft_stores_no_detected_set(app, logged_in):
    load_bank(app, feedback_bank())
    page = logged_in.get(DRILL + "?reveal=1&token=" + rating_token(front(logged_in))).get_data(as_text=True)
    assert logged_in.post(DRILL, data={"token": rating_token(page), "rating": "3"}).status_code == 303
    assert only_review(app).detected is None


def test_another_users_review_and_progress_are_not_shown(app, drafting, client, auth):
    page = reveal_draft(drafting).get_data(as_text=True)
    data = {"token": rating_token(page), "rating": "3", "checklist": "1", "covered": ["0"], "draft": DRAFT}
    drafting.post(DRILL, data=data)
    review_id = only_review(app).id
    drafting.post("/auth/logout")
    make_user(app, email="other@example.com")
    auth.login("other@example.com")
    assert client.get(f"/reviews/{review_id}").status_code == 404
    progress = client.get("/roles/test-role/progress").get_data(as_text=True)
    assert "Ticks that agreed" not in progress and "Write the new contents" not in progress


@pytest.mark.parametrize("questions", [3, 300])
def test_reveal_and_rating_query_counts_stay_flat(app, logged_in, user, questions):
    load_bank(app, feedback_bank(n_questions=questions))
    set_user(app, user, draft_enabled=True)
    with count_queries(app) as cold:  # the first reveal in this app reads the role's vocabulary once
        page = reveal_draft(logged_in, headers=HX).get_data(as_text=True)
    data = {"token": rating_token(page), "rating": "3", "checklist": "1", "covered": ["0"], "draft": DRAFT}
    with count_queries(app) as rating:
        assert logged_in.post(DRILL, data=data, headers=HX).status_code == 200
    with count_queries(app) as warm:  # the next card's reveal: the vocabulary is cached
        page = reveal_draft(logged_in, draft="temporary file, fsync, rename", headers=HX)
        assert page.status_code == 200
    seen = test_reveal_and_rating_query_counts_stay_flat.seen
    seen.append((len(cold), len(rating), len(warm)))
    assert len(warm) == len(cold) - 1
    if len(seen) == 2:
        assert seen[0] == seen[1], seen  # 100 times the questions, the same queries


test_reveal_and_rating_query_counts_stay_flat.seen = []


# -- the bank format: terms and required terms --------------------------------------------------------


def test_bank_key_points_may_carry_terms_and_are_stored_apart(app):
    load_bank(app, feedback_bank(terms=True))
    with app.app_context():
        question = db.session.scalar(db.select(Question).filter_by(key="q-0"))
        assert question.key_points == POINTS  # plain text for every template and export
        assert question.key_point_terms == {
            POINTS[3]: {"terms": ["directory", "dirfd", "parent dir"], "required": ["directory", "dirfd"]}
        }


@pytest.mark.parametrize(("terms", "found"), [(False, False), (True, True)])
def test_author_terms_change_what_the_detector_finds(app, logged_in, user, terms, found):
    load_bank(app, feedback_bank(terms=terms))
    set_user(app, user, draft_enabled=True)
    page = reveal_draft(logged_in, draft="I fsync the dirfd afterwards.").get_data(as_text=True)
    assert (3 in ticked(page)) is found


@pytest.mark.parametrize(
    ("point", "message"),
    [
        ({"text": "x", "terms": "fork"}, "key_points[0].terms: must be a list of terms"),
        ({"text": "x", "terms": ["a" * 81]}, "key_points[0].terms[0]: longer than 80 characters"),
        ({"text": "x", "terms": [""]}, "key_points[0].terms[0]: must be non-empty text"),
        ({"text": "x", "terms": [3]}, "key_points[0].terms[0]: must be non-empty text"),
        ({"text": "x", "terms": ["t"] * 13}, "key_points[0].terms: at most 12 terms"),
        (
            {"text": "x", "required": "fork"},
            "key_points[0].required: must be a list of terms, or a list of such lists",
        ),
        ({"text": "x", "required": [["a"]] * 5}, "key_points[0].required: at most 4 groups"),
        ({"text": "x", "synonyms": ["a"]}, "key_points[0].synonyms: unknown field"),
        ({"terms": ["a"]}, "key_points[0].text: required"),
        ({"text": "y" * 301, "terms": ["a"]}, "key_points[0].text: longer than 300 characters"),
        (["a list"], "key_points[0]: must be non-empty text, or a mapping with text and terms"),
    ],
)
def test_bad_terms_are_named_by_item_and_field(point, message):
    bank = bank_dict(n_questions=1)
    bank["sets"][0]["questions"][0]["key_points"][0] = point
    with pytest.raises(BankError) as caught:
        validate(bank)
    assert any(e.endswith(message) for e in caught.value.errors), caught.value.errors


def test_a_point_with_terms_may_not_repeat_another_point():
    bank = bank_dict(n_questions=1)
    bank["sets"][0]["questions"][0]["key_points"] = ["same", {"text": "same", "terms": ["a"]}, "other"]
    with pytest.raises(BankError, match="a point with terms must not repeat another"):
        validate(bank)


def test_a_mapping_without_terms_is_a_plain_point_and_groups_are_kept():
    bank = bank_dict(n_questions=1)
    points = bank["sets"][0]["questions"][0]["key_points"]
    points[0] = {"text": "first point"}
    points[1] = {"text": "second point", "required": [["a", "b"], ["c"]]}
    clean = validate(bank)["sets"][0]["questions"][0]["key_points"]
    assert clean == ["first point", {"text": "second point", "required": [["a", "b"], ["c"]]}, "third point"]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_terms_round_trip_through_export_and_import(app, admin, fmt):
    bank = feedback_bank(terms=True)
    load_bank(app, bank)
    with app.app_context():
        set_id = db.session.scalar(db.select(Question.set_id))
    exported = admin.get(f"/admin/sets/{set_id}/export.{fmt}").data
    data = yaml.safe_load(exported) if fmt == "yaml" else json.loads(exported)
    assert data == with_ids(validate(bank))
    assert formats.load(exported, f"x.{fmt}") == with_ids(validate(bank))
    page = preview(admin, exported, f"x.{fmt}").get_data(as_text=True)
    assert "Nothing to change" in page
    # Changing only a term shows up in the import preview as a changed field.
    data["sets"][0]["questions"][0]["key_points"][3]["terms"].append("parent dir")
    page = html.unescape(preview(admin, json.dumps(data), "x.json").get_data(as_text=True))
    assert re.search(r"<code>q-0</code>[^<]*<span class=\"muted\">— key point terms</span>", page)
    assert admin.post("/admin/import/apply", data=apply_form(page)).status_code == 303
    with app.app_context():
        terms = db.session.scalar(db.select(Question.key_point_terms).filter_by(key="q-0"))
    assert terms[POINTS[3]]["terms"][-1] == "parent dir"
    with app.app_context():
        assert db.session.scalar(db.select(Question.key_points).filter_by(key="q-0")) == POINTS


def test_csv_export_refuses_key_points_with_terms(app, admin):
    load_bank(app, feedback_bank(terms=True))
    with app.app_context():
        set_id = db.session.scalar(db.select(Question.set_id))
    response = admin.get(f"/admin/sets/{set_id}/export.csv")
    assert response.status_code == 422
    assert "basics/q-0: key points carry detector terms, which CSV cannot hold" in html.unescape(
        response.get_data(as_text=True)
    )


def test_a_csv_key_point_terms_column_is_refused_as_unknown(admin):
    header = "role_slug,role_title,role_summary,set_slug,set_title,set_description,key,prompt,answer,"
    header += "key_points,category,difficulty,tags,key_point_terms\r\n"
    response = preview(admin, header + "r,R,,s,S,,k,p,a,x | y | z,C,1,,fork\r\n", "bank.csv")
    assert response.status_code == 422
    assert "key_point_terms" in html.unescape(response.get_data(as_text=True))


def test_the_editor_terms_box_round_trips():
    items = [
        "plain",
        {"text": "fork", "terms": ["clone", "spawns a copy"]},
        {"text": "dir", "required": ["directory", "dirfd"]},
        {"text": "both", "terms": ["a"], "required": [["b", "c"], ["d"]]},
    ]
    text = terms_text(items)
    assert text.splitlines()[1] == "clone | spawns a copy"
    assert point_items(["plain", "fork", "dir", "both"], text) == items
    assert point_items(["one", "two"], "") == ["one", "two"]


def test_the_admin_editor_saves_terms(app, admin):
    load_bank(app, feedback_bank())
    with app.app_context():
        question = db.session.scalar(db.select(Question).filter_by(key="q-0"))
        question_id, set_id = question.id, question.set_id
    page = admin.get(f"/admin/questions/{question_id}/edit")
    if page.status_code == 404:
        pytest.skip("editor URL differs")
    body = page.get_data(as_text=True)
    assert 'name="key_point_terms"' in body
    form = {
        "key": "q-0",
        "kind": "recall",
        "prompt": "How do you save a file atomically?",
        "answer": "Temp file, fsync, rename, fsync dir.",
        "key_points": "\n".join(POINTS),
        "key_point_terms": "\n\n\nsync the parent directory ; required: directory | dirfd",
        "category": "Alpha",
        "difficulty": "1",
        "tags": "test",
    }
    response = admin.post(f"/admin/questions/{question_id}/edit", data=form)
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:2000]
    with app.app_context():
        stored = db.session.get(Question, question_id)
        assert stored.key_points == POINTS and stored.set_id == set_id
        assert stored.key_point_terms == {
            POINTS[3]: {"terms": ["sync the parent directory"], "required": ["directory", "dirfd"]}
        }


# -- calibration on the role's progress page ----------------------------------------------------------


def test_calibration_shows_agreement_and_the_points_ticked_without_being_written(app, drafting, user):
    for covered in (["0", "1", "2", "3"], ["0", "3"]):
        page = reveal_draft(drafting).get_data(as_text=True)
        data = {
            "token": rating_token(page),
            "rating": "3",
            "checklist": "1",
            "covered": covered,
            "draft": DRAFT,
        }
        assert drafting.post(DRILL, data=data).status_code == 303
        with app.app_context():  # due again, so the next round shows the same card
            from careerprep.models import CardState

            db.session.execute(db.update(CardState).values(due=datetime.now(UTC) - timedelta(minutes=1)))
            db.session.commit()
    page = drafting.get("/roles/test-role/progress").get_data(as_text=True)
    assert "Your ticks and the answer check" in page
    # 8 point decisions: round 1 agrees on 3 of 4, round 2 on 1 of 4 (0 kept, 1 and 2 unticked, 3 over).
    assert '<td class="num">2</td><td class="num">50%</td>' in page
    assert (
        'You often tick <em class="markdown-inline">fsync the directory so the rename is durable</em>' in page
    )
    assert "without mentioning it (2 times)" in page


def test_calibration_before_any_typed_answer_explains_itself(app, logged_in):
    load_bank(app, feedback_bank())
    page = logged_in.get(DRILL + "?reveal=1&token=" + rating_token(front(logged_in))).get_data(as_text=True)
    logged_in.post(DRILL, data={"token": rating_token(page), "rating": "3"})
    progress = logged_in.get("/roles/test-role/progress").get_data(as_text=True)
    assert "Type an answer before the reveal" in progress


# -- the rating rule ----------------------------------------------------------------------------------


def test_the_rule_is_written_once_and_shown_in_the_drill(drafting):
    page = reveal_draft(drafting).get_data(as_text=True)
    assert html.escape(SUGGESTION_RULE, quote=False) in page or SUGGESTION_RULE in html.unescape(page)
    assert 'data-suggestions="1,1,1,3,4"' in page  # 0–2 of 4 → Again, 3 → Good, all quickly → Easy


# -- the mock interview's results ---------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_mock_results_pre_tick_what_each_answer_covers_and_the_rating_stores_both(app, logged_in, htmx):
    from tests.mock_support import answer, items, start_mock

    load_bank(app, feedback_bank(n_questions=3))
    mock_id = start_mock(logged_in, questions="3", behavioural=False)
    for item in items(app, mock_id):
        logged_in.get(f"/mock/{mock_id}")
        draft = DRAFT if item.question.key == "q-0" else "No idea."
        answer(logged_in, mock_id, item.id, draft=draft)
    response = logged_in.get(f"/mock/{mock_id}/results", headers=HX if htmx else {})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in page) is not htmx
    first = next(i for i in items(app, mock_id) if i.question.key == "q-0")
    checked = [int(v) for v in re.findall(rf'name="covered-{first.id}" value="(\d+)" checked', page)]
    assert checked == FOUND
    assert "We found 3 of 4 key points in your answer — check them" in page
    assert "<mark>temporary</mark>" in page and "&lt;script&gt;" in page and "<script>alert" not in page
    assert 'type="radio"' in page and re.search(r'name="rating-\d+" value="\d" checked', page) is None
    form = {f"rating-{first.id}": "3", f"covered-{first.id}": ["0", "1"], "detected": "3"}
    assert logged_in.post(f"/mock/{mock_id}/rate", data=form).status_code == 303
    review = only_review(app)
    assert review.mode == "mock" and review.detected == FOUND and review.covered == [0, 1]
