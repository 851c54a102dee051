"""Check a recorded answer and decode it to 16 kHz mono float32 samples for whisper.

Cheap checks come first, before anything is decoded: the size, the first bytes (WebM, Ogg, MP4 or
WAV, nothing else reaches FFmpeg), the codec (Opus in WebM and Ogg, AAC in MP4 from Safari; PCM in
WAV, for tests), the duration (from a pass over the container's packets, which reads timestamps
without decoding: MediaRecorder's WebM and fragmented MP4 files carry no duration in their header)
and whether the file was cut off (``mp4`` reads an MP4's boxes for that). Only then is it decoded,
and the samples are checked for an empty or silent recording. Every refusal is an ``AudioError``
whose message a learner can read.

PyAV (the ``av`` wheel, which bundles FFmpeg) probes and decodes; nothing here uses the network.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from . import mp4

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000  # what whisper expects
_SLACK_SECONDS = 1.0  # container timestamps round; a 5:00.4 recording of a 5-minute answer is fine
_FRAME_SECONDS = 0.03  # loudness is measured per 30 ms frame
_LOUD_QUANTILE = 0.95  # ...and judged on the loudest 5% of frames, so long pauses don't make speech "silent"
_CHUNK = 64 * 1024


class AudioError(ValueError):
    """A recording that can't be used, with a message to show the learner as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AudioLimits:
    """What a recording may be: the app's config fills these (SPEECH_MAX_BYTES, ...)."""

    max_bytes: int = 10 * 1024 * 1024
    max_seconds: float = 300.0
    min_seconds: float = 0.5  # shorter than this is an empty recording (a click on record, then stop)
    # RMS of the loudest frames below this is silence: about -46 dBFS. Browsers apply automatic
    # gain to the microphone, so speech lands around -30 to -10 dBFS and a quiet room far below.
    silence_rms: float = 0.005


@dataclass(frozen=True)
class AudioInfo:
    """What the cheap checks found out about a recording."""

    container: str  # "webm", "ogg", "mp4" or "wav"
    codec: str  # FFmpeg's codec name: "opus", "aac", "pcm_s16le", ...
    duration: float  # seconds, from the packets' timestamps


def too_large(limits: AudioLimits) -> AudioError:
    """The refusal for a file over the size limit (also used while an upload is being saved)."""
    megabytes = limits.max_bytes / (1024 * 1024)
    return AudioError(f"The recording is too large (over {megabytes:g} MB). Please record a shorter answer.")


def too_long(limits: AudioLimits) -> AudioError:
    """The refusal for a recording over the duration limit."""
    minutes = limits.max_seconds / 60
    return AudioError(
        f"The recording is longer than {minutes:g} minutes. "
        f"Please keep your answer under {minutes:g} minutes."
    )


# What the learner reads for each refusal (each raise makes a new AudioError: exceptions carry state).
NOT_AUDIO = (
    "This file is not a recording we can use. "
    "Please record your answer in the browser (WebM, Ogg or MP4 audio)."
)
NO_SOUND_TRACK = "This file has no sound in it. Please record your answer again."
VIDEO = "This file contains video. Please record audio only."
DAMAGED = "The recording is damaged or incomplete (perhaps the upload was cut off). Please record it again."
EMPTY = (
    "The recording is empty: nothing was captured. Check that your microphone is connected and allowed, "
    "then record again."
)
SILENT = (
    "The recording is silent. Check that the right microphone is selected and not muted, then record again."
)


def wrong_codec(codec: str) -> AudioError:
    """The refusal for a known container holding audio we don't decode."""
    return AudioError(
        f"This recording uses an audio format we don't accept ({codec}). "
        "Please record in the browser (Opus audio in WebM or Ogg, or AAC audio in MP4)."
    )


def save_upload(stream: IO[bytes], destination: Path, limits: AudioLimits) -> Path:
    """Copy an uploaded file to disk, refusing it as soon as it passes the size limit."""
    written = 0
    try:
        with open(destination, "xb") as out:
            while chunk := stream.read(_CHUNK):
                written += len(chunk)
                if written > limits.max_bytes:
                    raise too_large(limits)
                out.write(chunk)
    except AudioError:
        destination.unlink(missing_ok=True)
        raise
    return destination


