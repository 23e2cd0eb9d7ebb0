"""The record card laid out by the entity's form layout (``recordbase.layouts``).

The card shows exactly the effective layout of the signed-in user's role: its tabs,
sections, and 12-column rows of elements. A field the layout places that the user
may not see, or that was removed, is skipped; the user's read-only rights win over
the layout. The same layout decides what a posted card may write (``FormRules``):
only the fields it shows editable, and the fields it makes required must be filled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import g, url_for
from flask_babel import gettext as _

from recordbase.catalog import Catalog
from recordbase.errors import NotFound
from recordbase.layouts.automatic import LINKED_RECORDS
from recordbase.model import EntityDef
from recordbase.web.common import rights, runtime, signed_in_user
from recordbase.web.forms import FieldView
from recordbase.web.lists import related_operator

GRID = 12


@dataclass(frozen=True)
class Tab:
    """One related-records list: its label, the full list, and the card's fragment of it."""

    label: str
    list_url: str
    fragment_url: str


@dataclass
class Cell:
    """One element of the layout as the card shows it."""

    ident: str
    kind: str
    col: int
    width: int
    view: FieldView | None = None
    text: str = ""
    level: int = 2
    file: int | None = None
    alt: str = ""
    lists: list[Tab] = field(default_factory=list)


@dataclass
class Row:
    cells: list[Cell]


@dataclass
class Section:
    ident: str
    label: str
    collapsed: bool
    rows: list[Row]

    @property
    def has_error(self) -> bool:
        return any(c.view is not None and c.view.error for r in self.rows for c in r.cells)


@dataclass
class CardTab:
    ident: str
    label: str
    sections: list[Section]

    @property
    def has_error(self) -> bool:
        return any(s.has_error for s in self.sections)


@dataclass
class CardLayout:
    tabs: list[CardTab]
    #: the names of the fields the card shows and may write (the form's ``_fields``)
    fields: list[str]

    @property
    def selected(self) -> str:
        """The tab shown first: the first with a problem, else the first."""
        for tab in self.tabs:
            if tab.has_error:
                return tab.ident
        return self.tabs[0].ident if self.tabs else ""


@dataclass(frozen=True)
class FormRules:
    """What a card posted under a layout may write, and must fill."""

    editable: frozenset[str]
    required: frozenset[str]


def form_layout(entity: str) -> dict[str, Any]:
    """The form layout in force for the signed-in user's role (read once per request)."""
    cache: dict[str, dict[str, Any]] = g.setdefault("form_layouts", {})
    if entity not in cache:
        role = signed_in_user().role
        cache[entity] = runtime().layouts.effective(entity, "form", role)
    return cache[entity]


