"""Bank export (YAML, JSON, CSV) and round trips through import, Anki decks, and the CLI twin."""

from __future__ import annotations

import csv
import html
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
import yaml

from careerprep.banks import anki, csv_bank, formats, validate
from careerprep.extensions import db
from careerprep.models import Question, QuestionSet, Role
from tests.conftest import bank_dict, load_bank, make_user
from tests.transfer_support import (
    COLUMNS,
    apply_form,
    apply_form_from_raw,
    bank_snapshot,
    counts,
    preview,
    with_ids,
)


def empty_database(app) -> None:
    """Remove every question, set and role (audit rows stay: they are never deleted)."""
    with app.app_context():
        db.session.execute(db.delete(Question))
        db.session.execute(db.delete(QuestionSet))
        db.session.execute(db.delete(Role))
        db.session.commit()


def set_id(app, slug: str = "basics") -> int:
    with app.app_context():
        return db.session.scalar(db.select(QuestionSet.id).filter_by(slug=slug))


def tricky_bank(published: bool = True) -> dict:
    """A bank with Markdown lists, formula-looking text, quotes and non-ASCII, to stress the formats."""
    bank = bank_dict(n_questions=4, published=published)
    q = bank["sets"][0]["questions"]
    q[0]["answer"] = "- first item\n- second item\n\n```python\nx = 1  \n```"
    q[1]["prompt"] = "=SUM(A1:A2) is not a formula here, is it?"
    q[1]["key_points"] = ["-1 is an offset", "+1 too", "@mention | pipe"]
    q[2]["answer"] = 'Naïve “quotes”, commas, and "double quotes" — and a tab\there.'
    q[2]["tags"] = ["with space", "ünïcode"]
    q[3]["prompt"] = "'=already escaped?"
    return bank


# -- export and round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
def test_export_downloads_the_set(app, admin, fmt):
    load_bank(app, tricky_bank())
    response = admin.get(f"/admin/sets/{set_id(app)}/export.{fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f"attachment; filename=test-role--basics.{fmt}"
    assert (
        response.mimetype == {"yaml": "application/yaml", "json": "application/json", "csv": "text/csv"}[fmt]
    )
    assert formats.load(response.data, f"x.{fmt}")["sets"][0]["questions"][0]["key"] == "q-0"


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_yaml_and_json_exports_are_exactly_the_bank_format(app, admin, fmt):
    bank = tricky_bank(published=False)
    load_bank(app, bank)
    body = admin.get(f"/admin/sets/{set_id(app)}/export.{fmt}").get_data(as_text=True)
    data = yaml.safe_load(body) if fmt == "yaml" else json.loads(body)
    assert data == with_ids(validate(bank))  # every field, `published` included, and nothing else
    assert data["sets"][0]["published"] is False


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("csv", "text/csv; charset=utf-8"),
        ("yaml", "application/yaml; charset=utf-8"),
        ("json", "application/json; charset=utf-8"),
    ],
)
def test_downloads_name_their_charset_once(app, admin, fmt, content_type):
    load_bank(app)
    assert admin.get(f"/admin/sets/{set_id(app)}/export.{fmt}").headers["Content-Type"] == content_type


def test_csv_export_protects_formula_looking_cells(app, admin):
    load_bank(app, tricky_bank())
    body = admin.get(f"/admin/sets/{set_id(app)}/export.csv").data
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS + csv_bank.OPTIONAL_COLUMNS  # kind, language, code last
    assert rows[0]["answer"].startswith("'- first item")
    assert rows[1]["prompt"] == "'=SUM(A1:A2) is not a formula here, is it?"
    assert rows[1]["key_points"] == "'-1 is an offset\n+1 too\n@mention | pipe"
    assert rows[3]["prompt"] == "''=already escaped?"
    for row in rows:
        for column, cell in row.items():
            assert column == "difficulty" or not cell.startswith(csv_bank.FORMULA_PREFIXES), (column, cell)


