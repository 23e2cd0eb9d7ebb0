"""The form designer: an entity's card laid out by dragging on a 12-column grid.

The server is the source of truth. Every drop, button or key in the browser is one
operation of ``designer_ops`` POSTed here (JSON from the script, a plain form without
it); it is applied to the administrator's draft (``LayoutService.save_draft``, which
validates), and the workspace is rendered again with a sentence saying what happened.
Saving makes a new version; versions, comparisons and reverts are in
``designer_versions``, the list layout in ``designer_list``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from recordbase.errors import NotFound, PayloadTooLarge, RecordbaseError, ValidationError
from recordbase.layouts.automatic import related_links
from recordbase.layouts.check import is_child_table
from recordbase.model import EntityDef, FieldDef
from recordbase.web import designer_ops as ops
from recordbase.web.card_layout import form_rules
from recordbase.web.common import actor, admin_required, catalog, runtime, signed_in_user
from recordbase.web.i18n import localised_error
from recordbase.web.structure import field_type_label

bp = Blueprint("designer", __name__, url_prefix="/design")

MAX_OP_BYTES = 16 * 1024
MAX_OP_DEPTH = 3
FRAGMENT_HEADER = "X-Designer-Fragment"
STATIC_PALETTE = ("heading", "text", "divider", "spacer", "image")


def entity_of(name: str) -> EntityDef:
    ent = catalog().entity(name)
    if ent.child:
        raise NotFound(_("The lines of a child table have no card of their own to design."))
    return ent


def layout_role() -> str | None:
    """The role whose own layout is designed (``?role=NAME``); None: the general layout."""
    role = request.args.get("role") or None
    return role if role in role_names() else None


def role_names() -> dict[str, str]:
    if "designer_roles" not in g:
        g.designer_roles = {r["name"]: r.get("label") or r["name"]
                            for r in runtime().access.roles()}
    names: dict[str, str] = g.designer_roles
    return names


@bp.before_request
def _known_role() -> None:
    role = request.args.get("role")
    if role and role not in role_names():
        message = _("There is no role %(role)s.", role=role[:60])
        raise NotFound(message, fields={"role": message})


@bp.context_processor
def _role_context() -> dict[str, Any]:
    return {"role": layout_role(), "roles": role_names}


def current_layout(ent: EntityDef, kind: str = "form") -> tuple[dict[str, Any], bool]:
    """The user's draft (True), else the layout in force for the role (False)."""
    service = runtime().layouts
    role = layout_role()
    draft = service.draft(ent.name, kind, signed_in_user().id, role)
    if draft is not None:
        return draft, True
    return service.effective(ent.name, kind, role), False


# --- what the templates show --------------------------------------------------------------


@dataclass(frozen=True)
class PaletteItem:
    kind: str
    label: str
    detail: str
    field: int | None = None
    entity: str | None = None


@dataclass(frozen=True)
class Shown:
    """An element as the canvas shows it."""

    element: dict[str, Any]
    name: str
    detail: str
    missing: bool = False


def type_labels() -> dict[str, str]:
    return {
        "field": _("Field"),
        "heading": _("Heading"),
        "text": _("Text"),
        "divider": _("Divider"),
        "spacer": _("Spacer"),
        "image": _("Image"),
        "related": _("Related records"),
        "child_table": _("Child table"),
    }


def _field(ent: EntityDef, field_id: Any) -> FieldDef | None:
    found = next((f for f in ent.all_fields if f.id == field_id), None)
    return found if found is not None and not found.removed else None


def describe(ent: EntityDef, element: dict[str, Any]) -> Shown:
    kind = element.get("type", "")
    names = type_labels()
    if kind in ("field", "child_table"):
        fdef = _field(ent, element.get("field"))
        if fdef is None:
            return Shown(element, _("Missing field %(id)s", id=element.get("field")),
                         _("removed from the entity"), missing=True)
        name = element.get("label") or fdef.label
        return Shown(element, name,
                     field_type_label(fdef.type) if kind == "field" else names[kind])
    if kind == "related":
        owner = catalog().entities.get(str(element.get("entity")))
        fdef = _field(owner, element.get("field")) if owner is not None else None
        if owner is None or fdef is None:
            return Shown(element, names[kind], _("missing link"), missing=True)
        return Shown(element, owner.label_plural, f"{names[kind]}: {fdef.label}")
    static: dict[str, Callable[[], tuple[str, str]]] = {
        "heading": lambda: (str(element.get("text", ""))[:80], names[kind]),
        "text": lambda: (str(element.get("text", ""))[:80], names[kind]),
        "image": lambda: (str(element.get("alt") or names[kind]),
                          _("stored file %(id)s", id=element.get("file"))),
    }
    if kind in static:
        name, detail = static[kind]()
        return Shown(element, name, detail)
    return Shown(element, names.get(kind, kind), "")


