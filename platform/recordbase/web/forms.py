"""Record forms: field views for the templates, and posted forms back to JSON values.

A posted control goes through its widget (``recordbase.web.widgets``) and the field
type's ``import_value``; what fails there is reported next to the control, and the
rest goes to ``RecordService``, whose ``ValidationError`` names fields the same way.
After any error the form is shown again with exactly what the user typed.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from babel.numbers import format_decimal

from recordbase import access as acl
from recordbase import db
from recordbase.catalog import Catalog
from recordbase.errors import ConversionError
from recordbase.fields.base import FieldType, flatten_messages
from recordbase.model import EntityDef, FieldDef
from recordbase.web.common import actor, runtime
from recordbase.web.i18n import locale_code, localised, localised_reason
from recordbase.web.widgets import (
    ComputedWidget,
    FormData,
    ReadContext,
    Widget,
    field_widget,
    widget_for,
)

MAX_ROWS = 1000
PARENT = "parent"


@dataclass
class FieldView:
    fdef: FieldDef
    ftype: FieldType
    widget: Widget
    key: str
    value: Any = None
    text: str = ""
    error: str | None = None
    display: str = ""
    links: list[tuple[int, str]] = field(default_factory=list)
    target: str | None = None
    compact: bool = False
    rows: list[RowView] = field(default_factory=list)
    columns: list[FieldView] = field(default_factory=list)
    sums: dict[str, str] = field(default_factory=dict)
    row_errors: list[str] = field(default_factory=list)
    #: the user's rights (or the card's layout) make it read-only: shown, never read back
    locked: bool = False
    #: what the card shows; the field's own unless the layout overrides them
    label: str = ""
    help: str = ""
    placeholder: str | None = None
    required: bool = False

    @property
    def dom_id(self) -> str:
        return "f-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in self.key)

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [
            (str(c.get("value")), str(c.get("label", c.get("value"))))
            for c in self.fdef.options.get("choices", ())
            if isinstance(c, Mapping)
        ]

    @property
    def chosen(self) -> set[str]:
        if isinstance(self.value, list):
            return {str(v) for v in self.value}
        return set() if self.value is None else {str(self.value)}

    @property
    def scale(self) -> int:
        return self.ftype.decimal_places(self.fdef)

    @property
    def computed_json(self) -> str:
        """The ``computed`` option for app.js (it recomputes as the user types)."""
        return json.dumps(dict(self.fdef.options.get("computed") or {}), ensure_ascii=False)

    @property
    def number_text(self) -> str:
        """A number as the page writes numbers (local separators, no currency)."""
        return "" if self.value is None else number_text(self.value, self.scale)


@dataclass
class RowView:
    key: str
    line_id: int | None
    cells: list[FieldView]
    error: str | None = None
    number: int | str = ""


@dataclass
class Posted:
    """A form as it was posted: the text of each control, the values read from it,
    and what could not be read."""

    raw: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[tuple[str, int | None]]] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    row_keys: dict[str, list[str]] = field(default_factory=dict)


def editable(catalog: Catalog, fdef: FieldDef) -> bool:
    ftype = catalog.type_of(fdef)
    return not ftype.read_only and not field_widget(ftype, fdef).display_only


def computed(catalog: Catalog, fdef: FieldDef) -> bool:
    """A number Recordbase works out: shown in forms (child-table lines too), never read."""
    return field_widget(catalog.type_of(fdef), fdef).name == ComputedWidget.name


def child_entity(catalog: Catalog, fdef: FieldDef) -> EntityDef | None:
    """The entity holding a child table's lines (the field's ``target`` option)."""
    found = catalog.type_of(fdef).line_entity(fdef, catalog)
    return found if found is not None and found.child else None


# --- reading a posted form -----------------------------------------------------------


def read_form(
    catalog: Catalog,
    entity: EntityDef,
    form: FormData,
    ctx: ReadContext,
    names: Iterable[str],
    *,
    locked: frozenset[str] = frozenset(),
) -> Posted:
    """The posted controls of the fields ``names`` as a JSON object for RecordService."""
    posted = Posted()
    for name in names:
        if name == PARENT and entity.tree:
            text = form.get(PARENT, "").strip()
            posted.raw[PARENT] = text
            if text.isascii() and text.isdigit() and len(text) < 19:
                posted.data[PARENT] = int(text)
            elif not text:
                posted.data[PARENT] = None
            else:
                posted.errors[PARENT] = "Choose an entry of the list."
            continue
        if not entity.has_field(name) or name in locked:
            continue
        fdef = entity.field(name)
        if not editable(catalog, fdef):
            continue
        child = child_entity(catalog, fdef)
        if child is not None:
            _read_lines(catalog, fdef, child, form, ctx, posted)
            continue
        ftype = catalog.type_of(fdef)
        widget = widget_for(ftype)
        posted.raw[name] = widget.raw(form, name)
        try:
            value = widget.read(form, name, ftype, fdef, ctx)
        except ConversionError as exc:
            posted.errors[name] = localised_reason(exc)
            continue
        posted.values[name] = value
        posted.data[name] = value
    return posted


def _read_lines(
    catalog: Catalog,
    fdef: FieldDef,
    child: EntityDef,
    form: FormData,
    ctx: ReadContext,
    posted: Posted,
) -> None:
    lines: list[dict[str, Any]] = []
    keys: list[str] = []
    shown: list[tuple[str, int | None]] = []
    seen: set[str] = set()
    errors: list[str] = []
    for key in form.getlist(f"{fdef.name}.rows")[:MAX_ROWS]:
        if key in seen or not key or len(key) > 40:
            continue
        seen.add(key)
        prefix = f"{fdef.name}.{key}."
        id_text = form.get(prefix + "id", "").strip()
        digits = id_text.isascii() and id_text.isdigit() and len(id_text) < 19
        line_id = int(id_text) if digits else None
        if form.get(prefix + "_remove") == "true":
            continue
        line: dict[str, Any] = {} if line_id is None else {"id": line_id}
        blank = True
        for cf in child.fields:
            if not editable(catalog, cf):
                continue
            ctype = catalog.type_of(cf)
            widget = widget_for(ctype)
            ckey = prefix + cf.name
            posted.raw[ckey] = widget.raw(form, ckey)
            if cf.default is None and not widget.is_blank(form, ckey):
                blank = False
            try:
                value = widget.read(form, ckey, ctype, cf, ctx)
            except ConversionError as exc:
                posted.errors[ckey] = localised_reason(exc)
                errors.append(ckey)
                continue
            posted.values[ckey] = value
            if line_id is None and ctype.empty(value):
                continue  # a new line gets the field's default
            line[cf.name] = value
        shown.append((key, line_id))
        if line_id is None and blank:
            continue
        lines.append(line)
        keys.append(key)
    posted.rows[fdef.name] = shown
    posted.row_keys[fdef.name] = keys
    posted.data[fdef.name] = lines


def service_errors(posted: Posted, fields: Mapping[str, Any]) -> None:
    """Put a ValidationError's per-field messages next to the controls they concern."""
    for name, problem in fields.items():
        keys = posted.row_keys.get(name)
        if keys is not None and isinstance(problem, Mapping):
            for index, line_problem in problem.items():
                if not str(index).isdigit() or int(index) >= len(keys):
                    posted.errors[name] = localised(flatten_messages(line_problem))
                    continue
                key = keys[int(index)]
                if isinstance(line_problem, Mapping):
                    for cname, text in line_problem.items():
                        posted.errors[f"{name}.{key}.{cname}"] = localised(flatten_messages(text))
                else:
                    posted.errors[f"{name}.{key}"] = localised(flatten_messages(line_problem))
            continue
        posted.errors[str(name)] = localised(flatten_messages(problem))


