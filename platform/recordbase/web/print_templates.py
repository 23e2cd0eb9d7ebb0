"""The print-template editor for administrators: templates per entity, their versions,
Word uploads, and a live preview for a chosen record as HTML and as PDF.

Everything goes through ``PrintService`` (the API's service): saving lints the
template against the live schema, previews render in the sandboxed worker. A
template error is never a 500: the editor shows its sentence with the line, marks
that line, and keeps what the user typed. The page works as plain forms without
JavaScript (the previews are forms aimed at frames); ``static/print_editor.js``
adds CodeMirror, the palette's insertion at the cursor and debounced previews.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from recordbase.errors import NotFound, PermissionDenied, RecordbaseError, ValidationError
from recordbase.model import EntityDef
from recordbase.printing import spec
from recordbase.printing.palette import Group, build_palette
from recordbase.records.query import ListQuery
from recordbase.web.common import actor, catalog, login_required, runtime, signed_in_user
from recordbase.web.i18n import localised, localised_error
from recordbase.web.lists import record_id, record_title
from recordbase.web.printouts import check_printable, document_response

bp = Blueprint("print_templates", __name__, url_prefix="/print-templates")

F = TypeVar("F", bound=Callable[..., Any])
RECORD_CHOICES = 100
#: a frame's page: the editor's own policy, but it may be shown inside the editor
FRAME_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
STARTERS = {
    "record": "<h1>{{ title(record) }}</h1>\n<p>{{ date(today, \"long\") }}</p>\n",
    "list": (
        "<h1>{{ entity.label_plural }}</h1>\n<table class=\"rb-items\">\n"
        "{% for row in records %}\n  <tr><td>{{ loop.index }}</td><td>{{ title(row) }}</td></tr>\n"
        "{% endfor %}\n</table>\n"
    ),
}


def admin_only(view: F) -> F:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not signed_in_user().is_admin:
            raise PermissionDenied(_("Only an administrator may change print templates."))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _entity(name: str) -> EntityDef:
    entity = catalog().entity(name)
    if entity.child:
        raise NotFound(_("Lines of a child table are printed with their parent record."))
    return entity


def _user_id() -> int:
    return signed_in_user().id


# --- reading the form ----------------------------------------------------------------------


def _margin(form: Mapping[str, str], side: str) -> float:
    text = form.get(f"margin_{side}", "").strip().replace(",", ".")
    if not text:
        return float(spec.DEFAULT_MARGINS[side])
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= spec.MAX_MARGIN_MM:
        raise ValidationError(
            _("The %(side)s margin is a number of millimetres between 0 and %(max)d.",
              side=_side_label(side), max=spec.MAX_MARGIN_MM),
            fields={f"margin_{side}": text[:20]},
        )
    return value


def _side_label(side: str) -> str:
    labels = {"top": _("top"), "right": _("right"), "bottom": _("bottom"), "left": _("left")}
    return str(labels[side])


def form_data(form: Mapping[str, str], name: str | None = None) -> dict[str, Any]:
    """The template as the service takes it, from the editor's form."""
    return {
        "name": (form.get("name") or name or "").strip(),
        "label": form.get("label", "").strip() or None,
        "body": form.get("body", "").replace("\r\n", "\n"),
        "css": form.get("css", "").replace("\r\n", "\n"),
        "scope": form.get("scope", "record"),
        "locale": form.get("locale", "ru"),
        "page": {
            "size": form.get("page_size", "A4"),
            "orientation": form.get("orientation", "portrait"),
            "margins": {side: _margin(form, side) for side in spec.SIDES},
        },
    }


def problems_of(exc: RecordbaseError, body: str) -> list[dict[str, Any]]:
    """A template error's problems, each with its line of the body and that line's text."""
    found = exc.extra.get("problems")
    if isinstance(found, list) and found:
        pairs = [
            (p.get("line"), str(localised(p.get("message") or "")), p.get("kind")) for p in found
        ]
    else:
        line, message = exc.extra.get("line"), exc.message
        if exc.extra.get("template"):  # a line of a built-in partial, not of this body
            line = None
        elif isinstance(line, int) and exc.extra.get("problem"):  # the sentence without "Line n: "
            message = str(localised(exc.extra["problem"]))
        elif isinstance(line, int) and message.startswith(f"Line {line}: "):
            message = message.split(": ", 1)[1]
        pairs = [(line, message, exc.extra.get("kind"))]
    lines = body.split("\n")
    out = []
    for line, message, kind in pairs[:20]:
        number = line if isinstance(line, int) and 0 < line <= len(lines) else None
        out.append({"line": number, "message": message, "kind": kind or "error",
                    "source": lines[number - 1][:300] if number else ""})
    return out


# --- pages -----------------------------------------------------------------------------------


@bp.get("/")
@admin_only
def index() -> str:
    entities = [e for e in catalog().live_entities() if not e.child]
    counts: dict[int, int] = {}
    for stored in runtime().prints.store.all():
        counts[stored.entity_id] = counts.get(stored.entity_id, 0) + 1
    return render_template("print_templates_ui/index.html", entities=entities, counts=counts)


