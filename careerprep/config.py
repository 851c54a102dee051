"""Configuration layers: defaults, then instance/config.py, then the environment (or a test mapping)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

# scrypt with N=2^17, r=8, p=1: the OWASP ASVS 5.0 minimum (Werkzeug's default is N=2^15).
PASSWORD_HASH_METHOD = "scrypt:131072:8:1"  # noqa: S105 (a hash method, not a password)


class Defaults:
    """Settings that apply unless the instance config or the environment overrides them."""

    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session: a long-open drill page works
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 1024 * 1024  # uploads larger than 1 MiB get 413
    PASSWORD_HASH_METHOD = PASSWORD_HASH_METHOD
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Counted before the password is checked (careerprep.limits); a success gives its count back.
    AUTH_RATE_LIMIT = "10 per minute"  # per client address; also per account for password checks
    AUTH_ACCOUNT_RATE_LIMIT = "10 per minute; 100 per day"  # per account, from devices it never used
    # While Redis (RATELIMIT_STORAGE_URI) is unreachable, Flask-Limiter counts in memory and logs it.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    PASSWORD_HASH_CONCURRENCY = 1  # password hashes computed at once per worker process
    PASSWORD_HASH_WAIT = 5  # seconds a sign-in waits for a hashing slot before a 503
    SESSION_IDLE_DAYS = 30  # a sign-in unused this long ends
    SESSION_MAX_DAYS = 365  # a sign-in ends this long after it began, used or not
    REMEMBER_COOKIE_DURATION = timedelta(days=365)
    NEW_CARDS_PER_DAY = 10
    FEATURED_ROLES = ("software-systems-engineer",)  # shown first on the roles page, full width
    DESIRED_RETENTION = 0.9
    FSRS_FUZZING = True
    # A card shown but not rated within this time still counts at most this long.
    MAX_ANSWER_SECONDS = 600
    # How many proxies in front of the app may set X-Forwarded-*; 0 trusts none.
    TRUSTED_PROXIES = 0
    LOG_REQUESTS = True
    # Answering out loud (careerprep.speech, the `speech` extra). Recording is offered only when the
    # extra and the model are on this machine (and, with SPEECH_REDIS_URL, a `flask speech-worker` runs).
    SPEECH_ENABLED = True
    SPEECH_MODEL = "tiny.en"  # a faster-whisper size (downloaded once by `flask speech-model`) or a folder
    SPEECH_REDIS_URL = None  # set: jobs go to RQ on this Redis; unset: one thread in each app process
    SPEECH_AUDIO_DIR = None  # where uploads wait for the worker (default instance/recordings)
    SPEECH_MAX_BYTES = 10 * 1024 * 1024
    SPEECH_MAX_SECONDS = 300
    SPEECH_MAX_PENDING = 8
    SPEECH_RATE_LIMIT = "20 per minute; 300 per day"


def _secret_key(instance: Path) -> str:
    """Return SECRET_KEY from the environment, or a key generated once into instance/secret_key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str) -> dict:
    """Connection-pool settings per database."""
    if url.startswith("postgresql"):
        return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5, "pool_recycle": 1800}
    return {}


def _env_flag(name: str) -> bool | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load(app: Flask, test_config: dict | None) -> None:
    """Layer defaults, instance config and environment (or the test mapping) onto app.config."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_object(Defaults)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'careerprep.sqlite'}"
    if test_config is not None:
        app.config.from_mapping(test_config)
        app.config.setdefault("SESSION_COOKIE_SECURE", False)
        _finish(app)
        return
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(os.environ["DATABASE_URL"])
    if os.environ.get("LOG_REQUESTS") is not None:  # LOG_REQUESTS=0 turns the request log off
        app.config["LOG_REQUESTS"] = _env_flag("LOG_REQUESTS")
    if os.environ.get("TRUSTED_PROXIES"):
        app.config["TRUSTED_PROXIES"] = int(os.environ["TRUSTED_PROXIES"])
    for name in ("RATELIMIT_STORAGE_URI", "RATELIMIT_KEY_PREFIX"):
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    for name in ("SPEECH_MODEL", "SPEECH_REDIS_URL", "SPEECH_AUDIO_DIR"):
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    if os.environ.get("SPEECH_ENABLED") is not None:
        app.config["SPEECH_ENABLED"] = _env_flag("SPEECH_ENABLED")
    for name in ("SESSION_IDLE_DAYS", "SESSION_MAX_DAYS", "PASSWORD_HASH_CONCURRENCY"):
        if os.environ.get(name):
            app.config[name] = int(os.environ[name])
    if "SECRET_KEY" not in app.config or not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(instance)
    # Cookies are Secure outside debug; SESSION_COOKIE_SECURE=0 allows plain-HTTP local serving.
    secure = _env_flag("SESSION_COOKIE_SECURE")
    if secure is None:
        secure = not app.debug
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_SECURE"] = secure
    _finish(app)


def _finish(app: Flask) -> None:
    # A remember-me cookie never outlives the sign-in it belongs to.
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=app.config["SESSION_MAX_DAYS"])
    url = app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **engine_options(url),
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }
