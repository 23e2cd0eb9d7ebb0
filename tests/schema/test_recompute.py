"""Computed fields recomputed for existing records by the structure change that makes
them stale (a computation added to a field, a new computed field, a restore, an input
emptied by a conversion), on both databases: the values are the write path's, the
preview counts them, undo brings the old ones back, too many digits are refused."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pytest
import sqlalchemy as sa

from recordbase import db
from recordbase.errors import Conflict, ValidationError
from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime
from recordbase.schema.ops_field import AddField

MULTIPLY = {"computed": {"multiply": ["quantity", "price"]}}
SUM = {"computed": {"sum": {"child": "lines", "field": "amount"}}}
#: (quantity, price): halves round away from zero, as the write path rounds them
LINES = [
    ("2", "1500.00"),  # 3000.00
    ("0.333", "1.50"),  # 0.4995 → 0.50
    ("-0.333", "1.50"),  # -0.4995 → -0.50
    ("3", "0.10"),  # 0.30, never 0.30000000000000004
    ("0.005", "1.00"),  # 0.005 → 0.01
    ("-0.005", "1.00"),  # → -0.01
    ("1.001", "0.05"),  # 0.05005 → 0.05
    (None, "5.00"),  # no quantity: no amount
]
EXPECTED = ["3000.00", "0.50", "-0.50", "0.30", "0.01", "-0.01", "0.05", None]


def rows(runtime: Runtime, entity: str) -> list[dict[str, Any]]:
    return runtime.records.list_page(entity, ListQuery(limit=500, sort=("id",))).items


def lines_of(runtime: Runtime) -> list[dict[str, Any]]:
    found = []
    for order in rows(runtime, "orders"):
        item, _ = runtime.records.get("orders", order["id"])
        found += item["lines"]
    return found


def last_entry(runtime: Runtime) -> dict[str, Any]:
    return runtime.schema.journal(limit=1)[0]


@pytest.fixture
def orders(runtime: Runtime) -> Runtime:
    """Orders with lines whose amounts and totals were typed in (nothing computed yet)."""
    schema = runtime.schema
    schema.create_entity({"name": "order_lines", "child": True, "fields": [
        {"name": "quantity", "type": "decimal", "options": {"precision": 12, "scale": 3}},
        {"name": "price", "type": "money", "options": {"precision": 14, "scale": 2}},
        {"name": "amount", "type": "money", "options": {"precision": 14, "scale": 2}},
    ]})
    schema.create_entity({"name": "orders", "fields": [
        {"name": "number", "type": "text"},
        {"name": "lines", "type": "child_table", "options": {"target": "order_lines"}},
        {"name": "total", "type": "money", "options": {"precision": 14, "scale": 2}},
    ]})
    typed = [{"quantity": q, "price": p, "amount": "7.77"} for q, p in LINES]
    runtime.records.create("orders", {"number": "A", "lines": typed[:4], "total": "1.00"})
    runtime.records.create("orders", {"number": "B", "lines": typed[4:], "total": None})
    runtime.records.create("orders", {"number": "C", "lines": [], "total": "5.00"})
    return runtime


def resave_all(runtime: Runtime) -> None:
    """Save every order again through RecordService: the write path recomputes."""
    for order in rows(runtime, "orders"):
        item, _ = runtime.records.get("orders", order["id"])
        runtime.records.update(
            "orders", order["id"], {"lines": [{"id": line["id"]} for line in item["lines"]]},
            expected_version=item["version"],
        )


def test_a_multiply_added_to_a_field_recomputes_every_line(orders: Runtime) -> None:
    orders.schema.update_field("order_lines", "amount", {"options": MULTIPLY})
    assert [line["amount"] for line in lines_of(orders)] == EXPECTED
    # exactly what the write path stores: saving every record again changes nothing
    resave_all(orders)
    assert [line["amount"] for line in lines_of(orders)] == EXPECTED


def test_undo_brings_the_typed_values_back(orders: Runtime) -> None:
    orders.schema.update_field("order_lines", "amount", {"options": MULTIPLY})
    entry = last_entry(orders)
    orders.schema.undo(entry["id"])
    assert [line["amount"] for line in lines_of(orders)] == ["7.77"] * len(LINES)
    field = orders.cache.current().entity("order_lines").field("amount")
    assert "computed" not in field.options


def test_a_new_sum_field_is_filled_and_undone(orders: Runtime) -> None:
    orders.schema.update_field("order_lines", "amount", {"options": MULTIPLY})
    orders.schema.add_field("orders", {"name": "sum", "type": "money", "options": SUM})
    assert [o["sum"] for o in rows(orders, "orders")] == ["3000.30", "0.05", "0.00"]
    entry = last_entry(orders)
    assert entry["operation"] == "add_field"
    orders.schema.undo(entry["id"])  # the values were computed: dropping them loses nothing
    assert "sum" not in rows(orders, "orders")[0]


def test_a_sum_added_to_a_field_follows_the_write_path(orders: Runtime) -> None:
    orders.schema.update_field("order_lines", "amount", {"options": MULTIPLY})
    orders.schema.update_field("orders", "total", {"options": SUM})
    totals = [o["total"] for o in rows(orders, "orders")]
    assert totals == ["3000.30", "0.05", "0.00"]
    orders.schema.undo(last_entry(orders)["id"])
    assert [o["total"] for o in rows(orders, "orders")] == ["1.00", None, "5.00"]
    orders.schema.update_field("orders", "total", {"options": SUM})
    resave_all(orders)
    assert [o["total"] for o in rows(orders, "orders")] == totals
    with pytest.raises(Conflict, match="changed after this operation"):
        orders.schema.undo(last_entry(orders)["id"])


def test_changing_the_multiply_recomputes_the_sum_over_it(orders: Runtime) -> None:
    orders.schema.update_field("order_lines", "amount", {"options": MULTIPLY})
    orders.schema.update_field("orders", "total", {"options": SUM})
    squared = {"computed": {"multiply": ["quantity", "quantity", "price"]}}
    orders.schema.update_field("order_lines", "amount", {"options": squared})
    # 2×2×1500 + 0.333²×1.5 (0.1663335) - 0.1663335 + 9×0.10; 0.005²: 0.00
    assert [line["amount"] for line in lines_of(orders)][:4] == ["6000.00", "0.17", "0.17", "0.90"]
    assert rows(orders, "orders")[0]["total"] == "6001.24"
    entry = last_entry(orders)
    assert [r["field"] for r in entry_report(orders, entry)] == ["amount", "total"]
    orders.schema.undo(entry["id"])
    assert [o["total"] for o in rows(orders, "orders")] == ["3000.30", "0.05", "0.00"]
    assert [line["amount"] for line in lines_of(orders)] == EXPECTED


def entry_report(runtime: Runtime, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The recomputations a journal entry made (from its details)."""
    from recordbase import systables

    j = systables.journal
    with db.read(runtime.engine) as conn:
        details = conn.execute(sa.select(j.c.details).where(j.c.id == entry["id"])).scalar_one()
    catalog = runtime.cache.current()
    return [
        {"field": catalog.entity_by_id(d["entity_id"]).field_by_id(d["field_id"]).name, **d}
        for d in details.get("recomputed", [])
    ]