def palette(ent: EntityDef, layout: dict[str, Any]) -> list[PaletteItem]:
    cat = catalog()
    placed = ops.placed_fields(layout)
    related = {(e.get("entity"), e.get("field")) for e in ops.elements(layout)
               if e.get("type") == "related"}
    items = [
        PaletteItem("child_table" if is_child_table(cat, f) else "field", f.label,
                    field_type_label(f.type),
                    field=f.id)
        for f in ent.fields if f.id not in placed
    ]
    for owner, fdef in related_links(cat, ent):
        if (owner.name, fdef.id) not in related:
            items.append(PaletteItem("related", owner.label_plural,
                                     f"{type_labels()['related']}: {fdef.label}",
                                     field=fdef.id, entity=owner.name))
    names = type_labels()
    items.extend(PaletteItem(kind, names[kind], _("static element")) for kind in STATIC_PALETTE)
    return items


def unreachable_fields(ent: EntityDef, layout: dict[str, Any]) -> list[FieldDef]:
    """The required fields a new record cannot get from a card laid out by ``layout``:
    no default, not set by Recordbase itself, and not editable in the layout (left out,
    hidden or read-only), so the card's Save is refused for every new record."""
    cat = catalog()
    editable = form_rules(ent, layout).editable
    return [
        f for f in ent.fields
        if f.required and f.name not in editable
        and not cat.type_of(f).read_only and cat.type_of(f).default_for(f) is None
    ]


def unreachable_sentence(fields: list[FieldDef]) -> str:
    return str(_("New records cannot be made from this card: the layout leaves out, hides "
                 "or makes read-only the required fields %(fields)s, which have no default.",
                 fields=", ".join(f.label for f in fields)))


def rows_of(ent: EntityDef, section: dict[str, Any]) -> list[list[Shown]]:
    rows: list[list[Shown]] = [[] for _ in range(ops.row_count(section))]
    for element in section.get("elements", []):
        rows[element["row"]].append(describe(ent, element))
    return rows


def workspace_context(ent: EntityDef, layout: dict[str, Any], is_draft: bool, *,
                      tab: str | None = None, selected: str | None = None,
                      message: str | None = None, error: str | None = None) -> dict[str, Any]:
    tab_ids = [t["id"] for t in ops.tabs(layout)]
    chosen: dict[str, Any] | None = None
    if selected:
        try:
            section, element = ops.find_element(layout, selected)
            chosen = element
            tab = next(t["id"] for t in ops.tabs(layout) if section in t["sections"])
        except NotFound:
            selected = None
    saved = runtime().layouts.current(ent.name, "form", layout_role())
    active = tab if tab in tab_ids else (tab_ids[0] if tab_ids else None)
    return {
        "place_section": _place_section(layout, active, chosen),
        "entity": ent,
        "layout": layout,
        "is_draft": is_draft,
        "saved": saved,
        "active_tab": active,
        "selected": selected,
        "chosen": describe(ent, chosen) if chosen is not None else None,
        "palette": palette(ent, layout),
        "rows_of": lambda section: rows_of(ent, section),
        "missing": [e["id"] for e in ops.elements(layout)
                    if e.get("type") in ("field", "child_table")
                    and _field(ent, e.get("field")) is None],
        "properties": ops.PROPERTIES,
        "type_labels": type_labels(),
        "sections": [(t, s) for t in ops.tabs(layout) for s in t["sections"]],
        "message": message,
        "error": error,
        "records": sample_records(ent),
        "unreachable": unreachable_fields(ent, layout),
    }


def _place_section(layout: dict[str, Any], tab: str | None,
                   chosen: dict[str, Any] | None) -> str | None:
    """Where the palette's Place buttons put things: the selected element's section, else
    the first section of the tab on show."""
    if chosen is not None:
        return str(ops.find_element(layout, chosen["id"])[0]["id"])
    for found in ops.tabs(layout):
        if found["id"] == tab and found.get("sections"):
            return str(found["sections"][0]["id"])
    return None


def sample_records(ent: EntityDef) -> list[tuple[int, str]]:
    """Records to preview the draft with (the newest few)."""
    from recordbase.records.query import ListQuery
    from recordbase.web.lists import record_title

    page = runtime().records.list_page(ent.name, ListQuery(sort=("-id",), limit=20),
                                       actor=actor())
    return [(int(item["id"]), record_title(ent, item)) for item in page.items]


# --- reading an operation ------------------------------------------------------------------


