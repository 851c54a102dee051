"""Accounts: password rules and hashing, server-side sign-ins and the user loader."""

from __future__ import annotations

import hashlib
import secrets

from flask import request
from sqlalchemy import bindparam, true
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import User, UserSession, utc_now
from ..queries import USER

MIN_PASSWORD, MAX_PASSWORD = 8, 128
# Hash of a random password, so an unknown email costs the same time as a wrong password.
_DUMMY_HASH: dict[str, str] = {}


def normalise_email(email: str) -> str:
    """Emails are compared trimmed and lower-cased."""
    return (email or "").strip().lower()


def password_problem(password: str) -> str | None:
    """Why a password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    return None


def hash_password(password: str, method: str) -> str:
    """Hash with scrypt at the configured cost."""
    return generate_password_hash(password, method=method)


def authenticate(email: str, password: str, method: str) -> User | None:
    """The active user with this email and password, or None; rehashes an outdated hash."""
    user = db.session.scalar(db.select(User).filter_by(email=normalise_email(email)))
    if user is None:
        if method not in _DUMMY_HASH:
            _DUMMY_HASH[method] = generate_password_hash("not-a-real-password", method=method)
        check_password_hash(_DUMMY_HASH[method], password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if not user.is_active:
        return None
    if not user.password_hash.startswith(method + "$"):
        user.password_hash = hash_password(password, method)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User) -> None:
    """Record a new sign-in for this device and attach its token to the user."""
    token = secrets.token_urlsafe(32)
    agent = (request.user_agent.string or "")[:200] if request else ""
    db.session.add(UserSession(user_id=user.id, token_hash=_digest(token), user_agent=agent))
    user.session_token = token


def revoke_sessions(user: User, *, keep_current: bool) -> int:
    """End the user's sign-ins (all, or all but this one); returns how many ended."""
    stmt = (
        db.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    if keep_current and user.session_token:
        stmt = stmt.where(UserSession.token_hash != _digest(user.session_token))
    return db.session.execute(stmt).rowcount


def close_session(user: User) -> None:
    """End this sign-in only."""
    if user.session_token:
        db.session.execute(
            db.update(UserSession)
            .where(UserSession.token_hash == _digest(user.session_token))
            .values(revoked_at=utc_now())
        )


def other_sessions(user: User) -> int:
    """How many other devices are signed in."""
    return db.session.scalar(
        db.select(db.func.count(UserSession.id)).where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.token_hash != _digest(user.session_token or ""),
        )
    )


# Built once (this runs on every signed-in request) and executed with bound values.
_SIGNED_IN_USER = (
    db.select(User)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        User.id == USER,
        User.is_active == true(),
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.revoked_at.is_(None),
    )
)


def load_user(user_id: str) -> User | None:
    """Flask-Login loader for "id:token": the active user whose sign-in is still open, in one query."""
    uid, _, token = (user_id or "").partition(":")
    if not uid.isdigit() or not token or len(token) > 100:
        return None
    user = db.session.scalar(_SIGNED_IN_USER, {"user_id": int(uid), "token_hash": _digest(token)})
    if user is not None:
        user.session_token = token
    return user
