"""Exercise kinds in bank files: every new field's validation message, CSV (recall and read_output only),
round trips of every kind through the admin export and the import preview, the preview's list of changed
exercise fields, and the Anki deck's front and back of each kind."""

from __future__ import annotations

import copy
import csv
import html
import io
import json
import re

import pytest
import yaml
from markupsafe import escape

from careerprep.banks import BankError, validate
from careerprep.extensions import db
from careerprep.models import Question, QuestionSet, Role
from careerprep.templating import render_markdown_inline
from tests.conftest import load_bank
from tests.exercise_support import (
    DESIGN,
    EXERCISES,
    PREDICT,
    READ_OUTPUT,
    SPOT_BUG,
    WRITE_CODE,
    exercise_bank,
)
from tests.test_admin_export import read_apkg
from tests.transfer_support import COLUMNS, apply_form, apply_form_from_raw, preview, with_ids

Q = "sets[0].questions[0]"
DROP = object()  # a change that removes the field
KIND_NAMES = "recall, predict, spot_bug, write_code, read_output, design"
LANGUAGE_NAMES = "c, cpp, bash, sh, python, text"
UNIT_NAMES = (
    "B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, B/s, KB/s, MB/s, GB/s, bit/s, kbit/s, Mbit/s, Gbit/s, "
    "/s, k/s, M/s, /min, /h, /day, ns, us, ms, s, min, h, day, count, k, M, bn"
)
ESTIMATE = DESIGN["estimate"]
LONG_PROMPT = {"prompt": "P" * 2001, "answer": "A"}
TEN_LINES = "\n".join(f"line {n};" for n in range(1, 11))


def errors_for(base: str, /, **changes) -> list[str]:
    """The validator's errors for a one-question bank: the `base` kind's question with `changes` (DROP
    removes a field)."""
    question = copy.deepcopy(EXERCISES[base])
    for name, value in changes.items():
        if value is DROP:
            question.pop(name, None)
        else:
            question[name] = value
    bank = exercise_bank(base)
    bank["sets"][0]["questions"] = [question]
    with pytest.raises(BankError) as caught:
        validate(bank)
    return caught.value.errors


def valid_with(kind: str, **changes) -> dict:
    """The cleaned question after `changes` (the bank must validate)."""
    question = {**copy.deepcopy(EXERCISES[kind]), **changes}
    bank = exercise_bank(kind)
    bank["sets"][0]["questions"] = [question]
    return validate(bank)["sets"][0]["questions"][0]


def follow_up(*items) -> dict:
    """A design's follow_ups holding `items`."""
    return {"follow_ups": list(items)}


def estimate(**changes) -> dict:
    """The design's estimate with `changes` (DROP removes a field)."""
    return {"estimate": {k: v for k, v in {**ESTIMATE, **changes}.items() if v is not DROP}}


# -- validation: each new field -------------------------------------------------------------------------

