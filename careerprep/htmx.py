"""One place that decides page or fragment for htmx, plus safe redirects."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Response, make_response, redirect, render_template, request


def is_htmx() -> bool:
    """True when htmx made this request (HX-Request: true)."""
    return bool(getattr(request, "htmx", False))


def render(page_template: str, partial_template: str, status: int = 200, **context) -> Response:
    """Render the full page, or only its partial for htmx; responses vary on HX-Request."""
    template = partial_template if is_htmx() else page_template
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


# Printable ASCII that may stand in a URL as it is; anything else in a header value is percent-encoded.
URL_SAFE = "/?&=#%:@!$'()*+,;~-._[]"


def redirect_to(url: str) -> Response:
    """After a write: 303 for a browser, HX-Redirect for htmx (the URL percent-encoded for the header)."""
    url = quote(url, safe=URL_SAFE)
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
    else:
        response = redirect(url, 303)
    response.vary.add("HX-Request")
    return response


def safe_next(target: str | None, default: str | None = None) -> str | None:
    """A `next` target that stays on this site, percent-encoded; otherwise `default`.

    One leading slash, no backslash, scheme, host or control character. Other characters outside
    printable ASCII (`/／evil.example` has a fullwidth solidus) are percent-encoded, so the value is
    only ever a path on this site and is valid in a header (HX-Redirect, Location).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return quote(target, safe=URL_SAFE)
