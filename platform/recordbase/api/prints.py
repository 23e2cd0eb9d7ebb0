"""Print templates and printed documents.

Templates are read by every user and changed by administrators; a template that
does not compile or names what does not exist is refused as a problem document
whose ``line`` says where. Documents are rendered for records the caller may
read: one record (``/records/{entity}/{id}/print/{template}``), several on their
own pages or a list printout (``/records/{entity}/print/{template}?ids=…`` or
with the list's ``filter[…]``/``sort``/``q``).
"""

from __future__ import annotations

import inspect
from typing import Any

from flask import Response, jsonify, request, url_for

from recordbase.api import bp
from recordbase.api.auth import admin_required, current_user, login_required, runtime
from recordbase.api.jsonio import json_body
from recordbase.api.records import check_id, parse_list_query
from recordbase.errors import ValidationError
from recordbase.printing.context import MAX_BATCH
from recordbase.printing.service import Document
from recordbase.records.query import MAX_PAGE_SIZE, ListQuery

INLINE_FORMATS = ("pdf", "html")
#: printed HTML is shown as a page: no script runs, nothing is fetched
HTML_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"


def _format() -> str:
    fmt = request.args.get("format", "pdf")
    if fmt not in ("pdf", "html", "docx"):
        raise ValidationError(
            "The format is pdf, html or docx.", fields={"format": "pdf, html or docx."}
        )
    return fmt


def _document(document: Document) -> Response:
    response = Response(document.content, content_type=document.mimetype)
    inline = document.filename.rsplit(".", 1)[-1] in INLINE_FORMATS and request.args.get(
        "download"
    ) not in ("1", "true")
    response.headers.set(
        "Content-Disposition", "inline" if inline else "attachment", filename=document.filename
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    if document.mimetype.startswith("text/html"):
        response.headers["Content-Security-Policy"] = HTML_POLICY
    if document.refused:
        response.headers["X-Recordbase-Refused-Resources"] = str(len(document.refused))
    return response


def _rights(method: Any) -> dict[str, Any]:
    """The caller's identity and purpose, for a records service that checks rights."""
    parameters = inspect.signature(method).parameters
    kwargs: dict[str, Any] = {}
    if "actor" in parameters:
        kwargs["actor"] = current_user()
    if "purpose" in parameters:
        kwargs["purpose"] = "print"
    return kwargs


def _readable(entity: str, ids: list[int]) -> None:
    """Every record must exist and be printable by the caller (the records service decides)."""
    get = runtime().records.get
    kwargs = _rights(get)
    for record_id in ids:
        get(entity, check_id(record_id), with_titles=False, **kwargs)


def _ids() -> list[int]:
    text = request.args.get("ids", "")
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or len(parts) > MAX_BATCH or not all(p.isdigit() and len(p) < 19 for p in parts):
        raise ValidationError(
            f"Give ids=1,2,3: between 1 and {MAX_BATCH} record ids.", fields={"ids": "Required."}
        )
    return list(dict.fromkeys(int(p) for p in parts))


def _listed(entity: str, query: ListQuery) -> list[int]:
    """The ids of a list printout: the list's own query, page after page."""
    list_page = runtime().records.list_page
    kwargs = _rights(list_page)
    ids: list[int] = []
    after = query.after
    while len(ids) < MAX_BATCH:
        page = list_page(
            entity,
            ListQuery(filters=query.filters, sort=query.sort, q=query.q,
                      limit=min(MAX_PAGE_SIZE, MAX_BATCH - len(ids)), after=after),
            **kwargs,
        )
        ids.extend(int(item["id"]) for item in page.items)
        if page.next is None:
            break
        after = page.next
    return ids


# --- templates ------------------------------------------------------------------------------


@bp.get("/entities/<entity>/templates")
@login_required
def list_templates(entity: str) -> Response:
    return jsonify({"items": runtime().prints.list_templates(entity)})


@bp.post("/entities/<entity>/templates")
@admin_required
def create_template(entity: str) -> tuple[Response, int, dict[str, str]]:
    body = runtime().prints.create(entity, json_body(), user_id=current_user().id)
    location = url_for("api.get_template", entity=entity, template=body["name"])
    return jsonify(body), 201, {"Location": location}


@bp.get("/entities/<entity>/templates/<template>")
@login_required
def get_template(entity: str, template: str) -> Response:
    return jsonify(runtime().prints.template(entity, template))


@bp.put("/entities/<entity>/templates/<template>")
@admin_required
def update_template(entity: str, template: str) -> Response:
    return jsonify(
        runtime().prints.update(entity, template, json_body(), user_id=current_user().id)
    )


@bp.delete("/entities/<entity>/templates/<template>")
@admin_required
def delete_template(entity: str, template: str) -> tuple[str, int]:
    runtime().prints.delete(entity, template)
    return "", 204


@bp.get("/entities/<entity>/templates/<template>/revisions")
@login_required
def template_revisions(entity: str, template: str) -> Response:
    return jsonify({"items": runtime().prints.revisions(entity, template)})


@bp.post("/entities/<entity>/templates/<template>/revert")
@admin_required
def revert_template(entity: str, template: str) -> Response:
    body = json_body()
    number = body.get("revision") if isinstance(body, dict) else None
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ValidationError(
            'Send {"revision": <number>}: the revision to go back to.',
            fields={"revision": "A revision number."},
        )
    return jsonify(
        runtime().prints.revert(entity, template, number, user_id=current_user().id)
    )


@bp.put("/entities/<entity>/templates/<template>/docx")
@admin_required
def upload_docx(entity: str, template: str) -> Response:
    from recordbase.printing.docx import MAX_DOCX_BYTES

    request.max_content_length = MAX_DOCX_BYTES + 64 * 1024
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError(
            'Send the .docx as multipart/form-data in the part named "file".',
            fields={"file": "Required."},
        )
    content = upload.read(MAX_DOCX_BYTES + 1)
    label = request.form.get("label") or None
    return jsonify(
        runtime().prints.save_docx(entity, template, label, content, user_id=current_user().id)
    )


@bp.post("/entities/<entity>/templates/preview")
@admin_required
def preview_template(entity: str) -> Response:
    """An unsaved template rendered for ``?ids=…`` (the editor's live preview)."""
    ids = _ids()
    _readable(entity, ids)
    document = runtime().prints.preview(entity, json_body(), ids, _format(), current_user())
    return _document(document)


# --- documents ----------------------------------------------------------------------------------


@bp.get("/records/<entity>/<int:record_id>/print/<template>")
@login_required
def print_record(entity: str, record_id: int, template: str) -> Response:
    _readable(entity, [record_id])
    document = runtime().prints.render(entity, template, [record_id], _format(), current_user())
    return _document(document)


@bp.get("/records/<entity>/print/<template>")
@login_required
def print_records(entity: str, template: str) -> Response:
    """Several records (``ids=``), or a list printout of the list's query."""
    fmt = _format()
    if "ids" in request.args:
        ids = _ids()
        _readable(entity, ids)
    else:
        ids = _listed(entity, _list_query())
        if not ids:
            raise ValidationError("The list is empty: there is nothing to print.")
    return _document(runtime().prints.render(entity, template, ids, fmt, current_user()))


def _list_query() -> ListQuery:
    # parse_list_query reads request.args, which also holds format= and download=
    from werkzeug.datastructures import ImmutableMultiDict

    saved = request.args
    try:
        request.args = ImmutableMultiDict(
            [(k, v) for k, v in saved.items(multi=True) if k not in ("format", "download")]
        )
        return parse_list_query()
    finally:
        request.args = saved
