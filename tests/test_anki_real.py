"""CareerPrep's decks in the real Anki (the `anki` package, a dev dependency): imported into a fresh
collection, re-imported after edits in the app, with a learner's progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest, ImportCsvRequest
from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition

from careerprep.banks import anki
from careerprep.extensions import db
from careerprep.models import Question, QuestionSet
from tests.conftest import bank_dict, card_state, load_bank, make_user
from tests.helpers import review_row
from tests.test_admin_authoring import QUESTION

IF_NEWER = ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER


@pytest.fixture
def collection(tmp_path):
    col = Collection(str(tmp_path / "collection.anki2"))
    yield col
    col.close()


def import_deck(col: Collection, data: bytes, path: Path):
    """Import an .apkg as Anki's File → Import does (scheduling included, notes updated if newer)."""
    path.write_bytes(data)
    options = ImportAnkiPackageOptions(
        with_scheduling=True, update_notes=IF_NEWER, update_notetypes=IF_NEWER, with_deck_configs=False
    )
    return col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=options)).log


def two_sets(app) -> None:
    """A role with two published sets of three questions, Markdown in a key point."""
    bank = bank_dict(n_questions=3)
    bank["sets"][0]["questions"][0]["key_points"][0] = "uses `mmap`"
    load_bank(app, bank)
    load_bank(app, bank_dict(set_slug="more", n_questions=3))
    with app.app_context():  # written an hour ago: Anki's note times count whole seconds
        db.session.execute(db.update(Question).values(updated_at=datetime.now(UTC) - timedelta(hours=1)))
        db.session.commit()


def role_bytes(admin) -> bytes:
    response = admin.get("/roles/test-role/anki.apkg")
    assert response.status_code == 200
    return response.data


def note_by_id(col: Collection, uid: str):
    (nid,) = col.find_notes(f'"Id:{uid}"')
    return col.get_note(nid)


def test_a_role_deck_imports_with_its_fields_tags_and_decks(app, admin, collection, tmp_path):
    two_sets(app)
    log = import_deck(collection, role_bytes(admin), tmp_path / "role.apkg")
    assert len(log.new) == 6 and collection.note_count() == 6
    with app.app_context():
        question = db.session.scalar(db.select(Question).filter_by(key="q-0").order_by(Question.id))
        uid = question.uid
    note = note_by_id(collection, uid)
    assert list(note.keys()) == list(anki.FIELDS)
    assert note["Key points"].startswith("<ul><li>uses <code>mmap</code></li>")  # Markdown, rendered
    assert (note["Category"], note["Difficulty"], note["Id"]) == ("Alpha", "1", uid)
    assert "CareerPrep::test-role::basics" in note.tags and "CareerPrep::difficulty::1" in note.tags
    names = {d.name for d in collection.decks.all_names_and_ids()}
    assert {"CareerPrep::Role test-role::Set basics", "CareerPrep::Role test-role::Set more"} <= names
    # The same deck again changes nothing: every note's time is its question's, not the export's.
    again = import_deck(collection, role_bytes(admin), tmp_path / "again.apkg")
    assert (len(again.new), len(again.updated)) == (0, 0) and collection.note_count() == 6


def test_edits_in_the_app_update_notes_and_keep_history_and_styling(app, admin, collection, tmp_path):
    two_sets(app)
    import_deck(collection, role_bytes(admin), tmp_path / "first.apkg")
    # The user studies in Anki and restyles the note type.
    collection.decks.select(collection.decks.id_for_name("CareerPrep"))
    card = collection.sched.getCard()
    card.start_timer()
    collection.sched.answerCard(card, 3)
    reviewed = card.nid
    model = collection.models.by_name(anki.MODEL.name)
    model["css"] += "\n.card { color: purple; } /* mine */"
    collection.models.update_dict(model)
    uid = collection.get_note(reviewed)["Id"]
    # In the app: a new key and answer for that question, a new slug for its set.
    with app.app_context():
        question = db.session.scalar(db.select(Question).filter_by(uid=uid))
        qid, set_id = question.id, question.set_id
        qset = db.session.get(QuestionSet, set_id)
        set_form = {"slug": "renamed-set", "title": qset.title, "description": "", "published": "y"}
    data = {**QUESTION, "key": "a-new-key", "answer": "A better answer.", "key_points": "one\ntwo\nthree"}
    assert admin.post(f"/admin/questions/{qid}/edit", data=data).status_code == 303
    assert admin.post(f"/admin/sets/{set_id}/edit", data=set_form).status_code == 303
    log = import_deck(collection, role_bytes(admin), tmp_path / "second.apkg")
    assert (len(log.new), len(log.updated)) == (0, 1)  # updated, never duplicated
    assert collection.note_count() == 6
    note = collection.get_note(reviewed)
    assert "A better answer." in note["Answer"] and note["Id"] == uid
    assert (
        collection.db.scalar(
            "select count() from revlog where cid in (select id from cards where nid=?)", reviewed
        )
        == 1
    )
    assert "/* mine */" in collection.models.by_name(anki.MODEL.name)["css"]


