"""The admin question editor for every exercise kind: create and edit through the form (with and
without htmx), validation by the bank validator shown beside each field, kind switching without
JavaScript, the card preview, access and query counts."""

from __future__ import annotations

import copy
import re

import pytest

from careerprep.banks import validate
from careerprep.banks.kinds import columns
from careerprep.extensions import db
from careerprep.models import AuditLog, Question
from tests.conftest import bank_dict, count_queries, load_bank
from tests.exercise_support import EXERCISES, exercise_bank
from tests.helpers import HX, question_ids

PREDICT_FIELDS = ("code", "language", "platform", "accepted", "any_order", "exact_whitespace")
KINDS = ("recall", "predict", "spot_bug", "write_code", "read_output", "design")
NEW = "/admin/sets/1/questions/new"


def form_data(question: dict, **override) -> dict:
    """A bank-format question as the editor's form sends it (no-JS, every field as text)."""
    data = {
        "kind": question.get("kind", "recall"),
        "key": question["key"],
        "prompt": question["prompt"],
        "answer": question["answer"],
        "key_points": "\n".join(question["key_points"]),
        "category": question["category"],
        "difficulty": str(question["difficulty"]),
        "tags": ", ".join(question["tags"]),
    }
    for name in ("code", "language", "platform", "solution", "tests"):
        if name in question:
            data[name] = question[name]
    if "accepted" in question:
        data["accepted"] = "\n---\n".join(question["accepted"])
    for flag in ("any_order", "exact_whitespace"):
        if question.get(flag):
            data[flag] = "y"
    if "bug_lines" in question:
        data["bug_lines"] = ", ".join(map(str, question["bug_lines"]))
    for i, follow_up in enumerate(question.get("follow_ups", [])):
        data[f"follow_ups-{i}-prompt"] = follow_up["prompt"]
        data[f"follow_ups-{i}-answer"] = follow_up["answer"]
    for part, value in question.get("estimate", {}).items():
        data[f"estimate_{part}"] = str(value)
    data.update(override)
    return {k: v for k, v in data.items() if v is not None}


def imported(kind: str) -> dict:
    """The columns an import stores for the example question of `kind` (what the editor must store)."""
    clean = validate(exercise_bank(kind))["sets"][0]["questions"][0]
    return {"key_points": clean["key_points"], "tags": clean["tags"], **columns(clean)}


def stored(app, key: str) -> dict:
    with app.app_context():
        q = db.session.scalar(db.select(Question).filter_by(key=key))
        return {
            "kind": q.kind,
            "code": q.code,
            "language": q.language,
            "exercise": q.exercise,
            "key_points": q.key_points,
            "key_point_terms": q.key_point_terms,
            "tags": q.tags,
        }


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Question.id)))


