"""The form designer's editing operations: pure functions from a layout to a new layout.

Each operation takes a form layout (the JSON of ``layout-format``) and the operation's
arguments as the browser sent them, and returns a new layout; the input is never
changed. Arguments are checked here (a wrong one is a ``ValidationError`` sentence
naming it); the whole layout is then validated again by the ``LayoutService`` when the
draft is saved. Rows are kept compact (0, 1, 2, ... in order) and each section's
elements sorted by row and column, so the designer, the card and a diff see one order.

A cell already taken is never overwritten: placing, moving or widening an element
shifts its neighbours in the row sideways when the row has room, else is refused.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext as _

from recordbase.errors import NotFound, ValidationError

Layout = dict[str, Any]
Args = Mapping[str, Any]

COLUMNS = 12
MAX_ROWS = 200
MAX_TABS = 20
MAX_SECTIONS = 50
MAX_ELEMENTS = 500
MAX_TEXT = 2000
MAX_LABEL = 120
MAX_ID = 2**62
STATIC_TYPES = ("heading", "text", "divider", "image", "related", "child_table", "spacer")
ELEMENT_TYPES = ("field", *STATIC_TYPES)
ID_PATTERN = re.compile(r"[a-z0-9_-]{1,40}")
DIRECTIONS = ("up", "down", "left", "right")

#: the properties each element type may be given, besides ``width``
PROPERTIES: dict[str, tuple[str, ...]] = {
    "field": ("label", "help", "placeholder", "readonly", "hidden", "required"),
    "heading": ("text", "level"),
    "text": ("text",),
    "divider": (),
    "spacer": (),
    "image": ("file", "alt"),
    "related": (),
    "child_table": ("label", "help", "readonly", "hidden"),
}
FLAGS = ("readonly", "hidden", "required")
HEADING_LEVELS = (2, 3, 4)


# --- reading arguments -----------------------------------------------------------------


def _refuse(message: str, name: str) -> ValidationError:
    return ValidationError(message, fields={name: message})


def arg_int(args: Args, name: str, low: int, high: int) -> int:
    value = args.get(name)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(_("%(name)s must be a whole number.", name=name), name)
    if not low <= value <= high:
        raise _refuse(
            _("%(name)s must be between %(low)d and %(high)d.", name=name, low=low, high=high),
            name,
        )
    return value


def arg_text(args: Args, name: str, *, limit: int = MAX_TEXT, empty: bool = True) -> str:
    value = args.get(name)
    if not isinstance(value, str):
        raise _refuse(_("%(name)s must be text.", name=name), name)
    value = value.strip()
    if len(value) > limit:
        raise _refuse(
            _("%(name)s is longer than %(limit)d characters.", name=name, limit=limit), name
        )
    if not value and not empty:
        raise _refuse(_("%(name)s must not be empty.", name=name), name)
    return value


def arg_id(args: Args, name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise _refuse(_("%(name)s is not an element, section or tab of this layout.",
                        name=name), name)
    return value


def arg_bool(args: Args, name: str) -> bool:
    value = args.get(name, False)
    if value in (True, "true", "on", "1", 1):
        return True
    if value in (False, "false", "", "0", 0, None):
        return False
    raise _refuse(_("%(name)s must be true or false.", name=name), name)


# --- finding things ---------------------------------------------------------------------


def tabs(layout: Layout) -> list[dict[str, Any]]:
    found = layout.get("tabs")
    return found if isinstance(found, list) else []


def sections(layout: Layout) -> list[dict[str, Any]]:
    return [s for t in tabs(layout) for s in t.get("sections", [])]


def elements(layout: Layout) -> list[dict[str, Any]]:
    return [e for s in sections(layout) for e in s.get("elements", [])]


def find_tab(layout: Layout, tab_id: str) -> dict[str, Any]:
    for tab in tabs(layout):
        if tab.get("id") == tab_id:
            return tab
    raise NotFound(_("This layout has no tab %(id)s.", id=tab_id), fields={"tab": tab_id})


def find_section(layout: Layout, section_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for tab in tabs(layout):
        for section in tab.get("sections", []):
            if section.get("id") == section_id:
                return tab, section
    raise NotFound(_("This layout has no section %(id)s.", id=section_id),
                   fields={"section": section_id})


def find_element(layout: Layout, element_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The section holding an element, and the element."""
    for section in sections(layout):
        for element in section.get("elements", []):
            if element.get("id") == element_id:
                return section, element
    raise NotFound(_("This layout has no element %(id)s; reload the designer.", id=element_id),
                   fields={"element": element_id})