def test_the_preview_counts_and_shows_samples(orders: Runtime) -> None:
    report = orders.schema.preview_field_change("order_lines", "amount", {"options": MULTIPLY})
    (recompute,) = report["recompute"]
    # every line held 7.77; the one without a quantity becomes empty
    assert recompute["rows"] == len(LINES)
    assert recompute["changed"] == len(LINES)
    assert recompute["failing"] == 0
    assert recompute["changes"][:3] == [
        {"id": 1, "old": "7.77", "new": "3000.00"},
        {"id": 2, "old": "7.77", "new": "0.50"},
        {"id": 3, "old": "7.77", "new": "-0.50"},
    ]
    assert len(recompute["changes"]) == 5
    assert [line["amount"] for line in lines_of(orders)] == ["7.77"] * len(LINES)
    added = orders.schema.execute(
        AddField("orders", {"name": "sum", "type": "money", "options": {
            "computed": {"sum": {"child": "lines", "field": "price"}}}}),
        dry_run=True,
    ).report["recompute"][0]
    assert (added["rows"], added["changed"]) == (3, 3)
    assert added["changes"][0] == {"id": 1, "old": None, "new": "1503.10"}
    assert "sum" not in rows(orders, "orders")[0]


def test_a_preview_of_a_broken_computation_names_it(orders: Runtime) -> None:
    with pytest.raises(ValidationError, match="no field named 'weight'"):
        orders.schema.preview_field_change(
            "order_lines", "amount", {"options": {"computed": {"multiply": ["weight", "price"]}}}
        )
    with pytest.raises(ValidationError, match=r"order_lines\.x is computed itself"):
        orders.schema.execute(
            AddField("order_lines", {"name": "x", "type": "money", "options": {
                "computed": {"multiply": ["x", "price"]}}}),
            dry_run=True,
        )


