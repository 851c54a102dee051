"""Accounts: password rules and hashing, server-side sign-ins and the user loader."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import abort, current_app, request
from sqlalchemy import bindparam, true
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from ..extensions import db
from ..models import User, UserSession, UTCDateTime, utc_now, write_transaction
from ..queries import USER

MIN_PASSWORD, MAX_PASSWORD = 8, 128
# Hash of a random password, so an unknown email costs the same time as a wrong password.
_DUMMY_HASH: dict[str, str] = {}


def normalise_email(email: str) -> str:
    """Emails are compared trimmed and lower-cased."""
    return (email or "").strip().lower()


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords from breach data (the list zxcvbn ships), lower-cased."""
    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def is_common_password(password: str) -> bool:
    """True for a password on the common list, also once trailing digits and symbols are dropped
    ("password", "Password1", "monkey2024!")."""
    common = _common_passwords()
    lowered = password.lower()
    stem = lowered.rstrip("0123456789!@#$%^&*?._-+= ")
    return lowered in common or (len(stem) >= 4 and stem in common)


def password_problem(password: str) -> str | None:
    """Why a password is not acceptable, or None (ASVS: length, and not a known common password)."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    if is_common_password(password):
        return (
            "That is one of the most common passwords, which attackers try first. Choose another: "
            "a few unrelated words make a strong passphrase."
        )
    return None


# scrypt at N=2^17 takes ~0.4 s of CPU and 128 MiB: a worker computes at most this many at once, so a
# flood of sign-ins cannot take every thread from drill traffic. Per process (gunicorn worker).
_hash_slots: dict[int, threading.BoundedSemaphore] = {}
_hash_slots_lock = threading.Lock()


@contextmanager
def password_work() -> Iterator[None]:
    """A slot for one password hash or check; 503 (try again shortly) if none frees up in time.

    Called with no transaction open, so the slow hash never holds SQLite's write lock.
    """
    size = current_app.config.get("PASSWORD_HASH_CONCURRENCY", 1)
    with _hash_slots_lock:
        slots = _hash_slots.setdefault(size, threading.BoundedSemaphore(size))
    if not slots.acquire(timeout=current_app.config.get("PASSWORD_HASH_WAIT", 5)):
        abort(503, "Too many sign-ins are being checked at once. Try again in a few seconds.")
    try:
        yield
    finally:
        slots.release()


def hash_password(password: str, method: str) -> str:
    """Hash with scrypt at the configured cost."""
    with password_work():
        return generate_password_hash(password, method=method)


def password_matches(password_hash: str, password: str) -> bool:
    """Check a password against its stored hash (in a hashing slot)."""
    with password_work():
        return check_password_hash(password_hash, password)


def authenticate(email: str, password: str, method: str) -> User | None:
    """The active user with this email and password, or None; rehashes an outdated hash."""
    user = db.session.scalar(db.select(User).filter_by(email=normalise_email(email)))
    db.session.commit()  # end the read: nothing is held while the password is hashed
    if user is None:
        if method not in _DUMMY_HASH:
            _DUMMY_HASH[method] = generate_password_hash("not-a-real-password", method=method)
        password_matches(_DUMMY_HASH[method], password)
        return None
    if not password_matches(user.password_hash, password):
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
    db.select(User, UserSession.id, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        User.id == USER,
        User.is_active == true(),
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.revoked_at.is_(None),
        UserSession.created_at > bindparam("started_after", type_=UTCDateTime()),
        UserSession.last_seen_at > bindparam("seen_after", type_=UTCDateTime()),
    )
)
TOUCH_EVERY = timedelta(hours=1)  # how often a sign-in's "last used" moves (a write)


def load_user(user_id: str) -> User | None:
    """Flask-Login loader for "id:token": the active user whose sign-in is still open, in one query.

    A sign-in is open until revoked, idle for SESSION_IDLE_DAYS or older than SESSION_MAX_DAYS.
    """
    uid, _, token = (user_id or "").partition(":")
    if not uid.isdigit() or len(uid) > 10 or not token or len(token) > 100:
        return None
    now = utc_now()
    config = current_app.config
    row = db.session.execute(
        _SIGNED_IN_USER,
        {
            "user_id": int(uid),
            "token_hash": _digest(token),
            "started_after": now - timedelta(days=config["SESSION_MAX_DAYS"]),
            "seen_after": now - timedelta(days=config["SESSION_IDLE_DAYS"]),
        },
    ).first()
    if row is None:
        return None
    user, session_id, last_seen = row
    if last_seen is None or now - last_seen > TOUCH_EVERY:
        _touch(session_id, now)
    user.session_token = token
    return user


def _touch(session_id: int, now: datetime) -> None:
    """Record that a sign-in was used now (a write while serving any request, so its own transaction)."""
    with write_transaction():
        db.session.execute(
            db.update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)
        )
        db.session.commit()


@dataclass
class SignIn:
    """One open sign-in, as the account page lists it."""

    id: int
    device: str
    created_at: datetime
    last_seen_at: datetime | None
    current: bool


def open_sign_ins(user: User) -> list[SignIn]:
    """The user's open sign-ins, most recently used first (this device marked)."""
    now = utc_now()
    config = current_app.config
    rows = db.session.execute(
        db.select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.created_at > now - timedelta(days=config["SESSION_MAX_DAYS"]),
            UserSession.last_seen_at > now - timedelta(days=config["SESSION_IDLE_DAYS"]),
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).scalars()
    mine = _digest(user.session_token or "")
    return [
        SignIn(row.id, device_label(row.user_agent), row.created_at, row.last_seen_at, row.token_hash == mine)
        for row in rows
    ]


def revoke_sign_in(user: User, session_id: int) -> bool:
    """End one of the user's other sign-ins; False if it is not theirs, not open, or this one."""
    result = db.session.execute(
        db.update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.token_hash != _digest(user.session_token or ""),
        )
        .values(revoked_at=utc_now())
    )
    return result.rowcount == 1


_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device_label(user_agent: str) -> str:
    """A short name for a browser from its user agent ("Firefox on Linux"), or "Unknown browser"."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"
