"""The automatic layouts: what an entity looks like before anyone designs it.

Form: one tab "Main"; a section with every live field in order, two per row at
width 6, wide controls (long text, multi-links, child tables, files) on a row of
their own; then, when other entities' records link here, a section "Linked
records" with one related list per link, full width, one under another (the card
shows consecutive full-width related lists as one set of tabs). List: the first
``AUTOMATIC_COLUMNS`` fields, automatic widths, no default sort.
"""

from __future__ import annotations

from typing import Any

from recordbase.catalog import Catalog
from recordbase.layouts.check import GRID, is_child_table, points_at
from recordbase.model import EntityDef, FieldDef

AUTOMATIC_COLUMNS = 8
HALF = GRID // 2
#: widgets that take the whole width of the card (field types name their widget)
WIDE_WIDGETS = frozenset({"textarea", "multi_link_picker", "child_table", "file", "image"})
LINKED_RECORDS = "Linked records"


def related_links(catalog: Catalog, entity: EntityDef) -> list[tuple[EntityDef, FieldDef]]:
    """Fields of other (non-child) entities whose values point at records of ``entity``."""
    return [
        (owner, fdef)
        for owner, fdef in catalog.fields_targeting(entity)
        if not owner.removed and not owner.child and not fdef.removed
        and points_at(catalog, fdef, entity)
    ]


def automatic_form(catalog: Catalog, entity: EntityDef) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    row = col = 0
    for fdef in entity.fields:
        wide = catalog.type_of(fdef).widget in WIDE_WIDGETS
        if (wide and col) or col >= GRID:
            row, col = row + 1, 0
        child = is_child_table(catalog, fdef)
        element: dict[str, Any] = {
            "id": f"f{fdef.id}",
            "type": "child_table" if child else "field",
            "row": row,
            "col": col,
            "width": GRID if wide else HALF,
            "field": fdef.id,
            "label": None,
            "help": None,
        }
        if not child:
            element["placeholder"] = None
        element.update(readonly=False, hidden=False)
        if not child:
            element["required"] = False
        elements.append(element)
        col += GRID if wide else HALF
    sections = [{"id": "fields", "label": "", "collapsed": False, "elements": elements}]
    links = related_links(catalog, entity)
    if links:
        sections.append(
            {
                "id": "linked",
                "label": LINKED_RECORDS,
                "collapsed": False,
                "elements": [
                    {
                        "id": f"r{fdef.id}",
                        "type": "related",
                        "row": n,
                        "col": 0,
                        "width": GRID,
                        "entity": owner.name,
                        "field": fdef.id,
                    }
                    for n, (owner, fdef) in enumerate(links)
                ],
            }
        )
    return {
        "format": 1,
        "kind": "form",
        "tabs": [{"id": "main", "label": "Main", "sections": sections}],
    }


def automatic_list(catalog: Catalog, entity: EntityDef) -> dict[str, Any]:
    columns = [
        {"field": f.id, "width": None}
        for f in entity.fields
        if not is_child_table(catalog, f)
    ][:AUTOMATIC_COLUMNS]
    return {"format": 1, "kind": "list", "columns": columns, "sort": []}


def automatic(catalog: Catalog, entity: EntityDef, kind: str) -> dict[str, Any]:
    return automatic_form(catalog, entity) if kind == "form" else automatic_list(catalog, entity)