def load(path: str | os.PathLike[str], limits: AudioLimits) -> np.ndarray:
    """Check a recording, then decode it: 16 kHz mono float32 samples in [-1, 1]."""
    info = probe(path, limits)
    return decode(path, info, limits)


def probe(path: str | os.PathLike[str], limits: AudioLimits) -> AudioInfo:
    """Check size, type, codec, duration and completeness without decoding any audio."""
    size = os.path.getsize(path)
    if size == 0:
        raise AudioError(EMPTY)
    if size > limits.max_bytes:
        raise too_large(limits)
    with open(path, "rb") as fh:
        head = fh.read(64)
    container = _sniff(head)
    if container == "ogg":
        _check_ogg_ending(path, size)
    elif container == "mp4" and not mp4.is_whole(path, size):
        raise AudioError(DAMAGED)
    elif container == "wav":
        _check_wav_length(head, size)

    import av

    with _ffmpeg_errors() as errors:
        try:
            with av.open(os.fspath(path), format=_DEMUXERS[container], options=_options(container)) as media:
                stream = _audio_stream(media, container)
                codec = stream.codec_context.name
                declared = media.duration / 1_000_000 if media.duration else None
                if declared is not None and declared > limits.max_seconds + _SLACK_SECONDS:
                    raise too_long(limits)
                duration = _scan_packets(media, stream, limits)
        except AudioError:
            raise
        except (av.FFmpegError, OSError, EOFError, ValueError, IndexError) as exc:
            raise AudioError(DAMAGED) from exc
    if errors:
        raise AudioError(DAMAGED)
    return AudioInfo(container=container, codec=codec, duration=duration)


def decode(path: str | os.PathLike[str], info: AudioInfo, limits: AudioLimits) -> np.ndarray:
    """Decode a probed recording to 16 kHz mono float32, then refuse it if empty or silent."""
    import av
    import numpy as np

    cap = int((limits.max_seconds + _SLACK_SECONDS) * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    count = 0
    with _ffmpeg_errors() as errors:
        try:
            with av.open(
                os.fspath(path), format=_DEMUXERS[info.container], options=_options(info.container)
            ) as media:
                resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
                for frame in media.decode(audio=0):
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray().reshape(-1))
                        count += out.samples
                    if count > cap:  # the packet timestamps lied about the length
                        raise too_long(limits)
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().reshape(-1))
        except AudioError:
            raise
        except (av.FFmpegError, OSError, EOFError, ValueError) as exc:
            raise AudioError(DAMAGED) from exc
    if errors:
        raise AudioError(DAMAGED)
    samples = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    if samples.size < limits.min_seconds * SAMPLE_RATE:
        raise AudioError(EMPTY)
    if loudness(samples) < limits.silence_rms:
        raise AudioError(SILENT)
    return samples


def loudness(samples: np.ndarray) -> float:
    """RMS of the loudest 5% of 30 ms frames: how loud the speech is, whatever the pauses."""
    import numpy as np

    frame = int(_FRAME_SECONDS * SAMPLE_RATE)
    usable = samples[: samples.size - samples.size % frame]
    if usable.size == 0:
        return 0.0
    rms = np.sqrt(np.mean(np.square(usable.reshape(-1, frame), dtype=np.float64), axis=1))
    return float(np.quantile(rms, _LOUD_QUANTILE))


# The demuxer is chosen from the first bytes, never by FFmpeg's probing: only these four parsers
# ever see an upload (no playlists, no image formats, nothing that opens other files).
_DEMUXERS = {"webm": "matroska", "ogg": "ogg", "mp4": "mov", "wav": "wav"}
_CODECS = {"webm": {"opus"}, "ogg": {"opus"}, "mp4": {"aac"}}  # WAV: any PCM codec
# The MP4 demuxer can follow a track's data reference to another file; these are its defaults, stated
# so that no upgrade turns them on.
_DEMUXER_OPTIONS = {"mp4": {"enable_drefs": "0", "use_absolute_path": "0"}}


def _options(container: str) -> dict[str, str]:
    """The options the container's demuxer is opened with (a copy: FFmpeg consumes them)."""
    return dict(_DEMUXER_OPTIONS.get(container, {}))


