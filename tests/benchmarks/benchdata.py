"""The benchmark's data set: two entities made through SchemaService, rows loaded in bulk.

``bench_customers`` (1,000 rows) and ``bench_items`` (12 fields, one of them a link
to a customer) are created by ``SchemaService.create_entity``, so the tables and
indexes are exactly what the platform makes. Rows are then written straight into
the tables: SQLAlchemy Core ``executemany`` in batches on SQLite, ``COPY`` through
psycopg on PostgreSQL. The secondary indexes are dropped for the load and
recreated from the same ``sa.Index`` objects afterwards (checked to be identical),
which is several times faster than maintaining them row by row. Everything is
deterministic: one ``random.Random(seed)`` per table.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from recordbase import db
from recordbase.runtime import Runtime, create_system_tables, make_runtime

CUSTOMERS = "bench_customers"
ITEMS = "bench_items"
CUSTOMER_ROWS = 1_000
BATCH_ROWS = 10_000
SEED = 20_240_611
BENCH_LOGIN = "bench"
BENCH_PASSWORD = "bench-password-not-secret"  # a throwaway database on loopback

# Words of the generated texts. Latin and Cyrillic mixed, so ``contains`` and the
# quick search go through both of SQLite's paths (LIKE for ASCII needles, the
# Unicode-aware rb_match otherwise) and find a realistic share of the rows.
WORDS = (
    "Alpha", "Nova", "Delta", "Orbit", "Vector", "Summit", "Harbor", "Granite",
    "Linden", "Maple", "Quartz", "Falcon", "Cedar", "Willow", "Atlas", "Beacon",
    "Север", "Восток", "Радуга", "Берёза", "Сокол", "Гранит", "Волна", "Заря",
    "Кедр", "Маяк", "Ладья", "Ромашка", "Орбита", "Пружина", "Янтарь", "Клён",
)
SUFFIXES = ("Ltd", "LLC", "ООО", "АО", "Group", "Trade", "Сервис", "Plus")
CITIES = (
    "Moscow", "Yerevan", "Riga", "Tallinn", "Vilnius", "Almaty", "Tbilisi", "Minsk",
    "Москва", "Ереван", "Казань", "Самара", "Тверь", "Пермь", "Омск", "Сочи",
)
SENTENCES = (
    "Call back after the holidays.",
    "Перезвонить после праздников.",
    "Delivery to the back entrance, 2nd floor.",
    "Доставка к заднему входу, второй этаж.",
    "Prices agreed with the manager.",
    "Цены согласованы с менеджером.",
    "Invoice sent by e-mail, waiting for payment.",
    "Счёт отправлен, ждём оплату.",
)
STATUSES = ("new", "in_progress", "approved", "shipped", "closed")
#: the needle of the ``contains`` filter (ASCII: SQLite's LIKE) and of ``q=`` (Cyrillic)
CONTAINS_WORD = "nova"
SEARCH_WORD = "сокол"

EPOCH = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


@dataclass
class FieldPlan:
    """The bench_items fields, resolved against the registry that is actually there."""

    specs: list[dict[str, Any]]
    kinds: dict[str, str] = field(default_factory=dict)


def items_fields(registry_names: list[str]) -> FieldPlan:
    """12 fields, one a link; types that are missing fall back to text/integer/decimal."""
    have = set(registry_names)

    def pick(wanted: str, fallback: str) -> str:
        return wanted if wanted in have else fallback

    long_text = pick("long_text", "text")
    specs: list[dict[str, Any]] = [
        {"name": "name", "type": "text", "indexed": True, "options": {"max_length": 120}},
        {"name": "code", "type": "text", "unique": True, "options": {"max_length": 32}},
        {"name": "description", "type": long_text, "options": {"max_length": 2000}},
        {
            "name": "amount",
            "type": "decimal",
            "indexed": True,
            "options": {"precision": 14, "scale": 2},
        },
        {"name": "qty", "type": "integer"},
        {"name": "rank", "type": "integer"},  # deliberately NOT indexed
        {"name": "issued_on", "type": pick("date", "text"), "options": {}},
        {"name": "status", "type": pick("single_select", "text"), "options": {}},
        {"name": "active", "type": pick("boolean", "integer")},
        {"name": "city", "type": "text", "options": {"max_length": 60}},
        {"name": "weight", "type": "decimal", "options": {"precision": 10, "scale": 3}},
        {"name": "customer", "type": "link", "options": {"target": CUSTOMERS}},
    ]
    for spec in specs:
        if spec["type"] == "single_select":
            spec["options"] = {"choices": list(STATUSES)}
        elif spec["type"] == "text" and not spec.get("options"):
            spec["options"] = {"max_length": 60}
    return FieldPlan(specs=specs, kinds={s["name"]: s["type"] for s in specs})


@dataclass
class Dataset:
    """What the measurements need to know about a loaded database."""

    url: str
    rows: int
    user_id: int
    plan: FieldPlan
    columns: dict[str, str]  # field name -> physical column
    load_seconds: float
    index_seconds: float
    analyze_seconds: float
    contains_fraction: float = 0.0
    search_fraction: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _customer_rows(rnd: random.Random, user_id: int) -> Iterator[dict[str, Any]]:
    for i in range(1, CUSTOMER_ROWS + 1):
        stamp = EPOCH + dt.timedelta(minutes=i)
        yield {
            "id": i,
            "name": f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} {rnd.choice(SUFFIXES)} {i}",
            "city": rnd.choice(CITIES),
            "_stamp": stamp,
            "_user": user_id,
        }


def _item_values(plan: FieldPlan) -> Callable[[random.Random, int], dict[str, Any]]:
    """A function making the field values of row ``i`` (Python values, SQLAlchemy-typed)."""
    kinds = plan.kinds
    start = dt.date(2015, 1, 1).toordinal()
    cent = decimal.Decimal("0.01")
    milli = decimal.Decimal("0.001")

    def make(rnd: random.Random, i: int) -> dict[str, Any]:
        words = rnd.randint(2, 4)
        name = " ".join(rnd.choice(WORDS) for _ in range(words)) + " " + rnd.choice(SUFFIXES)
        day = dt.date.fromordinal(start + rnd.randint(0, 365 * 10))
        status = rnd.choice(STATUSES)
        active = rnd.random() < 0.8
        return {
            "name": name,
            "code": f"{rnd.choice('ABCDEFGHJK')}{rnd.choice('LMNPRSTUVX')}-{i:08d}",
            "description": " ".join(rnd.choice(SENTENCES) for _ in range(rnd.randint(1, 3))),
            # ~1% NULL amounts: they sort first on both databases
            "amount": None if rnd.random() < 0.01 else decimal.Decimal(
                rnd.randint(0, 10**8)
            ) * cent,
            "qty": rnd.randint(1, 500),
            "rank": rnd.randint(0, 10**9),
            "issued_on": day if kinds["issued_on"] == "date" else day.isoformat(),
            "status": status,
            "active": active if kinds["active"] == "boolean" else int(active),
            "city": rnd.choice(CITIES),
            "weight": decimal.Decimal(rnd.randint(0, 10**7)) * milli,
            "customer": rnd.randint(1, CUSTOMER_ROWS),
        }

    return make


# --- loading ----------------------------------------------------------------------------


def create_structure(rt: Runtime) -> FieldPlan:
    """System tables, a user, and the two entities, all through the platform's services."""
    create_system_tables(rt.engine)
    rt.schema.create_entity(
        {
            "name": CUSTOMERS,
            "directory": True,
            "title_field": "name",
            "fields": [
                {"name": "name", "type": "text", "indexed": True, "options": {"max_length": 200}},
                {"name": "city", "type": "text", "options": {"max_length": 60}},
            ],
        }
    )
    plan = items_fields(rt.registry.names())
    rt.schema.create_entity({"name": ITEMS, "title_field": "name", "fields": plan.specs})
    return plan