@bp.get("/<entity>/")
@admin_only
def entity_templates(entity: str) -> str:
    return _list_page(_entity(entity))[0]


def _list_page(ent: EntityDef, *, error: RecordbaseError | None = None,
               form: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "print_templates_ui/list.html",
        entity=ent,
        templates=localised(runtime().prints.list_templates(ent.name)),
        error=error,
        form=form or {},
        scopes=spec.SCOPES,
    )
    return page, status


@bp.post("/<entity>/")
@admin_only
def create(entity: str) -> BaseResponse | tuple[str, int]:
    ent = _entity(entity)
    scope = request.form.get("scope", "record")
    data = {
        "name": request.form.get("name", "").strip(),
        "label": request.form.get("label", "").strip() or None,
        "scope": scope,
        "body": STARTERS.get(scope, STARTERS["record"]),
    }
    try:
        created = runtime().prints.create(ent.name, data, user_id=_user_id())
    except RecordbaseError as exc:
        localised_error(exc)
        return _list_page(ent, error=exc, form=request.form, status=exc.status)
    return redirect(url_for(".editor", entity=ent.name, template=created["name"], msg="created"),
                    code=303)


@bp.post("/<entity>/_docx")
@admin_only
def upload_docx(entity: str) -> BaseResponse | tuple[str, int]:
    from recordbase.printing.docx import MAX_DOCX_BYTES

    ent = _entity(entity)
    request.max_content_length = MAX_DOCX_BYTES + 64 * 1024
    name = request.form.get("name", "").strip()
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationError(_("Choose a Word file (.docx) to upload."),
                                  fields={"file": "Required."})
        content = upload.read(MAX_DOCX_BYTES + 1)
        saved = runtime().prints.save_docx(ent.name, name, request.form.get("label") or None,
                                           content, user_id=_user_id())
    except RecordbaseError as exc:
        localised_error(exc)
        return _list_page(ent, error=exc, form=request.form, status=exc.status)
    return redirect(url_for(".editor", entity=ent.name, template=saved["name"], msg="saved"),
                    code=303)


@bp.get("/<entity>/<template>")
@admin_only
def editor(entity: str, template: str) -> tuple[str, int]:
    ent = _entity(entity)
    if template in spec.BUILTIN_NAMES:
        raise NotFound(_("The built-in templates are not edited here; create one of your own."))
    current = runtime().prints.template(ent.name, template)
    return _editor_page(ent, current, current)


def _editor_page(ent: EntityDef, current: dict[str, Any], shown: Mapping[str, Any], *,
                 error: RecordbaseError | None = None, status: int = 200) -> tuple[str, int]:
    prints = runtime().prints
    body = str(shown.get("body") or "")
    records = _record_choices(ent)
    chosen = request.values.get("record", "")
    palette: list[Group] = build_palette(catalog(), ent, prints.company_entity,
                                         str(shown.get("scope") or "record"))
    page = render_template(
        "print_templates_ui/editor.html",
        entity=ent,
        current=current,
        shown=shown,
        error=error,
        problems=problems_of(error, body) if error is not None else [],
        saved_problems=localised(current.get("problems") or []),
        revisions=prints.revisions(ent.name, current["name"]),
        records=records,
        chosen_record=int(chosen) if chosen.isdigit() and len(chosen) < 19 else (
            records[0][0] if records else None),
        palette=palette,
        group_title=group_title,
        page_sizes=spec.PAGE_SIZES,
        orientations=spec.ORIENTATIONS,
        scopes=spec.SCOPES,
        locales=spec.LOCALES,
        sides=spec.SIDES,
        max_body=spec.MAX_BODY,
    )
    return page, status


def group_title(group: Group) -> str:
    """A palette group's heading in the user's language."""
    label = group.subject
    titles = {
        "record": lambda: _("This record: %(label)s", label=label),
        "records": lambda: _("Records of the list: %(label)s", label=label),
        "linked": lambda: _("Linked: %(label)s", label=label)
        + f" → {group.extra.get('target', '')}",
        "lines": lambda: _("Lines: %(label)s", label=label),
        "many": lambda: _("List: %(label)s", label=label),
        "related": lambda: _("Related: %(label)s", label=label),
        "company": lambda: _("Company card: %(label)s", label=label),
        "user": lambda: _("Current user"),
        "today": lambda: _("Today"),
        "partials": lambda: _("Built-in partials"),
    }
    return str(titles.get(group.kind, lambda: _("Helpers"))())


def _record_choices(ent: EntityDef) -> list[tuple[int, str]]:
    try:
        page = runtime().records.list_page(ent.name, ListQuery(limit=RECORD_CHOICES),
                                           actor=actor(), purpose="print")
    except RecordbaseError:
        return []
    return [(int(item["id"]), record_title(ent, item)) for item in page.items]


