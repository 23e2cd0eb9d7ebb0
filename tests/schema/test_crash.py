"""A process killed (SIGKILL) in the middle of a structural change leaves a consistent database.

A child process opens the database and runs a purge of a link field (on SQLite a
table rebuild: Alembic's batch mode copies the rows into ``_alembic_tmp_<table>``,
drops the old table and renames the copy) or a type change (``swap_column``: a new
column filled batch by batch, then renamed into place). Hooks in the child stop it
at a chosen point of that work, inside the transaction, and print a line; the
test waits for the line (with a timeout) and kills the child with SIGKILL. Then
the database, opened afresh, must hold every row with the same values, the
metadata must be in the state before or after the change (and match the physical
columns, indexes and foreign keys), no rebuild table may be left over, SQLite's
integrity check must pass, and the interrupted change must then succeed.

Stopping points (``stage``):

- purge, early: SQLite inside the ``INSERT INTO _alembic_tmp_… SELECT`` that
  copies the rows (a SQLite progress handler, so mid-statement); PostgreSQL just
  before ``ALTER TABLE … DROP COLUMN``.
- purge, late: SQLite after the old table was dropped and the copy renamed into
  its place; PostgreSQL after the column was dropped (both before the commit).
- swap, early: after a third of the converted values were written to the new column.
- swap, late: after the new column took the field's physical name.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from recordbase import db, systables
from recordbase.runtime import Runtime, create_system_tables, make_runtime

#: the purge rebuilds the whole table on SQLite: enough rows that the copy takes a while
PURGE_ROWS = 120_000
#: the type change converts every value in Python first: fewer rows keep the test short
SWAP_ROWS = 30_000
OWNERS = 50
NOTES = 300
SIGNAL_TIMEOUT_S = 90.0
EXIT_TIMEOUT_S = 15.0
PG_SESSIONS_TIMEOUT_S = 30.0
DECIMAL = {"type": "decimal", "options": {"precision": 14, "scale": 2}}
BACKUP = re.compile(r"^(?P<column>f_\d+)_(?P<tag>[nbu])\d+$")

#: The child: stops at ``stage`` of the operation, prints STOPPED and waits to be killed.
CHILD = r"""
import os, re, sys, time
import sqlalchemy as sa
from recordbase.runtime import make_runtime

url, op, stage = sys.argv[1:4]
rt = make_runtime(url, hash_profile="cheapest")
sqlite = rt.engine.dialect.name == "sqlite"

def stop(where):
    print(f"STOPPED {where}", flush=True)
    time.sleep(120)  # killed here; never reaching the commit is the point
    print("NOT KILLED", flush=True)
    os._exit(3)

def statement_hook(when, pattern, *, mid_statement=False):
    rx = re.compile(pattern)
    def hook(conn, cursor, statement, parameters, context, executemany):
        if not rx.search(statement):
            return
        if not mid_statement:
            stop(statement[:80])
        calls = [0]
        def progress():
            calls[0] += 1
            if calls[0] == 200:
                stop("inside " + statement[:80])
            return 0
        cursor.connection.set_progress_handler(progress, 1000)
    sa.event.listen(rt.engine, when, hook)

progress = None
if op == "purge":
    rt.schema.remove_field("items", "owner")
    print("REMOVED", flush=True)
    if sqlite and stage == "early":
        statement_hook("before_cursor_execute", r"^INSERT INTO _alembic_tmp_", mid_statement=True)
    elif sqlite:
        statement_hook("after_cursor_execute", r"^ALTER TABLE _alembic_tmp_\w+ RENAME TO")
    else:
        statement_hook("before_cursor_execute" if stage == "early" else "after_cursor_execute",
                       r"^ALTER TABLE \S+ DROP COLUMN")
    rt.schema.purge_field("items", "owner", confirmed=True)
