"""Limits on attempts that guard a secret: counted before the work, so they hold under bursts.

Flask-Limiter's `deduct_when` counts an attempt after its response: every attempt already in flight
passes the test, so 16 wrong passwords sent at once were all checked against a limit of 10. Here an
attempt is counted first (one atomic increment in the shared storage: Redis with several servers)
and the password is checked only if the count is within the limit; a success gives its count back,
so only failures use up the allowance.

Per-account limits would let anyone lock a user out by failing on purpose. A browser that has signed
in to an account before carries a signed "known device" cookie for it, and attempts from a known
device are not counted against that account (they still count against their address). So a flood of
wrong passwords from elsewhere stops new devices from trying that account, never its owner.

If the limit storage (Redis) cannot be reached, counting continues in this process's memory, with a
warning in the log: sign-in keeps working, each worker then counting on its own until Redis is back.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from .extensions import limiter

log = logging.getLogger("careerprep.limits")
DEVICE_COOKIE = "cp_device"
DEVICE_ACCOUNTS = 8  # accounts one browser remembers as signed in before
DEVICE_DAYS = 365
_fallback = FixedWindowRateLimiter(MemoryStorage())
_warned_at = 0.0


def _items(config_key: str) -> list[RateLimitItem]:
    return parse_many(current_app.config[config_key])


def _apply(action: Callable[[FixedWindowRateLimiter], bool]) -> bool:
    """Run a counter operation on the shared storage, or in memory while it is unreachable."""
    global _warned_at
    try:
        return action(limiter.limiter)
    except Exception as exc:  # noqa: BLE001 (any storage failure: redis, network, timeout)
        if time.monotonic() - _warned_at > 60:
            _warned_at = time.monotonic()
            log.warning("rate-limit storage unreachable (%s); counting in memory", type(exc).__name__)
        return action(_fallback)


def _ids(name: str, key: str) -> tuple[str, ...]:
    return (current_app.config.get("RATELIMIT_KEY_PREFIX") or "careerprep", name, key)


def consume(name: str, config_key: str, key: str) -> bool:
    """Count one attempt at `name` for `key` against the limit in config[config_key]; False if over.

    Every window of the limit ("10 per minute; 100 per day") is counted, then checked.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    results = [_apply(lambda s, item=item: s.hit(item, *_ids(name, key))) for item in _items(config_key)]
    return all(results)


def refund(name: str, config_key: str, key: str) -> None:
    """Give back an attempt that succeeded (only failures use up the allowance)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    for item in _items(config_key):
        _apply(lambda s, item=item: s.hit(item, *_ids(name, key), cost=-1))


def client_address() -> str:
    """The address limits are counted per (the proxy-corrected client address)."""
    return request.remote_addr or "unknown"


# -- known devices --------------------------------------------------------------------------------


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def _account_tag(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def _known_tags() -> list[str]:
    raw = request.cookies.get(DEVICE_COOKIE, "")
    if not raw or len(raw) > 1000:
        return []
    try:
        tags = _device_serializer().loads(raw)
    except BadSignature:
        return []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def known_device(email: str) -> bool:
    """True when this browser has signed in to the account before (its signed cookie says so)."""
    return _account_tag(email) in _known_tags()


def remember_device(response: Response, email: str) -> Response:
    """Mark this browser as a known device for the account (kept for a year)."""
    tag = _account_tag(email)
    tags = [tag] + [t for t in _known_tags() if t != tag]
    response.set_cookie(
        DEVICE_COOKIE,
        _device_serializer().dumps(tags[:DEVICE_ACCOUNTS]),
        max_age=DEVICE_DAYS * 86400,
        httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        samesite="Lax",
    )
    return response
