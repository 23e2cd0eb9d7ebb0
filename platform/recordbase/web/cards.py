"""Record cards: show, create, change and delete one record.

The card is laid out by the entity's form layout (``recordbase.web.card_layout``:
the role's designed layout, else the general one, else the automatic one with every
field in order and the linked records of other entities as tabs); a child table is
edited inline. A posted card writes only what its layout shows editable and must
fill what its layout makes required. A stale save is refused by the service with who
changed the record and when: the card says so, keeps what the user typed and offers
to reload.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from recordbase.catalog import Catalog
from recordbase.errors import Conflict, ValidationError
from recordbase.model import EntityDef
from recordbase.web.card_layout import FormRules, build_card, form_layout, form_rules
from recordbase.web.common import (
    actor,
    catalog,
    login_required,
    rights,
    runtime,
    signed_in_user,
)
from recordbase.web.forms import PARENT, Posted, field_views, read_form, service_errors
from recordbase.web.i18n import locale_code, localised_error
from recordbase.web.lists import entity_of, record_id, record_title, tree_paths
from recordbase.web.widgets import ReadContext, user_choices

bp = Blueprint("cards", __name__, url_prefix="/r")

MAX_VERSION = 2**62


def _context() -> ReadContext:
    return ReadContext(runtime(), request.files, signed_in_user().id)


def _names() -> list[str]:
    """The fields the form showed (a field added since is left as it is)."""
    return [n for n in request.form.get("_fields", "").split(",") if n][:500]


def _read(ent: EntityDef) -> Posted:
    """The posted card, as far as its layout lets it write: a field the layout hides or
    makes read-only is not read even when posted; a field it makes required is read
    even when left out of the form."""
    rules = form_rules(ent, form_layout(ent.name))
    names = [n for n in _names() if n in rules.editable or n == PARENT]
    names += sorted(rules.required - set(names))
    cat = catalog()
    posted = read_form(cat, ent, request.form, _context(), names,
                       locked=rights(ent.name).read_only)
    _required_in_form(cat, ent, rules, posted)
    return posted


def _required_in_form(cat: Catalog, ent: EntityDef, rules: FormRules, posted: Posted) -> None:
    locked = rights(ent.name).read_only
    for name in sorted(rules.required):
        if name in posted.errors or name in locked or not ent.has_field(name):
            continue
        fdef = ent.field(name)
        if name in posted.data and cat.type_of(fdef).empty(posted.data[name]):
            posted.errors[name] = _("A value is required.")


def _tree_choices(ent: EntityDef, exclude: int | None) -> list[tuple[int, str]]:
    return [(i, path) for i, path in tree_paths(ent) if i != exclude]


def _render(
    ent: EntityDef,
    item: dict[str, Any],
    *,
    posted: Posted | None = None,
    message: str | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    cat = catalog()
    record = item.get("id")
    allowed = rights(ent.name)
    can = allowed.actions
    if record and allowed.row_rule != "all" and not runtime().records.within_rule(
        ent.name, record, actor()
    ):
        # others' records under an "own" or "group" rule are read-only: offer no changes
        can = can - {"update", "delete"}
    may_save = ("update" if record else "create") in can
    locked = allowed.read_only if may_save else frozenset(f.name for f in ent.fields)
    views = field_views(cat, ent, item, locale_code(), posted, locked=locked)
    card = build_card(cat, ent, form_layout(ent.name), views, record)
    parent_value = item.get(PARENT)
    if posted is not None and PARENT in posted.raw:
        parent_value = posted.data.get(PARENT, parent_value)
    page = render_template(
        "records/card.html",
        entity=ent,
        item=item,
        record_id=record,
        card=card,
        field_names=",".join([*card.fields, *([PARENT] if ent.tree else [])]),
        title=record_title(ent, {**item, **(posted.values if posted else {})}) if record else None,
        message=message,
        conflict=conflict,
        errors=posted.errors if posted else {},
        users=lambda: user_choices(runtime()),
        tree_choices=_tree_choices(ent, record) if ent.tree else [],
        parent_value=parent_value,
        parent_error=posted.errors.get(PARENT) if posted else None,
        can=can,
        may_save=may_save,
    )
    return page, status


@bp.get("/files/<int:file_id>")
@login_required
def file(file_id: int) -> Response:
    """A stored file as a download (images inline when asked), for the card's file fields."""
    from recordbase.api.files import file_response

    return file_response(file_id)


