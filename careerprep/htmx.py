"""The one place that decides page or fragment for htmx, plus redirects after writes and safe `next`.

Views never test `request.htmx` themselves: they call `render()` (page or partial), `after_write()`
(a 303 with a flash message for a browser, the new fragment or an HX-Redirect for htmx) or `alert()`
(a message in #alerts). htmx 2 restores a history entry it no longer has cached with a GET that
carries `HX-Request: true` AND `HX-History-Restore-Request: true`: that always gets the full page.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlsplit

from flask import Response, flash, make_response, redirect, render_template, request

# Printable ASCII that may stand in a URL as it is; anything else in a header value is percent-encoded.
URL_SAFE = "/?&=#%:@!$'()*+,;~-._[]"


def is_htmx() -> bool:
    """True when htmx made this request for a fragment (not a history restore, which needs the page)."""
    hx = getattr(request, "htmx", None)
    return bool(hx) and not hx.history_restore_request


def render(
    page_template: str,
    partial_template: str,
    status: int = 200,
    *,
    target: str | None = None,
    page_context: Callable[[], dict] | None = None,
    **context,
) -> Response:
    """Render the full page, or only its partial for htmx; responses vary on what decided it.

    `target`: the partial only when htmx targets this element id (other htmx requests get the page).
    `page_context`: extra context that only the full page needs, computed only for it.
    """
    partial = is_htmx() and (target is None or request.htmx.target == target)
    if not partial and page_context is not None:
        context.update(page_context())
    response = make_response(
        render_template(partial_template if partial else page_template, **context), status
    )
    response.vary.update(("HX-Request", "HX-History-Restore-Request"))
    if target is not None:
        response.vary.add("HX-Target")
    return response


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


def after_write(
    url: str,
    message: str | None = None,
    fragment: Callable[[], Response] | None = None,
    category: str = "success",
) -> Response:
    """After a write: for a browser a 303 to `url` with `message` flashed; for htmx the new fragment
    (the message is in it) or, without one, an HX-Redirect to `url` with the message flashed."""
    if fragment is not None and is_htmx():
        response = fragment()
        response.vary.add("HX-Request")
        return response
    if message:
        flash(message, category)
    return redirect_to(url)


def alert(status: int, title: str, message: str, page: Callable[[], Response]) -> Response:
    """A message: for htmx an alert swapped into #alerts; otherwise the page `page()` renders."""
    if is_htmx():
        response = make_response(render_template("errors/_alert.html", title=title, message=message), status)
        response.headers["HX-Retarget"] = "#alerts"
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        response = page()
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
