"""Bank import with a dry run (YAML, JSON, CSV): the preview, parsing errors, apply, and the CLI twin."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zlib

import pytest
import yaml

from careerprep.admin.transfer import pack
from careerprep.banks import csv_bank, formats
from careerprep.extensions import db
from careerprep.models import AuditLog, Question, QuestionSet
from tests.conftest import PASSWORD, bank_dict, load_bank, make_user
from tests.transfer_support import COLUMNS, apply_form, apply_form_from_raw, bank_snapshot, counts, preview


def csv_bytes(rows: list[dict], header=COLUMNS, bom: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in header])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


def csv_row(i: int = 0, **overrides) -> dict:
    """One valid CSV row: question q-i of set basics in role test-role."""
    row = {
        "role_slug": "test-role",
        "role_title": "Role test-role",
        "role_summary": "A test role.",
        "set_slug": "basics",
        "set_title": "Set basics",
        "set_description": "Test set.",
        "key": f"q-{i}",
        "prompt": f"Question number {i}?",
        "answer": f"Answer number {i}.",
        "key_points": "first point\nsecond point\nthird point",
        "category": "Alpha",
        "difficulty": "2",
        "tags": "test, csv",
    }
    row.update(overrides)
    return row


def edited_bank() -> dict:
    """The stored bank (q-0 … q-3) with q-0's answer changed, q-3 left out and q-new added."""
    bank = bank_dict(n_questions=4)
    questions = bank["sets"][0]["questions"]
    questions[0]["answer"] = "A much better answer."
    questions.pop()
    questions.append({**questions[1], "key": "q-new", "prompt": "A brand new question?"})
    return bank


# -- the import page and bad files -------------------------------------------------------------------


def test_import_page_documents_the_csv_columns(admin):
    response = admin.get("/admin/import")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in page and "Preview changes" in page
    for column in COLUMNS:
        assert f"<code>{column}</code>" in page
    assert ", ".join(COLUMNS) in page


def test_the_format_module_documents_the_columns():
    for column in COLUMNS:
        assert column in csv_bank.__doc__


def big_csv(n: int) -> bytes:
    return csv_bytes([csv_row(i) for i in range(n)])


def big_yaml(n: int) -> bytes:
    return yaml.safe_dump(bank_dict(n_questions=n)).encode()


DUPLICATE_JSON = (
    b'{"role": {"slug": "r", "title": "R"}, "sets": [{"slug": "s", "title": "S", "questions": '
    b'[{"key": "k", "answer": "a", "answer": "b"}]}]}'
)


