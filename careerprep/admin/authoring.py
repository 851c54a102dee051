"""Authoring roles and sets: create, edit, publish, archive; every change audited."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from sqlalchemy import func

from .. import audit
from ..extensions import db
from ..htmx import redirect_to
from ..models import Question, QuestionSet, Role
from .blueprint import bp
from .editing import admin_page, apply_changes, set_archived, taken
from .forms import RoleForm, SetForm

# -- roles -------------------------------------------------------------------------------------------


@bp.route("/roles/new", methods=["GET", "POST"])
def role_new() -> Response:
    """Create a role."""
    form = RoleForm()
    if form.validate_on_submit():
        if taken(Role, None, Role.slug == form.slug.data):
            form.slug.errors.append("Another role already uses this slug.")
        else:
            role = Role(slug=form.slug.data, title=form.title.data, summary=form.summary.data or "")
            db.session.add(role)
            db.session.flush()
            audit.record("role.create", role, f"Created role {role.title}")
            db.session.commit()
            flash(f"Role “{role.title}” created. Add a question set to it next.", "success")
            return redirect_to(url_for("admin.index"))
    return admin_page("admin/role_form.html", 422 if form.is_submitted() else 200, form=form, role=None)


@bp.route("/roles/<int:role_id>/edit", methods=["GET", "POST"])
def role_edit(role_id: int) -> Response:
    """Edit a role's slug, title and summary."""
    role = db.get_or_404(Role, role_id)
    form = RoleForm(obj=role)
    if form.validate_on_submit():
        if taken(Role, role.id, Role.slug == form.slug.data):
            form.slug.errors.append("Another role already uses this slug.")
        else:
            changed = apply_changes(
                role, {"slug": form.slug.data, "title": form.title.data, "summary": form.summary.data or ""}
            )
            if changed:
                audit.record("role.edit", role, f"Edited role {role.title}", changed=changed)
            db.session.commit()
            flash("Role saved." if changed else "No changes to save.", "success" if changed else "info")
            return redirect_to(url_for("admin.index"))
    return admin_page("admin/role_form.html", 422 if form.is_submitted() else 200, form=form, role=role)


@bp.post("/roles/<int:role_id>/archive")
def role_archive(role_id: int) -> Response:
    """Archive a role (hidden from learners; progress kept) or bring it back."""
    role = db.get_or_404(Role, role_id)
    return set_archived(role, "role", role.title, url_for("admin.index"))


# -- sets ---------------------------------------------------------------------------------------------


def _set_slug_taken(role_id: int, slug: str, except_id: int | None = None) -> bool:
    return taken(QuestionSet, except_id, QuestionSet.role_id == role_id, QuestionSet.slug == slug)


def _set_problems(form: SetForm, role_id: int, except_id: int | None = None) -> bool:
    """Name a taken slug, a taken title or a title with `::` on the form (the bank validator's rules:
    Anki names a set's deck by its title); True when there is one."""
    if _set_slug_taken(role_id, form.slug.data, except_id):
        form.slug.errors.append("This role already has a set with this slug.")
    title = form.title.data or ""
    if "::" in title:
        form.title.errors.append("A title cannot contain '::' (Anki would make it a nested deck).")
    elif taken(
        QuestionSet, except_id, QuestionSet.role_id == role_id, func.lower(QuestionSet.title) == title.lower()
    ):
        form.title.errors.append("This role already has a set with this title (they would share a deck).")
    return bool(form.slug.errors or form.title.errors)


@bp.route("/roles/<int:role_id>/sets/new", methods=["GET", "POST"])
def set_new(role_id: int) -> Response:
    """Create a question set in a role (unpublished until you publish it)."""
    role = db.get_or_404(Role, role_id)
    form = SetForm()
    if form.validate_on_submit() and not _set_problems(form, role.id):
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
    return admin_page(
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
    if form.validate_on_submit() and not _set_problems(form, qset.role_id, except_id=qset.id):
        changed = apply_changes(
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
    return admin_page(
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
    return set_archived(qset, "set", qset.title, url_for("admin.index"))