def audit_actions(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(db.select(AuditLog.action).order_by(AuditLog.id)).all()


def error_beside(html: str, field_id: str) -> str:
    """The error message shown beside a field (its `<id>-error` paragraph), checking the field points
    at it with aria-describedby and aria-invalid."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">([^<]*)</p>', html)
    assert match, f"no error beside {field_id}"
    tag = re.search(rf'<(?:input|textarea|select)[^>]*\bid="{re.escape(field_id)}"[^>]*>', html)
    assert tag, f"no field {field_id}"
    assert 'aria-invalid="true"' in tag.group() and f'aria-describedby="{field_id}-error"' in tag.group()
    assert f'href="#{field_id}"' in html  # and it is in the summary at the top
    return match.group(1)


# -- create and edit every kind ----------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_created_through_the_form(app, admin, kind, htmx):
    load_bank(app, n_questions=1)
    question = EXERCISES[kind]
    response = admin.post(NEW, data=form_data(question), headers=HX if htmx else {})
    if htmx:
        assert response.status_code == 204 and response.headers["HX-Redirect"] == "/admin/sets/1/edit"
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/admin/sets/1/edit"
    assert stored(app, question["key"]) == imported(kind)
    assert audit_actions(app) == ["question.create"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_loads_back_into_the_editor_and_saves_unchanged(app, admin, kind):
    load_bank(app, exercise_bank())
    question = EXERCISES[kind]
    qid = question_ids(app)[question["key"]]
    page = admin.get(f"/admin/questions/{qid}/edit").get_data(as_text=True).replace("\r\n", "\n")
    assert f'<option selected value="{kind}">' in page
    shown = {
        "predict": ["-1 &lt; sizeof(int)", 'value="x86-64 Linux, gcc"', ">\n0</textarea>"],
        "spot_bug": ['id="bug_lines" maxlength="200" name="bug_lines" type="text" value="4"', "n - 1"],
        "write_code": ["int is_pow2(unsigned x)\n{\n}</textarea>", "assert(is_pow2(1)"],
        "read_output": ["LISTEN 129", '<option selected value="text">'],
        "design": ['value="1000"', 'value="800"', "Now 10 times the hosts.</textarea>", "MB/s</option>"],
        "recall": ["What is a zombie process?"],
    }[kind]
    for text in shown:
        assert text in page, text
    # What the editor shows, sent back as it is, changes nothing.
    response = admin.post(f"/admin/questions/{qid}/edit", data=form_data(question), follow_redirects=True)
    assert "No changes to save." in response.get_data(as_text=True).replace("\r\n", "\n")
    assert stored(app, question["key"]) == imported(kind) and audit_actions(app) == []


@pytest.mark.parametrize(
    ("kind", "change", "expect"),
    [
        ("predict", {"accepted": "0\n---\n1", "any_order": "y"}, {"accepted": ["0", "1"], "any_order": True}),
        ("spot_bug", {"bug_lines": "4, 2"}, {"bug_lines": [2, 4]}),
        ("write_code", {"tests": ""}, {"tests": None}),
        ("design", {"estimate_low": "500", "estimate_unit": "GB/s", "estimate_value": "600"}, {}),
        ("design", {"follow_ups-0-prompt": "", "follow_ups-0-answer": ""}, {}),
    ],
)
def test_editing_an_exercise_stores_the_new_fields_and_audits_them(app, admin, kind, change, expect):
    load_bank(app, exercise_bank())
    qid = question_ids(app)[EXERCISES[kind]["key"]]
    response = admin.post(f"/admin/questions/{qid}/edit", data=form_data(EXERCISES[kind], **change))
    assert response.status_code == 303
    exercise = stored(app, EXERCISES[kind]["key"])["exercise"]
    for name, value in expect.items():
        assert exercise.get(name) == value
    if "estimate_unit" in change:
        assert exercise["estimate"] == {"prompt": "Total ingest bandwidth", "value": 600, "unit": "GB/s",
                                        "low": 500, "high": 1200}  # fmt: skip
    if "follow_ups-0-prompt" in change:  # an emptied pair is dropped; the other stays
        assert [f["prompt"] for f in exercise["follow_ups"]] == ["Now 10 times the hosts."]
    with app.app_context():
        entry = db.session.scalar(db.select(AuditLog))
        assert entry.action == "question.edit" and entry.details["fields"] == ["exercise"]


def test_changing_the_kind_drops_the_fields_the_new_kind_does_not_use(app, admin):
    load_bank(app, exercise_bank())
    qid = question_ids(app)["ex-predict"]
    data = form_data(EXERCISES["predict"], kind="recall", key_points="One\nTwo\nThree")
    assert admin.post(f"/admin/questions/{qid}/edit", data=data).status_code == 303
    assert stored(app, "ex-predict") | {"key_points": None} == {
        "kind": "recall",
        "code": None,
        "language": None,
        "exercise": None,
        "key_points": None,
        "key_point_terms": None,
        "tags": ["c"],
    }
    with app.app_context():
        assert set(db.session.scalar(db.select(AuditLog)).details["fields"]) >= {"kind", "code", "exercise"}


def test_run_settings_from_the_bank_survive_an_edit(app, admin):
    bank = exercise_bank("predict")
    run = {"stdout": "tty", "stderr": False, "cflags": ["-O2"], "args": [], "stdin": ""}
    bank["sets"][0]["questions"][0]["run"] = run
    load_bank(app, bank)
    qid = question_ids(app)["ex-predict"]
    page = admin.get(f"/admin/questions/{qid}/edit").get_data(as_text=True).replace("\r\n", "\n")
    assert "How the content tests run this program" in page
    data = form_data(EXERCISES["predict"], answer="A clearer explanation.")
    assert admin.post(f"/admin/questions/{qid}/edit", data=data).status_code == 303
    assert stored(app, "ex-predict")["exercise"]["run"] == run


def test_windows_line_endings_are_stored_as_the_lines_learners_count(app, admin):
    load_bank(app, n_questions=1)
    spot = EXERCISES["spot_bug"]
    data = form_data(
        spot, code=spot["code"].replace("\n", "\r\n"), solution=spot["solution"].replace("\n", "\r\n")
    )
    assert admin.post(NEW, data=data).status_code == 303
    assert stored(app, "ex-spot-bug") == imported("spot_bug")


def test_key_points_follow_the_kind(app, admin):
    load_bank(app, n_questions=1)
    two = "\n".join(EXERCISES["predict"]["key_points"][:2])
    assert admin.post(NEW, data=form_data(EXERCISES["predict"], key_points=two)).status_code == 303
    response = admin.post(NEW, data=form_data(EXERCISES["recall"], key_points=two))
    assert response.status_code == 422
    assert error_beside(response.get_data(as_text=True).replace("\r\n", "\n"), "key_points") == (
        "Give 3 to 6 key points, one per line (you have 2)."
    )


def test_a_taken_key_is_refused_for_any_kind(app, admin):
    load_bank(app, exercise_bank())
    response = admin.post("/admin/sets/1/questions/new", data=form_data(EXERCISES["design"]))
    assert response.status_code == 422
    assert "This set already has a question with this key." in response.get_data(as_text=True).replace(
        "\r\n", "\n"
    )
    assert count(app) == len(KINDS)


# -- validation: the bank validator's errors, beside the field ------------------------------------


FIVE_FOLLOW_UPS = {f"follow_ups-{i}-{part}": f"{part} {i}" for i in range(5) for part in ("prompt", "answer")}


@pytest.mark.parametrize(
    ("kind", "change", "field", "message"),
    [
        ("spot_bug", {"bug_lines": "14"}, "bug_lines", "Line 14 is past the end of the code (5 lines)."),
        (
            "spot_bug",
            {"bug_lines": "4, x"},
            "bug_lines",
            "Item 2: must be a line number (1 is the first line).",
        ),
        ("spot_bug", {"bug_lines": ""}, "bug_lines", "Required for spot_bug questions."),
        ("spot_bug", {"solution": "  "}, "solution", "Required for spot_bug questions."),
        ("design", {"estimate_unit": "furlongs"}, "estimate_unit", "Unknown unit &#39;furlongs&#39;"),
        ("design", {"estimate_low": "2000"}, "estimate_low", "Must not be above high (2000 &gt; 1200)."),
        (
            "design",
            {"estimate_value": "5000"},
            "estimate_value",
            "Must lie in the accepted range 800 to 1200.",
        ),
        ("design", {"estimate_value": "lots"}, "estimate_value", "Must be a number."),
        ("design", {"estimate_high": "-5"}, "estimate_high", "Must be between 0 and 1e+18."),
        ("design", {"estimate_prompt": ""}, "estimate_prompt", "This field is required."),
        ("design", {"estimate_unit": None}, "estimate_unit", "This field is required."),
        ("design", {"follow_ups-1-answer": ""}, "follow_ups-1-answer", "Must be non-empty text."),
        (
            "design",
            {"follow_ups-0-prompt": "x" * 2001},
            "follow_ups-0-prompt",
            "Longer than 2,000 characters.",
        ),
        ("predict", {"accepted": ""}, "accepted", "Required for predict questions."),
        ("predict", {"accepted": "0\n---\n 0 "}, "accepted", "Output 2: the same output as output 1."),
        ("predict", {"accepted": "x" * 4001}, "accepted", "Output 1: longer than 4,000 characters."),
        ("predict", {"language": "cobol"}, "language", "Must be one of c, cpp, bash, sh, python, text."),
        ("predict", {"language": ""}, "language", "Required for predict questions."),
        ("predict", {"code": "x" * 12_001}, "code", "Longer than 12,000 characters."),
        ("predict", {"code": "x\n" * 201}, "code", "201 lines; at most 200."),
        ("predict", {"platform": "p" * 121}, "platform", "Longer than 120 characters."),
        (
            "write_code",
            {"language": None, "solution": None},
            "solution",
            "Required for write_code questions.",
        ),
        ("read_output", {"code": "\n\n"}, "code", "Required for read_output questions."),
        ("recall", {"kind": "essay"}, "kind", "Not a valid choice."),
        ("recall", {"difficulty": "9"}, "difficulty", "Not a valid choice."),
    ],
)
def test_each_field_error_is_shown_beside_it_and_nothing_is_saved(app, admin, kind, change, field, message):
    load_bank(app, n_questions=1)
    response = admin.post(NEW, data=form_data(EXERCISES[kind], **change))
    assert response.status_code == 422
    html = response.get_data(as_text=True).replace("\r\n", "\n")
    assert error_beside(html, field).startswith(message)
    assert "Please fix the highlighted fields; nothing was saved." in html
    assert count(app) == 1 and audit_actions(app) == []


def test_too_many_follow_ups_are_refused_and_all_shown(app, admin):
    load_bank(app, n_questions=1)
    data = {k: v for k, v in form_data(EXERCISES["design"]).items() if not k.startswith("follow_ups")}
    response = admin.post(NEW, data={**data, **FIVE_FOLLOW_UPS})
    assert response.status_code == 422
    html = response.get_data(as_text=True).replace("\r\n", "\n")
    assert '<p class="field-error" id="follow-ups-error">Needs 1 to 4 follow-ups, got 5.</p>' in html
    assert 'aria-describedby="follow-ups-error"' in html and 'href="#follow_ups-0-prompt"' in html
    assert 'id="follow_ups-4-answer"' in html and ">\nanswer 4</textarea>" in html  # the fifth is kept
    assert count(app) == 1


def test_a_flood_of_bad_line_numbers_is_summed_up(app, admin):
    load_bank(app, n_questions=1)
    response = admin.post(NEW, data=form_data(EXERCISES["spot_bug"], bug_lines="1," * 5000))
    assert response.status_code == 422
    message = error_beside(response.get_data(as_text=True), "bug_lines")
    assert message.count("listed twice") == 5 and message.endswith("There are more problems like these.")


def test_an_htmx_save_that_is_refused_swaps_in_the_editor_with_its_errors(app, admin):
    load_bank(app, n_questions=1)
    response = admin.post(NEW, data=form_data(EXERCISES["spot_bug"], bug_lines="9"), headers=HX)
    assert response.status_code == 422
    html = response.get_data(as_text=True).replace("\r\n", "\n")
    assert "<html" not in html and html.lstrip().startswith('<div id="question-editor"')
    assert "past the end of the code" in error_beside(html, "bug_lines")
    assert "HX-Request" in response.headers["Vary"]
    assert count(app) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"json": {"kind": "design", "follow_ups": [{"prompt": 1}], "estimate": {"value": "x"}}},
        {"json": ["kind", 1, None]},
        {"data": {"kind": "design"}},  # every design field missing
        {"data": {"kind": ["predict", "design"], "code": ["a", "b"], "bug_lines": "1,1,1"}},
        {"data": {"kind": "spot_bug", "code": "x", "bug_lines": "1," * 5000}},
        {
            "data": {
                "kind": "design",
                "estimate_value": "nan",
                "estimate_low": "inf",
                "estimate_high": "1e400",
            }
        },
        {"data": {"kind": "design", "follow_ups-99999-prompt": "x", "follow_ups--1-answer": "y"}},
        {"data": {"kind": "predict", "any_order": "maybe", "accepted": "---\n---"}},
    ],
    ids=[
        "json-shapes",
        "json-list",
        "missing",
        "repeated",
        "many-lines",
        "not-finite",
        "odd-indices",
        "flags",
    ],
)
def test_wrong_types_and_missing_fields_get_422_never_500(app, admin, body):
    load_bank(app, n_questions=1)
    for headers in ({}, HX):
        response = admin.post(NEW, headers=headers, **body)
        assert response.status_code == 422, response.get_data(as_text=True).replace("\r\n", "\n")[:500]
        assert "nothing was saved" in response.get_data(as_text=True).replace("\r\n", "\n")
    assert count(app) == 1 and audit_actions(app) == []


# -- switching kind and previewing without saving ----------------------------------------------------


def test_switching_kind_without_javascript_keeps_what_was_typed(app, admin):
    load_bank(app, n_questions=1)
    typed = {"kind": "predict", "prompt": "What does it print?", "code": "int main(void)\n{\n}", "key": "k"}
    page = admin.post(NEW, data={**typed, "refresh": "kind"})
    assert page.status_code == 200
    html = page.get_data(as_text=True).replace("\r\n", "\n")
    assert "Showing the fields of a predict the output question" in html
    assert 'id="accepted"' in html and 'id="bug_lines"' not in html and 'id="estimate_value"' not in html
    assert ">\nint main(void)\n{\n}</textarea>" in html and ">\nWhat does it print?</textarea>" in html
    assert "field-error" not in html  # not a save: nothing is refused
    # To recall: the code box goes, its text travels hidden; back to spot_bug it reappears.
    recall = admin.post(NEW, data={**typed, "kind": "recall", "accepted": "0", "refresh": "kind"})
    html = recall.get_data(as_text=True).replace("\r\n", "\n")
    assert (
        'id="code"' not in html and '<input type="hidden" name="code" value="int main(void)\n{\n}">' in html
    )
    assert '<input type="hidden" name="accepted" value="0">' in html
    spot = admin.post(NEW, data={**typed, "kind": "spot_bug", "accepted": "0", "refresh": "kind"})
    html = spot.get_data(as_text=True).replace("\r\n", "\n")
    assert 'id="bug_lines"' in html and ">\nint main(void)\n{\n}</textarea>" in html
    assert 'id="accepted"' not in html and 'name="accepted" value="0"' in html
    assert count(app) == 1 and audit_actions(app) == []


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_shows_only_its_fields(app, admin, kind):
    load_bank(app, n_questions=1)
    html = (
        admin.post(NEW, data={"kind": kind, "refresh": "kind"}).get_data(as_text=True).replace("\r\n", "\n")
    )
    uses = {
        "recall": set(),
        "predict": set(PREDICT_FIELDS),
        "spot_bug": {"code", "language", "platform", "bug_lines", "solution"},
        "write_code": {"code", "language", "platform", "solution", "tests"},
        "read_output": {"code", "language"},
        "design": {"estimate_value", "follow_ups-3-answer"},
    }[kind]
    every = (
        {"estimate_value", "follow_ups-3-answer"} | set(PREDICT_FIELDS) | {"bug_lines", "solution", "tests"}
    )
    for name in every:
        assert (f'id="{name}"' in html) == (name in uses), name
    if kind == "read_output":
        assert '<label for="code">Tool output</label>' in html


def test_the_kind_switch_with_htmx_swaps_the_editor_only(app, admin):
    load_bank(app, n_questions=1)
    response = admin.post(NEW, data={"kind": "design", "refresh": "kind", "prompt": "Design it"}, headers=HX)
    html = response.get_data(as_text=True).replace("\r\n", "\n")
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="question-editor"') and 'id="estimate_prompt"' in html
    assert "HX-Request" in response.headers["Vary"]
    page = admin.get(NEW).get_data(as_text=True).replace("\r\n", "\n")
    select = re.search(r'<select[^>]*id="kind"[^>]*>', page).group()
    for attribute in ('hx-post="/admin/sets/1/questions/new"', 'hx-target="#question-editor"',
                      'hx-trigger="change"', "refresh"):  # fmt: skip
        assert attribute in select
    assert '<button type="submit" name="refresh" value="kind"' in page
    assert count(app) == 1


# -- the preview ---------------------------------------------------------------------------------------


PREVIEW_PARTS = {
    "recall": ["A child that has exited", "Not yet reaped"],
    "predict": ["It prints", "<code>0</code>", "-1 &lt; sizeof(int)", "x86-64 Linux, gcc", "Spacing within"],
    "spot_bug": [
        '<div class="code-line line-faulty"><span class="ln" aria-hidden="true">4</span>',
        '<span class="line-mark">faulty</span>',
        "Fixed",
        "strncpy(dst, src, n - 1);",
    ],
    "write_code": ["A reference solution", "x &amp;&amp; !(x &amp; (x - 1))", "The tests it must pass"],
    "read_output": ['aria-label="Output to read"', "LISTEN 129"],
    "design": [
        "<strong>Your estimate:</strong> Total ingest bandwidth",
        "anything from 800 to 1200 MB/s counts",
        "The interviewer follows up",
        "Follow-up 2 of 2",
        "Shard the collectors by host.",
    ],
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_preview_fragment_shows_each_kind_as_learners_see_it(app, admin, kind):
    data = {**form_data(EXERCISES[kind]), "field": "card"}
    response = admin.post("/admin/preview", data=data, headers=HX)
    html = response.get_data(as_text=True).replace("\r\n", "\n")
    assert response.status_code == 200 and "<html" not in html
    assert 'id="prompt-preview"' in html and 'id="answer-preview"' in html
    for part in PREVIEW_PARTS[kind]:
        assert part in html, part


def test_the_preview_copes_with_half_typed_and_hostile_input(app, admin):
    cases = [
        {"kind": "spot_bug", "code": "a\nb", "bug_lines": "2, 99, x"},
        {"kind": "design", "estimate_value": "x", "estimate_low": "1", "estimate_unit": "nope"},
        {"kind": "predict", "accepted": "---", "prompt": "<script>alert(1)</script> **b**"},
        {"kind": "nonsense", "difficulty": "7"},
        {},
    ]
    for data in cases:
        response = admin.post("/admin/preview", data={**data, "field": "card"})
        html = response.get_data(as_text=True).replace("\r\n", "\n")
        assert response.status_code == 200 and "<script>" not in html
    faulty = (
        admin.post("/admin/preview", data={**cases[0], "field": "card"})
        .get_data(as_text=True)
        .replace("\r\n", "\n")
    )
    assert faulty.count("line-faulty") == 1  # line 2 marked; 99 and x are ignored until fixed


def test_the_preview_button_without_javascript_renders_it_and_saves_nothing(app, admin):
    load_bank(app, n_questions=1)
    response = admin.post(NEW, data={**form_data(EXERCISES["design"]), "refresh": "preview"})
    html = response.get_data(as_text=True).replace("\r\n", "\n")
    assert response.status_code == 200
    assert '<h2 id="preview-heading" tabindex="-1" autofocus>' in html
    assert "anything from 800 to 1200 MB/s counts" in html and "field-error" not in html
    assert count(app) == 1


def test_the_editor_page_wires_the_live_preview(app, admin):
    load_bank(app, exercise_bank("spot_bug"))
    html = admin.get("/admin/questions/1/edit").get_data(as_text=True).replace("\r\n", "\n")
    preview = re.search(r'<div id="card-preview"[^>]*>', html).group()
    assert 'hx-post="/admin/preview"' in preview and 'hx-include="#question-form"' in preview
    assert "input delay:500ms from:#question-form" in preview and '"field": "card"' in preview
    assert "line-faulty" in html  # rendered server-side too, for a page without JavaScript


# -- access and cost --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (NEW, {"kind": "design", "refresh": "kind"}),
        (NEW, {"kind": "design", "refresh": "preview"}),
        ("/admin/questions/1/edit", {"kind": "predict", "refresh": "kind"}),
        ("/admin/preview", {"field": "card", "kind": "spot_bug"}),
    ],
)
def test_learners_and_strangers_cannot_use_the_editor(app, logged_in, url, data):
    load_bank(app, n_questions=1)
    assert logged_in.post(url, data=data).status_code == 403
    assert logged_in.post(url, data=data, headers=HX).status_code == 403
    stranger = app.test_client()
    response = stranger.post(url, data=data)
    assert response.status_code == 303 and "/auth/login" in response.headers["Location"]


def test_the_editor_query_counts_stay_flat(app, admin):
    counts = []
    for n in (2, 40):
        bank = bank_dict(n_questions=n, set_slug=f"set-{n}")
        bank["sets"][0]["questions"] += [
            copy.deepcopy(q) | {"key": f"{q['key']}-{n}"} for q in EXERCISES.values()
        ]
        load_bank(app, bank)
        with app.app_context():
            set_id = db.session.scalar(db.select(Question.set_id).filter_by(key=f"ex-design-{n}"))
            qid = db.session.scalar(db.select(Question.id).filter_by(key=f"ex-design-{n}"))
        data = form_data(EXERCISES["spot_bug"], key=f"new-{n}")
        measured = {}
        for name, method, url, body, headers in (
            ("new page", "GET", f"/admin/sets/{set_id}/questions/new", None, {}),
            ("edit page", "GET", f"/admin/questions/{qid}/edit", None, {}),
            (
                "kind switch",
                "POST",
                f"/admin/questions/{qid}/edit",
                {"kind": "predict", "refresh": "kind"},
                HX,
            ),
            ("preview", "POST", "/admin/preview", {**data, "field": "card"}, HX),
            ("refused save", "POST", f"/admin/sets/{set_id}/questions/new", {**data, "bug_lines": "99"}, HX),
            ("save", "POST", f"/admin/sets/{set_id}/questions/new", data, HX),
        ):
            with count_queries(app) as statements:
                assert admin.open(url, method=method, data=body, headers=headers).status_code < 500
            measured[name] = len(statements)
        counts.append(measured)
    small, large = counts
    assert small == large, counts
    # A save also reads the set's role and checks that the new question's permanent id is free (8).
    budget = {"new page": 4, "edit page": 7, "kind switch": 5, "preview": 1, "refused save": 4, "save": 8}
    assert {name: small[name] for name in budget if small[name] > budget[name]} == {}
