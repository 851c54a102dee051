"""Your data back in: an account export imported on another server, all or nothing, idempotent."""

from __future__ import annotations

import io
import json

import pytest

from careerprep.account import restore
from careerprep.extensions import db
from careerprep.models import CardFlag, CardState, MockInterview, MockItem, Report, Review, RolePlan, User
from tests.conftest import load_bank, make_user, reset_schema
from tests.helpers import count_rows, question_ids, seed_account, sign_in

TABLES = (CardState, CardFlag, Review, RolePlan, MockInterview, MockItem, Report)


def seeded_export(app, client) -> bytes:
    """A learner's whole footprint exported from the first server (a mock item that made a review)."""
    load_bank(app)
    user = make_user(app, theme="dark", new_per_day=7, timezone="Asia/Kolkata")
    seed_account(app, user, "MINE")
    with app.app_context():
        reviews = db.session.scalars(db.select(Review).order_by(Review.id)).all()
        reviews[0].prev_state, reviews[1].prev_state = 0, 2
        db.session.scalar(db.select(MockItem).filter_by(position=1)).review_id = reviews[1].id
        db.session.commit()
    sign_in(client, user.email)
    response = client.get("/account/export.json")
    assert response.status_code == 200
    return response.data


def comparable(raw: bytes) -> dict:
    """An export without what belongs to the server: times of the export, sign-ins, fits, row ids
    (a mock item names its review by the review's place in the log instead)."""
    data = json.loads(raw)
    for name in ("exported_at", "profile", "sessions"):
        data.pop(name)
    data["scheduler"].pop("fits")
    place = {review.pop("id"): n for n, review in enumerate(data["reviews"])}
    for mock in data["mock_interviews"]:
        for item in mock["items"]:
            item["review_id"] = place.get(item["review_id"])
    return data


def empty_server(app) -> User:
    """The same catalogue on an empty database, and a new account there."""
    with app.app_context():
        db.drop_all()
    reset_schema(app)
    load_bank(app)
    return make_user(app, email="moved@example.com")


def table_rows(app) -> tuple[int, ...]:
    return tuple(count_rows(app, model) for model in TABLES)


def test_an_export_round_trips_into_an_empty_server_row_for_row(app, client, runner, tmp_path):
    exported = seeded_export(app, client)
    before = comparable(exported)
    assert before["reviews"] and before["cards"] and before["reports"] and before["mock_interviews"]
    user = empty_server(app)
    path = tmp_path / "export.json"
    path.write_bytes(exported)
    result = runner.invoke(args=["import-user-data", str(path), "--email", user.email])
    assert result.exit_code == 0, result.output
    assert "2 reviews" in result.output
    client.post("/auth/logout")
    sign_in(client, user.email)
    assert comparable(client.get("/account/export.json").data) == before  # every row, every field
    rows = table_rows(app)
    # Idempotent: the same file again writes nothing.
    again = runner.invoke(args=["import-user-data", str(path), "--email", user.email])
    assert again.exit_code == 0 and "0 reviews, 0 cards, 0 mock interviews, 0 reports" in again.output
    assert table_rows(app) == rows
    assert comparable(client.get("/account/export.json").data) == before


def test_the_account_page_imports_and_names_every_bad_field(app, client, tmp_path):
    exported = seeded_export(app, client)
    user = empty_server(app)
    client.post("/auth/logout")
    sign_in(client, user.email)
    data = json.loads(exported)
    data["reviews"][1]["rating"] = 9
    data["cards"][0]["due"] = "tomorrow"
    data["settings"]["theme"] = "neon"
    data["reports"][0]["question_id"] = "not-a-question"
    rows = table_rows(app)
    response = client.post(
        "/account/import",
        data={"file": (io.BytesIO(json.dumps(data).encode()), "bad.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("reviews[1].rating", "cards[0].due", "settings.theme", "reports[0].question_id"):
        assert field in page
    assert "Nothing was imported." in page
    assert table_rows(app) == rows  # all or nothing
    response = client.post(
        "/account/import",
        data={"file": (io.BytesIO(exported), "good.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert table_rows(app) != rows
    with app.app_context():
        moved = db.session.get(User, user.id)
        assert (moved.theme, moved.new_per_day, moved.timezone) == ("dark", 7, "Asia/Kolkata")
        assert db.session.scalars(db.select(Review.prev_state).order_by(Review.reviewed_at)).all() == [0, 2]
        assert question_ids(app)  # the catalogue is untouched


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "not JSON"),
        (b"[1]", "not a CareerPrep export"),
        (b'{"format_version": 1}', "format_version"),
        (b"[" * 100 + b"]" * 100, "nested"),
    ],
)
def test_files_that_are_not_exports_are_refused(raw, error):
    with pytest.raises(restore.RestoreError) as info:
        restore.check_document(restore.read_document(raw))
    assert error in " ".join(info.value.errors)


def test_a_file_over_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(restore, "MAX_BYTES", 10)
    with pytest.raises(restore.RestoreError, match="at most 10"):
        restore.read_document(b'{"format_version": 2}')
