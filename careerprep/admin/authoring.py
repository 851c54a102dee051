"""Authoring: roles, sets and questions (create, edit, publish, archive), search, live preview, reports."""

from __future__ import annotations

from flask import Response, abort, flash, make_response, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import false, func, or_, true

from .. import audit
from ..extensions import db
from ..htmx import redirect_to, render
from ..models import CardState, MockItem, Question, QuestionSet, Report, Review, Role, utc_now
from ..templating import render_markdown
from ..web import int_id, paginate, query_args
from . import bp
from .forms import QuestionForm, ResolveForm, RoleForm, SetForm

PER_PAGE = 25
QUESTION_FIELDS = ("key", "prompt", "answer", "key_points", "category", "difficulty", "tags")
QUESTION_FILTERS = ("q", "role", "category", "difficulty", "archived")


def _page(template: str, status: int = 200, **context) -> Response:
    return make_response(render_template(template, **context), status)


def _changes(obj, values: dict) -> dict:
    """Apply `values` to `obj`; return {field: [old, new]} for what actually changed."""
    changed = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changed[name] = [old, value]
            setattr(obj, name, value)
    return changed


def _set_archived(obj, kind: str, name: str, back: str) -> Response:
    """Archive or restore (form field action=restore) a role, set or question, with an audit row."""
    archive = request.form.get("action") != "restore"
    if obj.archived != archive:
        obj.archived = archive
        audit.record(
            f"{kind}.{'archive' if archive else 'restore'}",
            obj,
            f"{'Archived' if archive else 'Restored'} {kind} {name}",
        )
        db.session.commit()
    flash(f"{kind.capitalize()} “{name}” {'archived' if archive else 'restored'}.", "success")
    return redirect_to(back)


# -- roles -------------------------------------------------------------------------------------------


@bp.route("/roles/new", methods=["GET", "POST"])
def role_new() -> Response:
    """Create a role."""
    form = RoleForm()
    if form.validate_on_submit():
        if db.session.scalar(db.select(Role.id).filter_by(slug=form.slug.data)):
            form.slug.errors.append("Another role already uses this slug.")
        else:
            role = Role(slug=form.slug.data, title=form.title.data, summary=form.summary.data or "")
            db.session.add(role)
            db.session.flush()
            audit.record("role.create", role, f"Created role {role.title}")
            db.session.commit()
            flash(f"Role “{role.title}” created. Add a question set to it next.", "success")
            return redirect_to(url_for("admin.index"))
    return _page("admin/role_form.html", 422 if form.is_submitted() else 200, form=form, role=None)


@bp.route("/roles/<int:role_id>/edit", methods=["GET", "POST"])
def role_edit(role_id: int) -> Response:
    """Edit a role's slug, title and summary."""
    role = db.get_or_404(Role, role_id)
    form = RoleForm(obj=role)
    if form.validate_on_submit():
        clash = db.session.scalar(db.select(Role.id).where(Role.slug == form.slug.data, Role.id != role.id))
        if clash:
            form.slug.errors.append("Another role already uses this slug.")
        else:
            changed = _changes(
                role, {"slug": form.slug.data, "title": form.title.data, "summary": form.summary.data or ""}
            )
            if changed:
                audit.record("role.edit", role, f"Edited role {role.title}", changed=changed)
            db.session.commit()
            flash("Role saved." if changed else "No changes to save.", "success" if changed else "info")
            return redirect_to(url_for("admin.index"))
    return _page("admin/role_form.html", 422 if form.is_submitted() else 200, form=form, role=role)


@bp.post("/roles/<int:role_id>/archive")
def role_archive(role_id: int) -> Response:
    """Archive a role (hidden from learners; progress kept) or bring it back."""
    role = db.get_or_404(Role, role_id)
    return _set_archived(role, "role", role.title, url_for("admin.index"))


# -- sets ---------------------------------------------------------------------------------------------


def _set_slug_taken(role_id: int, slug: str, except_id: int | None = None) -> bool:
    stmt = db.select(QuestionSet.id).where(QuestionSet.role_id == role_id, QuestionSet.slug == slug)
    if except_id is not None:
        stmt = stmt.where(QuestionSet.id != except_id)
    return db.session.scalar(stmt) is not None