def new_id(layout: Layout, prefix: str) -> str:
    """The next free id ``<prefix><n>`` (ids are unique across tabs, sections and elements)."""
    taken = {t.get("id") for t in tabs(layout)}
    taken |= {s.get("id") for s in sections(layout)}
    taken |= {e.get("id") for e in elements(layout)}
    number = 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def placed_fields(layout: Layout) -> set[int]:
    return {e["field"] for e in elements(layout)
            if e.get("type") in ("field", "child_table") and isinstance(e.get("field"), int)}


# --- the grid ----------------------------------------------------------------------------


def row_count(section: Mapping[str, Any]) -> int:
    rows = [e.get("row", 0) for e in section.get("elements", [])]
    return max(rows) + 1 if rows else 0


def tidy(section: dict[str, Any]) -> None:
    """Number the rows 0, 1, 2, ... in their order and sort the elements by row and column."""
    items = section.setdefault("elements", [])
    order = sorted({e.get("row", 0) for e in items})
    renumber = {old: new for new, old in enumerate(order)}
    for element in items:
        element["row"] = renumber[element.get("row", 0)]
    items.sort(key=lambda e: (e["row"], e.get("col", 0)))


def _no_room(row: int, taken: int) -> ValidationError:
    message = _(
        "Row %(row)d has no room: its elements would take %(taken)d of the 12 columns. "
        "Make one narrower or move it to another row.",
        row=row + 1, taken=taken,
    )
    return _refuse(message, "width")


def pack(section: dict[str, Any], element: dict[str, Any], row: int, col: int,
         moving_right: bool = False) -> None:
    """Put ``element`` (not in ``section`` yet) at ``row``/``col``, shifting its neighbours
    in that row sideways as little as possible; refuse when the row has no room."""
    width = element["width"]
    col = max(0, min(col, COLUMNS - width))
    others = sorted((e for e in section["elements"] if e["row"] == row),
                    key=lambda e: e["col"])
    taken = width + sum(e["width"] for e in others)
    if taken > COLUMNS:
        raise _no_room(row, taken)
    centre = col * 2 + width
    before = [e for e in others
              if (e["col"] * 2 + e["width"] < centre)
              or (moving_right and e["col"] * 2 + e["width"] == centre)]
    after = [e for e in others if e not in before]
    sequence = [*before, element, *after]
    wanted = {id(e): (col if e is element else e["col"]) for e in sequence}
    position = 0
    for item in sequence:  # push right past the left neighbour
        item["col"] = max(wanted[id(item)], position)
        position = item["col"] + item["width"]
    limit = COLUMNS
    for item in reversed(sequence):  # then back left from the right edge
        item["col"] = min(item["col"], limit - item["width"])
        limit = item["col"]
    element["row"] = row
    section["elements"].append(element)


def _insert_row(section: dict[str, Any], row: int) -> None:
    for element in section["elements"]:
        if element["row"] >= row:
            element["row"] += 1


def _target_row(section: dict[str, Any], args: Args) -> int:
    rows = row_count(section)
    row = arg_int(args, "row", 0, MAX_ROWS - 1)
    if arg_bool(args, "insert") or row >= rows:
        if rows >= MAX_ROWS:
            raise _refuse(_("A section holds at most %(n)d rows.", n=MAX_ROWS), "row")
        row = min(row, rows)
        _insert_row(section, row)
    return row


def _put(layout: Layout, element: dict[str, Any], args: Args, *, moving_right: bool = False
         ) -> Layout:
    _tab, section = find_section(layout, arg_id(args, "section"))
    section.setdefault("elements", [])
    row = _target_row(section, args)
    col = arg_int(args, "col", 0, COLUMNS - 1)
    pack(section, element, row, col, moving_right)
    tidy(section)
    return layout


# --- elements ------------------------------------------------------------------------------


def _placed_field(layout: Layout, args: Args, *, form_field: bool) -> dict[str, Any]:
    field = arg_int(args, "field", 1, MAX_ID)
    if field in placed_fields(layout):
        raise _refuse(_("This field is placed already; move it instead."), "field")
    element = {"field": field, "label": None, "help": None, "readonly": False, "hidden": False}
    if form_field:
        element.update(placeholder=None, required=False)
    return element


def _static_text(args: Args, default: str) -> str:
    return arg_text(args, "text", empty=False) if "text" in args else default