def _sniff(head: bytes) -> str:
    """Which accepted container the first bytes announce, or NOT_AUDIO."""
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head:  # EBML header with DocType "webm"
        return "webm"
    if head.startswith(b"OggS"):
        return "ogg"
    if mp4.is_mp4(head):  # an "ftyp" box at bytes 4-8, as Safari's MediaRecorder writes
        return "mp4"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    raise AudioError(NOT_AUDIO)


def _check_ogg_ending(path: str | os.PathLike[str], size: int) -> None:
    """An Ogg file ends with a whole page marked end-of-stream; a cut-off upload doesn't.

    FFmpeg reads a cut-off Ogg file without a word of complaint, so this is checked by hand. Firefox
    and FFmpeg both mark the last page (libogg's e_o_s). The last page is the one whose header
    (capture pattern, version 0, segment table) accounts for exactly the bytes up to the end.
    """
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 70_000))  # a page is at most 27 + 255 + 255 * 255 bytes
        tail = fh.read()
    start = tail.rfind(b"OggS")
    while start >= 0:
        page = tail[start:]
        if len(page) >= 27 and page[4] == 0 and len(page) >= 27 + page[26]:
            segments = page[26]
            if 27 + segments + sum(page[27 : 27 + segments]) == len(page):
                if not page[5] & 0x04:
                    raise AudioError(DAMAGED)
                return
        start = tail.rfind(b"OggS", 0, start)  # "OggS" inside a packet, or a page cut short: look back
    raise AudioError(DAMAGED)


def _check_wav_length(head: bytes, size: int) -> None:
    """A WAV file is as long as its RIFF header says (streaming writers put 0 or 0xFFFFFFFF there)."""
    (declared,) = struct.unpack("<I", head[4:8])
    if declared not in (0, 0xFFFFFFFF) and declared + 8 > size:
        raise AudioError(DAMAGED)


def _audio_stream(media, container: str):
    """The recording's one audio stream, if its codec is accepted and there is no video."""
    if media.streams.video:
        raise AudioError(VIDEO)
    if not media.streams.audio:
        raise AudioError(NO_SOUND_TRACK)
    stream = media.streams.audio[0]
    codec = stream.codec_context.name
    accepted = codec.startswith("pcm_") if container == "wav" else codec in _CODECS[container]
    if not accepted:
        raise wrong_codec(codec)
    return stream


def _scan_packets(media, stream, limits: AudioLimits) -> float:
    """Duration in seconds from packet timestamps, read without decoding; stops once over the limit."""
    first: float | None = None
    end = 0.0
    packets = 0
    for packet in media.demux(stream):
        if packet.size == 0:  # the demuxer's end-of-stream marker
            continue
        packets += 1
        if packet.pts is None or packet.time_base is None:
            continue
        start = float(packet.pts * packet.time_base)
        first = start if first is None else min(first, start)
        end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
        if end - first > limits.max_seconds + _SLACK_SECONDS:
            raise too_long(limits)
    if packets == 0:
        raise AudioError(EMPTY)
    return max(0.0, end - (first or 0.0))


@contextmanager
def _ffmpeg_errors() -> Iterator[list]:
    """Collect the errors FFmpeg logs on this thread: how a cut-off or corrupt WebM shows itself.

    FFmpeg's Matroska demuxer stops at a truncated block or a mangled cluster and only logs it
    ("File ended prematurely"). PyAV leaves FFmpeg's logging off by default; this turns it on at
    ERROR level for the process (a global FFmpeg setting: restoring it here would race with other
    threads) and captures this thread's messages instead of passing them to Python's logging.
    """
    import av.logging

    level = av.logging.get_level()
    if level is None or level < av.logging.ERROR:
        av.logging.set_level(av.logging.ERROR)
    # PyAV drops a message identical to the previous one by default: the second cut-off upload a
    # process saw would then pass as whole. Every upload must see its own errors.
    av.logging.set_skip_repeated(False)
    with av.logging.Capture(local=True) as logs:
        errors: list = []
        yield errors
        errors.extend(log for log in logs if log[0] <= av.logging.ERROR)