@bp.get("/<entity>/new")
@login_required
def new(entity: str) -> tuple[str, int]:
    ent = entity_of(entity)
    cat = catalog()
    item: dict[str, Any] = {}
    for fdef in ent.fields:
        ftype = cat.type_of(fdef)
        default = ftype.default_for(fdef)
        if default is not None:
            item[fdef.name] = default
        given = request.args.get(fdef.name)
        if given is not None and not ftype.read_only and len(given) <= 1000:
            # a prefill that does not fit is just not made
            with contextlib.suppress(ValueError, TypeError):
                item[fdef.name] = ftype.import_value(fdef, given)
    parent = request.args.get(PARENT, "")
    if ent.tree and parent.isdigit() and len(parent) < 19:
        item[PARENT] = int(parent)
    return _render(ent, item)


@bp.post("/<entity>/new")
@login_required
def create(entity: str) -> BaseResponse | tuple[str, int]:
    ent = entity_of(entity)
    posted = _read(ent)
    if posted.errors:
        return _invalid(ent, {}, posted)
    try:
        item = runtime().records.create(ent.name, posted.data, actor=actor())
    except (ValidationError, Conflict) as exc:
        localised_error(exc)
        service_errors(posted, exc.fields)
        return _render(ent, {}, posted=posted, message=exc.message, status=exc.status)
    return redirect(url_for("cards.show", entity=ent.name, record=item["id"], msg="created"),
                    code=303)


def _invalid(ent: EntityDef, item: dict[str, Any], posted: Posted) -> tuple[str, int]:
    # the service is not asked while some control could not be read: say at once which
    # required fields are empty too, so the user fixes everything in one go
    cat = catalog()
    for fdef in ent.fields:
        value = posted.values.get(fdef.name)
        if fdef.required and fdef.name in posted.values and cat.type_of(fdef).empty(value):
            posted.errors.setdefault(fdef.name, _("A value is required."))
    count = len(posted.errors)
    message = ngettext(
        "The record was not saved: %(num)d field has a problem.",
        "The record was not saved: %(num)d fields have problems.",
        count,
    )
    return _render(ent, item, posted=posted, message=message, status=422)


@bp.get("/<entity>/<record>")
@login_required
def show(entity: str, record: str) -> tuple[str, int]:
    ent = entity_of(entity)
    item, _titles = runtime().records.get(
        ent.name, record_id(record), with_titles=False, actor=actor()
    )
    return _render(ent, item)


@bp.post("/<entity>/<record>")
@login_required
def update(entity: str, record: str) -> BaseResponse | tuple[str, int]:
    ent = entity_of(entity)
    rid = record_id(record)
    version_text = request.form.get("version", "")
    if not version_text.isdigit() or int(version_text) > MAX_VERSION:
        raise ValidationError(_("The form is missing the record's version; reload the card."))
    version = int(version_text)
    posted = _read(ent)
    stub = {"id": rid, "version": version}
    if posted.errors:
        return _invalid(ent, stub, posted)
    try:
        runtime().records.update(
            ent.name, rid, posted.data, expected_version=version, actor=actor()
        )
    except ValidationError as exc:
        localised_error(exc)
        service_errors(posted, exc.fields)
        return _render(ent, stub, posted=posted, message=exc.message, status=422)
    except Conflict as exc:
        localised_error(exc)
        service_errors(posted, exc.fields)
        if "current_version" not in exc.extra:  # a duplicate value, not a stale version
            return _render(ent, stub, posted=posted, message=exc.message, status=409)
        return _render(ent, stub, posted=posted, conflict=exc.message, status=409)
    return redirect(url_for("cards.show", entity=ent.name, record=rid, msg="saved"), code=303)


@bp.post("/<entity>/<record>/delete")
@login_required
def delete(entity: str, record: str) -> BaseResponse:
    ent = entity_of(entity)
    rid = record_id(record)
    version_text = request.form.get("version", "")
    version = int(version_text) if version_text.isdigit() and len(version_text) < 18 else None
    runtime().records.delete(ent.name, rid, expected_version=version, actor=actor())
    return redirect(url_for("lists.index", entity=ent.name, msg="deleted"), code=303)