#: what a new element of each type holds besides id, type and its place on the grid
NEW_ELEMENT: dict[str, Callable[[Layout, Args], dict[str, Any]]] = {
    "field": lambda layout, args: _placed_field(layout, args, form_field=True),
    "child_table": lambda layout, args: _placed_field(layout, args, form_field=False),
    "related": lambda _layout, args: {"field": arg_int(args, "field", 1, MAX_ID),
                                      "entity": arg_text(args, "entity", limit=63, empty=False)},
    "heading": lambda _layout, args: {"text": _static_text(args, _("Heading")), "level": 2},
    "text": lambda _layout, args: {"text": _static_text(args, _("Text"))},
    "image": lambda _layout, args: {"file": arg_int(args, "file", 1, MAX_ID), "alt": ""},
    "divider": lambda _layout, _args: {},
    "spacer": lambda _layout, _args: {},
}


def _new_element(layout: Layout, args: Args) -> dict[str, Any]:
    kind = args.get("type")
    build = NEW_ELEMENT.get(kind) if isinstance(kind, str) else None
    if build is None:
        raise _refuse(_("There is no element type %(type)s.", type=str(kind)[:40]), "type")
    return {"id": new_id(layout, "e"), "type": kind, **build(layout, args)}


def place(layout: Layout, args: Args) -> Layout:
    """A new element (a field from the palette or a static one) at a section's row and column."""
    result = copy.deepcopy(layout)
    if len(elements(result)) >= MAX_ELEMENTS:
        raise _refuse(_("A layout holds at most %(n)d elements.", n=MAX_ELEMENTS), "type")
    element = _new_element(result, args)
    default = COLUMNS if element["type"] in ("divider", "related", "child_table") else 6
    element["width"] = arg_int(args, "width", 1, COLUMNS) if "width" in args else default
    return _put(result, element, args)


def move(layout: Layout, args: Args) -> Layout:
    """An element to another row and column, possibly of another section or tab."""
    result = copy.deepcopy(layout)
    section, element = find_element(result, arg_id(args, "id"))
    section["elements"].remove(element)
    old_row, old_col = element["row"], element["col"]
    target = find_section(result, arg_id(args, "section"))[1]
    same = target is section and not arg_bool(args, "insert")
    moving_right = same and args.get("row") == old_row and arg_int(
        args, "col", 0, COLUMNS - 1) > old_col
    _put(result, element, args, moving_right=moving_right)
    tidy(section)
    return result


def _fits(section: dict[str, Any], row: int, col: int, width: int) -> bool:
    return all(e["row"] != row or e["col"] + e["width"] <= col or col + width <= e["col"]
               for e in section["elements"])


def _nearest_free(section: dict[str, Any], row: int, col: int, width: int) -> int | None:
    free = [c for c in range(COLUMNS - width + 1) if _fits(section, row, c, width)]
    return min(free, key=lambda c: (abs(c - col), c)) if free else None


def _nudge_sideways(section: dict[str, Any], element: dict[str, Any], step: int) -> None:
    col = element["col"] + step
    if col < 0 or col + element["width"] > COLUMNS:
        message = (_("The element is at the left edge already.") if step < 0
                   else _("The element is at the right edge already."))
        raise _refuse(message, "direction")
    if _fits(section, element["row"], col, element["width"]):
        element["col"] = col
        section["elements"].append(element)
        return
    # the neighbour in the way: the two swap places within the span they share
    row, start = element["row"], element["col"]
    neighbour = next(e for e in section["elements"] if e["row"] == row
                     and not _fits({"elements": [e]}, row, col, element["width"]))
    if step > 0:
        element["col"] = neighbour["col"] + neighbour["width"] - element["width"]
        neighbour["col"] = start
    else:
        element["col"] = neighbour["col"]
        neighbour["col"] = neighbour["col"] + element["width"]
    section["elements"].append(element)


def _nudge_vertically(section: dict[str, Any], element: dict[str, Any], step: int) -> None:
    row, rows = element["row"], row_count(section)
    alone = all(e["row"] != row for e in section["elements"])
    target = row + step
    if alone and not 0 <= target < rows:
        message = (_("The element is at the top of its section already.") if step < 0
                   else _("The element is at the bottom of its section already."))
        raise _refuse(message, "direction")
    col = None if not 0 <= target < rows else _nearest_free(
        section, target, element["col"], element["width"])
    if col is not None:
        element.update(row=target, col=col)
    elif alone:  # the row above or below is full: the two rows swap
        for other in section["elements"]:
            if other["row"] == target:
                other["row"] = row
        element["row"] = target
    else:  # a row of its own, just above or below
        new_row = row if step < 0 else row + 1
        _insert_row(section, new_row)
        element["row"] = new_row
    section["elements"].append(element)