def read_operation() -> dict[str, Any]:
    """The operation of this request: a JSON object (the script) or the form's fields."""
    if request.mimetype == "application/json":
        raw = request.get_data(cache=True)
        if len(raw) > MAX_OP_BYTES:
            raise PayloadTooLarge(_("An operation of the designer is at most 16 KiB."))
        try:
            data = json.loads(raw)
        except RecursionError as exc:
            raise ValidationError(_("An operation is a flat JSON object; this one is nested "
                                    "too deeply. Nothing was changed.")) from exc
        except ValueError as exc:
            raise ValidationError(_("The operation is not valid JSON; nothing was changed.")
                                  ) from exc
        if not isinstance(data, dict) or any(
            isinstance(v, dict | list) for v in data.values()
        ):
            raise ValidationError(
                _("An operation is a JSON object of plain values such as "
                  '{"op": "remove", "id": "e1"}; nothing was changed.'))
        return data
    args: dict[str, Any] = {k: v for k, v in request.form.items()
                            if not k.startswith("_") and k != "csrf_token"}
    item = args.pop("item", None)
    if isinstance(item, str):  # a palette button: "kind:field:entity"
        kind, _sep, rest = item.partition(":")
        field, _sep, owner = rest.partition(":")
        args["type"] = kind
        if field:
            args["field"] = field
        if owner:
            args["entity"] = owner
    for name in ("file", "width"):
        if args.get(name) == "" and args.get("op") == "place":
            del args[name]
    return args


def _verb(op: str, shown: Shown | None) -> str:
    name = shown.name if shown else ""
    sentences = {
        "place": _("%(name)s is placed.", name=name),
        "move": _("%(name)s is moved.", name=name),
        "nudge": _("%(name)s is moved.", name=name),
        "to_section": _("%(name)s is moved to another section.", name=name),
        "resize": _("%(name)s is resized.", name=name),
        "set": _("The properties of %(name)s are changed.", name=name),
        "remove": _("%(name)s is removed; it is back in the palette.", name=name),
        "add_tab": _("A tab is added."),
        "rename_tab": _("The tab is renamed."),
        "move_tab": _("The tab is moved."),
        "remove_tab": _("The tab is removed; its fields are back in the palette."),
        "add_section": _("A section is added."),
        "rename_section": _("The section is changed."),
        "move_section": _("The section is moved."),
        "remove_section": _("The section is removed; its fields are back in the palette."),
        "remove_missing": _("The missing fields are removed from the layout."),
    }
    return str(sentences.get(op, _("Done.")))


def where_now(ent: EntityDef, layout: dict[str, Any], element_id: str) -> str:
    section, element = ops.find_element(layout, element_id)
    tab = next(t for t in ops.tabs(layout) if section in t["sections"])
    return str(_(
        "Tab %(tab)s, section %(section)s, row %(row)d, column %(col)d, %(width)d of 12 "
        "columns wide.",
        tab=tab["label"], section=section.get("label") or _("(untitled)"),
        row=element["row"] + 1, col=element["col"] + 1, width=element["width"],
    ))


def _apply(ent: EntityDef, layout: dict[str, Any], args: dict[str, Any]
           ) -> tuple[dict[str, Any], str | None, str]:
    """The new layout, the element to select after it and the sentence to announce."""
    name = str(args.get("op", ""))
    before = {e["id"] for e in ops.elements(layout)}
    if name == "remove_missing":
        changed = ops.remove_missing(layout, {f.id for f in ent.fields})
    else:
        changed = ops.apply(layout, args)
    added = [e["id"] for e in ops.elements(changed) if e["id"] not in before]
    target = added[0] if added else (args.get("id") if isinstance(args.get("id"), str) else None)
    if name in ("remove",) or target not in {e["id"] for e in ops.elements(changed)}:
        gone = describe(ent, ops.find_element(layout, target)[1]) if (
            isinstance(target, str) and target in before) else None
        return changed, None, _verb(name, gone)
    shown = describe(ent, ops.find_element(changed, str(target))[1])
    return changed, str(target), f"{_verb(name, shown)} {where_now(ent, changed, str(target))}"


# --- pages ----------------------------------------------------------------------------------


def _workspace(ent: EntityDef, context: dict[str, Any], status: int = 200) -> Response:
    body = render_template("designer/_workspace.html", **context)
    return Response(body, status=status, mimetype="text/html", headers={FRAGMENT_HEADER: "1"})


def _view_args() -> tuple[str | None, str | None]:
    tab = request.args.get("tab") or request.form.get("_tab")
    selected = request.args.get("selected") or request.form.get("_selected")
    valid = ops.ID_PATTERN.fullmatch
    return (tab if tab and valid(tab) else None,
            selected if selected and valid(selected) else None)