else:
    if stage == "early":
        seen = {"last": -1, "writing": False}
        def progress(done, total):
            if done < seen["last"]:
                seen["writing"] = True  # convert_field counted the reads, swap_column restarts
            seen["last"] = done
            if seen["writing"] and done >= total // 3:
                stop(f"after writing {done} of {total}")
    else:
        statement_hook("after_cursor_execute", r"RENAME COLUMN \S+_n\d+\S* TO")
    rt.schema.update_field("items", "qty", {"type": "decimal",
                           "options": {"precision": 14, "scale": 2}}, progress=progress)
print("COMMITTED", flush=True)
rt.dispose()
"""


# --- data ----------------------------------------------------------------------------------


def build(url: str, rows: int) -> None:
    """owners (50), items (``rows``, a link to owners), notes (300, a link to items)."""
    rt = make_runtime(url, hash_profile="cheapest")
    try:
        create_system_tables(rt.engine)
        rt.schema.create_entity({"name": "owners", "title_field": "name", "fields": [
            {"name": "name", "type": "text", "options": {"max_length": 40}},
        ]})
        rt.schema.create_entity({"name": "items", "title_field": "name", "fields": [
            {"name": "name", "type": "text", "indexed": True, "options": {"max_length": 40}},
            {"name": "qty", "type": "integer"},
            {"name": "owner", "type": "link", "options": {"target": "owners"}},
            {"name": "note", "type": "text", "options": {"max_length": 40}},
        ]})
        rt.schema.create_entity({"name": "notes", "fields": [
            {"name": "item", "type": "link", "options": {"target": "items"}},
            {"name": "text", "type": "text", "options": {"max_length": 40}},
        ]})
        for i in range(OWNERS):
            rt.records.create("owners", {"name": f"owner {i + 1}"})
        catalog = rt.cache.current()
        items = catalog.entity("items")
        col = {f.name: f.column for f in items.fields}
        seq = sa.select(sa.literal_column("1").label("n")).cte("seq", recursive=True)
        seq = seq.union_all(sa.select(seq.c.n + 1).where(seq.c.n < rows))
        now = sa.literal(dt.datetime(2024, 5, 1, tzinfo=dt.UTC), systables.UTCDateTime)
        table = catalog.table(items)
        values = {
            "id": seq.c.n,
            "version": sa.literal_column("1"),
            "created_at": now,
            "updated_at": now,
            col["name"]: sa.literal("item ") + sa.cast(seq.c.n, sa.String),
            col["qty"]: (seq.c.n * 7) % 1000 - 100,
            col["owner"]: seq.c.n % OWNERS + 1,
            col["note"]: sa.case((seq.c.n % 3 == 0, None), else_=sa.literal("n")),
        }
        with db.write(rt.engine) as conn:
            conn.execute(table.insert().from_select(list(values), sa.select(*values.values())))
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                     f"'id'), {rows})")
        for i in range(NOTES):
            rt.records.create("notes", {"item": i * (rows // NOTES) + 1, "text": f"note {i}"})
    finally:
        rt.dispose()


@dataclass
class Snapshot:
    rows: list[tuple[Any, ...]]
    notes: list[tuple[Any, ...]]


def snapshot(rt: Runtime) -> Snapshot:
    """Every item's id, name, qty and note (read through the catalog's types), and notes."""
    catalog = rt.cache.current()
    items, notes = catalog.entity("items"), catalog.entity("notes")
    t, n = catalog.table(items), catalog.table(notes)
    cols = [t.c.id, *(t.c[items.field(name).column] for name in ("name", "qty", "note"))]
    with db.read(rt.engine) as conn:
        rows = [tuple(r) for r in conn.execute(sa.select(*cols).order_by(t.c.id))]
        note_rows = [tuple(r) for r in conn.execute(
            sa.select(n.c.id, n.c[notes.field("item").column]).order_by(n.c.id))]
    return Snapshot(rows, note_rows)


def owners_of(rt: Runtime) -> dict[int, int]:
    catalog = rt.cache.current()
    items = catalog.entity("items")
    owner = next(f for f in items.all_fields if f.name == "owner")
    t = catalog.table(items)
    with db.read(rt.engine) as conn:
        return {int(i): o for i, o in conn.execute(sa.select(t.c.id, t.c[owner.column]))}


# --- the child ------------------------------------------------------------------------------


@dataclass
class Child:
    proc: subprocess.Popen[str]
    lines: queue.Queue[str | None]
    pump: threading.Thread
    seen: list[str]

    def wait_for(self, prefix: str) -> str:
        deadline = time.monotonic() + SIGNAL_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {prefix!r} from the child in {SIGNAL_TIMEOUT_S} s; "
                                     f"it said {self.seen}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                stderr = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"the child ended (exit {self.proc.wait()}) before "
                                     f"{prefix!r}; it said {self.seen}\n{stderr}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def kill(self) -> int:
        self.proc.kill()  # SIGKILL
        return self.proc.wait(timeout=EXIT_TIMEOUT_S)


def start_child(url: str, op: str, stage: str) -> Child:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, op, stage],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                lines.put(line.rstrip("\n"))
        finally:
            lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    return Child(proc, lines, reader, [])


@pytest.fixture
def child_guard() -> Iterator[list[Child]]:
    """Kills any child a failing test left running."""
    children: list[Child] = []
    yield children
    for child in children:
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.wait(timeout=EXIT_TIMEOUT_S)
        child.pump.join(EXIT_TIMEOUT_S)  # the pipe is at its end once the child is gone
        for stream in (child.proc.stdout, child.proc.stderr):
            if stream is not None:
                stream.close()


def run_and_kill(url: str, op: str, stage: str, guard: list[Child]) -> str:
    child = start_child(url, op, stage)
    guard.append(child)
    where = child.wait_for("STOPPED")
    assert child.kill() == -9
    assert "COMMITTED" not in child.seen
    wait_for_other_sessions(url)
    return where


def wait_for_other_sessions(url: str) -> None:
    """PostgreSQL: the killed client's backend rolls back and ends (bounded wait)."""
    if not url.startswith("postgresql"):
        return
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        deadline = time.monotonic() + PG_SESSIONS_TIMEOUT_S
        while True:
            with engine.connect() as conn:
                others = conn.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )).scalar_one()
            if not others:
                return
            assert time.monotonic() < deadline, f"{others} sessions of the killed child remain"
            time.sleep(0.05)
    finally:
        engine.dispose()


