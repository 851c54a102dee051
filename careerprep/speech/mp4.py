"""Recognise an MP4 recording (Safari's MediaRecorder) and tell whether it arrived whole.

An MP4 file is a run of boxes, each starting with its size and a four-letter type. FFmpeg reads an MP4
cut off inside its last box without complaint when the cut falls in a part it doesn't need (the tail of
the ``moov`` or the ``mfra`` index), so, as for Ogg, completeness is checked by hand: the top-level
boxes must follow one another exactly to the end of the file, and hold what a finished recording holds.
Only box headers are read (a few bytes each), never the audio.
"""

from __future__ import annotations

import os
import struct

# ISO base media brands a browser's audio recording announces: plain (isom, iso2, mp41, mp42, M4A) and
# fragmented (iso5, iso6, dash). QuickTime ("qt  "), 3GPP and HEIF brands are not recordings we take.
BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"M4A ", b"dash"}

_MAX_BOXES = 100_000  # a recording has a handful, or two per second of fragments; more is not one


def is_mp4(head: bytes) -> bool:
    """Whether the first bytes are an ``ftyp`` box naming an ISO/MP4 brand we accept."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    (size,) = struct.unpack(">I", head[:4])
    end = min(size, len(head)) if size >= 16 else 16
    major = head[8:12]
    compatible = [head[i : i + 4] for i in range(16, end - 3, 4)]
    return major in BRANDS or any(brand in BRANDS for brand in compatible)


def is_whole(path: str | os.PathLike[str], size: int) -> bool:
    """Whether an MP4 file ends where its last box does and holds a finished recording.

    A finished file has one ``moov`` (the track headers). Without ``mvex`` in it the audio is in an
    ``mdat``; with it the file is fragmented (what Safari writes): the audio comes as ``moof`` (the
    fragment's index) + ``mdat`` pairs, and a ``moof`` without the ``mdat`` after it was cut off. An
    optional ``mfra`` index comes last. A file cut exactly between two fragments, before any ``mfra``,
    reads as a shorter recording: nothing in the file says more fragments were coming (as for a WebM
    cut between two clusters).
    """
    boxes = _top_level_boxes(path, size)
    if boxes is None:
        return False
    kinds = [kind for kind, _, _ in boxes]
    if kinds.count(b"moov") != 1 or (b"mfra" in kinds and kinds[-1] != b"mfra"):
        return False
    _, moov_start, moov_end = boxes[kinds.index(b"moov")]
    fragmented = _contains(path, moov_start, moov_end, b"mvex")
    if fragmented is None:
        return False
    if not fragmented:
        return b"mdat" in kinds and b"moof" not in kinds
    if b"moof" not in kinds:
        return False
    for index, kind in enumerate(kinds):
        if kind == b"moof" and b"mdat" not in kinds[index + 1 : _next(kinds, b"moof", index + 1)]:
            return False
    return True


def _next(kinds: list[bytes], kind: bytes, start: int) -> int:
    """The index of the next ``kind`` at or after ``start``, or the end of the list."""
    return kinds.index(kind, start) if kind in kinds[start:] else len(kinds)


def _top_level_boxes(path: str | os.PathLike[str], size: int) -> list[tuple[bytes, int, int]] | None:
    """(type, start of contents, end) of each top-level box, or None if they don't tile the file."""
    boxes = []
    with open(path, "rb") as fh:
        offset = 0
        while offset < size:
            found = _box_at(fh, offset, size)
            if found is None or len(boxes) >= _MAX_BOXES:
                return None
            boxes.append(found)
            offset = found[2]
    return boxes


def _contains(path: str | os.PathLike[str], start: int, end: int, kind: bytes) -> bool | None:
    """Whether the box contents from ``start`` to ``end`` hold a child box ``kind`` (None: malformed)."""
    with open(path, "rb") as fh:
        offset = start
        while offset < end:
            found = _box_at(fh, offset, end)
            if found is None:
                return None
            if found[0] == kind:
                return True
            offset = found[2]
    return False


def _box_at(fh, offset: int, limit: int) -> tuple[bytes, int, int] | None:
    """The box whose header starts at ``offset``: (type, start of contents, end), if it fits in ``limit``.

    A size of 0 means "to the end of the file": a writer that never went back to fill it in, which
    MediaRecorder's finished recordings don't do, and which would hide a cut; it is refused.
    """
    fh.seek(offset)
    header = fh.read(16)
    if len(header) < 8:
        return None
    size, kind = struct.unpack(">I4s", header[:8])
    start = offset + 8
    if size == 1:  # the real size follows as 64 bits
        if len(header) < 16:
            return None
        (size,) = struct.unpack(">Q", header[8:16])
        start = offset + 16
    if size < start - offset or offset + size > limit:
        return None
    return kind, start, offset + size
