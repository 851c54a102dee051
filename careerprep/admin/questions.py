"""Authoring questions: the editor with its live preview, search across sets, archive and delete."""

from __future__ import annotations

from flask import Response, flash, make_response, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import false, func, or_, true

from .. import audit
from ..banks.importing import new_uid
from ..banks.kinds import columns
from ..banks.rules import MAX_TEXT
from ..extensions import db
from ..htmx import redirect_to, render
from ..models import CardState, MockItem, Question, QuestionSet, Report, Review, Role, utc_now
from ..templating import render_markdown
from ..web import int_id, paginate, query_args
from .blueprint import bp
from .editing import apply_changes, set_archived, taken
from .forms import QuestionForm
from .question_kinds import check_question, preview_card

PER_PAGE = 25
QUESTION_FILTERS = ("q", "role", "category", "difficulty", "archived")


# -- questions ----------------------------------------------------------------------------------------------


def _suggestions() -> dict:
    """Existing categories and tags, offered as suggestions in the editor."""
    categories = db.session.scalars(db.select(Question.category).distinct().order_by(Question.category)).all()
    tags = sorted({t for tags in db.session.scalars(db.select(Question.tags)) for t in (tags or [])})
    return {"categories": categories, "tags": tags}


def _key_taken(set_id: int, key: str, except_id: int | None = None) -> bool:
    return taken(Question, except_id, Question.set_id == set_id, Question.key == key)


def _to_save(form: QuestionForm, set_id: int, question: Question | None = None) -> dict | None:
    """The columns to store when the form was sent to save and passes every rule (the form's and the
    bank validator's); otherwise None, with each problem beside its field."""
    if not form.is_submitted() or form.refreshing:
        return None
    valid = form.validate()
    clean = check_question(form, question.exercise if question else None)
    if not (valid and clean):
        return None
    if _key_taken(set_id, clean["key"], except_id=question.id if question else None):
        form.key.errors.append("This set already has a question with this key.")
        return None
    return {
        **{name: clean[name] for name in ("key", "prompt", "answer", "key_points", "category", "difficulty")},
        "tags": clean["tags"],
        **columns(clean),
    }


def _history(question: Question) -> dict:
    """What the edit page says about a question's use: its reviews and the reports on it."""
    return {
        "reviews": db.session.scalar(db.select(func.count(Review.id)).filter_by(question_id=question.id)),
        "reports": db.session.scalars(
            db.select(Report).filter_by(question_id=question.id).order_by(Report.created_at.desc())
        ).all(),
    }


def _editor(form: QuestionForm, qset: QuestionSet, question: Question | None = None) -> Response:
    """The editor page, or for htmx only the editor (form and preview): 422 when a save was refused."""
    status = 422 if form.is_submitted() and not form.refreshing else 200
    return render(
        "admin/question_form.html",
        "admin/_question_editor.html",
        status,
        page_context=(lambda: _history(question)) if question else None,
        form=form,
        qset=qset,
        question=question,
        card=preview_card(form),
        **_suggestions(),
    )


@bp.route("/sets/<int:set_id>/questions/new", methods=["GET", "POST"])
def question_new(set_id: int) -> Response:
    """Write a new question of any kind (`refresh` only shows a kind's fields or the preview)."""
    qset = db.get_or_404(QuestionSet, set_id)
    form = QuestionForm()
    values = _to_save(form, qset.id)
    if values is not None:
        position = db.session.scalar(
            db.select(func.coalesce(func.max(Question.position), -1) + 1).filter_by(set_id=qset.id)
        )
        uid = new_uid(db.session, qset.role.slug, qset.slug, values["key"])
        question = Question(set_id=qset.id, position=position, uid=uid, **values)
        db.session.add(question)
        db.session.flush()
        audit.record("question.create", question, f"Created question {question.key} in {qset.title}")
        db.session.commit()
        flash("Question added.", "success")
        return redirect_to(url_for("admin.set_edit", set_id=qset.id))
    return _editor(form, qset)


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
def question_edit(question_id: int) -> Response:
    """Edit a question in place: its id stays, so everyone's progress on it is kept."""
    question = db.get_or_404(Question, question_id)
    # A POST is read from the request alone: a field left out counts as empty, never as the stored
    # value (which is a list for key points and tags, not the text the form edits).
    form = QuestionForm() if request.method == "POST" else QuestionForm(data=QuestionForm.data_for(question))
    values = _to_save(form, question.set_id, question)
    if values is not None:
        changed = apply_changes(question, values)
        if changed:
            question.updated_at = utc_now()  # an Anki re-import updates this note, and only this one
            audit.record("question.edit", question, f"Edited question {question.key}", fields=sorted(changed))
        db.session.commit()
        flash(
            "Question saved; learners keep their progress on it." if changed else "No changes to save.",
            "success" if changed else "info",
        )
        return redirect_to(url_for("admin.question_edit", question_id=question.id))
    return _editor(form, question.question_set, question)


