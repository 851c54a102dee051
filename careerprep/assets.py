"""Static assets: versioned URLs with long-lived caching, and gzip for text responses."""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.security import safe_join

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
MIN_SIZE = 1024  # smaller responses gain little and cost a header
YEAR = 31_536_000


@lru_cache(maxsize=256)
def _file_version(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def file_version(static_folder: str, filename: str) -> str | None:
    """A short content hash of a static file (cached per modification time), or None if missing."""
    joined = safe_join(static_folder, filename)  # never hash a file outside the static folder
    if joined is None:
        return None
    path = Path(joined)
    try:
        return _file_version(str(path), path.stat().st_mtime_ns)
    except OSError:
        return None


@lru_cache(maxsize=256)
def _gzipped_file(path: str, mtime_ns: int) -> bytes:
    return gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)


def register(app: Flask) -> None:
    """Install URL versioning for static files and response compression."""

    @app.url_defaults
    def version_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = file_version(app.static_folder, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_and_compress(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code == 200:
            if request.args.get("v"):
                # The URL changes whenever the file does, so browsers may keep it for a year.
                response.cache_control.no_cache = None  # send_file's default for unversioned files
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
            return _compress_static(response)
        return _compress(response)

    def _compress_static(response: Response) -> Response:
        if not _wants_gzip(response):
            return response
        path = Path(app.static_folder) / (request.view_args or {}).get("filename", "")
        try:
            data = _gzipped_file(str(path), path.stat().st_mtime_ns)
        except OSError:
            return response
        response.close()  # the file wrapper send_file opened: its bytes are replaced
        response.direct_passthrough = False
        response.set_data(data)
        return _mark(response)


def _wants_gzip(response: Response) -> bool:
    # Cheapest tests first: most API-sized responses (/healthz) stop at the length.
    return (
        response.status_code == 200
        and (response.content_length or 0) >= MIN_SIZE
        and "gzip" in request.headers.get("Accept-Encoding", "")
        and (response.mimetype or "").startswith(COMPRESSIBLE)
        and "Content-Encoding" not in response.headers
    )


def _compress(response: Response) -> Response:
    if response.direct_passthrough or response.is_streamed or not _wants_gzip(response):
        _vary_on_encoding(response)
        return response
    response.set_data(gzip.compress(response.get_data(), compresslevel=5, mtime=0))
    return _mark(response)


def _vary_on_encoding(response: Response) -> None:
    """Add Accept-Encoding to Vary (without parsing a header set when there is no Vary yet)."""
    if "Vary" not in response.headers:
        response.headers["Vary"] = "Accept-Encoding"
    else:
        response.vary.add("Accept-Encoding")


def _mark(response: Response) -> Response:
    response.headers["Content-Encoding"] = "gzip"
    _vary_on_encoding(response)
    response.content_length = len(response.get_data())
    return response
