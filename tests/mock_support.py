"""Helpers for the mock interview tests: start one through the form, read its items, answer them."""

from __future__ import annotations

import re

from careerprep.extensions import db
from careerprep.models import MockInterview, MockItem

START = "/roles/test-role/mock"
# q-0 … q-9 cycle through the categories: Alpha 4, Beta 3, Behavioural 3.
CATEGORIES = ("Alpha", "Beta", "Behavioural")


def start_mock(client, questions="3", minutes="2", behavioural=True, categories=(), headers=None) -> int:
    """Start a mock interview through the form; return its id."""
    data = {"questions": questions, "minutes": minutes, "categories": list(categories)}
    if behavioural:
        data["behavioural"] = "y"
    response = client.post(START, data=data, headers=headers or {})
    assert response.status_code == 303, response.get_data(as_text=True)
    match = re.fullmatch(r"/mock/(\d+)", response.headers["Location"])
    assert match
    return int(match.group(1))


def items(app, mock_id: int) -> list[MockItem]:
    """The mock's items in order, detached with their questions loaded."""
    with app.app_context():
        found = db.session.scalars(
            db.select(MockItem).filter_by(mock_id=mock_id).order_by(MockItem.position)
        ).all()
        for item in found:
            db.session.expunge(item.question)
            db.session.expunge(item)
        return found


def get_mock(app, mock_id: int) -> MockInterview:
    with app.app_context():
        mock = db.session.get(MockInterview, mock_id)
        db.session.expunge(mock)
        return mock


def answer(client, mock_id: int, item_id: int, draft="My answer.", headers=None):
    return client.post(
        f"/mock/{mock_id}/answer", data={"item_id": str(item_id), "draft": draft}, headers=headers or {}
    )


def answer_all(app, client, mock_id: int) -> list[MockItem]:
    for item in items(app, mock_id):
        assert answer(client, mock_id, item.id, draft=f"Draft for {item.question.key}").status_code == 303
    return items(app, mock_id)
