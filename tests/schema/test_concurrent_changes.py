"""Structural changes while other threads keep writing records: no acknowledged write is lost.

One thread runs structural changes on ``orders`` (add fields, rename a field and
rename it back, integer → decimal and back, remove/restore, an index on and off)
while ``WRITERS`` threads create and update records of ``orders`` through
``RecordService`` for ``DURATION_S`` seconds. Every acknowledged write is
recorded (id, values, version). Afterwards every record holds exactly the values
of its last acknowledged write, read under the fields' current names and in their
current types (a number written as 7 reads "7.00" once the field is a decimal),
at the version that write returned; there are no records nobody acknowledged;
nothing failed unexpectedly.

What may fail, and is counted: a write naming a field that was renamed or
removed a moment before (the writer learns the new names and sends it again, as a
client reloading its form would), a deliberately stale version (each writer sends
some, and must get a Conflict), and a structural change answered "busy" (retried).

The schema thread runs in the writers' runtime (one process, as a web worker
with threads) or in a runtime of its own (another process: only the metadata
version tells the writers' catalog cache that something changed).
"""

from __future__ import annotations

import decimal
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from recordbase.errors import Busy, Conflict, ValidationError
from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime, create_system_tables, make_runtime

DURATION_S = 5.0
WRITERS = 3
INITIAL = 500
JOIN_TIMEOUT_S = 60.0
STALE_EVERY = 10  # one write in this many sends a stale version on purpose
DECIMAL = {"type": "decimal", "options": {"precision": 14, "scale": 2}}
INTEGER = {"type": "integer", "options": {}}


