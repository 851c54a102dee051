"""Markdown rendering (sanitised once, here) and template helpers."""

from __future__ import annotations

import html
from functools import lru_cache

import nh3
from flask import Flask
from markdown_it import MarkdownIt
from markupsafe import Markup

from .banks.rules import CODE_CHARS, DIFFICULTY_LABELS, MAX_TEXT, OUTPUT_CHARS
from .exercises import KINDS, LANGUAGES
from .practice.queue import MODES
from .scheduling import RATING_LABELS, format_interval
from .themes import theme_context

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "img",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "ol": {"start"},
}


def _absolute_images(element: str, attribute: str, value: str) -> str | None:
    """Keep an image only with an absolute http(s) address: a relative one names a file nobody has
    (it would be missing media in an Anki deck); the bank validator refuses it beforehand."""
    if element == "img" and attribute == "src" and not value.lower().startswith(("https://", "http://")):
        return None
    return value


@lru_cache(maxsize=4096)
def _render_markdown(text: str) -> str:
    html = _md.render(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_absolute_images,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    # A code block scrolls inside itself: make it a focusable region, so it scrolls by keyboard too.
    # (nh3 writes every <pre> bare, so this adds the attributes only to what it let through.)
    return clean.replace("<pre>", '<pre tabindex="0">')


@lru_cache(maxsize=4096)
def _render_inline(text: str) -> str:
    return nh3.clean(
        _md.renderInline(text),
        tags={"strong", "em", "code", "del", "a"},
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown_inline(text: str | None) -> Markup:
    """One line of question Markdown (a key point) as sanitised inline HTML: code, emphasis, links."""
    return Markup(_render_inline(text or ""))  # noqa: S704 (sanitised by nh3 above)


def render_markdown(text: str | None) -> Markup:
    """Question Markdown as sanitised HTML: the only place question text is marked safe."""
    return Markup(_render_markdown(text or ""))  # noqa: S704 (sanitised by nh3 above)


@lru_cache(maxsize=4096)
def plaintext(text: str | None) -> str:
    """Question Markdown as one line of plain text (for short labels and lists)."""
    stripped = nh3.clean(_md.render(text or ""), tags=set())
    return " ".join(html.unescape(stripped).split())


def blurb(text: str | None, limit: int = 200) -> str:
    """The start of a summary for a card: whole sentences up to `limit` characters, else whole words."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    if end >= limit // 2:
        return cut[: end + 1]
    return cut[: cut.rfind(" ")].rstrip(",;:") + "…"


def register(app: Flask) -> None:
    """Expose the helpers to templates."""
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(render_markdown_inline, "markdown_inline")
    app.add_template_filter(plaintext, "plaintext")
    app.add_template_filter(blurb, "blurb")
    app.add_template_filter(format_interval, "interval")
    app.jinja_env.globals["RATING_LABELS"] = RATING_LABELS
    app.jinja_env.globals["MODES"] = {**MODES, "mock": "Mock interview"}
    app.jinja_env.globals["DIFFICULTY_LABELS"] = DIFFICULTY_LABELS
    app.jinja_env.globals["MAX_TEXT"] = MAX_TEXT
    app.jinja_env.globals["KINDS"] = KINDS
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["OUTPUT_CHARS"] = OUTPUT_CHARS
    app.jinja_env.globals["CODE_CHARS"] = CODE_CHARS
    app.context_processor(theme_context)