def nudge(layout: Layout, args: Args) -> Layout:
    """The keyboard's move: one column left or right, or to the row above or below."""
    result = copy.deepcopy(layout)
    section, element = find_element(result, arg_id(args, "id"))
    direction = args.get("direction")
    if direction not in DIRECTIONS:
        raise _refuse(_("direction must be up, down, left or right."), "direction")
    section["elements"].remove(element)
    if direction in ("left", "right"):
        _nudge_sideways(section, element, -1 if direction == "left" else 1)
    else:
        _nudge_vertically(section, element, -1 if direction == "up" else 1)
    tidy(section)
    return result


def resize(layout: Layout, args: Args) -> Layout:
    """A new width (``width``, or ``delta`` columns more or fewer), neighbours shifted."""
    result = copy.deepcopy(layout)
    section, element = find_element(result, arg_id(args, "id"))
    if "delta" in args:
        width = element["width"] + arg_int(args, "delta", -COLUMNS, COLUMNS)
        if not 1 <= width <= COLUMNS:
            message = (_("The element is as narrow as it can be.") if width < 1
                       else _("The element is as wide as it can be."))
            raise _refuse(message, "width")
    else:
        width = arg_int(args, "width", 1, COLUMNS)
    section["elements"].remove(element)
    old_width, element["width"] = element["width"], width
    try:
        pack(section, element, element["row"], element["col"], moving_right=False)
    except ValidationError:
        element["width"] = old_width
        raise
    tidy(section)
    return result


def to_section(layout: Layout, args: Args) -> Layout:
    """An element to a new last row of another section (the keyboard's move between
    sections and tabs)."""
    result = copy.deepcopy(layout)
    section, element = find_element(result, arg_id(args, "id"))
    target = find_section(result, arg_id(args, "section"))[1]
    if target is section:
        raise _refuse(_("The element is in this section already."), "section")
    section["elements"].remove(element)
    args = {"section": target["id"], "row": row_count(target), "col": 0}
    _put(result, element, args)
    tidy(section)
    return result


def remove(layout: Layout, args: Args) -> Layout:
    """An element off the canvas (a field goes back to the palette)."""
    result = copy.deepcopy(layout)
    section, element = find_element(result, arg_id(args, "id"))
    section["elements"].remove(element)
    tidy(section)
    return result


def _optional_text(args: Args, name: str) -> str | None:
    text = arg_text(args, name, limit=MAX_LABEL if name == "label" else MAX_TEXT)
    return text or None


def _file_id(args: Args, name: str) -> int | None:
    return None if args.get(name) in ("", None) else arg_int(args, name, 1, MAX_ID)


#: how the properties panel's values are read, by property
READ_PROPERTY: dict[str, Callable[[Args, str], Any]] = {
    **{flag: arg_bool for flag in FLAGS},
    **{name: _optional_text for name in ("label", "help", "placeholder")},
    "alt": lambda args, name: arg_text(args, name),
    "text": lambda args, name: arg_text(args, name, empty=False),
    "level": lambda args, name: arg_int(args, name, min(HEADING_LEVELS), max(HEADING_LEVELS)),
    "file": _file_id,
}


def _set_property(element: dict[str, Any], name: str, args: Args) -> None:
    element[name] = READ_PROPERTY[name](args, name)


def set_properties(layout: Layout, args: Args) -> Layout:
    """The properties panel: label override, help, placeholder, flags, text, image, width."""
    result = copy.deepcopy(layout)
    _section, element = find_element(result, arg_id(args, "id"))
    allowed = PROPERTIES.get(element.get("type", ""), ())
    for name in args:
        if name not in (*allowed, "width", "id", "op"):
            raise _refuse(_("%(name)s is not a property of this element.", name=name[:40]),
                          name[:40])
    for name in allowed:
        if name in args or name in FLAGS:
            _set_property(element, name, args)
    if "width" in args and arg_int(args, "width", 1, COLUMNS) != element["width"]:
        return resize(result, {"id": element["id"], "width": args["width"]})
    return result


# --- tabs and sections --------------------------------------------------------------------