class Names:
    """The API names the writers should use, updated by the schema thread after each change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: dict[str, str | None] = {"note": "note", "tag": "tag"}

    def get(self) -> dict[str, str | None]:
        with self._lock:
            return dict(self._names)

    def set(self, logical: str, name: str | None) -> None:
        with self._lock:
            self._names[logical] = name


@dataclass
class Record:
    """What the last acknowledged write of one record said (logical field names)."""

    version: int
    values: dict[str, Any]


@dataclass
class Tally:
    acked_creates: int = 0
    acked_updates: int = 0
    stale_names: int = 0
    expected_conflicts: int = 0
    unexpected: list[str] = field(default_factory=list)


# --- writers -----------------------------------------------------------------------------------


class Writer(threading.Thread):
    """Creates and updates its own records; never touches another writer's."""

    def __init__(self, index: int, rt: Runtime, names: Names, stop: threading.Event) -> None:
        super().__init__(name=f"writer-{index}", daemon=True)
        self.index = index
        self.rt = rt
        self.names = names
        self.stop_event = stop
        self.rnd = random.Random(index)
        self.records: dict[int, Record] = {}
        self.tally = Tally()
        self.n = 0

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                self.n += 1
                if not self.records or self.rnd.random() < 0.4:
                    self.create()
                elif self.n % STALE_EVERY == 0:
                    self.stale_update()
                else:
                    self.update()
        except Exception as exc:  # noqa: BLE001 - reported by the test, with its type
            self.tally.unexpected.append(f"{type(exc).__name__}: {exc}")

    def values(self) -> dict[str, Any]:
        """New logical values: title, qty (a whole number: it fits integer and decimal),
        note, and tag (left out while the tag field is removed)."""
        out: dict[str, Any] = {
            "title": f"w{self.index}-{self.n}",
            "qty": self.rnd.randint(-10_000, 10_000),
            "note": f"note {self.index}/{self.n}",
            "tag": f"t{self.n % 7}",
        }
        if self.rnd.random() < 0.5:
            del out["note"]
        return out

    def send(
        self, logical: dict[str, Any], call: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``call`` with the values under the current API names; a write refused for a name
        that was just renamed or removed is sent again with the new names. Returns the
        record and the logical values the accepted write carried."""
        deadline = time.monotonic() + 30
        while True:
            names = self.names.get()
            carried = {k: v for k, v in logical.items() if names.get(k, k) is not None}
            body = {str(names.get(k, k)): v for k, v in carried.items()}
            try:
                item = call(body)
            except ValidationError as exc:
                stale = set(exc.fields) & {names["note"], names["tag"]}
                if not stale or set(exc.fields) - stale or time.monotonic() > deadline:
                    raise
                self.tally.stale_names += 1
                time.sleep(0.001)
                continue
            echoed = {name: item.get(name) for name in body}
            # the answer shows what was written; qty in the type the field has now
            assert {k: _number(v) if k == "qty" else v for k, v in echoed.items()} == body, (
                body, item)
            return item, carried

    def create(self) -> None:
        item, carried = self.send(
            self.values(), lambda body: self.rt.records.create("orders", body)
        )
        empty = dict.fromkeys(("title", "qty", "note", "tag"))
        self.records[item["id"]] = Record(item["version"], {**empty, **carried})
        self.tally.acked_creates += 1

    def update(self) -> None:
        record_id = self.rnd.choice(list(self.records))
        known = self.records[record_id]
        item, carried = self.send(self.values(), lambda body: self.rt.records.update(
            "orders", record_id, body, expected_version=known.version
        ))
        assert item["version"] == known.version + 1, (record_id, item, known)
        self.records[record_id] = Record(item["version"], {**known.values, **carried})
        self.tally.acked_updates += 1

    def stale_update(self) -> None:
        record_id = self.rnd.choice(list(self.records))
        known = self.records[record_id]
        stale = known.version - 1 if known.version > 1 else known.version + 1
        try:
            self.rt.records.update(
                "orders", record_id, {"title": "must not be saved"}, expected_version=stale
            )
        except Conflict:
            self.tally.expected_conflicts += 1
            return
        raise AssertionError(f"a stale version {stale} of record {record_id} was accepted")


def _number(value: Any) -> Any:
    """7 and "7.00" are the same number (the field may be an integer or a decimal now)."""
    number = decimal.Decimal(str(value))
    return int(number) if number == number.to_integral_value() else number


# --- the structural changes ------------------------------------------------------------------


@dataclass
class SchemaLog:
    done: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    busy: int = 0
    unexpected: list[str] = field(default_factory=list)
    qty_type: str = "integer"


class SchemaChanger(threading.Thread):
    """Adds two fields, then repeats reversible changes until told to stop, ending on the
    first half of a round (rename and rename back, qty a decimal, title indexed)."""

    def __init__(self, rt: Runtime, names: Names, stop: threading.Event) -> None:
        super().__init__(name="schema", daemon=True)
        self.rt = rt
        self.names = names
        self.stop_event = stop
        self.log = SchemaLog()
        self.rounds = 0

    def step(self, label: str, change: Callable[[], Any], after: Callable[[], None]) -> None:
        started = time.monotonic()
        while True:
            try:
                change()
            except Busy:
                self.log.busy += 1
                continue
            after()
            self.log.done.append(label)
            self.log.seconds.append(time.monotonic() - started)
            time.sleep(0.05)  # let the writers through between two changes
            return

    def run(self) -> None:
        schema, names = self.rt.schema, self.names
        nothing: Callable[[], None] = lambda: None  # noqa: E731
        try:
            self.step("add extra1", lambda: schema.add_field(
                "orders", {"name": "extra1", "type": "text"}), nothing)
            self.step("add extra2", lambda: schema.add_field(
                "orders", {"name": "extra2", "type": "integer"}), nothing)
            while True:
                self.rounds += 1
                self.first_half(schema, names)
                if self.stop_event.is_set():
                    break  # the end state: qty a decimal, title indexed, tag back, note
                self.second_half(schema)
        except Exception as exc:  # noqa: BLE001 - reported by the test, with its type
            self.log.unexpected.append(f"{type(exc).__name__}: {exc}")

    def qty(self, schema: Any, spec: dict[str, Any]) -> None:
        def after() -> None:
            self.log.qty_type = spec["type"]

        self.step(f"qty → {spec['type']}", lambda: schema.update_field("orders", "qty", spec),
                  after)

    def first_half(self, schema: Any, names: Names) -> None:
        self.step("rename note → remark", lambda: schema.update_field(
            "orders", "note", {"name": "remark", "label": "Remark"}),
            lambda: names.set("note", "remark"))
        self.qty(schema, DECIMAL)
        self.step("remove tag", lambda: schema.remove_field("orders", "tag"),
                  lambda: names.set("tag", None))
        self.step("index title", lambda: schema.update_field(
            "orders", "title", {"indexed": True}), lambda: None)
        self.step("restore tag", lambda: schema.restore_field("orders", "tag"),
                  lambda: names.set("tag", "tag"))
        self.step("rename remark → note", lambda: schema.update_field(
            "orders", "remark", {"name": "note", "label": "Note"}),
            lambda: names.set("note", "note"))

    def second_half(self, schema: Any) -> None:
        self.qty(schema, INTEGER)
        self.step("unindex title", lambda: schema.update_field(
            "orders", "title", {"indexed": False}), lambda: None)


# --- the test -----------------------------------------------------------------------------------


@pytest.fixture
def orders_url(db_url: str) -> str:
    rt = make_runtime(db_url, hash_profile="cheapest")
    try:
        create_system_tables(rt.engine)
        rt.schema.create_entity({"name": "orders", "title_field": "title", "fields": [
            {"name": "title", "type": "text", "options": {"max_length": 60}},
            {"name": "qty", "type": "integer"},
            {"name": "note", "type": "text", "options": {"max_length": 60}},
            {"name": "tag", "type": "text", "options": {"max_length": 20}},
        ]})
        for i in range(INITIAL):
            rt.records.create("orders", {"title": f"initial {i}", "qty": i})
    finally:
        rt.dispose()
    return db_url


@pytest.fixture
def runtimes(orders_url: str) -> Iterator[list[Runtime]]:
    made: list[Runtime] = []
    yield made
    for rt in made:
        rt.dispose()


def all_records(rt: Runtime) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    after = None
    while True:
        page = rt.records.list_page("orders", ListQuery(limit=500, sort=("id",), after=after))
        out.update({item["id"]: item for item in page.items})
        if page.next is None:
            return out
        after = page.next


def expected_qty(value: int | None, qty_type: str) -> Any:
    if value is None or qty_type == "integer":
        return value
    return format(decimal.Decimal(value).quantize(decimal.Decimal("0.01")), "f")


@pytest.mark.parametrize("schema_runtime", ["shared", "own"])
def test_writes_survive_structural_changes(
    orders_url: str, runtimes: list[Runtime], schema_runtime: str
) -> None:
    rt = make_runtime(orders_url, hash_profile="cheapest", pool_size=WRITERS + 2)
    runtimes.append(rt)
    if schema_runtime == "own":
        schema_rt = make_runtime(orders_url, hash_profile="cheapest")
        runtimes.append(schema_rt)
    else:
        schema_rt = rt
    names, stop = Names(), threading.Event()
    writers = [Writer(i, rt, names, stop) for i in range(WRITERS)]
    changer = SchemaChanger(schema_rt, names, stop)
    for thread in (*writers, changer):
        thread.start()
    time.sleep(DURATION_S)
    stop.set()
    for thread in (*writers, changer):
        thread.join(JOIN_TIMEOUT_S)
        assert not thread.is_alive(), f"{thread.name} did not finish"

    problems = changer.log.unexpected + [p for w in writers for p in w.tally.unexpected]
    assert not problems
    log = changer.log
    assert changer.rounds >= 1, log.done
    assert log.done[-1] == "rename remark → note", log.done
    assert sum(w.tally.expected_conflicts for w in writers) > 0
    assert sum(w.tally.acked_updates for w in writers) > 0

    catalog = rt.cache.current()
    entity = catalog.entity("orders")
    assert [f.name for f in entity.fields] == ["title", "qty", "note", "tag", "extra1", "extra2"]
    assert entity.field("qty").type == log.qty_type == "decimal"
    assert entity.field("title").indexed

    found = all_records(rt)
    acked = {rid: rec for w in writers for rid, rec in w.records.items()}
    creates = sum(w.tally.acked_creates for w in writers)
    assert len(acked) == creates
    # nothing nobody acknowledged: the initial records and the acknowledged creates only
    assert len(found) == INITIAL + creates
    wrong = []
    for rid, rec in acked.items():
        item = found.get(rid)
        want = {
            "id": rid,
            "version": rec.version,
            "title": rec.values["title"],
            "qty": expected_qty(rec.values["qty"], log.qty_type),
            "note": rec.values["note"],
            "tag": rec.values["tag"],
            "extra1": None,
            "extra2": None,
        }
        got = None if item is None else {k: item.get(k) for k in want}
        if got != want:
            wrong.append((want, got))
    assert not wrong, f"{len(wrong)} of {len(acked)} acknowledged records differ: {wrong[:3]}"
    initial = [found[rid] for rid in sorted(found) if rid not in acked]
    assert len(initial) == INITIAL
    assert [(r["title"], r["qty"], r["version"]) for r in initial] == [
        (f"initial {i}", expected_qty(i, "decimal"), 1) for i in range(INITIAL)
    ]
    check_table_matches_catalog(rt)
    print(
        f"{rt.engine.dialect.name}, {schema_runtime}: {len(log.done)} structural changes "
        f"({changer.rounds} rounds, "
        f"{log.busy} busy, slowest {max(log.seconds):.2f} s), {creates} creates, "
        f"{sum(w.tally.acked_updates for w in writers)} updates, "
        f"{sum(w.tally.stale_names for w in writers)} resent after a rename/removal, "
        f"{sum(w.tally.expected_conflicts for w in writers)} stale versions refused"
    )


def check_table_matches_catalog(rt: Runtime) -> None:
    """Every declared column and index exists; extra columns are only type-change backups."""
    catalog = rt.cache.current()
    entity = catalog.entity("orders")
    table = catalog.table(entity)
    inspector = sa.inspect(rt.engine)
    columns = {c["name"] for c in inspector.get_columns(table.name)}
    declared = {c.name for c in table.columns}
    assert declared <= columns
    for extra in columns - declared:
        base, _, tag = extra.rpartition("_")
        assert base in declared, extra
        assert tag[0] in "bu", extra  # never a half-filled "_n" column
    indexes = {ix["name"] for ix in inspector.get_indexes(table.name)}
    assert indexes == {ix.name for ix in table.indexes}


# --- what another process sees right after a change ----------------------------------------------


def test_reading_after_a_type_change_made_by_another_process(orders_url: str) -> None:
    """A web process reads a record often (PostgreSQL's driver then prepares the query on
    that connection); another process changes a field's type; the next read must work."""
    web = make_runtime(orders_url, hash_profile="cheapest")
    admin = make_runtime(orders_url, hash_profile="cheapest")
    try:
        for _ in range(10):
            assert web.records.get("orders", 1)[0]["qty"] == 0
        admin.schema.update_field("orders", "qty", DECIMAL)
        assert web.records.get("orders", 1)[0]["qty"] == "0.00"
        updated = web.records.update("orders", 1, {"qty": 5}, expected_version=1)
        assert updated["qty"] == "5.00"
    finally:
        admin.dispose()
        web.dispose()


def test_renaming_an_indexed_field_touches_no_index(orders_url: str) -> None:
    """A rename is metadata only (DESIGN.md, principle 3): it must not drop and rebuild the
    field's index, which costs O(n) and holds the structure lock, and writers, meanwhile."""
    rt = make_runtime(orders_url, hash_profile="cheapest")
    try:
        rt.schema.update_field("orders", "title", {"indexed": True, "unique": True})
        statements: list[str] = []

        def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        sa.event.listen(rt.engine, "before_cursor_execute", note)
        rt.schema.update_field("orders", "title", {"name": "heading", "label": "Heading"})
        sa.event.remove(rt.engine, "before_cursor_execute", note)
        index_ddl = [s for s in statements if re.search(r"\b(CREATE|DROP)\b.*\bINDEX\b", s)]
        assert index_ddl == []
        names = {ix["name"] for ix in sa.inspect(rt.engine).get_indexes(
            rt.cache.current().table("orders").name)}
        assert names == {ix.name for ix in rt.cache.current().table("orders").indexes}
        assert len([n for n in names if "updated_at" not in n]) == 2  # the field's two
    finally:
        rt.dispose()