FIELD_ERRORS = [
    # kind
    ("recall", {"kind": "quiz"}, [f"kind: must be one of {KIND_NAMES}"]),
    ("recall", {"kind": 3}, [f"kind: must be one of {KIND_NAMES}"]),
    ("recall", {"kind": ["predict"]}, [f"kind: must be one of {KIND_NAMES}"]),
    ("recall", {"kind": "Predict"}, [f"kind: must be one of {KIND_NAMES}"]),
    # code
    ("predict", {"code": 42}, ["code: must be text"]),
    ("predict", {"code": " \n\t"}, ["code: required"]),
    ("read_output", {"code": "x" * 12_001}, ["code: longer than 12,000 characters"]),
    ("read_output", {"code": "x\n" * 201}, ["code: 201 lines; at most 200"]),
    # language
    ("predict", {"language": "rust"}, [f"language: must be one of {LANGUAGE_NAMES}"]),
    ("predict", {"language": ["c"]}, [f"language: must be one of {LANGUAGE_NAMES}"]),
    ("read_output", {"language": "C"}, [f"language: must be one of {LANGUAGE_NAMES}"]),
    # platform
    ("predict", {"platform": "  "}, ["platform: must be non-empty text"]),
    ("predict", {"platform": 64}, ["platform: must be non-empty text"]),
    ("spot_bug", {"platform": "p" * 121}, ["platform: longer than 120 characters"]),
    # accepted
    ("predict", {"accepted": 0}, ["accepted: must be a list of outputs"]),
    ("predict", {"accepted": {"out": "0"}}, ["accepted: must be a list of outputs"]),
    ("predict", {"accepted": []}, ["accepted: needs 1 to 8 outputs, got 0"]),
    ("predict", {"accepted": [str(n) for n in range(9)]}, ["accepted: needs 1 to 8 outputs, got 9"]),
    ("predict", {"accepted": ["0", " \n"]}, ["accepted[1]: must be non-empty text (the whole output)"]),
    ("predict", {"accepted": ["0", 1]}, ["accepted[1]: must be non-empty text (the whole output)"]),
    ("predict", {"accepted": ["y" * 4001]}, ["accepted[0]: longer than 4,000 characters"]),
    ("predict", {"accepted": ["0", "  0  \n"]}, ["accepted[1]: the same output as accepted[0]"]),
    ("predict", {"accepted": ["a\n b", "a\nb  "]}, ["accepted[1]: the same output as accepted[0]"]),
    # any_order, exact_whitespace
    ("predict", {"any_order": "yes"}, ["any_order: must be true or false"]),
    ("predict", {"exact_whitespace": 1}, ["exact_whitespace: must be true or false"]),
    # run and its fields
    ("predict", {"run": "tty"}, ["run: must be a mapping (stdout, stderr, cflags, args, stdin)"]),
    ("predict", {"run": {"env": {}}}, ["run.env: unknown field"]),
    ("predict", {"run": {"stdout": "file"}}, ["run.stdout: must be pipe or tty"]),
    ("predict", {"run": {"stderr": "yes"}}, ["run.stderr: must be true or false"]),
    ("predict", {"run": {"cflags": "-O2"}}, ["run.cflags: must be a list of short texts"]),
    ("predict", {"run": {"cflags": [""]}}, ["run.cflags: must be a list of short texts"]),
    ("predict", {"run": {"args": ["a" * 201]}}, ["run.args: must be a list of short texts"]),
    ("predict", {"run": {"args": ["a"] * 13}}, ["run.args: at most 12 items"]),
    ("predict", {"run": {"stdin": 5}}, ["run.stdin: must be text of at most 4,000 characters"]),
    ("predict", {"run": {"stdin": "s" * 4001}}, ["run.stdin: must be text of at most 4,000 characters"]),
    # bug_lines
    ("spot_bug", {"bug_lines": "4"}, ["bug_lines: must be a list of line numbers"]),
    ("spot_bug", {"bug_lines": []}, ["bug_lines: must be a list of line numbers"]),
    ("spot_bug", {"bug_lines": [0]}, ["bug_lines[0]: must be a line number (1 is the first line)"]),
    ("spot_bug", {"bug_lines": [True]}, ["bug_lines[0]: must be a line number (1 is the first line)"]),
    ("spot_bug", {"bug_lines": [4, "5"]}, ["bug_lines[1]: must be a line number (1 is the first line)"]),
    ("spot_bug", {"bug_lines": [4, 4]}, ["bug_lines[1]: line 4 is listed twice"]),
    ("spot_bug", {"bug_lines": [14]}, ["bug_lines: line 14 is past the end of the code (5 lines)"]),
    ("spot_bug", {"code": "int x;\n\nint y;", "bug_lines": [2]}, ["bug_lines: line 2 of the code is blank"]),
    ("spot_bug", {"code": TEN_LINES, "bug_lines": [1, 2, 3, 4, 5, 6]}, ["bug_lines: at most 5 lines, got 6"]),
    # solution and tests
    ("spot_bug", {"solution": ["fixed"]}, ["solution: must be text"]),
    ("write_code", {"solution": "\n\n"}, ["solution: required"]),
    ("write_code", {"solution": "s" * 12_001}, ["solution: longer than 12,000 characters"]),
    ("write_code", {"tests": 1}, ["tests: must be text"]),
    ("write_code", {"tests": ""}, ["tests: required"]),
    # follow_ups and their items
    ("design", {"follow_ups": "ask more"}, ["follow_ups: must be a list of follow-ups (prompt and answer)"]),
    ("design", {"follow_ups": []}, ["follow_ups: needs 1 to 4 follow-ups, got 0"]),
    ("design", {"follow_ups": [DESIGN["follow_ups"][0]] * 5}, ["follow_ups: needs 1 to 4 follow-ups, got 5"]),
    ("design", follow_up("Now what?"), ["follow_ups[0]: must be a mapping with prompt and answer"]),
    ("design", follow_up({"prompt": "P", "answer": "A", "hint": "H"}), ["follow_ups[0].hint: unknown field"]),
    ("design", follow_up({"prompt": " ", "answer": "A"}), ["follow_ups[0].prompt: must be non-empty text"]),
    ("design", follow_up({"prompt": "P"}), ["follow_ups[0].answer: must be non-empty text"]),
    ("design", follow_up(LONG_PROMPT), ["follow_ups[0].prompt: longer than 2,000 characters"]),
    # estimate and its fields
    ("design", {"estimate": "1000 MB/s"}, ["estimate: must be a mapping (prompt, value, unit, low, high)"]),
    ("design", estimate(guess=3), ["estimate.guess: unknown field"]),
    ("design", estimate(low=DROP), ["estimate.low: required"]),
    ("design", estimate(prompt=""), ["estimate.prompt: must be non-empty text"]),
    ("design", estimate(unit="parsec"), [f"estimate.unit: unknown unit 'parsec'; use one of {UNIT_NAMES}"]),
    ("design", estimate(unit=7), [f"estimate.unit: unknown unit 'int'; use one of {UNIT_NAMES}"]),
    ("design", estimate(value="1000"), ["estimate.value: must be a number"]),
    ("design", estimate(high=float("inf")), ["estimate.high: must be a number"]),
    ("design", estimate(low=True), ["estimate.low: must be a number"]),
    ("design", estimate(low=-1), ["estimate.low: must be between 0 and 1e+18"]),
    ("design", estimate(high=2e18), ["estimate.high: must be between 0 and 1e+18"]),
    ("design", estimate(low=1200, high=800), ["estimate.low: must not be above high (1200 > 800)"]),
    ("design", estimate(value=5000), ["estimate.value: must lie in the accepted range 800 to 1200"]),
    ("design", estimate(value=0, low=0, high=0), ["estimate.high: must be above 0"]),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "changes", "expected"), FIELD_ERRORS)
