"""Your data back in: read an account export (account/data.py, format 2) and write it into an account
on this server, all or nothing.

Read and checked whole before any write (every bad field named by its path, as `reviews[3].rating`);
questions are matched by their permanent id (question.uid), roles by slug. Written in ONE write
transaction, and idempotent: a review already here (same question and time), a mock interview or a
report already here (same role or question and creation time) is skipped; card states, flags, plans
and settings are set to the file's values, so importing the same file twice changes nothing.
Sign-ins and scheduler fits stay with the server that made them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from ..banks.errors import BankError
from ..banks.formats import check_json_depth
from ..banks.rules import MAX_TEXT
from ..extensions import db
from ..localtime import ZONES
from ..models import (
    CardFlag,
    CardState,
    MockInterview,
    MockItem,
    Question,
    Report,
    Review,
    Role,
    RolePlan,
    User,
    as_utc,
    write_transaction,
)
from ..practice.queue import MODES
from ..themes import THEMES

MAX_BYTES = 20 * 1024 * 1024  # an export of years of daily reviews is a few MiB
FORMATS = (2,)
SETTINGS = {
    "new_per_day": (int, 0, 200),
    "max_reviews_per_day": (int, 0, 10_000),
    "desired_retention": (float, 0.70, 0.97),
    "mock_questions": (int, 1, 50),
    "mock_minutes": (int, 1, 60),
}


class RestoreError(Exception):
    """The file cannot be imported; `errors` names every problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class RestoreSummary:
    added: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        names = ("reviews", "cards", "mock_interviews", "reports", "interview_dates")
        added = ", ".join(f"{self.added.get(n, 0)} {n.replace('_', ' ')}" for n in names)
        return f"{added} written; {sum(self.skipped.values())} already here"


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


class _Check:
    """Field checks that collect every problem by path instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def number(
        self, obj: dict, path: str, name: str, kind: type, low: float, high: float, null: bool = False
    ):
        value = obj.get(name)
        if value is None and null:
            return None
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if kind is int:
            ok = ok and float(value).is_integer()
        if not ok or not low <= value <= high:
            self.fail(f"{path}.{name}", f"must be a number from {low:g} to {high:g}")
            return None
        return kind(value)

    def boolean(self, obj: dict, path: str, name: str, null: bool = False) -> bool | None:
        value = obj.get(name)
        if not isinstance(value, bool) and not (value is None and null):
            self.fail(f"{path}.{name}", "must be true or false")
        return value

    def text(self, obj: dict, path: str, name: str, null: bool = True, choices=None) -> str | None:
        value = obj.get(name)
        if value is None and null:
            return None
        if (
            not isinstance(value, str)
            or len(value) > MAX_TEXT
            or (choices is not None and value not in choices)
        ):
            hint = f"one of {', '.join(choices)}" if choices is not None else f"text of at most {MAX_TEXT}"
            self.fail(f"{path}.{name}", f"must be {hint}")
            return None
        return value

    def time(self, obj: dict, path: str, name: str, null: bool = True) -> datetime | None:
        value = obj.get(name)
        if value is None and null:
            return None
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError
            return as_utc(parsed)
        except (TypeError, ValueError):
            self.fail(f"{path}.{name}", "must be an ISO 8601 time with its UTC offset")
            return None

    def ints(self, obj: dict, path: str, name: str) -> list[int] | None:
        value = obj.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in value
        ):
            self.fail(f"{path}.{name}", "must be a list of whole numbers")
            return None
        return value

    def items(self, data: dict, name: str) -> list[tuple[str, dict]]:
        value = data.get(name, [])
        if not isinstance(value, list):
            self.fail(name, "must be a list")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((f"{name}[{i}]", item))
            else:
                self.fail(f"{name}[{i}]", "must be an object")
        return out


def _question(check: _Check, questions: dict[str, int], obj: dict, path: str) -> int | None:
    """The local question id for a permanent id; an error when this server has no such question."""
    uid = obj.get("question_id")
    if not isinstance(uid, str) or uid not in questions:
        check.fail(f"{path}.question_id", "no question with this id on this server (export format 2 needed)")
        return None
    return questions[uid]


def check_document(data: dict) -> dict:
    """Every section checked and turned into rows to write; RestoreError naming every bad field."""
    check = _Check()
    if data.get("format_version") not in FORMATS:
        raise RestoreError([f"format_version: must be one of {FORMATS} (export again from CareerPrep)"])
    uids = set()
    for section in ("cards", "reviews", "reports"):
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
                "question_id": _question(check, questions, item, path),
                "reason": check.text(item, path, "reason", null=False, choices=tuple(Report.REASONS)),
                "comment": check.text(item, path, "comment") or "",
                "status": check.text(item, path, "status", null=False, choices=Report.STATUSES),
                "created_at": check.time(item, path, "created_at", null=False),
                "resolved_at": check.time(item, path, "resolved_at"),
                "resolution_note": check.text(item, path, "resolution_note") or "",
            }
        )
    if check.errors:
        raise RestoreError(check.errors)
    return plan


def _settings(check: _Check, data: dict) -> dict:
    """The study settings, theme and scheduler choices."""
    settings, scheduler = data.get("settings"), data.get("scheduler")
    if not isinstance(settings, dict) or not isinstance(scheduler, dict):
        check.fail("settings" if not isinstance(settings, dict) else "scheduler", "must be an object")
        return {}
    out = {name: check.number(settings, "settings", name, *rule) for name, rule in SETTINGS.items()}
    out["draft_enabled"] = check.boolean(settings, "settings", "draft_enabled")
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


def _card(check: _Check, questions: dict[str, int], item: dict, path: str) -> dict:
    """One card: its memory state (absent for a card suspended before its first rating) and flags."""
    card = {"question_id": _question(check, questions, item, path), "state": None, "flag": None}
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


def _review(check: _Check, questions: dict[str, int], item: dict, path: str) -> dict:
    """One review, every column the log keeps; `export_id` links the mock item that made it."""
    attempt = item.get("attempt")
    if attempt is not None and not isinstance(attempt, dict):
        check.fail(f"{path}.attempt", "must be an object or null")
    return {
        "export_id": item.get("id"),
        "question_id": _question(check, questions, item, path),
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


def _mock(check: _Check, questions: dict[str, int], roles: dict[str, int], item: dict, path: str) -> dict:
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
                "question_id": _question(check, questions, row, ipath),
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


# -- writing --------------------------------------------------------------------------------------------


def _token(user_id: int, review: dict) -> str:
    """A review's one-time token, derived, so the same review imported twice meets itself."""
    seed = f"{user_id}|{review['question_id']}|{review['reviewed_at'].isoformat()}|{review['rating']}"
    return "import-" + hashlib.sha256(seed.encode()).hexdigest()[:48]