@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
def test_round_trip_export_then_import(app, admin, fmt):
    load_bank(app, tricky_bank())
    stored = bank_snapshot(app)
    exported = admin.get(f"/admin/sets/{set_id(app)}/export.{fmt}").data
    # Into the same database: the dry run shows everything unchanged, and applying changes nothing.
    page = preview(admin, exported, f"export.{fmt}").get_data(as_text=True)
    assert '<td class="num" id="count-unchanged">4</td>' in page
    for kind in ("new", "changed", "missing", "new-sets"):
        assert f'<td class="num" id="count-{kind}">0</td>' in page
    assert "Nothing to change" in page and "Apply these changes" not in page
    response = admin.post("/admin/import/apply", data=apply_form_from_raw(exported, f"export.{fmt}"))
    assert response.status_code == 303
    assert bank_snapshot(app) == stored
    assert counts(app) == (1, 1, 4, 0)
    # Into an empty database: the same set, field by field.
    empty_database(app)
    page = preview(admin, exported, f"export.{fmt}").get_data(as_text=True)
    assert '<td class="num" id="count-new">4</td>' in page
    assert admin.post("/admin/import/apply", data=apply_form(page)).status_code == 303
    assert bank_snapshot(app) == stored


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip_keeps_an_unpublished_set_unpublished(app, admin, fmt):
    load_bank(app, tricky_bank(published=False))
    stored = bank_snapshot(app)
    exported = admin.get(f"/admin/sets/{set_id(app)}/export.{fmt}").data
    empty_database(app)
    page = preview(admin, exported, f"export.{fmt}").get_data(as_text=True)
    assert admin.post("/admin/import/apply", data=apply_form(page)).status_code == 303
    assert bank_snapshot(app) == stored


def test_round_trip_of_every_bundled_bank_in_every_format():
    from careerprep.banks import bundled_files, load_file
    from careerprep.banks.csv_bank import CSV_KINDS

    for path in bundled_files():
        bank = load_file(path)
        for fmt in ("yaml", "json", "csv"):
            back = formats.load(formats.dump(bank, fmt).encode(), f"{path.stem}.{fmt}")
            expected = bank
            if fmt == "csv":
                # CSV carries recall and read_output questions only (the export page says which it
                # leaves out), and has no published column: sets read from CSV are published.
                carried = [
                    {**s, "questions": [q for q in s["questions"] if q.get("kind", "recall") in CSV_KINDS]}
                    for s in bank["sets"]
                ]
                expected = {**bank, "sets": [s for s in carried if s["questions"]]}
                published = {s["slug"]: s["published"] for s in bank["sets"]}
                back = {**back, "sets": [{**s, "published": published[s["slug"]]} for s in back["sets"]]}
            assert back == expected, (path.name, fmt)


def test_export_leaves_archived_questions_out(app, admin):
    load_bank(app, n_questions=3)
    with app.app_context():
        db.session.scalar(db.select(Question).filter_by(key="q-1")).archived = True
        db.session.commit()
    data = yaml.safe_load(admin.get(f"/admin/sets/{set_id(app)}/export.yaml").data)
    assert [q["key"] for q in data["sets"][0]["questions"]] == ["q-0", "q-2"]


def test_csv_export_refuses_what_csv_cannot_hold(app, admin):
    bank = bank_dict(n_questions=2)
    bank["sets"][0]["questions"][1]["tags"] = ["a,b"]
    load_bank(app, bank)
    response = admin.get(f"/admin/sets/{set_id(app)}/export.csv")
    assert response.status_code == 422
    assert "basics/q-1: a tag contains a comma, which CSV cannot hold" in html.unescape(
        response.get_data(as_text=True)
    )


def test_export_of_unknown_formats_and_sets_is_404(app, admin):
    load_bank(app, n_questions=2)
    assert admin.get(f"/admin/sets/{set_id(app)}/export.xml").status_code == 404
    assert admin.get("/admin/sets/999/export.yaml").status_code == 404
    assert admin.get("/admin/roles/999/export.apkg").status_code == 404


def test_export_page_links_every_set_and_format(app, admin):
    load_bank(app, n_questions=2)
    load_bank(app, bank_dict(set_slug="drafts", published=False, n_questions=2))
    page = admin.get("/admin/export").get_data(as_text=True)
    basics, drafts = set_id(app), set_id(app, "drafts")
    for fmt in ("yaml", "json", "csv", "apkg"):
        assert f"/admin/sets/{basics}/export.{fmt}" in page
    for fmt in ("yaml", "json", "csv"):
        assert f"/admin/sets/{drafts}/export.{fmt}" in page
    assert f"/admin/sets/{drafts}/export.apkg" not in page  # unpublished: nothing to put in a deck
    assert "/admin/roles/" in page and "export.apkg" in page


# -- Anki --------------------------------------------------------------------------------------------