@bp.route("/roles/<int:role_id>/sets/new", methods=["GET", "POST"])
def set_new(role_id: int) -> Response:
    """Create a question set in a role (unpublished until you publish it)."""
    role = db.get_or_404(Role, role_id)
    form = SetForm()
    if form.validate_on_submit():
        if _set_slug_taken(role.id, form.slug.data):
            form.slug.errors.append("This role already has a set with this slug.")
        else:
            qset = QuestionSet(
                role_id=role.id,
                slug=form.slug.data,
                title=form.title.data,
                description=form.description.data or "",
                published=form.published.data,
            )
            db.session.add(qset)
            db.session.flush()
            audit.record("set.create", qset, f"Created set {qset.title} in {role.title}")
            db.session.commit()
            flash(f"Set “{qset.title}” created. Add questions to it.", "success")
            return redirect_to(url_for("admin.set_edit", set_id=qset.id))
    return _page(
        "admin/set_form.html",
        422 if form.is_submitted() else 200,
        form=form,
        role=role,
        qset=None,
        questions=[],
    )


@bp.route("/sets/<int:set_id>/edit", methods=["GET", "POST"])
def set_edit(set_id: int) -> Response:
    """Edit a set and see its questions."""
    qset = db.get_or_404(QuestionSet, set_id)
    form = SetForm(obj=qset)
    if form.validate_on_submit():
        if _set_slug_taken(qset.role_id, form.slug.data, except_id=qset.id):
            form.slug.errors.append("This role already has a set with this slug.")
        else:
            changed = _changes(
                qset,
                {
                    "slug": form.slug.data,
                    "title": form.title.data,
                    "description": form.description.data or "",
                    "published": form.published.data,
                },
            )
            if changed:
                audit.record("set.edit", qset, f"Edited set {qset.title}", changed=changed)
            db.session.commit()
            flash("Set saved." if changed else "No changes to save.", "success" if changed else "info")
            return redirect_to(url_for("admin.set_edit", set_id=qset.id))
    questions = db.session.scalars(
        db.select(Question)
        .filter_by(set_id=qset.id)
        .order_by(Question.archived, Question.position, Question.id)
    ).all()
    return _page(
        "admin/set_form.html",
        422 if form.is_submitted() else 200,
        form=form,
        role=qset.role,
        qset=qset,
        questions=questions,
    )


@bp.post("/sets/<int:set_id>/publish")
def set_publish(set_id: int) -> Response:
    """Publish a set (learners see it) or unpublish it (hidden; progress kept)."""
    qset = db.get_or_404(QuestionSet, set_id)
    action = request.form.get("action")
    if action not in ("publish", "unpublish"):
        abort(400)
    publish = action == "publish"
    if qset.published != publish:
        qset.published = publish
        audit.record(f"set.{action}", qset, f"{action.capitalize()}ed set {qset.title}")
        db.session.commit()
    flash(f"Set “{qset.title}” is {'published' if publish else 'unpublished'}.", "success")
    return redirect_to(
        request.form.get("back") == "set"
        and url_for("admin.set_edit", set_id=qset.id)
        or url_for("admin.index")
    )


@bp.post("/sets/<int:set_id>/archive")
def set_archive(set_id: int) -> Response:
    """Archive a set (hidden from learners; history kept) or bring it back."""
    qset = db.get_or_404(QuestionSet, set_id)
    return _set_archived(qset, "set", qset.title, url_for("admin.index"))


# -- questions ----------------------------------------------------------------------------------------------


def _suggestions() -> dict:
    """Existing categories and tags, offered as suggestions in the editor."""
    categories = db.session.scalars(db.select(Question.category).distinct().order_by(Question.category)).all()
    tags = sorted({t for tags in db.session.scalars(db.select(Question.tags)) for t in (tags or [])})
    return {"categories": categories, "tags": tags}


def _question_values(form: QuestionForm) -> dict:
    return {
        "key": form.key.data,
        "prompt": form.prompt.data,
        "answer": form.answer.data,
        "key_points": form.point_list(),
        "category": form.category.data,
        "difficulty": int(form.difficulty.data),
        "tags": form.tag_list(),
    }


def _key_taken(set_id: int, key: str, except_id: int | None = None) -> bool:
    stmt = db.select(Question.id).where(Question.set_id == set_id, Question.key == key)
    if except_id is not None:
        stmt = stmt.where(Question.id != except_id)
    return db.session.scalar(stmt) is not None


