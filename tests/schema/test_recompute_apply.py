"""Recomputation through config apply (the same operations, in one transaction) and the
SQLite sums that leave 64 bits, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from recordbase.configio import apply_config, load_config, plan_config
from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime
from recordbase.schema.ops_field import AddField

LINES = {
    "name": "order_lines", "label": "Order line", "label_plural": "Order lines", "child": True,
    "fields": [
        {"name": "quantity", "type": "decimal", "options": {"precision": 12, "scale": 3}},
        {"name": "price", "type": "money", "options": {"precision": 14, "scale": 2}},
        {"name": "amount", "type": "money", "options": {"precision": 14, "scale": 2}},
    ],
}
ORDERS = {
    "name": "orders", "label": "Order", "label_plural": "Orders",
    "fields": [
        {"name": "number", "type": "text"},
        {"name": "lines", "type": "child_table", "options": {"target": "order_lines"}},
    ],
}


def write_config(folder: Path, *entities: dict[str, Any]) -> Path:
    (folder / "metadata").mkdir(parents=True, exist_ok=True)
    for entity in entities:
        text = yaml.safe_dump(entity, allow_unicode=True, sort_keys=False)
        (folder / "metadata" / f"{entity['name']}.yaml").write_text(text, encoding="utf-8")
    return folder


def items(runtime: Runtime, entity: str) -> list[dict[str, Any]]:
    return runtime.records.list_page(entity, ListQuery(limit=500, sort=("id",))).items


def test_a_config_apply_that_adds_computations_recomputes(runtime: Runtime, tmp_path: Path) -> None:
    apply_config(runtime, load_config(write_config(tmp_path / "v1", LINES, ORDERS)))
    runtime.records.create("orders", {"number": "A", "lines": [
        {"quantity": "0.333", "price": "1.50", "amount": "9.99"},
        {"quantity": "2", "price": "10.00", "amount": None},
    ]})
    runtime.records.create("orders", {"number": "B", "lines": []})
    lines = {**LINES, "fields": [*LINES["fields"][:2], {
        "name": "amount", "type": "money",
        "options": {"precision": 14, "scale": 2, "computed": {"multiply": ["quantity", "price"]}},
    }]}
    # the files list computed fields before what they are worked out from: the plan adds
    # them after it (plain fields, then products, then sums)
    orders = {**ORDERS, "fields": [
        {"name": "total", "type": "money", "options": {
            "computed": {"sum": {"child": "lines", "field": "gross"}}}},
        *ORDERS["fields"],
    ]}
    lines["fields"] += [
        {"name": "gross", "type": "money", "options": {
            "computed": {"multiply": ["quantity", "price", "rate"]}}},
        {"name": "rate", "type": "decimal", "options": {"scale": 2}},
    ]
    v2 = load_config(write_config(tmp_path / "v2", lines, orders))
    described = plan_config(runtime, v2).describe()
    assert described.index("+ field order_lines.rate (decimal)") < described.index(
        "+ field order_lines.gross (money)") < described.index("+ field orders.total (money)")
    apply_config(runtime, v2)
    (order, empty) = items(runtime, "orders")
    full, _ = runtime.records.get("orders", order["id"])
    assert [line["amount"] for line in full["lines"]] == ["0.50", "20.00"]
    assert [line["gross"] for line in full["lines"]] == [None, None]  # no rate yet
    assert (order["total"], empty["total"]) == ("0.00", "0.00")
    line_ids = [{"id": line["id"], "rate": "1.20"} for line in full["lines"]]
    runtime.records.update("orders", order["id"], {"lines": line_ids},
                           expected_version=full["version"])
    assert items(runtime, "orders")[0]["total"] == "24.60"  # 0.5994 → 0.60, 24.00
    assert plan_config(runtime, v2).empty


def test_sqlite_sums_beyond_64_bits_are_worked_out_in_python(runtime: Runtime) -> None:
    """Eleven lines of 9e15 at scale 2 sum to more than a 64-bit integer holds at that
    scale (SQLite's sum() would fail); the total at scale 0 still fits."""
    schema = runtime.schema
    schema.create_entity({"name": "parts", "child": True, "fields": [
        {"name": "value", "type": "decimal", "options": {"precision": 18, "scale": 2}},
    ]})
    schema.create_entity({"name": "boxes", "fields": [
        {"name": "parts", "type": "child_table", "options": {"target": "parts"}},
    ]})
    big = "9000000000000000.00"
    runtime.records.create("boxes", {"parts": [{"value": big}] * 11})
    runtime.records.create("boxes", {"parts": [{"value": big}, {"value": "-" + big}] * 3
                                     + [{"value": "0.50"}]})
    runtime.records.create("boxes", {"parts": [{"value": "1.25"}, {"value": None}]})
    report = schema.execute(
        AddField(
            "boxes", {"name": "total", "type": "decimal", "options": {
                "precision": 18, "scale": 0,
                "computed": {"sum": {"child": "parts", "field": "value"}}}}),
        dry_run=True,
    ).report["recompute"][0]
    assert (report["changed"], report["failing"]) == (3, 0)
    schema.add_field("boxes", {"name": "total", "type": "decimal", "options": {
        "precision": 18, "scale": 0, "computed": {"sum": {"child": "parts", "field": "value"}}}})
    assert [b["total"] for b in items(runtime, "boxes")] == ["99000000000000000", "1", "1"]