def test_each_exercise_field_is_validated_with_a_message_naming_item_and_field(kind, changes, expected):
    assert errors_for(kind, **changes) == [f"{Q}.{message}" for message in expected]


NOT_USED = [
    ("recall", "code", "int x;"),
    ("recall", "language", "c"),
    ("recall", "estimate", ESTIMATE),
    ("predict", "bug_lines", [1]),
    ("predict", "solution", "int y;"),
    ("spot_bug", "accepted", ["0"]),
    ("spot_bug", "tests", "int main(void) { return 0; }"),
    ("write_code", "accepted", ["0"]),
    ("write_code", "any_order", True),
    ("read_output", "platform", "Linux"),
    ("read_output", "run", {"stdout": "tty"}),
    ("read_output", "follow_ups", DESIGN["follow_ups"]),
    ("design", "code", "int x;"),
    ("design", "language", "text"),
    ("design", "exact_whitespace", True),
]


@pytest.mark.parametrize(("kind", "field", "value"), NOT_USED)
def test_fields_the_kind_does_not_use_are_refused(kind, field, value):
    assert errors_for(kind, **{field: value}) == [f"{Q}.{field}: not used by {kind} questions"]


REQUIRED = [
    ("predict", "code"),
    ("predict", "language"),
    ("predict", "accepted"),
    ("spot_bug", "code"),
    ("spot_bug", "language"),
    ("spot_bug", "bug_lines"),
    ("spot_bug", "solution"),
    ("write_code", "language"),
    ("write_code", "solution"),
    ("read_output", "code"),
    ("design", "follow_ups"),
    ("design", "estimate"),
]


@pytest.mark.parametrize(("kind", "field"), REQUIRED)
def test_each_kind_requires_its_fields(kind, field):
    assert errors_for(kind, **{field: DROP}) == [f"{Q}.{field}: required for {kind} questions"]


def test_optional_fields_may_be_left_out_and_read_output_defaults_to_text():
    assert valid_with("write_code", code=None, tests=None, platform=None)["kind"] == "write_code"
    bare = copy.deepcopy(READ_OUTPUT)
    del bare["language"]
    bank = exercise_bank("read_output")
    bank["sets"][0]["questions"] = [bare]
    assert validate(bank)["sets"][0]["questions"][0]["language"] == "text"


