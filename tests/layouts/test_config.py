"""Layouts as configuration files: export, diff, apply, and malformed files refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from recordbase.configio import apply_config, export_config, load_config, plan_config
from recordbase.errors import ValidationError
from recordbase.runtime import Runtime

ENTITIES = {
    "customers": {"name": "customers", "title_field": "name", "fields": [
        {"name": "name", "type": "text", "required": True},
        {"name": "code", "type": "text"},
        {"name": "notes", "type": "long_text"},
    ]},
    "products": {"name": "products", "fields": [{"name": "title", "type": "text"}]},
    "orders": {"name": "orders", "fields": [
        {"name": "number", "type": "text"},
        {"name": "customer", "type": "link", "options": {"target": "customers"}},
    ]},
}


def write_config(folder: Path, layouts: dict[str, Any] | None = None,
                 extra_fields: list[dict[str, Any]] | None = None) -> Path:
    (folder / "metadata").mkdir(parents=True, exist_ok=True)
    for name, spec in ENTITIES.items():
        spec = json.loads(json.dumps(spec))
        if name == "customers" and extra_fields:
            spec["fields"] += extra_fields
        (folder / "metadata" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    if layouts:
        (folder / "form_layouts").mkdir(exist_ok=True)
        for file_name, body in layouts.items():
            text = body if isinstance(body, str | bytes) else json.dumps(body)
            path = folder / "form_layouts" / file_name
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text)
    return folder


def el(ident: str, kind: str = "field", row: int = 0, col: int = 0, width: int = 6,
       **extra: Any) -> dict[str, Any]:
    return {"id": ident, "type": kind, "row": row, "col": col, "width": width, **extra}


def card(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"format": 1, "kind": "form", "tabs": [{"id": "t", "label": "Main", "sections": [
        {"id": "s", "label": "", "elements": list(elements)}]}]}


GOOD = card(el("a", field="name"), el("b", field="code", col=6),
            el("c", "related", row=1, width=12, entity="orders", field="customer"))
LIST = {"format": 1, "kind": "list", "columns": [{"field": "code", "width": 90},
                                                 {"field": "name", "width": None}],
        "sort": [{"field": "name", "direction": "asc"}]}


@pytest.fixture
def base(runtime: Runtime, tmp_path: Path) -> Path:
    folder = write_config(tmp_path / "base")
    apply_config(runtime, load_config(folder))
    return folder


def test_apply_diff_and_export_round_trip(runtime: Runtime, base: Path, tmp_path: Path) -> None:
    folder = write_config(tmp_path / "c1", {"customers.form.json": GOOD,
                                            "customers.list.json": LIST})
    plan = plan_config(runtime, load_config(folder))
    assert plan.describe() == [
        "+ layout customers.form (form_layouts/customers.form.json)",
        "+ layout customers.list (form_layouts/customers.list.json)",
    ]
    apply_config(runtime, load_config(folder))
    entity = runtime.cache.current().entity("customers")
    saved = runtime.layouts.effective("customers")
    assert saved["tabs"][0]["sections"][0]["elements"][0]["field"] == entity.field("name").id
    assert plan_config(runtime, load_config(folder)).empty  # applying again changes nothing
    out = tmp_path / "export"
    written = export_config(runtime, out)
    assert out / "form_layouts" / "customers.form.json" in written
    exported = json.loads((out / "form_layouts" / "customers.form.json").read_text())
    assert exported["tabs"][0]["sections"][0]["elements"][1]["field"] == "code"
    assert exported["tabs"][0]["sections"][0]["elements"][2]["field"] == "customer"
    first = (out / "form_layouts" / "customers.list.json").read_bytes()
    export_config(runtime, out)
    assert (out / "form_layouts" / "customers.list.json").read_bytes() == first
    assert plan_config(runtime, load_config(out)).empty
    moved = json.loads(json.dumps(exported))
    moved["tabs"][0]["sections"][0]["elements"][1]["row"] = 2
    write_config(out, {"customers.form.json": moved})
    assert plan_config(runtime, load_config(out)).describe() == [
        "~ layout customers.form (form_layouts/customers.form.json)"]
    apply_config(runtime, load_config(out))
    assert [v.number for v in runtime.layouts.versions("customers", "form")] == [2, 1]


def test_a_layout_with_a_new_field_applies_in_one_go(runtime: Runtime, base: Path,
                                                     tmp_path: Path) -> None:
    layout = card(el("a", field="name"), el("v", field="vat", col=6))
    folder = write_config(tmp_path / "c2", {"customers.form.json": layout},
                          extra_fields=[{"name": "vat", "type": "text"}])
    apply_config(runtime, load_config(folder))
    vat = runtime.cache.current().entity("customers").field("vat").id
    assert runtime.layouts.effective("customers")["tabs"][0]["sections"][0]["elements"][1][
        "field"] == vat


def _refused(folder: Path, runtime: Runtime) -> str:
    with pytest.raises(ValidationError) as caught:
        apply_config(runtime, load_config(folder))
    return caught.value.message


@pytest.mark.parametrize(("name", "body", "sentence"), [
    ("unknown element type", card(el("a", "video")),
     "form_layouts/customers.form.json: tabs[0].sections[0].elements[0].type: 'video' is not "
     "an element type"),
    ("field of another entity", card(el("a", field="title")),
     "form_layouts/customers.form.json: tabs[0].sections[0].elements[0].field: customers have "
     "no field named 'title'"),
    ("overlapping cells", card(el("a", field="name", width=8), el("b", field="code", col=4)),
     "form_layouts/customers.form.json is not valid: tabs[0].sections[0].elements[1]: overlaps "
     "elements[0] in row 0, column 4"),
    ("ten megabytes", b'{"x": "' + b"a" * (10 * 1024 * 1024) + b'"}',
     "form_layouts/customers.form.json: is 10,485,769 bytes; a layout may be at most 256 KiB"),
    ("deep nesting", b"[" * 10_000 + b"]" * 10_000,
     "form_layouts/customers.form.json: is nested more than 10 levels deep"),
    ("not JSON", "{tabs:", "form_layouts/customers.form.json: is not valid JSON"),
])
def test_malformed_layout_files_are_refused_with_file_and_place(
    runtime: Runtime, base: Path, tmp_path: Path, name: str, body: Any, sentence: str
) -> None:
    folder = write_config(tmp_path / "bad", {"customers.form.json": body},
                          extra_fields=[{"name": "vat", "type": "text"}])
    message = _refused(folder, runtime)
    assert sentence in message, message
    # all or nothing: the new field of the same configuration was not added either
    assert not runtime.cache.current().entity("customers").has_field("vat")
    assert runtime.layouts.current("customers", "form") is None


def test_a_file_of_the_wrong_kind_or_name(runtime: Runtime, base: Path, tmp_path: Path) -> None:
    folder = write_config(tmp_path / "k", {"customers.list.json": GOOD})
    assert "is named .list.json but holds a form layout" in _refused(folder, runtime)
    odd = write_config(tmp_path / "n", {"Customers form.json": GOOD})
    assert "name layout files <entity>.form.json" in _refused(odd, runtime)
    nobody = write_config(tmp_path / "r", {"customers.form.nobody.json": GOOD})
    assert "there is no role named 'nobody'" in _refused(nobody, runtime)
    ghost = write_config(tmp_path / "g", {"ghosts.form.json": GOOD})
    assert "there is no entity file metadata/ghosts.yaml" in _refused(ghost, runtime)


def test_exported_files_have_one_key_order(runtime: Runtime, base: Path, tmp_path: Path) -> None:
    folder = write_config(tmp_path / "c3", {"customers.form.json": GOOD})
    apply_config(runtime, load_config(folder))
    out = tmp_path / "export"
    export_config(runtime, out)
    text = (out / "form_layouts" / "customers.form.json").read_text()
    assert text.startswith('{\n  "format": 1,\n  "kind": "form",\n  "tabs": [\n    {\n'
                           '      "id": "t"')
    first = json.loads(text)["tabs"][0]["sections"][0]["elements"][0]
    assert list(first)[:6] == ["id", "type", "label", "row", "col", "width"]