def test_the_progress_deck_carries_due_dates_and_review_counts(app, client, auth, collection, tmp_path):
    two_sets(app)
    learner = make_user(app)
    now = datetime.now(UTC)
    with app.app_context():
        qids = dict(db.session.execute(db.select(Question.uid, Question.id).order_by(Question.id)).all())
        (review_uid, review_qid), (learn_uid, learn_qid) = list(qids.items())[:2]
        db.session.add(
            card_state(
                learner.id,
                review_qid,
                reps=3,
                lapses=1,
                due=now + timedelta(days=9),
                last_review=now - timedelta(days=2),
                stability=11.5,
                difficulty=6.25,
            )
        )
        db.session.add(
            card_state(
                learner.id,
                learn_qid,
                state=1,
                step=0,
                reps=1,
                due=now + timedelta(minutes=10),
                last_review=now,
                stability=0.4,
                difficulty=7.0,
            )
        )
        for days, rating, prev in ((12, 3, 0), (7, 1, 2), (2, 3, 3)):
            db.session.add(
                review_row(learner.id, review_qid, now - timedelta(days=days), rating=rating, prev_state=prev)
            )
        db.session.add(review_row(learner.id, learn_qid, now, rating=1, state=1, interval_seconds=600))
        db.session.commit()
    auth.login(learner.email)
    response = client.get("/roles/test-role/anki.apkg?progress=1")
    assert response.headers["Content-Disposition"].endswith("careerprep-test-role-progress.apkg")
    import_deck(collection, response.data, tmp_path / "progress.apkg")
    review = collection.get_card(note_by_id(collection, review_uid).card_ids()[0])
    assert (review.type, review.queue, review.reps, review.lapses) == (2, 2, 3, 1)
    assert (
        abs((review.due - collection.sched.today) - 9) <= 1
    )  # due in nine days, give or take the day boundary
    assert review.memory_state is not None and abs(review.memory_state.stability - 11.5) < 0.01
    assert collection.db.scalar("select count() from revlog where cid = ?", review.id) == 3
    assert collection.db.list("select type from revlog where cid = ? order by id", review.id) == [0, 1, 2]
    learning = collection.get_card(note_by_id(collection, learn_uid).card_ids()[0])
    assert learning.queue == 1 and abs(learning.due - (now + timedelta(minutes=10)).timestamp()) < 5
    assert collection.db.scalar("select count() from revlog where cid = ?", learning.id) == 1
    # Questions the learner never saw are new cards.
    assert collection.db.scalar("select count() from cards where type = 0") == 4


def test_the_cli_exports_the_whole_catalogue_with_progress_into_one_deck(app, runner, collection, tmp_path):
    two_sets(app)
    load_bank(app, bank_dict(role_slug="second-role", n_questions=4))
    learner = make_user(app)
    with app.app_context():
        qid = db.session.scalar(db.select(Question.id).order_by(Question.id))
        db.session.add(card_state(learner.id, qid))
        db.session.add(review_row(learner.id, qid, datetime.now(UTC) - timedelta(days=1)))
        db.session.commit()
    path = tmp_path / "all.apkg"
    result = runner.invoke(
        args=[
            "export-questions",
            "--all",
            "--format",
            "apkg",
            "-o",
            str(path),
            "--with-progress",
            learner.email,
        ]
    )
    assert result.exit_code == 0, result.output
    log = import_deck(collection, path.read_bytes(), path)
    assert len(log.new) == 10 and collection.note_count() == 10
    names = {d.name for d in collection.decks.all_names_and_ids()}
    assert {"CareerPrep::Role test-role::Set more", "CareerPrep::Role second-role::Set basics"} <= names
    assert collection.db.scalar("select count() from revlog") == 1


def test_the_anki_ready_tsv_imports_through_ankis_text_importer(app, runner, collection, tmp_path):
    two_sets(app)
    result = runner.invoke(args=["export-questions", "--role", "test-role", "--format", "anki-tsv"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("#separator:tab\n#html:true\n#notetype:Basic\n#guid column:1\n")
    path = tmp_path / "role.tsv"
    path.write_text(result.output, encoding="utf-8")
    metadata = collection.get_csv_metadata(path=str(path), delimiter=None)
    collection.import_csv(ImportCsvRequest(path=str(path), metadata=metadata))
    assert collection.note_count() == 6
    with app.app_context():
        uid = db.session.scalar(db.select(Question.uid).order_by(Question.id))
    note = collection.get_note(
        collection.db.scalar("select id from notes where guid = ?", anki.note_guid(uid))
    )
    assert "<code>mmap</code>" in note["Back"] and "CareerPrep::test-role::basics" in note.tags
    assert collection.decks.name(collection.get_card(note.card_ids()[0]).did).endswith("Set basics")
    # Importing a newer file again updates the same notes.
    collection.import_csv(ImportCsvRequest(path=str(path), metadata=metadata))
    assert collection.note_count() == 6
