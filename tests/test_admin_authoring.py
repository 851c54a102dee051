"""Admin authoring: roles, sets, questions, preview, search, reports; every change audited."""

from __future__ import annotations

import pytest

from careerprep.extensions import db
from careerprep.models import AuditLog, CardState, Question, QuestionSet, Report, Review, Role
from tests.conftest import PASSWORD, bank_dict, card_state, load_bank, rating_token, reveal_url

QUESTION = {
    "key": "new-q",
    "prompt": "What is a **mutex**?",
    "answer": "A lock that one thread holds at a time.",
    "key_points": "Mutual exclusion\nOwner releases it\nBlocks other threads",
    "category": "Alpha",
    "difficulty": "2",
    "tags": "locks, concurrency",
}


def audit_actions(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(db.select(AuditLog.action).order_by(AuditLog.id)).all()


def ids(app) -> dict:
    with app.app_context():
        role = db.session.scalar(db.select(Role))
        qset = db.session.scalar(db.select(QuestionSet))
        return {
            "role": role.id,
            "set": qset.id,
            "q": {q.key: q.id for q in db.session.scalars(db.select(Question))},
        }


# -- roles and sets ------------------------------------------------------------------------------------


def test_create_edit_and_archive_a_role(app, admin):
    response = admin.post(
        "/admin/roles/new", data={"slug": "ml-engineer", "title": "ML Engineer", "summary": "Models."}
    )
    assert response.status_code == 303
    with app.app_context():
        role = db.session.scalar(db.select(Role).filter_by(slug="ml-engineer"))
    assert (
        admin.post(
            f"/admin/roles/{role.id}/edit",
            data={"slug": "ml-engineer", "title": "Machine Learning Engineer", "summary": "Models."},
        ).status_code
        == 303
    )
    assert admin.post(f"/admin/roles/{role.id}/archive", data={"action": "archive"}).status_code == 303
    assert audit_actions(app) == ["role.create", "role.edit", "role.archive"]
    with app.app_context():
        entry = db.session.scalar(db.select(AuditLog).filter_by(action="role.edit"))
        assert entry.details["changed"]["title"] == ["ML Engineer", "Machine Learning Engineer"]
        assert entry.actor.endswith("@example.com") and entry.object_type == "role"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"slug": "Bad Slug", "title": "X"}, "Use lowercase letters, digits and hyphens."),
        ({"slug": "", "title": "X"}, "This field is required."),
        ({"slug": "test-role", "title": "X"}, "Another role already uses this slug."),
        ({"slug": "ok", "title": ""}, "This field is required."),
    ],
)
def test_invalid_role_forms_are_refused_beside_the_field(app, admin, form, message):
    load_bank(app)
    response = admin.post("/admin/roles/new", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'class="field-error"' in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Role.id))) == 1
    assert audit_actions(app) == []


def test_archived_role_disappears_for_learners_and_keeps_progress(app, admin, logged_in, user):
    load_bank(app)
    with app.app_context():
        db.session.add(card_state(user.id, ids(app)["q"]["q-0"]))
        db.session.commit()
    admin.post(f"/admin/roles/{ids(app)['role']}/archive", data={"action": "archive"})
    learner = app.test_client()
    learner.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert learner.get("/roles/test-role").status_code == 404
    assert "Role test-role" not in learner.get("/roles").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CardState.id))) == 1
    admin.post(f"/admin/roles/{ids(app)['role']}/archive", data={"action": "restore"})
    assert learner.get("/roles/test-role").status_code == 200