@bp.post("/<entity>/<template>")
@admin_only
def save(entity: str, template: str) -> BaseResponse | tuple[str, int]:
    ent = _entity(entity)
    prints = runtime().prints
    current = prints.template(ent.name, template)
    typed: dict[str, Any] = dict(request.form)
    try:
        if current["kind"] == "docx":
            data = {"name": typed.get("name", template).strip() or template,
                    "label": typed.get("label") or None, "body": ""}
        else:
            data = form_data(request.form, template)
        saved = prints.update(ent.name, template, data, user_id=_user_id())
    except RecordbaseError as exc:
        localised_error(exc)
        typed.setdefault("page", current.get("page"))
        return _editor_page(ent, current, _typed(current, typed), error=exc, status=exc.status)
    return redirect(url_for(".editor", entity=ent.name, template=saved["name"], msg="saved"),
                    code=303)


def _typed(current: Mapping[str, Any], form: Mapping[str, Any]) -> dict[str, Any]:
    """What the user typed, shaped like a stored template (for showing it again)."""
    page = dict(current.get("page") or {})
    page["size"] = form.get("page_size", page.get("size"))
    page["orientation"] = form.get("orientation", page.get("orientation"))
    page["margins"] = {
        side: form.get(f"margin_{side}", (page.get("margins") or {}).get(side, ""))
        for side in spec.SIDES
    }
    return {**current, **{k: form[k] for k in ("name", "label", "body", "css", "scope",
                                                "locale") if k in form}, "page": page}


@bp.post("/<entity>/<template>/delete")
@admin_only
def delete(entity: str, template: str) -> BaseResponse:
    ent = _entity(entity)
    if request.form.get("confirm") != "yes":
        raise ValidationError(_("Tick the box to confirm the deletion."),
                              fields={"confirm": "Required."})
    runtime().prints.delete(ent.name, template)
    return redirect(url_for(".entity_templates", entity=ent.name, msg="deleted"), code=303)


@bp.post("/<entity>/<template>/revert")
@admin_only
def revert(entity: str, template: str) -> BaseResponse:
    ent = _entity(entity)
    text = request.form.get("revision", "")
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise ValidationError(_("Choose the version to go back to."),
                              fields={"revision": text[:20]})
    runtime().prints.revert(ent.name, template, int(text), user_id=_user_id())
    return redirect(url_for(".editor", entity=ent.name, template=template, msg="saved"),
                    code=303)


# --- previews ---------------------------------------------------------------------------------


def _preview_record(ent: EntityDef) -> int:
    text = request.values.get("record", "")
    if not text:
        raise ValidationError(_("Choose a record to preview the template with."),
                              fields={"record": "Required."})
    rid = record_id(text)
    check_printable(ent.name, [rid])
    return rid


def _frame_error(exc: RecordbaseError, body: str) -> Response:
    page = render_template("print_templates_ui/frame_error.html", error=exc,
                           problems=problems_of(exc, body))
    response = Response(page, status=exc.status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = FRAME_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _preview_format() -> str:
    fmt = request.values.get("format", "html")
    if fmt not in ("html", "pdf"):
        raise ValidationError(_("A preview is HTML or PDF."), fields={"format": fmt[:20]})
    return fmt


@bp.post("/<entity>/_preview")
@admin_only
def preview(entity: str) -> Response:
    """The template as typed (not saved), for one record, shown in the editor's frames."""
    ent = _entity(entity)
    body = request.form.get("body", "")
    try:
        rid = _preview_record(ent)
        data = {**form_data(request.form, "preview"), "name": "preview"}
        document = runtime().prints.preview(ent.name, data, [rid], _preview_format(), actor())
    except RecordbaseError as exc:
        localised_error(exc)
        return _frame_error(exc, body)
    return document_response(document, framed=True)


@bp.get("/<entity>/<template>/preview")
@admin_only
def saved_preview(entity: str, template: str) -> Response:
    """The saved template for one record (the frames' first content, without scripts)."""
    ent = _entity(entity)
    try:
        rid = _preview_record(ent)
        document = runtime().prints.render(ent.name, template, [rid], _preview_format(),
                                           actor())
    except RecordbaseError as exc:
        localised_error(exc)
        return _frame_error(exc, "")
    return document_response(document, framed=True)


@bp.post("/<entity>/_check")
@admin_only
def check(entity: str) -> tuple[Response, int]:
    """Whether the template as typed renders for the record: ``{"ok": true}``, or its
    problems with their lines (the editor marks them)."""
    ent = _entity(entity)
    body = request.form.get("body", "")
    try:
        rid = _preview_record(ent)
        data = {**form_data(request.form, "preview"), "name": "preview"}
        runtime().prints.preview(ent.name, data, [rid], "html", actor())
    except RecordbaseError as exc:
        localised_error(exc)
        return jsonify({"ok": False, "message": exc.message,
                        "problems": problems_of(exc, body)}), exc.status
    return jsonify({"ok": True, "problems": []}), 200