# --- field views -----------------------------------------------------------------------


def fetch_titles(catalog: Catalog, wanted: Mapping[str, set[int]]) -> dict[str, dict[str, str]]:
    """Titles of records by target entity, one query per target."""
    out: dict[str, dict[str, str]] = {}
    wanted = {k: v for k, v in wanted.items() if v}
    if not wanted:
        return out
    rt = runtime()
    user = actor()
    with db.read(rt.engine) as conn:
        for target, ids in wanted.items():
            entity = catalog.entities.get(target)
            if entity is None or entity.removed:
                continue
            seen = rt.access.rights(conn, user, entity)
            if "read" not in seen.actions:
                continue  # no titles of records the user may not read
            allowed = acl.read_condition(seen, user, entity, catalog.table(entity))
            out[target] = rt.records.titles(
                conn, catalog, acl.view(entity, seen), sorted(ids)[:500], allowed
            )
    return out


def _wanted(catalog: Catalog, entity: EntityDef, values: Mapping[str, Any]) -> dict[str, set[int]]:
    wanted: dict[str, set[int]] = {}
    for fdef in entity.fields:
        ftype = catalog.type_of(fdef)
        target = ftype.reference_target(fdef)
        if target is not None:
            wanted.setdefault(target, set()).update(
                ftype.referenced_ids(fdef, values.get(fdef.name))
            )
    return wanted


