"""One place that decides page or fragment for htmx, plus safe redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

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


def redirect_to(url: str) -> Response:
    """After a write: 303 for a browser, HX-Redirect for htmx."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
    else:
        response = redirect(url, 303)
    response.vary.add("HX-Request")
    return response


def is_safe_next(target: str | None) -> bool:
    """A `next` target stays on this site: one leading slash, no backslash, scheme or host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