def test_too_many_digits_are_refused_with_samples_or_cleared(orders: Runtime) -> None:
    small = {"precision": 5, "scale": 2, **MULTIPLY}  # at most 999.99: 3000.00 does not fit
    with pytest.raises(Conflict) as refused:
        orders.schema.update_field("order_lines", "amount", {"options": small})
    assert "1 of 8 records of order_lines" in refused.value.message
    assert refused.value.extra["failing"] == 1
    assert refused.value.extra["samples"][0]["id"] == 1
    assert refused.value.extra["samples"][0]["value"] == "3000.00"
    assert "before the decimal point" in refused.value.extra["samples"][0]["reason"]
    assert [line["amount"] for line in lines_of(orders)] == ["7.77"] * len(LINES)
    with pytest.raises(Conflict, match="aborted as asked"):
        orders.schema.update_field("order_lines", "amount", {"options": small,
                                                             "on_failure": "abort"})
    orders.schema.update_field("order_lines", "amount", {"options": small, "on_failure": "clear"})
    assert [line["amount"] for line in lines_of(orders)] == [None, *EXPECTED[1:]]
    orders.schema.undo(last_entry(orders)["id"])
    assert [line["amount"] for line in lines_of(orders)] == ["7.77"] * len(LINES)
    with pytest.raises(Conflict, match="larger precision"):
        orders.schema.add_field("order_lines", {"name": "small", "type": "money",
                                                "options": small})
    assert "small" not in lines_of(orders)[0]


def test_a_restored_computed_field_is_recomputed(orders: Runtime) -> None:
    orders.schema.update_field("order_lines", "amount", {"options": MULTIPLY})
    orders.schema.remove_field("order_lines", "amount")
    first = lines_of(orders)[0]
    order = rows(orders, "orders")[0]
    others = [{"id": line["id"]} for line in lines_of(orders)[1:4]]
    orders.records.update("orders", order["id"], {"lines": [
        {"id": first["id"], "quantity": "4"}, *others
    ]}, expected_version=order["version"])
    orders.schema.restore_field("order_lines", "amount")
    assert lines_of(orders)[0]["amount"] == "6000.00"
    orders.schema.undo(last_entry(orders)["id"])  # removed again, with its old values
    orders.schema.restore_field("order_lines", "amount")
    assert lines_of(orders)[0]["amount"] == "6000.00"


def test_an_input_emptied_by_a_conversion_empties_the_product(orders: Runtime) -> None:
    orders.schema.update_field("order_lines", "amount", {"options": MULTIPLY})
    orders.schema.update_field("orders", "total", {"options": SUM})
    # quantities with three decimals do not fit two: cleared, so their amounts go too
    preview = orders.schema.preview_field_change(
        "order_lines", "quantity", {"options": {"precision": 12, "scale": 2}})
    assert preview["failing"] == 5
    assert preview["recompute_dependents"] == ["order_lines.amount", "orders.total"]
    orders.schema.update_field(
        "order_lines", "quantity", {"options": {"precision": 12, "scale": 2},
                                    "on_failure": "clear"}
    )
    amounts = [line["amount"] for line in lines_of(orders)]
    assert amounts == ["3000.00", None, None, "0.30", None, None, None, None]
    assert [o["total"] for o in rows(orders, "orders")] == ["3000.30", "0.00", "0.00"]
    orders.schema.undo(last_entry(orders)["id"])
    assert [line["amount"] for line in lines_of(orders)] == EXPECTED
    assert [o["total"] for o in rows(orders, "orders")] == ["3000.30", "0.05", "0.00"]


def test_the_decimal_places_of_a_computed_field_change_its_values(orders: Runtime) -> None:
    orders.schema.update_field("order_lines", "amount", {"options": MULTIPLY})
    report = orders.schema.preview_field_change(
        "order_lines", "amount", {"type": "decimal", "options": {
            "precision": 14, "scale": 4, **MULTIPLY}},
    )
    assert report["recompute"][0]["changed"] == 7  # 3000.00 → 3000.0000 is a new value too
    orders.schema.update_field("order_lines", "amount", {"type": "decimal", "options": {
        "precision": 14, "scale": 4, **MULTIPLY}})
    amounts = [line["amount"] for line in lines_of(orders)]
    assert amounts == ["3000.0000", "0.4995", "-0.4995", "0.3000", "0.0050", "-0.0050",
                       "0.0501", None]
    orders.schema.undo(last_entry(orders)["id"])
    assert [line["amount"] for line in lines_of(orders)] == EXPECTED
    orders.schema.update_field("order_lines", "amount", {"type": "decimal", "options": {
        "precision": 14, "scale": 4, **MULTIPLY}})
    resave_all(orders)
    assert [line["amount"] for line in lines_of(orders)] == amounts


# --- many rows, wide values ---------------------------------------------------------------


