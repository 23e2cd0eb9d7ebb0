"""Demo records from ``data/*.yaml``: references by local key, one transaction."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from recordbase.configio import apply_config, load_config, load_demo_data
from recordbase.errors import ValidationError
from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime, create_system_tables, make_runtime

SALES_CRM = Path(__file__).resolve().parents[1] / "sample_configs" / "sales_crm"

SMALL = {
    "clients": """
name: clients
title_field: name
fields:
  - {name: name, type: text, required: true}
  - {name: email, type: email}
  - {name: number, type: autonumber, options: {pattern: "C-{###}"}}
""",
    "contacts": """
name: contacts
fields:
  - {name: client, type: link, options: {target: clients, on_delete: cascade}}
  - {name: full_name, type: text}
""",
}


@pytest.fixture
def runtime(db_url: str) -> Iterator[Runtime]:
    rt = make_runtime(db_url)
    create_system_tables(rt.engine)
    yield rt
    rt.dispose()


@pytest.fixture
def small(runtime: Runtime, tmp_path: Path) -> Path:
    """A two-entity configuration, applied; its data/ folder is empty."""
    root = tmp_path / "small"
    (root / "metadata").mkdir(parents=True)
    (root / "data").mkdir()
    for name, text in SMALL.items():
        (root / "metadata" / f"{name}.yaml").write_text(text, encoding="utf-8")
    apply_config(runtime, load_config(root))
    return root


def write_data(root: Path, entity: str, text: str) -> None:
    (root / "data" / f"{entity}.yaml").write_text(text, encoding="utf-8")


def row_counts(runtime: Runtime) -> dict[str, int]:
    catalog = runtime.cache.current()
    with runtime.engine.connect() as conn:
        return {
            entity.name: conn.execute(
                sa.select(sa.func.count()).select_from(catalog.table(entity))
            ).scalar_one()
            for entity in catalog.live_entities()
        }


def list_all(runtime: Runtime, entity: str) -> list[dict[str, Any]]:
    return runtime.records.list_page(entity, ListQuery(limit=100)).items


def refused(runtime: Runtime, root: Path) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        load_demo_data(runtime, root, user_id=None)
    assert set(row_counts(runtime).values()) == {0}, "a refused load must leave no record"
    return info.value


def test_the_sales_crm_demo_loads(runtime: Runtime) -> None:
    apply_config(runtime, load_config(SALES_CRM))
    counts = load_demo_data(runtime, SALES_CRM, user_id=None)
    assert counts == {
        "client_categories": 3, "clients": 8, "contacts": 10, "contracts": 3, "events": 6,
        "invoices": 5, "payments": 4, "product_categories": 7, "products": 12, "company": 1,
    }
    assert row_counts(runtime)["invoice_lines"] == 14
    records = runtime.records
    ivanov = next(c for c in list_all(runtime, "contacts") if c["full_name"].startswith("Иванов"))
    assert records.get("clients", ivanov["client"])[0]["name"] == "ООО «Северный ветер»"
    office = next(c for c in list_all(runtime, "product_categories")
                  if c["name"] == "Office equipment")
    assert records.get("product_categories", office["parent"])[0]["name"] == "Goods"
    invoices = sorted(list_all(runtime, "invoices"), key=lambda r: r["id"])
    assert all(inv["number"].startswith("INV-") for inv in invoices)
    assert len({inv["number"] for inv in invoices}) == 5
    smirnova = next(inv for inv in invoices if inv["total"] == "32700.00")
    assert [line["amount"] for line in smirnova["lines"]] == [
        "17700.00", "9000.00", "4500.00", "1500.00"]
    event = next(e for e in list_all(runtime, "events") if e["subject"].startswith("Office"))
    assert event["starts_at"] == "2026-12-05T08:00:00.000000+00:00"


def test_references_resolve_whatever_the_file_order(runtime: Runtime, small: Path) -> None:
    write_data(small, "clients", "- {_key: acme, name: Acme}\n- {_key: beta, name: Beta}\n")
    write_data(small, "contacts", (
        "- {client: {$ref: clients/beta}, full_name: B. One}\n"
        "- {client: {$ref: clients/acme}, full_name: A. One}\n"
    ))
    assert load_demo_data(runtime, small, user_id=None) == {"clients": 2, "contacts": 2}
    people = {c["full_name"]: c["client"] for c in list_all(runtime, "contacts")}
    names = {c["id"]: c["name"] for c in list_all(runtime, "clients")}
    assert {k: names[v] for k, v in people.items()} == {"B. One": "Beta", "A. One": "Acme"}


def test_no_data_folder_loads_nothing(runtime: Runtime, small: Path) -> None:
    shutil.rmtree(small / "data")
    assert load_demo_data(runtime, small, user_id=None) == {}


def test_an_unknown_reference_is_named(runtime: Runtime, small: Path) -> None:
    write_data(small, "clients", "- {_key: acme, name: Acme}\n")
    write_data(small, "contacts", "- {client: {$ref: clients/nobody}, full_name: X}\n")
    error = refused(runtime, small)
    assert ("data/contacts.yaml: [0].client: 'clients/nobody' names no record: no record of "
            "data/clients.yaml has that _key") in error.message


def test_a_bad_record_loads_nothing_at_all(runtime: Runtime, small: Path) -> None:
    write_data(small, "clients", (
        "- {_key: acme, name: Acme}\n- {_key: broken, name: Broken, email: not-an-address}\n"
    ))
    write_data(small, "contacts", "- {client: {$ref: clients/acme}, full_name: X}\n")
    error = refused(runtime, small)
    assert error.message.startswith("data/clients.yaml: record [1] (broken): ")
    assert "email" in error.message
    assert error.message.endswith("Nothing was loaded.")


def test_computed_values_cannot_be_given(runtime: Runtime, small: Path) -> None:
    write_data(small, "clients", "- {name: Acme, number: C-001}\n")
    error = refused(runtime, small)
    assert "data/clients.yaml: record [0]: " in error.message
    assert "number" in error.message


def test_records_that_refer_to_each_other_in_a_circle(runtime: Runtime, small: Path) -> None:
    write_data(small, "contacts", (
        "- {_key: a, client: {$ref: contacts/b}}\n- {_key: b, client: {$ref: contacts/a}}\n"
    ))
    error = refused(runtime, small)
    assert "Records refer to each other in a circle" in error.message
    assert "data/contacts.yaml: record [0] (a)" in error.message


def test_keys_data_files_and_shapes_are_checked(runtime: Runtime, small: Path) -> None:
    write_data(small, "clients", (
        "- {_key: acme, name: Acme}\n- {_key: acme, name: Again}\n"
        "- {_key: 'a b', name: Spaced}\n- {name: X, client: {$ref: clients/acme, extra: 1}}\n"
    ))
    write_data(small, "suppliers", "- {name: Nobody}\n")
    write_data(small, "contacts", "name: not a list\n")
    error = refused(runtime, small)
    message = error.message
    assert "data/suppliers.yaml: there is no entity named 'suppliers'" in message
    assert "data/contacts.yaml: {'name': 'not a list'} is not of type 'array'" in message
    assert "data/clients.yaml: [2]._key: 'a b' is not allowed" in message
    assert "data/clients.yaml: [3].client: unknown keys ('extra' was unexpected)" in message


def test_duplicate_keys_are_refused(runtime: Runtime, small: Path) -> None:
    write_data(small, "clients", "- {_key: acme, name: Acme}\n- {_key: acme, name: Again}\n")
    error = refused(runtime, small)
    assert "data/clients.yaml: [1]._key: the key 'acme' is used twice" in error.message


def test_python_tags_in_data_are_refused(runtime: Runtime, small: Path) -> None:
    write_data(small, "clients", "- name: !!python/object/apply:os.getcwd []\n")
    assert "data/clients.yaml: is not valid YAML" in refused(runtime, small).message