def test_sets_create_publish_unpublish_archive(app, admin, user):
    load_bank(app)
    role_id = ids(app)["role"]
    assert (
        admin.post(f"/admin/roles/{role_id}/sets/new", data={"slug": "extra", "title": "Extra"}).status_code
        == 303
    )
    dup = admin.post(f"/admin/roles/{role_id}/sets/new", data={"slug": "extra", "title": "Again"})
    assert dup.status_code == 422 and "This role already has a set with this slug." in dup.get_data(
        as_text=True
    )
    with app.app_context():
        extra = db.session.scalar(db.select(QuestionSet).filter_by(slug="extra"))
        assert extra.published is False  # new sets start unpublished
    set_id = ids(app)["set"]
    learner = app.test_client()
    learner.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert admin.post(f"/admin/sets/{set_id}/publish", data={"action": "unpublish"}).status_code == 303
    assert learner.get("/roles/test-role").status_code == 404  # its only published set is hidden
    assert admin.post(f"/admin/sets/{set_id}/publish", data={"action": "publish"}).status_code == 303
    assert learner.get("/roles/test-role").status_code == 200
    assert admin.post(f"/admin/sets/{set_id}/publish", data={"action": "explode"}).status_code == 400
    admin.post(f"/admin/sets/{set_id}/archive", data={"action": "archive"})
    assert learner.get("/roles/test-role").status_code == 404
    assert audit_actions(app) == ["set.create", "set.unpublish", "set.publish", "set.archive"]


# -- questions -------------------------------------------------------------------------------------------


def test_create_a_question(app, admin):
    load_bank(app, n_questions=2)
    set_id = ids(app)["set"]
    page = admin.get(f"/admin/sets/{set_id}/questions/new").get_data(as_text=True)
    assert '<datalist id="category-suggestions">' in page and '<option value="Alpha">' in page
    assert admin.post(f"/admin/sets/{set_id}/questions/new", data=QUESTION).status_code == 303
    with app.app_context():
        q = db.session.scalar(db.select(Question).filter_by(key="new-q"))
        assert q.key_points == ["Mutual exclusion", "Owner releases it", "Blocks other threads"]
        assert q.tags == ["locks", "concurrency"] and q.difficulty == 2 and q.position == 2
    assert audit_actions(app) == ["question.create"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"key_points": "only one"}, "Give 3 to 6 key points, one per line (you have 1)."),
        ({"key_points": "\n".join("p" + str(i) for i in range(7))}, "you have 7"),
        ({"tags": "Bad Tag"}, "Tags use lowercase letters, digits and hyphens: bad tag."),
        ({"key": "q-0"}, "This set already has a question with this key."),
        ({"difficulty": "4"}, "Not a valid choice"),
        ({"prompt": ""}, "This field is required."),
    ],
)
def test_invalid_questions_are_refused_beside_the_field(app, admin, override, message):
    load_bank(app, n_questions=2)
    response = admin.post(f"/admin/sets/{ids(app)['set']}/questions/new", data={**QUESTION, **override})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Question.id))) == 2


def test_editing_keeps_progress_and_records_the_fields(app, admin, user):
    load_bank(app, n_questions=2)
    qid = ids(app)["q"]["q-0"]
    with app.app_context():
        db.session.add(card_state(user.id, qid, reps=4))
        db.session.commit()
    page = admin.get(f"/admin/questions/{qid}/edit").get_data(as_text=True)
    assert "first point\nsecond point\nthird point" in page
    data = {**QUESTION, "key": "q-0", "answer": "A clearer answer."}
    assert admin.post(f"/admin/questions/{qid}/edit", data=data).status_code == 303
    assert "learners keep their progress on it" in admin.get(f"/admin/questions/{qid}/edit").get_data(
        as_text=True
    )
    with app.app_context():
        q = db.session.get(Question, qid)
        assert q.answer == "A clearer answer." and q.id == qid
        assert db.session.scalar(db.select(CardState.reps).filter_by(question_id=qid)) == 4
        entry = db.session.scalar(db.select(AuditLog))
        assert entry.action == "question.edit" and "answer" in entry.details["fields"]


