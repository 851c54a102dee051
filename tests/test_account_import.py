"""Your data back in: an account export imported on another server, all or nothing, idempotent."""

from __future__ import annotations

import base64
import io
import json
import math
import struct
import wave
from pathlib import Path

import pytest

from careerprep.account import restore
from careerprep.banks.rules import MAX_TEXT
from careerprep.extensions import db
from careerprep.models import (
    CardFlag,
    CardState,
    MockInterview,
    MockItem,
    Question,
    Recording,
    Report,
    Review,
    RolePlan,
    User,
)
from careerprep.recordings import service
from tests.conftest import load_bank, make_user, reset_schema
from tests.helpers import count_rows, question_ids, seed_account, sign_in

TABLES = (CardState, CardFlag, Review, RolePlan, MockInterview, MockItem, Report, Recording)


def tone_wav(seconds: float = 1.0) -> bytes:
    """A recording the speech checks accept: a 440 Hz tone as 16 kHz mono PCM WAV."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        frames = (int(9000 * math.sin(2 * math.pi * 440 * n / 16_000)) for n in range(int(seconds * 16_000)))
        wav.writeframes(b"".join(struct.pack("<h", f) for f in frames))
    return out.getvalue()


def audio_files(app) -> dict[str, bytes]:
    """The audio files in the recordings folder, by name."""
    with app.app_context():
        return {path.name: path.read_bytes() for path in service.audio_dir().iterdir()}


def seeded_export(app, client, kept_audio: bytes | None = None) -> bytes:
    """A learner's whole footprint exported from the first server (a mock item that made a review, a
    recording made in the mock, its audio kept when `kept_audio` is given)."""
    load_bank(app)
    user = make_user(app, theme="dark", new_per_day=7, timezone="Asia/Kolkata")
    seed_account(app, user, "MINE")
    with app.app_context():
        reviews = db.session.scalars(db.select(Review).order_by(Review.id)).all()
        reviews[0].prev_state, reviews[1].prev_state = 0, 2
        db.session.scalar(db.select(MockItem).filter_by(position=1)).review_id = reviews[1].id
        if kept_audio is not None:
            recording = db.session.scalar(db.select(Recording))
            recording.audio_file = f"{recording.job_id}.audio"
            (service.audio_dir() / recording.audio_file).write_bytes(kept_audio)
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
    for recording in data["recordings"]:
        recording.pop("audio_name", None)  # each server names its own files
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
    [recording] = before["recordings"]
    assert recording["transcript"] and recording["words"] and recording["mock"]
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
    assert again.exit_code == 0, again.output
    assert "0 reviews, 0 cards, 0 mock interviews, 0 reports, 0 interview dates, 0 recordings" in again.output
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


# -- recordings ---------------------------------------------------------------------------------------


def test_kept_audio_round_trips_into_the_recordings_folder_once(app, client, tmp_path):
    sound = tone_wav()
    exported = seeded_export(app, client, kept_audio=sound)
    before = comparable(exported)
    assert base64.b64decode(before["recordings"][0]["audio"]) == sound
    user = empty_server(app)
    client.post("/auth/logout")
    sign_in(client, user.email)
    files = audio_files(app)
    for _ in range(2):  # the second import writes no row and no file
        response = client.post(
            "/account/import",
            data={"file": (io.BytesIO(exported), "export.json")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 303
        assert comparable(client.get("/account/export.json").data) == before
    with app.app_context():
        [recording] = db.session.scalars(db.select(Recording).filter_by(user_id=user.id)).all()
        name = recording.audio_file
    # Named like an upload of this account, so deleting the account deletes it.
    assert name.startswith(f"u{user.id}-import-") and name.endswith(".audio")
    assert audio_files(app) == {**files, name: sound}
    assert count_rows(app, Recording) == 1


def recording_entry(app, **overrides) -> dict:
    """A recording as the export writes it, on the `bank` question q-1, outside any mock."""
    with app.app_context():
        uid = db.session.scalar(db.select(Question.uid).filter_by(id=question_ids(app)["q-1"]))
    entry = {
        "question_id": uid,
        "mock": None,
        "created_at": "2025-03-02T10:00:00+00:00",
        "transcript": "a spoken answer",
        "words": [{"word": "a", "start": 0.0, "end": 0.2, "probability": 0.9}],
        "duration": 1.0,
        "audio": None,
    }
    return {**entry, **overrides}


def import_page(client, data: dict):
    return client.post(
        "/account/import",
        data={"file": (io.BytesIO(json.dumps(data).encode()), "export.json")},
        content_type="multipart/form-data",
    )


def test_bad_recording_fields_are_named_and_nothing_is_written(app, client):
    exported = seeded_export(app, client)
    user = empty_server(app)
    client.post("/auth/logout")
    sign_in(client, user.email)
    data = json.loads(exported)
    bad = {
        "recordings[0].question_id": recording_entry(app, question_id=7),
        "recordings[1].mock": recording_entry(
            app, mock={"role": "backend", "created_at": "2020-01-01T00:00Z"}
        ),
        "recordings[2].created_at": recording_entry(app, created_at="yesterday"),
        "recordings[3].transcript": recording_entry(app, transcript="x" * (MAX_TEXT + 1)),
        "recordings[4].words[0]": recording_entry(app, words=[{"word": "a", "start": 0}]),
        "recordings[5].words[0].end": recording_entry(
            app, words=[{"word": "a", "start": 2.0, "end": 1.0, "probability": 0.5}]
        ),
        "recordings[6].duration": recording_entry(app, duration=-1),
        "recordings[7].duration": recording_entry(app, duration=10_000),
        "recordings[8].audio": recording_entry(app, audio="not base64!"),
        "recordings[9].audio": recording_entry(app, audio=base64.b64encode(b"MZ not a sound").decode()),
        "recordings[10].audio": recording_entry(app, audio=base64.b64encode(tone_wav()[:-4000]).decode()),
        "recordings[11].words": recording_entry(app, words="um, so"),
    }
    data["recordings"] = list(bad.values())
    rows, files = table_rows(app), audio_files(app)
    response = import_page(client, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for path in bad:
        assert f"{path}:" in page, path
    assert "not a recording we can use" in page  # the upload's own message
    assert "Nothing was imported." in page
    assert table_rows(app) == rows and audio_files(app) == files


def test_audio_over_the_upload_limit_is_refused_before_decoding(app, client):
    exported = seeded_export(app, client)
    data = json.loads(exported)
    limit = app.extensions["speech"].settings.limits.max_bytes
    data["recordings"] = [recording_entry(app, audio="A" * (4 * math.ceil(limit / 3) + 4))]
    with app.app_context(), pytest.raises(restore.RestoreError) as info:
        restore.check_document(data)
    assert info.value.errors == [f"recordings[0].audio: must be base64 of at most {limit:,} bytes, or null"]


def test_a_recording_outside_a_mock_without_audio_is_imported(app, client):
    exported = seeded_export(app, client)
    user = empty_server(app)
    client.post("/auth/logout")
    sign_in(client, user.email)
    data = json.loads(exported)
    data["recordings"] = [recording_entry(app)]
    assert import_page(client, data).status_code == 303
    with app.app_context():
        [recording] = db.session.scalars(db.select(Recording).filter_by(user_id=user.id)).all()
        assert (recording.mock_id, recording.audio_file, recording.transcript) == (
            None,
            None,
            "a spoken answer",
        )
        assert recording.words == [{"word": "a", "start": 0.0, "end": 0.2, "probability": 0.9}]


def test_a_failed_transaction_removes_the_audio_it_wrote(app, client, monkeypatch):
    exported = seeded_export(app, client)
    user = empty_server(app)
    data = json.loads(exported)
    data["recordings"] = [recording_entry(app, audio=base64.b64encode(tone_wav()).decode())]
    rows, files = table_rows(app), audio_files(app)
    written = []

    with app.app_context():
        plan = restore.check_document(data)
        commit = db.session.commit

        def fail():
            written.extend(audio_files(app).keys() - files.keys())
            if not written:  # write_transaction's own commit, before the block: let it through
                return commit()
            raise RuntimeError("the disk went away")

        monkeypatch.setattr(db.session, "commit", fail)
        with pytest.raises(RuntimeError):
            restore.restore(db.session.get(User, user.id), plan)
    assert written  # the file was there before the commit...
    assert audio_files(app) == files  # ...and is gone with the rows
    assert table_rows(app) == rows
    assert not list(Path(app.config["SPEECH_AUDIO_DIR"]).glob("*.part"))