def insert_rows(runtime: Runtime, entity: str, values: list[dict[str, Any]]) -> None:
    """Rows written straight into the table (thousands of records through RecordService
    would make the test slow; the schema operation reads the table, not the service)."""
    catalog = runtime.cache.current()
    ent = catalog.entity(entity)
    table = catalog.table(ent)
    stamp = datetime.datetime.now(datetime.UTC)
    with db.write(runtime.engine) as conn:
        rows_ = [
            {"version": 1, "created_at": stamp, "updated_at": stamp,
             **{ent.field(k).column: v for k, v in row.items()}}
            for row in values
        ]
        conn.execute(sa.insert(table), rows_)


def test_twenty_thousand_wide_products_in_batches(runtime: Runtime) -> None:
    """Factors with six decimals each: on SQLite their scaled product leaves 64 bits, so
    every row is worked out in Python, 5000 at a time; PostgreSQL does it in one UPDATE."""
    runtime.schema.create_entity({"name": "measures", "fields": [
        {"name": "a", "type": "decimal", "options": {"precision": 18, "scale": 6}},
        {"name": "b", "type": "decimal", "options": {"precision": 18, "scale": 6}},
        {"name": "n", "type": "integer"},
    ]})
    count = 20_000
    values = [
        {"a": decimal.Decimal(f"{100000 + i}.{i % 1000000:06d}"),
         "b": decimal.Decimal(f"{(i % 7) - 3}.{(i * 37) % 1000000:06d}"),
         "n": i - 10_000}
        for i in range(count)
    ]
    insert_rows(runtime, "measures", values)
    runtime.schema.add_field("measures", {"name": "ab", "type": "decimal", "options": {
        "precision": 18, "scale": 2, "computed": {"multiply": ["a", "b"]}}})
    runtime.schema.add_field("measures", {"name": "an", "type": "integer", "options": {
        "computed": {"multiply": ["a", "n"]}}})
    got = {r["id"]: r for r in runtime.records.list_page(
        "measures", ListQuery(limit=500, sort=("id",))).items}
    assert len(got) == 500
    with db.read(runtime.engine) as conn:
        catalog = runtime.cache.current()
        ent = catalog.entity("measures")
        table = catalog.table(ent)
        stored = conn.execute(sa.select(
            table.c.id, table.c[ent.field("ab").column], table.c[ent.field("an").column]
        ).order_by(table.c.id)).all()
    assert len(stored) == count
    half_up = decimal.ROUND_HALF_UP
    for (record_id, ab, an), source in zip(stored, values, strict=True):
        exact = source["a"] * source["b"]
        assert ab == exact.quantize(decimal.Decimal("0.01"), rounding=half_up), record_id
        whole = (source["a"] * source["n"]).quantize(decimal.Decimal(1), rounding=half_up)
        assert an == int(whole), record_id
    first = got[1]
    assert first["ab"] == format((values[0]["a"] * values[0]["b"]).quantize(
        decimal.Decimal("0.01"), rounding=half_up), "f")


def test_an_integer_product_beyond_64_bits_is_refused(runtime: Runtime) -> None:
    runtime.schema.create_entity({"name": "big", "fields": [
        {"name": "a", "type": "integer"}, {"name": "b", "type": "integer"},
    ]})
    insert_rows(runtime, "big", [{"a": 2**40, "b": 2**30}, {"a": 3, "b": -4}, {"a": None, "b": 1}])
    with pytest.raises(Conflict) as refused:
        runtime.schema.add_field("big", {"name": "ab", "type": "integer", "options": {
            "computed": {"multiply": ["a", "b"]}}})
    assert refused.value.extra["failing"] == 1
    assert refused.value.extra["samples"][0]["value"] == str(2**70)
    assert refused.value.extra["samples"][0]["reason"]  # the write path's own sentence
    assert "ab" not in runtime.records.list_page("big", ListQuery(limit=5)).items[0]


def test_whole_numbers_into_decimals_and_a_unique_computed_field(runtime: Runtime) -> None:
    runtime.schema.create_entity({"name": "pairs", "fields": [
        {"name": "a", "type": "integer"}, {"name": "b", "type": "integer"},
    ]})
    insert_rows(runtime, "pairs", [{"a": 3, "b": -4}, {"a": 2, "b": 6}, {"a": -2, "b": -6}])
    runtime.schema.add_field("pairs", {"name": "ab", "type": "percent", "options": {
        "precision": 10, "scale": 4, "computed": {"multiply": ["a", "b"]}}})
    found = runtime.records.list_page("pairs", ListQuery(limit=5, sort=("id",))).items
    assert [r["ab"] for r in found] == ["-12.0000", "12.0000", "12.0000"]
    with pytest.raises(Conflict, match=r"2 records of pairs \(record 2 and others\) would get"):
        runtime.schema.add_field("pairs", {"name": "u", "type": "integer", "unique": True,
                                           "options": {"computed": {"multiply": ["a", "b"]}}})
    assert "u" not in runtime.records.list_page("pairs", ListQuery(limit=5)).items[0]
