"""What the JSON Schema cannot say about a layout: it fits this entity and this grid.

``check_layout`` runs the schema, then the meaning: fields belong to this entity and
are placed once, child tables are ``child_table`` elements, cells do not overlap,
related lists really point here, images are stored files. The answer is the layout
normalised (every key present, elements in row and column order), so what is stored
and exported does not depend on how it was written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from recordbase.catalog import Catalog
from recordbase.errors import ValidationError
from recordbase.layouts.parse import MAX_DEPTH, THE_LAYOUT, depth_of, too_deep
from recordbase.layouts.schema import schema_problems
from recordbase.messages import joined, msg
from recordbase.model import EntityDef, FieldDef

GRID = 12
MAX_ELEMENTS = 500
#: how many problems the sentence lists (all of them are in ``fields``)
LISTED = 5
FIELD_KEYS = ("label", "help", "placeholder")
FLAGS = ("readonly", "hidden", "required")


@dataclass
class Problems:
    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append((where, message))

    def raise_if_any(self, what: str = THE_LAYOUT) -> None:
        if not self.items:
            return
        listed = joined(
            (msg("{field}: {problem}", field=w, problem=m) for w, m in self.items[:LISTED]), "; "
        )
        more = len(self.items) - LISTED
        raise ValidationError(
            msg("{what} is not valid: {problems}; and {more} more.", what=what, problems=listed,
                more=more)
            if more > 0
            else msg("{what} is not valid: {problems}.", what=what, problems=listed),
            fields={w: m for w, m in reversed(self.items)},
        )


def is_child_table(catalog: Catalog, fdef: FieldDef) -> bool:
    """A child table's field (its lines live in a ``child`` entity), as forms treat it."""
    ftype = catalog.type_of(fdef)
    target = fdef.options.get("target")
    if ftype.owns_column or ftype.reference_target(fdef) is not None or not target:
        return False
    found = catalog.entities.get(str(target))
    return found is not None and found.child


def points_at(catalog: Catalog, fdef: FieldDef, entity: EntityDef) -> bool:
    """Whether ``fdef`` (of another entity) refers to records of ``entity``."""
    ftype = catalog.type_of(fdef)
    ops = ftype.operators
    return ftype.reference_target(fdef) == entity.name and ("eq" in ops or "contains" in ops)


@dataclass
class Context:
    catalog: Catalog
    entity: EntityDef
    kept: frozenset[int]
    file_exists: Callable[[int], bool]
    problems: Problems = field(default_factory=Problems)
    placed: dict[int, str] = field(default_factory=dict)

    def owner_of(self, field_id: int) -> EntityDef | None:
        for ent in self.catalog.entities.values():
            if any(f.id == field_id for f in ent.all_fields):
                return ent
        return None

    def own_field(self, where: str, ref: Any, *, child_table: bool) -> FieldDef | None:
        """This entity's field ``ref`` (an id), or None with a problem noted (or kept missing)."""
        if not isinstance(ref, int) or isinstance(ref, bool):
            self.problems.add(where, msg(
                "{ref} is not a field id; the database and the API name fields by id (files by "
                "API name)",
                ref=repr(ref),
            ))
            return None
        ent = self.entity
        mine = next((f for f in ent.all_fields if f.id == ref), None)
        if mine is None:
            owner = self.owner_of(ref)
            if owner is not None:
                self.problems.add(where, msg(
                    "field {ref} belongs to {owner}, not {entity}",
                    ref=ref, owner=owner.name, entity=ent.name,
                ))
            elif ref not in self.kept:
                self.problems.add(where, msg(
                    "{entity} have no field with id {ref}",
                    entity=ent.name, ref=ref,
                ))
            return None
        if mine.removed:
            return None  # kept in place, skipped on the card, restored with the field
        if is_child_table(self.catalog, mine) != child_table:
            if child_table:
                self.problems.add(where, msg(
                    "field {ref} ({mine}) is not a child table; place it as a field element",
                    ref=ref, mine=mine.name,
                ))
            else:
                self.problems.add(where, msg(
                    "field {ref} ({mine}) is a child table; place it as a child_table element",
                    ref=ref, mine=mine.name,
                ))
            return None
        return mine

    def once(self, where: str, ref: Any) -> None:
        if not isinstance(ref, int):
            return
        if ref in self.placed:
            self.problems.add(where, msg(
                "field {ref} is placed twice (also at {placed})",
                ref=ref, placed=self.placed[ref],
            ))
        else:
            self.placed[ref] = where


