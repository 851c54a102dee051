"""Helpers for the bank import and export tests: the upload, the preview's Apply form, row counts."""

from __future__ import annotations

import html
import re

from careerprep.admin.transfer import pack
from careerprep.banks import csv_bank
from careerprep.extensions import db
from careerprep.models import AuditLog, Question, QuestionSet, Role, question_uid

COLUMNS = csv_bank.CSV_COLUMNS


def multipart(content: bytes, filename: str, boundary: str = "cpboundary") -> tuple[bytes, str]:
    """A multipart body with one file field, built by hand: the test client's own encoder spools big
    bodies to a temporary file it never closes."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="bank"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def preview(client, content: bytes | str, filename: str = "bank.yaml"):
    """POST a file to the import page (the dry run)."""
    body, content_type = multipart(content.encode() if isinstance(content, str) else content, filename)
    return client.post("/admin/import", data=body, content_type=content_type)


def apply_form(page: str) -> dict:
    """The hidden fields of the preview's "Apply these changes" form."""
    form = {}
    for name in ("payload", "filename"):
        match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
        assert match, f"no {name} field on the preview page"
        form[name] = html.unescape(match.group(1))
    return form


def apply_form_from_raw(content: str | bytes, filename: str = "bank.yaml") -> dict:
    raw = content.encode() if isinstance(content, str) else content
    return {"payload": pack(raw), "filename": filename}


def upload(client, content: bytes | str, filename: str = "bank.yaml"):
    """Import a file the one way there is: the preview, then its Apply form (or the refused preview)."""
    response = preview(client, content, filename)
    if response.status_code != 200:
        return response
    return client.post("/admin/import/apply", data=apply_form(response.get_data(as_text=True)))


def counts(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            db.session.scalar(db.select(db.func.count(m.id))) for m in (Role, QuestionSet, Question, AuditLog)
        )


def bank_snapshot(app, role_slug: str = "test-role") -> dict:
    """A role with its sets and live questions, field by field (ids left out)."""
    with app.app_context():
        role = db.session.scalar(db.select(Role).filter_by(slug=role_slug))
        sets = db.session.scalars(
            db.select(QuestionSet).filter_by(role_id=role.id).order_by(QuestionSet.slug)
        )
        return {
            "role": (role.slug, role.title, role.summary),
            "sets": [
                (
                    s.slug,
                    s.title,
                    s.description,
                    s.published,
                    [
                        (
                            q.key,
                            q.prompt,
                            q.answer,
                            q.key_points,
                            q.category,
                            q.difficulty,
                            q.tags,
                            q.position,
                        )
                        for q in db.session.scalars(
                            db.select(Question)
                            .filter_by(set_id=s.id, archived=False)
                            .order_by(Question.position)
                        )
                    ],
                )
                for s in sets
            ],
        }


def with_ids(bank: dict) -> dict:
    """A validated bank as an export writes it: each question's permanent id first (the one a fresh
    server gives a question created at role/set/key)."""
    role = bank["role"]["slug"]
    return {
        **bank,
        "sets": [
            {
                **s,
                "questions": [{"id": question_uid(role, s["slug"], q["key"]), **q} for q in s["questions"]],
            }
            for s in bank["sets"]
        ],
    }