def load(url: str, rows: int, *, log: Callable[[str], None]) -> Dataset:
    """Create the entities and ``rows`` items (plus 1,000 customers) in the empty ``url``."""
    rt = make_runtime(url)
    try:
        plan = create_structure(rt)
        user = rt.users.create(BENCH_LOGIN, BENCH_PASSWORD, role="admin", name="Benchmark")
        catalog = rt.cache.current()
        customers_table = catalog.table(CUSTOMERS)
        items_entity = catalog.entity(ITEMS)
        items_table = catalog.table(items_entity)
        cust_cols = {f.name: f.column for f in catalog.entity(CUSTOMERS).fields}
        item_cols = {f.name: f.column for f in items_entity.fields}

        started = time.perf_counter()
        indexes = _drop_indexes(rt.engine, items_table)
        cust_rnd = random.Random(SEED)
        _write(
            rt.engine,
            customers_table,
            (_system(r["id"], r["_stamp"], r["_user"]) | {
                cust_cols["name"]: r["name"], cust_cols["city"]: r["city"]
            } for r in _customer_rows(cust_rnd, user.id)),
        )
        item_rnd = random.Random(SEED + 1)
        make = _item_values(plan)

        def item_rows() -> Iterator[dict[str, Any]]:
            for i in range(1, rows + 1):
                values = make(item_rnd, i)
                out = _system(i, EPOCH + dt.timedelta(seconds=i * 7), user.id)
                for name, value in values.items():
                    out[item_cols[name]] = value
                yield out
                if i % 200_000 == 0:
                    log(f"    {i:,} rows ({time.perf_counter() - started:.0f} s)")

        _write(rt.engine, items_table, item_rows())
        load_seconds = time.perf_counter() - started

        started = time.perf_counter()
        _create_indexes(rt.engine, items_table, indexes)
        index_seconds = time.perf_counter() - started

        started = time.perf_counter()
        _analyze(rt.engine)
        analyze_seconds = time.perf_counter() - started
        return Dataset(
            url=url,
            rows=rows,
            user_id=user.id,
            plan=plan,
            columns=item_cols,
            load_seconds=load_seconds,
            index_seconds=index_seconds,
            analyze_seconds=analyze_seconds,
        )
    finally:
        rt.dispose()


