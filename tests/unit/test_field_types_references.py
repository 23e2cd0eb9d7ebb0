"""Types whose values point at other rows: files, images, users, links, many-to-many."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from test_field_types_support import REGISTRY, database, make_catalog, store_and_read

from recordbase import systables
from recordbase.catalog import Catalog


def _users(conn: sa.Connection, count: int) -> list[int]:
    rows = [{"login": f"user{i}", "name": f"Пользователь {i}"} for i in range(count)]
    conn.execute(sa.insert(systables.users), rows)
    return list(conn.execute(sa.select(systables.users.c.id).order_by("id")).scalars())


def _file(conn: sa.Connection, name: str, content_type: str) -> int:
    return int(
        conn.execute(
            sa.insert(systables.files)
            .values(name=name, content_type=content_type, size=3, sha256="0" * 64, data=b"abc")
            .returning(systables.files.c.id)
        ).scalar_one()
    )


def _targets(conn: sa.Connection, catalog: Catalog, count: int) -> list[int]:
    table = catalog.table("__target__")
    return [
        int(
            conn.execute(
                sa.insert(table).values(f_1=f"Цель {i}").returning(table.c.id)
            ).scalar_one()
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("type_name", ["file", "image"])
def test_files_round_trip_and_are_checked(type_name: str, db_url: str) -> None:
    catalog, owner, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    with database(db_url, catalog) as engine, engine.begin() as conn:
        photo = _file(conn, "фото.png", "image/png")
        pdf = _file(conn, "договор.pdf", "application/pdf")
        assert store_and_read(conn, catalog, owner, fdef, photo) == photo
        assert ftype.check_references(conn, fdef, catalog, photo) is None
        assert ftype.check_references(conn, fdef, catalog, None) is None
        missing = ftype.check_references(conn, fdef, catalog, 999)
        assert missing is not None
        assert "999" in missing
        verdict = ftype.check_references(conn, fdef, catalog, pdf)
        assert (verdict is None) == (type_name == "file")
        if verdict:
            assert "договор.pdf" in verdict
            assert "not an image" in verdict
        # deleting the file leaves the record without one
        conn.execute(sa.delete(systables.files).where(systables.files.c.id == photo))
        table = catalog.table(owner)
        assert conn.execute(sa.select(table.c[fdef.column])).scalars().all() == [None]


def test_file_options_normalise_extensions() -> None:
    _, _, fdef = make_catalog("file", {"extensions": [".PDF", "docx", "pdf"]})
    assert fdef.options == {"max_size_mb": 20, "extensions": ["docx", "pdf"]}


@pytest.mark.parametrize("type_name", ["user", "created_by", "updated_by"])
def test_users_round_trip_and_are_checked(type_name: str, db_url: str) -> None:
    catalog, owner, fdef = make_catalog(type_name)
    ftype = REGISTRY.get(type_name)
    with database(db_url, catalog) as engine, engine.begin() as conn:
        first, second = _users(conn, 2)
        assert store_and_read(conn, catalog, owner, fdef, second) == second
        assert ftype.import_value(fdef, ftype.export_value(fdef, second)) == second
        assert ftype.filter_value(fdef, "eq", str(first)) == first
        assert ftype.check_references(conn, fdef, catalog, first) is None
        assert ftype.check_references(conn, fdef, catalog, 4242) == "There is no user with id 4242."


def test_system_column_types_read_the_system_columns() -> None:
    for name, column in [
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
        ("created_by", "created_by"),
        ("updated_by", "updated_by"),
    ]:
        catalog, owner, fdef = make_catalog(name)
        ftype = REGISTRY.get(name)
        assert ftype.read_only
        assert not ftype.owns_column
        assert ftype.source_column(fdef) == column
        assert ftype.columns(fdef, catalog) == []
        assert fdef.column not in catalog.table(owner).c


def test_link_values_round_trip(db_url: str) -> None:
    catalog, owner, fdef = make_catalog("link")
    ftype = REGISTRY.get("link")
    with database(db_url, catalog) as engine, engine.begin() as conn:
        (target,) = _targets(conn, catalog, 1)
        assert store_and_read(conn, catalog, owner, fdef, target) == target
        assert ftype.import_value(fdef, ftype.export_value(fdef, target)) == target


def test_many_to_many_junction_table_shape() -> None:
    catalog, owner, fdef = make_catalog("many_to_many")
    junction = catalog.extra_tables[fdef.id]
    assert junction.name == f"m2m_{fdef.id}"
    assert [c.name for c in junction.primary_key] == ["record_id", "target_id"]
    fks = {fk.parent.name: (fk.column.table.name, fk.ondelete) for fk in junction.foreign_keys}
    assert fks == {"record_id": (owner.table, "CASCADE"), "target_id": ("e_1", "CASCADE")}
    assert any([c.name for c in ix.columns] == ["target_id"] for ix in junction.indexes)


def test_many_to_many_save_load_filter_and_cascade(db_url: str) -> None:
    catalog, owner, fdef = make_catalog("many_to_many")
    ftype = REGISTRY.get("many_to_many")
    table = catalog.table(owner)
    with database(db_url, catalog) as engine, engine.begin() as conn:
        a, b, c, d = _targets(conn, catalog, 4)
        assert store_and_read(conn, catalog, owner, fdef, [c, a, b]) == [c, a, b]
        ids = [
            int(conn.execute(sa.insert(table).values({}).returning(table.c.id)).scalar_one())
            for _ in range(3)
        ]
        ftype.save(conn, fdef, catalog, ids[0], [d])
        ftype.save(conn, fdef, catalog, ids[1], [b, d])
        ftype.save(conn, fdef, catalog, ids[1], [d, a])  # replaces the set
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        sa.event.listen(conn, "before_cursor_execute", count)
        loaded = ftype.load(conn, fdef, catalog, ids)
        sa.event.remove(conn, "before_cursor_execute", count)
        assert len(statements) == 1, "one query for the whole page"
        assert loaded == {ids[0]: [d], ids[1]: [d, a], ids[2]: []}

        def matching(op: str, value: Any) -> set[int]:
            expr = ftype.compile_filter(fdef, table.c.id, op, value)
            return set(conn.execute(sa.select(table.c.id).where(expr)).scalars())

        first = ids[0] - 1  # the record store_and_read made
        assert matching("contains", ftype.filter_value(fdef, "contains", str(d))) == {
            ids[0],
            ids[1],
        }
        assert matching("contains", a) == {first, ids[1]}
        assert matching("isnull", True) == {ids[2]}
        assert matching("isnull", False) == {first, ids[0], ids[1]}

        assert ftype.check_references(conn, fdef, catalog, [a, b]) is None
        one = ftype.check_references(conn, fdef, catalog, [a, 777])
        many = ftype.check_references(conn, fdef, catalog, [778, a, 777])
        assert one == "There is no Target with id 777."
        assert many == "There are no Targets with ids 777, 778."

        # deleting a target or an owner removes its links
        conn.execute(sa.delete(catalog.table("__target__")).where(sa.column("id") == d))
        conn.execute(sa.delete(table).where(table.c.id == first))
        assert ftype.load(conn, fdef, catalog, [first, *ids]) == {
            first: [],
            ids[0]: [],
            ids[1]: [a],
            ids[2]: [],
        }


def test_many_to_many_export_import_and_refusals() -> None:
    _, _, fdef = make_catalog("many_to_many")
    ftype = REGISTRY.get("many_to_many")
    assert ftype.export_value(fdef, [3, 1, 2]) == "3; 1; 2"
    assert ftype.import_value(fdef, "3; 1;2 ;") == [3, 1, 2]
    assert ftype.import_value(fdef, "") == []
    assert ftype.referenced_ids(fdef, [3, 1]) == [3, 1]
    assert ftype.reference_target(fdef) == "__target__"
