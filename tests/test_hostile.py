"""Every route, every method, as anonymous, user and admin, with hostile values: never a 500, and a
rejected request writes nothing."""

from __future__ import annotations

import io
import json

import pytest
from flask import url_for
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter

from tests.conftest import PASSWORD, bank_dict, load_bank, make_user
from tests.helpers import snapshot

HOSTILE = [
    "' OR '1'='1' --",
    "1; DROP TABLE user; --",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "\u202eevil\u0000null",
    "",
    "x" * 20_000,
    "🙂" * 300,
    "-1",
    "99999999999999999999999",
    "/\uff0fevil.example",  # a fullwidth solidus: not Latin-1, so never a raw header value
    "/\x7f/x",
    "sNaN",
]
FIELDS = [
    "email",
    "password",
    "confirm",
    "display_name",
    "remember",
    "rating",
    "token",
    "current",
    "new",
    "next",
    "reveal",
    "csrf_token",
    "bank",
]
# Successful actions that end the walker's own session are tested elsewhere.
SKIP_SIGNED_IN = {"auth.logout", "account.sign_out_others"}


def targets(app, value: str):
    """(endpoint, method, url) for every rule, with `value` in every path argument."""
    out = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            args = {}
            for name in rule.arguments:
                converter = rule._converters[name]
                args[name] = 2**62 if isinstance(converter, IntegerConverter) else (value or "x")
            try:
                url = url_for(rule.endpoint, **args)
            except Exception:  # noqa: BLE001 (a value a converter cannot build: use a plain one)
                url = url_for(rule.endpoint, **{k: "x" for k in args})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule.endpoint, method, url))
    return out


def requests_for(method: str, url: str, value: str):
    """The hostile variants of one request: query string, form, repeated keys, JSON, upload."""
    query = {field: value for field in FIELDS}
    yield {"method": method, "path": url, "query_string": query}
    if method == "POST":
        yield {"method": method, "path": url, "data": query}
        yield {
            "method": method,
            "path": url,
            "data": MultiDict([(field, value) for field in FIELDS] + [("rating", "3"), ("rating", value)]),
        }
        # JSON of the wrong shape: forms must not read it (the walker once sent only strings here,
        # which WTForms handles, so it missed the 500s a dict, a list or a number caused).
        shapes = [query, {f: {"a": value} for f in FIELDS}, [value, 1, None], {f: 123 for f in FIELDS}]
        for shape in shapes:
            yield {
                "method": method,
                "path": url,
                "data": json.dumps(shape),
                "content_type": "application/json",
            }
        # htmx headers: the `next` and the redirects built from it go into HX-Redirect.
        yield {
            "method": method,
            "path": url,
            "data": query,
            "headers": {"HX-Request": "true", "HX-Target": value[:100], "HX-Current-URL": value[:100]},
        }
        yield {
            "method": method,
            "path": url,
            "content_type": "multipart/form-data",
            "data": {"bank": (io.BytesIO(value.encode()), f"{value[:40]}.yaml"), "email": value},
        }


@pytest.fixture
def walkers(app):
    load_bank(app, bank_dict(n_questions=3))
    user = make_user(app)
    admin = make_user(app, is_admin=True)
    clients = {"anonymous": app.test_client()}
    for name, who in (("user", user), ("admin", admin)):
        client = app.test_client()
        assert client.post("/auth/login", data={"email": who.email, "password": PASSWORD}).status_code == 303
        # Some real progress, so there is state to protect.
        client.get("/roles/test-role/drill")
        clients[name] = client
    return clients


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v[:12]))
def test_no_500_and_no_write_on_rejection(app, walkers, value):
    checked = 0
    # One snapshot per request: after a rejection the state must equal the one before it, and that
    # same snapshot is the "before" of the next request; an accepted request takes a fresh one.
    before = snapshot(app)
    for who, client in walkers.items():
        for endpoint, method, url in targets(app, value):
            if who != "anonymous" and endpoint in SKIP_SIGNED_IN:
                continue
            for kwargs in requests_for(method, url, value):
                response = client.open(**kwargs)
                checked += 1
                assert response.status_code < 500, (who, kwargs["method"], kwargs["path"])
                for name, header in response.headers.items():
                    header.encode("latin-1")  # gunicorn refuses anything else with a bare 500
                    assert "\r" not in header and "\n" not in header, name
                body = response.get_data()
                assert b"Traceback" not in body
                after = snapshot(app)
                if response.status_code >= 400:
                    assert after == before, (who, method, url, response.status_code)
                before = after
    assert checked > 100
