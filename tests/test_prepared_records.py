"""PostgreSQL prepares the record statements whose plan does not depend on the values
bound (by id, by a list of ids, a page without conditions), never one whose plan does
(a filtered page); a change of a column's type by another process never meets a
statement prepared for the old type. On SQLite the same calls simply work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from recordbase import db
from recordbase.errors import Busy
from recordbase.records.query import FilterSpec, ListQuery
from recordbase.runtime import Runtime, create_system_tables, make_runtime
from support.sqlwatch import prepared_on

RUNS = 6  # psycopg prepares a statement on its fifth run on a connection


@pytest.fixture
def prices(db_url: str) -> Iterator[Runtime]:
    """Services on one pooled connection (so it is the one every call used), with
    ``prices`` (a decimal and a link to ``shops``) and one record of each."""
    rt = make_runtime(db_url, hash_profile="cheapest", pool_size=1, max_overflow=0)
    create_system_tables(rt.engine)
    rt.schema.create_entity({"name": "shops", "title_field": "name", "fields": [
        {"name": "name", "type": "text"},
    ]})
    rt.schema.create_entity({"name": "prices", "title_field": "label", "fields": [
        {"name": "label", "type": "text"},
        {"name": "amount", "type": "decimal", "options": {"precision": 10, "scale": 2}},
        {"name": "shop", "type": "link", "options": {"target": "shops"}},
    ]})
    shop = rt.records.create("shops", {"name": "Corner shop"})
    rt.records.create("prices", {"label": "tea", "amount": "12.50", "shop": shop["id"]})
    try:
        yield rt
    finally:
        rt.dispose()


def prepared(rt: Runtime) -> list[str]:
    """The statements prepared on the pool's one connection ([] on SQLite)."""
    with db.read(rt.engine) as conn:
        return prepared_on(conn)


def record_id(rt: Runtime) -> int:
    page = rt.records.list_page("prices", ListQuery(limit=1))
    return int(page.items[0]["id"])


def version_of(rt: Runtime) -> int:
    return rt.cache.current().version


def test_record_statements_of_one_plan_are_prepared(prices: Runtime) -> None:
    rid = record_id(prices)
    for n in range(RUNS):
        item, titles = prices.records.get("prices", rid)
        assert titles["shops"] == {str(item["shop"]): "Corner shop"}
        page = prices.records.list_page("prices", ListQuery(limit=10, sort=("-amount",)))
        assert [i["label"] for i in page.items] == ["tea"]
        filtered = prices.records.list_page(
            "prices", ListQuery(limit=10, filters=(FilterSpec("label", "contains", ("te",)),))
        )
        assert [i["label"] for i in filtered.items] == ["tea"]
        item = prices.records.update(
            "prices", rid, {"amount": f"{n}.25"}, expected_version=item["version"]
        )
        assert item["amount"] == f"{n}.25"
    found = prepared(prices)
    if prices.engine.dialect.name == "sqlite":
        assert found == []
        return
    tag = f"/* catalog {version_of(prices)} */"
    ours = [s for s in found if tag in s]
    by_id = [s for s in ours if s.startswith("SELECT") and "WHERE" in s and "LIMIT" not in s]
    pages = [s for s in ours if "ORDER BY" in s]
    updates = [s for s in ours if s.startswith("UPDATE")]
    assert by_id, found
    assert pages, found
    assert updates, found
    assert [s for s in found if s.startswith("INSERT INTO rb_audit")], found
    # a filtered page's plan depends on the value: made for each request
    assert not [s for s in found if "LIKE" in s.upper()], found


def test_a_type_change_by_another_process_never_meets_an_old_prepared_statement(
    prices: Runtime, db_url: str
) -> None:
    rid = record_id(prices)
    for _ in range(RUNS):
        prices.records.get("prices", rid)
        prices.records.list_page("prices", ListQuery(limit=10))
    old_version = version_of(prices)
    other = make_runtime(db_url, hash_profile="cheapest")  # another server process
    try:
        other.schema.update_field(
            "prices", "amount", {"options": {"precision": 14, "scale": 2}}
        )
    finally:
        other.dispose()
    for _ in range(RUNS):
        item, _titles = prices.records.get("prices", rid)
        assert item["amount"] == "12.50"
        page = prices.records.list_page("prices", ListQuery(limit=10))
        assert page.items[0]["amount"] == "12.50"
    assert version_of(prices) > old_version
    if prices.engine.dialect.name == "postgresql":
        assert [s for s in prepared(prices) if f"/* catalog {version_of(prices)} */" in s]


def test_a_type_change_during_a_read_asks_to_try_again(prices: Runtime, db_url: str) -> None:
    """The one race left: a column's type changes after a read checked the version and
    before its prepared statement runs (here: changed without a new version). The read
    answers "try again" (503); the connection and its prepared statements are dropped,
    so the next read works."""
    rid = record_id(prices)
    for _ in range(RUNS):
        prices.records.get("prices", rid)
    if prices.engine.dialect.name != "postgresql":
        return  # nothing is prepared on SQLite
    catalog = prices.cache.current()
    table = catalog.table(catalog.entity("prices"))
    column = table.c[catalog.entity("prices").field("amount").column]
    other = sa.create_engine(db_url)
    try:
        with other.begin() as conn:
            conn.exec_driver_sql(
                f'ALTER TABLE "{table.name}" ALTER COLUMN "{column.name}" TYPE numeric(14, 2)'
            )
    finally:
        other.dispose()
    with pytest.raises(Busy) as refused:
        prices.records.get("prices", rid)
    assert refused.value.status == 503
    assert "changed while it was read" in refused.value.message
    item, _titles = prices.records.get("prices", rid)
    assert item["amount"] == "12.50"