def test_archiving_hides_a_question_and_keeps_history(app, admin, user):
    load_bank(app, n_questions=1)
    learner = app.test_client()
    learner.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    front = learner.get("/roles/test-role/drill").get_data(as_text=True)
    back = learner.get(reveal_url(front)).get_data(as_text=True)
    learner.post("/roles/test-role/drill", data={"token": rating_token(back), "rating": "4"})
    qid = ids(app)["q"]["q-0"]
    assert admin.post(f"/admin/questions/{qid}/delete").status_code == 303
    with app.app_context():
        assert db.session.get(Question, qid) is not None  # reviewed: never hard-deleted
    assert admin.post(f"/admin/questions/{qid}/archive", data={"action": "archive"}).status_code == 303
    with app.app_context():
        assert db.session.get(Question, qid).archived
        assert db.session.scalar(db.select(db.func.count(Review.id))) == 1
    assert "Done for now" in learner.get("/roles/test-role/drill").get_data(as_text=True)
    history = learner.get(f"/questions/{qid}/history").get_data(as_text=True)
    assert ">Easy<" in history  # the learner's history is kept


def test_unused_question_can_be_deleted(app, admin):
    load_bank(app, n_questions=2)
    qid = ids(app)["q"]["q-1"]
    assert admin.post(f"/admin/questions/{qid}/delete").status_code == 303
    with app.app_context():
        assert db.session.get(Question, qid) is None
    assert audit_actions(app) == ["question.delete"]


def test_the_editor_offers_every_kind_and_starts_with_recall(app, admin):
    load_bank(app, n_questions=1)
    page = admin.get(f"/admin/sets/{ids(app)['set']}/questions/new").get_data(as_text=True)
    assert '<option selected value="recall">' in page
    for kind in ("predict", "spot_bug", "write_code", "read_output", "design"):
        assert f'<option value="{kind}">' in page
    assert 'id="code"' not in page and 'id="card-preview"' in page  # a recall card has no exercise fields


