"""Structural changes on tables that already hold data, on SQLite and PostgreSQL.

Run by ``make bench`` (``PYTHONPATH=tests``). For every backend and size it loads
``bench_items`` (12 fields: text, long text, decimal, integer, date, single select,
boolean, a link …) with ``benchdata.load`` (the entities are made by
``SchemaService``; rows go in by ``executemany`` in batches on SQLite and ``COPY``
on PostgreSQL), then times, through ``SchemaService``:

- add a nullable field (no default): metadata and an ``ADD COLUMN``, no row touched;
- rename a field (name and label), one without an index and one with an index;
- a dry-run preview of ``qty`` integer → decimal(14,2), a change that must write
  every row; the change itself (rows/s, and how the time splits between the
  conversion pass and the writing pass, from its progress callback); its undo;
- remove a field, then restore it;
- computed fields recomputed for every row: a dry-run preview of adding a money field
  computed as ``qty × amount``, adding it (one set-based UPDATE fills the new column),
  changing its computation to ``qty × amount × weight`` (a new column filled, the old
  one kept as the undo backup), and undoing that change.

The cheap operations are the median of ``RECORDBASE_BENCH_REPEATS`` runs at every
size; the O(n) ones too at small sizes, and a single run from 200,000 rows up. The
claim to check is that add and rename cost the same at any size: the table
prints largest/smallest next to every operation. JSON goes to
``artifacts/bench_schema.json``. Environment variables (defaults in brackets):

    RECORDBASE_BENCH_SCHEMA_SIZES  row counts, this benchmark only  [RECORDBASE_BENCH_SIZES]
    RECORDBASE_BENCH_SIZES         row counts                        [1000,100000,1000000]
    RECORDBASE_BENCH_BACKENDS      sqlite,postgresql                 [sqlite,postgresql]
    RECORDBASE_BENCH_REPEATS       runs of a cheap operation         [5]
    RECORDBASE_BENCH_SCHEMA_JSON   where the JSON goes               [artifacts/bench_schema.json]
    RECORDBASE_TEST_PG_URL         use this PostgreSQL server instead of a throwaway cluster
"""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import benchdata
import orjson
import sqlalchemy as sa

from recordbase.runtime import Runtime, make_runtime
from recordbase.schema.ops_field import AddField
from support.pgcluster import PgCluster

ROOT = Path(__file__).resolve().parents[2]
W = 16  # width of a size column in the printed table
#: from this many rows on, an operation that touches every row is run once
SINGLE_RUN_FROM = 200_000
#: the O(n) operations at most this often below that size
HEAVY_REPEATS = 3
TYPE_CHANGE = {"type": "decimal", "options": {"precision": 14, "scale": 2}}

ADD = "add nullable field"
RENAME = "rename field, no index (name+label)"
RENAME_INDEXED = "rename field with an index (name+label)"
REMOVE = "remove field"
RESTORE = "restore field"
PREVIEW = "preview integer→decimal (dry run)"
CHANGE = "change integer→decimal (every row)"
UNDO = "undo the type change"
RC_PREVIEW = "preview adding computed qty×amount (dry run)"
RC_ADD = "add computed qty×amount (every row)"
RC_CHANGE = "change computation to qty×amount×weight"
RC_UNDO = "undo the computation change"
COMPUTED = {"precision": 18, "scale": 2, "computed": {"multiply": ["qty", "amount"]}}
RECOMPUTED = {**COMPUTED, "computed": {"multiply": ["qty", "amount", "weight"]}}
ORDER = (ADD, RENAME, RENAME_INDEXED, REMOVE, RESTORE, PREVIEW, CHANGE, UNDO,
         RC_PREVIEW, RC_ADD, RC_CHANGE, RC_UNDO)
#: the operations the platform promises cost the same on any table size
CONSTANT = (ADD, RENAME)


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...]
    backends: tuple[str, ...]
    repeats: int
    json_path: Path

    @classmethod
    def from_environment(cls) -> Config:
        env = os.environ.get
        text = (
            env("RECORDBASE_BENCH_SCHEMA_SIZES")
            or env("RECORDBASE_BENCH_SIZES")
            or "1000,100000,1000000"
        )
        sizes = tuple(sorted({int(s.strip().replace("_", "")) for s in text.split(",")
                              if s.strip()}))
        backends = tuple(
            b.strip() for b in (env("RECORDBASE_BENCH_BACKENDS") or "sqlite,postgresql").split(",")
            if b.strip()
        )
        unknown = set(backends) - {"sqlite", "postgresql"}
        if unknown:
            raise SystemExit(f"RECORDBASE_BENCH_BACKENDS: unknown backend(s) {sorted(unknown)}")
        if not sizes or min(sizes) < 1:
            raise SystemExit("RECORDBASE_BENCH_SIZES: give positive row counts")
        return cls(
            sizes=sizes,
            backends=backends,
            repeats=max(1, int(env("RECORDBASE_BENCH_REPEATS") or 5)),
            json_path=Path(env("RECORDBASE_BENCH_SCHEMA_JSON")
                           or ROOT / "artifacts" / "bench_schema.json"),
        )


