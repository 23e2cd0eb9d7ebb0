"""The structure editor for administrators: entities, fields, previews, the journal.

Every change is a ``SchemaService`` operation, the same the API runs. A change of
type or options is first run as a dry run and its preview (rows, convertible,
failing, samples, dependents) shown; the admin confirms, and only then is it
applied.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from recordbase.errors import (
    ConversionError,
    LicenceRestriction,
    RecordbaseError,
    ValidationError,
)
from recordbase.model import EntityDef, FieldDef
from recordbase.schema.operation import Operation, Outcome
from recordbase.schema.ops_entity import ChangeEntity, CreateEntity, RemoveEntity, RestoreEntity
from recordbase.schema.ops_field import AddField, ChangeField, PurgeField, RemoveField, RestoreField
from recordbase.web.admin import free_tier_sentence, structure_editing
from recordbase.web.common import (
    admin_required,
    catalog,
    current_user,
    runtime,
    signed_in_user,
)
from recordbase.web.i18n import localised, localised_error, localised_reason

bp = Blueprint("structure", __name__, url_prefix="/structure")

FLAGS = ("required", "unique", "indexed")
MAX_OPTIONS = 100_000


def field_type_labels() -> dict[str, str]:
    """Each registered field type as people read it, in the user's language: the
    structure editor and the form designer show these, not the registry's names."""
    return {
        "autonumber": _("Automatic number"),
        "boolean": _("Yes or no"),
        "child_table": _("Table of lines"),
        "created_at": _("Creation time"),
        "created_by": _("Created by"),
        "date": _("Date"),
        "datetime": _("Date and time"),
        "decimal": _("Decimal number"),
        "email": _("E-mail address"),
        "file": _("File"),
        "image": _("Image"),
        "integer": _("Whole number"),
        "link": _("Link to a record"),
        "long_text": _("Long text"),
        "many_to_many": _("Links to several records"),
        "money": _("Amount of money"),
        "multi_select": _("Several choices"),
        "multiply": _("Computed product"),
        "percent": _("Percentage"),
        "phone": _("Phone number"),
        "single_select": _("One choice"),
        "sum": _("Computed sum of lines"),
        "text": _("Text"),
        "updated_at": _("Time of the last change"),
        "updated_by": _("Last changed by"),
        "url": _("Web address"),
        "user": _("User"),
    }


@bp.app_template_filter("type_label")
def field_type_label(name: str) -> str:
    """The human label of the field type ``name`` (a type without one shows its name)."""
    return field_type_labels().get(name, name)


@bp.before_request
def _refuse_on_the_free_tier() -> tuple[str, int] | None:
    """Every change is refused on the free tier, as a sentence on the structure page."""
    user = current_user()
    if request.method != "POST" or user is None or not user.is_admin or structure_editing():
        return None
    error = LicenceRestriction(free_tier_sentence())
    page = render_template("structure/index.html", entities=list(catalog().entities.values()),
                           error=error, form={})
    return page, error.status


def _run(op: Operation, *, dry_run: bool = False) -> Outcome:
    return runtime().schema.execute(op, user_id=signed_in_user().id, dry_run=dry_run)


def _entity(name: str) -> EntityDef:
    return catalog().entity(name)


def _any_entity(name: str) -> EntityDef:
    """Live or removed (removed entities can be restored)."""
    found = catalog().entities.get(name)
    if found is None:
        return catalog().entity(name)  # raises the NotFound sentence
    return found


def _options(text: str) -> dict[str, Any]:
    text = text.strip()
    if not text:
        return {}
    if len(text) > MAX_OPTIONS:
        raise ValidationError(_("The options are too long."), fields={"options": "Too long."})
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            _("The options are not valid JSON: %(why)s", why=exc.msg),
            fields={"options": exc.msg},
        ) from exc
    if not isinstance(data, dict):
        raise ValidationError(
            _('The options are a JSON object such as {"max_length": 100}.'),
            fields={"options": "An object."},
        )
    return data


def _default(type_name: str, options: dict[str, Any], text: str, entity: EntityDef) -> Any:
    """The default as typed, read the way the field's type reads a cell of a file."""
    if not text.strip():
        return None
    registry = catalog().registry
    if type_name not in registry:
        return text
    probe = FieldDef(id=0, entity_id=entity.id, name="probe", label="probe", type=type_name,
                     options=options)
    try:
        return registry.get(type_name).import_value(probe, text)
    except (ConversionError, ValueError, TypeError, KeyError) as exc:
        raise ValidationError(
            _("The default value does not fit the type: %(why)s", why=localised_reason(exc)),
            fields={"default": localised_reason(exc)},
        ) from exc


