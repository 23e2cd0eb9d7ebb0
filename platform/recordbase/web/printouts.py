"""Printed documents in the web application: a record card's Print menu, batch print of
a list's selected records, and the document responses the template editor shares.

Every document comes from ``PrintService.render`` (the API's service) for records the
signed-in user may print: the records service is asked for each record with the
purpose ``print``, so the print right and the row rules decide, as in the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, request, url_for
from flask_babel import gettext as _

from recordbase.api.prints import HTML_POLICY
from recordbase.errors import NotFound, PermissionDenied, RecordbaseError, ValidationError
from recordbase.printing.service import Document
from recordbase.web.common import actor, current_user, login_required, rights, runtime
from recordbase.web.lists import MAX_BULK, entity_of, record_id

bp = Blueprint("printouts", __name__, url_prefix="/print")

FORMATS = ("pdf", "html", "docx")


@dataclass(frozen=True)
class MenuEntry:
    """One template of a record's Print menu, with a link per format it offers."""

    label: str
    links: tuple[tuple[str, str], ...]  # (format, url)


def usable_templates(entity: str) -> list[dict[str, Any]]:
    """The entity's templates that print, if the signed-in user has the print right."""
    if current_user() is None or "print" not in rights(entity).actions:
        return []
    return [t for t in runtime().prints.list_templates(entity) if not t["broken"]]


def print_menu(entity: str, record: int | None) -> list[MenuEntry]:
    """What a record card's Print menu lists (nothing for a new record or without the right)."""
    if not record:
        return []
    try:
        templates = [t for t in usable_templates(entity) if t["scope"] == "record"]
    except RecordbaseError:
        return []
    return [
        MenuEntry(
            t["label"],
            tuple(
                (fmt, url_for("printouts.record", entity=entity, record=record,
                              template=t["name"], format=fmt))
                for fmt in t["formats"]
            ),
        )
        for t in templates
    ]


def batch_templates(entity: str) -> list[dict[str, Any]]:
    """Templates a list can print its selected records with (PDF: records and list ones)."""
    try:
        return [t for t in usable_templates(entity) if "pdf" in t["formats"]]
    except RecordbaseError:
        return []


def check_printable(entity: str, ids: list[int]) -> None:
    """Each record must exist and be printable by the signed-in user."""
    records = runtime().records
    for rid in ids:
        records.get(entity, rid, with_titles=False, actor=actor(), purpose="print")


def document_response(document: Document, *, download: bool = False,
                      framed: bool = False) -> Response:
    """A printed document: inline (PDF, HTML) unless asked to download; printed HTML runs
    no script and fetches nothing; ``framed`` lets the editor show it in a frame."""
    response = Response(document.content, content_type=document.mimetype)
    inline = not download and document.filename.rsplit(".", 1)[-1] in ("pdf", "html")
    response.headers.set(
        "Content-Disposition", "inline" if inline else "attachment", filename=document.filename
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if framed else "DENY"
    if document.mimetype.startswith("text/html"):
        ancestors = "'self'" if framed else "'none'"
        response.headers["Content-Security-Policy"] = (
            f"{HTML_POLICY}; frame-ancestors {ancestors}"
        )
    return response


def _format(value: str | None) -> str:
    fmt = value or "pdf"
    if fmt not in FORMATS:
        raise ValidationError(_("The format is PDF, HTML or Word (pdf, html, docx)."),
                              fields={"format": fmt[:20]})
    return fmt


@bp.get("/<entity>/<record>/<template>")
@login_required
def record(entity: str, record: str, template: str) -> Response:
    """One record printed with one template (the card's Print menu)."""
    ent = entity_of(entity)
    rid = record_id(record)
    check_printable(ent.name, [rid])
    fmt = _format(request.args.get("format"))
    document = runtime().prints.render(ent.name, template, [rid], fmt, actor())
    return document_response(document, download=request.args.get("download") == "1")


@bp.post("/<entity>/batch")
@login_required
def batch(entity: str) -> Response:
    """The selected records of a list in one PDF (each on its own page, or one list)."""
    ent = entity_of(entity)
    if "print" not in rights(ent.name).actions:
        raise PermissionDenied(_("You may not print %(what)s.", what=ent.label_plural))
    texts = request.form.getlist("ids")
    if not texts:
        raise ValidationError(_("Choose the records to print first."), fields={"ids": "None."})
    if len(texts) > MAX_BULK:
        raise ValidationError(
            _("At most %(n)d records can be printed at once; choose fewer.", n=MAX_BULK),
            fields={"ids": "Too many."},
        )
    ids = list(dict.fromkeys(record_id(t) for t in texts))
    template = request.form.get("template", "")
    if not template:
        raise ValidationError(_("Choose a print template."), fields={"template": "Required."})
    if template not in {t["name"] for t in batch_templates(ent.name)}:
        raise NotFound(_("There is no print template %(name)s for %(what)s.",
                         name=repr(template[:60]), what=ent.label_plural))
    check_printable(ent.name, ids)
    document = runtime().prints.render(ent.name, template, ids, "pdf", actor())
    return document_response(document)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["print_menu"] = print_menu
    app.jinja_env.globals["batch_print_templates"] = batch_templates
