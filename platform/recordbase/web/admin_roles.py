"""Administration pages for roles: create, rename, delete, and their rights.

A role's rights are a matrix of entities × actions (read, create, update, delete,
export, print, import) saved in one transaction, and per entity a page with the
row rule ("own records" or the user's group, others' rows read-only or hidden)
and per-field access (hidden, read-only). Everything goes through
``AccessService``, the same rules the records, exports, prints and imports obey.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from recordbase.access import ACTIONS, FIELD_ACCESS, OTHERS, ROW_RULES, owner_fields
from recordbase.errors import RecordbaseError, ValidationError
from recordbase.model import EntityDef
from recordbase.web.admin import admin_page
from recordbase.web.common import actor, catalog, runtime
from recordbase.web.i18n import localised_error

bp = Blueprint("admin_roles", __name__, url_prefix="/admin/roles")


def action_labels() -> dict[str, str]:
    return {
        "read": _("read"),
        "create": _("create"),
        "update": _("change"),
        "delete": _("delete"),
        "export": _("export"),
        "print": _("print"),
        "import": _("import"),
    }


def _audit(action: str, role: str, **details: Any) -> None:
    runtime().audit.log(action, actor=actor(), details={"role": role, **details})


# --- the list of roles ---------------------------------------------------------------------


def _roles_page(error: RecordbaseError | None = None, form: Any = None) -> str:
    counts: dict[str, int] = {}
    for user in runtime().users.list_users():
        counts[user["role"]] = counts.get(user["role"], 0) + 1
    return render_template(
        "admin/roles.html", roles=runtime().access.roles(), counts=counts, error=error,
        form=form or {},
    )


@bp.get("/")
@admin_page
def roles() -> str:
    return _roles_page()


@bp.post("/")
@admin_page
def create_role() -> BaseResponse | tuple[str, int]:
    form = request.form
    data = {
        "name": form.get("name", "").strip(),
        "label": form.get("label", "").strip()[:200] or None,
        "default_access": form.get("default_access", "none"),
    }
    try:
        role = runtime().access.create_role(data)
    except RecordbaseError as exc:
        localised_error(exc)
        return _roles_page(exc, form), exc.status
    _audit("role.create", role["name"])
    return redirect(url_for("admin_roles.role", name=role["name"], done="role_created"), code=303)


# --- one role: names and the matrix of actions ----------------------------------------------


def _entities() -> list[EntityDef]:
    return list(catalog().live_entities())


def _effective(role: dict[str, Any], entity: EntityDef) -> dict[str, Any]:
    """The role's permission on ``entity``, or what its default access gives."""
    explicit = role["permissions"].get(entity.name)
    if explicit is not None:
        return {**explicit, "explicit": True}
    everything = role["name"] == "admin" or role["default_access"] == "all"
    return {
        "actions": list(ACTIONS) if everything else [],
        "rows": "all",
        "others": "hidden",
        "owner_field": None,
        "fields": {},
        "explicit": False,
    }


def _role_page(name: str, error: RecordbaseError | None = None, form: Any = None) -> str:
    role = runtime().access.role(name)
    entities = _entities()
    return render_template(
        "admin/role.html",
        role=role,
        entities=entities,
        rights={e.name: _effective(role, e) for e in entities},
        actions=ACTIONS,
        action_labels=action_labels(),
        error=error,
        form=form,
    )


@bp.get("/<name>")
@admin_page
def role(name: str) -> str:
    return _role_page(name)


@bp.post("/<name>")
@admin_page
def update_role(name: str) -> BaseResponse | tuple[str, int]:
    form = request.form
    data: dict[str, Any] = {"label": form.get("label", "").strip()[:200] or name}
    new_name = form.get("name", name).strip()
    if new_name != name:
        data["name"] = new_name
    if name != "admin" and form.get("default_access") in ("all", "none"):
        data["default_access"] = form["default_access"]
    try:
        saved = runtime().access.update_role(name, data)
    except RecordbaseError as exc:
        localised_error(exc)
        return _role_page(name, exc, form), exc.status
    _audit("role.update", name, changes=data)
    return redirect(url_for("admin_roles.role", name=saved["name"], done="role_saved"), code=303)