# --- entities ------------------------------------------------------------------------------


@bp.get("/")
@admin_required
def index() -> str:
    return render_template("structure/index.html", entities=list(catalog().entities.values()),
                           error=None, form={})


@bp.post("/entities")
@admin_required
def create_entity() -> BaseResponse | tuple[str, int]:
    form = request.form
    spec = {
        "name": form.get("name", "").strip(),
        "label": form.get("label", "").strip() or None,
        "label_plural": form.get("label_plural", "").strip() or None,
        "directory": form.get("kind") in ("directory", "tree"),
        "tree": form.get("kind") == "tree",
        "child": form.get("kind") == "child",
    }
    try:
        outcome = _run(CreateEntity(spec))
    except RecordbaseError as exc:
        localised_error(exc)
        page = render_template("structure/index.html", entities=list(catalog().entities.values()),
                               error=exc, form=form)
        return page, exc.status
    return redirect(url_for("structure.entity", name=outcome.entity, msg="structure_changed"),
                    code=303)


@bp.get("/<name>")
@admin_required
def entity(name: str) -> str:
    ent = _any_entity(name)
    return render_template("structure/entity.html", **_entity_context(ent))


def _entity_context(ent: EntityDef, **extra: Any) -> dict[str, Any]:
    registry = catalog().registry
    context: dict[str, Any] = {
        "entity": ent,
        "types": registry.names(),
        "registry": registry,
        "entities": [e for e in catalog().live_entities()],
        "error": None,
        "form": {},
    }
    context.update(extra)
    return context


@bp.post("/<name>")
@admin_required
def change_entity(name: str) -> BaseResponse | tuple[str, int]:
    ent = _entity(name)
    changes: dict[str, Any] = {}
    for key in ("name", "label", "label_plural"):
        value = request.form.get(key, "").strip()
        if value and value != getattr(ent, key):
            changes[key] = value
    title = request.form.get("title_field", "")
    if title != (ent.title_field or ""):
        changes["title_field"] = title or None
    nav = _nav_from_form(ent)
    if nav is not None:
        changes["nav"] = nav
    if not changes:
        return redirect(url_for("structure.entity", name=ent.name), code=303)
    try:
        outcome = _run(ChangeEntity(ent.name, changes))
    except RecordbaseError as exc:
        localised_error(exc)
        return render_template("structure/entity.html", **_entity_context(ent, error=exc)), 422
    return redirect(url_for("structure.entity", name=outcome.entity, msg="structure_changed"),
                    code=303)


def _nav_from_form(ent: EntityDef) -> dict[str, Any] | None:
    """The navigation setting posted with the names, when it differs from the entity's
    (a position that is not a whole number goes through, for the operation to refuse it)."""
    if "nav_position" not in request.form:
        return None
    raw = request.form.get("nav_position", "").strip()
    position: Any = int(raw) if raw.isdigit() else (raw or None)
    nav = {"hidden": request.form.get("nav_hidden") == "on", "position": position}
    return None if nav == ent.nav.to_json() else nav


@bp.post("/<name>/remove")
@admin_required
def remove_entity(name: str) -> BaseResponse:
    _run(RemoveEntity(_entity(name).name))
    return redirect(url_for("structure.index", msg="structure_changed"), code=303)


@bp.post("/<name>/restore")
@admin_required
def restore_entity(name: str) -> BaseResponse:
    _run(RestoreEntity(_any_entity(name).name))
    return redirect(url_for("structure.entity", name=name, msg="structure_changed"), code=303)


# --- fields ---------------------------------------------------------------------------------


@bp.post("/<name>/fields")
@admin_required
def add_field(name: str) -> BaseResponse | tuple[str, int]:
    ent = _entity(name)
    form = request.form
    try:
        options = _options(form.get("options", ""))
        type_name = form.get("type", "")
        spec: dict[str, Any] = {
            "name": form.get("name", "").strip(),
            "label": form.get("label", "").strip() or None,
            "type": type_name,
            "options": options,
            "help": form.get("help", ""),
            "default": _default(type_name, options, form.get("default", ""), ent),
            "fill_existing": form.get("fill_existing") == "true",
            **{flag: form.get(flag) == "true" for flag in FLAGS},
        }
        _run(AddField(ent.name, spec))
    except RecordbaseError as exc:
        localised_error(exc)
        context = _entity_context(ent, error=exc, form=form)
        page = render_template("structure/entity.html", **context)
        return page, exc.status
    return redirect(url_for("structure.entity", name=ent.name, msg="structure_changed"), code=303)


