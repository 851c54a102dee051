"""What the admin editors share: a page with a status, recording changes, archiving with an audit row."""

from __future__ import annotations

from flask import Response, flash, make_response, render_template, request

from .. import audit
from ..extensions import db
from ..htmx import redirect_to


def admin_page(template: str, status: int = 200, **context) -> Response:
    """A rendered admin page with its status (422 when a form was refused)."""
    return make_response(render_template(template, **context), status)


def apply_changes(obj, values: dict) -> dict:
    """Apply `values` to `obj`; return {field: [old, new]} for what actually changed."""
    changed = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changed[name] = [old, value]
            setattr(obj, name, value)
    return changed


def taken(model, except_id: int | None, *conditions) -> bool:
    """True when another row of `model` matches the conditions (a slug or key already in use)."""
    stmt = db.select(model.id).where(*conditions)
    if except_id is not None:
        stmt = stmt.where(model.id != except_id)
    return db.session.scalar(stmt) is not None


def set_archived(obj, kind: str, name: str, back: str) -> Response:
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