BAD_FILES = [
    pytest.param(
        "x: \xe9t\xe9\n".encode("latin-1"), "bank.yaml", "bank.yaml: not UTF-8 text (byte 3)", id="latin1"
    ),
    pytest.param(
        csv_bytes([csv_row()]).decode().encode("utf-16"), "bank.csv", "not UTF-8 text", id="utf16-csv"
    ),
    pytest.param(
        b"role: [unclosed", "bank.yaml", "bank.yaml: YAML syntax error at line 1, column 16", id="broken-yaml"
    ),
    pytest.param(
        b'{"role": {"slug": "x",}', "bank.json", "JSON syntax error at line 1, column 23", id="json"
    ),
    pytest.param(b"role: {slug: a}\nrole: {slug: b}\n", "bank.yaml", "duplicate key 'role'", id="dup-yaml"),
    pytest.param(DUPLICATE_JSON, "bank.json", "sets[0].questions[0].answer: duplicate key", id="dup-json"),
    pytest.param(b"", "bank.yaml", "bank.yaml: the file is empty", id="empty-yaml"),
    pytest.param(b"\xef\xbb\xbf \n", "bank.csv", "bank.csv: the file is empty", id="empty-csv"),
    pytest.param(csv_bytes([]), "bank.csv", "bank.csv: no question rows after the header", id="header-only"),
    pytest.param(b"role: x\x00", "bank.yaml", "line 1 contains a NUL character", id="nul"),
    pytest.param(
        b"role: x", "bank.exe", "bank.exe: unsupported file type; use .yaml, .yml, .json or .csv", id="ext"
    ),
    pytest.param(b"role: x", "bank", "bank: unsupported file type", id="no-extension"),
    pytest.param(b"[" * 5000, "bank.json", "bank.json: nested more than 32 levels deep", id="deep-json"),
    pytest.param(
        csv_bytes([{**csv_row(), "surprise": "x"}], header=(*COLUMNS, "surprise")),
        "bank.csv",
        "row 1: unknown columns: surprise",
        id="unknown-column",
    ),
    pytest.param(
        csv_bytes([csv_row()], header=COLUMNS[:-1]),
        "bank.csv",
        "row 1: missing columns: tags",
        id="missing-column",
    ),
    pytest.param(
        csv_bytes([csv_row()], header=(*COLUMNS, "key")),
        "bank.csv",
        "row 1: columns appear more than once: key",
        id="repeated-column",
    ),
    pytest.param(
        csv_bytes([csv_row(0), csv_row(1, prompt='=HYPERLINK("http://evil")')]),
        "bank.csv",
        "row 3, column prompt: looks like a spreadsheet formula; remove the leading '='",
        id="formula-equals",
    ),
    pytest.param(
        csv_bytes([csv_row(0, answer="+1 for this")]),
        "bank.csv",
        "row 2, column answer: looks like a spreadsheet formula; remove the leading '+'",
        id="formula-plus",
    ),
    pytest.param(
        csv_bytes([csv_row(0, tags="@cmd")]),
        "bank.csv",
        "row 2, column tags: looks like a spreadsheet formula; remove the leading '@'",
        id="formula-at",
    ),
    pytest.param(
        csv_bytes([csv_row(0, key_points="-2+3\nb\nc")]),
        "bank.csv",
        "row 2, column key_points: looks like a spreadsheet formula; remove the leading '-'",
        id="formula-minus",
    ),
    pytest.param(
        csv_bytes([csv_row(0, category="\tAlpha")]),
        "bank.csv",
        "row 2, column category: looks like a spreadsheet formula; remove the leading tab",
        id="formula-tab",
    ),
    pytest.param(
        csv_bytes([csv_row(0), csv_row(1, role_title="Another title")]),
        "bank.csv",
        "row 3, column role_title: differs from row 2; a file holds one role",
        id="role-disagrees",
    ),
    pytest.param(
        csv_bytes([csv_row(0), csv_row(1), csv_row(2, set_description="Changed")]),
        "bank.csv",
        "row 4, column set_description: differs from row 2, the first row of set 'basics'",
        id="set-disagrees",
    ),
    pytest.param(
        csv_bytes([csv_row(0), csv_row(1, answer="")]),
        "bank.csv",
        "row 3, column answer: required",
        id="csv-required",
    ),
    pytest.param(
        csv_bytes([csv_row(0, difficulty="7")]),
        "bank.csv",
        "row 2, column difficulty: must be 1, 2 or 3",
        id="csv-difficulty",
    ),
    pytest.param(
        csv_bytes([csv_row(0), csv_row(1, key="q-0")]),
        "bank.csv",
        "row 3, column key: duplicate of row 2",
        id="csv-duplicate-key",
    ),
    pytest.param(
        csv_bytes([csv_row(0, key_points="only | two")]),
        "bank.csv",
        "row 2, column key_points: needs 3 to 6 items, got 2",
        id="csv-key-points",
    ),
    pytest.param(
        csv_bytes([csv_row(0, role_slug="Not A Slug")]),
        "bank.csv",
        "row 2, column role_slug: use lowercase letters, digits and hyphens",
        id="csv-role-slug",
    ),
    pytest.param(
        csv_bytes([csv_row(0, set_title="")]),
        "bank.csv",
        "row 2, column set_title: required",
        id="csv-set-title",
    ),
    pytest.param(
        csv_bytes([csv_row(0)]).replace(b'"test, csv"', b'"test, csv"x'),
        "bank.csv",
        "row 2: CSV syntax error",
        id="csv-syntax",
    ),
    pytest.param(
        csv_bytes([csv_row(0)]) + b"a,b\r\n",
        "bank.csv",
        "row 3: 2 cells, but the header has 13 columns",
        id="csv-short-row",
    ),
    pytest.param(
        big_csv(2001), "bank.csv", "2,001 question rows; a file may hold at most 2,000", id="csv-2001"
    ),
    pytest.param(
        big_yaml(2001), "bank.yaml", "2,001 questions; a file may hold at most 2,000", id="yaml-2001"
    ),
]