def _field_changes(ent: EntityDef, fdef: FieldDef) -> dict[str, Any]:
    form = request.form
    changes: dict[str, Any] = {}
    for key in ("name", "label", "help"):
        value = form.get(key, "").strip() if key != "help" else form.get(key, "")
        if value != getattr(fdef, key) and (value or key == "help"):
            changes[key] = value
    type_name = form.get("type", fdef.type)
    if type_name != fdef.type:
        changes["type"] = type_name
    options = _options(form.get("options", ""))
    if options != dict(fdef.options) or "type" in changes:
        changes["options"] = options
    for flag in FLAGS:
        wanted = form.get(flag) == "true"
        if wanted != getattr(fdef, flag):
            changes[flag] = wanted
    default = _default(type_name, options, form.get("default", ""), ent)
    if default != fdef.default or ("type" in changes and default is not None):
        changes["default"] = default
    on_failure = form.get("on_failure", "")
    if on_failure in ("abort", "clear"):
        changes["on_failure"] = on_failure
    return changes


@bp.route("/<name>/fields/<field>", methods=["GET", "POST"])
@admin_required
def field(name: str, field: str) -> BaseResponse | str | tuple[str, int]:
    ent = _entity(name)
    fdef = ent.field(field)
    ftype = catalog().type_of(fdef)
    context = _entity_context(
        ent, field=fdef, ftype=ftype, preview=None,
        default_text=ftype.export_value(fdef, fdef.default) if fdef.default is not None else "",
        type_choices=[fdef.type, *sorted(ftype.converts_to)],
        options_text=json.dumps(dict(fdef.options), ensure_ascii=False),
    )
    if request.method == "GET":
        return render_template("structure/field.html", **context)
    try:
        changes = _field_changes(ent, fdef)
        if not changes:
            return redirect(url_for("structure.entity", name=ent.name), code=303)
        if request.form.get("confirm") != "true":
            outcome = _run(ChangeField(ent.name, fdef.name, changes), dry_run=True)
            context.update(preview=localised(outcome.report), changes=changes, form=request.form)
            return render_template("structure/field.html", **context)
        _run(ChangeField(ent.name, fdef.name, changes))
    except RecordbaseError as exc:
        localised_error(exc)
        context.update(error=exc, form=request.form)
        return render_template("structure/field.html", **context), exc.status
    return redirect(url_for("structure.entity", name=ent.name, msg="structure_changed"), code=303)


@bp.post("/<name>/fields/<field>/remove")
@admin_required
def remove_field(name: str, field: str) -> BaseResponse:
    _run(RemoveField(_entity(name).name, field))
    return redirect(url_for("structure.entity", name=name, msg="structure_changed"), code=303)


@bp.post("/<name>/fields/<field>/restore")
@admin_required
def restore_field(name: str, field: str) -> BaseResponse:
    _run(RestoreField(_entity(name).name, field))
    return redirect(url_for("structure.entity", name=name, msg="structure_changed"), code=303)


@bp.post("/<name>/fields/<field>/purge")
@admin_required
def purge_field(name: str, field: str) -> BaseResponse:
    _run(PurgeField(_entity(name).name, field, confirmed=request.form.get("confirm") == "true"))
    return redirect(url_for("structure.entity", name=name, msg="structure_changed"), code=303)


# --- journal ----------------------------------------------------------------------------------


@bp.get("/journal")
@admin_required
def journal() -> str:
    before = request.args.get("before", "")
    before_id = int(before) if before.isdigit() and len(before) < 12 else None
    items = runtime().schema.journal(limit=50, before_id=before_id)
    return render_template("structure/journal.html", items=items)


@bp.post("/journal/<int:entry_id>/undo")
@admin_required
def undo(entry_id: int) -> BaseResponse:
    runtime().schema.undo(entry_id, user_id=signed_in_user().id)
    return redirect(url_for("structure.journal", msg="undone"), code=303)