def _system(record_id: int, stamp: dt.datetime, user_id: int) -> dict[str, Any]:
    return {
        "id": record_id,
        "version": 1,
        "created_at": stamp,
        "updated_at": stamp,
        "created_by": user_id,
        "updated_by": user_id,
    }


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(engine: sa.Engine, table: sa.Table, rows: Iterator[dict[str, Any]]) -> None:
    if engine.dialect.name == "postgresql":
        _copy(engine, table, rows)
        return
    with db.write(engine) as conn:
        for batch in _batches(rows, BATCH_ROWS):
            conn.execute(table.insert(), batch)
    # one transaction per table: a crash leaves an empty table, never half of one


def _copy(engine: sa.Engine, table: sa.Table, rows: Iterator[dict[str, Any]]) -> None:
    """COPY FROM STDIN through psycopg, values passed through the columns' bind processors."""
    names: list[str] | None = None
    with engine.begin() as conn:
        dialect = conn.dialect
        raw = conn.connection.driver_connection
        assert raw is not None
        prep = dialect.identifier_preparer
        cursor = raw.cursor()
        processors: list[Callable[[Any], Any] | None] = []
        copy_cm = None
        copy = None
        try:
            for row in rows:
                if names is None:
                    names = list(row)
                    processors = [table.c[n].type.bind_processor(dialect) for n in names]
                    columns = ", ".join(prep.quote(n) for n in names)
                    copy_cm = cursor.copy(
                        f"COPY {prep.quote(table.name)} ({columns}) FROM STDIN"
                    )
                    copy = copy_cm.__enter__()
                assert copy is not None
                copy.write_row(
                    [
                        proc(row[n]) if proc is not None else row[n]
                        for n, proc in zip(names, processors, strict=True)
                    ]
                )
        finally:
            if copy_cm is not None:
                copy_cm.__exit__(None, None, None)
            cursor.close()
        # ids were given explicitly: move the sequence past them
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"(SELECT max(id) FROM {prep.quote(table.name)}))"
        )


def _index_signature(engine: sa.Engine, table: sa.Table) -> list[tuple[Any, ...]]:
    found = sa.inspect(engine).get_indexes(table.name)
    return sorted(
        (ix["name"], tuple(ix["column_names"]), bool(ix["unique"])) for ix in found
    )


def _drop_indexes(engine: sa.Engine, table: sa.Table) -> list[tuple[Any, ...]]:
    """Drop the table's secondary indexes (the platform's own definitions are kept)."""
    before = _index_signature(engine, table)
    declared = {ix.name for ix in table.indexes}
    if {name for name, _cols, _unique in before} != declared:
        raise RuntimeError(
            f"the indexes of {table.name} in the database ({before}) are not the ones the "
            f"catalog declares ({sorted(n for n in declared if n)}); refusing to rebuild them"
        )
    with db.write(engine) as conn:
        for index in table.indexes:
            index.drop(conn)
    return before


def _create_indexes(engine: sa.Engine, table: sa.Table, before: list[tuple[Any, ...]]) -> None:
    with db.write(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        for index in table.indexes:
            index.create(conn)
    after = _index_signature(engine, table)
    if after != before:
        raise RuntimeError(f"rebuilt indexes differ: before {before}, after {after}")


def _analyze(engine: sa.Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        # the driver is in autocommit mode (recordbase.db emits BEGIN itself): these run alone
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("ANALYZE")
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
