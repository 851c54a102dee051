"""Import a bank file (YAML, JSON or CSV) after a dry run; export a set as YAML, JSON, CSV or an Anki deck.

The preview writes nothing. Its "Apply" form carries the uploaded file back, compressed, in a hidden
field, and applying parses, validates and compares it again from scratch before writing: the field is
never trusted. (Compressed because Werkzeug refuses form fields over MAX_FORM_MEMORY_SIZE, 500 kB by
default, while uploads may be 1 MiB.)
"""

from __future__ import annotations

import base64
import binascii
import io
import zlib
from pathlib import PurePath

from flask import Response, abort, make_response, render_template, request, send_file, url_for
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import false
from wtforms import HiddenField

from ..banks import BankError, anki, apply_banks, csv_bank, formats
from ..banks.diff import diff_bank
from ..errors import render_error
from ..exercises import KINDS, UNITS
from ..extensions import db
from ..forms import Form
from ..htmx import after_write
from ..models import Question, QuestionSet, Role
from .blueprint import bp

PAYLOAD_DAMAGED = "the file sent back from the preview is damaged; upload the file again"


class ImportForm(Form):
    """The upload on the import page."""

    bank = FileField(
        "Question bank file",
        description="YAML, JSON or CSV (.yaml, .yml, .json, .csv), up to 1 MiB and 2,000 questions.",
        validators=[FileRequired("Choose a file to upload.")],
    )


class ApplyForm(Form):
    """The preview's "Apply" form: the uploaded file again, compressed, and its name."""

    payload = HiddenField()
    filename = HiddenField()


def pack(raw: bytes) -> str:
    """The uploaded bytes as compact text for the preview's hidden field."""
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii")


def unpack(payload: str | None) -> bytes:
    """The bytes back from the hidden field, refusing anything that inflates past the upload limit."""
    try:
        compressed = base64.urlsafe_b64decode((payload or "").encode("ascii"))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(compressed, formats.MAX_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise BankError([PAYLOAD_DAMAGED]) from None
    if len(raw) > formats.MAX_BYTES or inflater.unconsumed_tail or not inflater.eof:
        raise BankError([PAYLOAD_DAMAGED])
    return raw


def _filename(name: str | None) -> str:
    """The last part of a client-supplied file name, shortened: shown on pages and kept in the audit log."""
    return PurePath((name or "").replace("\\", "/")).name[:200] or "upload"


def _import_page(form: ImportForm, errors: list[str] | None = None, status: int = 200, **ctx) -> Response:
    """The import page, with the problems found in a file (422) or without."""
    html = render_template(
        "admin/import.html",
        form=form,
        errors=errors or [],
        columns=csv_bank.CSV_COLUMNS,
        kinds=KINDS,
        csv_kinds=csv_bank.CSV_KINDS,
        units=UNITS,
        **ctx,
    )
    return make_response(html, status)


@bp.route("/import", methods=["GET", "POST"])
def import_preview() -> Response:
    """Upload a bank file and see what importing it would change; nothing is written."""
    form = ImportForm()
    if request.method == "GET":
        return _import_page(form)
    if not form.validate_on_submit():
        return _import_page(form, status=422)
    upload = form.bank.data
    filename = _filename(upload.filename)
    raw = upload.read(formats.MAX_BYTES + 1)
    try:
        bank = formats.load(raw, filename)
    except BankError as exc:
        return _import_page(form, errors=exc.errors, status=422, filename=filename)
    changes = diff_bank(bank)
    payload = pack(raw)
    # The apply form must fit Werkzeug's limit on one form field, with room for the rest of the form.
    fits = len(payload) + 4096 <= (request.max_form_memory_size or formats.MAX_BYTES * 2)
    apply_form = ApplyForm(payload=payload, filename=filename)
    html = render_template(
        "admin/import_preview.html",
        changes=changes,
        counts=changes.counts,
        filename=filename,
        fmt=formats.format_for(filename),
        questions=formats.question_count(bank),
        form=apply_form if fits else None,
    )
    return make_response(html)


@bp.post("/import/apply")
def import_apply() -> Response:
    """Apply a previewed bank file in one transaction, validated again from scratch; all or nothing."""
    form = ApplyForm()
    filename = _filename(form.filename.data)
    try:
        if not form.validate_on_submit():
            raise BankError([PAYLOAD_DAMAGED])
        bank = formats.load(unpack(form.payload.data), filename)
        (applied,) = apply_banks([(bank, filename)])
    except BankError as exc:
        return _import_page(ImportForm(), errors=exc.errors, status=422, filename=filename)
    if applied.changes.has_changes:
        message = f"Imported {filename} into “{bank['role']['title']}”: {applied.summary}."
        return after_write(url_for("admin.index"), message)
    message = f"Nothing to import: every question in {filename} already matches."
    return after_write(url_for("admin.index"), message, category="info")


# -- export ------------------------------------------------------------------------------------------


@bp.get("/export")
def export_index() -> str:
    """Every role and set with download links for each export format."""
    sets = db.session.scalars(
        db.select(QuestionSet).join(Role).order_by(Role.title, Role.id, QuestionSet.id)
    ).all()
    grouped: dict[int, tuple[Role, list[QuestionSet]]] = {}
    for qset in sets:
        grouped.setdefault(qset.role_id, (qset.role, []))[1].append(qset)
    not_in_csv = dict(
        db.session.execute(
            db.select(Question.set_id, db.func.count(Question.id))
            .where(Question.archived == false(), Question.kind.not_in(csv_bank.CSV_KINDS))
            .group_by(Question.set_id)
        ).all()
    )
    return render_template(
        "admin/export.html", roles=list(grouped.values()), not_in_csv=not_in_csv, csv_kinds=csv_bank.CSV_KINDS
    )


def _download(data: bytes, mimetype: str, name: str) -> Response:
    """A file download that browsers and proxies do not keep."""
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
    # Werkzeug appends a charset to text/* types even when the type names one already.
    response.headers["Content-Type"] = mimetype
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/sets/<int:set_id>/export.<fmt>")
def export_set(set_id: int, fmt: str) -> Response:
    """Download one set as YAML, JSON or CSV in the bank format (import reads it back), or as an Anki deck."""
    qset = db.get_or_404(QuestionSet, set_id)
    if fmt == "apkg":
        deck = anki.set_deck(qset)
        if deck is None:
            return render_error(404, "This set has no published questions to put in a deck.")
        return _download(deck, anki.MEDIA_TYPE, anki.deck_filename(qset.role, qset))
    if fmt not in formats.MEDIA_TYPES:
        abort(404)
    try:
        text = formats.dump(formats.set_bank(qset), fmt)
    except BankError as exc:
        return render_error(422, " ".join(exc.errors))
    return _download(text.encode("utf-8"), formats.MEDIA_TYPES[fmt], f"{qset.role.slug}--{qset.slug}.{fmt}")


@bp.get("/roles/<int:role_id>/export.apkg")
def export_role_deck(role_id: int) -> Response:
    """Download a role's published questions as an Anki deck, one subdeck per set."""
    role = db.get_or_404(Role, role_id)
    deck = anki.role_deck(role)
    if deck is None:
        return render_error(404, "This role has no published questions to put in a deck.")
    return _download(deck, anki.MEDIA_TYPE, anki.deck_filename(role))
