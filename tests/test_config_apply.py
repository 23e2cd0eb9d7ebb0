"""Plan, apply and export a configuration on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from recordbase import db, systables
from recordbase.configio import (
    AddField,
    CreateEntity,
    Drift,
    Unsupported,
    UpdateField,
    apply_config,
    export_config,
    load_config,
    plan_config,
)
from recordbase.configio.templates import StoreTemplate
from recordbase.errors import ValidationError
from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime, create_system_tables, make_runtime
from recordbase.schema.specs import entity_to_json

SALES_CRM = Path(__file__).resolve().parents[1] / "sample_configs" / "sales_crm"


def open_runtime(url: str) -> Runtime:
    runtime = make_runtime(url)
    create_system_tables(runtime.engine)
    return runtime


@pytest.fixture
def runtime(db_url: str) -> Iterator[Runtime]:
    rt = open_runtime(db_url)
    yield rt
    rt.dispose()


@pytest.fixture
def second_url(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[str]:
    """Another fresh, empty database on the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.sqlite3'}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = request.getfixturevalue("pg_database") + "_second"
    yield cluster.create_database(name)
    cluster.drop_database(name)


@pytest.fixture
def crm(tmp_path: Path) -> Path:
    """A copy of the sales CRM to edit."""
    target = tmp_path / "crm"
    shutil.copytree(SALES_CRM, target)
    return target


def snapshot(runtime: Runtime) -> list[dict[str, Any]]:
    runtime.cache.invalidate()
    return [entity_to_json(e) for e in runtime.cache.current().live_entities()]