def add_tab(layout: Layout, args: Args) -> Layout:
    result = copy.deepcopy(layout)
    if len(tabs(result)) >= MAX_TABS:
        raise _refuse(_("A layout holds at most %(n)d tabs.", n=MAX_TABS), "label")
    label = arg_text(args, "label", limit=MAX_LABEL, empty=False)
    tab_id = new_id(result, "t")
    section = {"id": new_id(result, "s"), "label": "", "collapsed": False, "elements": []}
    result.setdefault("tabs", []).append({"id": tab_id, "label": label, "sections": [section]})
    return result


def rename_tab(layout: Layout, args: Args) -> Layout:
    result = copy.deepcopy(layout)
    find_tab(result, arg_id(args, "tab"))["label"] = arg_text(
        args, "label", limit=MAX_LABEL, empty=False)
    return result


def _reorder(items: list[Any], item: Any, args: Args) -> None:
    index = arg_int(args, "index", 0, MAX_ELEMENTS)
    items.remove(item)
    items.insert(min(index, len(items)), item)


def move_tab(layout: Layout, args: Args) -> Layout:
    result = copy.deepcopy(layout)
    tab = find_tab(result, arg_id(args, "tab"))
    _reorder(result["tabs"], tab, args)
    return result


def remove_tab(layout: Layout, args: Args) -> Layout:
    """A tab and its sections; their fields go back to the palette. The last tab stays."""
    result = copy.deepcopy(layout)
    tab = find_tab(result, arg_id(args, "tab"))
    if len(result["tabs"]) == 1:
        raise _refuse(_("A form keeps at least one tab."), "tab")
    result["tabs"].remove(tab)
    return result


def add_section(layout: Layout, args: Args) -> Layout:
    result = copy.deepcopy(layout)
    tab = find_tab(result, arg_id(args, "tab"))
    if len(tab.setdefault("sections", [])) >= MAX_SECTIONS:
        raise _refuse(_("A tab holds at most %(n)d sections.", n=MAX_SECTIONS), "label")
    label = arg_text(args, "label", limit=MAX_LABEL)
    tab["sections"].append({"id": new_id(result, "s"), "label": label, "collapsed": False,
                            "elements": []})
    return result


def rename_section(layout: Layout, args: Args) -> Layout:
    result = copy.deepcopy(layout)
    _tab, section = find_section(result, arg_id(args, "section"))
    section["label"] = arg_text(args, "label", limit=MAX_LABEL)
    if "collapsed" in args:
        section["collapsed"] = arg_bool(args, "collapsed")
    return result


def move_section(layout: Layout, args: Args) -> Layout:
    """A section to a position in its tab or another tab (``tab``, ``index``)."""
    result = copy.deepcopy(layout)
    tab, section = find_section(result, arg_id(args, "section"))
    target = find_tab(result, arg_id(args, "tab")) if "tab" in args else tab
    if target is not tab and len(target.get("sections", [])) >= MAX_SECTIONS:
        raise _refuse(_("A tab holds at most %(n)d sections.", n=MAX_SECTIONS), "tab")
    tab["sections"].remove(section)
    target.setdefault("sections", []).append(section)
    _reorder(target["sections"], section, args)
    return result


def remove_section(layout: Layout, args: Args) -> Layout:
    """A section; its fields go back to the palette."""
    result = copy.deepcopy(layout)
    tab, section = find_section(result, arg_id(args, "section"))
    tab["sections"].remove(section)
    return result


def remove_missing(layout: Layout, fields: set[int]) -> Layout:
    """Every element whose field is not among ``fields`` (the entity's live fields)."""
    result = copy.deepcopy(layout)
    for section in sections(result):
        section["elements"] = [
            e for e in section.get("elements", [])
            if e.get("type") not in ("field", "child_table") or e.get("field") in fields
        ]
        tidy(section)
    return result


OPERATIONS: dict[str, Callable[[Layout, Args], Layout]] = {
    "place": place,
    "move": move,
    "nudge": nudge,
    "resize": resize,
    "to_section": to_section,
    "remove": remove,
    "set": set_properties,
    "add_tab": add_tab,
    "rename_tab": rename_tab,
    "move_tab": move_tab,
    "remove_tab": remove_tab,
    "add_section": add_section,
    "rename_section": rename_section,
    "move_section": move_section,
    "remove_section": remove_section,
}


def apply(layout: Layout, args: Args) -> Layout:
    """Run the operation named by ``args["op"]`` on ``layout``."""
    name = args.get("op")
    operation = OPERATIONS.get(name) if isinstance(name, str) else None
    if operation is None:
        raise _refuse(_("The designer does not know the operation %(op)s.",
                        op=str(name)[:40]), "op")
    return operation(layout, args)
