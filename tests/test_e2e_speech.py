"""Real Chromium with a fake microphone: record an answer, wait for the transcript, edit it, reveal, rate.

Chromium reads the microphone from a WAV of espeak-ng saying the model answer
(``--use-file-for-fake-audio-capture``) and grants it without asking (``--use-fake-ui-for-media-stream``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e_support import CHROMIUM, CHROMIUM_ARGS, live_server, register
from tests.test_speech import SPOKEN_BANK, spoken  # noqa: F401 (fixture)
from tests.test_speech_engine import _squash, model_path  # noqa: F401 (fixture)

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("chromium_available")]
DRILL_PATH = "/roles/test-role/drill"


def test_record_transcribe_edit_reveal_and_rate(tmp_path, model_path, spoken):  # noqa: F811
    from playwright.sync_api import sync_playwright

    wav, _ = spoken
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    config = {"SPEECH_ENABLED": True, "SPEECH_MODEL": model_path, "SPEECH_AUDIO_DIR": str(tmp_path / "audio")}
    with live_server(tmp_path, bank=SPOKEN_BANK, **config) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            # A phone: answering out loud is most useful away from a keyboard.
            context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
            context.grant_permissions(["microphone"], origin=base)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            register(page, base)
            page.goto(base + DRILL_PATH)
            record = page.locator("#card [data-record]")
            record.wait_for()
            assert record.is_visible()
            page.keyboard.press("r")  # the shortcut starts recording...
            page.locator("#card [data-stop]").wait_for(state="visible")
            page.locator("#card [data-timer]").wait_for(state="visible")
            time.sleep(9)  # the spoken answer is about eight seconds long
            page.keyboard.press("r")  # ...and stops it
            page.locator("#card [data-playback]").wait_for(state="visible")
            page.locator("#card .speech-status:not([hx-get])").wait_for(timeout=60_000)
            status = page.locator("#card [data-status]").inner_text()
            assert page.locator("#card [data-transcript-ready]").count(), status
            draft = page.locator("#draft")
            text = draft.input_value()
            assert "waitpid" in _squash(text), text
            assert page.locator("#card [data-recording-id]").input_value() != ""
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "speech-transcript-phone.png"))
            draft.fill(text + " Edited by hand.")
            page.locator("#card #reveal").click()
            page.locator("#card button[name='rating'][value='3']").wait_for()
            assert "Edited by hand." in page.locator("#card .draft-text").inner_text()
            assert page.get_by_role("heading", name="How you said it").is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(SCREENSHOTS / "speech-feedback-phone.png"), full_page=True)
            page.keyboard.press("3")
            page.locator("#card #reveal, #card .card-heading-done").first.wait_for()
            page.goto(f"{base}/questions/1/history")
            assert "Edited by hand." in page.content()
            assert [e for e in errors if "favicon" not in e] == []
        finally:
            browser.close()
