"""Anki deck download of a published role for signed-in learners."""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, send_file
from flask_login import login_required

from .banks import anki
from .queries import visible_role

bp = Blueprint("deck", __name__)


@bp.get("/roles/<slug>/anki.apkg")
@login_required
def download(slug: str) -> Response:
    """Download a role's published questions as an Anki deck (.apkg), one subdeck per set."""
    role = visible_role(slug)
    if role is None:
        abort(404)
    data = anki.role_deck(role)
    if data is None:
        abort(404)
    response = send_file(
        io.BytesIO(data), mimetype=anki.MEDIA_TYPE, as_attachment=True, download_name=anki.deck_filename(role)
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
