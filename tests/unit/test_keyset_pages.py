"""Keyset pages over a nullable sort key: every row once, in order, on both databases."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from recordbase.db import make_engine
from recordbase.records.query import SortKey, decode_cursor, encode_cursor, page_rows

ROWS = 137


@pytest.fixture
def table(db_url: str) -> Iterator[tuple[sa.Engine, sa.Table]]:
    engine = make_engine(db_url)
    meta = sa.MetaData()
    things = sa.Table("things", meta, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("k", sa.Integer, nullable=True))
    meta.create_all(engine)
    rnd = random.Random(5)
    with engine.begin() as conn:
        conn.execute(sa.insert(things), [
            {"id": i, "k": None if rnd.random() < 0.3 else rnd.randint(0, 20)}
            for i in range(1, ROWS + 1)
        ])
    try:
        yield engine, things
    finally:
        engine.dispose()


def expected(engine: sa.Engine, table: sa.Table, descending: bool) -> list[int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.id, table.c.k)).all()
    # NULLs are the smallest values; ties by id in the direction of the sort
    ordered = sorted(rows, key=lambda r: (r.k is not None, r.k or 0, r.id), reverse=descending)
    return [r.id for r in ordered]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("size", [1, 7, 50, 200])
def test_pages_walk_every_row_once_in_order(
    table: tuple[sa.Engine, sa.Table], descending: bool, size: int
) -> None:
    engine, things = table
    keys = [SortKey("k", things.c.k, descending, nullable=True),
            SortKey("id", things.c.id, descending)]
    seen: list[int] = []
    cursor: str | None = None
    with engine.connect() as conn:
        for _ in range(ROWS + 2):
            after = decode_cursor(cursor, keys) if cursor else None
            rows = page_rows(conn, sa.select(things.c.id, things.c.k), keys, after, size + 1)
            page, more = rows[:size], len(rows) > size
            seen.extend(r["id"] for r in page)
            if not more:
                break
            cursor = encode_cursor([page[-1]["k"], page[-1]["id"]])
    assert seen == expected(engine, things, descending)


def test_a_key_without_nulls_is_one_query(table: tuple[sa.Engine, sa.Table]) -> None:
    engine, things = table
    keys = [SortKey("id", things.c.id, True)]
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda *args: statements.append(args[2]))
    with engine.connect() as conn:
        rows = page_rows(conn, sa.select(things.c.id), keys, None, 10)
    assert [r["id"] for r in rows] == list(range(ROWS, ROWS - 10, -1))
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