def test_preview_renders_the_named_field_sanitised(app, admin):
    data = {"field": "answer", "prompt": "the prompt", "answer": "**bold** <script>alert(1)</script>"}
    response = admin.post("/admin/preview", data=data, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<strong>bold</strong>" in html and "<script>" not in html and "the prompt" not in html
    prompt = admin.post("/admin/preview", data={**data, "field": "prompt"}).get_data(as_text=True)
    assert "the prompt" in prompt and "bold" not in prompt


# -- search ------------------------------------------------------------------------------------------------


def test_search_and_filter_questions(app, admin):
    load_bank(app, n_questions=30, categories=("Alpha", "Beta"))
    load_bank(app, bank_dict(role_slug="other-role", n_questions=3))
    page = admin.get("/admin/questions").get_data(as_text=True)
    assert "33 questions found; page 1 of 2." in page
    assert "Question number 7?" in admin.get("/admin/questions?q=number+7%3F").get_data(as_text=True)
    assert "1 question found" in admin.get("/admin/questions?q=number+7%3F").get_data(as_text=True)
    other = ids(app)  # first role
    assert "30 questions found" in admin.get(f"/admin/questions?role={other['role']}").get_data(as_text=True)
    assert "15 questions found" in admin.get(f"/admin/questions?role={other['role']}&category=Beta").get_data(
        as_text=True
    )
    assert "11 questions found" in admin.get("/admin/questions?difficulty=1").get_data(as_text=True)
    assert "0 questions found" in admin.get("/admin/questions?q=100%25").get_data(as_text=True)  # % literal
    fragment = admin.get("/admin/questions?q=number", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "HX-Request" in fragment.headers["Vary"]
    second = admin.get("/admin/questions?page=2").get_data(as_text=True)
    assert "page 2 of 2" in second


def test_archived_filter(app, admin):
    load_bank(app, n_questions=3)
    qid = ids(app)["q"]["q-0"]
    admin.post(f"/admin/questions/{qid}/archive", data={"action": "archive"})
    assert "2 questions found" in admin.get("/admin/questions").get_data(as_text=True)
    assert "1 question found" in admin.get("/admin/questions?archived=only").get_data(as_text=True)
    assert "3 questions found" in admin.get("/admin/questions?archived=all").get_data(as_text=True)


# -- reports ------------------------------------------------------------------------------------------------


def test_learner_reports_a_question_and_admin_resolves_it(app, admin, user):
    load_bank(app, n_questions=2)
    learner = app.test_client()
    learner.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    card = learner.get("/roles/test-role/drill").get_data(as_text=True)
    assert "Report a problem" in card
    qid = ids(app)["q"]["q-0"]
    assert learner.get(f"/questions/{qid}/report").status_code == 200
    bad = learner.post(f"/questions/{qid}/report", data={"reason": "boring"})
    assert bad.status_code == 422
    for comment in ("Step 3 is wrong", "Step 3 is wrong, see the man page"):
        response = learner.post(
            f"/questions/{qid}/report",
            data={"reason": "wrong", "comment": comment, "next": "/roles/test-role/drill"},
        )
        assert response.status_code == 303 and response.headers["Location"] == "/roles/test-role/drill"
    with app.app_context():
        reports = db.session.scalars(db.select(Report)).all()
        assert len(reports) == 1 and reports[0].comment == "Step 3 is wrong, see the man page"
        report_id = reports[0].id
    queue = admin.get("/admin/reports").get_data(as_text=True)
    assert "The answer is wrong" in queue and "see the man page" in queue
    assert (
        admin.post(f"/admin/reports/{report_id}", data={"action": "resolve", "note": "Fixed."}).status_code
        == 303
    )
    assert admin.post(f"/admin/reports/{report_id}", data={"action": "dismiss"}).status_code == 303  # no-op
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert (report.status, report.resolution_note) == ("resolved", "Fixed.")
    assert audit_actions(app) == ["report.resolve"]
    assert "No open reports." in admin.get("/admin/reports").get_data(as_text=True)
    assert "Fixed." in admin.get("/admin/reports?status=resolved").get_data(as_text=True)
    assert admin.post(f"/admin/reports/{report_id}", data={"action": "explode"}).status_code == 400


def test_reporting_needs_a_visible_question_and_a_login(app, logged_in):
    load_bank(app, role_slug="hidden-role", published=False)
    qid = ids(app)["q"]["q-0"]
    assert logged_in.get(f"/questions/{qid}/report").status_code == 404
    assert app.test_client().get(f"/questions/{qid}/report").status_code == 303


def test_audit_rows_cannot_be_edited(app, admin):
    load_bank(app)
    admin.post(f"/admin/sets/{ids(app)['set']}/publish", data={"action": "unpublish"})
    with app.app_context():
        entry = db.session.scalar(db.select(AuditLog))
        entry.summary = "rewritten"
        with pytest.raises(RuntimeError, match="cannot be edited"):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(RuntimeError, match="cannot be deleted"):
            db.session.delete(db.session.scalar(db.select(AuditLog)))
            db.session.commit()
        db.session.rollback()


def test_bulk_statements_cannot_rewrite_the_audit_log(app, admin):
    load_bank(app)
    admin.post(f"/admin/sets/{ids(app)['set']}/publish", data={"action": "unpublish"})
    with app.app_context():
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.execute(db.update(AuditLog).values(summary="rewritten"))
        db.session.rollback()
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.execute(db.delete(AuditLog))
        db.session.rollback()
        assert db.session.scalar(db.select(AuditLog.summary)).startswith("Unpublished")


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("Nested::Deck", "cannot contain &#39;::&#39;"),
        ("set more", "already has a set with this title"),
    ],
)
def test_set_titles_that_would_break_anki_decks_are_refused(app, admin, title, message):
    load_bank(app, n_questions=1)
    load_bank(app, bank_dict(set_slug="more", n_questions=1))
    set_id = ids(app)["set"]
    form = {"slug": "basics", "title": title, "description": "", "published": "y"}
    response = admin.post(f"/admin/sets/{set_id}/edit", data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
