"""The audit log: one call records who did what to which object."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from .extensions import db
from .models import AuditLog


def record(
    action: str,
    obj: Any = None,
    summary: str = "",
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    actor: Any = None,
    **details: Any,
) -> AuditLog:
    """Add an audit row to the current transaction (the caller commits with its change).

    `obj` is the model instance acted on (its table name and id are recorded), or pass
    object_type/object_id. The actor is the signed-in user unless given (CLI: None → "system").
    """
    if actor is None:
        try:
            actor = current_user if current_user and current_user.is_authenticated else None
        except RuntimeError:  # outside a request (CLI)
            actor = None
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        actor=getattr(actor, "email", None) or "system",
        action=action,
        object_type=object_type or (obj.__tablename__ if obj is not None else ""),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        summary=summary[:2000],
        details=details,
    )
    db.session.add(entry)
    return entry
