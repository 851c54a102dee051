"""Your data back in: read an account export (account/data.py, format 2) and write it into an account
on this server, all or nothing.

Read and checked whole before any write (every bad field named by its path, as `reviews[3].rating`);
questions are matched by their permanent id (question.uid), roles by slug. Written in ONE write
transaction, and idempotent: a review already here (same question and time), a mock interview or a
report already here (same role or question and creation time) is skipped; card states, flags, plans
and settings are set to the file's values, so importing the same file twice changes nothing.
Recordings (transcripts, word timings, kept audio) are checked in restore_check.py and written by
restore_write.py with a job id derived from the account and the recording, so they are skipped too.
Sign-ins and scheduler fits stay with the server that made them.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select

from ..banks.errors import BankError
from ..banks.formats import check_json_depth
from ..extensions import db
from ..localtime import ZONES
from ..models import Question, Report, Role
from ..practice.queue import MODES
from ..themes import THEMES
from . import restore_check
from .restore_check import Check, RestoreError, RestoreSummary, question
from .restore_write import restore

__all__ = ["MAX_BYTES", "RestoreError", "RestoreSummary", "check_document", "read_document", "restore"]

# An export of years of daily reviews is a few MiB; kept audio is base64 (4/3 of its bytes), so an
# export holding more than a recording or two of several minutes passes this and is refused whole.
MAX_BYTES = 20 * 1024 * 1024
FORMATS = (2,)
SETTINGS = {
    "new_per_day": (int, 0, 200),
    "max_reviews_per_day": (int, 0, 10_000),
    "desired_retention": (float, 0.70, 0.97),
    "mock_questions": (int, 1, 50),
    "mock_minutes": (int, 1, 60),
}


# -- reading and checking -------------------------------------------------------------------------------


def read_document(raw: bytes) -> dict:
    """The export as data; RestoreError for a file too large, not UTF-8, not JSON or nested too deep."""
    if len(raw) > MAX_BYTES:
        raise RestoreError([f"the file is {len(raw):,} bytes; an export may be at most {MAX_BYTES:,}"])
    try:
        text = raw.decode("utf-8-sig")
        check_json_depth(text, "the file")
        data = json.loads(text)
    except UnicodeDecodeError:
        raise RestoreError(
            ["the file is not UTF-8 text; upload the .json file CareerPrep exported"]
        ) from None
    except BankError as exc:
        raise RestoreError(exc.errors) from None
    except ValueError as exc:
        raise RestoreError([f"the file is not JSON: {exc}"]) from None
    if not isinstance(data, dict):
        raise RestoreError(["the file is not a CareerPrep export (a JSON object)"])
    return data


def check_document(data: dict) -> dict:
    """Every section checked and turned into rows to write; RestoreError naming every bad field."""
    check = Check()
    if data.get("format_version") not in FORMATS:
        raise RestoreError([f"format_version: must be one of {FORMATS} (export again from CareerPrep)"])
    uids = set()
    for section in ("cards", "reviews", "reports", "recordings"):
        uids |= {i.get("question_id") for _, i in check.items(data, section)}
    for _, mock in check.items(data, "mock_interviews"):
        uids |= {i.get("question_id") for i in mock.get("items") or [] if isinstance(i, dict)}
    uids = {u for u in uids if isinstance(u, str)}
    questions = dict(
        db.session.execute(select(Question.uid, Question.id).where(Question.uid.in_(uids))).all()
    )
    roles = dict(db.session.execute(select(Role.slug, Role.id)).all())
    check.errors.clear()  # the lists were only walked for their ids; they are checked below
    plan: dict[str, Any] = {
        "settings": _settings(check, data),
        "plans": [],
        "cards": [],
        "reviews": [],
        "mocks": [],
        "reports": [],
        "recordings": [],
    }
    for path, item in check.items(data, "interview_dates"):
        role = roles.get(item.get("role"))
        if role is None:
            check.fail(f"{path}.role", "no role with this slug on this server")
        try:
            day = date.fromisoformat(item.get("date"))
        except (TypeError, ValueError):
            check.fail(f"{path}.date", "must be a date (YYYY-MM-DD)")
            continue
        plan["plans"].append({"role_id": role, "interview_date": day})
    for path, item in check.items(data, "cards"):
        plan["cards"].append(_card(check, questions, item, path))
    for path, item in check.items(data, "reviews"):
        plan["reviews"].append(_review(check, questions, item, path))
    for path, item in check.items(data, "mock_interviews"):
        plan["mocks"].append(_mock(check, questions, roles, item, path))
    for path, item in check.items(data, "reports"):
        plan["reports"].append(
            {
                "question_id": question(check, questions, item, path),
                "reason": check.text(item, path, "reason", null=False, choices=tuple(Report.REASONS)),
                "comment": check.text(item, path, "comment") or "",
                "status": check.text(item, path, "status", null=False, choices=Report.STATUSES),
                "created_at": check.time(item, path, "created_at", null=False),
                "resolved_at": check.time(item, path, "resolved_at"),
                "resolution_note": check.text(item, path, "resolution_note") or "",
            }
        )
    mocks = {(m["role_id"], m["created_at"]) for m in plan["mocks"]}
    plan["recordings"] = restore_check.recordings(check, data, questions, roles, mocks)
    if check.errors:
        raise RestoreError(check.errors)
    return plan


def _settings(check: Check, data: dict) -> dict:
    """The study settings, theme and scheduler choices."""
    settings, scheduler = data.get("settings"), data.get("scheduler")
    if not isinstance(settings, dict) or not isinstance(scheduler, dict):
        check.fail("settings" if not isinstance(settings, dict) else "scheduler", "must be an object")
        return {}
    out = {name: check.number(settings, "settings", name, *rule) for name, rule in SETTINGS.items()}
    out["draft_enabled"] = check.boolean(settings, "settings", "draft_enabled")
    if "keep_recordings" in settings:  # exports made before recordings existed have no such setting
        out["keep_recordings"] = check.boolean(settings, "settings", "keep_recordings")
    out["timezone"] = check.text(settings, "settings", "timezone", null=False, choices=ZONES)
    out["theme"] = check.text(settings, "settings", "theme", null=False, choices=THEMES)
    out["load_balance"] = check.boolean(scheduler, "scheduler", "load_balance")
    out["share_reviews"] = check.boolean(scheduler, "scheduler", "share_reviews")
    out["easy_days"] = check.ints(scheduler, "scheduler", "easy_days")
    params = scheduler.get("fsrs_parameters")
    if params is not None and not (
        isinstance(params, list)
        and all(isinstance(p, int | float) and not isinstance(p, bool) for p in params)
    ):
        check.fail("scheduler.fsrs_parameters", "must be a list of numbers or null")
    out["fsrs_params"] = params
    return out


def _card(check: Check, questions: dict[str, int], item: dict, path: str) -> dict:
    """One card: its memory state (absent for a card suspended before its first rating) and flags."""
    card = {"question_id": question(check, questions, item, path), "state": None, "flag": None}
    if item.get("state") is not None:
        card["state"] = {
            "state": check.number(item, path, "state", int, 1, 3),
            "step": check.number(item, path, "step", int, 0, 100, null=True),
            "stability": check.number(item, path, "stability", float, 0, 1e6, null=True),
            "difficulty": check.number(item, path, "difficulty", float, 0, 10, null=True),
            "due": check.time(item, path, "due", null=False),
            "last_review": check.time(item, path, "last_review"),
            "reps": check.number(item, path, "reps", int, 0, 1e6),
            "lapses": check.number(item, path, "lapses", int, 0, 1e6),
            "introduced_at": check.time(item, path, "introduced_at", null=False),
        }
    if "suspended" in item:
        card["flag"] = {
            "suspended": check.boolean(item, path, "suspended"),
            "leech": check.boolean(item, path, "leech"),
            "buried_until": check.time(item, path, "buried_until"),
        }
    return card


def _review(check: Check, questions: dict[str, int], item: dict, path: str) -> dict:
    """One review, every column the log keeps; `export_id` links the mock item that made it."""
    attempt = item.get("attempt")
    if attempt is not None and not isinstance(attempt, dict):
        check.fail(f"{path}.attempt", "must be an object or null")
    return {
        "export_id": item.get("id"),
        "question_id": question(check, questions, item, path),
        "reviewed_at": check.time(item, path, "reviewed_at", null=False),
        "rating": check.number(item, path, "rating", int, 1, 4),
        "duration_ms": check.number(item, path, "duration_ms", int, 0, 86_400_000),
        "state": check.number(item, path, "state", int, 1, 3),
        "step": check.number(item, path, "step", int, 0, 100, null=True),
        "stability": check.number(item, path, "stability", float, 0, 1e6, null=True),
        "difficulty": check.number(item, path, "difficulty", float, 0, 10, null=True),
        "due": check.time(item, path, "due", null=False),
        "interval_seconds": check.number(item, path, "interval_seconds", int, 0, 1e10),
        "mode": check.text(item, path, "mode", null=False, choices=(*MODES, "mock")),
        "draft": check.text(item, path, "draft"),
        "covered": check.ints(item, path, "covered"),
        "key_point_count": check.number(item, path, "key_point_count", int, 0, 100, null=True),
        "prev_state": check.number(item, path, "prev_state", int, 0, 3),
        "attempt": attempt if isinstance(attempt, dict) else None,
        "correct": check.boolean(item, path, "correct", null=True),
    }


def _mock(check: Check, questions: dict[str, int], roles: dict[str, int], item: dict, path: str) -> dict:
    """One mock interview and its items."""
    role = roles.get(item.get("role"))
    if role is None:
        check.fail(f"{path}.role", "no role with this slug on this server")
    categories = item.get("categories")
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        check.fail(f"{path}.categories", "must be a list of text")
    mock = {
        "role_id": role,
        "created_at": check.time(item, path, "created_at", null=False),
        "finished_at": check.time(item, path, "finished_at"),
        "rated_at": check.time(item, path, "rated_at"),
        "seconds_per_question": check.number(item, path, "seconds_per_question", int, 1, 86_400),
        "categories": categories,
        "items": [],
    }
    for i, row in enumerate(item.get("items") or []):
        ipath = f"{path}.items[{i}]"
        if not isinstance(row, dict):
            check.fail(ipath, "must be an object")
            continue
        mock["items"].append(
            {
                "position": check.number(row, ipath, "position", int, 0, 1000),
                "question_id": question(check, questions, row, ipath),
                "draft": check.text(row, ipath, "draft"),
                "rating": check.number(row, ipath, "rating", int, 1, 4, null=True),
                "covered": check.ints(row, ipath, "covered"),
                "started_at": check.time(row, ipath, "started_at"),
                "answered_at": check.time(row, ipath, "answered_at"),
                "attempt": row.get("attempt") if isinstance(row.get("attempt"), dict) else None,
                "export_review_id": row.get("review_id"),
            }
        )
    return mock
