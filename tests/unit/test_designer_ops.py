"""The form designer's editing operations: pure functions, no database."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from recordbase.errors import NotFound, ValidationError
from recordbase.web import designer_ops as ops


def empty() -> dict[str, Any]:
    return {"format": 1, "kind": "form", "tabs": [
        {"id": "t1", "label": "Main", "sections": [
            {"id": "s1", "label": "", "collapsed": False, "elements": []}]}]}


def cells(layout: dict[str, Any], section: str = "s1") -> list[tuple[Any, ...]]:
    """(field or type, row, col, width) of a section's elements, in order."""
    _tab, found = ops.find_section(layout, section)
    return [(e.get("field", e["type"]), e["row"], e["col"], e["width"])
            for e in found["elements"]]


def run(layout: dict[str, Any], **args: Any) -> dict[str, Any]:
    return ops.apply(layout, args)


def three_fields() -> dict[str, Any]:
    layout = run(empty(), op="place", type="field", field=1, section="s1", row=0, col=0, width=4)
    layout = run(layout, op="place", type="field", field=2, section="s1", row=0, col=4, width=4)
    return run(layout, op="place", type="field", field=3, section="s1", row=0, col=8, width=4)


def element_of(layout: dict[str, Any], field: int) -> dict[str, Any]:
    return next(e for e in ops.elements(layout) if e.get("field") == field)


def test_placing_fields_fills_a_row_and_never_changes_the_input() -> None:
    before = empty()
    frozen = copy.deepcopy(before)
    layout = run(before, op="place", type="field", field=7, section="s1", row=0, col=0)
    assert before == frozen
    layout = run(layout, op="place", type="field", field=8, section="s1", row=0, col=6)
    assert cells(layout) == [(7, 0, 0, 6), (8, 0, 6, 6)]
    first = element_of(layout, 7)
    assert first["id"] == "e1"
    assert first["label"] is None
    assert first["required"] is False


def test_a_drop_on_a_taken_cell_shifts_the_neighbours_when_there_is_room() -> None:
    layout = run(empty(), op="place", type="field", field=1, section="s1", row=0, col=0, width=4)
    layout = run(layout, op="place", type="field", field=2, section="s1", row=0, col=0, width=4)
    assert cells(layout) == [(2, 0, 0, 4), (1, 0, 4, 4)]


def test_a_full_row_refuses_with_a_sentence_and_a_new_row_is_made_past_the_last() -> None:
    layout = three_fields()
    with pytest.raises(ValidationError, match="Row 1 has no room"):
        run(layout, op="place", type="field", field=4, section="s1", row=0, col=0)
    layout = run(layout, op="place", type="field", field=4, section="s1", row=5, col=3)
    assert cells(layout)[-1] == (4, 1, 3, 6)


def test_insert_makes_a_new_row_between_rows() -> None:
    layout = run(empty(), op="place", type="field", field=1, section="s1", row=0, col=0)
    layout = run(layout, op="place", type="field", field=2, section="s1", row=1, col=0)
    layout = run(layout, op="place", type="field", field=3, section="s1", row=1, col=0,
                 insert=True)
    assert cells(layout) == [(1, 0, 0, 6), (3, 1, 0, 6), (2, 2, 0, 6)]


def test_moving_within_a_full_row_reorders_it() -> None:
    layout = three_fields()
    first = element_of(layout, 1)["id"]
    moved = run(layout, op="move", id=first, section="s1", row=0, col=8)
    assert cells(moved) == [(2, 0, 0, 4), (3, 0, 4, 4), (1, 0, 8, 4)]
    back = run(moved, op="move", id=first, section="s1", row=0, col=0)
    assert cells(back) == cells(layout)


def test_moving_to_another_section_and_tab_compacts_the_rows_left_behind() -> None:
    layout = run(empty(), op="place", type="field", field=1, section="s1", row=0, col=0)
    layout = run(layout, op="place", type="field", field=2, section="s1", row=1, col=0)
    layout = run(layout, op="add_tab", label="Bank")
    tab = layout["tabs"][1]
    assert tab["label"] == "Bank"
    assert len(tab["sections"]) == 1
    section = tab["sections"][0]["id"]
    moved = run(layout, op="move", id=element_of(layout, 1)["id"], section=section, row=0,
                col=6)
    assert cells(moved) == [(2, 0, 0, 6)]
    assert cells(moved, section) == [(1, 0, 6, 6)]


def test_widening_shifts_the_right_neighbour_and_refuses_past_twelve_columns() -> None:
    layout = run(empty(), op="place", type="field", field=1, section="s1", row=0, col=0, width=4)
    layout = run(layout, op="place", type="field", field=2, section="s1", row=0, col=4, width=4)
    wider = run(layout, op="resize", id="e1", delta=2)
    assert cells(wider) == [(1, 0, 0, 6), (2, 0, 6, 4)]
    widest = run(wider, op="resize", id="e1", width=8)
    assert cells(widest) == [(1, 0, 0, 8), (2, 0, 8, 4)]
    with pytest.raises(ValidationError, match="no room"):
        run(widest, op="resize", id="e1", delta=1)
    with pytest.raises(ValidationError, match="as narrow as"):
        run(run(layout, op="resize", id="e2", width=1), op="resize", id="e2", delta=-1)
    alone = run(empty(), op="place", type="field", field=1, section="s1", row=0, col=10,
                width=2)
    assert cells(run(alone, op="resize", id="e1", width=5)) == [(1, 0, 7, 5)]