def read_apkg(data: bytes, tmp_path: Path) -> dict:
    """Notes, note-type ids, deck ids and deck names from an .apkg (a zip around a SQLite collection)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {"collection.anki2", "media"} <= set(archive.namelist())
        path = tmp_path / f"collection-{len(list(tmp_path.iterdir()))}.anki2"
        path.write_bytes(archive.read("collection.anki2"))
    conn = sqlite3.connect(path)
    try:
        notes = conn.execute("SELECT guid, mid, flds, tags FROM notes ORDER BY id").fetchall()
        cards = conn.execute("SELECT n.guid, c.did FROM cards c JOIN notes n ON n.id = c.nid").fetchall()
        decks = json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])
    finally:
        conn.close()
    return {
        "notes": [
            {"guid": g, "mid": m, "fields": f.split("\x1f"), "tags": t.split()} for g, m, f, t in notes
        ],
        "deck_of": dict(cards),
        "decks": {int(k): v["name"] for k, v in decks.items()},
    }


def test_set_deck_has_prompt_front_answer_and_key_points_back(app, admin, tmp_path):
    bank = bank_dict(n_questions=3)
    bank["sets"][0]["questions"][0]["prompt"] = "What is **a race**?"
    bank["sets"][0]["questions"][0]["answer"] = "Two threads <script>alert(1)</script> interleave."
    bank["sets"][0]["questions"][0]["tags"] = ["with space"]
    load_bank(app, bank)
    with app.app_context():
        db.session.scalar(db.select(Question).filter_by(key="q-2")).archived = True
        db.session.commit()
    response = admin.get(f"/admin/sets/{set_id(app)}/export.apkg")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=careerprep-test-role-basics.apkg"
    deck = read_apkg(response.data, tmp_path)
    with app.app_context():
        uids = dict(db.session.execute(db.select(Question.key, Question.uid)).all())
    # GUIDs come from the permanent ids; the archived q-2 comes last, tagged retired.
    assert [n["guid"] for n in deck["notes"]] == [anki.note_guid(uids[f"q-{i}"]) for i in range(3)]
    fields = dict(zip(anki.FIELDS, deck["notes"][0]["fields"], strict=True))
    assert "<strong>a race</strong>" in fields["Prompt"]
    assert "Two threads" in fields["Answer"] and "<script>" not in fields["Answer"]
    assert fields["Key points"] == "<ul><li>first point</li><li>second point</li><li>third point</li></ul>"
    assert (fields["Category"], fields["Difficulty"], fields["Id"]) == ("Alpha", "1", uids["q-0"])
    assert fields["Link"].startswith('<a href="http://localhost/questions/')
    assert sorted(deck["notes"][0]["tags"]) == [
        "CareerPrep::category::Alpha",
        "CareerPrep::difficulty::1",
        "CareerPrep::test-role::basics",
        "CareerPrep::topic::with_space",
    ]
    assert anki.RETIRED_TAG in deck["notes"][2]["tags"] and anki.RETIRED_TAG not in deck["notes"][1]["tags"]
    assert set(deck["deck_of"].values()) == {anki.deck_id("test-role", "basics")}
    assert deck["decks"][anki.deck_id("test-role", "basics")] == "CareerPrep::Role test-role::Set basics"


def test_deck_ids_and_guids_are_stable_across_exports(app, admin, tmp_path):
    load_bank(app, n_questions=3)
    first = read_apkg(admin.get(f"/admin/sets/{set_id(app)}/export.apkg").data, tmp_path)
    load_bank(
        app,
        {**bank_dict(n_questions=3), "sets": [{**bank_dict(n_questions=3)["sets"][0], "title": "Renamed"}]},
    )
    second = read_apkg(admin.get(f"/admin/sets/{set_id(app)}/export.apkg").data, tmp_path)
    assert [n["guid"] for n in first["notes"]] == [n["guid"] for n in second["notes"]]
    assert {n["mid"] for n in first["notes"]} == {n["mid"] for n in second["notes"]} == {anki.MODEL.model_id}
    assert first["deck_of"] == second["deck_of"]


def test_role_deck_holds_every_published_set(app, admin, tmp_path):
    load_bank(app, n_questions=2)
    load_bank(app, bank_dict(set_slug="more", n_questions=2))
    load_bank(app, bank_dict(set_slug="drafts", n_questions=2, published=False))
    with app.app_context():
        role_id = db.session.scalar(db.select(Role.id))
    response = admin.get(f"/admin/roles/{role_id}/export.apkg")
    assert response.status_code == 200
    deck = read_apkg(response.data, tmp_path)
    assert len(deck["notes"]) == 4
    assert set(deck["deck_of"].values()) == {
        anki.deck_id("test-role", "basics"),
        anki.deck_id("test-role", "more"),
    }
    single = read_apkg(admin.get(f"/admin/sets/{set_id(app, 'more')}/export.apkg").data, tmp_path)
    assert set(single["deck_of"].items()) <= set(deck["deck_of"].items())  # same GUIDs, same deck ids
    assert admin.get(f"/admin/sets/{set_id(app, 'drafts')}/export.apkg").status_code == 404


def test_learners_download_a_published_role_deck(app, client, auth, tmp_path):
    load_bank(app, n_questions=3)
    load_bank(app, bank_dict(role_slug="hidden", published=False))
    anonymous = client.get("/roles/test-role/anki.apkg")
    assert anonymous.status_code in (302, 303) and "/auth/login" in anonymous.headers["Location"]
    learner = make_user(app)
    auth.login(learner.email)
    response = client.get("/roles/test-role/anki.apkg")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=careerprep-test-role.apkg"
    assert len(read_apkg(response.data, tmp_path)["notes"]) == 3
    assert client.get("/roles/hidden/anki.apkg").status_code == 404
    assert client.get("/roles/nope/anki.apkg").status_code == 404


# -- command line --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
def test_cli_export_writes_the_set_to_stdout(app, runner, fmt):
    load_bank(app, tricky_bank())
    result = runner.invoke(args=["export-questions", "basics", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    with app.app_context():
        expected = formats.dump(formats.set_bank(db.session.get(QuestionSet, set_id(app))), fmt)
    assert result.stdout_bytes == expected.encode()
    assert formats.load(result.stdout_bytes, f"x.{fmt}")["sets"][0]["questions"][1]["prompt"].startswith(
        "=SUM"
    )


def test_cli_export_to_a_file_and_as_a_deck(app, runner, tmp_path):
    load_bank(app, n_questions=3)
    out = tmp_path / "basics.json"
    result = runner.invoke(args=["export-questions", "test-role/basics", "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["sets"][0]["slug"] == "basics"
    result = runner.invoke(args=["export-questions", "basics", "--format", "apkg"])
    assert result.exit_code == 2 and "--output PATH is required" in result.stderr
    deck = tmp_path / "basics.apkg"
    result = runner.invoke(args=["export-questions", "basics", "--format", "apkg", "--output", str(deck)])
    assert result.exit_code == 0, result.output
    assert "Wrote 3 questions of test-role/basics" in result.stderr
    assert len(read_apkg(deck.read_bytes(), tmp_path)["notes"]) == 3


def test_cli_export_shows_progress_on_stderr_only(app, runner):
    load_bank(app, n_questions=201)
    result = runner.invoke(args=["export-questions", "basics", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "Exporting" in result.stderr
    assert result.stdout_bytes.decode("utf-8-sig").startswith(",".join(COLUMNS))


def test_cli_export_names_ambiguous_and_unknown_sets(app, runner):
    load_bank(app, n_questions=2)
    load_bank(app, bank_dict(role_slug="other-role", n_questions=2))
    result = runner.invoke(args=["export-questions", "basics"])
    assert result.exit_code == 1
    assert "set slug 'basics' is in several roles (other-role/basics, test-role/basics); pass ROLE/SET" in (
        result.stderr
    )
    result = runner.invoke(args=["export-questions", "other-role/basics"])
    assert result.exit_code == 0 and b"slug: other-role" in result.stdout_bytes
    result = runner.invoke(args=["export-questions", "nope"])
    assert result.exit_code == 1 and "no question set 'nope'" in result.stderr


def test_cli_exports_a_whole_role_that_imports_back_unchanged(app, runner, tmp_path):
    load_bank(app, n_questions=2)
    load_bank(app, bank_dict(set_slug="more", n_questions=3))
    result = runner.invoke(args=["export-questions", "--role", "test-role", "--format", "yaml"])
    assert result.exit_code == 0, result.output
    bank = formats.load(result.output, "role.yaml")
    assert [(s["slug"], len(s["questions"])) for s in bank["sets"]] == [("basics", 2), ("more", 3)]
    path = tmp_path / "role.yaml"
    path.write_text(result.output, encoding="utf-8")
    again = runner.invoke(args=["import-questions", str(path)])
    assert "Nothing to import." in again.output


def test_cli_exports_the_catalogue_one_file_per_role(app, runner, tmp_path):
    load_bank(app, n_questions=2)
    load_bank(app, bank_dict(role_slug="second-role", n_questions=3))
    result = runner.invoke(
        args=["export-questions", "--all", "--format", "json", "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["second-role.json", "test-role.json"]
    assert "Wrote 2 roles (5 questions)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["basics", "--role", "test-role"], "give one of SET_SLUG, --role ROLE or --all"),
        (["--all"], "--output is required for --all"),
        (
            ["--role", "test-role", "--with-progress", "a@example.com"],
            "--with-progress goes with --format apkg",
        ),
    ],
)
def test_cli_export_refuses_unclear_requests(app, runner, args, message):
    load_bank(app, n_questions=1)
    result = runner.invoke(args=["export-questions", *args])
    assert result.exit_code != 0 and message in result.output