def _field_elements(layout: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for tab in layout.get("tabs", []):
        for section in tab["sections"]:
            for element in section["elements"]:
                if element["type"] in ("field", "child_table"):
                    yield element


def form_rules(entity: EntityDef, layout: Mapping[str, Any]) -> FormRules:
    """``entity`` as the user sees it: fields hidden from them are not there."""
    by_id = {f.id: f for f in entity.fields}
    editable: set[str] = set()
    required: set[str] = set()
    for element in _field_elements(layout):
        fdef = by_id.get(element["field"])
        if fdef is None or element.get("hidden") or element.get("readonly"):
            continue
        editable.add(fdef.name)
        if element.get("required"):
            required.add(fdef.name)
    return FormRules(frozenset(editable), frozenset(required))


def build_card(
    catalog: Catalog,
    entity: EntityDef,
    layout: Mapping[str, Any],
    views: list[FieldView],
    record: int | None,
) -> CardLayout:
    by_id = {v.fdef.id: v for v in views}
    shown: list[str] = []
    tabs = []
    for tab in layout.get("tabs", []):
        sections = []
        for section in tab["sections"]:
            rows = _rows(catalog, entity, section["elements"], by_id, record, shown)
            label = section["label"]
            if label == LINKED_RECORDS:
                label = _("Linked records")  # the automatic layout's, in the user's language
            if rows or label:
                sections.append(Section(section["id"], label, section["collapsed"], rows))
        if sections:
            tabs.append(CardTab(tab["id"], tab["label"], sections))
    return CardLayout(tabs, shown)


def _rows(
    catalog: Catalog,
    entity: EntityDef,
    elements: list[dict[str, Any]],
    by_id: Mapping[int, FieldView],
    record: int | None,
    shown: list[str],
) -> list[Row]:
    rows: dict[int, list[Cell]] = {}
    for element in elements:
        cell = _cell(catalog, entity, element, by_id, record, shown)
        if cell is not None:
            rows.setdefault(element["row"], []).append(cell)
    out: list[Row] = []
    for number in sorted(rows):
        cells = sorted(rows[number], key=lambda c: c.col)
        if _joins_tabs(out, cells):
            out[-1].cells[0].lists.extend(cells[0].lists)
            continue
        out.append(Row(cells))
    return out


def _joins_tabs(done: list[Row], cells: list[Cell]) -> bool:
    """Full-width related lists one under another show as one set of tabs."""
    def lone_list(row: list[Cell]) -> bool:
        return len(row) == 1 and bool(row[0].lists) and row[0].width == GRID

    return bool(done) and lone_list(done[-1].cells) and lone_list(cells)


def _cell(
    catalog: Catalog,
    entity: EntityDef,
    element: dict[str, Any],
    by_id: Mapping[int, FieldView],
    record: int | None,
    shown: list[str],
) -> Cell | None:
    cell = Cell(element["id"], element["type"], element["col"], element["width"])
    fill = FILL.get(cell.kind)
    if fill is None:
        return cell  # divider, spacer: nothing but their place
    ok = fill(cell, element, Where(catalog, entity, by_id, record, shown))
    return cell if ok else None


@dataclass(frozen=True)
class Where:
    catalog: Catalog
    entity: EntityDef
    by_id: Mapping[int, FieldView]
    record: int | None
    shown: list[str]


def _fill_field(cell: Cell, element: dict[str, Any], where: Where) -> bool:
    view = where.by_id.get(element["field"])
    if view is None or element.get("hidden"):
        return False  # removed, hidden from this user, or hidden by the layout
    _override(view, element)
    if not view.locked:
        where.shown.append(view.fdef.name)
    cell.view = view
    return True


def _fill_text(cell: Cell, element: dict[str, Any], where: Where) -> bool:
    cell.text = element["text"]
    cell.level = min(int(element.get("level", 2)) + 1, 5)
    return True


def _fill_image(cell: Cell, element: dict[str, Any], where: Where) -> bool:
    cell.file, cell.alt = element["file"], element.get("alt", "")
    return True


def _fill_related(cell: Cell, element: dict[str, Any], where: Where) -> bool:
    if where.record is None:
        return False  # a new record has no linked records yet
    found = related_tab(where.catalog, where.entity, element, where.record)
    if found is None:
        return False
    cell.lists = [found]
    return True


#: what each element type takes from the layout (the template shows ``elements/<type>.html``)
FILL: dict[str, Callable[[Cell, dict[str, Any], Where], bool]] = {
    "field": _fill_field,
    "child_table": _fill_field,
    "heading": _fill_text,
    "text": _fill_text,
    "image": _fill_image,
    "related": _fill_related,
}


def _override(view: FieldView, element: Mapping[str, Any]) -> None:
    if element.get("label"):
        view.label = element["label"]
    if element.get("help"):
        view.help = element["help"]
    if element.get("placeholder"):
        view.placeholder = element["placeholder"]
    if element.get("readonly"):
        view.locked = True
    elif element.get("required"):
        view.required = True


def related_tab(
    catalog: Catalog, entity: EntityDef, element: Mapping[str, Any], record: int
) -> Tab | None:
    """The related list an element names, if it still points here and the user may see it."""
    try:
        owner = catalog.entity(element["entity"])
        fdef = owner.field_by_id(element["field"])
    except NotFound:
        return None
    if fdef.removed or owner.child:
        return None
    seen = rights(owner.name)
    if "read" not in seen.actions or fdef.name in seen.hidden:
        return None
    if catalog.type_of(fdef).reference_target(fdef) != entity.name:
        return None
    others = [f for f in owner.fields if catalog.type_of(f).reference_target(f) == entity.name]
    label = owner.label_plural if len(others) < 2 else f"{owner.label_plural} ({fdef.label})"
    query = urlencode({f"filter[{fdef.name}][{related_operator(fdef)}]": str(record)})
    return Tab(
        label,
        url_for("lists.index", entity=owner.name) + "?" + query,
        url_for("lists.related", entity=entity.name, record=record, owner=owner.name,
                field=fdef.name),
    )
