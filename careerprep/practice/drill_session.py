"""The drill session kept in the signed cookie: when this role's session started (the summary counts
from there) and the stack of ratings that can be undone."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import session
from flask_login import current_user

from ..models import Role
from .cards import SessionTally, session_tally

UNDO_DEPTH = 20
SESSION_IDLE = timedelta(hours=3)
SESSION_TOUCH = timedelta(minutes=1)


def touch(role: Role, now: datetime) -> None:
    """Start (or continue) this role's drill session, which the summary reports on.

    "last" moves at most once a minute: the cookie is not re-signed and re-sent for every card.
    """
    sessions = session.setdefault("drill", {})
    entry = sessions.get(role.slug)
    last = datetime.fromisoformat(entry["last"]) if entry else None
    if entry is not None and now - last < SESSION_TOUCH:
        return
    if entry is None or now - last > SESSION_IDLE:
        entry = {"started": now.isoformat()}
    entry["last"] = now.isoformat()
    sessions[role.slug] = entry
    session.modified = True


def tally(role: Role) -> SessionTally | None:
    """This drill session's cards, ratings and time, since it started."""
    entry = (session.get("drill") or {}).get(role.slug)
    if not entry:
        return None
    return session_tally(current_user, role, datetime.fromisoformat(entry["started"]))


def end(role: Role) -> None:
    """Forget this role's session and the undo stack: the next drill starts a fresh summary."""
    (session.get("drill") or {}).pop(role.slug, None)
    session["undo"] = []
    session.modified = True


def undo_top() -> int | None:
    """The review the undo button would remove, if any."""
    stack = session.get("undo") or []
    return stack[-1] if stack else None


def push_undo(review_id: int) -> None:
    """Remember a new rating for undo (the last UNDO_DEPTH of them)."""
    session["undo"] = (session.get("undo", []) + [review_id])[-UNDO_DEPTH:]


def pop_undo(review_id: int | None) -> bool:
    """Take `review_id` off the undo stack if it is the top; False when it is not (a stale button)."""
    stack = list(session.get("undo") or [])
    if not stack or review_id != stack[-1]:
        return False
    session["undo"] = stack[:-1]
    return True