@bp.route("/sets/<int:set_id>/questions/new", methods=["GET", "POST"])
def question_new(set_id: int) -> Response:
    """Write a new question."""
    qset = db.get_or_404(QuestionSet, set_id)
    form = QuestionForm()
    if form.validate_on_submit():
        if _key_taken(qset.id, form.key.data):
            form.key.errors.append("This set already has a question with this key.")
        else:
            position = db.session.scalar(
                db.select(func.coalesce(func.max(Question.position), -1) + 1).filter_by(set_id=qset.id)
            )
            question = Question(set_id=qset.id, position=position, **_question_values(form))
            db.session.add(question)
            db.session.flush()
            audit.record("question.create", question, f"Created question {question.key} in {qset.title}")
            db.session.commit()
            flash("Question added.", "success")
            return redirect_to(url_for("admin.set_edit", set_id=qset.id))
    return _page(
        "admin/question_form.html",
        422 if form.is_submitted() else 200,
        form=form,
        qset=qset,
        question=None,
        **_suggestions(),
    )


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
def question_edit(question_id: int) -> Response:
    """Edit a question in place: its id stays, so everyone's progress on it is kept."""
    question = db.get_or_404(Question, question_id)
    # A POST is read from the request alone: a field left out counts as empty, never as the stored
    # value (which is a list for key points and tags, not the text the form edits).
    form = QuestionForm() if request.method == "POST" else QuestionForm(data=QuestionForm.data_for(question))
    if form.validate_on_submit():
        if _key_taken(question.set_id, form.key.data, except_id=question.id):
            form.key.errors.append("This set already has a question with this key.")
        else:
            changed = _changes(question, _question_values(form))
            if changed:
                audit.record(
                    "question.edit", question, f"Edited question {question.key}", fields=sorted(changed)
                )
            db.session.commit()
            flash(
                "Question saved; learners keep their progress on it." if changed else "No changes to save.",
                "success" if changed else "info",
            )
            return redirect_to(url_for("admin.question_edit", question_id=question.id))
    reviews = db.session.scalar(db.select(func.count(Review.id)).filter_by(question_id=question.id))
    reports = db.session.scalars(
        db.select(Report).filter_by(question_id=question.id).order_by(Report.created_at.desc())
    ).all()
    return _page(
        "admin/question_form.html",
        422 if form.is_submitted() else 200,
        form=form,
        qset=question.question_set,
        question=question,
        reviews=reviews,
        reports=reports,
        **_suggestions(),
    )


@bp.post("/questions/<int:question_id>/archive")
def question_archive(question_id: int) -> Response:
    """Archive a question (hidden from learners; everyone's history kept) or restore it."""
    question = db.get_or_404(Question, question_id)
    return _set_archived(
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
    """Live Markdown preview for the question editor (sanitised exactly as learners will see it)."""
    # The editor's form posts all its fields; `field` names the one to preview.
    field = request.form.get("field", "text")
    text = request.form.get(field if field in ("prompt", "answer", "text") else "text") or ""
    return make_response(Markup('<div class="markdown">') + render_markdown(text[:20_000]) + Markup("</div>"))


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


# -- reports -------------------------------------------------------------------------------------------------


@bp.get("/reports")
def reports() -> Response:
    """The reports queue: open reports first, oldest first; resolved and dismissed ones on request."""
    status = request.args.get("status", "open")
    stmt = db.select(Report).order_by(Report.created_at)
    if status in Report.STATUSES:
        stmt = stmt.where(Report.status == status)
    page = paginate(stmt, PER_PAGE)
    return _page("admin/reports.html", page=page, report_status=status, form=ResolveForm())


@bp.post("/reports/<int:report_id>")
def report_close(report_id: int) -> Response:
    """Resolve or dismiss a report, with an optional note."""
    report = db.get_or_404(Report, report_id)
    action = request.form.get("action")
    form = ResolveForm()
    if action not in ("resolve", "dismiss") or not form.validate_on_submit():
        abort(400)
    if report.status == "open":
        report.status = "resolved" if action == "resolve" else "dismissed"
        report.resolved_at = utc_now()
        report.resolved_by = getattr(audit.current_user, "id", None)
        report.resolution_note = form.note.data or ""
        audit.record(
            f"report.{action}",
            report,
            f"{report.status.capitalize()} report on question {report.question.key}",
            question_id=report.question_id,
            note=report.resolution_note,
        )
        db.session.commit()
        flash(f"Report {report.status}.", "success")
    else:
        flash(f"That report was already {report.status}.", "info")
    return redirect_to(url_for("admin.reports"))