# --- the checks ------------------------------------------------------------------------------


def normalised(type_: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> str:
    text = type_.compile(dialect=dialect).upper()
    return re.sub(r"\s+", "", text).replace("CHARACTERVARYING", "VARCHAR")


def check_consistent(rt: Runtime) -> None:
    """Metadata and physical schema agree: columns (and their types), indexes, foreign keys;
    the only extra columns are type-change backups the journal knows; nothing half-built."""
    engine = rt.engine
    rt.cache.invalidate()
    catalog = rt.cache.current()
    inspector = sa.inspect(engine)
    tables = inspector.get_table_names()
    assert not [t for t in tables if t.startswith("_alembic_tmp_")], tables
    assert not [e.name for e in catalog.live_entities() if e.table.startswith("_alembic")]
    with db.read(engine) as conn:
        backups = {
            str((row.details or {}).get("backup"))
            for row in conn.execute(sa.select(systables.journal.c.details))
            if (row.details or {}).get("backup")
        }
    for entity in catalog.live_entities():
        declared = catalog.table(entity)
        assert entity.table in tables
        found = {c["name"]: c for c in inspector.get_columns(entity.table)}
        missing = {c.name for c in declared.columns} - set(found)
        assert not missing, f"{entity.name}: the metadata has columns the table lacks: {missing}"
        for extra in set(found) - {c.name for c in declared.columns}:
            match = BACKUP.match(extra)
            assert match, f"{entity.name}: a stray column {extra}"
            assert match["tag"] != "n", f"{entity.name}: a half-done type change left {extra}"
            assert match["tag"] == "u" or extra in backups, f"{extra} is in no journal entry"
        for fdef in entity.all_fields:
            column = fdef.column
            if column in declared.c:
                assert normalised(found[column]["type"], engine.dialect) == normalised(
                    declared.c[column].type, engine.dialect
                ), f"{entity.name}.{fdef.name}: {found[column]['type']} in the table"
        indexes = {
            (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
            for ix in inspector.get_indexes(entity.table)
        }
        assert indexes == {
            (ix.name, tuple(c.name for c in ix.columns), bool(ix.unique))
            for ix in declared.indexes
        }, entity.name
        fks = {
            (tuple(fk["constrained_columns"]), fk["referred_table"],
             (fk["options"].get("ondelete") or "NO ACTION").upper())
            for fk in inspector.get_foreign_keys(entity.table)
        }
        wanted = {
            ((fk.parent.name,), fk.column.table.name, (fk.ondelete or "NO ACTION").upper())
            for fk in declared.foreign_keys
        }
        assert fks == wanted, f"{entity.name}: foreign keys {fks}, metadata {wanted}"
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").all() == [("ok",)]
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def journal_operations(rt: Runtime) -> list[str]:
    return [e["operation"] for e in reversed(rt.schema.journal(limit=50))]


def same_values(before: Snapshot, after: Snapshot) -> None:
    assert len(after.rows) == len(before.rows)
    # qty may be integer or decimal now: Decimal(5) == 5, so the comparison holds for both
    assert after.rows == before.rows
    assert after.notes == before.notes
    assert len(after.notes) == NOTES


# --- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["early", "late"])
def test_kill_during_purge_of_a_link_field(
    db_url: str, stage: str, child_guard: list[Child]
) -> None:
    build(db_url, PURGE_ROWS)
    rt = make_runtime(db_url, hash_profile="cheapest")
    try:
        before, owners = snapshot(rt), owners_of(rt)
    finally:
        rt.dispose()

    where = run_and_kill(db_url, "purge", stage, child_guard)

    rt = make_runtime(db_url, hash_profile="cheapest")
    try:
        check_consistent(rt)
        same_values(before, snapshot(rt))
        items = rt.cache.current().entity("items")
        owner = [f for f in items.all_fields if f.name == "owner"]
        # killed before the commit: the field is removed but still holds every value
        assert len(owner) == 1, where
        assert owner[0].removed, where
        assert owners_of(rt) == owners
        assert journal_operations(rt)[-1] == "remove_field"

        outcome = rt.schema.purge_field("items", "owner", confirmed=True)
        assert outcome.report["values"] == PURGE_ROWS
        check_consistent(rt)
        same_values(before, snapshot(rt))
        items = rt.cache.current().entity("items")
        assert [f.name for f in items.all_fields] == ["name", "qty", "note"]
        assert journal_operations(rt)[-2:] == ["remove_field", "purge_field"]
        # the records are still writable, with their links from notes intact
        created = rt.records.create("items", {"name": "after", "qty": 1})
        assert created["id"] == PURGE_ROWS + 1
    finally:
        rt.dispose()


@pytest.mark.parametrize("stage", ["early", "late"])
def test_kill_during_type_change(db_url: str, stage: str, child_guard: list[Child]) -> None:
    build(db_url, SWAP_ROWS)
    rt = make_runtime(db_url, hash_profile="cheapest")
    try:
        before = snapshot(rt)
    finally:
        rt.dispose()

    where = run_and_kill(db_url, "swap", stage, child_guard)

    rt = make_runtime(db_url, hash_profile="cheapest")
    try:
        check_consistent(rt)
        same_values(before, snapshot(rt))
        qty = rt.cache.current().entity("items").field("qty")
        assert qty.type == "integer", where  # killed before the commit
        assert "change_field" not in journal_operations(rt)

        rt.schema.update_field("items", "qty", DECIMAL)
        check_consistent(rt)
        after = snapshot(rt)
        same_values(before, after)
        assert {type(r[2]) for r in after.rows} == {decimal.Decimal}
        undo = rt.schema.journal(limit=1)[0]
        assert undo["operation"] == "change_field"
        rt.schema.undo(undo["id"])
        check_consistent(rt)
        same_values(before, snapshot(rt))
        assert rt.cache.current().entity("items").field("qty").type == "integer"
    finally:
        rt.dispose()
