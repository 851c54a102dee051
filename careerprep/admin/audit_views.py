"""Admin: the audit log, read-only: who did what to which object and when, filtered and paginated."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from flask import Response, make_response, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Select
from werkzeug.routing import BuildError

from ..extensions import db
from ..localtime import start_of, zone
from ..models import AuditLog
from ..web import paginate, query_args
from .blueprint import bp
from .users import contains_pattern

PER_PAGE = 50
FILTER_ARGS = ("action", "actor", "object_type", "date_from", "date_to", "text")
# object_type → (endpoint of its admin page, the id's URL argument).
OBJECT_PAGES = {
    "question": ("admin.question_edit", "question_id"),
    "question_set": ("admin.set_edit", "set_id"),
    "role": ("admin.role_edit", "role_id"),
    "report": ("admin.reports", None),
    "user": ("admin.users", None),
}


@dataclass
class AuditFilters:
    """The audit page's filters as typed values, with a message per field that could not be read."""

    action: str = ""
    actor: str = ""
    object_type: str = ""
    text: str = ""
    date_from: str = ""
    date_to: str = ""
    start: datetime | None = None  # UTC, inclusive
    end: datetime | None = None  # UTC, exclusive
    errors: dict[str, str] = field(default_factory=dict)


class AuditRow(NamedTuple):
    entry: AuditLog
    local_time: datetime
    object_url: str | None
    details_json: str


def parse_filters(args: dict, tz_name: str) -> AuditFilters:
    """Read the filters from a query string; dates are local days in `tz_name`, both ends inclusive."""
    filters = AuditFilters(
        action=args.get("action", "").strip()[:40],
        actor=args.get("actor", "").strip()[:254],
        object_type=args.get("object_type", "").strip()[:40],
        text=args.get("text", "").strip()[:200],
        date_from=args.get("date_from", "").strip()[:40],
        date_to=args.get("date_to", "").strip()[:40],
    )
    days: dict[str, date] = {}
    for name in ("date_from", "date_to"):
        value = getattr(filters, name)
        if not value:
            continue
        try:
            days[name] = date.fromisoformat(value)
            bound = days[name] + timedelta(days=1) if name == "date_to" else days[name]
            utc = start_of(bound, tz_name)
        except (ValueError, OverflowError):
            days.pop(name, None)
            filters.errors[name] = "Enter a date as YYYY-MM-DD, for example 2025-03-31."
            continue
        if name == "date_from":
            filters.start = utc
        else:
            filters.end = utc
    if "date_from" in days and "date_to" in days and days["date_from"] > days["date_to"]:
        filters.errors["date_to"] = "The end date is before the start date."
    return filters


def audit_query(filters: AuditFilters) -> Select:
    """Audit entries matching the filters, newest first."""
    stmt = db.select(AuditLog)
    if filters.action:
        stmt = stmt.where(AuditLog.action == filters.action)
    if filters.actor:
        stmt = stmt.where(AuditLog.actor.ilike(contains_pattern(filters.actor), escape="\\"))
    if filters.object_type:
        stmt = stmt.where(AuditLog.object_type == filters.object_type)
    if filters.text:
        stmt = stmt.where(AuditLog.summary.ilike(contains_pattern(filters.text), escape="\\"))
    if filters.start is not None:
        stmt = stmt.where(AuditLog.created_at >= filters.start)
    if filters.end is not None:
        stmt = stmt.where(AuditLog.created_at < filters.end)
    return stmt.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())


def object_url(entry: AuditLog) -> str | None:
    """The admin page of the object an entry is about, when the app has one (and the object may exist)."""
    page = OBJECT_PAGES.get(entry.object_type)
    if page is None or entry.action.endswith(".delete"):
        return None
    endpoint, id_arg = page
    values: dict = {}
    if id_arg:
        if entry.object_id is None:
            return None
        values[id_arg] = entry.object_id
    elif entry.object_type == "user":
        email = (entry.details or {}).get("email")
        if isinstance(email, str) and email:
            values["q"] = email
    try:
        return url_for(endpoint, **values)
    except BuildError:  # another module's endpoint with different arguments: show the object unlinked
        return None


def _distinct(column) -> list[str]:
    return list(db.session.scalars(db.select(column).distinct().order_by(column)))


@bp.get("/audit")
def audit() -> Response:
    """The audit log, newest first, filtered by action, actor, object type, local dates and text."""
    tz_name = zone(current_user.timezone or "UTC").key
    filters = parse_filters(request.args, tz_name)
    page = None
    rows: list[AuditRow] = []
    if not filters.errors:
        page = paginate(audit_query(filters), PER_PAGE)
        tz = zone(tz_name)
        rows = [
            AuditRow(
                entry,
                entry.created_at.astimezone(tz),
                object_url(entry),
                json.dumps(entry.details or {}, indent=2, sort_keys=True, ensure_ascii=False, default=str),
            )
            for entry in page.items
        ]
    html = render_template(
        "admin/audit.html",
        filters=filters,
        page=page,
        rows=rows,
        actions=_distinct(AuditLog.action),
        object_types=_distinct(AuditLog.object_type),
        filter_args=query_args(FILTER_ARGS, 254),
        tz_name=tz_name,
    )
    return make_response(html, 422 if filters.errors else 200)
