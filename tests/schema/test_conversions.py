"""Every convertible pair the registry declares, on both databases: values are kept,
or reported by the dry run and brought back by undo."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from recordbase.errors import Conflict, ValidationError
from recordbase.fields import builtin_registry
from recordbase.model import FieldDef
from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime

REGISTRY = builtin_registry()
CHOICES = ["12", "true", "2026-01-05", "alpha", "x@example.com"]


def options_for(type_name: str) -> dict[str, Any]:
    options = REGISTRY.get(type_name).sample_options()
    if "choices" in options:
        options = {"choices": CHOICES}
    if options.get("target") == "__target__":
        options = {**options, "target": "targets"}
    return options


PAIRS = sorted(
    (source.name, target)
    for source in REGISTRY
    for target in source.converts_to
    if source.owns_column and not source.read_only
)


def make_references(runtime: Runtime) -> None:
    """Users 1-2 and files 1-2 (an image and a text) for the types that refer to them."""
    png = io.BytesIO()
    Image.new("RGB", (2, 2), "green").save(png, "PNG")
    runtime.files.store("a.png", png.getvalue(), user_id=None)
    runtime.files.store("b.txt", b"text", user_id=None)
    runtime.users.create("one", "password-one-1")
    runtime.users.create("two", "password-two-2")


def seed_values(runtime: Runtime, type_name: str) -> list[Any]:
    """A spread of values of the source type, including some that convert and some not."""
    fdef = runtime.cache.current().entity("items").field("source")
    ftype = REGISTRY.get(type_name)
    rnd = random.Random(3)
    values = [ftype.fake_value(fdef, rnd) for _ in range(6)]
    for text in (
        "12",
        "1",
        "2",
        "0",
        "true",
        "2026-01-05",
        "alpha",
        "x@example.com",
        "https://example.com",
        "+7 495 123-45-67",
        "1",
    ):
        try:
            values.append(ftype.import_value(fdef, text))
        except Exception:  # noqa: BLE001 - a text this type cannot hold: skip it
            continue
    return [*values, None]


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_convertible_pair(runtime: Runtime, source: str, target: str) -> None:
    schema = runtime.schema
    schema.create_entity({"name": "targets", "fields": [{"name": "name", "type": "text"}]})
    for i in range(15):
        runtime.records.create("targets", {"name": f"t{i}"})
    schema.create_entity(
        {
            "name": "items",
            "fields": [{"name": "source", "type": source, "options": options_for(source)}],
        }
    )
    make_references(runtime)
    written = []
    for value in seed_values(runtime, source):
        try:
            written.append(runtime.records.create("items", {"source": value}))
        except ValidationError:
            continue  # refers to nothing (a link, file or user id that does not exist)
    assert len(written) >= 3
    before = {r["id"]: r["source"] for r in written}
    catalog = runtime.cache.current()
    old = catalog.entity("items").field("source")
    new = FieldDef(
        id=old.id,
        entity_id=old.entity_id,
        name="source",
        label="x",
        type=target,
        options=REGISTRY.get(target).clean_options(options_for(target), catalog),
    )
    change = {"type": target, "options": options_for(target)}
    report = schema.preview_field_change("items", "source", change)
    assert report["rows"] == len(written)
    assert report["convertible"] + report["failing"] == len(written)
    assert len(report["samples"]) == min(report["failing"], 20)
    if report["failing"]:
        with pytest.raises(Conflict):
            schema.update_field("items", "source", change)
        change["on_failure"] = "clear"
    schema.update_field("items", "source", change)
    after = {
        r["id"]: r["source"] for r in runtime.records.list_page("items", ListQuery(limit=500)).items
    }
    failing = {s["id"] for s in report["samples"]}
    for record_id, value in before.items():
        if record_id in failing or value in (None, [], ""):
            continue
        expected = REGISTRY.get(target).convert_value(new, REGISTRY.get(source), old, value)
        assert after[record_id] == expected, (record_id, value)
    for record_id in failing:
        assert after[record_id] in (None, [])
    entry = schema.journal(limit=1)[0]
    assert entry["operation"] == "change_field"
    schema.undo(entry["id"])
    restored = {
        r["id"]: r["source"] for r in runtime.records.list_page("items", ListQuery(limit=500)).items
    }
    assert restored == before
    field = runtime.cache.current().entity("items").field("source")
    assert field.type == source


def test_every_type_declares_only_registered_targets() -> None:
    for ftype in REGISTRY:
        assert set(ftype.converts_to) <= set(REGISTRY.names()), ftype.name
        assert ftype.name not in ftype.converts_to


def test_no_pair_is_left_untested() -> None:
    assert len(PAIRS) >= 40
    assert ("text", "integer") in PAIRS
    assert ("integer", "link") in PAIRS
    assert ("single_select", "multi_select") in PAIRS


def test_columns_after_conversion_have_the_new_type(runtime: Runtime) -> None:
    runtime.schema.create_entity({"name": "items", "fields": [{"name": "n", "type": "text"}]})
    runtime.records.create("items", {"n": "42"})
    runtime.schema.update_field("items", "n", {"type": "integer"})
    table = runtime.cache.current().table("items")
    column = runtime.cache.current().entity("items").field("n").column
    with runtime.engine.connect() as conn:
        stored = conn.execute(sa.select(table.c[column])).scalar_one()
        columns = {c["name"]: c for c in sa.inspect(conn).get_columns(table.name)}
    assert stored == 42
    assert isinstance(columns[column]["type"], sa.Integer | sa.BigInteger)
    assert any(name.startswith(f"{column}_b") for name in columns)
