"""Versions of a layout: the list with author and time, a readable comparison, revert.

The comparison matches elements by what they show (a field by its id, a related
list by its link, a static element by its id) so a field moved to another tab is
"moved", not "removed and added", and names each by its label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from recordbase.errors import ValidationError
from recordbase.model import EntityDef
from recordbase.web import designer_ops as ops
from recordbase.web.common import actor, admin_required, runtime
from recordbase.web.designer import bp, describe, entity_of, layout_role

MAX_VERSION = 2**31


Place = tuple[str, str, dict[str, Any]]  # tab label, section label, element


def _key(element: dict[str, Any]) -> tuple[Any, ...]:
    if element.get("type") in ("field", "child_table"):
        return ("field", element.get("field"))
    if element.get("type") == "related":
        return ("related", element.get("entity"), element.get("field"))
    return ("static", element.get("id"))


def _places(layout: dict[str, Any]) -> dict[tuple[Any, ...], Place]:
    out: dict[tuple[Any, ...], Place] = {}
    for tab in ops.tabs(layout):
        for section in tab.get("sections", []):
            for element in section.get("elements", []):
                out[_key(element)] = (tab["label"], section.get("label") or "", element)
    return out


def _where(place: Place) -> str:
    tab, section, element = place
    return str(_("tab %(tab)s, section %(section)s, row %(row)d, column %(col)d",
                 tab=tab, section=section or _("(untitled)"), row=element["row"] + 1,
                 col=element["col"] + 1))


PROPERTY_KEYS = ("label", "help", "placeholder", "readonly", "hidden", "required", "text",
                 "level", "file", "alt")


def differences(old: dict[str, Any], new: dict[str, Any],
                name_of: Callable[[dict[str, Any]], str]) -> Iterator[str]:
    """Sentences saying how ``new`` differs from ``old``, element by element."""
    before, after = _places(old), _places(new)
    for key, place in after.items():
        name = name_of(place[2])
        if key not in before:
            yield _("Added %(name)s at %(where)s.", name=name, where=_where(place))
            continue
        was = before[key]
        if (was[0], was[1], was[2]["row"], was[2]["col"]) != (
                place[0], place[1], place[2]["row"], place[2]["col"]):
            yield _("Moved %(name)s from %(old)s to %(new)s.", name=name, old=_where(was),
                    new=_where(place))
        if was[2]["width"] != place[2]["width"]:
            yield _("Resized %(name)s from %(old)d to %(new)d columns.", name=name,
                    old=was[2]["width"], new=place[2]["width"])
        changed = [k for k in PROPERTY_KEYS if was[2].get(k) != place[2].get(k)]
        if changed:
            yield _("Changed %(what)s of %(name)s.", what=", ".join(changed), name=name)
    for key, place in before.items():
        if key not in after:
            yield _("Removed %(name)s (was at %(where)s).", name=name_of(place[2]),
                    where=_where(place))
    old_tabs = [t["label"] for t in ops.tabs(old)]
    new_tabs = [t["label"] for t in ops.tabs(new)]
    if old_tabs != new_tabs:
        yield _("The tabs were %(old)s and are %(new)s.", old=", ".join(old_tabs),
                new=", ".join(new_tabs))


def _number(text: str | None, name: str) -> int:
    if not text or not text.isdigit() or int(text) > MAX_VERSION:
        message = _("Choose two versions to compare.")
        raise ValidationError(message, fields={name: message})
    return int(text)


def _namer(ent: EntityDef) -> Callable[[dict[str, Any]], str]:
    return lambda element: describe(ent, element).name


@bp.get("/<entity>/versions")
@admin_required
def versions(entity: str) -> str:
    ent = entity_of(entity)
    kind = "list" if request.args.get("kind") == "list" else "form"
    found = runtime().layouts.versions(ent.name, kind, layout_role())
    return render_template("designer/versions.html", entity=ent, versions=found, kind=kind,
                           diff=None)


@bp.get("/<entity>/compare")
@admin_required
def compare(entity: str) -> str:
    ent = entity_of(entity)
    kind = "list" if request.args.get("kind") == "list" else "form"
    service = runtime().layouts
    first = _number(request.args.get("a"), "a")
    second = _number(request.args.get("b"), "b")
    old, new = sorted((first, second))
    old_body = service.version(ent.name, kind, old, layout_role()).body
    new_body = service.version(ent.name, kind, new, layout_role()).body
    if kind == "list":
        lines = list(list_differences(ent, old_body, new_body))
    else:
        lines = list(differences(old_body, new_body, _namer(ent)))
    return render_template("designer/versions.html", entity=ent, kind=kind,
                           versions=service.versions(ent.name, kind, layout_role()),
                           diff={"old": old, "new": new, "lines": lines})


def list_differences(ent: EntityDef, old: dict[str, Any], new: dict[str, Any]
                     ) -> Iterator[str]:
    def label(field_id: Any) -> str:
        found = next((f for f in ent.all_fields if f.id == field_id), None)
        return found.label if found else _("Missing field %(id)s", id=field_id)

    before = [c["field"] for c in old.get("columns", [])]
    after = [c["field"] for c in new.get("columns", [])]
    if before != after:
        yield _("The columns were %(old)s and are %(new)s.",
                old=", ".join(label(f) for f in before), new=", ".join(label(f) for f in after))
    widths = {c["field"]: c.get("width") for c in old.get("columns", [])}
    for column in new.get("columns", []):
        if column["field"] in widths and widths[column["field"]] != column.get("width"):
            yield _("The width of %(name)s changed.", name=label(column["field"]))
    if old.get("sort") != new.get("sort"):
        yield _("The default sort changed.")


@bp.post("/<entity>/versions/<int:number>/revert")
@admin_required
def revert(entity: str, number: int) -> BaseResponse:
    ent = entity_of(entity)
    kind = "list" if request.form.get("kind") == "list" else "form"
    runtime().layouts.revert(ent.name, kind, number, actor=actor(), role=layout_role())
    target = "designer.list_layout" if kind == "list" else "designer.form"
    return redirect(url_for(target, entity=ent.name, msg="layout_reverted", role=layout_role()),
                    code=303)