def test_keyboard_nudges_move_swap_and_stop_at_the_edges() -> None:
    layout = three_fields()
    right = run(layout, op="nudge", id="e1", direction="right")
    assert cells(right) == [(2, 0, 0, 4), (1, 0, 4, 4), (3, 0, 8, 4)]
    left = run(right, op="nudge", id="e1", direction="left")
    assert cells(left) == cells(layout)
    with pytest.raises(ValidationError, match="left edge"):
        run(layout, op="nudge", id="e1", direction="left")
    down = run(layout, op="nudge", id="e2", direction="down")
    assert cells(down) == [(1, 0, 0, 4), (3, 0, 8, 4), (2, 1, 4, 4)]
    up = run(down, op="nudge", id="e2", direction="up")
    assert cells(up) == cells(layout)
    with pytest.raises(ValidationError, match="bottom"):
        run(down, op="nudge", id="e2", direction="down")
    nudged = run(run(empty(), op="place", type="field", field=1, section="s1", row=0, col=0),
                 op="nudge", id="e1", direction="right")
    assert cells(nudged) == [(1, 0, 1, 6)]


def test_moving_up_into_a_full_row_swaps_the_rows() -> None:
    layout = three_fields()
    layout = run(layout, op="place", type="field", field=4, section="s1", row=1, col=0,
                 width=12)
    up = run(layout, op="nudge", id="e4", direction="up")
    assert cells(up) == [(4, 0, 0, 12), (1, 1, 0, 4), (2, 1, 4, 4), (3, 1, 8, 4)]


def test_removing_an_element_and_a_section_and_a_tab() -> None:
    layout = three_fields()
    removed = run(layout, op="remove", id="e2")
    assert ops.placed_fields(removed) == {1, 3}
    layout = run(layout, op="add_tab", label="Second")
    assert [t["id"] for t in layout["tabs"]] == ["t1", "t2"]
    layout = run(layout, op="add_section", tab="t2", label="Bank")
    sections = [s["id"] for s in layout["tabs"][1]["sections"]]
    assert len(sections) == 2
    layout = run(layout, op="to_section", id="e1", section=sections[1])
    assert cells(layout, sections[1]) == [(1, 0, 0, 4)]
    without = run(layout, op="remove_section", section=sections[1])
    assert ops.placed_fields(without) == {2, 3}
    only = run(layout, op="remove_tab", tab="t2")
    assert ops.placed_fields(only) == {2, 3}
    with pytest.raises(ValidationError, match="at least one tab"):
        run(only, op="remove_tab", tab="t1")


def test_tabs_and_sections_are_renamed_and_reordered() -> None:
    layout = run(run(empty(), op="add_tab", label="B"), op="add_tab", label="C")
    layout = run(layout, op="move_tab", tab="t3", index=0)
    assert [t["label"] for t in layout["tabs"]] == ["C", "Main", "B"]
    layout = run(layout, op="rename_tab", tab="t1", label="  Requisites ")
    assert layout["tabs"][1]["label"] == "Requisites"
    layout = run(layout, op="add_section", tab="t1", label="Two")
    layout = run(layout, op="move_section", section=layout["tabs"][1]["sections"][1]["id"],
                 index=0)
    assert [s["label"] for s in layout["tabs"][1]["sections"]] == ["Two", ""]
    moved = run(layout, op="move_section", section="s1", tab="t3", index=99)
    assert [s["id"] for s in moved["tabs"][0]["sections"]][-1] == "s1"
    renamed = run(moved, op="rename_section", section="s1", label="Bank", collapsed=True)
    assert ops.find_section(renamed, "s1")[1]["collapsed"] is True