def restore(user: User, plan: dict) -> RestoreSummary:
    """Write a checked plan into `user`'s account in one write transaction (or write nothing)."""
    summary = RestoreSummary()
    with write_transaction():
        try:
            user = db.session.get(User, user.id)
            for name, value in plan["settings"].items():
                setattr(user, name, value)
            _write_plans(user.id, plan["plans"], summary)
            _write_cards(user.id, plan["cards"], summary)
            review_ids = _write_reviews(user.id, plan["reviews"], summary)
            _write_mocks(user.id, plan["mocks"], review_ids, summary)
            _write_reports(user.id, plan["reports"], summary)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    return summary


def _count(summary: RestoreSummary, name: str, added: bool) -> None:
    target = summary.added if added else summary.skipped
    target[name] = target.get(name, 0) + 1


def _write_plans(user_id: int, plans: list[dict], summary: RestoreSummary) -> None:
    stored = {p.role_id: p for p in db.session.scalars(select(RolePlan).filter_by(user_id=user_id))}
    for row in plans:
        existing = stored.get(row["role_id"])
        if existing is None:
            db.session.add(RolePlan(user_id=user_id, **row))
        elif existing.interview_date != row["interview_date"]:
            existing.interview_date = row["interview_date"]
        _count(summary, "interview_dates", existing is None)


def _write_cards(user_id: int, cards: list[dict], summary: RestoreSummary) -> None:
    states = {c.question_id: c for c in db.session.scalars(select(CardState).filter_by(user_id=user_id))}
    flags = {f.question_id: f for f in db.session.scalars(select(CardFlag).filter_by(user_id=user_id))}
    for card in cards:
        qid = card["question_id"]
        if card["state"] is not None:
            state = states.get(qid)
            if state is None:
                db.session.add(CardState(user_id=user_id, question_id=qid, **card["state"]))
            elif (state.last_review or state.introduced_at) <= (
                card["state"]["last_review"] or card["state"]["introduced_at"]
            ):  # a card studied here since the export keeps its newer state
                for name, value in card["state"].items():
                    if getattr(state, name) != value:
                        setattr(state, name, value)
            _count(summary, "cards", state is None)
        if card["flag"] is not None:
            flag = flags.get(qid)
            if flag is None:
                db.session.add(CardFlag(user_id=user_id, question_id=qid, **card["flag"]))
            else:
                for name, value in card["flag"].items():
                    if getattr(flag, name) != value:
                        setattr(flag, name, value)


def _write_reviews(user_id: int, reviews: list[dict], summary: RestoreSummary) -> dict[Any, int]:
    """Add the reviews not already here; returns {export's review id: local review id}."""
    here = {
        (qid, as_utc(at)): rid
        for rid, qid, at in db.session.execute(
            select(Review.id, Review.question_id, Review.reviewed_at).filter_by(user_id=user_id)
        )
    }
    ids: dict[Any, int] = {}
    for review in reviews:
        export_id = review["export_id"]
        row = {k: v for k, v in review.items() if k != "export_id"}
        local = here.get((row["question_id"], row["reviewed_at"]))
        _count(summary, "reviews", local is None)
        if local is None:
            review_row = Review(user_id=user_id, token=_token(user_id, row), **row)
            db.session.add(review_row)
            db.session.flush()  # its id, for the mock item that made it
            local = here[(row["question_id"], row["reviewed_at"])] = review_row.id
        ids[export_id] = local
    return ids


def _write_mocks(user_id: int, mocks: list[dict], review_ids: dict, summary: RestoreSummary) -> None:
    here = set(
        db.session.execute(select(MockInterview.role_id, MockInterview.created_at).filter_by(user_id=user_id))
    )
    here = {(role, as_utc(at)) for role, at in here}
    for mock in mocks:
        if (mock["role_id"], mock["created_at"]) in here:
            _count(summary, "mock_interviews", False)
            continue
        items = mock.pop("items")
        interview = MockInterview(user_id=user_id, **mock)
        interview.items = [
            MockItem(
                **{k: v for k, v in item.items() if k != "export_review_id"},
                review_id=review_ids.get(item["export_review_id"]),
            )
            for item in items
        ]
        db.session.add(interview)
        _count(summary, "mock_interviews", True)


def _write_reports(user_id: int, reports: list[dict], summary: RestoreSummary) -> None:
    here = {
        (qid, as_utc(at))
        for qid, at in db.session.execute(
            select(Report.question_id, Report.created_at).filter_by(user_id=user_id)
        )
    }
    for report in reports:
        added = (report["question_id"], report["created_at"]) not in here
        if added:
            db.session.add(Report(user_id=user_id, **report))
        _count(summary, "reports", added)