KEY_POINT_RANGES = [
    # kind, key points in the question, the error (None: valid)
    ("predict", 1, "needs 2 to 6 items, got 1"),
    ("predict", 2, None),
    ("predict", 7, "needs 2 to 6 items, got 7"),
    ("spot_bug", 1, "needs 2 to 6 items, got 1"),
    ("spot_bug", 6, None),
    ("write_code", 2, "needs 3 to 6 items, got 2"),
    ("read_output", 2, "needs 3 to 6 items, got 2"),
    ("design", 2, "needs 3 to 6 items, got 2"),
    ("design", 6, None),
    ("recall", 2, "needs 3 to 6 items, got 2"),
    ("recall", 7, "needs 3 to 6 items, got 7"),
]


@pytest.mark.parametrize(("kind", "count", "error"), KEY_POINT_RANGES)
def test_key_point_ranges_per_kind(kind, count, error):
    points = [f"point {n}" for n in range(count)]
    if error is None:
        assert valid_with(kind, key_points=points)["key_points"] == points
    else:
        assert errors_for(kind, key_points=points) == [f"{Q}.key_points: {error}"]


def test_every_problem_of_a_question_is_listed_at_once():
    errors = errors_for(
        "spot_bug", language="rust", bug_lines=[9, 9], solution=DROP, accepted=["0"], key_points=["one"]
    )
    assert errors == [
        f"{Q}.accepted: not used by spot_bug questions",
        f"{Q}.solution: required for spot_bug questions",
        f"{Q}.language: must be one of {LANGUAGE_NAMES}",
        f"{Q}.bug_lines[1]: line 9 is listed twice",
        f"{Q}.bug_lines: line 9 is past the end of the code (5 lines)",
        f"{Q}.key_points: needs 2 to 6 items, got 1",
    ]


def test_a_clean_exercise_bank_validates_to_itself_in_bank_order():
    clean = validate(exercise_bank())
    assert validate(copy.deepcopy(clean)) == clean
    spot_bug = clean["sets"][0]["questions"][1]
    assert list(spot_bug) == [
        "key",
        "kind",
        "prompt",
        "code",
        "language",
        "bug_lines",
        "solution",
        "answer",
        "key_points",
        "category",
        "difficulty",
        "tags",
    ]
    predict = valid_with("predict", accepted="0\n\n", any_order=False, run={"stdout": "tty"})
    assert predict["accepted"] == ["0"]  # one output may be written without the list
    assert "any_order" not in predict  # false is the default: not stored
    assert predict["run"] == {"stdout": "tty", "stderr": False, "cflags": [], "args": [], "stdin": ""}


# -- CSV: recall and read_output only ------------------------------------------------------------------


def csv_text(rows: list[dict], header: tuple[str, ...] = (*COLUMNS, "kind", "language", "code")) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def csv_row(question: dict, **overrides) -> dict:
    """A CSV row of role test-role, set basics, for a question in the bank format."""
    return {
        "role_slug": "test-role",
        "role_title": "Role test-role",
        "role_summary": "A test role.",
        "set_slug": "basics",
        "set_title": "Set basics",
        "set_description": "Test set.",
        "key": question["key"],
        "prompt": question["prompt"],
        "answer": question["answer"],
        "key_points": "\n".join(question["key_points"]),
        "category": question["category"],
        "difficulty": str(question["difficulty"]),
        "tags": ", ".join(question["tags"]),
        "kind": question.get("kind", ""),
        "language": question.get("language", ""),
        "code": question.get("code", ""),
        **overrides,
    }


def stored_questions(app) -> dict[str, tuple]:
    """Key → (kind, prompt, code, language, exercise, answer, key points) of every stored question."""
    with app.app_context():
        return {
            q.key: (q.kind, q.prompt, q.code, q.language, q.exercise, q.answer, q.key_points)
            for q in db.session.scalars(db.select(Question).where(Question.archived.is_(False)))
        }


def error_list(page: str) -> list[str]:
    return [html.unescape(e) for e in re.findall(r"<li><code>(.*?)</code></li>", page, re.S)]