@pytest.mark.parametrize(("content", "filename", "message"), BAD_FILES)
def test_bad_files_are_422_with_a_clear_message_and_write_nothing(app, admin, content, filename, message):
    load_bank(app, n_questions=2)
    before = counts(app)
    response = preview(admin, content, filename)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert message in page
    assert "nothing was imported" in page
    assert counts(app) == before


def test_bank_errors_name_every_item_and_field(app, admin):
    bank = bank_dict(n_questions=3)
    del bank["sets"][0]["questions"][1]["answer"]
    bank["sets"][0]["questions"][2]["difficulty"] = 9
    response = preview(admin, json.dumps(bank), "bank.json")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "sets[0].questions[1].answer: required" in page
    assert "sets[0].questions[2].difficulty: must be 1, 2 or 3" in page
    assert "2 problems found in bank.json" in page
    assert counts(app) == (0, 0, 0, 0)


def test_every_csv_problem_is_listed_at_once(app, admin):
    rows = [csv_row(0), csv_row(1, prompt="=1+1", role_title="Other"), csv_row(2, set_title="Other")]
    page = html.unescape(preview(admin, csv_bytes(rows), "bank.csv").get_data(as_text=True))
    assert "row 3, column prompt: looks like a spreadsheet formula" in page
    assert "row 3, column role_title: differs from row 2" in page
    assert "row 4, column set_title: differs from row 2" in page
    assert "3 problems found" in page


def test_two_thousand_questions_at_the_limit_are_accepted(app, admin):
    response = preview(admin, big_csv(2000), "bank.csv")
    assert response.status_code == 200
    assert '<td class="num" id="count-new">2000</td>' in response.get_data(as_text=True)


