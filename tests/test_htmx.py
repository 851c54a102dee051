"""Page or fragment, decided in careerprep/htmx.py: a history restore always gets the whole page.

htmx 2 restores a history entry it no longer has cached with a GET carrying `HX-Request: true` AND
`HX-History-Restore-Request: true`; answering it with a fragment paints a bare table as the page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import url_for

from careerprep import create_app

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
BANK = {"n_questions": 30}  # conftest's `bank`: enough questions for the question list to have pages


def pushed_endpoints() -> set[str]:
    """Endpoints whose links or forms push their URL into history (hx-push-url in a template)."""
    found: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for tag in re.findall(r"<[^>]*hx-push-url[^>]*>", text, re.S):
            found.update(re.findall(r"url_for\('([\w.]+)'", tag))
        # The pager pushes the URL of whatever list it is given a target for.
        found.update(re.findall(r"pager\(page, '([\w.]+)', [^)]*target=", text))
        if "{{ search_url }}" in text:  # the users page builds its search URL in the view
            found.add("admin.users")
    return found


PUSHED = sorted(pushed_endpoints())


def _get_endpoints() -> list[str]:
    """Every GET endpoint that takes no argument (built at collection, on a throwaway app)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
    )


def test_the_pushed_urls_are_found():
    assert {"admin.questions", "admin.users"} <= set(PUSHED)


@pytest.mark.parametrize("endpoint", PUSHED)
def test_a_history_restore_of_a_pushed_url_gets_the_whole_page(app, bank, admin, endpoint):
    with app.test_request_context():
        url = url_for(endpoint)
    fragment = admin.get(url, headers={"HX-Request": "true", "HX-Target": "user-results"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    for target in ({}, {"HX-Target": "user-results"}, {"HX-Target": "question-results"}):
        response = admin.get(url, headers={**RESTORE, **target})
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<html" in page and 'id="main"' in page, endpoint
        assert "HX-History-Restore-Request" in response.headers["Vary"]


@pytest.mark.parametrize("endpoint", _get_endpoints())
def test_every_html_page_restores_whole(app, bank, admin, endpoint):
    """Any page can end up in history; a restore of it is never a fragment."""
    with app.test_request_context():
        url = url_for(endpoint)
    response = admin.get(url, headers=RESTORE)
    if response.mimetype == "text/html" and response.status_code == 200:
        assert "<html" in response.get_data(as_text=True), endpoint