def test_a_read_output_row_imports_from_csv_and_exports_back(app, admin):
    rows = [csv_row(EXERCISES["recall"]), csv_row(READ_OUTPUT)]
    response = preview(admin, csv_text(rows), "bank.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, error_list(page)
    assert '<td class="num" id="count-new">2</td>' in page
    assert admin.post("/admin/import/apply", data=apply_form(page)).status_code == 303
    stored = stored_questions(app)
    assert stored[READ_OUTPUT["key"]][:5] == (
        "read_output",
        READ_OUTPUT["prompt"],
        READ_OUTPUT["code"],
        "text",
        None,
    )
    assert stored["ex-recall"][:5] == ("recall", EXERCISES["recall"]["prompt"], None, None, None)
    exported = admin.get(f"/admin/sets/{set_id(app)}/export.csv").data.decode("utf-8-sig")
    # The export adds each question's permanent id (an import of this file matches on it).
    back = {row["key"]: row for row in csv.DictReader(io.StringIO(exported))}
    assert back[READ_OUTPUT["key"]].pop("id") and back["ex-recall"].pop("id")
    assert back[READ_OUTPUT["key"]] == csv_row(READ_OUTPUT)
    assert back["ex-recall"] == csv_row(EXERCISES["recall"], kind="recall")


def test_a_read_output_row_without_a_language_is_text(app, admin):
    page = preview(admin, csv_text([csv_row(READ_OUTPUT, language="")]), "bank.csv").get_data(as_text=True)
    assert admin.post("/admin/import/apply", data=apply_form(page)).status_code == 303
    assert stored_questions(app)[READ_OUTPUT["key"]][3] == "text"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [csv_row(EXERCISES["recall"]), csv_row(PREDICT)],
            [
                "row 3, column kind: a CSV cannot carry predict questions (only recall and read_output); "
                "import them from a YAML or JSON file"
            ],
        ),
        (
            [csv_row(EXERCISES["recall"], kind="design"), csv_row(SPOT_BUG)],
            [
                "row 2, column kind: a CSV cannot carry design questions (only recall and read_output); "
                "import them from a YAML or JSON file",
                "row 3, column kind: a CSV cannot carry spot_bug questions (only recall and read_output); "
                "import them from a YAML or JSON file",
            ],
        ),
        (
            [csv_row(EXERCISES["recall"], kind="quiz")],
            [f"row 2, column kind: must be one of {KIND_NAMES}"],
        ),
        (
            [csv_row(READ_OUTPUT, code="")],
            ["row 2, column code: required for read_output questions"],
        ),
        (
            [csv_row(READ_OUTPUT, language="klingon")],
            [f"row 2, column language: must be one of {LANGUAGE_NAMES}"],
        ),
        (
            [csv_row(EXERCISES["recall"], code="int x;")],
            ["row 2, column code: not used by recall questions"],
        ),
    ],
    ids=["predict", "design-and-spot-bug", "unknown-kind", "no-output", "language", "code-on-recall"],
)
def test_csv_rows_a_csv_cannot_carry_are_refused_by_row_and_column(app, admin, rows, expected):
    response = preview(admin, csv_text(rows), "bank.csv")
    assert response.status_code == 422
    assert error_list(response.get_data(as_text=True)) == expected
    assert stored_questions(app) == {}


# -- round trips through the admin export and the import preview ---------------------------------------


def set_id(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(QuestionSet.id).filter_by(slug="basics"))


def empty_database(app) -> None:
    with app.app_context():
        db.session.execute(db.delete(Question))
        db.session.execute(db.delete(QuestionSet))
        db.session.execute(db.delete(Role))
        db.session.commit()


def count_cell(page: str, name: str) -> int:
    match = re.search(rf'<td class="num" id="count-{name}">(\d+)</td>', page)
    assert match, f"no count-{name} on the page"
    return int(match[1])


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_every_kind_round_trips_through_yaml_and_json(app, admin, fmt):
    load_bank(app, exercise_bank())
    stored = stored_questions(app)
    exported = admin.get(f"/admin/sets/{set_id(app)}/export.{fmt}")
    assert exported.status_code == 200
    data = yaml.safe_load(exported.data) if fmt == "yaml" else json.loads(exported.data)
    assert data == with_ids(validate(exercise_bank()))  # every kind, every field, in bank order
    # Into the same database: nothing to change.
    page = preview(admin, exported.data, f"export.{fmt}").get_data(as_text=True)
    assert count_cell(page, "unchanged") == len(EXERCISES)
    assert [count_cell(page, name) for name in ("new", "changed", "missing")] == [0, 0, 0]
    assert "Nothing to change" in page
    # Into an empty database: the same questions, field by field.
    empty_database(app)
    page = preview(admin, exported.data, f"export.{fmt}").get_data(as_text=True)
    assert count_cell(page, "new") == len(EXERCISES)
    assert admin.post("/admin/import/apply", data=apply_form(page)).status_code == 303
    assert stored_questions(app) == stored


