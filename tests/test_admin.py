"""Admin: every /admin URL is admin-only; bank upload is validated whole and all-or-nothing."""

from __future__ import annotations

import json

import pytest
import yaml
from werkzeug.routing import IntegerConverter

from careerprep.extensions import db
from careerprep.models import Question
from tests.conftest import bank_dict, load_bank
from tests.transfer_support import counts, multipart, upload


def admin_urls(app):
    """Every rule under /admin, with placeholder values, and the methods it accepts."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        values = {
            arg: 1 if isinstance(rule._converters.get(arg), IntegerConverter) else "x"
            for arg in rule.arguments
        }
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, url))
    return urls


def test_the_url_map_has_admin_routes(app):
    urls = admin_urls(app)
    assert ("GET", "/admin/") in urls
    assert ("POST", "/admin/import") in urls and ("POST", "/admin/import/apply") in urls
    assert ("POST", "/admin/") not in urls  # one import path: the preview


def test_every_admin_url_is_403_for_a_non_admin(app, logged_in):
    for method, url in admin_urls(app):
        response = logged_in.open(url, method=method)
        assert response.status_code == 403, (method, url)
        assert b"Not allowed" in response.data


def test_every_admin_url_sends_anonymous_users_to_login(app, client):
    for method, url in admin_urls(app):
        response = client.open(url, method=method)
        assert response.status_code == 303, (method, url)
        assert "/auth/login" in response.headers["Location"]


# The routes of bank import and export, users and the audit log one by one (the walks above cover
# them too, in a single test each).
ROUTES = [
    ("GET", "/admin/import"),
    ("POST", "/admin/import"),
    ("POST", "/admin/import/apply"),
    ("GET", "/admin/export"),
    ("GET", "/admin/sets/1/export.yaml"),
    ("GET", "/admin/sets/1/export.json"),
    ("GET", "/admin/sets/1/export.csv"),
    ("GET", "/admin/sets/1/export.apkg"),
    ("GET", "/admin/roles/1/export.apkg"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users/1/admin"),
    ("POST", "/admin/users/1/active"),
    ("GET", "/admin/audit"),
]


def test_the_import_and_export_routes_are_registered(app):
    rules = {(m, r.rule) for r in app.url_map.iter_rules() for m in r.methods}
    assert ("POST", "/admin/import/apply") in rules
    assert ("GET", "/admin/sets/<int:set_id>/export.<fmt>") in rules
    assert ("GET", "/admin/roles/<int:role_id>/export.apkg") in rules
    assert ("GET", "/roles/<slug>/anki.apkg") in rules


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_each_route_is_403_for_a_non_admin(app, logged_in, method, url):
    load_bank(app, n_questions=2)  # set 1 and role 1 exist
    response = logged_in.open(url, method=method, data={"action": "promote"})
    assert response.status_code == 403
    assert b"Not allowed" in response.data


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_each_route_sends_anonymous_users_to_login(app, client, method, url):
    load_bank(app, n_questions=2)
    response = client.open(url, method=method, data={"action": "promote"})
    assert response.status_code == 303
    assert "/auth/login" in response.headers["Location"]


def test_admin_page_lists_roles_and_sets(app, admin):
    load_bank(app, n_questions=4)
    html = admin.get("/admin/").get_data(as_text=True)
    assert "Role test-role" in html and "Set basics" in html
    assert ">4<" in html


def test_upload_yaml_bank_imports_it(app, admin):
    response = upload(admin, yaml.safe_dump(bank_dict(n_questions=3)).encode())
    assert response.status_code == 303
    assert counts(app)[:3] == (1, 1, 3)
    html = admin.get("/admin/").get_data(as_text=True)
    assert "3 questions added" in html


def test_upload_json_bank_imports_it(app, admin):
    response = upload(admin, json.dumps(bank_dict(n_questions=2)).encode(), "bank.json")
    assert response.status_code == 303
    assert counts(app)[:3] == (1, 1, 2)


def test_reupload_updates_by_key(app, admin):
    bank = bank_dict(n_questions=2)
    upload(admin, yaml.safe_dump(bank).encode())
    bank["sets"][0]["questions"][0]["answer"] = "A better answer."
    assert upload(admin, yaml.safe_dump(bank).encode()).status_code == 303
    assert counts(app)[:3] == (1, 1, 2)
    with app.app_context():
        assert db.session.scalar(db.select(Question.answer).filter_by(key="q-0")) == "A better answer."


def test_invalid_bank_lists_every_error_and_writes_nothing(app, admin):
    bank = bank_dict(n_questions=4)
    del bank["sets"][0]["questions"][3]["answer"]
    bank["sets"][0]["questions"][1]["difficulty"] = 7
    bank["sets"][0]["questions"][2]["key_points"] = ["only one"]
    bank["sets"][0]["questions"][0]["surprise"] = "x"
    response = upload(admin, yaml.safe_dump(bank).encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "sets[0].questions[3].answer: required" in html
    assert "sets[0].questions[1].difficulty: must be 1, 2 or 3" in html
    assert "sets[0].questions[2].key_points: needs 3 to 6 items, got 1" in html
    assert "sets[0].questions[0].surprise: unknown field" in html
    assert "4 problems found in bank.yaml; nothing was imported." in html
    assert counts(app)[:3] == (0, 0, 0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"role: [unclosed", "YAML syntax error"),
        (b"\xff\xfe\x00bad", "not UTF-8 text"),
        (b"role: {slug: a, title: A}\nrole: {slug: b, title: B}\nsets: []", "duplicate key"),
        (b"- just\n- a list", "must be a mapping"),
        (b"", "the file is empty"),
        (b"!!python/object/apply:os.system ['echo hi']", "YAML syntax error"),
    ],
)
def test_malformed_files_get_clear_messages(app, admin, content, message):
    response = upload(admin, content)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts(app)[:3] == (0, 0, 0)


def test_wrong_extension_and_missing_file(app, admin):
    response = upload(admin, b"role: x", "bank.exe")
    assert response.status_code == 422
    assert b"bank.exe: unsupported file type; use .yaml, .yml, .json or .csv" in response.data
    response = admin.post("/admin/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert b"Choose a file to upload." in response.data


def test_oversized_upload_is_413(app, admin):
    body, content_type = multipart(b"#" * (1024 * 1024 + 10), "big.yaml")
    response = admin.post("/admin/import", data=body, content_type=content_type)
    assert response.status_code == 413
    assert b"1 MiB" in response.data
    assert counts(app)[:3] == (0, 0, 0)