def edit(config: Path, entity: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = config / "metadata" / f"{entity}.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(spec)
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")


def field_of(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in spec["fields"] if f["name"] == name)


def bump_version(conn: sa.Connection) -> None:
    version = systables.meta_version.c.version
    conn.execute(sa.update(systables.meta_version).values(version=version + 1))


def write_entities(root: Path, *specs: dict[str, Any]) -> Path:
    (root / "metadata").mkdir(parents=True)
    for spec in specs:
        (root / "metadata" / f"{spec['name']}.yaml").write_text(
            yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8"
        )
    return root


def test_a_database_without_recordbase_tables_gets_a_sentence(
    db_url: str, tmp_path: Path
) -> None:
    bare = make_runtime(db_url)
    try:
        for attempt in (lambda: plan_config(bare, load_config(SALES_CRM)),
                        lambda: export_config(bare, tmp_path / "out")):
            with pytest.raises(ValidationError, match="has no Recordbase tables yet"):
                attempt()
        assert not (tmp_path / "out").exists()
    finally:
        bare.dispose()


# --- applying the sales CRM -------------------------------------------------------------


def test_the_sales_crm_plan_creates_every_entity_in_dependency_order(runtime: Runtime) -> None:
    plan = plan_config(runtime, load_config(SALES_CRM))
    structure = [s for s in plan.steps if not isinstance(s, StoreTemplate)]
    assert all(isinstance(step, CreateEntity) for step in structure)
    assert len(plan.steps) - len(structure) == 6  # the print templates come last
    assert plan.describe()[:3] == [
        "+ entity client_categories (2 fields)",
        "+ entity clients (18 fields)",
        "+ entity contacts (5 fields)",
    ]
    order = [step.describe().split()[2] for step in structure]
    assert order.index("invoice_lines") < order.index("invoices")
    assert order.index("products") < order.index("invoice_lines")
    assert snapshot(runtime) == []  # planning changes nothing


def test_apply_then_the_same_plan_is_empty(runtime: Runtime) -> None:
    config = load_config(SALES_CRM)
    applied = apply_config(runtime, config)
    assert len(applied.steps) == 11 + 6  # entities and print templates
    again = plan_config(runtime, config)
    assert again.empty
    assert again.describe() == []
    clients = runtime.cache.current().entity("clients")
    assert clients.title_field == "name"
    assert clients.field("category").options == {"target": "client_categories",
                                                  "on_delete": "set_null"}
    assert runtime.cache.current().entity("invoice_lines").child


def test_round_trip_export_apply_export_is_identical(
    runtime: Runtime, second_url: str, tmp_path: Path
) -> None:
    apply_config(runtime, load_config(SALES_CRM))
    first = tmp_path / "first"
    written = export_config(runtime, first)
    assert written == sorted(written)
    assert len(written) == 11 + 6  # metadata/ and print_templates/
    other = open_runtime(second_url)
    try:
        apply_config(other, load_config(first))
        second = tmp_path / "second"
        export_config(other, second)
        assert plan_config(other, load_config(SALES_CRM)).empty
        assert snapshot(other) == snapshot(runtime)
    finally:
        other.dispose()
    for path in written:
        assert (second / path.relative_to(first)).read_bytes() == path.read_bytes()


def test_an_export_is_the_files_own_shape(runtime: Runtime, tmp_path: Path) -> None:
    apply_config(runtime, load_config(SALES_CRM))
    export_config(runtime, tmp_path)
    text = (tmp_path / "metadata" / "clients.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    assert list(document) == ["name", "label", "label_plural", "directory", "tree", "child",
                              "title_field", "nav", "position", "fields"]
    live = entity_to_json(runtime.cache.current().entity("clients"))
    assert document["fields"] == live["fields"]
    assert "ИНН" in text  # allow_unicode: the help text is not escaped
    assert "{" not in text.replace("options: {}", "")  # block style


def test_export_leaves_out_removed_fields_and_entities(runtime: Runtime, tmp_path: Path) -> None:
    apply_config(runtime, load_config(SALES_CRM))
    (tmp_path / "metadata").mkdir()
    (tmp_path / "metadata" / "gone.yaml").write_text("name: gone\n", encoding="utf-8")
    with db.write(runtime.engine) as conn:
        clients = sa.select(systables.entities.c.id).where(systables.entities.c.name == "clients")
        conn.execute(sa.update(systables.fields)
                     .where(systables.fields.c.name == "kpp",
                            systables.fields.c.entity_id == clients.scalar_subquery())
                     .values(removed=True))
        conn.execute(sa.update(systables.entities).where(systables.entities.c.name == "events")
                     .values(removed=True))
        bump_version(conn)
    written = {p.name for p in export_config(runtime, tmp_path) if p.parent.name == "metadata"}
    assert "events.yaml" not in written
    assert {p.name for p in (tmp_path / "metadata").iterdir()} == written  # stale files go
    clients = yaml.safe_load((tmp_path / "metadata" / "clients.yaml").read_text(encoding="utf-8"))
    assert "kpp" not in [f["name"] for f in clients["fields"]]
    # the files now match the database, so planning them is empty
    assert plan_config(runtime, load_config(tmp_path)).empty


# --- changes --------------------------------------------------------------------------------


def test_a_label_change_is_one_step_and_applies(runtime: Runtime, crm: Path) -> None:
    apply_config(runtime, load_config(crm))
    edit(crm, "clients", lambda s: field_of(s, "name").update(label="Client name"))
    plan = plan_config(runtime, load_config(crm))
    assert plan.describe() == ['~ field clients.name label "Name" -> "Client name"']
    assert isinstance(plan.steps[0], UpdateField)
    apply_config(runtime, load_config(crm))
    assert runtime.cache.current().entity("clients").field("name").label == "Client name"
    assert plan_config(runtime, load_config(crm)).empty


def test_entity_labels_help_and_title_field_changes(runtime: Runtime, crm: Path) -> None:
    apply_config(runtime, load_config(crm))

    def change(spec: dict[str, Any]) -> None:
        spec.update(label="Customer", label_plural="Customers", title_field="inn")
        field_of(spec, "notes")["help"] = "Anything worth remembering."

    edit(crm, "clients", change)
    plan = plan_config(runtime, load_config(crm))
    assert plan.describe() == [
        '~ entity clients label "Client" -> "Customer"',
        '~ entity clients label_plural "Clients" -> "Customers"',
        '~ field clients.notes help "" -> "Anything worth remembering."',
        '~ entity clients title_field "name" -> "inn"',
    ]
    apply_config(runtime, load_config(crm))
    clients = runtime.cache.current().entity("clients")
    assert (clients.label, clients.label_plural, clients.title_field) == (
        "Customer", "Customers", "inn")
    assert plan_config(runtime, load_config(crm)).empty


def test_new_fields_and_entities_are_added(runtime: Runtime, crm: Path) -> None:
    apply_config(runtime, load_config(crm))

    def change(spec: dict[str, Any]) -> None:
        spec["fields"].append({"name": "vat_number", "type": "text", "label": "VAT number"})
        spec["fields"].append({"name": "region", "type": "link",
                               "options": {"target": "regions"}})
        spec["title_field"] = "vat_number"

    edit(crm, "clients", change)
    (crm / "metadata" / "regions.yaml").write_text(
        "name: regions\ndirectory: true\nfields:\n  - {name: name, type: text}\n",
        encoding="utf-8")
    plan = plan_config(runtime, load_config(crm))
    assert plan.describe() == [
        "+ entity regions (1 field)",
        "+ field clients.vat_number (text)",
        "+ field clients.region (link)",
        '~ entity clients title_field "name" -> "vat_number"',
    ]
    assert isinstance(plan.steps[1], AddField)
    apply_config(runtime, load_config(crm))
    assert plan_config(runtime, load_config(crm)).empty
    assert runtime.cache.current().entity("clients").field("region").options["target"] == (
        "regions")


def test_changes_this_version_cannot_make_are_reported_and_refused(
    runtime: Runtime, crm: Path
) -> None:
    apply_config(runtime, load_config(crm))
    before = snapshot(runtime)

    def change(spec: dict[str, Any]) -> None:
        field_of(spec, "inn")["type"] = "integer"
        field_of(spec, "inn")["options"] = {}
        field_of(spec, "kpp")["options"] = {"max_length": 20}
        field_of(spec, "ogrn")["required"] = True
        field_of(spec, "name")["label"] = "Client name"
        spec["fields"] = [f for f in spec["fields"] if f["name"] != "website"]
        spec["directory"] = True

    edit(crm, "clients", change)
    (crm / "metadata" / "events.yaml").unlink()
    plan = plan_config(runtime, load_config(crm))
    lines = plan.describe()
    assert lines[0] == '~ field clients.name label "Name" -> "Client name"'
    assert set(lines[1:]) == {
        "! entity clients: changing directory false -> true is not supported by config "
        "apply yet",
        "! field clients.inn: changing type text -> integer is not supported by config apply "
        "yet",
        "! field clients.kpp: changing options (max_length) is not supported by config apply yet",
        "! field clients.ogrn: changing required false -> true is not supported by config "
        "apply yet",
        "! field clients.website: is in the database but not in metadata/clients.yaml; "
        "removing fields is not supported by config apply yet",
        "! entity events: is in the database but has no file metadata/events.yaml; removing "
        "entities is not supported by config apply yet",
    }
    assert sum(isinstance(s, Drift) for s in plan.steps) == 2
    assert sum(isinstance(s, Unsupported) for s in plan.steps) == 4
    with pytest.raises(ValidationError) as info:
        apply_config(runtime, load_config(crm))
    assert info.value.message.startswith("Nothing was changed: 6 differences cannot be applied")
    assert "changing type text -> integer" in info.value.message
    assert len(info.value.extra["steps"]) == 6
    assert snapshot(runtime) == before  # not even the label change was made


def test_a_name_removed_in_the_database_is_not_recreated(runtime: Runtime, crm: Path) -> None:
    apply_config(runtime, load_config(crm))
    with db.write(runtime.engine) as conn:
        clients = sa.select(systables.entities.c.id).where(systables.entities.c.name == "clients")
        conn.execute(sa.update(systables.fields)
                     .where(systables.fields.c.name == "kpp",
                            systables.fields.c.entity_id == clients.scalar_subquery())
                     .values(removed=True))
        bump_version(conn)
    assert plan_config(runtime, load_config(crm)).describe() == [
        "! field clients.kpp: a field of this name was removed in the database; restore or "
        "purge it first (config apply does not do either yet)"
    ]


# --- dependency order -----------------------------------------------------------------------


def test_entities_that_link_to_each_other_are_created_then_linked(
    runtime: Runtime, tmp_path: Path
) -> None:
    clients = {"name": "clients", "position": 0, "title_field": "main_contact", "fields": [
        {"name": "name", "type": "text"},
        {"name": "main_contact", "type": "link", "options": {"target": "contacts"}},
        {"name": "holding", "type": "link", "options": {"target": "clients"}},
        {"name": "notes", "type": "long_text"},
    ]}
    contacts = {"name": "contacts", "position": 1, "fields": [
        {"name": "client", "type": "link", "options": {"target": "clients",
                                                       "on_delete": "cascade"}},
        {"name": "full_name", "type": "text"},
    ]}
    config = load_config(write_entities(tmp_path / "cfg", clients, contacts))
    plan = plan_config(runtime, config)
    assert plan.describe() == [
        "+ entity clients (3 fields)",
        "+ entity contacts (2 fields)",
        "+ field clients.main_contact (link)",
    ]
    assert isinstance(plan.steps[2], AddField)
    assert plan.steps[2].deferred
    apply_config(runtime, config)
    live = runtime.cache.current().entity("clients")
    # a deferred field comes after the others: add_field has no position yet
    assert [f.name for f in live.fields] == ["name", "holding", "notes", "main_contact"]
    assert live.title_field == "main_contact"
    assert plan_config(runtime, config).empty
    exported = tmp_path / "export"
    export_config(runtime, exported)
    assert plan_config(runtime, load_config(exported)).empty


def test_a_cycle_defers_as_few_fields_as_it_can(runtime: Runtime, tmp_path: Path) -> None:
    a = {"name": "a", "fields": [
        {"name": "b1", "type": "link", "options": {"target": "b"}},
        {"name": "b2", "type": "link", "options": {"target": "b"}},
    ]}
    b = {"name": "b", "fields": [{"name": "a", "type": "link", "options": {"target": "a"}}]}
    plan = plan_config(runtime, load_config(write_entities(tmp_path / "cfg", a, b)))
    assert plan.describe() == [
        "+ entity b (0 fields)", "+ entity a (2 fields)", "+ field b.a (link)",
    ]


def test_a_child_table_is_created_after_its_lines(runtime: Runtime, tmp_path: Path) -> None:
    orders = {"name": "orders", "position": 0, "fields": [
        {"name": "lines", "type": "child_table", "options": {"target": "order_lines"}},
    ]}
    lines = {"name": "order_lines", "child": True, "position": 1, "fields": [
        {"name": "item", "type": "text"},
    ]}
    config = load_config(write_entities(tmp_path / "cfg", orders, lines))
    assert plan_config(runtime, config).describe() == [
        "+ entity order_lines (1 field)", "+ entity orders (1 field)",
    ]
    apply_config(runtime, config)
    assert plan_config(runtime, config).empty


# --- hostile files ----------------------------------------------------------------------------


def _unknown_keys(crm: Path) -> None:
    edit(crm, "clients", lambda s: s.update(colour="red"))


def _unknown_field_key(crm: Path) -> None:
    edit(crm, "clients", lambda s: field_of(s, "name").update(widget="wide"))


def _unknown_type(crm: Path) -> None:
    edit(crm, "clients", lambda s: s["fields"].append({"name": "aura", "type": "hologram"}))


def _sql_in_a_name(crm: Path) -> None:
    edit(crm, "clients", lambda s: s["fields"].append(
        {"name": 'x"; DROP TABLE clients;--', "type": "text"}))


def _long_names(crm: Path) -> None:
    edit(crm, "clients", lambda s: s["fields"].append({"name": "n" * 300, "type": "text"}))


def _python_tag(crm: Path) -> None:
    path = crm / "metadata" / "clients.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "name: clients", "name: !!python/object/apply:os.system ['echo hacked']", 1),
        encoding="utf-8")


