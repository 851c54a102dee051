"""Learners' reports on questions: the queue, and resolving or dismissing one."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for

from .. import audit
from ..extensions import db
from ..htmx import redirect_to
from ..models import Report, utc_now
from ..web import paginate
from .blueprint import bp
from .editing import admin_page
from .forms import ResolveForm

PER_PAGE = 25


# -- reports -------------------------------------------------------------------------------------------------


@bp.get("/reports")
def reports() -> Response:
    """The reports queue: open reports first, oldest first; resolved and dismissed ones on request."""
    status = request.args.get("status", "open")
    stmt = db.select(Report).order_by(Report.created_at)
    if status in Report.STATUSES:
        stmt = stmt.where(Report.status == status)
    page = paginate(stmt, PER_PAGE)
    return admin_page("admin/reports.html", page=page, report_status=status, form=ResolveForm())


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