def test_missing_file_is_422(admin):
    response = admin.post("/admin/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert b"Choose a file to upload." in response.data


def test_oversized_upload_is_413(app, admin):
    response = preview(admin, b"#" * (1024 * 1024 + 10), "big.csv")
    assert response.status_code == 413
    assert counts(app) == (0, 0, 0, 0)


def test_the_size_limit_holds_without_the_request_limit():
    with pytest.raises(formats.BankError, match="a file may be at most 1 MiB"):
        formats.load(b"#" * (1024 * 1024 + 1), "bank.yaml")


# -- dry run and apply -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
def test_dry_run_lists_new_changed_unchanged_and_missing_and_writes_nothing(app, admin, fmt):
    load_bank(app, n_questions=4)
    before, stored = counts(app), bank_snapshot(app)
    content = formats.dump(edited_bank(), fmt)
    response = preview(admin, content, f"edited.{fmt}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, html.unescape(page)
    assert '<td class="num" id="count-new">1</td>' in page
    assert '<td class="num" id="count-changed">1</td>' in page
    assert '<td class="num" id="count-unchanged">2</td>' in page
    assert '<td class="num" id="count-missing">1</td>' in page
    assert '<td class="num" id="count-new-sets">0</td>' in page
    new = page.split("<summary>New (1)</summary>")[1].split("</details>")[0]
    assert "<code>q-new</code>" in new
    changed = page.split("<summary>Changed (1)</summary>")[1].split("</details>")[0]
    assert "<code>q-0</code>" in changed and "answer" in changed
    missing = page.split("<summary>Missing from the file (kept) (1)</summary>")[1].split("</details>")[0]
    assert "<code>q-3</code>" in missing
    assert "<strong>not</strong> deleted or archived" in page
    assert "Apply these changes" in page
    assert counts(app) == before
    assert bank_snapshot(app) == stored


def test_dry_run_of_a_new_role_and_set(app, admin):
    response = preview(admin, yaml.safe_dump(bank_dict(n_questions=3, published=False)))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "a <strong>new role</strong>" in page
    assert "New set" in page and "It will be unpublished." in page
    assert '<td class="num" id="count-new-sets">1</td>' in page
    assert counts(app) == (0, 0, 0, 0)


def test_apply_writes_in_one_transaction_with_one_audit_row(app, admin, admin_user):
    load_bank(app, n_questions=4)
    with app.app_context():
        ids = dict(db.session.execute(db.select(Question.key, Question.id)).all())
    page = preview(admin, formats.dump(edited_bank(), "csv"), "edited.csv").get_data(as_text=True)
    response = admin.post("/admin/import/apply", data=apply_form(page))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/")
    with app.app_context():
        by_key = {q.key: q for q in db.session.scalars(db.select(Question))}
        assert by_key["q-0"].answer == "A much better answer."
        assert by_key["q-new"].prompt == "A brand new question?"
        assert not by_key["q-3"].archived  # missing from the file, kept as it was
        assert {k: by_key[k].id for k in ids} == ids  # ids (and so progress) kept
        entries = db.session.scalars(db.select(AuditLog)).all()
        assert len(entries) == 1
        entry = entries[0]
        assert entry.action == "bank.import" and entry.actor == admin_user.email
        assert entry.object_type == "role"
        assert entry.details["file"] == "edited.csv" and entry.details["format"] == "csv"
        assert {k: entry.details[k] for k in ("new", "changed", "unchanged", "missing")} == {
            "new": 1,
            "changed": 1,
            "unchanged": 2,
            "missing": 1,
        }
        assert "edited.csv" in entry.summary
    assert counts(app) == (1, 1, 5, 1)
    flashed = admin.get("/admin/").get_data(as_text=True)
    assert "Imported edited.csv" in flashed and "1 questions added, 1 updated" in flashed


def test_apply_of_a_new_bank_creates_it(app, admin):
    page = preview(admin, yaml.safe_dump(bank_dict(n_questions=3, published=False))).get_data(as_text=True)
    assert admin.post("/admin/import/apply", data=apply_form(page)).status_code == 303
    assert counts(app) == (1, 1, 3, 1)
    with app.app_context():
        assert db.session.scalar(db.select(QuestionSet.published)) is False


def test_apply_with_nothing_to_change_writes_no_audit_row(app, admin):
    load_bank(app, n_questions=3)
    page = preview(admin, yaml.safe_dump(bank_dict(n_questions=3))).get_data(as_text=True)
    assert "Nothing to change" in page and "Apply these changes" not in page
    response = admin.post(
        "/admin/import/apply", data=apply_form_from_raw(yaml.safe_dump(bank_dict(n_questions=3)))
    )
    assert response.status_code == 303
    assert counts(app) == (1, 1, 3, 0)
    assert "Nothing to import" in admin.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (apply_form_from_raw(yaml.safe_dump({"role": {"slug": "r"}, "sets": []})), "role.title: required"),
        (apply_form_from_raw(csv_bytes([csv_row(0, prompt="=1")]), "bank.csv"), "row 2, column prompt"),
        (apply_form_from_raw(yaml.safe_dump(bank_dict()), "bank.exe"), "bank.exe: unsupported file type"),
        ({"payload": "not base64 at all!", "filename": "bank.yaml"}, "damaged; upload the file again"),
        ({"payload": pack(b"x")[:-6], "filename": "bank.yaml"}, "damaged"),
        ({"payload": "", "filename": "bank.yaml"}, "damaged"),
        ({"filename": "bank.yaml"}, "damaged"),
        # A compression bomb: 2 MiB of spaces in a few kB.
        (
            {"payload": __import__("base64").urlsafe_b64encode(zlib.compress(b" " * (2 << 20))).decode()},
            "damaged",
        ),
    ],
)
def test_tampered_apply_payload_is_validated_again(app, admin, form, message):
    load_bank(app, n_questions=2)
    before = counts(app)
    response = admin.post("/admin/import/apply", data=form)
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert counts(app) == before


def test_apply_re_diffs_against_the_database_of_the_moment(app, admin):
    page = preview(admin, yaml.safe_dump(bank_dict(n_questions=3))).get_data(as_text=True)
    load_bank(app, n_questions=3)  # someone imported the same bank between preview and apply
    response = admin.post("/admin/import/apply", data=apply_form(page))
    assert response.status_code == 303
    assert counts(app) == (1, 1, 3, 0)  # nothing changed after all: no audit row