def log(message: str) -> None:
    print(message, flush=True)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def summary(samples: list[float], **extra: Any) -> dict[str, Any]:
    return {
        "n": len(samples),
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        **extra,
    }


class PhaseClock:
    """A progress callback that notes when the conversion pass ends and writing starts.

    ``convert_field`` reports (rows read, total) per batch, then ``swap_column``
    reports (rows written, total) from zero again: the first report whose count
    goes down is the first written batch."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.last = -1
        self.calls = 0
        self.read_done: float | None = None
        self.write_first: float | None = None

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        self.calls += 1
        if self.write_first is None and done < self.last:
            self.write_first = now
        elif self.write_first is None:
            self.read_done = now
        self.last = done

    def split(self, finished: float) -> dict[str, float | None]:
        """Seconds of the conversion pass and of the rest (writing, renames, indexes)."""
        if self.read_done is None:
            return {"convert_s": None, "write_s": None}
        return {
            "convert_s": self.read_done - self.started,
            "write_s": finished - self.read_done,
        }


class SchemaBench:
    """The measurements on one loaded database."""

    def __init__(self, rt: Runtime, rows: int, repeats: int) -> None:
        self.rt = rt
        self.schema = rt.schema
        self.rows = rows
        self.repeats = repeats
        self.heavy_repeats = 1 if rows >= SINGLE_RUN_FROM else min(repeats, HEAVY_REPEATS)

    def run(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        self.warm_up()
        log(f"  {ADD}")
        out[ADD] = self.add()
        log(f"  {RENAME}")
        out[RENAME] = self.rename("city", "town")
        log(f"  {RENAME_INDEXED}")
        out[RENAME_INDEXED] = self.rename("name", "title")
        log(f"  {REMOVE} / {RESTORE}")
        out[REMOVE], out[RESTORE] = self.remove_restore("description")
        log(f"  {PREVIEW}, {CHANGE}, {UNDO} ({self.heavy_repeats}x)")
        out.update(self.type_change("qty"))
        log(f"  {RC_PREVIEW}, {RC_ADD}, {RC_CHANGE}, {RC_UNDO} ({self.heavy_repeats}x)")
        out.update(self.recompute())
        return out

    def warm_up(self) -> None:
        """One untimed pass over the cheap operations (imports, caches, first plans)."""
        self.schema.add_field(benchdata.ITEMS, {"name": "warm_up", "type": "text"})
        self.schema.update_field(benchdata.ITEMS, "warm_up", {"name": "warm", "label": "W"})
        self.schema.remove_field(benchdata.ITEMS, "warm")
        self.schema.restore_field(benchdata.ITEMS, "warm")

    def add(self) -> dict[str, Any]:
        samples = [
            timed(lambda i=i: self.schema.add_field(
                benchdata.ITEMS,
                {"name": f"added_{i}", "type": "text", "options": {"max_length": 60}},
            ))
            for i in range(self.repeats)
        ]
        return summary(samples)

    def rename(self, name: str, other: str) -> dict[str, Any]:
        samples = []
        current, label = name, "Renamed"
        for _ in range(self.repeats):
            new = other if current == name else name
            label = "Renamed" if label != "Renamed" else "Renamed again"
            samples.append(timed(lambda c=current, n=new, la=label: self.schema.update_field(
                benchdata.ITEMS, c, {"name": n, "label": la}
            )))
            current = new
        if current != name:
            self.schema.update_field(benchdata.ITEMS, current, {"name": name, "label": name})
        return summary(samples)

    def remove_restore(self, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        removes, restores = [], []
        for _ in range(self.repeats):
            removes.append(timed(lambda: self.schema.remove_field(benchdata.ITEMS, name)))
            restores.append(timed(lambda: self.schema.restore_field(benchdata.ITEMS, name)))
        return summary(removes), summary(restores)

    def type_change(self, name: str) -> dict[str, dict[str, Any]]:
        previews, changes, undos = [], [], []
        splits: list[dict[str, float | None]] = []
        for _ in range(self.heavy_repeats):
            started = time.perf_counter()
            report = self.schema.preview_field_change(benchdata.ITEMS, name, TYPE_CHANGE)
            previews.append(time.perf_counter() - started)
            if report.get("rows") != self.rows or report.get("failing") != 0:
                raise RuntimeError(f"unexpected preview of {name}: {report}")
            clock = PhaseClock()
            self.schema.update_field(benchdata.ITEMS, name, TYPE_CHANGE, progress=clock)
            finished = time.perf_counter()
            changes.append(finished - clock.started)
            splits.append(clock.split(finished))
            entry = self.schema.journal(limit=1)[0]
            if entry["operation"] != "change_field" or entry["field"] != name:
                raise RuntimeError(f"the last journal entry is not the type change: {entry}")
            undos.append(timed(lambda e=entry["id"]: self.schema.undo(e)))
        best = changes.index(statistics.median_low(changes))
        return {
            PREVIEW: summary(previews, rows_s=self.rows / statistics.median(previews)),
            CHANGE: summary(changes, rows_s=self.rows / statistics.median(changes),
                            **splits[best]),
            UNDO: summary(undos),
        }


    def recompute(self) -> dict[str, dict[str, Any]]:
        previews, adds, changes, undos = [], [], [], []
        for i in range(self.heavy_repeats):
            spec = {"name": f"total_{i}", "type": "money", "options": COMPUTED}
            started = time.perf_counter()
            report = self.schema.execute(AddField(benchdata.ITEMS, spec), dry_run=True).report
            previews.append(time.perf_counter() - started)
            (preview,) = report["recompute"]
            if preview["rows"] != self.rows or preview["failing"] or not preview["changed"]:
                raise RuntimeError(f"unexpected preview of the computed field: {preview}")
            adds.append(timed(lambda s=spec: self.schema.add_field(benchdata.ITEMS, s)))
            changes.append(timed(lambda n=spec["name"]: self.schema.update_field(
                benchdata.ITEMS, n, {"options": RECOMPUTED})))
            entry = self.schema.journal(limit=1)[0]
            undos.append(timed(lambda e=entry["id"]: self.schema.undo(e)))
            self.schema.remove_field(benchdata.ITEMS, spec["name"])
        return {
            RC_PREVIEW: summary(previews, rows_s=self.rows / statistics.median(previews)),
            RC_ADD: summary(adds, rows_s=self.rows / statistics.median(adds)),
            RC_CHANGE: summary(changes, rows_s=self.rows / statistics.median(changes)),
            RC_UNDO: summary(undos),
        }


def check_values(rt: Runtime, rows: int) -> None:
    """After the runs the data is what was loaded: counts, and qty back to integers."""
    catalog = rt.cache.current()
    entity = catalog.entity(benchdata.ITEMS)
    table = catalog.table(entity)
    qty = table.c[entity.field("qty").column]
    with rt.engine.connect() as conn:
        count, low, high = conn.execute(
            sa.select(sa.func.count(), sa.func.min(qty), sa.func.max(qty)).select_from(table)
        ).one()
    if entity.field("qty").type != "integer" or count != rows or not 1 <= low <= high <= 500:
        raise RuntimeError(f"bench_items after the runs: {count} rows, qty {low}..{high}")


def run_one(
    backend: str, size: int, config: Config, workdir: Path, pg: PgCluster | None
) -> dict[str, Any]:
    log(f"\n== {backend}, {size:,} rows")
    if backend == "sqlite":
        url = f"sqlite:///{workdir / f'schema_{size}.sqlite3'}"
    else:
        assert pg is not None
        url = pg.create_database(f"rb_bench_schema_{size}")
    try:
        log("  loading")
        dataset = benchdata.load(url, size, log=log)
        log(f"  loaded in {dataset.load_seconds:.1f} s "
            f"({size / dataset.load_seconds:,.0f} rows/s), indexes {dataset.index_seconds:.1f} s")
        rt = make_runtime(url, hash_profile="cheapest", pool_pre_ping=False)
        try:
            results = SchemaBench(rt, size, config.repeats).run()
            check_values(rt, size)
        finally:
            rt.dispose()
        return {
            "backend": backend,
            "rows": size,
            "load": {"rows_s": round(size / dataset.load_seconds),
                     "load_s": round(dataset.load_seconds, 2),
                     "indexes_s": round(dataset.index_seconds, 2)},
            "operations": results,
            "loadavg": round(os.getloadavg()[0], 2),
        }
    finally:
        if backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(str(workdir / f"schema_{size}.sqlite3") + suffix).unlink(missing_ok=True)
        elif pg is not None:
            pg.drop_database(f"rb_bench_schema_{size}")


# --- the report ---------------------------------------------------------------------------


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def ratio(runs: list[dict[str, Any]], name: str) -> float | None:
    if len(runs) < 2:
        return None
    small, large = runs[0]["operations"][name], runs[-1]["operations"][name]
    if not small["median_s"]:
        return None
    return float(large["median_s"] / small["median_s"])


def render(report: dict[str, Any]) -> str:
    lines: list[str] = []
    sizes: list[int] = report["config"]["sizes"]
    ratio_head = f"{_short(sizes[-1])}/{_short(sizes[0])}"
    for backend in report["config"]["backends"]:
        runs = sorted((r for r in report["runs"] if r["backend"] == backend),
                      key=lambda r: r["rows"])
        if not runs:
            continue
        header = f"{'operation (' + backend + ')':<42}" + "".join(
            f"{f'{s:,} rows':>{W}}" for s in sizes) + f"{ratio_head:>10}   n"
        lines += ["", header, "-" * len(header)]
        load = "".join(f"{str(format(r['load']['rows_s'], ',')) + '/s':>{W}}" for r in runs)
        lines.append(f"{'  (bulk load, rows/s)':<42}{load}")
        busy = "".join(f"{r['loadavg']:>{W}.2f}" for r in runs)
        lines.append(f"{'  (machine load average after the run)':<42}{busy}")
        for name in ORDER:
            cells = "".join(f"{fmt_s(r['operations'][name]['median_s']):>{W}}" for r in runs)
            factor = ratio(runs, name)
            mark = " *" if name in CONSTANT else ""
            counts = "/".join(str(r["operations"][name]["n"]) for r in runs)
            lines.append(f"{name + mark:<42}{cells}"
                         f"{'-' if factor is None else f'{factor:.2f}':>10}   {counts}")
            if name in (PREVIEW, CHANGE, RC_PREVIEW, RC_ADD, RC_CHANGE):
                speed = "".join(
                    f"{format(r['operations'][name]['rows_s'], ',.0f') + '/s':>{W}}" for r in runs)
                lines.append(f"{'  rows/s':<42}{speed}")
            if name == CHANGE:
                for part, label in (("convert_s", "  of which conversion pass"),
                                    ("write_s", "  of which writing + renames")):
                    cells = "".join(f"{fmt_s(r['operations'][name].get(part)):>{W}}"
                                    for r in runs)
                    lines.append(f"{label:<42}{cells}")
    lines += [
        "",
        "Times are medians over n runs (n per size in the last column). "
        f"{ratio_head} = the median at {sizes[-1]:,} rows over the median at {sizes[0]:,}.",
        "* the platform's promise: these cost the same on any table size (ratio about 1).",
        "The type change reads every value, converts it through the field types, and writes "
        "it into a new column (the old one is kept as the undo backup); undo swaps the "
        "columns back. A computed field is filled by one UPDATE per field (SQLite: integer "
        "arithmetic on the scaled decimals; PostgreSQL: numeric), as the write path rounds.",
        f"Total {report['seconds']:.0f} s on {report['environment']['cpus']} CPUs; "
        f"SQLite {report['environment']['sqlite']}, "
        f"PostgreSQL {report['environment'].get('postgresql', '-')}.",
    ]
    return "\n".join(lines)


def _short(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1_000 and size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def environment(pg: PgCluster | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
        "machine": platform.machine(),
    }
    try:
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
            check=False, timeout=10,
        ).stdout.strip()
    except OSError:
        info["commit"] = ""
    if pg is not None:
        engine = sa.create_engine(pg.url)
        try:
            with engine.connect() as conn:
                info["postgresql"] = conn.exec_driver_sql("SHOW server_version").scalar()
        finally:
            engine.dispose()
    return info


def main() -> int:
    config = Config.from_environment()
    started = time.monotonic()
    log(f"sizes {list(config.sizes)}, backends {list(config.backends)}, "
        f"{config.repeats} runs of each cheap operation")
    workdir = Path(tempfile.mkdtemp(prefix="recordbase-bench-schema-"))
    pg: PgCluster | None = None
    runs: list[dict[str, Any]] = []
    try:
        if "postgresql" in config.backends:
            pg = PgCluster.from_environment()
            pg.start()
        env = environment(pg)
        for backend in config.backends:
            for size in config.sizes:
                runs.append(run_one(backend, size, config, workdir,
                                    pg if backend == "postgresql" else None))
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "config": {"sizes": list(config.sizes), "backends": list(config.backends),
                   "repeats": config.repeats, "single_run_from": SINGLE_RUN_FROM},
        "environment": env,
        "seconds": time.monotonic() - started,
        "runs": runs,
    }
    for backend in config.backends:
        mine = sorted((r for r in runs if r["backend"] == backend), key=lambda r: r["rows"])
        report.setdefault("ratios", {})[backend] = {name: ratio(mine, name) for name in ORDER}
    print(render(report), flush=True)
    config.json_path.parent.mkdir(parents=True, exist_ok=True)
    config.json_path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    log(f"JSON results: {config.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