def check_layout(
    catalog: Catalog,
    entity: EntityDef,
    kind: str,
    body: Any,
    *,
    kept: Iterable[int] = (),
    file_exists: Callable[[int], bool] = lambda _id: True,
    what: str = THE_LAYOUT,
) -> dict[str, Any]:
    """``body`` checked and normalised; raises ValidationError naming every bad place.

    ``kept``: field ids the saved layout already holds that no longer exist (purged):
    they may stay, as "missing" elements, without being refused as unknown.
    """
    if depth_of(body) > MAX_DEPTH:
        raise too_deep(what)
    problems = Problems()
    for where, message in schema_problems(body):
        problems.add(where, message)
    problems.raise_if_any(what)
    if body.get("kind") != kind:
        problems.add("kind", msg(
            "must be '{kind}' here, not {value}",
            kind=kind, value=repr(body.get('kind')),
        ))
        problems.raise_if_any(what)
    ctx = Context(catalog, entity, frozenset(kept), file_exists, problems)
    out = _form(ctx, body) if kind == "form" else _list(ctx, body)
    problems.raise_if_any(what)
    return out


# --- form layouts ------------------------------------------------------------------------


def _form(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    ids: dict[str, dict[str, str]] = {"tab": {}, "section": {}, "element": {}}
    count = 0
    tabs = []
    for t, tab in enumerate(body["tabs"]):
        tab_at = f"tabs[{t}]"
        _unique_id(ctx, ids["tab"], tab["id"], tab_at)
        sections = []
        for s, section in enumerate(tab["sections"]):
            section_at = f"{tab_at}.sections[{s}]"
            _unique_id(ctx, ids["section"], section["id"], section_at)
            elements = []
            for e, element in enumerate(section["elements"]):
                at = f"{section_at}.elements[{e}]"
                _unique_id(ctx, ids["element"], element["id"], at)
                count += 1
                elements.append(_element(ctx, element, at))
            _overlaps(ctx, section["elements"], section_at)
            elements.sort(key=lambda el: (el["row"], el["col"]))
            sections.append(
                {
                    "id": section["id"],
                    "label": section.get("label", ""),
                    "collapsed": bool(section.get("collapsed", False)),
                    "elements": elements,
                }
            )
        tabs.append({"id": tab["id"], "label": tab["label"], "sections": sections})
    if count > MAX_ELEMENTS:
        ctx.problems.add("tabs", msg(
            "holds {count} elements; at most {max_elements} are allowed",
            count=count, max_elements=MAX_ELEMENTS,
        ))
    return {"format": 1, "kind": "form", "tabs": tabs}


def _unique_id(ctx: Context, seen: dict[str, str], ident: str, where: str) -> None:
    if ident in seen:
        ctx.problems.add(f"{where}.id", msg(
            "{ident} is used by {seen} too",
            ident=repr(ident), seen=seen[ident],
        ))
    else:
        seen[ident] = where


def _overlaps(ctx: Context, elements: list[dict[str, Any]], where: str) -> None:
    taken: dict[tuple[int, int], int] = {}
    for e, element in enumerate(elements):
        row, col, width = element["row"], element["col"], element["width"]
        if col + width > GRID:
            ctx.problems.add(
                f"{where}.elements[{e}].width",
                msg(
                    "column {col} + width {width} passes the {grid} columns of the grid",
                    col=col, width=width, grid=GRID,
                ),
            )
            continue
        for cell in range(col, col + width):
            other = taken.get((row, cell))
            if other is not None:
                ctx.problems.add(
                    f"{where}.elements[{e}]",
                    msg(
                        "overlaps elements[{other}] in row {row}, column {cell}",
                        other=other, row=row, cell=cell,
                    ),
                )
                break
        else:
            for cell in range(col, col + width):
                taken[(row, cell)] = e


def _element(ctx: Context, element: dict[str, Any], at: str) -> dict[str, Any]:
    kind = element["type"]
    out: dict[str, Any] = {
        "id": element["id"],
        "type": kind,
        "row": element["row"],
        "col": element["col"],
        "width": element["width"],
    }
    if kind in ("field", "child_table"):
        ctx.own_field(f"{at}.field", element["field"], child_table=kind == "child_table")
        ctx.once(at, element["field"])
        out["field"] = element["field"]
        keys = FIELD_KEYS if kind == "field" else FIELD_KEYS[:2]
        flags = FLAGS if kind == "field" else FLAGS[:2]
        out.update({k: element.get(k) for k in keys})
        out.update({k: bool(element.get(k, False)) for k in flags})
        if out.get("required") and (out["hidden"] or out["readonly"]):
            ctx.problems.add(f"{at}.required", msg(
                "a field hidden or read-only in this form cannot be required in it"
            ))
    elif kind == "heading":
        out.update(text=element["text"], level=element.get("level", 2))
    elif kind == "text":
        out["text"] = element["text"]
    elif kind == "image":
        if not ctx.file_exists(element["file"]):
            ctx.problems.add(f"{at}.file", msg(
                "there is no stored file with id {file}",
                file=element['file'],
            ))
        out.update(file=element["file"], alt=element.get("alt", ""))
    elif kind == "related":
        _related(ctx, element, at)
        out.update(entity=element["entity"], field=element["field"])
    return out


def _related(ctx: Context, element: dict[str, Any], at: str) -> None:
    name, ref = element["entity"], element["field"]
    owner = ctx.catalog.entities.get(name)
    if owner is None or owner.removed:
        ctx.problems.add(f"{at}.entity", msg("there is no entity named '{name}'", name=name))
        return
    if not isinstance(ref, int):
        ctx.problems.add(f"{at}.field", msg("{ref} is not a field id", ref=repr(ref)))
        return
    fdef = next((f for f in owner.all_fields if f.id == ref), None)
    if fdef is None:
        ctx.problems.add(f"{at}.field", msg(
            "{owner} have no field with id {ref}",
            owner=owner.name, ref=ref,
        ))
    elif not fdef.removed and not points_at(ctx.catalog, fdef, ctx.entity):
        ctx.problems.add(
            f"{at}.field", msg(
                "field {ref} ({owner}.{field}) does not point at {entity}",
                ref=ref, owner=owner.name, field=fdef.name, entity=ctx.entity.name,
            )
        )


# --- list layouts ------------------------------------------------------------------------


def _list(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    columns = []
    for c, column in enumerate(body["columns"]):
        at = f"columns[{c}]"
        ctx.own_field(f"{at}.field", column["field"], child_table=False)
        ctx.once(at, column["field"])
        columns.append({"field": column["field"], "width": column.get("width")})
    sort = []
    seen: set[Any] = set()
    for s, key in enumerate(body.get("sort", [])):
        at = f"sort[{s}].field"
        fdef = ctx.own_field(at, key["field"], child_table=False)
        if fdef is not None and not ctx.catalog.type_of(fdef).sortable:
            ctx.problems.add(at, msg(
                "field {id} ({field}) cannot be sorted on",
                id=fdef.id, field=fdef.name,
            ))
        if key["field"] in seen:
            ctx.problems.add(at, msg("field {field} is sorted on twice", field=key['field']))
        seen.add(key["field"])
        sort.append({"field": key["field"], "direction": key.get("direction", "asc")})
    return {"format": 1, "kind": "list", "columns": columns, "sort": sort}
