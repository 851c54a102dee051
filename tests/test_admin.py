"""Admin: every /admin URL is admin-only; bank upload is validated whole and all-or-nothing."""

from __future__ import annotations

import io
import json
import re

import pytest
import yaml
from werkzeug.routing import IntegerConverter

from careerprep.extensions import db
from careerprep.models import Question, QuestionSet, Role
from tests.conftest import PASSWORD, bank_dict, make_user


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


@pytest.fixture
def admin(app, client, auth):
    user = make_user(app, is_admin=True)
    assert auth.login(user.email, PASSWORD).status_code == 303
    return client


def upload(client, content: bytes, filename="bank.yaml"):
    """Import a file the one way there is: the preview, then its Apply form."""
    preview = client.post(
        "/admin/import", data={"bank": (io.BytesIO(content), filename)}, content_type="multipart/form-data"
    )
    if preview.status_code != 200:
        return preview
    page = preview.get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"|name="payload" value="([^"]+)"', page)
    value = next(g for g in payload.groups() if g)
    return client.post("/admin/import/apply", data={"payload": value, "filename": filename})


def counts(app):
    with app.app_context():
        return tuple(db.session.scalar(db.select(db.func.count(m.id))) for m in (Role, QuestionSet, Question))


def test_admin_page_lists_roles_and_sets(app, admin):
    from tests.conftest import load_bank

    load_bank(app, n_questions=4)
    html = admin.get("/admin/").get_data(as_text=True)
    assert "Role test-role" in html and "Set basics" in html
    assert ">4<" in html


def test_upload_yaml_bank_imports_it(app, admin):
    response = upload(admin, yaml.safe_dump(bank_dict(n_questions=3)).encode())
    assert response.status_code == 303
    assert counts(app) == (1, 1, 3)
    html = admin.get("/admin/").get_data(as_text=True)
    assert "3 questions added" in html


def test_upload_json_bank_imports_it(app, admin):
    response = upload(admin, json.dumps(bank_dict(n_questions=2)).encode(), "bank.json")
    assert response.status_code == 303
    assert counts(app) == (1, 1, 2)


def test_reupload_updates_by_key(app, admin):
    bank = bank_dict(n_questions=2)
    upload(admin, yaml.safe_dump(bank).encode())
    bank["sets"][0]["questions"][0]["answer"] = "A better answer."
    assert upload(admin, yaml.safe_dump(bank).encode()).status_code == 303
    assert counts(app) == (1, 1, 2)
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
    assert counts(app) == (0, 0, 0)


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
    assert counts(app) == (0, 0, 0)


def test_wrong_extension_and_missing_file(app, admin):
    response = upload(admin, b"role: x", "bank.exe")
    assert response.status_code == 422
    assert b"bank.exe: unsupported file type; use .yaml, .yml, .json or .csv" in response.data
    response = admin.post("/admin/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert b"Choose a file to upload." in response.data


def test_oversized_upload_is_413(app, admin):
    # Built by hand: the test client's own encoder spools big bodies to an unclosed temp file.
    boundary = "cpboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="bank"; '
        f'filename="big.yaml"\r\nContent-Type: application/yaml\r\n\r\n'
    ).encode()
    body += b"#" * (1024 * 1024 + 10) + f"\r\n--{boundary}--\r\n".encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    response = admin.post("/admin/import", data=body, content_type=content_type)
    assert response.status_code == 413
    assert b"1 MiB" in response.data
    assert counts(app) == (0, 0, 0)
