"""Admin overview and adding question sets by upload."""

from __future__ import annotations

from flask import Response, flash, make_response, render_template, url_for
from sqlalchemy import false, func, true

from ..banks import BankError, import_bank, parse, validate
from ..extensions import db
from ..htmx import redirect_to
from ..models import Question, QuestionSet, Role, write_transaction
from . import bp
from .forms import UploadBankForm


def _overview() -> list[tuple[Role, list[tuple[QuestionSet, int, int]]]]:
    """Roles with their sets: (set, live question count, archived count), in one query."""
    rows = db.session.execute(
        db.select(
            Role,
            QuestionSet,
            func.count(Question.id).filter(Question.archived == false()),
            func.count(Question.id).filter(Question.archived == true()),
        )
        .outerjoin(QuestionSet, QuestionSet.role_id == Role.id)
        .outerjoin(Question, Question.set_id == QuestionSet.id)
        .group_by(Role.id, QuestionSet.id)
        .order_by(Role.title, QuestionSet.id)
    ).all()
    grouped: dict[int, tuple[Role, list]] = {}
    for role, qset, live, archived in rows:
        entry = grouped.setdefault(role.id, (role, []))
        if qset is not None:  # a role without sets yet still shows
            entry[1].append((qset, live, archived))
    return list(grouped.values())


def _page(form: UploadBankForm, errors: list[str] | None = None, status: int = 200) -> Response:
    html = render_template("admin/index.html", roles=_overview(), form=form, errors=errors or [])
    return make_response(html, status)


@bp.get("/")
def index() -> Response:
    """Roles, sets and question counts, and the upload form."""
    return _page(UploadBankForm())


@bp.post("/")
def upload() -> Response:
    """Add or update question sets from a bank file, validated whole; all or nothing."""
    form = UploadBankForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    upload_file = form.bank.data
    try:
        bank = validate(parse(upload_file.read(), upload_file.filename or "upload"))
    except BankError as exc:
        return _page(form, errors=exc.errors, status=422)
    with write_transaction():  # parsed and validated first: only the import holds the write lock
        summary = import_bank(bank)
        db.session.commit()
    flash(f"Imported “{bank['role']['title']}”: {summary}.", "success")
    return redirect_to(url_for("admin.index"))