@bp.get("/<entity>")
@admin_required
def form(entity: str) -> Response | str:
    ent = entity_of(entity)
    layout, is_draft = current_layout(ent)
    tab, selected = _view_args()
    context = workspace_context(ent, layout, is_draft, tab=tab, selected=selected,
                                message=saved_message())
    if request.headers.get(FRAGMENT_HEADER):
        return _workspace(ent, context)
    return render_template("designer/form.html", **context)


def saved_message() -> str | None:
    """The sentence for a ``msg`` key a save, discard or revert redirected with."""
    sentences = {
        "layout_saved": _("The layout is saved as a new version."),
        "draft_discarded": _("The draft is discarded."),
        "layout_reverted": _("The earlier version is now the layout in force."),
    }
    key = request.args.get("msg")
    return sentences.get(key) if isinstance(key, str) else None


@bp.post("/<entity>/op")
@admin_required
def operation(entity: str) -> Response | BaseResponse:
    ent = entity_of(entity)
    layout, is_draft = current_layout(ent)
    tab, selected = _view_args()
    try:
        args = read_operation()
        changed, selected, message = _apply(ent, layout, args)
        if isinstance(args.get("tab"), str) and args.get("op") in ("add_section", "rename_tab"):
            tab = args["tab"]
        if args.get("op") == "add_tab":
            tab = ops.tabs(changed)[-1]["id"]
        layout = runtime().layouts.save_draft(ent.name, "form", changed, signed_in_user().id,
                                              layout_role())
        is_draft = True
    except RecordbaseError as exc:
        localised_error(exc)
        context = workspace_context(ent, layout, is_draft, tab=tab, selected=selected,
                                    error=exc.message)
        if not request.headers.get(FRAGMENT_HEADER):
            return Response(render_template("designer/form.html", **context), status=exc.status)
        return _workspace(ent, context, exc.status)
    if not request.headers.get(FRAGMENT_HEADER):
        return redirect(url_for("designer.form", entity=ent.name, tab=tab, selected=selected,
                                role=layout_role()), code=303)
    context = workspace_context(ent, layout, is_draft, tab=tab, selected=selected,
                                message=message)
    return _workspace(ent, context)


@bp.post("/<entity>/save")
@admin_required
def save(entity: str) -> BaseResponse | Response:
    ent = entity_of(entity)
    layout, is_draft = current_layout(ent)
    unreachable = unreachable_fields(ent, layout)
    if unreachable and request.form.get("unreachable_ok") != "true":
        # the page asks for the tick box before it submits; this is for anything else
        error = str(_("The layout is not saved. %(problem)s Tick \u201cSave it all the same\u201d "
                      "to save it anyway.", problem=unreachable_sentence(unreachable)))
        context = workspace_context(ent, layout, is_draft, error=error)
        return Response(render_template("designer/form.html", **context), status=422)
    note = request.form.get("note", "").strip() or None
    runtime().layouts.save(ent.name, "form", layout, actor=actor(), note=note, role=layout_role())
    target = url_for("designer.form", entity=ent.name, msg="layout_saved", role=layout_role())
    return redirect(target, code=303)


@bp.post("/<entity>/discard")
@admin_required
def discard(entity: str) -> BaseResponse:
    ent = entity_of(entity)
    runtime().layouts.discard_draft(ent.name, "form", signed_in_user().id, layout_role())
    target = url_for("designer.form", entity=ent.name, msg="draft_discarded", role=layout_role())
    return redirect(target, code=303)


@bp.get("/<entity>/preview")
@admin_required
def preview(entity: str) -> str:
    """The card body of a chosen record (or a new one) laid out by the draft, through the
    card's own templates; shown outside any form, so nothing can be saved from it."""
    from recordbase.web.card_layout import build_card
    from recordbase.web.forms import field_views
    from recordbase.web.i18n import locale_code
    from recordbase.web.lists import record_title
    from recordbase.web.widgets import user_choices

    ent = entity_of(entity)
    layout, is_draft = current_layout(ent)
    record = request.args.get("record", "")
    item: dict[str, Any] = {}
    if record.isdigit() and len(record) < 19:
        item, _titles = runtime().records.get(ent.name, int(record), with_titles=False,
                                              actor=actor())
    cat = catalog()
    views = field_views(cat, ent, item, locale_code())
    record_id = item.get("id")
    card = build_card(cat, ent, layout, views, record_id)
    return render_template(
        "designer/preview.html", entity=ent, item=item, record_id=record_id, card=card,
        is_draft=is_draft, title=record_title(ent, item) if record_id else None,
        errors={}, users=lambda: user_choices(runtime()),
    )