def test_csv_export_carries_recall_and_read_output_and_says_how_many_it_leaves_out(app, admin):
    load_bank(app, exercise_bank())
    stored = stored_questions(app)
    export_page = admin.get("/admin/export").get_data(as_text=True)
    assert "(CSV leaves out 4 exercise questions)" in export_page
    exported = admin.get(f"/admin/sets/{set_id(app)}/export.csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert [(row["key"], row["kind"]) for row in rows] == [
        ("ex-read-output", "read_output"),
        ("ex-recall", "recall"),
    ]
    # Into an empty database: the two rows, field by field.
    empty_database(app)
    page = preview(admin, exported.data, "export.csv").get_data(as_text=True)
    assert count_cell(page, "new") == 2
    assert admin.post("/admin/import/apply", data=apply_form(page)).status_code == 303
    assert stored_questions(app) == {key: stored[key] for key in ("ex-read-output", "ex-recall")}


def positions(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(db.select(Question.key, Question.position)).all())


def test_a_csv_export_imports_back_into_its_set_unchanged(app, admin):
    load_bank(app, exercise_bank())
    before = positions(app)
    exported = admin.get(f"/admin/sets/{set_id(app)}/export.csv").data
    page = preview(admin, exported, "export.csv").get_data(as_text=True)
    # The two rows it carries are unchanged; the four it left out are missing from the file (kept).
    assert [count_cell(page, name) for name in ("new", "changed", "unchanged", "missing")] == [0, 0, 2, 4]
    assert "Nothing to change" in page
    assert (
        admin.post("/admin/import/apply", data=apply_form_from_raw(exported, "export.csv")).status_code == 303
    )
    assert positions(app) == before


def test_the_export_page_says_nothing_about_csv_for_a_set_it_carries_whole(app, admin):
    load_bank(app, exercise_bank("recall", "read_output"))
    assert "CSV leaves out" not in admin.get("/admin/export").get_data(as_text=True)
    load_bank(app, exercise_bank("recall", "read_output", "design"))
    assert "(CSV leaves out 1 exercise question)" in admin.get("/admin/export").get_data(as_text=True)


def changed_in_preview(page: str) -> dict[str, list[str]]:
    """Key → the fields the preview lists as changed for it."""
    section = page.split("<summary>Changed (")[1].split("</details>")[0]
    return {
        key: [f.strip() for f in fields.split(",")]
        for key, fields in re.findall(
            r"<code>([^<]+)</code>.*?<span class=\"muted\">— ([^<]*)</span>", section, re.S
        )
    }


def test_the_preview_names_the_exercise_fields_that_change(app, admin):
    load_bank(app, exercise_bank())
    edited = exercise_bank()
    questions = {q["key"]: q for q in edited["sets"][0]["questions"]}
    questions["ex-predict"]["accepted"] = ["0\n", "false\n"]
    questions["ex-predict"]["platform"] = "arm64 macOS, clang"
    questions["ex-spot-bug"]["bug_lines"] = [2, 4]
    questions["ex-write-code"]["tests"] += "\n/* more */"
    questions["ex-read-output"]["code"] += "\nLISTEN 0 128 [::]:22 [::]:*"
    questions["ex-design"]["estimate"] = {**ESTIMATE, "high": 1500}
    questions["ex-design"]["follow_ups"] = questions["ex-design"]["follow_ups"][:1]
    questions["ex-recall"]["kind"] = "read_output"
    questions["ex-recall"]["code"] = "zombie  1234  Z"
    page = preview(admin, yaml.safe_dump(edited, sort_keys=False), "edited.yaml").get_data(as_text=True)
    assert count_cell(page, "changed") == 6
    assert changed_in_preview(page) == {
        "ex-predict": ["platform", "accepted"],
        "ex-spot-bug": ["bug_lines"],
        "ex-write-code": ["tests"],
        "ex-read-output": ["code"],
        "ex-design": ["follow_ups", "estimate"],
        "ex-recall": ["kind", "code", "language"],
    }


# -- Anki -----------------------------------------------------------------------------------------------


