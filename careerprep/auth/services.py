"""Accounts: password rules and hashing, and the session-aware user loader."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import User

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


def load_user(user_id: str) -> User | None:
    """Flask-Login loader: the user for "id:version", or None if the version moved on or disabled."""
    try:
        uid, version = (int(part) for part in user_id.split(":", 1))
    except (TypeError, ValueError):
        return None
    user = db.session.get(User, uid)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user