def _huge_file(crm: Path) -> None:
    path = crm / "metadata" / "clients.yaml"
    path.write_text(path.read_text(encoding="utf-8") + ("# " + "x" * 1022 + "\n") * 3072,
                    encoding="utf-8")


def _missing_target(crm: Path) -> None:
    edit(crm, "clients", lambda s: field_of(s, "category")["options"].update(target="nowhere"))


def _missing_target_new_field(crm: Path) -> None:
    edit(crm, "clients", lambda s: s["fields"].append(
        {"name": "region", "type": "link", "options": {"target": "regions"}}))


def _bad_options(crm: Path) -> None:
    edit(crm, "products", lambda s: field_of(s, "price")["options"].update(currency="roubles"))


def _bad_default(crm: Path) -> None:
    edit(crm, "clients", lambda s: s["fields"].append(
        {"name": "founded", "type": "date", "default": "last spring"}))


HOSTILE = {
    "unknown keys": (_unknown_keys, "metadata/clients.yaml: unknown keys ('colour'"),
    "unknown field key": (_unknown_field_key, "metadata/clients.yaml: fields[0]: unknown keys"),
    "unknown type": (_unknown_type, "metadata/clients.yaml: fields[18].type: there is no field "
                     "type 'hologram'"),
    "sql in a name": (_sql_in_a_name, "metadata/clients.yaml: fields[18].name: "),
    "300 characters": (_long_names, "fields[18].name: is 300 characters long"),
    "python tag": (_python_tag, "metadata/clients.yaml: is not valid YAML"),
    "3 MB": (_huge_file, "metadata/clients.yaml: is larger than 2 MB"),
    "missing target": (_missing_target, "metadata/clients.yaml: fields[2].options: The target "
                       "entity 'nowhere' does not exist."),
    "missing target, new field": (_missing_target_new_field, "metadata/clients.yaml: "
                                  "fields[18].options: The target entity 'regions' does not"),
    "bad options": (_bad_options, "metadata/products.yaml: fields[5].options: The options of a "
                    "money field are not valid: currency: The currency is a three-letter ISO"),
    "bad default": (_bad_default, "metadata/clients.yaml: fields[18].default: not a valid value"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_file_names_itself_and_changes_nothing(
    runtime: Runtime, crm: Path, case: str
) -> None:
    apply_config(runtime, load_config(SALES_CRM))
    before = snapshot(runtime)
    version = runtime.cache.current().version
    spoil, expected = HOSTILE[case]
    spoil(crm)
    with pytest.raises(ValidationError) as info:
        apply_config(runtime, load_config(crm))
    assert expected in info.value.message
    assert "nothing was" in info.value.message
    assert snapshot(runtime) == before
    assert runtime.cache.current().version == version


@pytest.mark.parametrize("case", ["unknown type", "missing target", "bad default"])
def test_a_hostile_file_leaves_an_empty_database_empty(
    runtime: Runtime, crm: Path, case: str
) -> None:
    spoil, expected = HOSTILE[case]
    spoil(crm)
    with pytest.raises(ValidationError) as info:
        apply_config(runtime, load_config(crm))
    assert expected in info.value.message
    assert snapshot(runtime) == []
    assert sorted(sa.inspect(runtime.engine).get_table_names()) == sorted(
        systables.system_metadata.tables)


def test_a_link_to_lines_of_a_child_table_is_refused(runtime: Runtime, crm: Path) -> None:
    edit(crm, "payments", lambda s: s["fields"].append(
        {"name": "line", "type": "link", "options": {"target": "invoice_lines"}}))
    with pytest.raises(ValidationError) as info:
        plan_config(runtime, load_config(crm))
    assert ("metadata/payments.yaml: fields[5].options: The entity 'invoice_lines' holds the "
            "lines of a child table and cannot be linked to.") in info.value.message


# --- new fields on entities that hold records --------------------------------------------------


def test_new_fields_on_an_entity_with_records(runtime: Runtime, tmp_path: Path) -> None:
    base = {"name": "clients", "fields": [{"name": "name", "type": "text"}]}
    root = write_entities(tmp_path / "cfg", base)
    apply_config(runtime, load_config(root))
    for name in ("Acme", "Beta"):
        runtime.records.create("clients", {"name": name})
    base["fields"] += [
        {"name": "active", "type": "boolean", "default": True, "required": True},
        {"name": "code", "type": "text", "unique": True, "default": "X"},
        {"name": "vat", "type": "text", "required": True},
        {"name": "notes", "type": "long_text"},
    ]
    (root / "metadata" / "clients.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    plan = plan_config(runtime, load_config(root))
    assert plan.describe() == [
        "+ field clients.active (boolean)",
        "+ field clients.notes (long_text)",
        "! field clients.code: the 2 existing records would all get the default, but the field "
        "must be unique",
        "! field clients.vat: the 2 existing records would have no value for this required "
        "field; give it a default",
    ]
    base["fields"] = [f for f in base["fields"] if f["name"] not in ("code", "vat")]
    (root / "metadata" / "clients.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    apply_config(runtime, load_config(root))
    page = runtime.records.list_page("clients", ListQuery(limit=10))
    assert [r["active"] for r in page.items] == [True, True]  # the default filled them
    assert plan_config(runtime, load_config(root)).empty


def test_a_failure_in_the_middle_of_apply_changes_nothing(
    runtime: Runtime, crm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recordbase.errors import Conflict
    from recordbase.schema.ops_entity import CreateEntity

    real_run = CreateEntity.run
    calls = {"n": 0}

    def failing_run(self: CreateEntity, ctx: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:
            raise Conflict("A simulated failure after three entities.")
        return real_run(self, ctx)

    monkeypatch.setattr(CreateEntity, "run", failing_run)
    with pytest.raises(ValidationError, match="Nothing was changed"):
        apply_config(runtime, load_config(crm))
    assert runtime.cache.current().live_entities() == []
    with runtime.engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
    assert not [t for t in tables if t.startswith("e_")]
    assert runtime.schema.journal() == []