def test_properties_of_a_field_and_of_static_elements() -> None:
    layout = run(three_fields(), op="remove", id="e3")
    changed = run(layout, op="set", id="e1", label="Customer", help="Who buys",
                  placeholder="", readonly="on", required="true", width="6")
    element = element_of(changed, 1)
    assert element["label"] == "Customer"
    assert element["help"] == "Who buys"
    assert element["placeholder"] is None
    assert element["readonly"] is True
    assert element["hidden"] is False
    assert element["required"] is True
    assert cells(changed) == [(1, 0, 0, 6), (2, 0, 6, 4)]
    with pytest.raises(ValidationError, match="no room"):
        run(three_fields(), op="set", id="e1", width=6)
    layout = run(empty(), op="place", type="heading", section="s1", row=0, col=0)
    heading = ops.elements(layout)[0]
    assert heading["text"] == "Heading"
    assert heading["level"] == 2
    layout = run(layout, op="set", id=heading["id"], text="Bank", level=3)
    assert ops.elements(layout)[0]["text"] == "Bank"
    with pytest.raises(ValidationError, match="level must be between 2 and 4"):
        run(layout, op="set", id=heading["id"], level=9)
    with pytest.raises(ValidationError, match="placeholder is not a property"):
        run(layout, op="set", id=heading["id"], placeholder="x")
    with pytest.raises(ValidationError, match="text must not be empty"):
        run(layout, op="set", id=heading["id"], text="  ")
    image = run(layout, op="place", type="image", section="s1", row=1, col=0, file=5)
    assert ops.elements(image)[1]["file"] == 5
    divider = run(layout, op="place", type="divider", section="s1", row=1, col=0)
    assert cells(divider)[1] == ("divider", 1, 0, 12)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ({"op": "explode"}, ValidationError, "does not know the operation"),
        ({"op": ["place"]}, ValidationError, "does not know the operation"),
        ({}, ValidationError, "does not know the operation"),
        ({"op": "move", "id": "e99", "section": "s1", "row": 0, "col": 0}, NotFound,
         "no element e99"),
        ({"op": "move", "id": "E1;drop", "section": "s1", "row": 0, "col": 0}, ValidationError,
         "id is not an element"),
        ({"op": "move", "id": "e1", "section": "nowhere", "row": 0, "col": 0}, NotFound,
         "no section nowhere"),
        ({"op": "move", "id": "e1", "section": "s1", "row": -1, "col": 0}, ValidationError,
         "row must be between 0 and 199"),
        ({"op": "move", "id": "e1", "section": "s1", "row": 0, "col": 12}, ValidationError,
         "col must be between 0 and 11"),
        ({"op": "move", "id": "e1", "section": "s1", "row": True, "col": 0}, ValidationError,
         "row must be a whole number"),
        ({"op": "move", "id": "e1", "section": "s1", "row": 1e300, "col": 0}, ValidationError,
         "row must be a whole number"),
        ({"op": "move", "id": "e1", "section": "s1", "row": "9" * 400, "col": 0},
         ValidationError, "row must be a whole number"),
        ({"op": "resize", "id": "e1", "width": 13}, ValidationError, "width must be between"),
        ({"op": "resize", "id": "e1", "width": None}, ValidationError, "width must be a whole"),
        ({"op": "place", "type": "script", "section": "s1", "row": 0, "col": 0},
         ValidationError, "no element type script"),
        ({"op": "place", "type": "field", "field": 1, "section": "s1", "row": 1, "col": 0},
         ValidationError, "placed already"),
        ({"op": "place", "type": "field", "field": "1 or 1=1", "section": "s1", "row": 1,
          "col": 0}, ValidationError, "field must be a whole number"),
        ({"op": "place", "type": "field", "field": 2**70, "section": "s1", "row": 1, "col": 0},
         ValidationError, "field must be between"),
        ({"op": "nudge", "id": "e1", "direction": "sideways"}, ValidationError, "direction"),
        ({"op": "add_tab", "label": ""}, ValidationError, "label must not be empty"),
        ({"op": "add_tab", "label": "x" * 121}, ValidationError, "longer than 120"),
        ({"op": "add_tab", "label": {"$ne": 1}}, ValidationError, "label must be text"),
        ({"op": "set", "id": "e1", "required": "maybe"}, ValidationError, "true or false"),
        ({"op": "set", "id": "e1", "help": "x" * 2001}, ValidationError, "longer than 2000"),
        ({"op": "set", "id": "e1", "onclick": "x"}, ValidationError, "not a property"),
        ({"op": "move_tab", "tab": "t1", "index": -3}, ValidationError, "index must be"),
    ],
)
def test_hostile_arguments_are_refused_with_a_sentence_naming_them(
    args: dict[str, Any], error: type[Exception], match: str
) -> None:
    layout = three_fields()
    frozen = json.dumps(layout)
    with pytest.raises(error, match=match):
        ops.apply(layout, args)
    assert json.dumps(layout) == frozen


def test_limits_on_tabs_sections_and_rows() -> None:
    layout = empty()
    for number in range(ops.MAX_TABS - 1):
        layout = run(layout, op="add_tab", label=f"T{number}")
    with pytest.raises(ValidationError, match="at most 20 tabs"):
        run(layout, op="add_tab", label="one too many")
    layout = empty()
    for _number in range(ops.MAX_SECTIONS - 1):
        layout = run(layout, op="add_section", tab="t1", label="")
    with pytest.raises(ValidationError, match="at most 50 sections"):
        run(layout, op="add_section", tab="t1", label="")


def test_missing_fields_are_removed_on_request_and_ids_stay_unique() -> None:
    layout = three_fields()
    layout = run(layout, op="place", type="text", section="s1", row=1, col=0)
    cleaned = ops.remove_missing(layout, {1, 3})
    assert ops.placed_fields(cleaned) == {1, 3}
    assert [e["type"] for e in ops.elements(cleaned)] == ["field", "field", "text"]
    ids = [e["id"] for e in ops.elements(layout)]
    assert len(ids) == len(set(ids))
    assert ops.new_id(layout, "t") == "t2"