@bp.post("/questions/<int:question_id>/archive")
def question_archive(question_id: int) -> Response:
    """Archive a question (hidden from learners; everyone's history kept) or restore it."""
    question = db.get_or_404(Question, question_id)
    return set_archived(
        question, "question", question.key, url_for("admin.question_edit", question_id=question.id)
    )


@bp.post("/questions/<int:question_id>/delete")
def question_delete(question_id: int) -> Response:
    """Delete a question nobody has studied; one with any history can only be archived."""
    question = db.get_or_404(Question, question_id)
    used = any(
        db.session.scalar(db.select(func.count()).select_from(model).where(model.question_id == question.id))
        for model in (Review, CardState, MockItem, Report)
    )
    if used:
        flash(
            "This question has history (reviews, reports or mock interviews), so it cannot be deleted. "
            "Archive it instead: it disappears for learners and their history is kept.",
            "error",
        )
        return redirect_to(url_for("admin.question_edit", question_id=question.id))
    set_id = question.set_id
    audit.record(
        "question.delete", question, f"Deleted unused question {question.key}", prompt=question.prompt[:500]
    )
    db.session.delete(question)
    db.session.commit()
    flash("Question deleted.", "success")
    return redirect_to(url_for("admin.set_edit", set_id=set_id))


@bp.post("/preview")
def preview() -> Response:
    """Live preview for the question editor: the card as a learner sees it, or one Markdown field."""
    # The editor's form posts all its fields; `field` names the one to preview, `card` the whole card.
    field = request.form.get("field", "text")
    if field == "card":
        return make_response(
            render_template("admin/_question_preview.html", card=preview_card(QuestionForm()))
        )
    text = request.form.get(field if field in ("prompt", "answer", "text") else "text") or ""
    html = Markup('<div class="markdown">') + render_markdown(text[:MAX_TEXT]) + Markup("</div>")
    return make_response(html)


@bp.get("/questions")
def questions() -> Response:
    """Search and filter questions across sets: text, role, category, difficulty, archived; paginated."""
    args = request.args
    stmt = (
        db.select(Question)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .join(Role, QuestionSet.role_id == Role.id)
    )
    text = args.get("q", "").strip()[:200]
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Question.prompt.ilike(pattern, escape="\\"),
                Question.answer.ilike(pattern, escape="\\"),
                Question.key.ilike(pattern, escape="\\"),
            )
        )
    role_id = int_id(args.get("role"))
    if role_id:
        stmt = stmt.where(Role.id == role_id)
    category = args.get("category", "").strip()[:120]
    if category:
        stmt = stmt.where(Question.category == category)
    difficulty = args.get("difficulty")
    if difficulty in ("1", "2", "3"):
        stmt = stmt.where(Question.difficulty == int(difficulty))
    archived = args.get("archived", "no")
    if archived == "no":
        stmt = stmt.where(Question.archived == false())
    elif archived == "only":
        stmt = stmt.where(Question.archived == true())
    page = paginate(stmt.order_by(Role.title, QuestionSet.id, Question.position, Question.id), PER_PAGE)
    roles = db.session.scalars(db.select(Role).order_by(Role.title)).all()
    categories = db.session.scalars(db.select(Question.category).distinct().order_by(Question.category)).all()
    filters = query_args(QUESTION_FILTERS)
    return render(
        "admin/questions.html",
        "admin/_question_results.html",
        page=page,
        roles=roles,
        categories=categories,
        filters=filters,
        args=args,
    )
