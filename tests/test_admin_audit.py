"""The read-only audit log: listing, links, filters, time zones, pages, and no way to change it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from careerprep import audit
from careerprep.extensions import db
from careerprep.models import AuditLog
from tests.conftest import make_user
from tests.helpers import audit_rows


def add_entry(app, action: str, at: datetime, *, actor="ann@example.com", actor_id=7, **kwargs) -> int:
    """An audit row at a given time, by a given actor."""
    with app.app_context():
        entry = audit.record(action, actor=SimpleNamespace(id=actor_id, email=actor), **kwargs)
        entry.created_at = at
        db.session.commit()
        return entry.id


def entry_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="audit-(\d+)">', html)]


@pytest.fixture
def entries(app):
    """A few entries of different kinds, a day apart, oldest first."""
    base = datetime(2025, 3, 10, 12, tzinfo=UTC)
    return [
        add_entry(
            app, "set.publish", base, object_type="question_set", object_id=3, summary="Published set A"
        ),
        add_entry(
            app,
            "question.edit",
            base + timedelta(days=1),
            actor="bob@example.com",
            object_type="question",
            object_id=5,
            summary="Edited question 100% done",
            changed={"answer": ["old", "new <b>"]},
        ),
        add_entry(
            app,
            "user.disable",
            base + timedelta(days=2),
            object_type="user",
            object_id=9,
            summary="Disabled pat@example.com",
            email="pat@example.com",
        ),
        add_entry(
            app, "bank.import", base + timedelta(days=3), actor="system", actor_id=None, summary="Imported"
        ),
    ]


# -- audit log ---------------------------------------------------------------------------------------------


def test_audit_page_lists_entries_newest_first_with_details(app, admin, entries):
    response = admin.get("/admin/audit")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert entry_ids(html) == entries[::-1]
    assert "4 entries, newest first." in html
    assert "2025-03-11 12:00:00 UTC" in html
    assert "bob@example.com" in html and "<code>question.edit</code>" in html
    # Details as JSON in a <details> element, escaped.
    assert "<details><summary>Details</summary><pre>" in html
    assert "&#34;new &lt;b&gt;&#34;" in html or "&quot;new &lt;b&gt;&quot;" in html
    # The action and type selects offer exactly what is in the log.
    select = re.search(r'<select id="audit-action".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"', select) == [
        "",
        "bank.import",
        "question.edit",
        "set.publish",
        "user.disable",
    ]
    # No controls that could change an entry.
    table = re.search(r'<table class="table" id="audit-log">.*?</table>', html, re.S).group(0)
    assert "<form" not in table and "<button" not in table


def test_audit_rows_link_to_the_objects_admin_page_when_there_is_one(app, admin, entries):
    html = admin.get("/admin/audit").get_data(as_text=True)
    user_row = re.search(rf'<tr id="audit-{entries[2]}">.*?</tr>', html, re.S).group(0)
    assert 'href="/admin/users?q=pat@example.com"' in user_row and "user #9" in user_row
    question_row = re.search(rf'<tr id="audit-{entries[1]}">.*?</tr>', html, re.S).group(0)
    if "admin.question_edit" in app.view_functions:
        assert 'href="/admin/questions/5/edit"' in question_row
    else:
        assert "<a " not in question_row
    system_row = re.search(rf'<tr id="audit-{entries[3]}">.*?</tr>', html, re.S).group(0)
    assert "<a " not in system_row and "system" in system_row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "question.edit"}, [1]),
        ({"action": "no.such"}, []),
        ({"actor": "BOB@"}, [1]),
        ({"actor": "example.com"}, [2, 1, 0]),
        ({"object_type": "user"}, [2]),
        ({"text": "100%"}, [1]),
        ({"text": "%"}, [1]),
        ({"text": "published SET"}, [0]),
        ({"date_from": "2025-03-11"}, [3, 2, 1]),
        ({"date_to": "2025-03-11"}, [1, 0]),
        ({"date_from": "2025-03-11", "date_to": "2025-03-12"}, [2, 1]),
        ({"date_from": "2025-03-11", "date_to": "2025-03-11", "actor": "bob"}, [1]),
    ],
)
def test_audit_filters(app, admin, entries, query, expected):
    response = admin.get("/admin/audit", query_string=query)
    assert response.status_code == 200
    assert entry_ids(response.get_data(as_text=True)) == [entries[i] for i in expected]


def test_audit_dates_are_days_in_the_viewers_time_zone(app, client, auth):
    viewer = make_user(app, is_admin=True, timezone="Pacific/Auckland")
    # 12:30 UTC on the 14th is 01:30 on the 15th in Auckland (UTC+13 in January).
    late = add_entry(app, "role.edit", datetime(2025, 1, 14, 12, 30, tzinfo=UTC), summary="x")
    early = add_entry(app, "role.edit", datetime(2025, 1, 14, 10, 0, tzinfo=UTC), summary="y")
    auth.login(viewer.email)
    html = client.get("/admin/audit?date_from=2025-01-15&date_to=2025-01-15").get_data(as_text=True)
    assert entry_ids(html) == [late]
    assert "2025-01-14 12:30:00 UTC" in html and "2025-01-15 01:30:00 NZDT" in html
    assert entry_ids(client.get("/admin/audit?date_to=2025-01-14").get_data(as_text=True)) == [early]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "yesterday"}, "Enter a date as YYYY-MM-DD"),
        ({"date_to": "2025-02-30"}, "Enter a date as YYYY-MM-DD"),
        ({"date_to": "9999-12-31"}, "Enter a date as YYYY-MM-DD"),
        ({"date_from": "0001-01-01"}, None),
        ({"date_from": "2025-03-12", "date_to": "2025-03-11"}, "The end date is before the start date."),
    ],
)
def test_audit_invalid_dates_get_a_message_not_an_error(app, admin, entries, query, message):
    response = admin.get("/admin/audit", query_string=query)
    html = response.get_data(as_text=True)
    if message is None:  # a far-past date is valid
        assert response.status_code == 200
        assert len(entry_ids(html)) == 4
        return
    assert response.status_code == 422
    assert message in html and 'aria-invalid="true"' in html
    assert entry_ids(html) == []
    assert "to see entries" in html
    for value in query.values():
        assert f'value="{value}"' in html


def test_audit_pagination_keeps_the_filters(app, admin):
    base = datetime(2025, 1, 1, tzinfo=UTC)
    ids = [
        add_entry(app, "question.edit", base + timedelta(minutes=i), summary=f"edit {i}") for i in range(60)
    ]
    add_entry(app, "set.publish", base, summary="other")
    first = admin.get("/admin/audit?action=question.edit").get_data(as_text=True)
    assert entry_ids(first) == ids[::-1][:50]
    assert "Page 1 of 2" in first
    assert 'href="/admin/audit?page=2&amp;action=question.edit"' in first
    second = admin.get("/admin/audit?page=2&action=question.edit").get_data(as_text=True)
    assert entry_ids(second) == ids[::-1][50:]
    assert admin.get("/admin/audit?page=7").status_code == 200


def test_audit_rows_cannot_be_edited_or_deleted_through_the_orm(app, entries):
    with app.app_context():
        row = db.session.get(AuditLog, entries[0])
        row.summary = "rewritten"
        with pytest.raises(RuntimeError, match="cannot be edited"):
            db.session.commit()
        db.session.rollback()
        row = db.session.get(AuditLog, entries[0])
        db.session.delete(row)
        with pytest.raises(RuntimeError, match="cannot be deleted"):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditLog, entries[0]).summary == "Published set A"
        assert db.session.scalar(db.select(db.func.count(AuditLog.id))) == 4


def test_no_admin_url_can_change_the_audit_log(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin/audit")]
    assert [rule.endpoint for rule in rules] == ["admin.audit"]
    for rule in rules:
        assert not rule.methods & {"POST", "PUT", "PATCH", "DELETE"}, rule


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_writing_to_the_audit_page_is_405(app, admin, entries, method):
    assert admin.open("/admin/audit", method=method).status_code == 405
    assert len(audit_rows(app)) == 4


def test_user_changes_show_up_in_the_audit_log(app, admin):
    target = make_user(app, email="pat@example.com")
    admin.post(f"/admin/users/{target.id}/active", data={"action": "disable"})
    html = admin.get("/admin/audit?object_type=user&actor=boss").get_data(as_text=True)
    assert "<code>user.disable</code>" in html
    assert "Disabled pat@example.com and ended 0 sign-ins" in html
    assert "boss@example.com" in html
