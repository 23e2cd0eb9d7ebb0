"""Autonumbers: patterns, periods, a unique index, and no duplicates or gaps under load."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from test_field_types_support import database, make_catalog

from recordbase import db
from recordbase.catalog import Catalog
from recordbase.errors import ValidationError
from recordbase.fields.autonumber import AutonumberFieldType, format_number, period_key
from recordbase.model import EntityDef, FieldDef
from recordbase.schema.tables import unique_index_name

THREADS, INSERTS = 4, 25


def test_pattern_tokens() -> None:
    day = dt.date(2026, 3, 7)
    assert format_number("INV-{YYYY}-{####}", day, 42) == "INV-2026-0042"
    assert format_number("{YY}{MM}{DD}/{#}", day, 12345) == "260307/12345"
    assert format_number("{YYYY}-{###}", dt.date(5, 1, 1), 1) == "0005-001"
    assert period_key("INV-{YYYY}-{####}", day) == "2026"
    assert period_key("{MM}.{YY}-{##}", day) == "03-26"
    assert period_key("N-{######}", day) == ""


@pytest.mark.parametrize(
    "pattern",
    ["INV-{YYYY}", "{##}-{###}", "{#############}", "A{B}{##}", "{##}}", "{{##}", "x" * 61 + "{#}"],
)
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValidationError) as info:
        make_catalog("autonumber", {"pattern": pattern})
    assert "pattern" in info.value.message


def test_the_column_always_has_a_unique_index() -> None:
    catalog, owner, fdef = make_catalog("autonumber")
    assert not fdef.unique
    indexes = {str(ix.name): ix for ix in catalog.table(owner).indexes}
    assert indexes[unique_index_name(owner, fdef)].unique


@dataclass
class Numbered:
    """An owner table with an autonumber field on a real database."""

    engine: sa.Engine
    ftype: AutonumberFieldType
    catalog: Catalog
    owner: EntityDef
    fdef: FieldDef

    def insert(self) -> str:
        with db.write(self.engine) as conn:
            value = self.ftype.generate(conn, self.fdef, self.owner)
            table = self.catalog.table(self.owner)
            conn.execute(sa.insert(table).values({self.fdef.column: value}))
            return str(value)


@contextmanager
def numbered(db_url: str, pattern: str) -> Iterator[Numbered]:
    catalog, owner, fdef = make_catalog("autonumber", {"pattern": pattern})
    with database(db_url, catalog) as engine:
        yield Numbered(engine, AutonumberFieldType(), catalog, owner, fdef)


def test_counter_restarts_each_period_and_rollback_returns_the_number(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with numbered(db_url, "INV-{YYYY}-{###}") as n:
        monkeypatch.setattr(n.ftype, "today", lambda: dt.date(2025, 12, 31))
        assert n.insert() == "INV-2025-001"
        assert n.insert() == "INV-2025-002"
        with n.engine.connect() as conn:
            tx = conn.begin()
            assert n.ftype.generate(conn, n.fdef, n.owner) == "INV-2025-003"
            tx.rollback()  # the insert failed after the number was taken
        assert n.insert() == "INV-2025-003"
        monkeypatch.setattr(n.ftype, "today", lambda: dt.date(2026, 1, 1))
        assert n.insert() == "INV-2026-001"
        monkeypatch.setattr(n.ftype, "today", lambda: dt.date(2025, 6, 1))
        assert n.insert() == "INV-2025-004"


def test_without_a_date_token_the_counter_never_restarts(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with numbered(db_url, "№{####}") as n:
        monkeypatch.setattr(n.ftype, "today", lambda: dt.date(2025, 12, 31))
        assert n.insert() == "№0001"
        monkeypatch.setattr(n.ftype, "today", lambda: dt.date(2026, 1, 1))
        assert n.insert() == "№0002"


def test_concurrent_inserts_get_distinct_consecutive_numbers(db_url: str) -> None:
    start = threading.Barrier(THREADS)
    with numbered(db_url, "INV-{YYYY}-{####}") as n:

        def worker() -> list[str]:
            start.wait()
            # each insert: its own connection and write transaction
            return [n.insert() for _ in range(INSERTS)]

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            futures = [pool.submit(worker) for _ in range(THREADS)]
            got = [number for f in futures for number in f.result(timeout=120)]
        counters = sorted(int(number.rsplit("-", 1)[1]) for number in got)
        assert counters == list(range(1, THREADS * INSERTS + 1))
        table = n.catalog.table(n.owner)
        with n.engine.connect() as conn:
            stored = conn.execute(sa.select(table.c[n.fdef.column])).scalars().all()
        assert sorted(stored) == sorted(got)