def test_apply_needs_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    boss = make_user(app, is_admin=True)
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    client.post("/auth/login", data={"email": boss.email, "password": PASSWORD, "csrf_token": token})
    content = yaml.safe_dump(bank_dict(n_questions=2)).encode()
    upload = {"bank": (io.BytesIO(content), "bank.yaml")}
    assert client.post("/admin/import", data=upload, content_type="multipart/form-data").status_code == 400
    page = client.get("/admin/import").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    upload = {"bank": (io.BytesIO(content), "bank.yaml"), "csrf_token": token}
    page = client.post("/admin/import", data=upload, content_type="multipart/form-data").get_data(
        as_text=True
    )
    form = apply_form(page)
    assert client.post("/admin/import/apply", data=form).status_code == 400
    assert counts(app)[:3] == (0, 0, 0)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/admin/import/apply", data={**form, "csrf_token": token}).status_code == 303
    assert counts(app) == (1, 1, 2, 1)


def test_a_large_file_still_fits_the_apply_form(app, admin):
    bank = bank_dict(n_questions=1300)
    for q in bank["sets"][0]["questions"]:
        q["answer"] = q["answer"] + " Padding text that compresses well." * 15
    content = yaml.safe_dump(bank).encode()
    assert 900_000 < len(content) <= 1024 * 1024
    page = preview(admin, content).get_data(as_text=True)
    form = apply_form(page)
    assert len(form["payload"]) < 500_000
    assert admin.post("/admin/import/apply", data=form).status_code == 303
    assert counts(app) == (1, 1, 1300, 1)


# -- command line --------------------------------------------------------------------------------------


def test_cli_import_dry_run_writes_nothing(app, runner, tmp_path):
    load_bank(app, n_questions=4)
    before = counts(app)
    path = tmp_path / "edited.yaml"
    path.write_text(formats.dump(edited_bank(), "yaml"))
    result = runner.invoke(args=["import-questions", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "set basics (Set basics): 1 new, 1 changed, 2 unchanged, 1 missing" in result.stdout
    assert "changed: q-0 (answer)" in result.stdout and "new: q-new" in result.stdout
    assert "missing: q-3 (kept; imports never delete)" in result.stdout
    assert "Dry run: nothing was written." in result.stdout
    assert counts(app) == before


def test_cli_import_applies_with_a_system_audit_row(app, runner, tmp_path):
    load_bank(app, n_questions=4)
    path = tmp_path / "edited.csv"
    path.write_text(formats.dump(edited_bank(), "csv"), encoding="utf-8")
    result = runner.invoke(args=["import-questions", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported edited.csv: 1 questions added, 1 updated, 2 unchanged" in result.stdout
    assert counts(app) == (1, 1, 5, 1)
    with app.app_context():
        entry = db.session.scalar(db.select(AuditLog))
        assert (entry.action, entry.actor, entry.actor_id) == ("bank.import", "system", None)
        assert entry.details["new"] == 1 and entry.details["file"] == "edited.csv"
    result = runner.invoke(args=["import-questions", str(path)])
    assert "Nothing to import." in result.stdout
    assert counts(app) == (1, 1, 5, 1)


def test_cli_import_of_an_invalid_file_fails_with_every_error(app, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([csv_row(0, prompt="=1"), csv_row(1, answer="+x")]))
    result = runner.invoke(args=["import-questions", str(path)])
    assert result.exit_code == 1
    assert "error: row 2, column prompt: looks like a spreadsheet formula" in result.stderr
    assert "2 problems in bad.csv; nothing was written" in result.stderr
    assert counts(app) == (0, 0, 0, 0)


def test_cli_import_refuses_files_over_the_limit(app, runner, tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (1024 * 1024 + 1))
    result = runner.invoke(args=["import-questions", str(path)])
    assert result.exit_code == 1
    assert "a file may be at most 1 MiB" in result.stderr


def test_cli_import_shows_progress_on_large_files(app, runner, tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(big_csv(250))
    result = runner.invoke(args=["import-questions", str(path)])
    assert result.exit_code == 0, result.output
    assert "Importing" in result.stderr and "Importing" not in result.stdout
    assert counts(app) == (1, 1, 250, 1)