def field_views(
    catalog: Catalog,
    entity: EntityDef,
    item: Mapping[str, Any],
    locale: str,
    posted: Posted | None = None,
    locked: frozenset[str] = frozenset(),
) -> list[FieldView]:
    """A view of every live field of ``entity`` for the card template."""
    values = dict(item)
    if posted is not None:
        values.update(posted.values)
    wanted = _wanted(catalog, entity, values)
    children: dict[str, tuple[EntityDef, list[RowView]]] = {}
    for fdef in entity.fields:
        child = child_entity(catalog, fdef)
        if child is None:
            continue
        lines = item.get(fdef.name) or []
        for line in lines:
            for target, ids in _wanted(catalog, child, line).items():
                wanted.setdefault(target, set()).update(ids)
        if posted is not None:
            for key, _line_id in posted.rows.get(fdef.name, []):
                prefixed = {
                    cf.name: posted.values.get(f"{fdef.name}.{key}.{cf.name}")
                    for cf in child.fields
                }
                for target, ids in _wanted(catalog, child, prefixed).items():
                    wanted.setdefault(target, set()).update(ids)
        children[fdef.name] = (child, [])
    titles = fetch_titles(catalog, wanted)
    views = []
    for fdef in entity.fields:
        view = _view(catalog, fdef, fdef.name, values.get(fdef.name), locale, titles, posted)
        view.locked = fdef.name in locked
        if fdef.name in children:
            child, _ = children[fdef.name]
            _child_rows(catalog, view, child, item.get(fdef.name) or [], locale, titles, posted)
        views.append(view)
    return views


def _view(
    catalog: Catalog,
    fdef: FieldDef,
    key: str,
    value: Any,
    locale: str,
    titles: Mapping[str, Mapping[str, str]],
    posted: Posted | None,
    *,
    compact: bool = False,
) -> FieldView:
    ftype = catalog.type_of(fdef)
    widget = field_widget(ftype, fdef)
    target = ftype.reference_target(fdef)
    view = FieldView(fdef, ftype, widget, key, value=value, target=target, compact=compact,
                     label=fdef.label, help=fdef.help, required=fdef.required)
    if posted is not None and key in posted.raw and key not in posted.values:
        view.text = posted.raw[key]  # could not be read: show it exactly as typed
        view.value = None
    else:
        try:
            view.text = widget.to_text(ftype, fdef, value)
        except (TypeError, ValueError, ConversionError):
            view.text = "" if value is None else str(value)
        if posted is not None and key in posted.raw and not view.text:
            view.text = posted.raw[key]
    if posted is not None:
        view.error = posted.errors.get(key)
    try:
        view.display = widget.display(ftype, fdef, value, locale)
    except (TypeError, ValueError, ConversionError):
        view.display = "" if value is None else str(value)
    if target is not None:
        shown = titles.get(target, {})
        view.links = [
            (i, shown.get(str(i), f"#{i}")) for i in ftype.referenced_ids(fdef, value)
        ]
    return view


def _child_rows(
    catalog: Catalog,
    view: FieldView,
    child: EntityDef,
    lines: list[Mapping[str, Any]],
    locale: str,
    titles: Mapping[str, Mapping[str, str]],
    posted: Posted | None,
) -> None:
    name = view.fdef.name
    columns = [cf for cf in child.fields if editable(catalog, cf) or computed(catalog, cf)]
    view.columns = [
        _view(catalog, cf, f"{name}.__ROW__.{cf.name}", _default(catalog, cf), locale, titles,
              None, compact=True)
        for cf in columns
    ]
    source: list[tuple[str, Any, Mapping[str, Any] | None]]
    if posted is not None and name in posted.rows:
        source = [(key, line_id, None) for key, line_id in posted.rows[name]]
    else:
        source = [(f"r{line.get('id')}", line.get("id"), line) for line in lines]
        if not source:
            source = [("n0", None, None)]
    for key, line_id, line in source:
        cells = []
        for cf in columns:
            ckey = f"{name}.{key}.{cf.name}"
            if line is not None:
                value = line.get(cf.name)
            elif posted is not None and ckey in posted.values:
                value = posted.values[ckey]
            else:
                value = _default(catalog, cf) if posted is None else None
            cells.append(_view(catalog, cf, ckey, value, locale, titles, posted, compact=True))
        row_error = posted.errors.get(f"{name}.{key}") if posted else None
        view.rows.append(RowView(key, line_id if isinstance(line_id, int) else None, cells,
                                 row_error, len(view.rows) + 1))
    for cf in columns:
        if catalog.type_of(cf).totals(cf):
            view.sums[cf.name] = _sum(view, cf.name, locale)


def _default(catalog: Catalog, fdef: FieldDef) -> Any:
    return catalog.type_of(fdef).default_for(fdef)


def _sum(view: FieldView, column: str, locale: str) -> str:
    total = decimal.Decimal(0)
    scale = 0
    for row in view.rows:
        for cell in row.cells:
            if cell.fdef.name != column:
                continue
            scale = cell.scale
            text = cell.text if not cell.widget.display_only else str(cell.value or "")
            try:
                total += decimal.Decimal(str(cell.widget.normalise(text) or "0"))
            except decimal.InvalidOperation:
                continue
    return number_text(total, scale, locale)


def number_text(value: Any, scale: int, locale: str | None = None) -> str:
    """A number with the locale's separators and ``scale`` decimals (sums, computed values)."""

    pattern = "#,##0" + ("." + "0" * scale if scale else "")
    try:
        number = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return str(value)
    return str(format_decimal(number, format=pattern, locale=locale or locale_code()))