@bp.post("/<name>/delete")
@admin_page
def delete_role(name: str) -> BaseResponse | tuple[str, int]:
    try:
        runtime().access.delete_role(name)
    except RecordbaseError as exc:
        localised_error(exc)
        return _role_page(name, exc), exc.status
    _audit("role.delete", name)
    return redirect(url_for("admin_roles.roles", done="role_deleted"), code=303)


def _checked_actions(form: MultiDict[str, str], key: str, entity: EntityDef) -> list[str]:
    actions = [a for a in ACTIONS if a in form.getlist(key)]
    if actions and "read" not in actions:
        raise ValidationError(
            _("%(entity)s: every other action needs read; tick read or clear the row.",
              entity=entity.label_plural),
            fields={key: _("Needs read.")},
        )
    return actions


@bp.post("/<name>/rights")
@admin_page
def save_matrix(name: str) -> BaseResponse | tuple[str, int]:
    """The matrix of actions: every entity at once, its rows and fields rules kept."""
    role = runtime().access.role(name)
    data: dict[str, Any] = {}
    try:
        for entity in _entities():
            current = _effective(role, entity)
            data[entity.name] = {
                "actions": _checked_actions(request.form, f"actions.{entity.name}", entity),
                "rows": current["rows"],
                "others": current["others"],
                "owner_field": current["owner_field"],
                "fields": current["fields"],
            }
        runtime().access.set_permissions(name, data)
    except RecordbaseError as exc:
        localised_error(exc)
        return _role_page(name, exc, request.form), exc.status
    _audit("role.permission", name, set={k: v["actions"] for k, v in data.items()})
    return redirect(url_for("admin_roles.role", name=name, done="rights_saved"), code=303)


# --- one role on one entity: actions, row rule, fields ------------------------------------


def _entity_page(
    name: str, entity_name: str, error: RecordbaseError | None = None, form: Any = None
) -> str:
    role = runtime().access.role(name)
    entity = catalog().entity(entity_name)
    user_fields = owner_fields(catalog(), entity)
    return render_template(
        "admin/role_entity.html",
        role=role,
        entity=entity,
        rights=_effective(role, entity),
        user_fields=user_fields,
        actions=ACTIONS,
        action_labels=action_labels(),
        error=error,
        form=form,
    )


@bp.get("/<name>/entities/<entity>")
@admin_page
def entity_rights(name: str, entity: str) -> str:
    return _entity_page(name, entity)


def _entity_permission(entity: EntityDef) -> dict[str, Any]:
    form = request.form
    fields = {
        f.name: form[f"field.{f.name}"]
        for f in entity.fields
        if form.get(f"field.{f.name}") in FIELD_ACCESS
    }
    rows = form.get("rows", "all")
    others = form.get("others", "hidden")
    return {
        "actions": _checked_actions(form, "actions", entity),
        "rows": rows if rows in ROW_RULES else "all",
        "others": others if others in OTHERS else "hidden",
        "owner_field": form.get("owner_field") or None,
        "fields": fields,
    }


@bp.post("/<name>/entities/<entity>")
@admin_page
def save_entity_rights(name: str, entity: str) -> BaseResponse | tuple[str, int]:
    ent = catalog().entity(entity)
    try:
        if request.form.get("reset") == "true":
            runtime().access.delete_permission(name, ent.name)
            data: Any = None
        else:
            data = _entity_permission(ent)
            runtime().access.set_permissions(name, {ent.name: data})
    except RecordbaseError as exc:
        localised_error(exc)
        return _entity_page(name, ent.name, exc, request.form), exc.status
    runtime().audit.log(
        "role.permission", actor=actor(), entity=ent.name, details={"role": name, "set": data}
    )
    return redirect(
        url_for("admin_roles.entity_rights", name=name, entity=ent.name, done="rights_saved"),
        code=303,
    )
