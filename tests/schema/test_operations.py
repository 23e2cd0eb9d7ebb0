"""Field and entity operations on live tables: previews, refusals, journal and undo."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from recordbase import systables
from recordbase.errors import Conflict, LicenceRestriction, NotFound, ValidationError
from recordbase.records.query import FilterSpec, ListQuery
from recordbase.runtime import Runtime, make_runtime


def items(runtime: Runtime, entity: str = "clients") -> list[dict[str, Any]]:
    return runtime.records.list_page(entity, ListQuery(limit=500, sort=("id",))).items


@pytest.fixture
def clients(runtime: Runtime) -> Runtime:
    runtime.schema.create_entity({"name": "clients", "title_field": "name", "fields": [
        {"name": "name", "type": "text", "options": {"max_length": 40}},
        {"name": "kind", "type": "single_select", "options": {"choices": ["a", "b", "c"]}},
        {"name": "amount", "type": "decimal", "options": {"precision": 10, "scale": 2}},
        {"name": "code", "type": "text"},
    ]})
    for i, (name, kind, amount, code) in enumerate([
        ("Acme", "a", "10.25", "X1"), ("Бета ООО", "b", "3.10", "X2"),
        ("A much longer name of a company", "c", None, "X2"), (None, None, "7.00", None),
    ]):
        runtime.records.create("clients", {"name": name, "kind": kind, "amount": amount,
                                           "code": code})
        del i
    return runtime


def test_rename_keeps_data_and_undo_renames_back(clients: Runtime) -> None:
    schema = clients.schema
    table = clients.cache.current().table("clients")
    schema.update_field("clients", "name", {"name": "title", "label": "Title"})
    assert [c["title"] for c in items(clients)][:2] == ["Acme", "Бета ООО"]
    assert clients.cache.current().entity("clients").title_field == "title"
    assert clients.cache.current().table("clients").name == table.name
    entry = schema.journal(limit=1)[0]
    assert entry["before"]["name"] == "name"
    assert entry["after"]["name"] == "title"
    schema.undo(entry["id"])
    assert items(clients)[0]["name"] == "Acme"
    assert clients.cache.current().entity("clients").title_field == "name"
    again = schema.journal(limit=2)
    assert again[0]["operation"] == "undo_change_field"
    assert again[1]["undone_at"] is not None


def test_remove_hides_and_restore_brings_values_back(clients: Runtime) -> None:
    preview = clients.schema.remove_field("clients", "amount", dry_run=True).report
    assert preview["values"] == 3
    clients.schema.remove_field("clients", "amount")
    assert "amount" not in items(clients)[0]
    with pytest.raises(ValidationError):
        clients.records.create("clients", {"name": "x", "amount": "1.00"})
    clients.schema.restore_field("clients", "amount")
    assert [c["amount"] for c in items(clients)] == ["10.25", "3.10", None, "7.00"]


def test_remove_then_undo_and_title_field(clients: Runtime) -> None:
    clients.schema.remove_field("clients", "name")
    assert clients.cache.current().entity("clients").title_field is None
    clients.schema.undo(clients.schema.journal(limit=1)[0]["id"])
    assert clients.cache.current().entity("clients").title_field == "name"
    assert items(clients)[0]["name"] == "Acme"


def test_purge_needs_removal_and_confirmation(clients: Runtime) -> None:
    with pytest.raises(NotFound):
        clients.schema.purge_field("clients", "code", confirmed=True)
    clients.schema.remove_field("clients", "code")
    with pytest.raises(Conflict, match="3 values for good"):
        clients.schema.purge_field("clients", "code", confirmed=False)
    column = clients.cache.current().entity("clients").all_fields[3].column
    clients.schema.purge_field("clients", "code", confirmed=True)
    with clients.engine.connect() as conn:
        names = [c["name"] for c in sa.inspect(conn).get_columns("e_1")]
    assert column not in names
    assert not clients.cache.current().entity("clients").has_field("code")
    purge = clients.schema.journal(limit=1)[0]
    assert purge["operation"] == "purge_field"
    assert not purge["undoable"]


def test_shrinking_a_text_is_previewed_and_never_truncates(clients: Runtime) -> None:
    change = {"options": {"max_length": 10}}
    report = clients.schema.preview_field_change("clients", "name", change)
    assert (report["rows"], report["convertible"], report["failing"]) == (4, 3, 1)
    assert report["samples"][0]["value"] == "A much longer name of a company"
    assert "10" in report["samples"][0]["reason"]
    with pytest.raises(Conflict) as refused:
        clients.schema.update_field("clients", "name", change)
    assert refused.value.extra["failing"] == 1
    with pytest.raises(Conflict, match="aborted"):
        clients.schema.update_field("clients", "name", {**change, "on_failure": "abort"})
    assert items(clients)[2]["name"] == "A much longer name of a company"
    clients.schema.update_field("clients", "name", {**change, "on_failure": "clear"})
    assert items(clients)[2]["name"] is None
    entry = clients.schema.journal(limit=1)[0]
    assert entry["displaced"] == 1
    clients.schema.undo(entry["id"])
    assert items(clients)[2]["name"] == "A much longer name of a company"


def test_widening_a_text_touches_no_row(clients: Runtime) -> None:
    clients.schema.update_field("clients", "name", {"options": {"max_length": 200}})
    entry = clients.schema.journal(limit=1)[0]
    with clients.engine.connect() as conn:
        names = [c["name"] for c in sa.inspect(conn).get_columns("e_1")]
    assert not [n for n in names if re.match(r"^f_\d+_[nbu]\d+$", n)]
    clients.records.create("clients", {"name": "n" * 150})
    assert entry["operation"] == "change_field"


def test_removing_choices_in_use(clients: Runtime) -> None:
    report = clients.schema.preview_field_change(
        "clients", "kind", {"options": {"choices": ["a", "b"]}})
    assert report["failing"] == 1
    assert report["samples"][0]["value"] == "c"


def test_decimal_scale_change_is_never_rounded(clients: Runtime) -> None:
    report = clients.schema.preview_field_change(
        "clients", "amount", {"options": {"precision": 10, "scale": 1}})
    assert report["failing"] == 1
    assert report["samples"][0]["value"] == "10.25"
    clients.schema.update_field("clients", "amount", {"options": {"precision": 12, "scale": 3}})
    assert [c["amount"] for c in items(clients)] == ["10.250", "3.100", None, "7.000"]


def test_required_and_unique_on_violating_data(clients: Runtime) -> None:
    report = clients.schema.preview_field_change("clients", "amount", {"required": True})
    assert report["failing"] == 1
    with pytest.raises(Conflict, match="required field cannot be emptied"):
        clients.schema.update_field("clients", "amount", {"required": True, "on_failure": "clear"})
    unique = clients.schema.preview_field_change("clients", "code", {"unique": True})
    assert unique["failing"] == 1
    assert "same value as record 2" in unique["samples"][0]["reason"]
    with pytest.raises(Conflict):
        clients.schema.update_field("clients", "code", {"unique": True})
    clients.schema.update_field("clients", "name", {"unique": True})
    with pytest.raises(Conflict):
        clients.records.create("clients", {"name": "Acme"})


def test_index_add_and_remove(clients: Runtime) -> None:
    def indexes() -> set[str]:
        with clients.engine.connect() as conn:
            return {ix["name"] for ix in sa.inspect(conn).get_indexes("e_1")}

    clients.schema.update_field("clients", "amount", {"indexed": True})
    assert "ix_e_1_f_3" in indexes()
    clients.schema.update_field("clients", "amount", {"indexed": False})
    assert "ix_e_1_f_3" not in indexes()
    clients.schema.undo(clients.schema.journal(limit=1)[0]["id"])
    assert "ix_e_1_f_3" in indexes()


def test_disallowed_type_change_names_the_allowed_ones(clients: Runtime) -> None:
    with pytest.raises(ValidationError, match="can become:"):
        clients.schema.update_field("clients", "amount", {"type": "date"})
    with pytest.raises(ValidationError, match="cannot be changed"):
        clients.schema.update_field("clients", "amount", {"colour": "red"})


def test_undo_order_and_changes_since(clients: Runtime) -> None:
    clients.schema.update_field("clients", "code", {"type": "long_text"})
    first = clients.schema.journal(limit=1)[0]["id"]
    clients.schema.update_field("clients", "code", {"label": "Code!"})
    with pytest.raises(Conflict, match="later changes"):
        clients.schema.undo(first)
    clients.schema.undo(clients.schema.journal(limit=1)[0]["id"])
    record = items(clients)[0]
    clients.records.update("clients", record["id"], {"code": "new"},
                           expected_version=record["version"])
    with pytest.raises(Conflict, match="changed after this operation"):
        clients.schema.undo(first)
    with pytest.raises(Conflict, match="already undone"):
        clients.schema.undo(first + 1)


def test_add_field_with_default_fill_and_undo(clients: Runtime) -> None:
    clients.schema.add_field("clients", {"name": "tier", "type": "integer", "default": 2,
                                         "fill_existing": True})
    assert {c["tier"] for c in items(clients)} == {2}
    add = clients.schema.journal(limit=1)[0]["id"]
    with pytest.raises(Conflict, match="4 records have values"):
        clients.schema.undo(add)
    clients.schema.add_field("clients", {"name": "note", "type": "text"})
    clients.schema.undo(clients.schema.journal(limit=1)[0]["id"])
    assert not clients.cache.current().entity("clients").has_field("note")


def test_entity_rename_retargets_links_and_undo(clients: Runtime) -> None:
    schema = clients.schema
    schema.create_entity({"name": "orders", "fields": [
        {"name": "client", "type": "link", "options": {"target": "clients"}}]})
    clients.records.create("orders", {"client": 1})
    preview = schema.execute(
        __import__("recordbase.schema.ops_entity", fromlist=["ChangeEntity"]).ChangeEntity(
            "clients", {"name": "customers"}), dry_run=True).report
    assert preview["dependents"][0]["field"] == "client"
    schema.update_entity("clients", {"name": "customers", "label": "Customer"})
    assert clients.cache.current().entity("orders").field("client").options["target"] == "customers"
    assert items(clients, "customers")[0]["name"] == "Acme"
    assert clients.records.create("orders", {"client": 2})["client"] == 2
    schema.undo(schema.journal(limit=1)[0]["id"])
    assert clients.cache.current().entity("orders").field("client").options["target"] == "clients"


def test_entity_remove_restore_purge(clients: Runtime) -> None:
    schema = clients.schema
    schema.create_entity({"name": "orders", "fields": [
        {"name": "client", "type": "link", "options": {"target": "clients"}}]})
    with pytest.raises(Conflict, match=r"orders\.client"):
        schema.remove_entity("clients")
    schema.remove_entity("orders")
    with pytest.raises(NotFound):
        items(clients, "orders")
    schema.restore_entity("orders")
    schema.remove_entity("orders")
    with pytest.raises(Conflict, match="confirm"):
        schema.purge_entity("orders", confirmed=False)
    schema.purge_entity("orders", confirmed=True)
    with clients.engine.connect() as conn:
        assert "e_2" not in sa.inspect(conn).get_table_names()
    schema.remove_entity("clients")
    schema.undo(schema.journal(limit=1)[0]["id"])
    assert len(items(clients)) == 4


def test_undo_create_entity_only_when_empty(clients: Runtime) -> None:
    schema = clients.schema
    with pytest.raises(Conflict, match="4 records"):
        schema.undo(next(e for e in schema.journal() if e["operation"] == "create_entity")["id"])
    schema.create_entity({"name": "tmp", "fields": [{"name": "a", "type": "text"}]})
    schema.undo(schema.journal(limit=1)[0]["id"])
    assert "tmp" not in clients.cache.current().entities


def test_a_forbidding_policy_stops_every_structural_change(
    clients: Runtime, db_url: str
) -> None:
    class FreeTier:
        def check_structure_change(self, conn: sa.Connection) -> None:
            raise LicenceRestriction("The free tier does not allow changing the structure.")

    locked = make_runtime(db_url, policy=FreeTier(), hash_profile="cheapest")
    try:
        for call in (
            lambda: locked.schema.add_field("clients", {"name": "x", "type": "text"}),
            lambda: locked.schema.update_field("clients", "name", {"label": "N"}),
            lambda: locked.schema.create_entity({"name": "more"}),
            lambda: locked.schema.remove_field("clients", "code"),
            lambda: locked.schema.undo(1),
        ):
            with pytest.raises(LicenceRestriction):
                call()
        assert locked.records.list_page(
            "clients", ListQuery(filters=(FilterSpec("kind", "eq", ("a",)),))).items
    finally:
        locked.dispose()


def test_purges_leave_no_rules_templates_or_layouts_behind(clients: Runtime) -> None:
    """SQLite purges run with foreign keys off: what cascades would remove must go too."""
    schema = clients.schema
    schema.create_entity({"name": "orders", "fields": [
        {"name": "note", "type": "text"}, {"name": "memo", "type": "text"}]})
    clients.access.create_role({"name": "clerk"})
    clients.access.set_permission(
        "clerk", "orders", {"actions": ["read"], "fields": {"note": "hidden", "memo": "read_only"}}
    )
    clients.prints.create("orders", {"name": "slip", "label": "Slip", "body": "<p>x</p>"},
                          user_id=None)
    clients.layouts.save("orders", "list", clients.layouts.automatic("orders", "list"), actor=None)
    schema.remove_field("orders", "memo")
    schema.purge_field("orders", "memo", confirmed=True)
    schema.remove_entity("orders")
    schema.purge_entity("orders", confirmed=True)
    with clients.engine.connect() as conn:
        for table in (systables.permissions, systables.field_permissions,
                      systables.print_templates, systables.print_template_revisions,
                      systables.layout_versions):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0, table
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    assert clients.access.role("clerk")["name"] == "clerk"
