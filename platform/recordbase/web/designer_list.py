"""The list layout designer: which columns a list shows, in which order and widths, and
its default sort. Operations are pure functions like the form designer's; each is
applied to the administrator's draft of the ``list`` layout, saving makes a version.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from recordbase.errors import RecordbaseError, ValidationError
from recordbase.layouts.check import is_child_table
from recordbase.model import EntityDef
from recordbase.web import designer_ops as ops
from recordbase.web.common import actor, admin_required, catalog, runtime, signed_in_user
from recordbase.web.designer import (
    FRAGMENT_HEADER,
    bp,
    current_layout,
    entity_of,
    layout_role,
    read_operation,
    saved_message,
)
from recordbase.web.i18n import localised_error

Layout = dict[str, Any]
MAX_COLUMNS = 50
MIN_WIDTH, MAX_WIDTH = 40, 1200


def _column(layout: Layout, args: ops.Args) -> tuple[int, dict[str, Any]]:
    field = ops.arg_int(args, "field", 1, ops.MAX_ID)
    for index, column in enumerate(layout.get("columns", [])):
        if column.get("field") == field:
            return index, column
    message = _("This field is not a column of the list.")
    raise ValidationError(message, fields={"field": message})


def add_column(layout: Layout, args: ops.Args) -> Layout:
    result = copy.deepcopy(layout)
    columns = result.setdefault("columns", [])
    field = ops.arg_int(args, "field", 1, ops.MAX_ID)
    if any(c.get("field") == field for c in columns):
        raise ValidationError(_("This field is a column already."), fields={"field": "taken"})
    if len(columns) >= MAX_COLUMNS:
        raise ValidationError(_("A list shows at most %(n)d columns.", n=MAX_COLUMNS),
                              fields={"field": "too many"})
    index = ops.arg_int(args, "index", 0, MAX_COLUMNS) if "index" in args else len(columns)
    columns.insert(min(index, len(columns)), {"field": field, "width": None})
    return result


def remove_column(layout: Layout, args: ops.Args) -> Layout:
    result = copy.deepcopy(layout)
    index, _column_found = _column(result, args)
    del result["columns"][index]
    result["sort"] = [s for s in result.get("sort", []) if s.get("field") != args.get("field")]
    return result


def move_column(layout: Layout, args: ops.Args) -> Layout:
    result = copy.deepcopy(layout)
    _index, column = _column(result, args)
    result["columns"].remove(column)
    index = ops.arg_int(args, "index", 0, MAX_COLUMNS)
    result["columns"].insert(min(index, len(result["columns"])), column)
    return result


def column_width(layout: Layout, args: ops.Args) -> Layout:
    result = copy.deepcopy(layout)
    _index, column = _column(result, args)
    given = args.get("width")
    column["width"] = None if given in ("", None) else ops.arg_int(args, "width", MIN_WIDTH,
                                                                     MAX_WIDTH)
    return result


def default_sort(layout: Layout, args: ops.Args) -> Layout:
    result = copy.deepcopy(layout)
    if args.get("field") in ("", None):
        result["sort"] = []
        return result
    field = ops.arg_int(args, "field", 1, ops.MAX_ID)
    direction = args.get("direction", "asc")
    if direction not in ("asc", "desc"):
        raise ValidationError(_("direction must be asc or desc."), fields={"direction": "asc"})
    result["sort"] = [{"field": field, "direction": direction}]
    return result


LIST_OPERATIONS: dict[str, Callable[[Layout, ops.Args], Layout]] = {
    "add_column": add_column,
    "remove_column": remove_column,
    "move_column": move_column,
    "width": column_width,
    "sort": default_sort,
}


def apply_list(layout: Layout, args: ops.Args) -> Layout:
    name = args.get("op")
    operation = LIST_OPERATIONS.get(name) if isinstance(name, str) else None
    if operation is None:
        raise ValidationError(_("The designer does not know the operation %(op)s.",
                                op=str(name)[:40]), fields={"op": "unknown"})
    return operation(layout, args)


# --- pages ------------------------------------------------------------------------------------


def _context(ent: EntityDef, layout: Layout, is_draft: bool, *, message: str | None = None,
             error: str | None = None) -> dict[str, Any]:
    cat = catalog()
    by_id = {f.id: f for f in ent.all_fields}
    shown = [c["field"] for c in layout.get("columns", [])]
    return {
        "entity": ent,
        "layout": layout,
        "is_draft": is_draft,
        "saved": runtime().layouts.current(ent.name, "list", layout_role()),
        "columns": [(c, by_id.get(c["field"])) for c in layout.get("columns", [])],
        "available": [f for f in ent.fields if f.id not in shown and not is_child_table(cat, f)],
        "sortable": [f for f in ent.fields if cat.type_of(f).sortable
                     and not is_child_table(cat, f)],
        "sort": (layout.get("sort") or [None])[0],
        "message": message,
        "error": error,
    }


def _page(ent: EntityDef, context: dict[str, Any], status: int = 200) -> Response:
    fragment = bool(request.headers.get(FRAGMENT_HEADER))
    template = "designer/_list_workspace.html" if fragment else "designer/list.html"
    headers = {FRAGMENT_HEADER: "1"} if fragment else {}
    return Response(render_template(template, **context), status=status, mimetype="text/html",
                    headers=headers)


@bp.get("/<entity>/list")
@admin_required
def list_layout(entity: str) -> Response:
    ent = entity_of(entity)
    layout, is_draft = current_layout(ent, "list")
    return _page(ent, _context(ent, layout, is_draft, message=saved_message()))


@bp.post("/<entity>/list/op")
@admin_required
def list_operation(entity: str) -> Response | BaseResponse:
    ent = entity_of(entity)
    layout, is_draft = current_layout(ent, "list")
    try:
        changed = apply_list(layout, read_operation())
        layout = runtime().layouts.save_draft(ent.name, "list", changed, signed_in_user().id,
                                              layout_role())
    except RecordbaseError as exc:
        localised_error(exc)
        return _page(ent, _context(ent, layout, is_draft, error=exc.message), exc.status)
    if not request.headers.get(FRAGMENT_HEADER):
        target = url_for("designer.list_layout", entity=ent.name, role=layout_role())
        return redirect(target, code=303)
    return _page(ent, _context(ent, layout, True, message=_("The list layout is changed.")))


@bp.post("/<entity>/list/save")
@admin_required
def list_save(entity: str) -> BaseResponse:
    ent = entity_of(entity)
    layout, _is_draft = current_layout(ent, "list")
    note = request.form.get("note", "").strip() or None
    runtime().layouts.save(ent.name, "list", layout, actor=actor(), note=note, role=layout_role())
    target = url_for("designer.list_layout", entity=ent.name, msg="layout_saved",
                     role=layout_role())
    return redirect(target, code=303)


@bp.post("/<entity>/list/discard")
@admin_required
def list_discard(entity: str) -> BaseResponse:
    ent = entity_of(entity)
    runtime().layouts.discard_draft(ent.name, "list", signed_in_user().id, layout_role())
    target = url_for("designer.list_layout", entity=ent.name, msg="draft_discarded",
                     role=layout_role())
    return redirect(target, code=303)