def deck_notes(app, admin, tmp_path) -> dict[str, tuple[str, str]]:
    """Question key → (front, back) of each note in the set's deck: its Prompt; its Answer and Key points."""
    response = admin.get(f"/admin/sets/{set_id(app)}/export.apkg")
    assert response.status_code == 200
    notes = read_apkg(response.data, tmp_path)["notes"]
    with app.app_context():
        keys = dict(db.session.execute(db.select(Question.uid, Question.key)).all())
    return {keys[n["fields"][-1]]: (n["fields"][0], n["fields"][1] + n["fields"][2]) for n in notes}


def code_block(code: str, language: str = "c", faulty: tuple[int, ...] = (), numbered: bool = False) -> str:
    """A listing as the deck writes it: escaped, numbered and the faulty lines marked for spot_bug."""
    lines = code.split("\n")
    rows = []
    for n, line in enumerate(lines, start=1):
        row = (f"{n:>{len(str(len(lines)))}}  " if numbered else "") + str(escape(line))
        rows.append(f'<span class="faulty">{row}</span>' if n in faulty else row)
    return f'<pre><code class="language-{language}">' + "\n".join(rows) + "</code></pre>"


def test_the_anki_deck_shows_each_kind_on_front_and_back(app, admin, tmp_path):
    load_bank(app, exercise_bank())
    notes = deck_notes(app, admin, tmp_path)
    assert set(notes) == {q["key"] for q in EXERCISES.values()}
    for question in EXERCISES.values():
        front, back = notes[question["key"]]
        for point in question["key_points"]:
            assert f"<li>{render_markdown_inline(point)}</li>" in back

    front, back = notes["ex-predict"]
    assert "What does this program print?" in front
    assert code_block(PREDICT["code"]) in front  # the code on the front …
    assert "<strong>Output</strong>" not in front and "huge unsigned value" not in front
    assert "<p><strong>Output</strong></p>" + code_block("0", "text") in back  # … what it prints on the back
    assert "a huge unsigned value" in back

    front, back = notes["ex-spot-bug"]
    assert code_block(SPOT_BUG["code"], numbered=True) in front
    assert "faulty" not in front and "n - 1" not in front
    assert "<strong>Faulty line: 4</strong>" in back
    assert code_block(SPOT_BUG["code"], faulty=(4,), numbered=True) in back
    assert '<span class="faulty">4      strncpy(dst, src, n);</span>' in back
    assert "<p><strong>Fixed</strong></p>" + code_block(SPOT_BUG["solution"]) in back

    front, back = notes["ex-write-code"]
    assert "<code>int is_pow2(unsigned x)</code>" in front
    assert "x &amp;&amp; !(x &amp; (x - 1))" not in front
    assert "<p><strong>A reference solution</strong></p>" + code_block(WRITE_CODE["solution"]) in back

    front, back = notes["ex-read-output"]
    assert code_block(READ_OUTPUT["code"], "text") in front
    assert "The accept queue is full" in back and "The accept queue is full" not in front

    front, back = notes["ex-design"]
    assert "<p><strong>Estimate:</strong> Total ingest bandwidth</p>" in front
    assert "Buffer on disk" not in front and "1200" not in front
    assert "<p><strong>Estimate:</strong> about 1000 MB/s (accepted 800 to 1200 MB/s)</p>" in back
    for n, follow_up in enumerate(DESIGN["follow_ups"], start=1):
        assert f"<p><strong>Follow-up {n}:</strong> {follow_up['prompt']}</p>" in back
        assert f"<p>{follow_up['answer']}</p>" in back

    front, back = notes["ex-recall"]
    assert "<pre>" not in front and "<pre>" not in back
    assert "What is a zombie process?" in front and "has not been waited for" in back


def test_the_anki_deck_escapes_code(app, admin, tmp_path):
    bank = exercise_bank("predict")
    bank["sets"][0]["questions"][0]["code"] = '#include <stdio.h>\nint main(void) { puts("<b>&</b>"); }'
    bank["sets"][0]["questions"][0]["accepted"] = ["<b>&</b>"]
    load_bank(app, bank)
    front, back = deck_notes(app, admin, tmp_path)["ex-predict"]
    assert "#include &lt;stdio.h&gt;" in front and "puts(&#34;&lt;b&gt;&amp;&lt;/b&gt;&#34;)" in front
    assert "<b>" not in front and "<b>" not in back
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in back
