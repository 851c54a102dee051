"""A small cookie-keeping HTTP client for tests against a live server (like one browser tab)."""

from __future__ import annotations

import html
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    text: str
    headers: dict


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Keeps cookies and the CSRF token; follows no redirects unless asked."""

    def __init__(self, base: str, headers: dict | None = None):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        self.headers = headers or {}
        self.csrf = ""

    def request(
        self,
        method: str,
        path: str,
        data: dict | None = None,
        htmx: bool = False,
        headers: dict | None = None,
    ) -> Reply:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method)  # noqa: S310 (http to 127.0.0.1)
        for key, value in {**self.headers, **(headers or {})}.items():
            req.add_header(key, value)
        if htmx:
            req.add_header("HX-Request", "true")
        if method != "GET" and self.csrf:
            req.add_header("X-CSRFToken", self.csrf)
        try:
            with self.opener.open(req, timeout=30) as resp:  # noqa: S310
                reply = Reply(resp.status, resp.read().decode(), dict(resp.headers))
        except urllib.error.HTTPError as err:
            reply = Reply(err.code, err.read().decode(errors="replace"), dict(err.headers))
        token = re.search(r'"X-CSRFToken": "([^"]+)"', reply.text)
        if token:
            self.csrf = token.group(1)
        return reply

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> Reply:
        return self.request("POST", path, data, **kwargs)

    def login(self, email: str, password: str) -> Reply:
        self.get("/auth/login")
        return self.post("/auth/login", {"email": email, "password": password})


def reveal_link(fragment: str) -> str:
    match = re.search(r'href="([^"]*reveal=[^"]+)"', fragment)
    assert match, fragment[:500]
    return html.unescape(match.group(1))


def rating_token(fragment: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', fragment)
    assert match, fragment[:500]
    return match.group(1)


def reveal(browser: Browser, drill_path: str, fragment: str) -> Reply:
    """Reveal the card in a drill fragment: the plain link, or the draft form (with an empty draft)."""
    if 'href="' in fragment and "reveal=" in fragment:
        return browser.get(reveal_link(fragment), htmx=True)
    return browser.post(drill_path + "/reveal", {"token": rating_token(fragment), "draft": ""}, htmx=True)
